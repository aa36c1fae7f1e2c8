/*
 * The phantom's anatomy. All positions are LPS mm: x to the patient's left,
 * y posterior, z superior. The heart's long axis runs from the base (centre
 * of the mitral and aortic valve plane) toward the apex, anterior, inferior
 * and to the left.
 */
#include "model.h"

#include <string.h>

static const struct twin_v3 heart_centre = { 18.0, 22.0, -30.0 };

void twin_phantom_heart_centre(double xyz[3])
{
	xyz[0] = heart_centre.x;
	xyz[1] = heart_centre.y;
	xyz[2] = heart_centre.z;
}

/* --- the cardiac cycle ------------------------------------------------------ */

/* Ventricular filling: 1 at end-diastole (phase 0), 0 at end-systole (0.35). */
static double ventricle_fill(double t)
{
	if (t < 0.35)
		return 0.5 * (1.0 + cos(M_PI * t / 0.35));
	if (t < 0.6)  /* rapid filling */
		return 0.88 * 0.5 * (1.0 - cos(M_PI * (t - 0.35) / 0.25));
	if (t < 0.8)  /* diastasis */
		return 0.88 + 0.02 * 0.5 * (1.0 - cos(M_PI * (t - 0.6) / 0.2));
	return 0.90 + 0.10 * 0.5 * (1.0 - cos(M_PI * (t - 0.8) / 0.2)); /* atrial kick */
}

/* Volume of an ellipsoid (semi-axes a along the axis, b across) cut h before its centre. */
static double cut_ellipsoid_mm3(double a, double b, double h)
{
	return M_PI * b * b * ((a + h) - (a * a * a + h * h * h) / (3.0 * a * a));
}

static double lv_a(double s) { return 42.0 + 10.0 * s; }
static double lv_b(double s) { return 19.25 + 7.35 * s; }

/* Wall thickness that keeps the myocardial volume of end-diastole's 10 mm wall. */
static double lv_wall(double s)
{
	double a = lv_a(s), b = lv_b(s), h = 0.5 * a;
	double want = cut_ellipsoid_mm3(lv_a(1) + 10.0, lv_b(1) + 10.0, 0.5 * lv_a(1)) -
		      cut_ellipsoid_mm3(lv_a(1), lv_b(1), 0.5 * lv_a(1));
	double lo = 4.0, hi = 25.0;

	for (int i = 0; i < 40; i++) {
		double t = 0.5 * (lo + hi);
		if (cut_ellipsoid_mm3(a + t, b + t, h) - cut_ellipsoid_mm3(a, b, h) < want)
			lo = t;
		else
			hi = t;
	}
	return 0.5 * (lo + hi);
}

double twin_anatomy_lv_ml(const struct twin_anatomy *a)
{
	double h = twin_v3_dot(twin_v3_sub(a->cav.c, a->base), twin_v3_scale(a->up, -1.0));

	return cut_ellipsoid_mm3(a->cav.r[0], a->cav.r[1], h) / 1000.0;
}

/* --- building -------------------------------------------------------------- */

static void tube(struct twin_tube *t, int n, const double (*ctl)[4], double reach)
{
	struct twin_v3 p[16];
	double r[16];

	for (int i = 0; i < n; i++) {
		p[i] = twin_v3(ctl[i][0], ctl[i][1], ctl[i][2]);
		r[i] = ctl[i][3];
	}
	twin_tube_build(t, p, r, n, 6.0, reach);
}

/* A tube through points given relative to origin o. */
static void tube_at(struct twin_tube *t, struct twin_v3 o, int n, const double (*ctl)[4])
{
	double abs_ctl[16][4];

	for (int i = 0; i < n; i++) {
		abs_ctl[i][0] = o.x + ctl[i][0];
		abs_ctl[i][1] = o.y + ctl[i][1];
		abs_ctl[i][2] = o.z + ctl[i][2];
		abs_ctl[i][3] = ctl[i][3];
	}
	tube(t, n, (const double (*)[4])abs_ctl, TWIN_FAR);
}

