#include "fibres.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fibres_frame.h"
#include "fibres_laplace.h"
#include "surfaces.h"

#define NONE UINT32_MAX

/* Boundary sets a myocardium node can belong to. */
enum { ON_EPI = 1, ON_LV = 2, ON_RV = 4, ON_BASE = 8 };

/* Fields of the Laplace problems, n nodes apart in one array. */
enum { F_EPI, F_LV, F_RV, F_AB, N_FIELDS };
/* the apex's ball: this share of the apex's height above the base plane */
#define APEX_SHARE 0.1
/* grad psi_ab's floor along the long axis: this share of its root mean square */
#define AB_FLOOR 0.05

void twin_fibres_opts_init(struct twin_fibres_opts *opts)
{
	opts->alpha_endo = 60;
	opts->alpha_epi = -60;
	opts->beta_endo = -65;
	opts->beta_epi = 25;
	opts->paper_blend = 0;
}

void twin_fibres_opts_conf(struct twin_fibres_opts *opts, const struct twin_conf *conf)
{
	opts->alpha_endo = twin_conf_double(conf, "fibres.alpha_endo");
	opts->alpha_epi = twin_conf_double(conf, "fibres.alpha_epi");
	opts->beta_endo = twin_conf_double(conf, "fibres.beta_endo");
	opts->beta_epi = twin_conf_double(conf, "fibres.beta_epi");
	opts->paper_blend = 0;
}

void twin_fibres_info_release(struct twin_fibres_info *info)
{
	free(info->fields);
	info->fields = NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The boundary set a surface name stands for, or 0. */
static int surface_set(const char *name)
{
	static const char *const base[] = {
		"endocardium_la", "endocardium_ra", "endocardium_ao", "endocardium_pa",
	};

	if (!name)
		return 0;
	if (strcmp(name, "epicardium") == 0)
		return ON_EPI;
	if (strcmp(name, "endocardium_lv") == 0)
		return ON_LV;
	if (strcmp(name, "endocardium_rv") == 0)
		return ON_RV;
	if (twin_surface_kind_of(name) == TWIN_SURFACE_VALVE)
		return ON_BASE;
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (strcmp(name, base[i]) == 0)
			return ON_BASE;
	return 0;
}

/* Eigenvector of the smallest eigenvalue of the symmetric 3x3 a (cyclic Jacobi). */
static void smallest_eigenvector(double v[3], double a[3][3])
{
	double q[3][3] = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
	int k = 0;

	for (int sweep = 0; sweep < 50; sweep++) {
		double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);

		if (off < 1e-300)
			break;
		for (int p = 0; p < 2; p++)
			for (int r = p + 1; r < 3; r++) {
				double th, c, s;

				if (a[p][r] == 0)
					continue;
				th = (a[r][r] - a[p][p]) / (2 * a[p][r]);
				th = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
				c = 1 / sqrt(th * th + 1);
				s = th * c;
				for (int i = 0; i < 3; i++) {
					double x = a[i][p], y = a[i][r];

					a[i][p] = c * x - s * y;
					a[i][r] = s * x + c * y;
				}
				for (int i = 0; i < 3; i++) {
					double x = a[p][i], y = a[r][i];

					a[p][i] = c * x - s * y;
					a[r][i] = s * x + c * y;
				}
				for (int i = 0; i < 3; i++) {
					double x = q[i][p], y = q[i][r];

					q[i][p] = c * x - s * y;
					q[i][r] = s * x + c * y;
				}
			}
	}
	for (int i = 1; i < 3; i++)
		if (a[i][i] < a[k][k])
			k = i;
	for (int i = 0; i < 3; i++)
		v[i] = q[i][k];
}

/*
 * The apex rule of fibres.h, over local nodes; NONE when no node qualifies.
 * *height is the apex's distance from the base plane, axis the unit vector
 * from the apex to the base nodes' centroid.
 */
