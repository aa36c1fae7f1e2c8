/*
 * surfaces: the names of a heart mesh's tagged surfaces, from the pair of
 * labels they separate. One naming rule, shared by twin-mesh (which tags) and
 * twin-export (which writes them for solvers). Includes labels.h only.
 */
#ifndef TWIN_SURFACES_H
#define TWIN_SURFACES_H

#include <stddef.h>

#include "labels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest name twin_surface_name writes, with its NUL. */
#define TWIN_SURFACE_NAME_MAX 64

enum twin_surface_kind {
	TWIN_SURFACE_VALVE = 1,     /* mitral_valve, aortic_valve, pulmonary_valve, tricuspid_valve */
	TWIN_SURFACE_ENDOCARDIUM,   /* myocardium | blood:       endocardium_lv, endocardium_rv, ... */
	TWIN_SURFACE_EPICARDIUM,    /* myocardium | background:  epicardium */
	TWIN_SURFACE_WALL,          /* blood | background:       wall_la, wall_ao, ... */
	TWIN_SURFACE_INTERFACE,     /* any other pair:           interface_la_ao */
	TWIN_SURFACE_INLET,         /* a planar cap where blood enters: inlet_la_1 (pulmonary veins), inlet_ra_1 */
	TWIN_SURFACE_OUTLET         /* a planar cap where blood leaves: outlet_ao_1, outlet_pa_2 */
};

/*
 * The kind and name of the interface between labels a and b (0 is the
 * background; the order of a and b does not matter). Short names are the
 * lower-cased short names of labels.h: "lv", "lv_myo", "ao", ...
 * Returns the kind, or -1 when a == b or either id is not in the table.
 */
int twin_surface_interface(char name[TWIN_SURFACE_NAME_MAX], long a, long b);

/*
 * The kind and name of the n-th (1-based) planar cap that cuts the vessel or
 * chamber of label id where it leaves the image: blood enters through the
 * atria's caps (inlet_la_n, inlet_ra_n) and leaves through the others
 * (outlet_ao_n, outlet_pa_n). Returns the kind, or -1 for a label that is
 * not blood.
 */
int twin_surface_cap(char name[TWIN_SURFACE_NAME_MAX], long id, unsigned n);

/* The kind that a name written by the two functions above has, or -1. */
int twin_surface_kind_of(const char *name);

#ifdef __cplusplus
}
#endif

#endif
