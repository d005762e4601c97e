/* Whole-file reads, atomic replacement and SHA-256 digests. */
#include "magos/util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int md_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int md_file_read(const char *path, size_t max, char **out, size_t *outlen,
		 struct md_err *err)
{
	struct md_buf b;
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return md_err_set(err, "cannot open %s: %s", path, strerror(errno));
	md_buf_init(&b, max);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			md_err_set(err, "cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (md_buf_append(&b, chunk, (size_t)n) < 0) {
			md_err_set(err, "%s is larger than %zu bytes", path, max);
			goto fail;
		}
	}
	close(fd);
	md_memzero(chunk, sizeof(chunk)); /* the file may be a key */
	if (outlen)
		*outlen = b.len;
	*out = md_buf_steal(&b);
	return *out ? 0 : md_err_set(err, "out of memory reading %s", path);
fail:
	close(fd);
	md_memzero(chunk, sizeof(chunk));
	md_buf_clear(&b);
	return -1;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *dir = md_strdup(path);
	char *slash;
	int fd, rc;

	if (!dir)
		return -1;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int md_file_write_new(const char *path, const void *data, size_t len, mode_t mode,
		      struct md_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	const char *p = data;
	size_t off = 0;

	if (fd < 0)
		return md_err_set(err, "cannot create %s: %s", path, strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			md_err_set(err, "cannot write %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		return md_err_set(err, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

int md_file_write_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, struct md_err *err)
{
	return md_file_write_atomic_hooked(path, data, len, mode, NULL, err);
}

int md_file_write_atomic_hooked(const char *path, const void *data, size_t len, mode_t mode,
				const char *phase, struct md_err *err)
{
	char *tmp = md_asprintf("%s" MD_FILE_TMP_INFIX "XXXXXX", path);
	int fd, saved;

	if (!tmp)
		return md_err_set(err, "out of memory writing %s", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		md_err_set(err, "cannot create a temporary file next to %s: %s", path,
			   strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return md_err_set(err, "cannot write %s: %s", path, strerror(saved));
	}
	if (phase)
		md_testhook(phase); /* the temp file is written, not yet renamed */
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		saved = errno;
		unlink(tmp);
		free(tmp);
		return md_err_set(err, "cannot replace %s: %s", path, strerror(saved));
	}
	free(tmp);
	if (fsync_dir_of(path) < 0)
		return md_err_set(err, "cannot sync the directory of %s: %s", path,
				  strerror(errno));
	return 0;
}

int md_file_is_atomic_tmp(const char *name)
{
	const char *p = strstr(name, MD_FILE_TMP_INFIX), *q;

	if (!p || p == name)
		return 0;
	/* mkostemp's six characters, then the end */
	for (;;) {
		q = strstr(p + 1, MD_FILE_TMP_INFIX);
		if (!q)
			break;
		p = q;
	}
	p += strlen(MD_FILE_TMP_INFIX);
	if (strlen(p) != 6)
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int md_remove_tree(const char *path, struct md_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : md_err_set(err, "cannot remove %s: %s", path,
							  strerror(errno));
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
		return md_err_set(err, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

int md_mkdir_p(const char *path, mode_t mode, struct md_err *err)
{
	char *p = md_strdup(path);

	if (!p)
		return md_err_set(err, "out of memory");
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			goto fail;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		goto fail;
	free(p);
	return 0;
fail:
	md_err_set(err, "cannot create directory %s: %s", p, strerror(errno));
	free(p);
	return -1;
}

void md_sha256_digest(const void *data, size_t len, char *out)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";

	SHA256(data, len, md);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[MD_DIGEST_STR_LEN] = '\0';
}

char *md_path_find(const char *prog, const char *search_path)
{
	const char *p = search_path ? search_path : "";

	if (!prog || !*prog)
		return NULL;
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? md_strdup(prog) : NULL;
	for (;;) {
		size_t n = strcspn(p, ":");
		char *cand = md_asprintf("%.*s/%s", (int)n, n ? p : ".", prog);

		if (!cand)
			return NULL;
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!p[n])
			return NULL;
		p += n + 1;
	}
}
