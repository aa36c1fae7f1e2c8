#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void twin_err_init(struct twin_err *err)
{
	err->code = TWIN_OK;
	err->msg[0] = '\0';
}

int twin_err_vset(struct twin_err *err, enum twin_code code, const char *fmt, va_list ap)
{
	if (!err || err->code != TWIN_OK)
		return -1;
	err->code = code == TWIN_OK ? TWIN_EFAIL : code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int twin_err_set(struct twin_err *err, enum twin_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	twin_err_vset(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int twin_err_prefix(struct twin_err *err, const char *fmt, ...)
{
	char ctx[TWIN_ERR_MSG_MAX];
	char old[TWIN_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", ctx, old) >= (int)sizeof(err->msg))
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
	if (err->code == TWIN_OK)
		err->code = TWIN_EFAIL;
	return -1;
}

int twin_err_errno(struct twin_err *err, const char *what, const char *path)
{
	int saved = errno;

	return twin_err_set(err, TWIN_EIO, "%s '%s': %s", what, path, strerror(saved));
}

int twin_err_exit_code(const struct twin_err *err)
{
	return err ? (int)err->code : TWIN_OK;
}

const char *twin_err_code_name(enum twin_code code)
{
	switch (code) {
	case TWIN_OK: return "ok";
	case TWIN_EFAIL: return "failed";
	case TWIN_EUSAGE: return "usage";
	case TWIN_EINPUT: return "bad input";
	case TWIN_EUNSUPPORTED: return "unsupported data";
	case TWIN_EDEP: return "dependency failed";
	case TWIN_EIO: return "file error";
	case TWIN_ECONFIG: return "bad setting";
	case TWIN_EPARTIAL: return "partly failed";
	}
	return "unknown";
}
