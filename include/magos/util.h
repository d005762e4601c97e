/* util — the bottom layer: errors, bounded buffers, strings, time and
 * durations, whole-file reads and atomic writes, SHA-256.
 *
 * Nothing here logs or reads the environment. Every function that can fail
 * returns 0 on success or -1 on failure and, when given one, fills
 * `struct md_err` with a single human sentence naming the thing that failed. */
#ifndef MAGOS_UTIL_H
#define MAGOS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- errors --------------------------------------------------------- */

#define MD_ERR_MAX 1024

struct md_err {
	char msg[MD_ERR_MAX];
};

/* Set err (if not NULL) from a printf format. Always returns -1 so callers
 * can write `return md_err_set(err, "...")`. */
int md_err_set(struct md_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int md_err_setv(struct md_err *err, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Prefix an existing message: "<prefix>: <old message>". Returns -1. */
int md_err_prefix(struct md_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void md_err_clear(struct md_err *err);

/* ---- bounded growable buffer ------------------------------------------ */

/* A byte buffer that refuses to grow past `max` bytes. `data` is always
 * NUL-terminated (the terminator is not counted in `len`). It never leaves
 * its bytes in freed memory (growing moves them and zeroes the old block;
 * md_buf_clear zeroes): bodies and files that hold a secret use it too. */
struct md_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void md_buf_init(struct md_buf *b, size_t max);
/* -1 when the result would exceed max or memory runs out (buffer unchanged). */
int md_buf_append(struct md_buf *b, const void *p, size_t n);
int md_buf_puts(struct md_buf *b, const char *s);
int md_buf_printf(struct md_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void md_buf_reset(struct md_buf *b);
/* Hand the data to the caller (never NULL on success: "" for empty); the
 * buffer is left empty and reusable. */
char *md_buf_steal(struct md_buf *b);
void md_buf_clear(struct md_buf *b);

/* ---- strings ---------------------------------------------------------- */

/* strdup/strndup that abort on OOM are avoided: these return NULL. */
char *md_strdup(const char *s);
char *md_strndup(const char *s, size_t n);
/* snprintf into a fresh allocation; NULL on OOM. */
char *md_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copy with truncation; always terminates when size > 0. Returns strlen(src). */
size_t md_strlcpy(char *dst, const char *src, size_t size);
int md_str_has_prefix(const char *s, const char *prefix);
int md_str_has_suffix(const char *s, const char *suffix);

/* A NULL-terminated, owned list of strings. Zero-initialise before use. */
struct md_strv {
	char **v;
	size_t n;
	size_t cap; /* slots allocated in v (grows by doubling) */
};
int md_strv_push(struct md_strv *sv, const char *s);
/* Split on any of `seps`, trimming blanks around items and dropping empty ones. */
int md_strv_split(struct md_strv *sv, const char *s, const char *seps);
int md_strv_contains(const struct md_strv *sv, const char *s);
void md_strv_clear(struct md_strv *sv);

/* ---- time -------------------------------------------------------------- */

/* Wall clock seconds since the epoch. */
int64_t md_time_now(void);
/* Monotonic milliseconds, for timeouts and durations. */
int64_t md_time_mono_ms(void);
/* "90s", "5m", "1h", "3d", "1h30m", "250ms" (rounded up to 1s), bare "0". */
int md_duration_parse(const char *s, int64_t *out_seconds, struct md_err *err);
/* Short human form: "45s", "5m", "1h30m", "3d". */
void md_duration_format(int64_t seconds, char *out, size_t outlen);
/* RFC 3339 / ISO 8601 timestamp ("2024-01-02T03:04:05Z", fractional seconds
 * and numeric offsets accepted) to epoch seconds. */
int md_time_parse_rfc3339(const char *s, int64_t *out, struct md_err *err);
/* Epoch seconds to "YYYY-MM-DDTHH:MM:SSZ" (out must hold 21 bytes). */
void md_time_format_rfc3339(int64_t t, char *out, size_t outlen);

/* ---- files ------------------------------------------------------------- */

/* Read a whole file, refusing files larger than max. *out is NUL-terminated. */
int md_file_read(const char *path, size_t max, char **out, size_t *outlen,
		 struct md_err *err);
/* Create path (never an existing file, never through a symlink) with mode
 * and write data to it: for private files (decrypted secrets, credentials). */
int md_file_write_new(const char *path, const void *data, size_t len, mode_t mode,
		      struct md_err *err);
/* Replace path atomically: write a temp file in the same directory, fsync
 * it, rename over path, fsync the directory. mode applies to the new file. */
int md_file_write_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, struct md_err *err);
/* The same, calling md_testhook(phase) between writing the temp file and
 * renaming it (phase NULL: no hook). */
int md_file_write_atomic_hooked(const char *path, const void *data, size_t len, mode_t mode,
				const char *phase, struct md_err *err);
/* Temp files md_file_write_atomic leaves behind when the process dies
 * half-way are named "<path>" MD_FILE_TMP_INFIX "XXXXXX". */
#define MD_FILE_TMP_INFIX ".magos-tmp."
/* 1 when name (a base name) is such a temp file. */
int md_file_is_atomic_tmp(const char *name);
/* mkdir -p with the given mode for created directories. */
int md_mkdir_p(const char *path, mode_t mode, struct md_err *err);
int md_path_exists(const char *path);
/* rm -rf path: symbolic links are removed, never followed, and other file
 * systems mounted below are not entered. A missing path is no error. */
int md_remove_tree(const char *path, struct md_err *err);
/* The executable prog as a PATH search would find it in search_path (a
 * ':'-separated list; an empty entry is "."), or prog itself when it holds
 * a '/' and is executable. Caller frees; NULL when not found (or OOM). */
char *md_path_find(const char *prog, const char *search_path);

/* ---- instance lock ------------------------------------------------------- */

/* Take an exclusive flock() on path (created 0600) without waiting and
 * write our PID into it. 0: locked, *fd keeps it (hold it open for the
 * process's life; the kernel releases it when the process dies). 1: another
 * process holds it, *holder its PID (0 when it could not be read). -1 on
 * error. */
int md_lock_acquire(const char *path, int *fd, long *holder, struct md_err *err);
void md_lock_release(int fd);

/* ---- test hook ------------------------------------------------------------ */

/* A named point of a cycle (clone, fetch, compose-write, commit, push,
 * remote-tracking, state-write, compose-up). A no-op in the real binary; the
 * crash tests' build pauses there on request (tests/crash/hook.c). */
void md_testhook(const char *phase);

/* ---- hashing ----------------------------------------------------------- */

#define MD_DIGEST_STR_LEN 71 /* "sha256:" + 64 hex */

/* out receives "sha256:<64 hex>" and needs MD_DIGEST_STR_LEN + 1 bytes. */
void md_sha256_digest(const void *data, size_t len, char *out);
/* Whether a string is such a digest: md_ref_valid_digest (magos/ref.h). */

/* Securely zero memory that held a secret. */
void md_memzero(void *p, size_t n);
/* Zero the n bytes at p, then free p (NULL is fine). */
void md_free_secret(void *p, size_t n);

/* ---- this process and child processes ------------------------------------ */

/* No core dump of this process, and no ptrace or /proc/PID/mem, environ...
 * by other processes of the same user (PR_SET_DUMPABLE 0, RLIMIT_CORE 0
 * soft and hard): the agent holds tokens, keys and decrypted secrets.
 * Programs it executes get the dumpable flag back (execve resets it) but
 * inherit the core limit. */
int md_proc_forbid_dumps(struct md_err *err);

/* Run argv[0] (looked up in PATH by posix_spawnp; no shell) with envp (NULL
 * = this process's environment), `input` written to its stdin, stdout
 * collected into out (bounded by out->max), stderr discarded. The child is
 * killed after timeout_ms. Returns 0 when it exited, with *exit_status its
 * exit code (or 128 + signal); -1 when it could not start, timed out or
 * wrote more than out->max bytes (err names argv[0]). */
int md_proc_run(char *const argv[], char *const envp[], const void *input, size_t input_len,
		struct md_buf *out, int64_t timeout_ms, int *exit_status, struct md_err *err);

/* What md_proc_exec does with the child. Zero-initialise, then set. */
struct md_proc_opts {
	const char *file;  /* program to execute; NULL: argv[0] looked up in our PATH */
	char *const *envp; /* NULL: this process's environment */
	const char *cwd;   /* NULL: ours */
	const void *input; /* written to stdin; NULL or input_len 0: stdin is /dev/null */
	size_t input_len;
	/* stdout; more than out->max bytes is an error... */
	struct md_buf *out;
	/* ...unless out_tail: then stdout and stderr merged, the last out->max
	 * bytes kept (a tool's log, where the end is what explains a failure) */
	int out_tail;
	struct md_buf *err_tail; /* without out_tail: stderr's last err_tail->max
				  * bytes; NULL: stderr is /dev/null */
	int own_group; /* own process group; a kill takes the whole group */
	/* called about once a second while the child runs (a watchdog) */
	void (*progress)(void *ctx);
	void *progress_ctx;
	int64_t timeout_ms;
};

#define MD_PROC_TIMEOUT (-2)

/* Run argv (no shell) as o says. Returns 0 when it exited, with
 * *exit_status its exit code (or 128 + signal); MD_PROC_TIMEOUT when it was
 * killed at the deadline; -1 when it could not start or overflowed o->out.
 * err names argv[0] in every failure. */
int md_proc_exec(char *const argv[], const struct md_proc_opts *o, int *exit_status,
		 struct md_err *err);

#endif
