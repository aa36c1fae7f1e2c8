/*
 * What lies at a point: the heart's fields and their label priority, then the
 * thorax from the skin inward (chest wall, bones, abdomen below the
 * diaphragm, mediastinum, lungs). Intensities of each tissue for CT and MR.
 */
#include "model.h"

#include <stdlib.h>

#define GAP 6.0         /* blood pools that share no valve stay this far apart, mm */
#define PERICARD 9.0    /* fat around the heart, mm */
#define WALL_DEPTH 34.0 /* skin to pleura, mm */

/* The body: a superellipse (exponent 2.5) around the z axis. */
#define BODY_YC 50.0
#define BODY_A 165.0
#define BODY_B 120.0

/* Signed distances of the heart's structures at one point. */
struct heart {
	double cav, epi, ao, la, pa, rv, ra;
};

static void heart_fields(const struct twin_anatomy *a, struct twin_v3 p, struct heart *f)
{
	double hgt = twin_v3_dot(twin_v3_sub(p, a->base), a->up);
	double la, pa, rv, rvot, ra, excl, side, neck;

	f->cav = fmax(twin_ellipsoid_sd(&a->cav, p), hgt);
	f->epi = fmax(twin_ellipsoid_sd(&a->epi, p), hgt - a->cap);

	/* Aorta: its tube, without the part on the ventricle's side of the valve. */
	excl = fmax(hgt, twin_v3_len(twin_v3_sub(p, a->aortic)) - 40.0);
	f->ao = fmax(twin_tube_sd(&a->aorta, p), -excl);

	/* LA: body, mitral neck and pulmonary veins, above the base plane, off the aorta. */
	la = twin_smin(twin_ellipsoid_sd(&a->la, p), twin_tube_sd(&a->la_neck, p), 6.0);
	for (int i = 0; i < 4; i++)
		la = twin_smin(la, twin_tube_sd(&a->pv[i], p), 5.0);
	excl = fmax(hgt, twin_v3_len(twin_v3_sub(p, a->mitral)) - 45.0);
	la = fmax(la, -excl);
	f->la = twin_smax(la, GAP - f->ao, 3.0);

	/* PA trunk and branches; before the pulmonary valve the tube is the RV outflow. */
	pa = twin_smin(twin_smin(twin_tube_sd(&a->pa, p), twin_tube_sd(&a->lpa, p), 5.0),
		       twin_tube_sd(&a->rpa, p), 5.0);
	side = twin_v3_dot(twin_v3_sub(p, a->pulm), a->pulm_n);
	excl = fmax(side, twin_v3_len(twin_v3_sub(p, a->pulm)) - 45.0);
	rvot = fmax(pa, excl);
	pa = fmax(pa, -excl);
	pa = twin_smax(pa, GAP - f->ao, 3.0);
	pa = twin_smax(pa, GAP - f->epi, 3.0);
	f->pa = twin_smax(pa, GAP - f->la, 3.0);

	/* RV: an ellipsoid hugging the septum (the LV's epicardium) and its outflow. */
	/* kept in front of and to the right of the LV, below the base, so no slivers wrap around it */
	rv = fmax(twin_ellipsoid_sd(&a->rv, p), twin_v3_dot(twin_v3_sub(p, a->cav.c), a->rv_side) - 8.0);
	rv = twin_smax(fmax(rv, hgt - 2.0), GAP - f->pa, 3.0);
	rv = twin_smin(rv, rvot, 8.0);
	rv = twin_smax(rv, -f->epi, 10.0); /* exact on the septum, blunt at the crescent's edges */
	rv = twin_smax(rv, GAP - f->ao, 3.0);
	rv = twin_smax(rv, GAP - f->la, 3.0);

	/* RA with the venae cavae, away from everything but the tricuspid neck. */
	ra = twin_smin(twin_smin(twin_ellipsoid_sd(&a->ra, p), twin_tube_sd(&a->svc, p), 6.0),
		       twin_tube_sd(&a->ivc, p), 6.0);
	ra = twin_smax(ra, GAP - f->ao, 3.0);
	ra = twin_smax(ra, GAP - f->la, 3.0);
	ra = twin_smax(ra, GAP - f->pa, 3.0);
	ra = twin_smax(ra, GAP - rv, 3.0);
	ra = twin_smax(ra, GAP - f->epi, 3.0);

	neck = twin_smax(twin_tube_sd(&a->tri, p), GAP - f->ao, 3.0);
	neck = twin_smax(neck, GAP - f->la, 3.0);
	side = twin_v3_dot(twin_v3_sub(p, a->tric), a->tric_n);
	f->ra = fmin(ra, fmax(neck, side));
	f->rv = fmin(rv, fmax(neck, -side));
}