static uint32_t find_apex(const double *xyz, const unsigned char *set, size_t n, double *height,
			  double axis[3])
{
	double c[3] = { 0, 0, 0 }, m[3][3] = { { 0 } }, normal[3], far = 0, best = INFINITY;
	size_t nb = 0;
	uint32_t apex = NONE;

	for (size_t i = 0; i < n; i++)
		if (set[i] & ON_BASE) {
			for (int k = 0; k < 3; k++)
				c[k] += xyz[3 * i + k];
			nb++;
		}
	if (nb == 0)
		return NONE;
	for (int k = 0; k < 3; k++)
		c[k] /= (double)nb;
	for (size_t i = 0; i < n; i++)
		if (set[i] & ON_BASE)
			for (int r = 0; r < 3; r++)
				for (int k = 0; k < 3; k++)
					m[r][k] += (xyz[3 * i + r] - c[r]) * (xyz[3 * i + k] - c[k]);
	smallest_eigenvector(normal, m);
	for (size_t i = 0; i < n; i++) {
		const double *p = xyz + 3 * i;
		double h = fabs((p[0] - c[0]) * normal[0] + (p[1] - c[1]) * normal[1] +
				(p[2] - c[2]) * normal[2]);

		if ((set[i] & ON_EPI) && !(set[i] & ON_BASE) && h > far)
			far = h;
	}
	for (size_t i = 0; i < n; i++) {
		const double *p = xyz + 3 * i;
		double d[3] = { p[0] - c[0], p[1] - c[1], p[2] - c[2] };
		double h = d[0] * normal[0] + d[1] * normal[1] + d[2] * normal[2];
		double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] - h * h;

		if ((set[i] & ON_EPI) && !(set[i] & ON_BASE) && far > 0 && fabs(h) >= 0.999 * far &&
		    r2 < best) {
			best = r2;
			apex = (uint32_t)i;
			*height = fabs(h);
		}
	}
	if (apex != NONE) {
		double len = 0;

		for (int k = 0; k < 3; k++) {
			axis[k] = c[k] - xyz[3 * (size_t)apex + k];
			len += axis[k] * axis[k];
		}
		for (int k = 0; k < 3; k++)
			axis[k] = len > 0 ? axis[k] / sqrt(len) : 0;
	}
	return apex;
}

/*
 * The frame of one tetrahedron from its centroid values and gradients.
 * With opts->paper_blend the endocardial frames carry the septal angles
 * alpha_s(d), beta_s(d) alone, as in the paper. Otherwise they also carry
 * the transmural change of the wall law, alpha_w(e) - alpha_endo (negated in
 * the RV frame, whose transmural axis points inwards), so that in a free wall
 * they equal Q_epi and the last bislerp only blends axes.
 */
