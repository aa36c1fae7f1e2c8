/*
 * series_xml: CASE/ingest/series.xml, the technical record of what
 * twin-ingest read and wrote, validated against ingest/series.xsd. UIDs are
 * hashed and no patient data is written unless keep_phi is set. Owns
 * nothing it does not return. Includes group.h, geometry.h, volume.h,
 * dcmtk.h (for struct twin_dcm_phi), err.h and libxml2 only.
 */
#ifndef TWIN_INGEST_SERIES_XML_H
#define TWIN_INGEST_SERIES_XML_H

#include <stddef.h>

#include <libxml/tree.h>

#include "dcmtk.h"
#include "err.h"
#include "geometry.h"
#include "group.h"
#include "volume.h"

/* The schema, compiled in from ingest/series.xsd. */
extern const char twin_series_xsd[];

/* One volume written. Everything is borrowed. */
struct twin_series_volume {
	const char *file;              /* its name inside CASE/ingest */
	size_t phase;                  /* index into the series' phases */
	size_t slices_read;            /* frames that went into it */
	const struct twin_geometry *g;
	enum twin_dtype dtype;
};

/* What series.xml records. Everything is borrowed. */
struct twin_series_info {
	const char *version;           /* of twin-ingest */
	size_t files, unreadable_files, frames, n_series;
	const struct twin_series *s;   /* the series converted */
	const struct twin_series_volume *volumes;
	size_t n_volumes;
	const char *const *notes;      /* extra lines, e.g. files left out */
	size_t n_notes;
	int keep_phi;                  /* add the raw UIDs and the description */
	const struct twin_dcm_phi *phi; /* with keep_phi: the patient fields too, or NULL */
};

/* The document; owned by the caller (xmlFreeDoc), or NULL. */
xmlDoc *twin_series_xml_build(struct twin_err *err, const struct twin_series_info *info);

/* Builds, validates and writes path atomically. */
int twin_series_xml_save(struct twin_err *err, const char *path, const struct twin_series_info *info);

#endif