static void build_lv(struct twin_anatomy *a, double s)
{
	struct twin_v3 u = twin_v3_unit(twin_v3(0.60, -0.42, -0.68));
	struct twin_v3 e2, e3, m;
	double av = lv_a(s), bv = lv_b(s), t = lv_wall(s);
	double rc[3] = { av, bv, bv }, re[3] = { av + t, bv + t, bv + t };

	a->base = twin_v3(26.0, 18.0, -22.0);
	a->up = twin_v3_scale(u, -1.0);
	/* e2: posterior within the base plane; e3 = u x e2 points left and up */
	e2 = twin_v3_unit(twin_v3_mad(twin_v3(0, 1, 0), -u.y, u));
	e3 = twin_v3_cross(u, e2);
	twin_ellipsoid_set(&a->cav, twin_v3_mad(a->base, 0.5 * av, u), u, e2, rc);
	twin_ellipsoid_set(&a->epi, a->cav.c, u, e2, re);
	a->cap = 6.0;
	/* mitral posterior-left, aortic anterior-right of the base centre */
	m = twin_v3_unit(twin_v3_add(twin_v3_scale(e2, 0.8), twin_v3_scale(e3, 0.6)));
	a->mitral = twin_v3_mad(a->base, 13.0, m);
	a->aortic = twin_v3_mad(a->base, -16.0, m);
}

static void build_left_atrium(struct twin_anatomy *a, double fa)
{
	static const double pv[4][3][4] = {
		{ { 16, 10, 10, 8 }, { 34, 22, 16, 7.5 }, { 52, 32, 20, 6.5 } },
		{ { 16, 10, -8, 8 }, { 34, 22, -14, 7.5 }, { 50, 32, -20, 6.5 } },
		{ { -16, 10, 10, 8 }, { -34, 22, 14, 7.5 }, { -50, 30, 18, 6.5 } },
		{ { -16, 10, -8, 8 }, { -34, 22, -12, 7.5 }, { -48, 30, -18, 6.5 } },
	};
	struct twin_v3 c = twin_v3_add(twin_v3_mad(a->mitral, 24.0, a->up), twin_v3(0, 8, 0));
	double r[3] = { 30.0 * fa, 20.0 * fa, 22.0 * fa };
	struct twin_v3 neck[3];
	double nr[3] = { 12.0, 12.0, 14.0 };

	twin_ellipsoid_set(&a->la, c, twin_v3(1, 0, 0), twin_v3(0, 1, 0), r);
	neck[0] = twin_v3_mad(a->mitral, -6.0, a->up);
	neck[1] = twin_v3_mad(a->mitral, 6.0, a->up);
	neck[2] = c;
	twin_tube_build(&a->la_neck, neck, nr, 3, 6.0, TWIN_FAR);
	for (int i = 0; i < 4; i++)
		tube_at(&a->pv[i], c, 3, pv[i]);
}

static void build_arteries(struct twin_anatomy *a, double fv)
{
	struct twin_v3 root = twin_v3_unit(twin_v3_add(a->up, twin_v3(-0.1, -0.8, 0.5)));
	struct twin_v3 in = twin_v3_mad(a->aortic, -8.0, a->up);
	struct twin_v3 sinus = twin_v3_mad(a->aortic, 14.0, root);
	double k = 1.0 + 0.04 * (1.0 - fv); /* the arteries widen a little in systole */
	double ao[10][4] = {
		{ in.x, in.y, in.z, 11.0 },
		{ a->aortic.x, a->aortic.y, a->aortic.z, 11.0 },
		{ sinus.x, sinus.y, sinus.z, 15.5 },
		{ 2, 6, 12, 15 }, { -4, 12, 45, 14.5 }, { 14, 42, 74, 13.5 }, { 30, 72, 60, 13 },
		{ 26, 84, 32, 12.5 }, { 26, 86, -40, 12.5 }, { 25, 84, -300, 12 },
	};
	static const double lpa[4][4] = {
		{ 30, 25, 36, 11 }, { 50, 38, 40, 10 }, { 68, 55, 34, 9 }, { 84, 65, 26, 8 },
	};
	static const double rpa[5][4] = {
		{ 30, 25, 36, 11 }, { 8, 48, 38, 10 }, { -20, 54, 36, 10 }, { -48, 58, 30, 9 }, { -62, 62, 24, 8 },
	};
	double lp[4][4], rp[5][4];

	for (int i = 1; i < 10; i++)
		ao[i][3] *= k;
	tube(&a->aorta, 10, (const double (*)[4])ao, TWIN_FAR);
	memcpy(lp, lpa, sizeof(lp));
	memcpy(rp, rpa, sizeof(rp));
	for (int i = 0; i < 4; i++)
		lp[i][3] *= k;
	for (int i = 0; i < 5; i++)
		rp[i][3] *= k;
	tube(&a->lpa, 4, (const double (*)[4])lp, TWIN_FAR);
	tube(&a->rpa, 5, (const double (*)[4])rp, TWIN_FAR);
}

