/*
 * twin-niicmp: compares two NIfTI volumes in world space, also when B is A
 * with its index axes permuted or flipped (as dcm2niix writes them). Prints
 * one line; exits 0 when they agree, 1 when they differ, 2 on usage, and the
 * twin exit code of a read error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nifti.h"

/* B's index axis b runs along A's axis perm[b], backwards when flip[b]. */
struct axis_map {
	int perm[3];
	int flip[3];
};

/*
 * Matches each axis of B to the axis of A it is most parallel to; the match
 * must be within 45 degrees and one-to-one.
 */
static int match_axes(const struct twin_volume *a, const struct twin_volume *b, struct axis_map *m)
{
	double da[3][3], db[3][3];
	int used[3] = { 0, 0, 0 };

	twin_volume_direction(a, da);
	twin_volume_direction(b, db);
	for (int bx = 0; bx < 3; bx++) {
		double best = 0.0, dot = 0.0;
		int ax = -1;

		for (int c = 0; c < 3; c++) {
			double d = da[c][0] * db[bx][0] + da[c][1] * db[bx][1] + da[c][2] * db[bx][2];

			if (fabs(d) > best) {
				best = fabs(d);
				dot = d;
				ax = c;
			}
		}
		if (ax < 0 || best < sqrt(0.5) || used[ax])
			return -1;
		used[ax] = 1;
		m->perm[bx] = ax;
		m->flip[bx] = dot < 0.0;
	}
	return 0;
}

/* The index in B of the voxel at index ia of A. */
static void map_index(const struct axis_map *m, const size_t *adim, const double ia[3], double ib[3])
{
	for (int bx = 0; bx < 3; bx++) {
		int ax = m->perm[bx];

		ib[bx] = m->flip[bx] ? (double)(adim[ax] - 1) - ia[ax] : ia[ax];
	}
}

static double corner_distance(const struct twin_volume *a, const struct twin_volume *b, const struct axis_map *m)
{
	double worst = 0.0;

	for (int c = 0; c < 8; c++) {
		double ia[3], ib[3], wa[3], wb[3], d;

		for (int ax = 0; ax < 3; ax++)
			ia[ax] = c >> ax & 1 ? (double)(a->dim[ax] - 1) : 0.0;
		map_index(m, a->dim, ia, ib);
		twin_volume_index_to_world(a, ia, wa);
		twin_volume_index_to_world(b, ib, wb);
		d = sqrt((wa[0] - wb[0]) * (wa[0] - wb[0]) + (wa[1] - wb[1]) * (wa[1] - wb[1])
			 + (wa[2] - wb[2]) * (wa[2] - wb[2]));
		if (!(d <= worst))
			worst = d;
	}
	return worst;
}

static double value_at(const struct twin_volume *v, size_t n)
{
	switch (v->dtype) {
	case TWIN_U8: return ((const uint8_t *)v->data)[n];
	case TWIN_I16: return ((const int16_t *)v->data)[n];
	case TWIN_F32: return ((const float *)v->data)[n];
	}
	return 0.0;
}

static int same_value(double x, double y, double tol)
{
	if (isnan(x) || isnan(y))
		return isnan(x) && isnan(y);
	return x == y || fabs(x - y) <= tol;
}

static void describe_map(const struct axis_map *m, char *buf, size_t len)
{
	snprintf(buf, len, "%c%c %c%c %c%c", m->flip[0] ? '-' : '+', "ijk"[m->perm[0]],
		 m->flip[1] ? '-' : '+', "ijk"[m->perm[1]], m->flip[2] ? '-' : '+', "ijk"[m->perm[2]]);
}

/* Compares every voxel; prints and returns 1 on the first mismatch found (after counting all). */
static int compare_voxels(const struct twin_volume *a, const struct twin_volume *b, const struct axis_map *m,
			  double tol, double *max_diff)
{
	ptrdiff_t step[3] = { 0, 0, 0 }, base = 0;
	const ptrdiff_t bstride[3] = { 1, (ptrdiff_t)b->dim[0], (ptrdiff_t)(b->dim[0] * b->dim[1]) };
	size_t differ = 0, first_a[3] = { 0, 0, 0 }, n = 0;
	double first_va = 0.0, first_vb = 0.0;

	*max_diff = 0.0;
	/* B's linear index = base + sum over A axes of step[axis] * index. */
	for (int bx = 0; bx < 3; bx++) {
		step[m->perm[bx]] = m->flip[bx] ? -bstride[bx] : bstride[bx];
		if (m->flip[bx])
			base += (ptrdiff_t)(b->dim[bx] - 1) * bstride[bx];
	}
	for (size_t k = 0; k < a->dim[2]; k++)
		for (size_t j = 0; j < a->dim[1]; j++) {
			ptrdiff_t row = base + (ptrdiff_t)k * step[2] + (ptrdiff_t)j * step[1];

			for (size_t i = 0; i < a->dim[0]; i++, n++) {
				double va = value_at(a, n), vb = value_at(b, (size_t)(row + (ptrdiff_t)i * step[0]));

				if (same_value(va, vb, tol))
					continue;
				if (!(fabs(va - vb) <= *max_diff))
					*max_diff = fabs(va - vb);
				if (differ++ == 0) {
					first_a[0] = i;
					first_a[1] = j;
					first_a[2] = k;
					first_va = va;
					first_vb = vb;
				}
			}
		}
	if (differ) {
		double ia[3] = { (double)first_a[0], (double)first_a[1], (double)first_a[2] }, ib[3];

		map_index(m, a->dim, ia, ib);
		printf("differ: voxels: %zu of %zu differ by more than %g (max %g); first at A(%zu,%zu,%zu) = %.9g vs "
		       "B(%.0f,%.0f,%.0f) = %.9g\n",
		       differ, n, tol, *max_diff, first_a[0], first_a[1], first_a[2], first_va, ib[0], ib[1], ib[2],
		       first_vb);
		return 1;
	}
	return 0;
}

