/* scan — the vulnerability gate: run Trivy on the exact digest a site is
 * about to be given, read its JSON report, judge the report against the
 * site's requirement, and say what an update fixes and introduces.
 *
 * Trivy runs without a shell through md_proc_exec: `trivy image --format
 * json --quiet --scanners vuln --image-src remote --platform <platform>
 * --timeout <n>s [--server URL] <name>@<digest>`, in a private directory
 * (so no trivy.yaml or .trivyignore of ours is read), with a filtered
 * environment. Registry credentials reach it as a Docker config in that
 * directory (DOCKER_CONFIG), keyed by the image's registry, so Trivy sends
 * them to that registry only; a server token goes in TRIVY_TOKEN. Neither is
 * ever on the command line. Nothing here logs; the environment is what the
 * caller passes in (docs/protocols.md, "Trivy").
 *
 * Findings are decided from the JSON, never from Trivy's exit code: the
 * report is unfiltered (no --severity, --ignore-unfixed or --exit-code is
 * passed) and every filter is applied here. */
#ifndef MAGOS_SCAN_H
#define MAGOS_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "magos/util.h"

/* ---- severities ------------------------------------------------------------ */

/* Trivy's order: UNKNOWN ranks below LOW, as in its --severity filter. */
enum md_severity {
	MD_SEV_UNKNOWN,
	MD_SEV_LOW,
	MD_SEV_MEDIUM,
	MD_SEV_HIGH,
	MD_SEV_CRITICAL,
	MD_SEV_COUNT
};

/* "UNKNOWN" … "CRITICAL". */
const char *md_scan_severity_name(enum md_severity s);
/* Case-insensitive name to severity; -1 for anything else. */
int md_scan_severity_parse(const char *s, enum md_severity *out);

/* Findings per severity, indexed by enum md_severity. */
struct md_scan_counts {
	unsigned n[MD_SEV_COUNT];
};

/* Findings at or above sev. */
unsigned md_scan_counts_at_least(const struct md_scan_counts *c, enum md_severity sev);
/* "1 CRITICAL, 4 MEDIUM" (highest first, zeros left out) or "none". */
int md_scan_counts_format(const struct md_scan_counts *c, struct md_buf *out);

/* ---- outcomes ----------------------------------------------------------------- */

/* What a scan came to. Everything but MD_SCAN_OK fails closed: the caller
 * proposes nothing for the site and tells err.msg, which names the image,
 * the cause and the fix. */
enum md_scan_status {
	MD_SCAN_OK = 0,
	MD_SCAN_MISSING,        /* the trivy executable is not there */
	MD_SCAN_TIMEOUT,        /* killed (with its process group) at the deadline */
	MD_SCAN_FAILED,         /* exited non-zero, died of a signal, or could not start */
	MD_SCAN_TOO_LARGE,      /* printed more than opts.max_report bytes */
	MD_SCAN_INVALID,        /* the output is not a Trivy JSON report */
	MD_SCAN_WRONG_ARTIFACT, /* a report, but not for the image asked about */
	MD_SCAN_UNREACHABLE,    /* the Trivy server did not answer (probe, DB version) */
	MD_SCAN_ERROR,          /* bad arguments or setup: temp dir, token file, OOM */
	MD_SCAN_STATUS_COUNT
};

/* Short names for metrics labels: "ok", "missing", "timeout", "failed",
 * "too_large", "invalid", "wrong_artifact", "unreachable", "error". */
const char *md_scan_status_name(enum md_scan_status st);

/* ---- reports ------------------------------------------------------------------ */

/* One finding: a vulnerability in one installed package. Strings are never
 * NULL ("" when the report left them out) and are as Trivy wrote them
 * (md_scan_diff_* sanitise what they print). */
struct md_scan_finding {
	const char *id;        /* VulnerabilityID: "CVE-2019-14697", "GHSA-…" */
	const char *pkg;       /* PkgName */
	const char *installed; /* InstalledVersion */
	const char *fixed;     /* FixedVersion ("" when there is no fix) */
	const char *status;    /* Status ("" when absent) */
	enum md_severity severity;
	/* A fix exists: Status "fixed", or, from a Trivy too old to write
	 * Status, a FixedVersion. The ignoreUnfixed filter keeps only these,
	 * as Trivy's --ignore-unfixed does. */
	int fixable;
};

