/*
 * fibres_laplace: Laplace problems on a linear tetrahedral mesh, with
 * Dirichlet values on a set of nodes: the stiffness matrix of P1 finite
 * elements assembled once, solved by CHOLMOD (SuiteSparse) after the fixed
 * rows and columns are eliminated. Owns the matrix and the CHOLMOD state.
 * Includes err.h only.
 */
#ifndef TWIN_FIBRES_LAPLACE_H
#define TWIN_FIBRES_LAPLACE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct twin_fibres_laplace;

/*
 * Assembles the stiffness matrix of n_tets tetrahedra (4 node indices each,
 * below n_nodes) at xyz (3 per node). Every node should belong to some
 * tetrahedron. Returns an owned pointer (twin_fibres_laplace_free) or NULL:
 * TWIN_EINPUT for a degenerate tetrahedron, TWIN_EDEP when CHOLMOD fails.
 */
struct twin_fibres_laplace *twin_fibres_laplace_new(struct twin_err *err, size_t n_nodes,
						    const double *xyz, size_t n_tets,
						    const uint32_t *tets);
void twin_fibres_laplace_free(struct twin_fibres_laplace *lp);

/*
 * Solves n_rhs problems that share one set of fixed nodes (fixed[i] != 0) in
 * one factorisation: u[r * n_nodes + i] holds problem r's value at a fixed
 * node i on entry and the solution everywhere on return. Fails (TWIN_EINPUT)
 * when no node is fixed or a part of the mesh touches no fixed node.
 */
int twin_fibres_laplace_solve(struct twin_err *err, struct twin_fibres_laplace *lp,
			      const unsigned char *fixed, size_t n_rhs, double *u);

/*
 * The gradients of tet's four barycentric coordinates (those of the linear
 * functions that are 1 at one node and 0 at the others); returns the
 * tetrahedron's volume, 0 (and zero gradients) when it is flat.
 */
double twin_fibres_laplace_shape(double g[4][3], const double *xyz, const uint32_t tet[4]);

/*
 * The gradient of the linear function with values u[i] at node i, inside
 * tetrahedron (a, b, c, d) = tet[0..3]; g is zero for a flat tetrahedron.
 */
void twin_fibres_laplace_gradient(double g[3], const double *xyz, const uint32_t tet[4],
				  const double *u);

#endif
