#include "fibres_frame.h"

#include <math.h>

static double dot3(const double a[3], const double b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross3(double out[3], const double a[3], const double b[3])
{
	double c[3] = {
		a[1] * b[2] - a[2] * b[1],
		a[2] * b[0] - a[0] * b[2],
		a[0] * b[1] - a[1] * b[0],
	};

	out[0] = c[0];
	out[1] = c[1];
	out[2] = c[2];
}

/* Normalises v in place; returns its old length. */
static double normalise(double v[3])
{
	double n = sqrt(dot3(v, v));

	if (n > 0) {
		v[0] /= n;
		v[1] /= n;
		v[2] /= n;
	}
	return n;
}

/* A unit vector orthogonal to the unit vector u. */
static void orthogonal(double out[3], const double u[3])
{
	double e[3] = { 0, 0, 0 };
	int k = 0;

	for (int i = 1; i < 3; i++)
		if (fabs(u[i]) < fabs(u[k]))
			k = i;
	e[k] = 1;
	cross3(out, u, e);
	normalise(out);
}

void twin_fibres_frame_axis(double q[3][3], const double ab[3], const double tm[3])
{
	double e1[3] = { ab[0], ab[1], ab[2] };
	double e2[3] = { tm[0], tm[1], tm[2] };
	double an = normalise(e1);
	double d;

	if (!(normalise(e2) > 0)) {
		/* no transmural direction: any one across ab */
		if (an > 0) {
			orthogonal(e2, e1);
		} else {
			e2[0] = 1;
			e2[1] = 0;
			e2[2] = 0;
		}
	}
	d = dot3(e1, e2);
	for (int i = 0; i < 3; i++)
		e1[i] -= d * e2[i];
	/* ab parallel to tm (or zero) leaves no apex-base direction: pick one */
	if (!(an > 0) || !(normalise(e1) > 1e-9))
		orthogonal(e1, e2);
	cross3(q[0], e1, e2);
	for (int i = 0; i < 3; i++) {
		q[1][i] = e1[i];
		q[2][i] = e2[i];
	}
}

void twin_fibres_frame_orient(double out[3][3], const double q[3][3], double alpha, double beta)
{
	double ca = cos(alpha), sa = sin(alpha), cb = cos(beta), sb = sin(beta);
	double r0[3], r1[3];

	/* q Rz(alpha): columns 0 and 1 turn about q[2] */
	for (int i = 0; i < 3; i++) {
		r0[i] = ca * q[0][i] + sa * q[1][i];
		r1[i] = -sa * q[0][i] + ca * q[1][i];
	}
	/* then Rx(beta) = [1 0 0; 0 cb sb; 0 -sb cb]: columns 1 and 2 turn about the fibre */
	for (int i = 0; i < 3; i++) {
		out[0][i] = r0[i];
		out[1][i] = cb * r1[i] - sb * q[2][i];
		out[2][i] = sb * r1[i] + cb * q[2][i];
	}
}

/* Quaternions are (w, x, y, z). Frame q is the matrix R with R[i][k] = q[k][i]. */
static void frame_to_quat(double p[4], const double q[3][3])
{
	double r00 = q[0][0], r11 = q[1][1], r22 = q[2][2];
	double tr = r00 + r11 + r22, s;

	if (tr > 0) {
		s = 2 * sqrt(tr + 1);
		p[0] = s / 4;
		p[1] = (q[1][2] - q[2][1]) / s;
		p[2] = (q[2][0] - q[0][2]) / s;
		p[3] = (q[0][1] - q[1][0]) / s;
	} else if (r00 > r11 && r00 > r22) {
		s = 2 * sqrt(1 + r00 - r11 - r22);
		p[0] = (q[1][2] - q[2][1]) / s;
		p[1] = s / 4;
		p[2] = (q[1][0] + q[0][1]) / s;
		p[3] = (q[2][0] + q[0][2]) / s;
	} else if (r11 > r22) {
		s = 2 * sqrt(1 + r11 - r00 - r22);
		p[0] = (q[2][0] - q[0][2]) / s;
		p[1] = (q[1][0] + q[0][1]) / s;
		p[2] = s / 4;
		p[3] = (q[2][1] + q[1][2]) / s;
	} else {
		s = 2 * sqrt(1 + r22 - r00 - r11);
		p[0] = (q[0][1] - q[1][0]) / s;
		p[1] = (q[2][0] + q[0][2]) / s;
		p[2] = (q[2][1] + q[1][2]) / s;
		p[3] = s / 4;
	}
}

static void quat_to_frame(double q[3][3], const double p[4])
{
	double w = p[0], x = p[1], y = p[2], z = p[3];

	/* column k of the rotation matrix */
	q[0][0] = 1 - 2 * (y * y + z * z);
	q[0][1] = 2 * (x * y + z * w);
	q[0][2] = 2 * (x * z - y * w);
	q[1][0] = 2 * (x * y - z * w);
	q[1][1] = 1 - 2 * (x * x + z * z);
	q[1][2] = 2 * (y * z + x * w);
	q[2][0] = 2 * (x * z + y * w);
	q[2][1] = 2 * (y * z - x * w);
	q[2][2] = 1 - 2 * (x * x + y * y);
}

static void quat_mul(double out[4], const double a[4], const double b[4])
{
	out[0] = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
	out[1] = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
	out[2] = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
	out[3] = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
}

static double dot4(const double a[4], const double b[4])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
}

void twin_fibres_frame_bislerp(double out[3][3], const double a[3][3], const double b[3][3],
			       double t)
{
	/* 1, i, j, k: no turn, or a half-turn about the frame's own axis 0, 1, 2 */
	static const double turns[4][4] = {
		{ 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 },
	};
	double qa[4], qb[4], qm[4], c[4], p[4];
	double best, d, theta, wa, wb, n;

	frame_to_quat(qa, a);
	frame_to_quat(qb, b);
	for (int k = 0; k < 4; k++)
		qm[k] = qa[k];
	best = fabs(dot4(qa, qb));
	for (int i = 1; i < 4; i++) {
		quat_mul(c, qa, turns[i]);
		d = fabs(dot4(c, qb));
		if (d > best) {
			best = d;
			for (int k = 0; k < 4; k++)
				qm[k] = c[k];
		}
	}
	/* -q is the same rotation as q: take the one on qb's side */
	if (dot4(qm, qb) < 0)
		for (int k = 0; k < 4; k++)
			qm[k] = -qm[k];
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	d = dot4(qm, qb);
	if (d > 1)
		d = 1;
	theta = acos(d);
	if (theta < 1e-9) {
		wa = 1 - t;
		wb = t;
	} else {
		wa = sin((1 - t) * theta) / sin(theta);
		wb = sin(t * theta) / sin(theta);
	}
	for (int k = 0; k < 4; k++)
		p[k] = wa * qm[k] + wb * qb[k];
	n = sqrt(dot4(p, p));
	for (int k = 0; k < 4; k++)
		p[k] /= n;
	quat_to_frame(out, p);
}
