/*
 * twin-fibrecheck: holds the fibres of a heart.msh to the criteria of issue
 * 7, as tests/unit/test_fibres.c holds its phantom ventricles, but with no
 * analytic geometry: the transmural direction is the gradient of phi_epi,
 * the long axis runs from the apex to the centroid of the mitral and aortic
 * valves (of the base when only the myocardium is meshed), and the
 * circumferential direction is long axis x transmural, or the local one,
 * grad psi_ab x transmural. Gradients are recovered from the nodal fields
 * here, as export/fibres.h says (the volume-weighted mean of the element
 * gradients at each node, averaged over a tet's nodes); the tets with a
 * node where the transmural fields have no gradient at all are left out of
 * 2 and 3.
 *
 *   1. every fibre, sheet and normal has unit length;
 *   2. in the free walls (LV wall outside the septum, RV wall), the fibre is
 *      orthogonal to the transmural gradient within 1 degree;
 *   3. over ten bins of phi_epi in the free walls, the mean helix angle
 *      against the local circumferential direction (grad psi_ab x n) falls
 *      monotonically and stays within 5 degrees of alpha_endo +
 *      (alpha_epi - alpha_endo) phi_epi (+60 to -60); against the long
 *      axis it is reported only (one axis does not fit the RV wall);
 *   4. away from the septal junctions (at_junction), no fibre differs by
 *      more than 45 degrees from the mean axis of its face neighbours'
 *      fibres (the main eigenvector of sum f f^T: fibres are axes).
 * Left out everywhere: 5 mm around the long axis (the circumferential
 * direction is undefined there), 5 mm around the base (valves and the
 * walls' cut edges), 4 mm around the septal junctions (the curves where LV
 * and RV wall meet on the epicardium and the RV endocardium, or, without an
 * RV wall, where the RV endocardium meets the epicardium). The septum
 * (LV wall nearer the RV endocardium than the epicardium, phi_rv > phi_epi)
 * is left out of 2 and 3 and reported apart against its own law.
 *
 * With --lon FILE (twin-export's openCARP heart.lon) the fibres measured
 * are the exported ones, after checking that they are the computed ones.
 * Prints '#' lines and "criterion N: pass|FAIL" for each, and exits 0 when
 * every criterion holds, 1 when one does not, 2 on usage, the twin exit
 * code of another failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "msh.h"
#include "surfaces.h"
#include "tetmesh.h"
#include "../../export/export.h"
#include "../../export/fibres.h"
#include "lib/tetfaces.h"

#define PROG "twin-fibrecheck"
#define DEG (180 / M_PI)
/* how far a .lon component may be from the computed one: half its last decimal */
#define LON_STEP (0.5 * pow(10, -TWIN_EXPORT_FIBRE_DECIMALS) * (1 + 1e-9))

static const char *lon;

static const struct twin_cli_option options[] = {
	{ 0, "lon", "FILE", "check the fibres of twin-export's openCARP heart.lon, after comparing them", &lon, NULL },
};

static const struct twin_cli_spec spec = {
	PROG, "heart.msh", 1, 1, "holds the fibres of a heart mesh to the criteria of issue 7",
	options, sizeof(options) / sizeof(options[0]),
};

static double dot(const double *a, const double *b)
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross(double *o, const double *a, const double *b)
{
	o[0] = a[1] * b[2] - a[2] * b[1];
	o[1] = a[2] * b[0] - a[0] * b[2];
	o[2] = a[0] * b[1] - a[1] * b[0];
}

static int unit(double *a)
{
	double n = sqrt(dot(a, a));

	if (!(n > 0))
		return -1;
	for (int i = 0; i < 3; i++)
		a[i] /= n;
	return 0;
}

/* Sign-free angle between two axes, degrees. */
static double axis_angle(const double *a, const double *b)
{
	double c = fabs(dot(a, b)) / sqrt(dot(a, a) * dot(b, b));

	return acos(c > 1 ? 1 : c) * DEG;
}

static int is_wall(int32_t r)
{
	return r == TWIN_FIBRES_LV_WALL || r == TWIN_FIBRES_RV_WALL;
}

static void centroid(double c[3], const struct twin_tetmesh *m, size_t t)
{
	for (int i = 0; i < 3; i++)
		c[i] = (m->xyz[3 * m->tets[4 * t] + i] + m->xyz[3 * m->tets[4 * t + 1] + i] +
			m->xyz[3 * m->tets[4 * t + 2] + i] + m->xyz[3 * m->tets[4 * t + 3] + i]) / 4;
}

