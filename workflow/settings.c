#include "settings.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct printer {
	FILE *f;
	char section[64]; /* of the key printed last */
};

/* twin_conf_foreach callback: "[section]" when it changes, then the key. */
static int print_key(void *ctx, const char *key, const char *value, const char *origin)
{
	struct printer *p = ctx;
	const char *dot = strchr(key, '.');
	size_t sn = dot ? (size_t)(dot - key) : 0, n = strlen(value);
	/* as conf.c writes it: quoted when it would not read back as it is */
	int quote = n && (isspace((unsigned char)value[0]) || isspace((unsigned char)value[n - 1]) ||
			  strpbrk(value, "#;\""));

	if (sn >= sizeof(p->section))
		sn = sizeof(p->section) - 1;
	if (strlen(p->section) != sn || strncmp(p->section, key, sn) != 0) {
		fprintf(p->f, "%s[%.*s]\n", p->section[0] ? "\n" : "", (int)sn, key);
		memcpy(p->section, key, sn);
		p->section[sn] = '\0';
	}
	fprintf(p->f, "%s = %s%s%s  # %s\n", dot ? dot + 1 : key, quote ? "\"" : "", value,
		quote ? "\"" : "", origin);
	return 0;
}

void twin_settings_print(FILE *f, const struct twin_conf *conf)
{
	struct printer p;

	memset(&p, 0, sizeof(p));
	p.f = f;
	fprintf(f, "# the effective settings of dcm2twin; after each value, where it came from\n");
	twin_conf_foreach(conf, NULL, print_key, &p);
}

struct passer {
	struct twin_err *err;
	struct twin_stage_args *args;
};

/* twin_conf_foreach callback: "--set key=value" for a key given with --set. */
static int pass_set(void *ctx, const char *key, const char *value, const char *origin)
{
	struct passer *p = ctx;
	size_t n = strlen(key) + strlen(value) + 2;
	char *arg;
	int rc;

	if (strcmp(origin, "--set") != 0)
		return 0;
	arg = malloc(n);
	if (!arg)
		return twin_err_set(p->err, TWIN_EFAIL, "arguments: out of memory");
	snprintf(arg, n, "%s=%s", key, value);
	rc = twin_stage_args_add(p->err, p->args, "--set");
	if (rc == 0)
		rc = twin_stage_args_add(p->err, p->args, arg);
	free(arg);
	return rc;
}

int twin_settings_args(struct twin_err *err, struct twin_stage_args *args,
		       const struct twin_conf *conf, const char *config)
{
	struct passer p = { err, args };

	if (config && (twin_stage_args_add(err, args, "-c") != 0 ||
		       twin_stage_args_add(err, args, config) != 0))
		return -1;
	return twin_conf_foreach(conf, NULL, pass_set, &p) ? -1 : 0;
}
