#include "stages.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"

extern char **environ;

static const struct twin_stage stages[] = {
	{ "ingest", "twin-ingest", { "ingest", NULL, NULL }, NULL, "ingest/image.nii.gz", 1 },
	{ "segment", "twin-segment", { "segment", NULL, NULL }, "ingest/image.nii.gz",
	  "segment/labels.nii.gz", 0 },
	{ "mesh", "twin-mesh", { "mesh", NULL, NULL }, "segment/labels.nii.gz", "mesh/heart.msh", 0 },
	{ "export", "twin-export", { "export", "fibres", NULL }, "mesh/heart.msh", NULL, 0 },
};

const struct twin_stage *twin_stages(size_t *n)
{
	*n = sizeof(stages) / sizeof(stages[0]);
	return stages;
}

int twin_stage_find(const char *name)
{
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		if (strcmp(stages[i].name, name) == 0)
			return (int)i;
	return -1;
}

void twin_stage_args_init(struct twin_stage_args *a)
{
	memset(a, 0, sizeof(*a));
}

int twin_stage_args_add(struct twin_err *err, struct twin_stage_args *a, const char *s)
{
	char *copy;

	/* one slot more for the NULL at the end */
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		char **v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return twin_err_set(err, TWIN_EFAIL, "arguments: out of memory");
		a->v = v;
		a->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return twin_err_set(err, TWIN_EFAIL, "arguments: out of memory");
	a->v[a->n++] = copy;
	a->v[a->n] = NULL;
	return 0;
}

void twin_stage_args_release(struct twin_stage_args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	twin_stage_args_init(a);
}

char *twin_stage_path(const char *prog)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash, *path;

	if (len > 0) {
		self[len] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			path = twin_path_join(*self ? self : "/", prog);
			if (!path || access(path, X_OK) == 0)
				return path;
			free(path);
		}
	}
	return strdup(prog);
}

int twin_stage_run(struct twin_err *err, const char *path, const struct twin_stage_args *args,
		   int *status)
{
	pid_t pid;
	int rc, ws;

	/* what we wrote so far comes before what the child writes */
	fflush(NULL);
	rc = posix_spawnp(&pid, path, NULL, NULL, args->v, environ);
	if (rc != 0)
		return twin_err_set(err, TWIN_EDEP, "cannot run '%s': %s", path, strerror(rc));
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return twin_err_set(err, TWIN_EFAIL, "waiting for '%s': %s", path, strerror(errno));
	}
	if (WIFSIGNALED(ws))
		return twin_err_set(err, TWIN_EFAIL, "%s was killed by signal %d (%s)", args->v[0],
				    WTERMSIG(ws), strsignal(WTERMSIG(ws)));
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : TWIN_EFAIL;
	/* where exec's failure cannot reach us (valgrind), the child exits 127 as a shell's would */
	if (*status == 127)
		return twin_err_set(err, TWIN_EDEP, "cannot run '%s': exit code 127 (not found, or could not start)",
				    path);
	return 0;
}
