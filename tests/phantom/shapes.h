/*
 * shapes: twin-phantom's kit of implicit surfaces: 3-vectors, boxes, and
 * approximate signed distances in mm (negative inside) of ellipsoids and of
 * tubes swept along Catmull-Rom centrelines, with smooth union and
 * subtraction. Owns nothing. Plain C; includes nothing from dcm2twin.
 */
#ifndef TWIN_PHANTOM_SHAPES_H
#define TWIN_PHANTOM_SHAPES_H

#include <math.h>

/*
 * Distances at or beyond TWIN_FAR mm all mean "far away": a shape may return
 * TWIN_FAR for any point further than that from it. Every threshold that the
 * anatomy applies to a distance must stay below it.
 */
#define TWIN_FAR 30.0

struct twin_v3 {
	double x, y, z;
};

/* An axis-aligned box in LPS mm. */
struct twin_box {
	struct twin_v3 lo, hi;
};

static inline struct twin_v3 twin_v3(double x, double y, double z)
{
	struct twin_v3 v = { x, y, z };
	return v;
}

static inline struct twin_v3 twin_v3_add(struct twin_v3 a, struct twin_v3 b)
{
	return twin_v3(a.x + b.x, a.y + b.y, a.z + b.z);
}

static inline struct twin_v3 twin_v3_sub(struct twin_v3 a, struct twin_v3 b)
{
	return twin_v3(a.x - b.x, a.y - b.y, a.z - b.z);
}

static inline struct twin_v3 twin_v3_scale(struct twin_v3 a, double s)
{
	return twin_v3(a.x * s, a.y * s, a.z * s);
}

/* a + s * b */
static inline struct twin_v3 twin_v3_mad(struct twin_v3 a, double s, struct twin_v3 b)
{
	return twin_v3(a.x + s * b.x, a.y + s * b.y, a.z + s * b.z);
}

static inline double twin_v3_dot(struct twin_v3 a, struct twin_v3 b)
{
	return a.x * b.x + a.y * b.y + a.z * b.z;
}

static inline double twin_v3_len(struct twin_v3 a)
{
	return sqrt(twin_v3_dot(a, a));
}

static inline struct twin_v3 twin_v3_cross(struct twin_v3 a, struct twin_v3 b)
{
	return twin_v3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}

static inline struct twin_v3 twin_v3_unit(struct twin_v3 a)
{
	double l = twin_v3_len(a);
	return l > 0.0 ? twin_v3_scale(a, 1.0 / l) : a;
}

static inline int twin_box_has(const struct twin_box *b, struct twin_v3 p)
{
	return p.x >= b->lo.x && p.x <= b->hi.x && p.y >= b->lo.y && p.y <= b->hi.y &&
	       p.z >= b->lo.z && p.z <= b->hi.z;
}

/* The smallest box holding a and b. */
void twin_box_join(struct twin_box *out, const struct twin_box *a, const struct twin_box *b);

/* Polynomial smooth minimum of blend width k mm; never above min(a, b). */
static inline double twin_smin(double a, double b, double k)
{
	double h = k - fabs(a - b);
	return h > 0.0 ? fmin(a, b) - h * h / (4.0 * k) : fmin(a, b);
}

/* Smooth maximum; never below max(a, b). Smooth a minus b is twin_smax(a, -b, k). */
static inline double twin_smax(double a, double b, double k)
{
	return -twin_smin(-a, -b, k);
}

/* An ellipsoid: centre, orthonormal axes and the semi-axis along each. */
struct twin_ellipsoid {
	struct twin_v3 c, ax[3];
	double r[3];
	struct twin_box box; /* grown by TWIN_FAR */
};

/*
 * Sets e from its centre, a first axis a0 and a second one a1 (made unit and
 * orthogonal to a0 here; the third is a0 x a1) and the three semi-axes in mm.
 */
void twin_ellipsoid_set(struct twin_ellipsoid *e, struct twin_v3 c, struct twin_v3 a0,
			struct twin_v3 a1, const double r[3]);
/* Approximate signed distance (exact on spheres, good near the surface). */
double twin_ellipsoid_sd(const struct twin_ellipsoid *e, struct twin_v3 p);

#define TWIN_TUBE_MAX 64

/* A tube: a polyline of nodes sampled from a smooth centreline, with radii. */
struct twin_tube {
	int n;
	struct twin_v3 p[TWIN_TUBE_MAX];
	double r[TWIN_TUBE_MAX];
	struct twin_box seg[TWIN_TUBE_MAX]; /* segment i joins nodes i and i+1; grown by reach */
	struct twin_box box;
	double reach;
};

/*
 * Samples a centripetal Catmull-Rom spline through the n >= 2 control points
 * ctl, with radius rad[i] at ctl[i] eased in between, into pieces of about
 * step mm (at most 12 per span, TWIN_TUBE_MAX nodes in all). Distances
 * beyond reach mm (at most TWIN_FAR) come back as TWIN_FAR; a tube that is
 * only tested for inside may use a small reach, which is faster.
 */
void twin_tube_build(struct twin_tube *t, const struct twin_v3 *ctl, const double *rad, int n,
		     double step, double reach);
/* Signed distance to the tube's surface, TWIN_FAR when further than its reach. */
double twin_tube_sd(const struct twin_tube *t, struct twin_v3 p);
/* Unit tangent of the centreline at node i. */
struct twin_v3 twin_tube_tangent(const struct twin_tube *t, int i);
/* The node nearest to point q. */
int twin_tube_nearest(const struct twin_tube *t, struct twin_v3 q);

#endif