struct md_scan_report;

/* Parse a Trivy JSON report (SchemaVersion 2; every field may be missing).
 * Findings are taken from Results[].Vulnerabilities[] of every result
 * class, one per (VulnerabilityID, PkgName, InstalledVersion). Returns
 * MD_SCAN_OK or MD_SCAN_INVALID (err says what is wrong and where);
 * MD_SCAN_ERROR on OOM. */
int md_scan_report_parse(struct md_scan_report **out, const char *json, size_t len,
			 struct md_err *err);
void md_scan_report_free(struct md_scan_report *r);

/* Whether the report is for name@digest: its ArtifactName must be exactly
 * that (Trivy echoes the argument); a report without one must list it in
 * Metadata.RepoDigests (Docker Hub names compared in their short form).
 * MD_SCAN_OK or MD_SCAN_WRONG_ARTIFACT. */
int md_scan_report_check_artifact(const struct md_scan_report *r, const char *name,
				  const char *digest, struct md_err *err);

/* The report as compact JSON that md_scan_report_parse reads back to the
 * same findings and artifact (a Trivy report holding only what the gate
 * uses), for a cache of verdicts. -1 when out is full or on OOM. */
int md_scan_report_save(const struct md_scan_report *r, struct md_buf *out);

/* ArtifactName, or "" when absent. */
const char *md_scan_report_artifact(const struct md_scan_report *r);
size_t md_scan_report_count(const struct md_scan_report *r);
/* Sorted by id, then package, then installed version. */
const struct md_scan_finding *md_scan_report_at(const struct md_scan_report *r, size_t i);

/* ---- the requirement and the verdict ------------------------------------------- */

/* A site's `scan.trivy` requirement. */
struct md_scan_req {
	enum md_severity threshold;  /* refuse findings of this severity or above */
	int ignore_unfixed;          /* count only findings with a fix */
	const struct md_strv *ignore; /* IDs the user accepts (case-insensitive), or NULL */
	/* refuse only when the candidate has more findings at the threshold
	 * than the declared digest */
	int compare;
};

/* Counts by severity of the findings the requirement does not filter out
 * (ignore list, ignoreUnfixed); the threshold is not applied. */
void md_scan_count(const struct md_scan_report *r, const struct md_scan_req *q,
		   struct md_scan_counts *out);

enum md_scan_verdict {
	MD_SCAN_ALLOWED,
	MD_SCAN_REFUSED,
	/* compare was asked for, the candidate has findings at the threshold
	 * and there is no report of the declared digest: fail closed */
	MD_SCAN_UNDECIDED
};

struct md_scan_judgement {
	enum md_scan_verdict verdict;
	struct md_scan_counts candidate; /* after the ignore filters */
	struct md_scan_counts declared;  /* valid when has_declared */
	int has_declared;
	unsigned at_threshold;           /* candidate's findings at or above it */
	char reason[256];                /* one line for explain and logs */
};

/* Judge the candidate's report against q. declared is the report of the
 * digest the site declares now, or NULL (needed only for compare). Returns
 * the verdict (also in out->verdict). */
enum md_scan_verdict md_scan_judge(const struct md_scan_req *q,
				   const struct md_scan_report *candidate,
				   const struct md_scan_report *declared,
				   struct md_scan_judgement *out);

/* ---- what an update fixes and introduces ---------------------------------------- */

/* One vulnerability ID on one side of a comparison, with the first of its
 * packages (by name) and how many packages it was found in. */
struct md_scan_change {
	const char *id;
	enum md_severity severity; /* the highest over its packages */
	const char *pkg, *installed, *fixed;
	size_t npkgs;
};

struct md_scan_diff;

/* Compare the report of the declared digest with the candidate's: IDs the
 * candidate no longer has are fixed, IDs only it has are introduced. With q
 * given, its ignore list and ignoreUnfixed apply to both sides (not its
 * threshold); NULL compares everything. Lists are ordered by severity, then
 * ID. MD_SCAN_OK, or MD_SCAN_ERROR on OOM. */
