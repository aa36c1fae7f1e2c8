#include "shapes.h"

void twin_box_join(struct twin_box *out, const struct twin_box *a, const struct twin_box *b)
{
	struct twin_box t;

	t.lo = twin_v3(fmin(a->lo.x, b->lo.x), fmin(a->lo.y, b->lo.y), fmin(a->lo.z, b->lo.z));
	t.hi = twin_v3(fmax(a->hi.x, b->hi.x), fmax(a->hi.y, b->hi.y), fmax(a->hi.z, b->hi.z));
	*out = t;
}

static void box_around(struct twin_box *b, struct twin_v3 c, struct twin_v3 half)
{
	b->lo = twin_v3_sub(c, half);
	b->hi = twin_v3_add(c, half);
}

void twin_ellipsoid_set(struct twin_ellipsoid *e, struct twin_v3 c, struct twin_v3 a0,
			struct twin_v3 a1, const double r[3])
{
	double h[3];

	e->c = c;
	e->ax[0] = twin_v3_unit(a0);
	e->ax[1] = twin_v3_unit(twin_v3_mad(a1, -twin_v3_dot(a1, e->ax[0]), e->ax[0]));
	e->ax[2] = twin_v3_cross(e->ax[0], e->ax[1]);
	for (int i = 0; i < 3; i++)
		e->r[i] = r[i];
	for (int w = 0; w < 3; w++) {
		double s = 0.0;
		for (int i = 0; i < 3; i++) {
			double a = w == 0 ? e->ax[i].x : w == 1 ? e->ax[i].y : e->ax[i].z;
			s += (r[i] * a) * (r[i] * a);
		}
		h[w] = sqrt(s) + TWIN_FAR;
	}
	box_around(&e->box, c, twin_v3(h[0], h[1], h[2]));
}

double twin_ellipsoid_sd(const struct twin_ellipsoid *e, struct twin_v3 p)
{
	struct twin_v3 d;
	double k0 = 0.0, k1 = 0.0;

	if (!twin_box_has(&e->box, p))
		return TWIN_FAR;
	d = twin_v3_sub(p, e->c);
	for (int i = 0; i < 3; i++) {
		double l = twin_v3_dot(d, e->ax[i]);
		k0 += (l / e->r[i]) * (l / e->r[i]);
		k1 += (l / (e->r[i] * e->r[i])) * (l / (e->r[i] * e->r[i]));
	}
	if (k1 <= 0.0)
		return -fmin(e->r[0], fmin(e->r[1], e->r[2]));
	k0 = sqrt(k0);
	return k0 * (k0 - 1.0) / sqrt(k1);
}

/* Point at parameter t of the centripetal Catmull-Rom span p1..p2 (Barry-Goldman). */
static struct twin_v3 catmull_rom(const struct twin_v3 p[4], const double k[4], double t)
{
	struct twin_v3 a1, a2, a3, b1, b2;

	a1 = twin_v3_add(twin_v3_scale(p[0], (k[1] - t) / (k[1] - k[0])),
			 twin_v3_scale(p[1], (t - k[0]) / (k[1] - k[0])));
	a2 = twin_v3_add(twin_v3_scale(p[1], (k[2] - t) / (k[2] - k[1])),
			 twin_v3_scale(p[2], (t - k[1]) / (k[2] - k[1])));
	a3 = twin_v3_add(twin_v3_scale(p[2], (k[3] - t) / (k[3] - k[2])),
			 twin_v3_scale(p[3], (t - k[2]) / (k[3] - k[2])));
	b1 = twin_v3_add(twin_v3_scale(a1, (k[2] - t) / (k[2] - k[0])),
			 twin_v3_scale(a2, (t - k[0]) / (k[2] - k[0])));
	b2 = twin_v3_add(twin_v3_scale(a2, (k[3] - t) / (k[3] - k[1])),
			 twin_v3_scale(a3, (t - k[1]) / (k[3] - k[1])));
	return twin_v3_add(twin_v3_scale(b1, (k[2] - t) / (k[2] - k[1])),
			   twin_v3_scale(b2, (t - k[1]) / (k[2] - k[1])));
}