static void tet_frame(double out[3][3], const struct twin_fibres_opts *o, int biv,
		      const double val[N_FIELDS], const double grad[N_FIELDS][3])
{
	const double rad = M_PI / 180;
	double e = val[F_EPI], l = val[F_LV], r = val[F_RV], d = 0;
	double q[3][3], q_lv[3][3], q_rv[3][3], q_epi[3][3];
	double neg_lv[3] = { -grad[F_LV][0], -grad[F_LV][1], -grad[F_LV][2] };
	double alpha_s, beta_s, alpha_w, beta_w, da = 0, db = 0;

	e = e < 0 ? 0 : e > 1 ? 1 : e;
	/* d by the gradients too (fibres.h) */
	if (biv) {
		double gl = sqrt(grad[F_LV][0] * grad[F_LV][0] + grad[F_LV][1] * grad[F_LV][1] +
				 grad[F_LV][2] * grad[F_LV][2]);
		double gr = sqrt(grad[F_RV][0] * grad[F_RV][0] + grad[F_RV][1] * grad[F_RV][1] +
				 grad[F_RV][2] * grad[F_RV][2]);

		if (l * gl + r * gr > 1e-300)
			d = r * gr / (l * gl + r * gr);
	}
	d = d < 0 ? 0 : d > 1 ? 1 : d;
	alpha_s = o->alpha_endo * (1 - 2 * d);
	beta_s = o->beta_endo * (1 - 2 * d);
	alpha_w = o->alpha_endo * (1 - e) + o->alpha_epi * e;
	beta_w = o->beta_endo * (1 - e) + o->beta_epi * e;
	if (!o->paper_blend) {
		da = alpha_w - o->alpha_endo;
		db = beta_w - o->beta_endo;
	}

	twin_fibres_frame_axis(q, grad[F_AB], neg_lv);
	twin_fibres_frame_orient(q_lv, q, (alpha_s + da) * rad, (beta_s + db) * rad);
	if (biv) {
		twin_fibres_frame_axis(q, grad[F_AB], grad[F_RV]);
		twin_fibres_frame_orient(q_rv, q, (alpha_s - da) * rad, (beta_s - db) * rad);
		twin_fibres_frame_bislerp(q_lv, q_lv, q_rv, d);
	}
	twin_fibres_frame_axis(q, grad[F_AB], grad[F_EPI]);
	twin_fibres_frame_orient(q_epi, q, alpha_w * rad, beta_w * rad);
	twin_fibres_frame_bislerp(out, q_lv, q_epi, e);
}

/*
 * Steers ab towards the long axis where ab is small: ab becomes the main
 * axis of ab ab^T + f^2 axis axis^T, of ab's sign. Fibres are axes, so ab's
 * sign means nothing to them; the sum ab + f axis would vanish where ab
 * points down the long axis with length f.
 */
static void steer(double ab[3], const double axis[3], double f)
{
	double g = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
	double p = ab[0] * axis[0] + ab[1] * axis[1] + ab[2] * axis[2], ff = f * f;
	double lam, x, y, v[3], n1, n2, len, s;

	if (f <= 0)
		return;
	/* v = x ab + y axis: the 2 x 2 problem [[g, p], [ff p, ff]] (x, y) = lam (x, y) */
	lam = (g + ff + sqrt((g - ff) * (g - ff) + 4 * ff * p * p)) / 2;
	n1 = p * p + (lam - g) * (lam - g);
	n2 = (lam - ff) * (lam - ff) + ff * ff * p * p;
	x = n1 >= n2 ? p : lam - ff;
	y = n1 >= n2 ? lam - g : ff * p;
	for (int i = 0; i < 3; i++)
		v[i] = x * ab[i] + y * axis[i];
	len = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
	if (!(len > 0))
		return;
	s = ab[0] * v[0] + ab[1] * v[1] + ab[2] * v[2] < 0 ? -1 : 1;
	s *= (sqrt(g) > f ? sqrt(g) : f) / len;
	for (int i = 0; i < 3; i++)
		ab[i] = s * v[i];
}

/* The mesh's myocardium with local node numbers. */
struct wall {
	size_t n_nodes, n_tets;
	uint32_t *local;  /* mesh node -> local node or NONE */
	uint32_t *global; /* local node -> mesh node */
	size_t *tet;      /* local tet -> mesh tet */
	uint32_t *tets;   /* 4 local nodes per local tet */
	double *xyz;
	unsigned char *set;
};

static void wall_release(struct wall *w)
{
	free(w->local);
	free(w->global);
	free(w->tet);
	free(w->tets);
	free(w->xyz);
	free(w->set);
}

static int is_wall(int32_t region)
{
	return region == TWIN_FIBRES_LV_WALL || region == TWIN_FIBRES_RV_WALL;
}

