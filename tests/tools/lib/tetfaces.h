/*
 * tetfaces: the faces of a tetrahedral mesh matched up, for the fibre
 * checks of tests/unit/test_fibres.c and tests/tools/twin-fibrecheck.c: which
 * tets are face neighbours, which faces lie on the boundary, how far a tet's
 * fibre turns from its neighbours'. Test support, not part of libtwin.
 * Includes tetmesh.h only.
 */
#ifndef TWIN_TESTS_TETFACES_H
#define TWIN_TESTS_TETFACES_H

#include <stddef.h>
#include <stdint.h>

#include "tetmesh.h"

/* A tet's face: its three nodes, sorted, and the tet. */
struct twin_tetface {
	uint32_t v[3];
	uint32_t tet;
};

/* Orders faces by their nodes, so that the faces of two tets that share one are next to each other. */
int twin_tetface_cmp(const void *a, const void *b);

/*
 * The four faces of every tet whose region keep() accepts (every tet when
 * keep is NULL), sorted by twin_tetface_cmp; *n of them. malloc'd (free), or
 * NULL on no memory.
 */
struct twin_tetface *twin_tetfaces(const struct twin_tetmesh *m, int (*keep)(int32_t region), size_t *n);

/*
 * The face neighbours among the tets that keep() accepts: nb[4t + k] for
 * k = 0.. are the tets that share a face with tet t, then UINT32_MAX.
 * malloc'd (free), or NULL on no memory.
 */
uint32_t *twin_tetfaces_neighbours(const struct twin_tetmesh *m, int (*keep)(int32_t region));

/*
 * The angle in degrees between the fibre of tet t and the mean axis of its
 * face neighbours' fibres (nb from twin_tetfaces_neighbours; fibres 9
 * doubles a tet, the fibre first), or -1 when t has no neighbour. The mean
 * axis is the main eigenvector of the sum of f f^T, so that a fibre and its
 * opposite count alike.
 */
double twin_tetfaces_neighbour_angle(const uint32_t *nb, const double *fibres, size_t t);

#endif