static void add_node(struct twin_tube *t, struct twin_v3 p, double r)
{
	if (t->n < TWIN_TUBE_MAX) {
		t->p[t->n] = p;
		t->r[t->n] = r;
		t->n++;
	}
}

void twin_tube_build(struct twin_tube *t, const struct twin_v3 *ctl, const double *rad, int n,
		     double step, double reach)
{
	t->n = 0;
	t->reach = fmin(reach, TWIN_FAR);
	for (int s = 0; s + 1 < n; s++) {
		struct twin_v3 p[4];
		double k[4];
		int pieces;

		p[1] = ctl[s];
		p[2] = ctl[s + 1];
		/* Missing end neighbours are mirrored, so the curve ends straight. */
		p[0] = s > 0 ? ctl[s - 1] : twin_v3_sub(twin_v3_scale(p[1], 2.0), p[2]);
		p[3] = s + 2 < n ? ctl[s + 2] : twin_v3_sub(twin_v3_scale(p[2], 2.0), p[1]);
		k[0] = 0.0;
		for (int i = 1; i < 4; i++)
			k[i] = k[i - 1] + fmax(sqrt(twin_v3_len(twin_v3_sub(p[i], p[i - 1]))), 1e-3);
		pieces = (int)ceil(twin_v3_len(twin_v3_sub(p[2], p[1])) / step);
		pieces = pieces < 1 ? 1 : pieces > 12 ? 12 : pieces;
		for (int i = 0; i < pieces; i++) {
			double u = (double)i / pieces;
			double e = u * u * (3.0 - 2.0 * u);
			add_node(t, catmull_rom(p, k, k[1] + u * (k[2] - k[1])), rad[s] + e * (rad[s + 1] - rad[s]));
		}
	}
	add_node(t, ctl[n - 1], rad[n - 1]);
	for (int i = 0; i + 1 < t->n; i++) {
		struct twin_box a, b;
		double g = fmax(t->r[i], t->r[i + 1]) + fmin(reach, TWIN_FAR);

		box_around(&a, t->p[i], twin_v3(g, g, g));
		box_around(&b, t->p[i + 1], twin_v3(g, g, g));
		twin_box_join(&t->seg[i], &a, &b);
		if (i == 0)
			t->box = t->seg[0];
		else
			twin_box_join(&t->box, &t->box, &t->seg[i]);
	}
}

double twin_tube_sd(const struct twin_tube *t, struct twin_v3 p)
{
	double best = TWIN_FAR;

	if (!twin_box_has(&t->box, p))
		return TWIN_FAR;
	for (int i = 0; i + 1 < t->n; i++) {
		struct twin_v3 ab, ap;
		double u, len2, d;

		if (!twin_box_has(&t->seg[i], p))
			continue;
		ab = twin_v3_sub(t->p[i + 1], t->p[i]);
		ap = twin_v3_sub(p, t->p[i]);
		len2 = twin_v3_dot(ab, ab);
		u = len2 > 0.0 ? twin_v3_dot(ap, ab) / len2 : 0.0;
		u = u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
		d = twin_v3_len(twin_v3_mad(ap, -u, ab)) - (t->r[i] + u * (t->r[i + 1] - t->r[i]));
		if (d < best)
			best = d;
	}
	return best < t->reach ? best : TWIN_FAR;
}

struct twin_v3 twin_tube_tangent(const struct twin_tube *t, int i)
{
	int a = i > 0 ? i - 1 : 0;
	int b = i + 1 < t->n ? i + 1 : t->n - 1;

	return twin_v3_unit(twin_v3_sub(t->p[b], t->p[a]));
}

int twin_tube_nearest(const struct twin_tube *t, struct twin_v3 q)
{
	int best = 0;
	double bd = INFINITY;

	for (int i = 0; i < t->n; i++) {
		double d = twin_v3_len(twin_v3_sub(t->p[i], q));
		if (d < bd) {
			bd = d;
			best = i;
		}
	}
	return best;
}