static int wall_init(struct twin_err *err, struct wall *w, const struct twin_tetmesh *mesh)
{
	memset(w, 0, sizeof(*w));
	for (size_t t = 0; t < mesh->n_tets; t++)
		w->n_tets += is_wall(mesh->tet_region[t]);
	if (w->n_tets == 0)
		return twin_err_set(err, TWIN_EINPUT,
				    "no myocardium: no tetrahedron has region %d or %d",
				    TWIN_FIBRES_LV_WALL, TWIN_FIBRES_RV_WALL);
	w->local = malloc((mesh->n_nodes ? mesh->n_nodes : 1) * sizeof(*w->local));
	w->tet = malloc(w->n_tets * sizeof(*w->tet));
	w->tets = malloc(4 * w->n_tets * sizeof(*w->tets));
	if (!w->local || !w->tet || !w->tets)
		goto oom;
	for (size_t i = 0; i < mesh->n_nodes; i++)
		w->local[i] = NONE;
	for (size_t t = 0, k = 0; t < mesh->n_tets; t++) {
		if (!is_wall(mesh->tet_region[t]))
			continue;
		w->tet[k] = t;
		for (int a = 0; a < 4; a++) {
			uint32_t g = mesh->tets[4 * t + a];

			if (w->local[g] == NONE)
				w->local[g] = (uint32_t)w->n_nodes++;
			w->tets[4 * k + a] = w->local[g];
		}
		k++;
	}
	w->global = malloc(w->n_nodes * sizeof(*w->global));
	w->xyz = malloc(3 * w->n_nodes * sizeof(*w->xyz));
	w->set = calloc(w->n_nodes, 1);
	if (!w->global || !w->xyz || !w->set)
		goto oom;
	for (size_t i = 0; i < mesh->n_nodes; i++)
		if (w->local[i] != NONE) {
			w->global[w->local[i]] = (uint32_t)i;
			memcpy(w->xyz + 3 * (size_t)w->local[i], mesh->xyz + 3 * i, 3 * sizeof(double));
		}
	for (size_t i = 0; i < mesh->n_tris; i++) {
		int s = surface_set(twin_tetmesh_surface_name(mesh, mesh->tri_surface[i]));

		for (int a = 0; a < 3 && s; a++) {
			uint32_t l = w->local[mesh->tris[3 * i + a]];

			if (l != NONE)
				w->set[l] |= (unsigned char)s;
		}
	}
	return 0;
oom:
	wall_release(w);
	return twin_err_set(err, TWIN_EFAIL, "fibres: out of memory for %zu tetrahedra", w->n_tets);
}

/* Which of the sets the wall's nodes touch. */
static int wall_sets(const struct wall *w)
{
	int any = 0;

	for (size_t i = 0; i < w->n_nodes; i++)
		any |= w->set[i];
	return any;
}

/* Solves the four Laplace problems into u (N_FIELDS x n_nodes). */
static int solve_fields(struct twin_err *err, const struct wall *w, struct twin_fibres_laplace *lp,
			int biv, uint32_t apex, double radius, double *u)
{
	const double *a = w->xyz + 3 * (size_t)apex;
	size_t n = w->n_nodes;
	unsigned char *fixed = malloc(n);
	int rc = -1;

	if (!fixed)
		return twin_err_set(err, TWIN_EFAIL, "fibres: out of memory");
	/* transmural: an LV endocardium node wins over RV, RV over epicardium */
	for (size_t i = 0; i < n; i++) {
		int s = w->set[i];

		fixed[i] = (s & (ON_EPI | ON_LV | ON_RV)) != 0;
		u[F_LV * n + i] = (s & ON_LV) ? 1 : 0;
		u[F_RV * n + i] = (s & ON_RV) && !(s & ON_LV) ? 1 : 0;
		u[F_EPI * n + i] = (s & ON_EPI) && !(s & (ON_LV | ON_RV)) ? 1 : 0;
	}
	/* F_EPI, F_LV, F_RV are consecutive: one factorisation for all */
	if (twin_fibres_laplace_solve(err, lp, fixed, biv ? 3 : 2, u) != 0) {
		twin_err_prefix(err, "transmural problem");
		goto out;
	}
	if (!biv)
		memset(u + F_RV * n, 0, n * sizeof(*u));
	/*
	 * The apex is a ball, not a node: a point holds no charge, so psi_ab
	 * would be 1 - O(h) away from it (0.997 in the phantom's RV wall, its
	 * gradient 1e-5 per mm) and its gradient's scale set by the few tets
	 * at the apex node.
	 */
	for (size_t i = 0; i < n; i++) {
		const double *x = w->xyz + 3 * i;
		double d2 = (x[0] - a[0]) * (x[0] - a[0]) + (x[1] - a[1]) * (x[1] - a[1]) +
			    (x[2] - a[2]) * (x[2] - a[2]);
		int tip = i == apex || (d2 <= radius * radius && !(w->set[i] & ON_BASE));

		fixed[i] = (w->set[i] & ON_BASE) || tip;
		u[F_AB * n + i] = tip ? 0 : 1;
	}
	if (twin_fibres_laplace_solve(err, lp, fixed, 1, u + F_AB * n) != 0) {
		twin_err_prefix(err, "apex-base problem");
		goto out;
	}
	rc = 0;
out:
	free(fixed);
	return rc;
}

