/*
 * fibres: rule-based myocardial fibre, sheet and sheet-normal directions per
 * tetrahedron (LDRB: Bayer, Blake, Plank, Trayanova 2012, Ann Biomed Eng
 * 40(10)) on the myocardium of a tet mesh. Owns what it returns.
 * Includes common headers and nothing from other stages.
 */
#ifndef TWIN_FIBRES_H
#define TWIN_FIBRES_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "tetmesh.h"

/* The myocardium: the LV wall and, when the mesher grows one, the RV wall. */
#define TWIN_FIBRES_LV_WALL 1
#define TWIN_FIBRES_RV_WALL 8

/* Helix (alpha) and sheet (beta) angles in degrees, as in pipeline.conf. */
struct twin_fibres_opts {
	double alpha_endo, alpha_epi;
	double beta_endo, beta_epi;
	int paper_blend; /* 1: the paper's literal composition, see below; for comparison */
};

/* The defaults of pipeline.conf: 60, -60, -65, 25; paper_blend 0. Allocates nothing. */
void twin_fibres_opts_init(struct twin_fibres_opts *opts);
/* The keys fibres.alpha_endo, fibres.alpha_epi, fibres.beta_endo, fibres.beta_epi. */
void twin_fibres_opts_conf(struct twin_fibres_opts *opts, const struct twin_conf *conf);

/* What a computation found, for tests, benchmarks and reports. */
struct twin_fibres_info {
	size_t n_tets;          /* myocardium tetrahedra */
	size_t n_nodes;         /* their nodes */
	int biventricular;      /* 1 when 'endocardium_rv' bounds the myocardium */
	uint32_t apex;          /* mesh node of the apex */
	double seconds_assemble, seconds_solve, seconds_frames;
	/*
	 * The Laplace solutions, 4 doubles per mesh node: phi_epi, phi_lv,
	 * phi_rv (0 when not biventricular), psi_ab; NaN off the myocardium.
	 * Owned: twin_fibres_info_release.
	 */
	double *fields;
};

void twin_fibres_info_release(struct twin_fibres_info *info);

/*
 * The fibre frames of mesh's myocardium (regions TWIN_FIBRES_LV_WALL and
 * TWIN_FIBRES_RV_WALL). *fibres gets a malloc'd array (free) of 9 doubles
 * per tetrahedron in mesh order: fibre, sheet, sheet normal, each a unit
 * vector (x, y, z), orthonormal, right handed; zeros outside the myocardium.
 * Fibres and sheets are axes: their sign means nothing.
 *
 * Boundary conditions come from the surface names of common/surfaces.h:
 * 'epicardium', 'endocardium_lv', 'endocardium_rv' (optional: without it
 * the fibres are LV only), and the base: the myocardium nodes of every valve
 * surface and of 'endocardium_la', 'endocardium_ra', 'endocardium_ao',
 * 'endocardium_pa' (where the wall meets an atrium or a great vessel). The
 * apex is the epicardial node farthest from the least-squares plane of the
 * base nodes; when several are as far within 0.1 % (a flat apex), the one
 * nearest the plane's normal through the base centroid.
 *
 * Laplace problems (linear elements, CHOLMOD): phi_epi (1 on the epicardium,
 * 0 on both endocardia), phi_lv and phi_rv (1 on their endocardium, 0 on the
 * other boundaries), psi_ab (0 on the apex's ball, the wall nodes within a
 * tenth of the apex's height above the base plane, and 1 on the base).
 *
 * Gradients are recovered at the nodes: a node's is the volume-weighted
 * mean of the element gradients around it, and a tetrahedron's the mean of
 * its four nodes'. An element gradient is constant per tet and jumps from
 * tet to tet (by tens of degrees on a mesh of a voxel map, unboundedly on a
 * sliver), and it is zero in a tet whose four nodes lie on one boundary;
 * the recovered one is continuous. Where the transmural fields (or psi_ab)
 * have no gradient at a node, because every tet around it lies on one
 * boundary, the node takes the mean of its nearest neighbours' that have.
 * Where grad psi_ab nearly vanishes (a plateau of the field, as in a pocket
 * of the RV wall) it turns quickly, and the fibres with it; a tet's is
 * steered to the long axis (apex to the base nodes' centroid) there: it
 * becomes the main axis of g g^T + f^2 a a^T, f a twentieth of the root mean
 * square of grad psi_ab over the nodes, a the long axis.
 *
 * Per tetrahedron, from the centroid values and the recovered gradients,
 * with the paper's axis, orient and bislerp (export/fibres_frame.h; its
 * axis keeps the transmural direction exact rather than the apex-base one):
 *   d = phi_rv |grad phi_rv| / (phi_lv |grad phi_lv| + phi_rv |grad phi_rv|)
 *   Q_lv  = orient(axis(grad psi_ab, -grad phi_lv), alpha_s(d), beta_s(d))
 *   Q_rv  = orient(axis(grad psi_ab,  grad phi_rv), alpha_s(d), beta_s(d))
 *   Q_epi = orient(axis(grad psi_ab,  grad phi_epi), alpha_w(phi_epi), beta_w(phi_epi))
 *   frame = bislerp(bislerp(Q_lv, Q_rv, d), Q_epi, phi_epi)
 * with alpha_s(d) = alpha_endo (1 - 2d), alpha_w(e) = alpha_endo (1 - e) +
 * alpha_epi e, and beta likewise.
 *
 * One change to the paper, unless opts->paper_blend: Q_lv and Q_rv also
 * carry the wall's transmural law, their angles being alpha_s(d) +
 * (alpha_w(phi_epi) - alpha_endo) and alpha_s(d) - (alpha_w(phi_epi) -
 * alpha_endo) (beta likewise; the RV frame's transmural axis points inwards,
 * which negates angles). In a free wall Q_lv then equals Q_epi and the last
 * bislerp blends only their axes; in the septum, where phi_epi is near 0,
 * nothing changes. Literally, the paper blends Q_lv at alpha_endo with Q_epi
 * at alpha_w(phi_epi) by phi_epi: once the two differ by more than 90
 * degrees (phi_epi > 0.75 for +-60) bislerp's half-turn search takes the
 * other way round and the helix angle jumps by 45 degrees; and where
 * beta_endo != beta_epi the blend tilts fibres out of the wall's tangent
 * plane (tests/unit/test_fibres.c measures both).
 *
 * And one more: the paper's d is phi_rv / (phi_lv + phi_rv). Weighted by
 * the gradients it is the same in the septum, where both fields fall across
 * the wall, but 0 in the LV free wall, where phi_rv is small and nearly
 * flat (phi_rv = 1 - phi_epi - phi_lv, its gradient their mismatch): Q_rv's
 * transmural axis, that mismatch's direction, no longer tilts the fibre out
 * of the wall (by 2.1 degrees at phi_rv 0.07 on an HXT mesh of the phantom),
 * and the RV free wall likewise.
 *
 * info may be NULL; when given it is filled (release it after a success).
 * Errors: TWIN_EINPUT when the mesh has no myocardium, lacks a surface the
 * rule needs, or has a part of the wall no boundary reaches; TWIN_EDEP when
 * CHOLMOD fails.
 */
int twin_fibres_compute(struct twin_err *err, const struct twin_tetmesh *mesh,
			const struct twin_fibres_opts *opts, double **fibres,
			struct twin_fibres_info *info);

#endif