static void build_right_heart(struct twin_anatomy *a, double fv, double fa)
{
	struct twin_v3 m = twin_v3_unit(twin_v3_sub(a->mitral, a->aortic));
	struct twin_v3 u = twin_v3_scale(a->up, -1.0);
	struct twin_v3 c = twin_v3_add(twin_v3_mad(a->cav.c, -24.0, m), twin_v3_scale(a->up, 4.0));
	double fr = 0.74 + 0.26 * fv;
	double r[3] = { 54.0 * fr, 37.0 * fr, 48.0 * fr };
	double k = 1.0 + 0.04 * (1.0 - fv);
	struct twin_v3 ra_c = twin_v3(-36, 22, -34);
	double rr[3] = { 24.0 * fa, 22.0 * fa, 30.0 * fa };
	static const double svc[5][4] = {
		{ 0, 0, 18, 9.5 }, { 2, 2, 34, 9.5 }, { -2, 0, 69, 9.5 }, { 0, -4, 104, 9.5 }, { 2, -8, 164, 9.5 },
	};
	static const double ivc[4][4] = {
		{ 0, 0, -18, 11 }, { 3, 8, -41, 11 }, { 6, 16, -76, 11 }, { 8, 20, -266, 11 },
	};
	struct twin_v3 pv[4], start, q1, q2, d;
	double pr[4] = { 15.0 * k, 13.0 * k, 13.0 * k, 12.0 * k };
	double nr[2] = { 12.0, 12.0 };
	double len;
	int i, n;

	twin_ellipsoid_set(&a->rv, c, u, twin_v3_scale(m, -1.0), r);
	a->rv_side = m;
	a->pulm = twin_v3(36, -8, 5);
	pv[0] = twin_v3_mad(c, 0.4, twin_v3_sub(a->pulm, c));
	pv[1] = a->pulm;
	pv[2] = twin_v3(38, 6, 22);
	pv[3] = twin_v3(30, 25, 36);
	twin_tube_build(&a->pa, pv, pr, 4, 6.0, TWIN_FAR);
	a->pulm_n = twin_tube_tangent(&a->pa, twin_tube_nearest(&a->pa, a->pulm));

	twin_ellipsoid_set(&a->ra, ra_c, twin_v3(1, 0, 0), twin_v3(0, 1, 0), rr);
	tube_at(&a->svc, ra_c, 5, svc);
	tube_at(&a->ivc, ra_c, 4, ivc);

	/* Tricuspid: a neck across the gap between the RA and RV, the valve halfway. */
	d = twin_v3_sub(c, ra_c);
	len = twin_v3_len(d);
	d = twin_v3_unit(d);
	n = (int)(len / 0.5);
	q1 = ra_c;
	for (i = 0; i < n && twin_ellipsoid_sd(&a->ra, q1) < 0.0; i++)
		q1 = twin_v3_mad(ra_c, 0.5 * i, d);
	q2 = q1;
	for (; i < n; i++) {
		q2 = twin_v3_mad(ra_c, 0.5 * i, d);
		if (fmax(twin_ellipsoid_sd(&a->rv, q2), -twin_ellipsoid_sd(&a->epi, q2)) < 0.0)
			break;
	}
	a->tric = twin_v3_scale(twin_v3_add(q1, q2), 0.5);
	a->tric_n = d;
	start = twin_v3_mad(q1, -10.0, d);
	q2 = twin_v3_mad(q2, 10.0, d);
	pv[0] = start;
	pv[1] = q2;
	twin_tube_build(&a->tri, pv, nr, 2, 6.0, TWIN_FAR);
}