/*
 * Gives the nodes where a group of fields (f0 and the n - 1 after it) has no
 * gradient (the squares of all its gradients sum to tiny or less) the mean
 * of their neighbours' that have one, sweep after sweep, so that a patch of
 * wall whose nodes all lie on one boundary takes the directions around it.
 * def (n_nodes), acc (3 N_FIELDS n_nodes) and cnt (n_nodes) are scratch.
 */
static void fill_degenerate(const struct wall *w, double *ng, int f0, int n, double tiny,
			    unsigned char *def, double *acc, double *cnt)
{
	size_t left = 0;

	for (size_t i = 0; i < w->n_nodes; i++) {
		double s = 0;

		for (int f = f0; f < f0 + n; f++)
			for (int k = 0; k < 3; k++)
				s += ng[3 * (N_FIELDS * i + f) + k] * ng[3 * (N_FIELDS * i + f) + k];
		def[i] = s > tiny;
		left += !def[i];
	}
	while (left > 0) {
		size_t was = left;

		memset(acc, 0, 3 * N_FIELDS * w->n_nodes * sizeof(*acc));
		memset(cnt, 0, w->n_nodes * sizeof(*cnt));
		for (size_t k = 0; k < w->n_tets; k++) {
			const uint32_t *tet = w->tets + 4 * k;

			for (int a = 0; a < 4; a++) {
				if (def[tet[a]])
					continue;
				for (int b = 0; b < 4; b++) {
					if (!def[tet[b]])
						continue;
					for (int f = f0; f < f0 + n; f++)
						for (int i = 0; i < 3; i++)
							acc[3 * (N_FIELDS * (size_t)tet[a] + f) + i] +=
								ng[3 * (N_FIELDS * (size_t)tet[b] + f) + i];
					cnt[tet[a]]++;
				}
			}
		}
		for (size_t i = 0; i < w->n_nodes; i++)
			if (!def[i] && cnt[i] > 0) {
				for (int f = f0; f < f0 + n; f++)
					for (int k = 0; k < 3; k++)
						ng[3 * (N_FIELDS * i + f) + k] = acc[3 * (N_FIELDS * i + f) + k] / cnt[i];
				left--;
			}
		for (size_t i = 0; i < w->n_nodes; i++)
			def[i] |= cnt[i] > 0;
		if (left == was)
			break;
	}
}

/*
 * The gradients of the N_FIELDS fields recovered at the nodes: at node i,
 * the volume-weighted mean of the element gradients of the tets around i,
 * or, where that is zero (all the tets around lie on one boundary), the mean
 * of the nearest nodes' (fill_degenerate). A malloc'd array (free) of 3
 * doubles per field per node, node-major; NULL when out of memory.
 */