/* Heart tissue by label priority; TWIN_T_COUNT when p is outside the heart and its walls. */
static enum twin_tissue heart_tissue(const struct heart *f)
{
	if (f->cav < 0.0)
		return TWIN_T_LV;
	if (f->ao < 0.0)
		return TWIN_T_AO;
	if (f->la < 0.0)
		return TWIN_T_LA;
	if (f->pa < 0.0)
		return TWIN_T_PA;
	if (f->rv < 0.0)
		return TWIN_T_RV;
	if (f->ra < 0.0)
		return TWIN_T_RA;
	/* the cap's outer edges round off where the aorta and the LA pass through it */
	if (f->epi < 0.0 && (f->cav < 3.0 || twin_smax(twin_smax(f->epi, -f->ao, 6.0), -f->la, 6.0) < 0.0))
		return TWIN_T_MYO;
	if (f->ao < 2.5 || f->la < 2.0 || f->pa < 2.0 || f->rv < 3.0 || f->ra < 2.0)
		return TWIN_T_SOFT;
	return TWIN_T_COUNT;
}

static double heart_envelope(const struct heart *f)
{
	return fmin(fmin(fmin(f->epi, f->ao), fmin(f->la, f->pa)), fmin(f->rv, f->ra));
}

/* Whether the heart's fields may matter at p: not when the cull grid says no. */
static int near_heart(const struct twin_anatomy *a, struct twin_v3 p)
{
	double fi = (p.x - a->near_lo.x) / TWIN_CULL_MM, fj = (p.y - a->near_lo.y) / TWIN_CULL_MM;
	double fk = (p.z - a->near_lo.z) / TWIN_CULL_MM;

	if (!a->near || fi < 0.0 || fj < 0.0 || fk < 0.0 || fi >= a->near_n[0] || fj >= a->near_n[1] ||
	    fk >= a->near_n[2])
		return 1;
	return a->near[(size_t)fi + (size_t)a->near_n[0] * ((size_t)fj + (size_t)a->near_n[1] * (size_t)fk)];
}