static int compare(const struct twin_volume *a, const struct twin_volume *b, double tol_mm, int voxels,
		   double tol_value)
{
	struct axis_map m;
	char map[32];
	double dist, max_diff = 0.0;

	if (match_axes(a, b, &m) != 0) {
		printf("differ: affine: the axes of B do not line up with the axes of A\n");
		return 1;
	}
	describe_map(&m, map, sizeof(map));
	for (int bx = 0; bx < 3; bx++)
		if (b->dim[bx] != a->dim[m.perm[bx]]) {
			printf("differ: dims: A %zux%zux%zu, B %zux%zux%zu (B axes are A %s)\n", a->dim[0], a->dim[1],
			       a->dim[2], b->dim[0], b->dim[1], b->dim[2], map);
			return 1;
		}
	dist = corner_distance(a, b, &m);
	if (!(dist <= tol_mm)) {
		printf("differ: affine: max corner distance %g mm (tolerance %g mm; B axes are A %s)\n", dist, tol_mm,
		       map);
		return 1;
	}
	if (voxels && compare_voxels(a, b, &m, tol_value, &max_diff) != 0)
		return 1;
	printf("same: %zux%zux%zu, B axes are A %s, max corner distance %g mm", a->dim[0], a->dim[1], a->dim[2],
	       map, dist);
	if (voxels)
		printf(", all %zu voxels agree within %g", twin_volume_count(a), tol_value);
	printf("\n");
	return 0;
}

/* Without --frame (frame < 0) a 4-D file is refused. */
static struct twin_volume *load(struct twin_err *err, const char *path, double frame)
{
	return frame < 0.0 ? twin_nifti_load(err, path) : twin_nifti_load_frame(err, path, (size_t)frame);
}

/* A number >= 0 from option name's text s (NULL: keep *out); whole when whole is set. */
static int parse_number(struct twin_err *err, const char *name, const char *s, int whole, double *out)
{
	char *end = NULL;
	double x;

	if (!s)
		return 0;
	x = strtod(s, &end);
	if (!*s || *end || !isfinite(x) || x < 0.0 || (whole && (x != floor(x) || x > 32767.0)))
		return twin_err_set(err, TWIN_EUSAGE, "bad %s '%s': want a %s >= 0", name, s,
				    whole ? "whole number" : "number");
	*out = x;
	return 0;
}

static const char *tol_mm_arg, *tol_value_arg, *frame_arg, *frame_a_arg, *frame_b_arg;
static int voxels;

static const struct twin_cli_option opts[] = {
	{ 0, "tol-mm", "T", "corners may be T mm apart (default 0.001)", &tol_mm_arg, NULL },
	{ 0, "voxels", NULL, "compare every voxel value as well", NULL, &voxels },
	{ 0, "tol-value", "V", "voxel values may differ by V (default 0)", &tol_value_arg, NULL },
	{ 0, "frame-a", "N", "read frame N (from 0) of A, a 4-D file; a 3-D file has frame 0", &frame_a_arg, NULL },
	{ 0, "frame-b", "N", "the same for B", &frame_b_arg, NULL },
	{ 0, "frame", "N", "the same for both (--frame-a and --frame-b win)", &frame_arg, NULL },
};

static const struct twin_cli_spec spec = {
	"twin-niicmp", "A.nii[.gz] B.nii[.gz]", 2, 2,
	"compares two NIfTI-1 volumes in world space; B may be A with its axes permuted or flipped.\n"
	"Exit 0 when equal, 1 when different, 2 on usage, 3 or more when a file cannot be read.",
	opts, sizeof(opts) / sizeof(opts[0]),
};

int main(int argc, char **argv)
{
	struct twin_volume *a = NULL, *b = NULL;
	struct twin_err err;
	struct twin_cli cli;
	double tol_mm = 1e-3, tol_value = 0.0, frame[2] = { -1.0, -1.0 };
	int rc = 0;

	twin_err_init(&err);
	if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0 ||
	    parse_number(&err, "tolerance", tol_mm_arg, 0, &tol_mm) != 0 ||
	    parse_number(&err, "tolerance", tol_value_arg, 0, &tol_value) != 0 ||
	    parse_number(&err, "frame", frame_arg, 1, &frame[0]) != 0 ||
	    parse_number(&err, "frame", frame_arg, 1, &frame[1]) != 0 ||
	    parse_number(&err, "frame", frame_a_arg, 1, &frame[0]) != 0 ||
	    parse_number(&err, "frame", frame_b_arg, 1, &frame[1]) != 0) {
		rc = twin_cli_error(&cli, &err);
		goto done;
	}
	if (cli.done)
		goto done;
	a = load(&err, cli.args[0], frame[0]);
	if (a)
		b = load(&err, cli.args[1], frame[1]);
	if (!a || !b) {
		rc = twin_cli_error(&cli, &err);
		goto done;
	}
	rc = compare(a, b, tol_mm, voxels, tol_value);
done:
	twin_volume_free(a);
	twin_volume_free(b);
	twin_cli_release(&cli);
	return rc;
}