static double *node_gradients(const struct wall *w, const double *u)
{
	size_t n = w->n_nodes ? w->n_nodes : 1;
	double *ng = calloc(3 * N_FIELDS * n, sizeof(*ng));
	double *acc = malloc(3 * N_FIELDS * n * sizeof(*acc));
	double *vol = calloc(n, sizeof(*vol));
	unsigned char *def = malloc(n);
	double mean[2] = { 0, 0 };

	if (!ng || !acc || !vol || !def) {
		free(ng);
		ng = NULL;
		goto out;
	}
	for (size_t k = 0; k < w->n_tets; k++) {
		const uint32_t *tet = w->tets + 4 * k;
		double s[4][3], v = twin_fibres_laplace_shape(s, w->xyz, tet);

		for (int f = 0; f < N_FIELDS; f++) {
			const double *uf = u + f * w->n_nodes;
			double g[3];

			for (int i = 0; i < 3; i++)
				g[i] = v * (uf[tet[0]] * s[0][i] + uf[tet[1]] * s[1][i] +
					    uf[tet[2]] * s[2][i] + uf[tet[3]] * s[3][i]);
			for (int a = 0; a < 4; a++)
				for (int i = 0; i < 3; i++)
					ng[3 * (N_FIELDS * (size_t)tet[a] + f) + i] += g[i];
		}
		for (int a = 0; a < 4; a++)
			vol[tet[a]] += v;
	}
	for (size_t i = 0; i < w->n_nodes; i++)
		for (int k = 0; k < 3 * N_FIELDS; k++) {
			double *g = ng + 3 * N_FIELDS * i + k;

			*g = vol[i] > 0 ? *g / vol[i] : 0;
			mean[k / 3 == F_AB] += *g * *g;
		}
	/* zero: below 1e-12 of the mean square, the round-off of constant fields */
	mean[0] = 1e-12 * mean[0] / (double)n;
	mean[1] = 1e-12 * mean[1] / (double)n;
	fill_degenerate(w, ng, F_EPI, F_AB, mean[0], def, acc, vol);
	fill_degenerate(w, ng, F_AB, 1, mean[1], def, acc, vol);
out:
	free(acc);
	free(vol);
	free(def);
	return ng;
}

int twin_fibres_compute(struct twin_err *err, const struct twin_tetmesh *mesh,
			const struct twin_fibres_opts *opts, double **fibres,
			struct twin_fibres_info *info)
{
	struct wall w;
	struct twin_fibres_laplace *lp = NULL;
	double *u = NULL, *out = NULL, *fields = NULL, *ng = NULL, t0, t1, t2;
	uint32_t apex;
	double height = 0, axis[3] = { 0, 0, 0 }, floor_ab = 0;
	int sets, biv, rc = -1;

	*fibres = NULL;
	if (info)
		memset(info, 0, sizeof(*info));
	t0 = now();
	if (wall_init(err, &w, mesh) != 0)
		return -1;
	sets = wall_sets(&w);
	biv = (sets & ON_RV) != 0;
	if (!(sets & ON_EPI)) {
		twin_err_set(err, TWIN_EINPUT, "no 'epicardium' surface touches the myocardium");
		goto out;
	}
	if (!(sets & ON_LV)) {
		twin_err_set(err, TWIN_EINPUT, "no 'endocardium_lv' surface touches the myocardium");
		goto out;
	}
	if (!(sets & ON_BASE)) {
		twin_err_set(err, TWIN_EINPUT,
			     "no base: no valve, 'endocardium_la', 'endocardium_ra', 'endocardium_ao' "
			     "or 'endocardium_pa' surface touches the myocardium");
		goto out;
	}
	apex = find_apex(w.xyz, w.set, w.n_nodes, &height, axis);
	if (apex == NONE) {
		twin_err_set(err, TWIN_EINPUT, "no apex: every epicardial node lies on the base plane");
		goto out;
	}
	u = malloc(N_FIELDS * w.n_nodes * sizeof(*u));
	out = calloc(9 * (mesh->n_tets ? mesh->n_tets : 1), sizeof(*out));
	if (!u || !out) {
		twin_err_set(err, TWIN_EFAIL, "fibres: out of memory for %zu tetrahedra", mesh->n_tets);
		goto out;
	}
	lp = twin_fibres_laplace_new(err, w.n_nodes, w.xyz, w.n_tets, w.tets);
	if (!lp)
		goto out;
	t1 = now();
	if (solve_fields(err, &w, lp, biv, apex, APEX_SHARE * height, u) != 0)
		goto out;
	t2 = now();