static void build_thorax(struct twin_anatomy *a)
{
	static const double trachea[3][4] = { { -6, 60, 160, 9 }, { -6, 60, 70, 9 }, { -5, 62, 48, 9 } };
	static const double bronchus[2][3][4] = {
		{ { -5, 62, 48, 7 }, { -26, 66, 38, 6.5 }, { -46, 72, 28, 5.5 } },
		{ { -5, 62, 48, 6.5 }, { 18, 56, 40, 6 }, { 44, 56, 30, 5 } },
	};
	uint64_t st = 0x243f6a8885a308d3ull; /* fixed: the anatomy does not depend on the seed */

	tube(&a->trachea, 3, trachea, 6.0);
	tube(&a->bronchus[0], 3, bronchus[0], 6.0);
	tube(&a->bronchus[1], 3, bronchus[1], 6.0);
	for (int i = 0; i < TWIN_LUNG_VESSELS; i++) {
		struct twin_v3 hilum = i % 2 ? twin_v3(62, 48, 22) : twin_v3(-58, 52, 16);
		struct twin_v3 d, p[3];
		double r[3] = { 3.5, 2.2, 1.2 }, q[4];

		for (int j = 0; j < 4; j++) {
			st = st * 6364136223846793005ull + 1442695040888963407ull;
			q[j] = (double)(st >> 11) / 9007199254740992.0;
		}
		d = twin_v3(0.4 + 0.6 * q[0], 1.6 * q[1] - 0.8, 2.0 * q[2] - 1.0);
		if (!(i % 2))
			d.x = -d.x;
		d = twin_v3_unit(d);
		p[0] = twin_v3_mad(hilum, 20.0, d);
		p[1] = twin_v3_mad(twin_v3_mad(hilum, 55.0, d), 8.0 * (q[3] - 0.5), twin_v3(0, 1, 1));
		p[2] = twin_v3_mad(hilum, 90.0 + 40.0 * q[3], d);
		twin_tube_build(&a->vessel[i], p, r, 3, 8.0, 0.5);
	}
}

void twin_anatomy_build(struct twin_anatomy *a, double phase)
{
	double fv, fa;

	memset(a, 0, sizeof(*a));
	a->phase = phase - floor(phase);
	fv = ventricle_fill(a->phase);
	fa = 1.0 + 0.10 * (1.0 - fv); /* the atria fill while the ventricles empty */
	build_lv(a, fv);
	build_left_atrium(a, fa);
	build_arteries(a, fv);
	build_right_heart(a, fv, fa);
	build_thorax(a);

	/* The heart box: the chambers and the great vessels near them. */
	a->heart = a->epi.box;
	twin_box_join(&a->heart, &a->heart, &a->la.box);
	twin_box_join(&a->heart, &a->heart, &a->rv.box);
	twin_box_join(&a->heart, &a->heart, &a->ra.box);
	twin_box_join(&a->heart, &a->heart, &a->aorta.box);
	twin_box_join(&a->heart, &a->heart, &a->pa.box);
	twin_box_join(&a->heart, &a->heart, &a->lpa.box);
	twin_box_join(&a->heart, &a->heart, &a->rpa.box);
	twin_box_join(&a->heart, &a->heart, &a->svc.box);
	twin_box_join(&a->heart, &a->heart, &a->ivc.box);
	for (int i = 0; i < 4; i++)
		twin_box_join(&a->heart, &a->heart, &a->pv[i].box);
}