int twin_anatomy_cull(struct twin_anatomy *a, const struct twin_box *region)
{
	/* Fields are near 1-Lipschitz: beyond this at a cell centre, nothing in the cell is heart or fat. */
	double reach = PERICARD + 0.5 * sqrt(3.0) * TWIN_CULL_MM + 4.0;
	struct twin_box b;
	size_t n[3], i, j, k;

	b.lo = twin_v3(fmax(region->lo.x, a->heart.lo.x), fmax(region->lo.y, a->heart.lo.y),
		       fmax(region->lo.z, a->heart.lo.z));
	b.hi = twin_v3(fmin(region->hi.x, a->heart.hi.x), fmin(region->hi.y, a->heart.hi.y),
		       fmin(region->hi.z, a->heart.hi.z));
	free(a->near);
	a->near = NULL;
	if (b.hi.x < b.lo.x || b.hi.y < b.lo.y || b.hi.z < b.lo.z)
		b.hi = b.lo;
	n[0] = (size_t)ceil((b.hi.x - b.lo.x) / TWIN_CULL_MM) + 1;
	n[1] = (size_t)ceil((b.hi.y - b.lo.y) / TWIN_CULL_MM) + 1;
	n[2] = (size_t)ceil((b.hi.z - b.lo.z) / TWIN_CULL_MM) + 1;
	if (!(a->near = malloc(n[0] * n[1] * n[2])))
		return -1;
	for (k = 0; k < n[2]; k++)
		for (j = 0; j < n[1]; j++)
			for (i = 0; i < n[0]; i++) {
				struct twin_v3 c = twin_v3(b.lo.x + (i + 0.5) * TWIN_CULL_MM,
							   b.lo.y + (j + 0.5) * TWIN_CULL_MM,
							   b.lo.z + (k + 0.5) * TWIN_CULL_MM);
				struct heart f;

				heart_fields(a, c, &f);
				a->near[i + n[0] * (j + n[1] * k)] = fmin(f.cav, heart_envelope(&f)) < reach;
			}
	a->near_lo = b.lo;
	for (i = 0; i < 3; i++)
		a->near_n[i] = (int)n[i];
	return 0;
}

void twin_anatomy_release(struct twin_anatomy *a)
{
	free(a->near);
	a->near = NULL;
}

/* --- thorax ------------------------------------------------------------------ */

static inline double sq(double v)
{
	return v * v;
}

/* Depth under the skin along the ray from the body axis, negative outside. */
static double body_depth(struct twin_v3 p)
{
	double x = fabs(p.x) / BODY_A, y = fabs(p.y - BODY_YC) / BODY_B;
	double s = x * x * sqrt(x) + y * y * sqrt(y);
	double e;

	/* The surface is >= BODY_B away along any ray, so e < 2/3 is deeper than 40 mm. */
	if (s < 0.36)
		return 100.0;
	e = pow(s, 0.4);
	return (1.0 - e) * sqrt(p.x * p.x + (p.y - BODY_YC) * (p.y - BODY_YC)) / e;
}

/* Bone split into a cortical shell of 1.5 mm and the cancellous inside. */
static enum twin_tissue bone(double inside)
{
	return inside < 1.5 ? TWIN_T_CORTICAL : TWIN_T_CANCELLOUS;
}

/* Vertebrae (bodies with discs, canal, arch, processes); TWIN_T_COUNT elsewhere. */
static enum twin_tissue spine_tissue(struct twin_v3 p)
{
	double zz = fmod(p.z + 1400.0, 28.0); /* 22 mm of vertebral body, then a 6 mm disc */
	double ex = p.x / 24.0, ey = (p.y - 116.0) / 19.0;
	double r = sqrt(ex * ex + ey * ey);
	double dc = sqrt(p.x * p.x + (p.y - 144.0) * (p.y - 144.0));

	if (p.y < 95.0 || p.y > 166.0 || fabs(p.x) > 42.0)
		return TWIN_T_COUNT;
	if (r < 1.0) {
		double inside = (1.0 - r) * sqrt(p.x * p.x + (p.y - 116.0) * (p.y - 116.0)) / fmax(r, 1e-6);
		if (zz < 6.0)
			return TWIN_T_SOFT;
		return bone(fmin(inside, fmin(zz - 6.0, 28.0 - zz)));
	}
	if (dc < 8.0)
		return TWIN_T_CSF;
	if (zz < 6.0)
		return TWIN_T_COUNT;
	if (dc < 14.0)
		return bone(fmin(dc - 8.0, 14.0 - dc));
	if (fabs(p.x) < 13.0 && p.y > 120.0 && p.y < 144.0)
		return TWIN_T_CORTICAL; /* pedicles */
	if (fabs(p.x) < 40.0 && fabs(p.y - 146.0) < 5.0 && zz > 10.0 && zz < 22.0)
		return TWIN_T_CORTICAL; /* transverse processes */
	if (fabs(p.x) < 4.0 && p.y > 150.0 && p.y < 163.0 && zz > 8.0 && zz < 26.0)
		return TWIN_T_CORTICAL; /* spinous process */
	return TWIN_T_COUNT;
}

