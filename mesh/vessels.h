/*
 * vessels: where the vessels of a label map end, and planar cuts across
 * them there, perpendicular to their centreline: the pulmonary veins of the
 * LA, the venae cavae of the RA, the aorta and the pulmonary artery.
 * Owns nothing. Includes err.h and volume.h only.
 */
#ifndef TWIN_MESH_VESSELS_H
#define TWIN_MESH_VESSELS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "volume.h"

#define TWIN_VESSELS_CUT0 200    /* a voxel cut off by cut k holds CUT0 + k */
#define TWIN_VESSELS_MAX_CUTS 54 /* so that those values stay below 255 */

/*
 * A cut: the voxels of label on the side of the plane through point that
 * normal points to were cut off. In the voxel index space of the label map;
 * normal has unit length there and is the direction of the centreline in
 * world space (A^T n for a world normal n, scaled).
 */
struct twin_vessel_cut {
	uint8_t label;
	double point[3];
	double normal[3];
};

/*
 * Cuts the vessels of the meshed labels (bit id of meshed) in v, a U8 label
 * map. A vessel is a branch of the aorta or pulmonary artery beyond its
 * valve, or a tube that leaves the LA or RA (what an opening by a ball of
 * about 0.6 times the chamber's largest inscribed radius takes away, not
 * at a valve). Each is cut by a plane perpendicular to its centreline, about
 * one radius before its end (so that a vessel that leaves the image is cut
 * inside it) or vessel_length mm (> 0) from its valve or chamber, whichever
 * comes first. A vessel shorter than about two radii is not cut. The voxels
 * cut off hold TWIN_VESSELS_CUT0 + k for cuts[k]; *ncuts is set. Fails only
 * for want of memory (TWIN_EFAIL, naming name).
 */
int twin_vessels_cut(struct twin_err *err, struct twin_volume *v, unsigned meshed, double vessel_length,
		     struct twin_vessel_cut cuts[TWIN_VESSELS_MAX_CUTS], size_t *ncuts, const char *name);

#endif
