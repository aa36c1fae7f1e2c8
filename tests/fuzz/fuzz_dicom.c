/*
 * Fuzz target for twin-ingest's DICOM scan and pixel decoding: any bytes must
 * give frame records or an error, and every frame that claims pixels must
 * decode or fail with an error, never crash or leak. The shim reads files,
 * so the input goes through a temporary file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../ingest/dcmtk.h"
#include "files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frames larger than this are scanned but not decoded, to bound memory. */
#define MAX_PIXELS (4096u * 4096u)

static void decode(const char *path, const struct twin_frame *f)
{
	struct twin_err err;
	size_t count = (size_t)f->rows * f->cols;
	int32_t *out;

	if (!f->has_pixels || count == 0 || count > MAX_PIXELS)
		return;
	out = malloc(count * sizeof(*out));
	if (!out)
		return;
	twin_err_init(&err);
	if (twin_dcm_read_pixels(&err, path, f->frame, out, count) != 0 && !err.msg[0])
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = getenv("TMPDIR");
	struct twin_frame *frames = NULL;
	struct twin_err err;
	char path[4096];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/twin-fuzz-dicom-%ld.dcm", dir && *dir ? dir : "/tmp", (long)getpid());
	twin_err_init(&err);
	if (twin_file_write(&err, path, data, size) != 0)
		abort();
	twin_err_init(&err);
	if (twin_dcm_scan(&err, path, &frames, &n) != 0) {
		if (!err.msg[0] || frames)
			abort();
	} else {
		for (size_t i = 0; i < n && i < 64; i++)
			decode(path, &frames[i]);
	}
	twin_dcm_frames_free(frames, n);
	unlink(path);
	return 0;
}