/* Ribs: twelve pairs hugging the chest wall, sloping down toward the front. */
static enum twin_tissue rib_tissue(struct twin_v3 p, double depth)
{
	double phi, zc, d;
	long k;

	if (depth < 21.0 || depth > 35.0)
		return TWIN_T_COUNT;
	phi = atan2(fabs(p.x), p.y - BODY_YC); /* 0 at the back, pi at the front */
	if (phi < 0.28 || phi > 2.75)
		return TWIN_T_COUNT;
	zc = 110.0 - 55.0 * phi / M_PI;
	k = lround((zc - p.z) / 26.0);
	if (k < 0 || k > 11)
		return TWIN_T_COUNT;
	zc -= 26.0 * (double)k;
	d = 4.5 - sqrt((depth - 28.0) * (depth - 28.0) + (p.z - zc) * (p.z - zc) / 1.69);
	if (d <= 0.0)
		return TWIN_T_COUNT;
	return phi > 2.35 ? TWIN_T_CARTILAGE : bone(d);
}

static enum twin_tissue sternum_tissue(struct twin_v3 p, double depth)
{
	double d;

	if (p.y > BODY_YC || p.z < -120.0 || p.z > 75.0)
		return TWIN_T_COUNT;
	d = fmin(16.0 - fabs(p.x), 6.0 - fabs(depth - 20.0));
	return d > 0.0 ? bone(d) : TWIN_T_COUNT;
}

/* Height of the diaphragm: the right dome over the liver is higher. */
static double diaphragm_z(struct twin_v3 p)
{
	double r2 = (p.x + 55.0) * (p.x + 55.0) + (p.y - 55.0) * (p.y - 55.0);
	double l2 = (p.x - 55.0) * (p.x - 55.0) + (p.y - 55.0) * (p.y - 55.0);

	return twin_smax(-55.0 - r2 / 320.0, -92.0 - l2 / 320.0, 10.0);
}

enum twin_tissue twin_anatomy_tissue(const struct twin_anatomy *a, struct twin_v3 p)
{
	double depth = body_depth(p), env = TWIN_FAR, dz, air;
	enum twin_tissue t;

	if (depth < 0.0)
		return TWIN_T_AIR;
	if (twin_box_has(&a->heart, p) && near_heart(a, p)) {
		struct heart f;

		heart_fields(a, p, &f);
		t = heart_tissue(&f);
		if (t != TWIN_T_COUNT)
			return t;
		env = heart_envelope(&f);
	}
	if (depth < 2.0)
		return TWIN_T_SKIN;
	if (depth < 2.0 + 8.0 + 6.0 * (p.x * p.x) / (p.x * p.x + (p.y - BODY_YC) * (p.y - BODY_YC) + 1.0))
		return TWIN_T_FAT;
	if ((t = spine_tissue(p)) != TWIN_T_COUNT || (t = rib_tissue(p, depth)) != TWIN_T_COUNT ||
	    (t = sternum_tissue(p, depth)) != TWIN_T_COUNT)
		return t;
	if (depth < WALL_DEPTH)
		return TWIN_T_MUSCLE;
	if (sq(p.x / 48.0) + sq((p.y - 142.0) / 30.0) < 1.0)
		return TWIN_T_MUSCLE; /* paraspinal muscles */
	dz = diaphragm_z(p) - p.z;
	if (dz > 0.0 && env > PERICARD) {
		if (dz < 4.0)
			return TWIN_T_MUSCLE;
		return p.x < 25.0 - 0.3 * (p.y - 40.0) ? TWIN_T_LIVER : TWIN_T_ABDOMEN;
	}
	air = fmin(twin_tube_sd(&a->trachea, p),
		   fmin(twin_tube_sd(&a->bronchus[0], p), twin_tube_sd(&a->bronchus[1], p)));
	if (air < 0.0)
		return TWIN_T_AIR;
	if (air < 2.0)
		return TWIN_T_CARTILAGE;
	if (sq(p.x - 4.0) + sq(p.y - 82.0) < 7.0 * 7.0)
		return TWIN_T_SOFT; /* oesophagus */
	if (env < PERICARD || air < 5.0 || sq(p.x - 4.0) + sq(p.y - 82.0) < 12.0 * 12.0 ||
	    (fabs(p.x - 2.0) < 18.0 && p.y < 100.0))
		return TWIN_T_FAT; /* mediastinum */
	for (int i = 0; i < TWIN_LUNG_VESSELS; i++)
		if (twin_tube_sd(&a->vessel[i], p) < 0.0)
			return TWIN_T_LUNG_VESSEL;
	return TWIN_T_LUNG;
}

