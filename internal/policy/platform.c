/* Platforms for the arch gate: "os/arch[/variant]" as OCI image indexes
 * write them, the short forms users write, and the host's own platform.
 *
 * Rules: a bare architecture means linux ("amd64" = "linux/amd64"); two
 * parts are os/arch when the first is an operating system, else
 * arch/variant ("arm/v7"); arm64 without a variant is arm64/v8 (what the
 * OCI image spec and containerd assume). */
#include "policy_int.h"

#include <stdio.h>
#include <string.h>

#define PLATFORM_MAX 96

static const char *const oses[] = {
	"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris",
	"illumos", "aix", "plan9", "dragonfly", "android", "ios", "js", "wasip1",
};

static int is_os(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(oses) / sizeof(oses[0]); i++)
		if (strlen(oses[i]) == n && strncmp(oses[i], s, n) == 0)
			return 1;
	return 0;
}

/* Lowercase letters, digits, '_' and '-' (ppc64le, mips64le, riscv64). */
static int copy_part(char *dst, const char *s, size_t n)
{
	if (n == 0 || n >= MD_PLATFORM_PART)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return -1;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int md_policy__platform_parse(struct md_platform *out, const char *text)
{
	const char *part[3];
	size_t len[3], nparts = 0, n;
	const char *p = text;

	memset(out, 0, sizeof(*out));
	if (!text || (n = strnlen(text, PLATFORM_MAX + 1)) == 0 || n > PLATFORM_MAX)
		return -1;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);

		if (nparts == 3)
			return -1;
		part[nparts] = p;
		len[nparts++] = l;
		if (!slash)
			break;
		p = slash + 1;
	}
	if (nparts == 1 || (nparts == 2 && !is_os(part[0], len[0]))) {
		/* arch or arch/variant: linux implied */
		strcpy(out->os, "linux");
		if (copy_part(out->arch, part[0], len[0]) < 0 ||
		    (nparts == 2 && copy_part(out->variant, part[1], len[1]) < 0))
			return -1;
	} else if (copy_part(out->os, part[0], len[0]) < 0 ||
		   copy_part(out->arch, part[1], len[1]) < 0 ||
		   (nparts == 3 && copy_part(out->variant, part[2], len[2]) < 0)) {
		return -1;
	}
	if (strcmp(out->arch, "arm64") == 0 && out->variant[0] == '\0')
		strcpy(out->variant, "v8");
	return 0;
}

void md_policy__platform_format(const struct md_platform *p, char *out, size_t outlen)
{
	int default_variant = strcmp(p->arch, "arm64") == 0 && strcmp(p->variant, "v8") == 0;

	if (p->variant[0] && !default_variant)
		snprintf(out, outlen, "%s/%s/%s", p->os, p->arch, p->variant);
	else
		snprintf(out, outlen, "%s/%s", p->os, p->arch);
}

int md_policy__platform_satisfies(const struct md_platform *have, const struct md_platform *want)
{
	if (strcmp(have->os, want->os) != 0 || strcmp(have->arch, want->arch) != 0)
		return 0;
	return want->variant[0] == '\0' || strcmp(have->variant, want->variant) == 0;
}

/* `uname -m` names to OCI names. */
static const struct {
	const char *machine, *platform;
} machines[] = {
	{ "x86_64", "linux/amd64" },   { "amd64", "linux/amd64" },
	{ "aarch64", "linux/arm64" },  { "arm64", "linux/arm64" },
	{ "aarch64_be", "linux/arm64" }, { "armv8l", "linux/arm/v7" },
	{ "armv7l", "linux/arm/v7" },  { "armv7", "linux/arm/v7" },
	{ "armv6l", "linux/arm/v6" },  { "armv5tel", "linux/arm/v5" },
	{ "i386", "linux/386" },       { "i486", "linux/386" },
	{ "i586", "linux/386" },       { "i686", "linux/386" },
	{ "ppc64le", "linux/ppc64le" }, { "s390x", "linux/s390x" },
	{ "riscv64", "linux/riscv64" }, { "mips64", "linux/mips64" },
	{ "loongarch64", "linux/loong64" },
};

int md_policy_host_platform(const char *machine, char *out, size_t outlen)
{
	if (!out || outlen == 0)
		return -1;
	out[0] = '\0';
	if (!machine)
		return -1;
	for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
		if (strcmp(machine, machines[i].machine) == 0) {
			if (strlen(machines[i].platform) >= outlen)
				return -1;
			strcpy(out, machines[i].platform);
			return 0;
		}
	}
	return -1;
}
