/* Unit tests: scratch directories under /tmp, made per test and removed
 * with everything in them. Static, so each test file gets its own copy. */
#ifndef MAGOS_TEST_TMPDIR_H
#define MAGOS_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Remove dir and everything below it (symlinks are removed, not followed). */
__attribute__((unused)) static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat sb;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			rm_rf(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* A fresh directory /tmp/<prefix>-XXXXXX (caller frees with tmpdir_free);
 * NULL on failure. */
__attribute__((unused)) static char *tmpdir_new(const char *prefix)
{
	char *dir = malloc(strlen(prefix) + 16);

	if (!dir)
		return NULL;
	sprintf(dir, "/tmp/%s-XXXXXX", prefix);
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

__attribute__((unused)) static void tmpdir_free(char *dir)
{
	if (dir)
		rm_rf(dir);
	free(dir);
}

#endif