/* --- labels and intensities -------------------------------------------------- */

int twin_tissue_label(enum twin_tissue t)
{
	switch (t) {
	case TWIN_T_MYO: return 1;
	case TWIN_T_LA: return 2;
	case TWIN_T_LV: return 3;
	case TWIN_T_RA: return 4;
	case TWIN_T_RV: return 5;
	case TWIN_T_AO: return 6;
	case TWIN_T_PA: return 7;
	default: return 0;
	}
}

/* CT in HU (arterial phase: the left heart brighter), bright-blood MR in units. */
static const double tissue_ct[TWIN_T_COUNT] = {
	[TWIN_T_AIR] = -1000, [TWIN_T_LUNG] = -820, [TWIN_T_LUNG_VESSEL] = 250,
	[TWIN_T_FAT] = -100, [TWIN_T_SKIN] = 40, [TWIN_T_MUSCLE] = 50, [TWIN_T_SOFT] = 90,
	[TWIN_T_LIVER] = 90, [TWIN_T_ABDOMEN] = 40, [TWIN_T_CSF] = 10, [TWIN_T_CARTILAGE] = 140,
	[TWIN_T_CORTICAL] = 1300, [TWIN_T_CANCELLOUS] = 350, [TWIN_T_MYO] = 100,
	[TWIN_T_LA] = 410, [TWIN_T_LV] = 400, [TWIN_T_RA] = 330, [TWIN_T_RV] = 320,
	[TWIN_T_AO] = 420, [TWIN_T_PA] = 310,
};
static const double tissue_mr[TWIN_T_COUNT] = {
	[TWIN_T_AIR] = 0, [TWIN_T_LUNG] = 30, [TWIN_T_LUNG_VESSEL] = 500,
	[TWIN_T_FAT] = 780, [TWIN_T_SKIN] = 300, [TWIN_T_MUSCLE] = 220, [TWIN_T_SOFT] = 260,
	[TWIN_T_LIVER] = 330, [TWIN_T_ABDOMEN] = 280, [TWIN_T_CSF] = 900, [TWIN_T_CARTILAGE] = 200,
	[TWIN_T_CORTICAL] = 50, [TWIN_T_CANCELLOUS] = 300, [TWIN_T_MYO] = 250,
	[TWIN_T_LA] = 950, [TWIN_T_LV] = 930, [TWIN_T_RA] = 900, [TWIN_T_RV] = 880,
	[TWIN_T_AO] = 960, [TWIN_T_PA] = 870,
};

double twin_tissue_value(enum twin_tissue t, enum twin_phantom_modality m, struct twin_v3 p)
{
	double v = (m == TWIN_PHANTOM_MR ? tissue_mr : tissue_ct)[t];

	/* blood: a slight smooth variation, as contrast mixes and coils shade */
	if (twin_tissue_label(t) >= 2)
		v *= 1.0 + 0.025 * sin(0.041 * p.x + 0.053 * p.z) + 0.02 * cos(0.037 * p.y - 0.029 * p.z + 1.0);
	return v;
}