/* Field f of fields (4 per node) at t's centroid. */
static double field_at(const struct twin_tetmesh *m, const double *fields, size_t t, int f)
{
	double s = 0;

	for (int a = 0; a < 4; a++)
		s += fields[4 * m->tets[4 * t + a] + f];
	return s / 4;
}

/* The gradient of field f in tet t by Cramer's rule on the edge matrix; 6 x volume in *vol6. */
static void element_gradient(double g[3], double *vol6, const struct twin_tetmesh *m, const double *fields,
			     size_t t, int f)
{
	const uint32_t *v = m->tets + 4 * t;
	double e[3][3], du[3], c[3][3], det;

	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < 3; i++)
			e[k][i] = m->xyz[3 * v[k + 1] + i] - m->xyz[3 * v[0] + i];
		du[k] = fields[4 * v[k + 1] + f] - fields[4 * v[0] + f];
	}
	cross(c[0], e[1], e[2]);
	cross(c[1], e[2], e[0]);
	cross(c[2], e[0], e[1]);
	det = dot(e[0], c[0]);
	for (int i = 0; i < 3; i++)
		g[i] = det != 0 ? (du[0] * c[0][i] + du[1] * c[1][i] + du[2] * c[2][i]) / det : 0;
	*vol6 = fabs(det);
}

/*
 * The gradients of the four fields recovered at the wall's nodes, as the
 * volume-weighted mean of the element gradients of the wall tets around
 * each node: 12 doubles per mesh node (field-major within a node), a
 * malloc'd array (free); NULL when out of memory.
 */
static double *recover_gradients(const struct twin_tetmesh *m, const double *fields)
{
	double *ng = calloc(12 * (m->n_nodes ? m->n_nodes : 1), sizeof(*ng));
	double *w = calloc(m->n_nodes ? m->n_nodes : 1, sizeof(*w));

	if (!ng || !w) {
		free(ng);
		free(w);
		return NULL;
	}
	for (size_t t = 0; t < m->n_tets; t++) {
		if (!is_wall(m->tet_region[t]))
			continue;
		for (int f = 0; f < 4; f++) {
			double g[3], v;

			element_gradient(g, &v, m, fields, t, f);
			for (int a = 0; a < 4; a++) {
				for (int i = 0; i < 3; i++)
					ng[12 * (size_t)m->tets[4 * t + a] + 3 * f + i] += v * g[i];
				if (f == 0)
					w[m->tets[4 * t + a]] += v;
			}
		}
	}
	for (size_t i = 0; i < m->n_nodes; i++)
		for (int k = 0; k < 12; k++)
			ng[12 * i + k] = w[i] > 0 ? ng[12 * i + k] / w[i] : 0;
	free(w);
	return ng;
}

/*
 * Whether some node of t has no transmural gradient: the recovered
 * gradients of phi_epi, phi_lv and phi_rv are all zero there (under 1e-6 of
 * mean, a typical gradient's length), because every tet around it lies on
 * one boundary. The wall has no transmural direction to measure against.
 */
static int undefined(const struct twin_tetmesh *m, const double *ng, size_t t, double mean)
{
	for (int a = 0; a < 4; a++) {
		const double *g = ng + 12 * (size_t)m->tets[4 * t + a];

		if (!(dot(g, g) + dot(g + 3, g + 3) + dot(g + 6, g + 6) > 1e-12 * mean * mean))
			return 1;
	}
	return 0;
}

/*
 * The gradient of field f at t's centroid: the mean of its nodes' recovered
 * gradients ng (recover_gradients). A P1 field's own gradient is constant
 * per tet and jumps from tet to tet; this one is continuous, and defined
 * too in the tets whose four nodes lie on one boundary.
 */
static void field_gradient(double g[3], const struct twin_tetmesh *m, const double *ng, size_t t, int f)
{
	for (int i = 0; i < 3; i++)
		g[i] = (ng[12 * (size_t)m->tets[4 * t] + 3 * f + i] + ng[12 * (size_t)m->tets[4 * t + 1] + 3 * f + i] +
			ng[12 * (size_t)m->tets[4 * t + 2] + 3 * f + i] + ng[12 * (size_t)m->tets[4 * t + 3] + 3 * f + i]) / 4;
}

