#include "commit.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

void twin_commit_init(struct twin_commit *c)
{
	memset(c, 0, sizeof(*c));
}

int twin_commit_open(struct twin_err *err, struct twin_commit *c, const char *dir)
{
	size_t len = strlen(dir) + sizeof("/.commit.XXXXXX");

	c->dir = strdup(dir);
	c->stage = malloc(len);
	if (!c->dir || !c->stage) {
		free(c->stage);
		c->stage = NULL;
		return twin_err_set(err, TWIN_EFAIL, "'%s': out of memory", dir);
	}
	snprintf(c->stage, len, "%s/.commit.XXXXXX", dir);
	if (!mkdtemp(c->stage)) {
		twin_err_errno(err, "cannot create a folder in", dir);
		free(c->stage);
		c->stage = NULL;
		return -1;
	}
	return 0;
}

static struct twin_commit_file *add(struct twin_err *err, struct twin_commit *c, const char *name, int write)
{
	struct twin_commit_file *a, *f;
	char old[512];

	if (!c->stage) {
		twin_err_set(err, TWIN_EFAIL, "'%s': no folder to write into", name);
		return NULL;
	}
	if (!*name || strchr(name, '/') || strlen(name) > sizeof(old) - 5) {
		twin_err_set(err, TWIN_EFAIL, "'%s': not a plain file name", name);
		return NULL;
	}
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->files[i].name, name) == 0) {
			twin_err_set(err, TWIN_EFAIL, "'%s': named twice", name);
			return NULL;
		}
	a = realloc(c->files, (c->n + 1) * sizeof(*a));
	if (!a) {
		twin_err_set(err, TWIN_EFAIL, "'%s': out of memory", name);
		return NULL;
	}
	c->files = a;
	f = &a[c->n];
	memset(f, 0, sizeof(*f));
	snprintf(old, sizeof(old), "old.%s", name);
	f->name = strdup(name);
	f->staged = twin_path_join(c->stage, name);
	f->final = twin_path_join(c->dir, name);
	f->old = twin_path_join(c->stage, old);
	f->write = write;
	c->n++;
	if (!f->name || !f->staged || !f->final || !f->old) {
		twin_err_set(err, TWIN_EFAIL, "'%s': out of memory", name);
		return NULL;
	}
	return f;
}

const char *twin_commit_file(struct twin_err *err, struct twin_commit *c, const char *name)
{
	struct twin_commit_file *f = add(err, c, name, 1);

	return f ? f->staged : NULL;
}

int twin_commit_drop(struct twin_err *err, struct twin_commit *c, const char *name)
{
	return add(err, c, name, 0) ? 0 : -1;
}

/* Puts one file back as it was before apply. */
static void restore(struct twin_commit_file *f)
{
	if (f->had_old)
		rename(f->old, f->final);
	else if (f->placed && f->write)
		unlink(f->final);
	f->had_old = f->placed = 0;
}

void twin_commit_undo(struct twin_commit *c)
{
	for (size_t i = c->n; i-- > 0;)
		restore(&c->files[i]);
	c->applied = 0;
}

/* Keeps the earlier final at old: a second link when it stays, the file itself when it goes. */
static int keep_old(struct twin_err *err, struct twin_commit_file *f)
{
	struct stat st;

	if (lstat(f->final, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return twin_err_errno(err, "cannot replace", f->final);
	}
	if (S_ISDIR(st.st_mode))
		return twin_err_set(err, TWIN_EIO, "cannot replace '%s': a folder is in the way", f->final);
	if (f->write && link(f->final, f->old) == 0) {
		f->had_old = 1;
		return 0;
	}
	if (rename(f->final, f->old) != 0)
		return twin_err_errno(err, "cannot move aside", f->final);
	f->had_old = 1;
	return 0;
}

int twin_commit_apply(struct twin_err *err, struct twin_commit *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct twin_commit_file *f = &c->files[i];

		if (keep_old(err, f) != 0)
			goto fail;
		if (!f->write) {
			f->placed = 1;
			continue;
		}
		if (rename(f->staged, f->final) != 0) {
			twin_err_errno(err, "cannot rename into", f->final);
			goto fail;
		}
		f->placed = 1;
	}
	c->applied = 1;
	return 0;
fail:
	twin_commit_undo(c);
	return -1;
}

void twin_commit_release(struct twin_commit *c)
{
	DIR *d = c->stage ? opendir(c->stage) : NULL;
	struct dirent *e;

	/* the folder is private: whatever is in it goes */
	while (d && (e = readdir(d))) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = twin_path_join(c->stage, e->d_name);
		if (p)
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	if (c->stage)
		rmdir(c->stage);
	for (size_t i = 0; i < c->n; i++) {
		free(c->files[i].name);
		free(c->files[i].staged);
		free(c->files[i].final);
		free(c->files[i].old);
	}
	free(c->files);
	free(c->stage);
	free(c->dir);
	twin_commit_init(c);
}
