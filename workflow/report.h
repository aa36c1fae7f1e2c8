/*
 * report: CASE/report.html, the static page a technician opens before a case
 * goes on. It shows the series used (anonymised), the QC overlays and the
 * structure volumes, a picture of the mesh, the mesh-quality table, what each
 * export folder holds, and every warning and failure the manifest records.
 * Its pictures live in CASE/report/; every link is relative, so the folder
 * can be copied or zipped as it is. Includes err.h only.
 */
#ifndef TWIN_REPORT_H
#define TWIN_REPORT_H

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Writes CASE/report.html, and the mesh pictures it shows into CASE/report/,
 * from whatever the case folder holds now: a stage that has not run, or
 * failed, is shown as such, never silently left out. Files are written to a
 * temporary name and renamed. Returns 0, or -1 with err set (TWIN_EIO,
 * TWIN_EINPUT naming a manifest, XML or mesh file that is not valid).
 */
int twin_report_write(struct twin_err *err, const char *case_dir);

#ifdef __cplusplus
}
#endif

#endif