/* Reads heart.lon into fibres (9 per tet; the normal left as computed). */
static int read_lon(const char *path, size_t n_tets, double *fibres, double *worst)
{
	FILE *f = fopen(path, "r");
	int header = 0;

	*worst = 0;
	if (!f || fscanf(f, "%d", &header) != 1 || header != 2) {
		fprintf(stderr, PROG ": '%s': not a .lon file with fibre and sheet\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	for (size_t t = 0; t < n_tets; t++)
		for (int c = 0; c < 6; c++) {
			double v;

			if (fscanf(f, "%lf", &v) != 1) {
				fprintf(stderr, PROG ": '%s': element %zu: missing values\n", path, t);
				fclose(f);
				return -1;
			}
			*worst = fmax(*worst, fabs(v - fibres[9 * t + c]));
			fibres[9 * t + c] = v;
		}
	fclose(f);
	return 0;
}

/* Marks of mesh nodes. */
enum { N_BASE = 1, N_JUNCTION = 2, N_VALVE = 4, N_LV = 8, N_RV = 16, N_OUTER = 32, N_EPI = 64, N_RV_ENDO = 128 };

/* Distance from p to the nearest of n points, brute force. */
static double nearest(const double *p, const double *pts, size_t n)
{
	double best = INFINITY;

	for (size_t i = 0; i < n; i++) {
		double d[3] = { p[0] - pts[3 * i], p[1] - pts[3 * i + 1], p[2] - pts[3 * i + 2] };

		best = fmin(best, dot(d, d));
	}
	return sqrt(best);
}

/* The points of the nodes with mark bit b: a malloc'd list (free), *n of them. */
static double *points(const struct twin_tetmesh *m, const unsigned char *mark, int b, size_t *n)
{
	double *p = malloc(3 * (m->n_nodes ? m->n_nodes : 1) * sizeof(*p));

	*n = 0;
	if (!p)
		return NULL;
	for (size_t i = 0; i < m->n_nodes; i++)
		if (mark[i] & b)
			memcpy(p + 3 * (*n)++, m->xyz + 3 * i, 3 * sizeof(double));
	return p;
}

struct check {
	const struct twin_tetmesh *m;
	const double *fibres, *fields, *ng;
	struct twin_fibres_opts opts;
	double axis[3], apex[3];
	unsigned char *zone; /* per tet, Z_* */
};

/*
 * Left out; the LV free wall and the RV wall, each clear of the other
 * ventricle; the septum; the free walls near the other ventricle.
 */
enum { Z_OUT, Z_LV, Z_RV, Z_SEPTUM, Z_NEAR, N_ZONES };

/*
 * Whether the other ventricle's transmural field (1 phi_lv, 2 phi_rv) has a
 * gradient under 1 % of phi_epi's in t: there it does not bend the wall's
 * transmural direction, which phi_lv + phi_rv + phi_epi = 1 ties to it.
 */
static int clear_of(const struct twin_tetmesh *m, const double *ng, size_t t, int other)
{
	double ge[3], go[3];

	field_gradient(ge, m, ng, t, 0);
	field_gradient(go, m, ng, t, other);
	return dot(go, go) < 1e-4 * dot(ge, ge);
}

/*
 * Whether t (centroid c) lies in a septal junction, for criterion 4: within
 * JUNCTION_MM of the curves where the LV wall, the RV wall (or, without
 * one, the RV endocardium) and the epicardium meet, or where the three
 * transmural fields phi_epi, phi_lv, phi_rv all reach JUNCTION_SHARE at the
 * centroid, so that no single boundary owns the transmural direction. There
 * the rule turns the fibres from the LV's law to the RV's across a few
 * elements, by design.
 */
#define JUNCTION_MM 7
#define JUNCTION_SHARE 0.1

static int at_junction(const struct check *k, const double c[3], size_t t, const double *pts, size_t n)
{
	double e = field_at(k->m, k->fields, t, 0), l = field_at(k->m, k->fields, t, 1);
	double r = field_at(k->m, k->fields, t, 2);

	if (e >= JUNCTION_SHARE && l >= JUNCTION_SHARE && r >= JUNCTION_SHARE)
		return 1;
	return n && nearest(c, pts, n) < JUNCTION_MM;
}

/*
 * The helix angle of t's fibre, degrees in (-90, 90], against the
 * circumferential direction long x n, long the long axis (local 0) or the
 * gradient of psi_ab (local 1).
 */
static double helix(const struct check *k, size_t t, int local)
{
	double n[3], c[3], l[3], ab[3], h;
	const double *f = k->fibres + 9 * t;

	field_gradient(n, k->m, k->ng, t, 0);
	if (unit(n) != 0)
		return NAN;
	field_gradient(ab, k->m, k->ng, t, 3);
	cross(c, local ? ab : k->axis, n);
	if (unit(c) != 0)
		return NAN;
	cross(l, n, c);
	h = atan2(dot(f, l), dot(f, c)) * DEG;
	if (h > 90)
		h -= 180;
	if (h <= -90)
		h += 180;
	return h;
}

int main(int argc, char **argv)
{
	struct twin_err err;
	struct twin_cli cli;
	struct twin_tetmesh *m = NULL;
	struct twin_fibres_info info;
	struct check k;
	double g_mean = 0, *fibres = NULL, *ng = NULL, *base_pts = NULL, *junction_pts = NULL, lon_diff = 0;
	unsigned char *mark = NULL;
	uint32_t *nb = NULL;
	const char *path = NULL;
	size_t n_base = 0, n_junction = 0, n_undefined = 0, count[N_ZONES] = { 0 }, bad_unit = 0, wall = 0;
	int rc = 1, failed = 0;

	twin_err_init(&err);
	if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0 || cli.done) {
		rc = cli.done ? 0 : twin_cli_error(&cli, &err);
		twin_cli_release(&cli);
		return rc;
	}
	path = cli.args[0];
	memset(&info, 0, sizeof(info));
	memset(&k, 0, sizeof(k));
	twin_fibres_opts_init(&k.opts);
	m = twin_msh_load(&err, path);
	if (!m || twin_fibres_compute(&err, m, &k.opts, &fibres, &info) != 0) {
		fprintf(stderr, PROG ": mesh '%s': %s\n", path, err.msg);
		rc = err.code;
		goto out;
	}
	if (lon && read_lon(lon, m->n_tets, fibres, &lon_diff) != 0)
		goto out;
	k.m = m;
	k.fibres = fibres;
	k.fields = info.fields;
	k.ng = ng = recover_gradients(m, info.fields);
	mark = calloc(m->n_nodes, 1);
	k.zone = calloc(m->n_tets, 1);
	if (!ng || !mark || !k.zone)
		goto oom;

	/* nodes: of the LV and RV walls, of the base, of the valves, outer surfaces */
	for (size_t t = 0; t < m->n_tets; t++)
		for (int a = 0; a < 4; a++)
			mark[m->tets[4 * t + a]] |= m->tet_region[t] == TWIN_FIBRES_LV_WALL ? N_LV :
						    m->tet_region[t] == TWIN_FIBRES_RV_WALL ? N_RV : 0;
	for (size_t i = 0; i < m->n_tris; i++) {
		const char *name = twin_tetmesh_surface_name(m, m->tri_surface[i]);
		int kind = name ? twin_surface_kind_of(name) : -1, b = 0;

		if (!name)
			continue;
		if (kind == TWIN_SURFACE_VALVE || strcmp(name, "endocardium_la") == 0 ||
		    strcmp(name, "endocardium_ra") == 0 || strcmp(name, "endocardium_ao") == 0 ||
		    strcmp(name, "endocardium_pa") == 0)
			b = N_BASE;
		if (strcmp(name, "mitral_valve") == 0 || strcmp(name, "aortic_valve") == 0)
			b |= N_VALVE;
		if (strcmp(name, "epicardium") == 0)
			b |= N_OUTER | N_EPI;
		if (strcmp(name, "endocardium_rv") == 0)
			b |= N_OUTER | N_RV_ENDO;
		for (int a = 0; a < 3; a++)
			mark[m->tris[3 * i + a]] |= (unsigned char)b;
	}
	for (size_t i = 0; i < m->n_nodes; i++)
		if ((mark[i] & (N_LV | N_RV | N_OUTER)) == (N_LV | N_RV | N_OUTER) ||
		    (mark[i] & (N_EPI | N_RV_ENDO)) == (N_EPI | N_RV_ENDO))
			mark[i] |= N_JUNCTION;
	/* the long axis: apex to the centroid of the mitral and aortic valves */
	{
		double c[3] = { 0, 0, 0 };
		size_t n = 0;

		/* the valves, or the base when only the myocardium was meshed */
		for (int b = N_VALVE; b && !n; b = b == N_VALVE ? N_BASE : 0)
			for (size_t i = 0; i < m->n_nodes; i++)
				if (mark[i] & b) {
					for (int a = 0; a < 3; a++)
						c[a] += m->xyz[3 * i + a];
					n++;
				}
		memcpy(k.apex, m->xyz + 3 * (size_t)info.apex, sizeof(k.apex));
		for (int a = 0; a < 3; a++)
			k.axis[a] = n ? c[a] / (double)n - k.apex[a] : 0;
		if (!n || unit(k.axis) != 0) {
			fprintf(stderr, PROG ": mesh '%s': no valve and no base for the long axis\n", path);
			goto out;
		}
	}
	/* a typical transmural gradient: the root mean square of grad phi_epi at the wall's nodes */
	{
		size_t n = 0;

		for (size_t i = 0; i < m->n_nodes; i++)
			if (mark[i] & (N_LV | N_RV)) {
				g_mean += dot(k.ng + 12 * i, k.ng + 12 * i);
				n++;
			}
		g_mean = sqrt(g_mean / (double)(n ? n : 1));
	}
	base_pts = points(m, mark, N_BASE, &n_base);
	junction_pts = points(m, mark, N_JUNCTION, &n_junction);
	if (!base_pts || !junction_pts)
		goto oom;

	/* zones, and 1: unit vectors */
	for (size_t t = 0; t < m->n_tets; t++) {
		double c[3], d[3], along;

		if (!is_wall(m->tet_region[t]))
			continue;
		wall++;
		for (int v = 0; v < 3; v++) {
			const double *x = fibres + 9 * t + 3 * v;

			/* .lon rounds each component to LON_STEP; the normal is the computed one */
			bad_unit += !(fabs(sqrt(dot(x, x)) - 1) < (lon ? sqrt(3) * LON_STEP : 1e-9));
		}
		centroid(c, m, t);
		for (int a = 0; a < 3; a++)
			d[a] = c[a] - k.apex[a];
		along = dot(d, k.axis);
		if (dot(d, d) - along * along < 25 || nearest(c, base_pts, n_base) < 5 ||
		    (n_junction && nearest(c, junction_pts, n_junction) < 4))
			continue;
		if (undefined(m, k.ng, t, g_mean)) {
			n_undefined++;
			continue;
		}
		if (m->tet_region[t] == TWIN_FIBRES_RV_WALL) {
			k.zone[t] = clear_of(m, k.ng, t, 1) ? Z_RV : Z_NEAR;
		} else if (field_at(m, info.fields, t, 2) > field_at(m, info.fields, t, 0)) {
			k.zone[t] = Z_SEPTUM;
		} else {
			k.zone[t] = clear_of(m, k.ng, t, 2) ? Z_LV : Z_NEAR;
		}
		count[k.zone[t]]++;
	}
	printf("# %s: %zu wall tets (biventricular %d); measured: LV free wall %zu, RV wall %zu (each "
	       "clear of the other ventricle), septum %zu, free walls near the other ventricle %zu; "
	       "%zu with no transmural direction at a node left out\n", path,
	       wall, info.biventricular, count[Z_LV], count[Z_RV], count[Z_SEPTUM], count[Z_NEAR], n_undefined);
	if (lon)
		printf("# fibres read from '%s': at most %.2g from the computed ones\n", lon, lon_diff);
	printf("# 1. vectors not of unit length: %zu\n", bad_unit);
	failed |= (bad_unit > 0 || (lon && lon_diff > LON_STEP) || !info.biventricular) << 1;

	/* 2: tangent to the wall */
	{
		double worst[N_ZONES] = { 0 };
		size_t over[N_ZONES] = { 0 };

		for (size_t t = 0; t < m->n_tets; t++) {
			double g[3], off;

			if (!k.zone[t])
				continue;
			field_gradient(g, m, k.ng, t, k.zone[t] == Z_SEPTUM ? 1 : 0);
			off = fabs(90 - axis_angle(fibres + 9 * t, g));
			worst[k.zone[t]] = fmax(worst[k.zone[t]], off);
			over[k.zone[t]] += off > (k.zone[t] == Z_LV || k.zone[t] == Z_RV ? 1 : 5);
		}
		printf("# 2. fibre off the wall's tangent plane (grad phi_epi): LV free wall %.3f deg, RV wall "
		       "%.3f deg (limit 1); reported only: free walls near the other ventricle %.2f deg, "
		       "%zu of %zu over 5; septum (grad phi_lv) %.2f deg, %zu of %zu over 5\n",
		       worst[Z_LV], worst[Z_RV], worst[Z_NEAR], over[Z_NEAR], count[Z_NEAR],
		       worst[Z_SEPTUM], over[Z_SEPTUM], count[Z_SEPTUM]);
		failed |= (!(worst[Z_LV] < 1) || !(worst[Z_RV] < 1) || count[Z_LV] < 100 || count[Z_RV] < 100) << 2;
	}

	/* 3: the helix angle over ten transmural bins of the free walls */
	for (int local = 0; local < 2; local++) {
		static const char *what[] = { "LV free wall and RV wall", "LV free wall", "RV wall" };
		double h[3][10] = { { 0 } }, phi[3][10] = { { 0 } };
		size_t n[3][10] = { { 0 } };

		for (size_t t = 0; t < m->n_tets; t++) {
			double e, a;
			int b;

			if (k.zone[t] != Z_LV && k.zone[t] != Z_RV)
				continue;
			a = helix(&k, t, local);
			if (isnan(a))
				continue;
			e = field_at(m, info.fields, t, 0);
			b = (int)(e * 10);
			b = b < 0 ? 0 : b > 9 ? 9 : b;
			/* both walls together, then the LV (1) or the RV wall (2) alone */
			for (int w = 0; w < 3; w++)
				if (w == 0 || w == k.zone[t]) {
					h[w][b] += a;
					phi[w][b] += e;
					n[w][b]++;
				}
		}
		for (int w = 0; w < 3; w++) {
			double worst = 0, prev = INFINITY;
			int mono = 1, empty = 0;

			printf("# 3. helix by bin of phi_epi against %s, %s:", local ? "grad psi_ab x n" : "long axis x n",
			       what[w]);
			for (int b = 0; b < 10; b++) {
				double mean, law;

				if (!n[w][b]) {
					empty = 1;
					printf(" -");
					continue;
				}
				mean = h[w][b] / (double)n[w][b];
				law = k.opts.alpha_endo + (k.opts.alpha_epi - k.opts.alpha_endo) * phi[w][b] / (double)n[w][b];
				worst = fmax(worst, fabs(mean - law));
				mono &= mean < prev;
				prev = mean;
				printf(" %.1f", mean);
			}
			printf("; worst %.2f deg off the law, %s\n", worst, mono ? "falling" : "NOT falling");
			if (w == 0 && local)
				failed |= (empty || !mono || !(worst < 5)) << 3;
		}
	}

	/* 4: neighbours agree */
	nb = twin_tetfaces_neighbours(m, is_wall);
	if (!nb)
		goto oom;
	{
		double worst = 0, where[3] = { 0, 0, 0 };
		size_t counted = 0, over = 0, n_junction_tets = 0;

		for (size_t t = 0; t < m->n_tets; t++) {
			double a, c[3], d[3], along;

			if (!is_wall(m->tet_region[t]))
				continue;
			centroid(c, m, t);
			for (int i = 0; i < 3; i++)
				d[i] = c[i] - k.apex[i];
			along = dot(d, k.axis);
			if (dot(d, d) - along * along < 25 || nearest(c, base_pts, n_base) < 5)
				continue;
			if (at_junction(&k, c, t, junction_pts, n_junction)) {
				n_junction_tets++;
				continue;
			}
			a = twin_tetfaces_neighbour_angle(nb, fibres, t);
			if (a < 0)
				continue;
			counted++;
			over += a > 45;
			if (a > worst) {
				worst = a;
				memcpy(where, c, sizeof(c));
			}
		}
		printf("# 4. fibre against its neighbours' mean: worst %.2f deg over %zu of %zu wall tets, "
		       "%zu over 45, at (%.1f, %.1f, %.1f); %zu tets of the septal junctions left out\n",
		       worst, counted, wall, over, where[0], where[1], where[2], n_junction_tets);
		failed |= (!(worst <= 45) || counted * 2 < wall) << 4;
	}
	for (int c = 1; c <= 4; c++)
		printf("criterion %d: %s\n", c, failed >> c & 1 ? "FAIL" : "pass");
	rc = failed ? 1 : 0;
	goto out;
oom:
	fprintf(stderr, PROG ": out of memory\n");
	rc = 1;
out:
	if (info.fields)
		twin_fibres_info_release(&info);
	free(nb);
	free(ng);
	free(base_pts);
	free(junction_pts);
	free(k.zone);
	free(mark);
	free(fibres);
	twin_tetmesh_free(m);
	twin_cli_release(&cli);
	return rc;
}
