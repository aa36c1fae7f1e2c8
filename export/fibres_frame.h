/*
 * fibres_frame: the rotation algebra of the LDRB rule (Bayer et al. 2012):
 * a local frame from two gradients, its rotation by the helix and sheet
 * angles, and bislerp, the quaternion blend of two frames. Pure functions on
 * 3x3 frames; owns nothing. Includes nothing from dcm2twin.
 */
#ifndef TWIN_FIBRES_FRAME_H
#define TWIN_FIBRES_FRAME_H

/*
 * A frame is three orthonormal vectors q[0], q[1], q[2] (right handed): the
 * columns of the paper's rotation matrix Q. After twin_fibres_frame_orient
 * they are fibre, sheet and sheet normal.
 */

/*
 * The local frame: q[2] = tm / |tm| (transmural), q[1] = ab made orthogonal
 * to q[2] and normalised (apex to base, tangent to the wall), q[0] = q[1] x
 * q[2] (circumferential). The paper's axis() keeps ab exact and bends tm
 * instead; near the apex, where grad psi_ab is not tangent to the wall, that
 * tilts fibres out of the wall, so here the transmural direction is exact.
 * A zero tm, or ab zero or parallel to tm, is replaced by some orthogonal
 * direction, so the result is always a frame.
 */
void twin_fibres_frame_axis(double q[3][3], const double ab[3], const double tm[3]);

/*
 * The paper's orient(): out = q Rz(alpha) Rx(beta), angles in radians:
 * the fibre q[0] cos(alpha) + q[1] sin(alpha) turns towards apex-base by the
 * helix angle alpha, then the sheet turns about the fibre by beta.
 * out may not alias q.
 */
void twin_fibres_frame_orient(double out[3][3], const double q[3][3], double alpha, double beta);

/*
 * The paper's bislerp(): the frame t of the way (clamped to 0..1) from a to
 * b along the shortest rotation, after turning a by the half-turn about one
 * of its own axes (or none) that brings it closest to b, since a fibre and a
 * sheet are axes without a sign. t = 0 gives a up to those half-turns,
 * t = 1 gives b. out may alias a or b.
 */
void twin_fibres_frame_bislerp(double out[3][3], const double a[3][3], const double b[3][3],
			       double t);

#endif
