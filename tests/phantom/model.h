/*
 * model: twin-phantom's anatomy at one phase of the cardiac cycle, as a
 * function from an LPS point to a tissue, and the tissues' labels and
 * intensities. Shared by anatomy.c (the model) and render.c (the grids).
 * Owns nothing. Includes shapes.h and anatomy.h only.
 */
#ifndef TWIN_PHANTOM_MODEL_H
#define TWIN_PHANTOM_MODEL_H

#include "anatomy.h"
#include "shapes.h"

enum twin_tissue {
	TWIN_T_AIR = 0,   /* outside the body, and the airways */
	TWIN_T_LUNG,
	TWIN_T_LUNG_VESSEL,
	TWIN_T_FAT,
	TWIN_T_SKIN,
	TWIN_T_MUSCLE,
	TWIN_T_SOFT,      /* walls of the vessels and of the other chambers, discs, oesophagus */
	TWIN_T_LIVER,
	TWIN_T_ABDOMEN,
	TWIN_T_CSF,
	TWIN_T_CARTILAGE,
	TWIN_T_CORTICAL,
	TWIN_T_CANCELLOUS,
	TWIN_T_MYO,       /* label 1, LV wall */
	TWIN_T_LA,        /* labels 2..7: blood */
	TWIN_T_LV,
	TWIN_T_RA,
	TWIN_T_RV,
	TWIN_T_AO,
	TWIN_T_PA,
	TWIN_T_COUNT
};

#define TWIN_LUNG_VESSELS 16

/* The heart and thorax at one phase; built by twin_anatomy_build, no allocation. */
struct twin_anatomy {
	double phase;
	/* LV: a prolate ellipsoid cut by the base plane; the wall ends in a cap */
	struct twin_v3 base, up;   /* centre of the base plane, its normal toward the atria */
	struct twin_ellipsoid cav, epi;
	double cap;                /* cap thickness above the base plane, mm */
	struct twin_v3 mitral, aortic; /* valve centres in the base plane */
	struct twin_ellipsoid la, rv, ra;
	struct twin_v3 rv_side;         /* unit, from the aortic toward the mitral valve: away from the RV */
	struct twin_tube la_neck, pv[4];
	struct twin_tube aorta;
	struct twin_tube pa, lpa, rpa;  /* pa runs from inside the RV through the valve */
	struct twin_v3 pulm, pulm_n;    /* pulmonary valve plane */
	struct twin_tube svc, ivc, tri;
	struct twin_v3 tric, tric_n;    /* tricuspid valve plane */
	struct twin_box heart;          /* every heart structure, grown by TWIN_FAR */
	struct twin_tube trachea, bronchus[2], vessel[TWIN_LUNG_VESSELS];
	/* optional cull grid of TWIN_CULL_MM cells: 1 where the heart may matter */
	unsigned char *near;
	struct twin_v3 near_lo;
	int near_n[3];
};

#define TWIN_CULL_MM 4.0

/* Builds the anatomy at phase (wrapped into [0, 1)) into a new or released struct. */
void twin_anatomy_build(struct twin_anatomy *a, double phase);
/*
 * Fills a's cull grid over region (LPS box), so that points there skip the
 * heart's fields where they cannot matter; twin_anatomy_release frees it.
 * Without one every point evaluates them. -1 when out of memory.
 */
int twin_anatomy_cull(struct twin_anatomy *a, const struct twin_box *region);
void twin_anatomy_release(struct twin_anatomy *a);
/* The tissue at LPS point p. */
enum twin_tissue twin_anatomy_tissue(const struct twin_anatomy *a, struct twin_v3 p);
/* The label id of a tissue (ARCHITECTURE.md), 0 for the unlabelled ones. */
int twin_tissue_label(enum twin_tissue t);
/* Intensity of tissue t at p before blur and noise: HU for CT, units for MR. */
double twin_tissue_value(enum twin_tissue t, enum twin_phantom_modality m, struct twin_v3 p);

/* LV cavity volume in mL of the analytic shape, for checks against the voxels. */
double twin_anatomy_lv_ml(const struct twin_anatomy *a);

#endif