int md_scan_diff(struct md_scan_diff **out, const struct md_scan_report *declared,
		 const struct md_scan_report *candidate, const struct md_scan_req *q,
		 struct md_err *err);
void md_scan_diff_free(struct md_scan_diff *d);
size_t md_scan_diff_fixed_count(const struct md_scan_diff *d);
const struct md_scan_change *md_scan_diff_fixed_at(const struct md_scan_diff *d, size_t i);
size_t md_scan_diff_introduced_count(const struct md_scan_diff *d);
const struct md_scan_change *md_scan_diff_introduced_at(const struct md_scan_diff *d, size_t i);

/* Two lines for a commit message, naming at most top_n IDs each:
 *   fixes: CVE-2019-14697, CVE-2019-1549 and 1 more (1 CRITICAL, 2 MEDIUM)
 *   introduces: none
 * Text taken from the report is reduced to a safe character set. -1 when
 * out is full (its bound) or OOM. */
int md_scan_diff_summary(const struct md_scan_diff *d, size_t top_n, struct md_buf *out);
/* A Markdown list for a PR body, at most top_n entries per side:
 *   fixes:
 *   - CVE-2019-14697 (CRITICAL) musl 1.1.20-r4, fixed in 1.1.20-r5, and 1 more package
 *   introduces: none */
int md_scan_diff_details(const struct md_scan_diff *d, size_t top_n, struct md_buf *out);

/* ---- running Trivy -------------------------------------------------------------- */

#define MD_SCAN_TIMEOUT_MS_DEFAULT (5 * 60 * 1000)
#define MD_SCAN_MAX_REPORT_DEFAULT ((size_t)32 << 20)

/* How Trivy is reached. Zero-initialise, then set. */
struct md_scan_opts {
	/* The executable: a path, or a name looked up in search_path; NULL =
	 * "trivy". Also used in server mode (the client runs here). */
	const char *trivy;
	const char *search_path;  /* the agent's PATH; NULL: "/usr/local/bin:/usr/bin:/bin" */
	const char *server;       /* "http(s)://host:port" of a `trivy server`, or NULL */
	const char *token_file;   /* the server's token, or NULL */
	const char *platform;     /* the host's platform, "linux/amd64" (required) */
	int64_t timeout_ms;       /* 0: MD_SCAN_TIMEOUT_MS_DEFAULT */
	size_t max_report;        /* 0: MD_SCAN_MAX_REPORT_DEFAULT */
	const char *tmp_dir;      /* parent of the private directory; NULL: "/tmp" */
	/* The environment to pass on, filtered (proxies, locale, HOME, PATH
	 * and Trivy's cache and DB settings are kept; nothing else); NULL:
	 * this process's environment. */
	char *const *env;
	void (*progress)(void *ctx); /* about once a second while Trivy runs */
	void *progress_ctx;
};

/* Credentials for the image's registry (NULL: anonymous): a username and
 * password, or (identity set) an identity token, the OAuth2 refresh token
 * Docker's config calls "identitytoken". */
struct md_scan_cred {
	const char *username;
	const char *secret;
	int identity;
};

/* Scan name@digest (name as an image reference without tag or digest,
 * digest "sha256:<64 hex>") and parse the report, checking it is for that
 * image. Returns an enum md_scan_status; *out is set only on MD_SCAN_OK. */
int md_scan_run(struct md_scan_report **out, const struct md_scan_opts *o, const char *name,
		const char *digest, const struct md_scan_cred *cred, struct md_err *err);

/* The vulnerability DB the scans use, as a cache key:
 * "<schema version>:<UpdatedAt>" ("2:2024-05-01T06:12:33.1Z"). Locally from
 * `trivy version --format json`; with a server from its GET /version.
 * MD_SCAN_OK with *out NULL when no DB has been downloaded yet (the next
 * scan downloads it). Caller frees *out. */
int md_scan_db_version(char **out, const struct md_scan_opts *o, struct md_err *err);

/* Whether Trivy can be used as configured: the executable is found (and, with
 * a server, GET /healthz answers "ok"). MD_SCAN_OK, MD_SCAN_MISSING,
 * MD_SCAN_UNREACHABLE or MD_SCAN_ERROR; err says what to do about it. */
int md_scan_probe(const struct md_scan_opts *o, struct md_err *err);

#endif