	ng = node_gradients(&w, u);
	if (!ng) {
		twin_err_set(err, TWIN_EFAIL, "fibres: out of memory for %zu nodes", w.n_nodes);
		goto out;
	}
	/*
	 * grad psi_ab nearly vanishes where the apex-base field has a plateau
	 * (on the phantom's RV endocardium, 3e-4 per mm) and turns quickly
	 * around it, and the fibres with it (by 67 degrees between face
	 * neighbours). A floor along the long axis, AB_FLOOR of its root mean
	 * square (steer), holds it there and leaves it be elsewhere.
	 */
	for (size_t i = 0; i < w.n_nodes; i++)
		for (int k = 0; k < 3; k++)
			floor_ab += ng[3 * (N_FIELDS * i + F_AB) + k] * ng[3 * (N_FIELDS * i + F_AB) + k];
	floor_ab = AB_FLOOR * sqrt(floor_ab / (double)(w.n_nodes ? w.n_nodes : 1));
	for (size_t k = 0; k < w.n_tets; k++) {
		const uint32_t *tet = w.tets + 4 * k;
		size_t t = w.tet[k];
		double val[N_FIELDS], grad[N_FIELDS][3], q[3][3];

		/* the centroid's value and recovered gradient: the mean of the nodes' */
		for (int f = 0; f < N_FIELDS; f++) {
			const double *uf = u + f * w.n_nodes;

			val[f] = (uf[tet[0]] + uf[tet[1]] + uf[tet[2]] + uf[tet[3]]) / 4;
			for (int i = 0; i < 3; i++)
				grad[f][i] = (ng[3 * (N_FIELDS * (size_t)tet[0] + f) + i] +
					      ng[3 * (N_FIELDS * (size_t)tet[1] + f) + i] +
					      ng[3 * (N_FIELDS * (size_t)tet[2] + f) + i] +
					      ng[3 * (N_FIELDS * (size_t)tet[3] + f) + i]) / 4;
		}
		steer(grad[F_AB], axis, floor_ab);
		tet_frame(q, opts, biv, val, grad);
		for (int v = 0; v < 3; v++)
			for (int i = 0; i < 3; i++)
				out[9 * t + 3 * v + i] = q[v][i];
	}
	if (info) {
		fields = malloc(4 * (mesh->n_nodes ? mesh->n_nodes : 1) * sizeof(*fields));
		if (!fields) {
			twin_err_set(err, TWIN_EFAIL, "fibres: out of memory for %zu nodes", mesh->n_nodes);
			goto out;
		}
		for (size_t i = 0; i < mesh->n_nodes; i++)
			for (int f = 0; f < N_FIELDS; f++)
				fields[4 * i + f] = w.local[i] == NONE ? NAN : u[f * w.n_nodes + w.local[i]];
		info->n_tets = w.n_tets;
		info->n_nodes = w.n_nodes;
		info->biventricular = biv;
		info->apex = w.global[apex];
		info->seconds_assemble = t1 - t0;
		info->seconds_solve = t2 - t1;
		info->seconds_frames = now() - t2;
		info->fields = fields;
		fields = NULL;
	}
	*fibres = out;
	out = NULL;
	rc = 0;
out:
	twin_fibres_laplace_free(lp);
	wall_release(&w);
	free(u);
	free(ng);
	free(out);
	free(fields);
	return rc;
}
