/* journald's native protocol without libsystemd: one AF_UNIX datagram per
 * entry to the journal socket (docs/protocols.md, systemd), fields as "KEY=value\n"
 * or, for values holding a newline, the binary-safe length-prefixed form.
 * An entry too big for a datagram goes in a sealed memfd. */
#include "obs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_DEFAULT "/run/systemd/journal/socket"
#define JOURNAL_NAME_MAX 64
#define JOURNAL_ENTRY_MAX (256 * 1024)

static struct {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
} journal = { JOURNAL_DEFAULT, -1 };

static pthread_mutex_t journal_lock = PTHREAD_MUTEX_INITIALIZER;

void md_log_set_journal_socket(const char *path)
{
	pthread_mutex_lock(&journal_lock);
	md_strlcpy(journal.path, path ? path : JOURNAL_DEFAULT, sizeof(journal.path));
	pthread_mutex_unlock(&journal_lock);
}

int md_log_journal_stream_matches(const char *journal_stream, int fd)
{
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (!journal_stream || sscanf(journal_stream, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(fd, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

enum md_log_format md_log_resolve_format(enum md_log_format fmt, const char *journal_stream,
					 int fd)
{
	if (fmt != MD_LOG_AUTO)
		return fmt;
	return md_log_journal_stream_matches(journal_stream, fd) ? MD_LOG_JOURNAL : MD_LOG_TEXT;
}

int md_journal_field_name(char *out, size_t outlen, const char *key)
{
	static const char prefix[] = "MAGOS_";
	size_t n = sizeof(prefix) - 1;

	if (!key || !*key || outlen < n + 2)
		return -1;
	memcpy(out, prefix, n);
	for (const char *p = key; *p && n < JOURNAL_NAME_MAX && n + 1 < outlen; p++) {
		char c = *p;

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

int md_journal_append(struct md_buf *b, const char *name, const char *value, size_t vlen)
{
	unsigned char le[8];
	size_t mark = b->len;
	uint64_t n = vlen;

	if (!memchr(value, '\n', vlen)) {
		if (md_buf_puts(b, name) < 0 || md_buf_append(b, "=", 1) < 0 ||
		    md_buf_append(b, value, vlen) < 0 || md_buf_append(b, "\n", 1) < 0)
			goto fail;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(n >> (8 * i));
	if (md_buf_puts(b, name) < 0 || md_buf_append(b, "\n", 1) < 0 ||
	    md_buf_append(b, le, sizeof(le)) < 0 || md_buf_append(b, value, vlen) < 0 ||
	    md_buf_append(b, "\n", 1) < 0)
		goto fail;
	return 0;
fail:
	/* Never leave half a field: journald would misparse the rest. */
	b->len = mark;
	if (b->data)
		b->data[mark] = '\0';
	return -1;
}

static int priority_of(enum md_log_level level)
{
	switch (level) {
	case MD_LOG_DEBUG:
		return 7;
	case MD_LOG_INFO:
		return 6;
	case MD_LOG_WARN:
		return 4;
	default:
		return 3;
	}
}

int md_obs__journal_encode(struct md_buf *b, const struct obs_entry *e)
{
	struct md_buf msg;
	char name[JOURNAL_NAME_MAX + 1], prio[2] = { (char)('0' + priority_of(e->level)), 0 };
	int rc = -1;

	md_buf_init(&msg, JOURNAL_ENTRY_MAX / 2);
	md_obs__format_message(&msg, e);
	if (!msg.data)
		goto out;
	if (md_journal_append(b, "PRIORITY", prio, 1) < 0 ||
	    md_journal_append(b, "SYSLOG_IDENTIFIER", "magos-dominus", 13) < 0 ||
	    md_journal_append(b, "MESSAGE", msg.data, msg.len) < 0)
		goto out;
	for (size_t i = 0; i < e->n; i++) {
		if (md_journal_field_name(name, sizeof(name), e->kv[i].k) < 0)
			continue;
		if (md_journal_append(b, name, e->kv[i].v, strlen(e->kv[i].v)) < 0)
			goto out;
	}
	rc = 0;
out:
	md_buf_clear(&msg);
	return rc;
}

/* Too big for one datagram: hand journald a sealed memfd instead. */
static int send_memfd(int fd, const struct sockaddr_un *sa, socklen_t salen,
		      const struct md_buf *b)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { .msg_name = (void *)(uintptr_t)sa, .msg_namelen = salen,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int mfd = memfd_create("magos-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int rc = -1;

	if (mfd < 0)
		return -1;
	if (write(mfd, b->data, b->len) != (ssize_t)b->len ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		goto out;
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
	rc = sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
out:
	close(mfd);
	return rc;
}

int md_obs__journal_send(const struct obs_entry *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	struct md_buf b;
	int rc = -1;

	md_buf_init(&b, JOURNAL_ENTRY_MAX);
	if (md_obs__journal_encode(&b, e) < 0 || !b.data)
		goto out;
	pthread_mutex_lock(&journal_lock);
	md_strlcpy(sa.sun_path, journal.path, sizeof(sa.sun_path));
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sa.sun_path) + 1);
	if (journal.fd < 0)
		journal.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (journal.fd >= 0) {
		rc = sendto(journal.fd, b.data, b.len, MSG_NOSIGNAL, (struct sockaddr *)&sa,
			    salen) < 0 ? -1 : 0;
		if (rc < 0 && (errno == EMSGSIZE || errno == ENOBUFS))
			rc = send_memfd(journal.fd, &sa, salen, &b);
	}
	pthread_mutex_unlock(&journal_lock);
out:
	md_buf_clear(&b);
	return rc;
}
