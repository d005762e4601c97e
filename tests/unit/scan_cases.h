/* Tables for test_scan.c: Trivy's own reports (read from
 * ../shared/fixtures/trivy/, see docs/testing.md), what each holds, how
 * requirements judge them, what comparisons say, and bad reports. Included
 * once, by test_scan.c, after its case types. Counts are in the order
 * UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL. */
#ifndef SCAN_CASES_H
#define SCAN_CASES_H

/* ---- every fixture: findings by severity, all and with a fix -------------------------- */

static const struct fixture_case fixture_cases[] = {
	{ "alpine-310.json.golden", 4, { 0, 0, 4, 0, 0 }, { 0, 0, 4, 0, 0 },
	  "testdata/fixtures/images/alpine-310.tar.gz" },
	{ "alpine-39.json.golden", 6, { 0, 0, 4, 0, 2 }, { 0, 0, 4, 0, 2 },
	  "testdata/fixtures/images/alpine-39.tar.gz" },
	{ "alpine-39-high-critical.json.golden", 2, { 0, 0, 0, 0, 2 }, { 0, 0, 0, 0, 2 },
	  "testdata/fixtures/images/alpine-39.tar.gz" },
	{ "alpine-distroless.json.golden", 1, { 0, 0, 1, 0, 0 }, { 0, 0, 1, 0, 0 },
	  "testdata/fixtures/images/alpine-distroless.tar.gz" },
	/* lang-pkgs (a Cargo.lock) count like OS packages */
	{ "busybox-with-lockfile.json.golden", 2, { 0, 0, 1, 1, 0 }, { 0, 0, 1, 1, 0 },
	  "testdata/fixtures/images/busybox-with-lockfile.tar.gz" },
	{ "centos-7-ignore-unfixed.json.golden", 2, { 0, 1, 1, 0, 0 }, { 0, 1, 1, 0, 0 },
	  "testdata/fixtures/images/centos-7.tar.gz" },
	{ "debian-buster-ignore-unfixed.json.golden", 1, { 0, 0, 0, 0, 1 }, { 0, 0, 0, 0, 1 },
	  "testdata/fixtures/images/debian-buster.tar.gz" },
	/* bash: Status "affected", no FixedVersion */
	{ "debian-buster.json.golden", 2, { 0, 1, 0, 0, 1 }, { 0, 0, 0, 0, 1 },
	  "testdata/fixtures/images/debian-buster.tar.gz" },
	/* two MEDIUM "affected" without a fix, two LOW fixed */
	{ "distroless-base.json.golden", 4, { 0, 2, 2, 0, 0 }, { 0, 2, 0, 0, 0 },
	  "testdata/fixtures/images/distroless-base.tar.gz" },
};

/* Trivy filtered these itself (--ignore-unfixed, --severity): the gate's
 * own filters on the full report must come to the same findings. */
static const struct crosscheck_case crosscheck_cases[] = {
	{ "debian-buster.json.golden", "debian-buster-ignore-unfixed.json.golden", MD_SEV_UNKNOWN },
	{ "alpine-39.json.golden", "alpine-39-high-critical.json.golden", MD_SEV_HIGH },
};

/* ---- judging a candidate (and, for compare, the declared digest) ------------------------ */

static const struct judge_case judge_cases[] = {
	{ "alpine-39.json.golden", NULL, MD_SEV_HIGH, 0, NULL, 0, MD_SCAN_REFUSED,
	  "refused: 2 findings at or above HIGH (2 CRITICAL, 4 MEDIUM; CVE-2019-14697)" },
	{ "alpine-310.json.golden", NULL, MD_SEV_HIGH, 0, NULL, 0, MD_SCAN_ALLOWED,
	  "allowed: 0 findings at or above HIGH (4 MEDIUM)" },
	{ "alpine-310.json.golden", NULL, MD_SEV_MEDIUM, 0, NULL, 0, MD_SCAN_REFUSED,
	  "refused: 4 findings at or above MEDIUM (4 MEDIUM; CVE-2019-1549, CVE-2019-1551)" },
	{ "alpine-310.json.golden", NULL, MD_SEV_UNKNOWN, 0, NULL, 0, MD_SCAN_REFUSED, NULL },
	/* the ignore list, in any case */
	{ "alpine-39.json.golden", NULL, MD_SEV_CRITICAL, 0, "CVE-2019-14697", 0, MD_SCAN_ALLOWED,
	  "allowed: 0 findings at or above CRITICAL (4 MEDIUM)" },
	{ "alpine-39.json.golden", NULL, MD_SEV_HIGH, 0, "cve-2019-14697", 0, MD_SCAN_ALLOWED, NULL },
	{ "alpine-39.json.golden", NULL, MD_SEV_MEDIUM, 0, "CVE-2019-14697 CVE-2019-1549", 0,
	  MD_SCAN_REFUSED, "refused: 2 findings at or above MEDIUM (2 MEDIUM; CVE-2019-1551)" },
	{ "alpine-39.json.golden", NULL, MD_SEV_MEDIUM, 0,
	  "CVE-2019-14697 CVE-2019-1549 CVE-2019-1551", 0, MD_SCAN_ALLOWED, NULL },
	/* ignoreUnfixed */
	{ "debian-buster.json.golden", NULL, MD_SEV_LOW, 0, NULL, 0, MD_SCAN_REFUSED, NULL },
	{ "debian-buster.json.golden", NULL, MD_SEV_LOW, 1, NULL, 0, MD_SCAN_REFUSED,
	  "refused: 1 finding at or above LOW (1 CRITICAL; CVE-2019-18224)" },
	{ "debian-buster.json.golden", NULL, MD_SEV_LOW, 1, "CVE-2019-18224", 0, MD_SCAN_ALLOWED,
	  "allowed: 0 findings at or above LOW (none)" },
	{ "distroless-base.json.golden", NULL, MD_SEV_MEDIUM, 0, NULL, 0, MD_SCAN_REFUSED, NULL },
	{ "distroless-base.json.golden", NULL, MD_SEV_MEDIUM, 1, NULL, 0, MD_SCAN_ALLOWED,
	  "allowed: 0 findings at or above MEDIUM (2 LOW)" },
	/* lang-pkgs findings gate too */
	{ "busybox-with-lockfile.json.golden", NULL, MD_SEV_HIGH, 0, NULL, 0, MD_SCAN_REFUSED,
	  "refused: 1 finding at or above HIGH (1 HIGH, 1 MEDIUM; CVE-2019-15542)" },
	/* compare: a less vulnerable newer image moves on, a worse one stops */
	{ "alpine-310.json.golden", "alpine-39.json.golden", MD_SEV_MEDIUM, 0, NULL, 1,
	  MD_SCAN_ALLOWED, "allowed: 4 findings at or above MEDIUM (4 MEDIUM; CVE-2019-1549, "
			   "CVE-2019-1551), not more than the declared digest's 6" },
	{ "alpine-39.json.golden", "alpine-310.json.golden", MD_SEV_MEDIUM, 0, NULL, 1,
	  MD_SCAN_REFUSED, "refused: 6 findings at or above MEDIUM (2 CRITICAL, 4 MEDIUM; "
			   "CVE-2019-14697, CVE-2019-1549, CVE-2019-1551), more than the declared "
			   "digest's 4" },
	{ "alpine-39.json.golden", "alpine-39.json.golden", MD_SEV_HIGH, 0, NULL, 1,
	  MD_SCAN_ALLOWED, NULL },
	{ "alpine-39.json.golden", "debian-buster.json.golden", MD_SEV_HIGH, 0, NULL, 1,
	  MD_SCAN_REFUSED, NULL },
	/* the declared side is filtered the same way */
	{ "debian-buster.json.golden", "distroless-base.json.golden", MD_SEV_LOW, 1, NULL, 1,
	  MD_SCAN_ALLOWED, NULL },
	{ "distroless-base.json.golden", "debian-buster.json.golden", MD_SEV_LOW, 1, NULL, 1,
	  MD_SCAN_REFUSED, NULL },
	/* compare without the declared digest's report: fail closed, unless
	 * the candidate is clean at the threshold anyway */
	{ "alpine-39.json.golden", NULL, MD_SEV_HIGH, 0, NULL, 1, MD_SCAN_UNDECIDED,
	  "undecided: 2 findings at or above HIGH (2 CRITICAL, 4 MEDIUM; CVE-2019-14697), and the "
	  "declared digest has no scan to compare with" },
	{ "alpine-310.json.golden", NULL, MD_SEV_HIGH, 0, NULL, 1, MD_SCAN_ALLOWED, NULL },
};

/* ---- what an update fixes and introduces ------------------------------------------------ */

static const struct diff_case diff_cases[] = {
	{ "alpine-39.json.golden", "alpine-310.json.golden", 0, NULL, 5,
	  "fixes: CVE-2019-14697 (1 CRITICAL)\n"
	  "introduces: none\n",
	  "fixes:\n"
	  "- CVE-2019-14697 (CRITICAL) musl 1.1.20-r4, fixed in 1.1.20-r5, and 1 more package\n"
	  "introduces: none\n" },
	{ "alpine-310.json.golden", "alpine-39.json.golden", 0, NULL, 5,
	  "fixes: none\n"
	  "introduces: CVE-2019-14697 (1 CRITICAL)\n",
	  NULL },
	{ "debian-buster.json.golden", "alpine-310.json.golden", 0, NULL, 5,
	  "fixes: CVE-2019-18224, CVE-2019-18276 (1 CRITICAL, 1 LOW)\n"
	  "introduces: CVE-2019-1549, CVE-2019-1551 (2 MEDIUM)\n",
	  "fixes:\n"
	  "- CVE-2019-18224 (CRITICAL) libidn2-0 2.0.5-1, fixed in 2.0.5-1+deb10u1\n"
	  "- CVE-2019-18276 (LOW) bash 5.0-4, no fix yet\n"
	  "introduces:\n"
	  "- CVE-2019-1549 (MEDIUM) libcrypto1.1 1.1.1c-r0, fixed in 1.1.1d-r0, and 1 more package\n"
	  "- CVE-2019-1551 (MEDIUM) libcrypto1.1 1.1.1c-r0, fixed in 1.1.1d-r2, and 1 more package\n" },
	/* bounded */
	{ "debian-buster.json.golden", "alpine-310.json.golden", 0, NULL, 1,
	  "fixes: CVE-2019-18224 and 1 more (1 CRITICAL, 1 LOW)\n"
	  "introduces: CVE-2019-1549 and 1 more (2 MEDIUM)\n",
	  "fixes:\n"
	  "- CVE-2019-18224 (CRITICAL) libidn2-0 2.0.5-1, fixed in 2.0.5-1+deb10u1\n"
	  "- and 1 more\n"
	  "introduces:\n"
	  "- CVE-2019-1549 (MEDIUM) libcrypto1.1 1.1.1c-r0, fixed in 1.1.1d-r0, and 1 more package\n"
	  "- and 1 more\n" },
	{ "debian-buster.json.golden", "alpine-310.json.golden", 0, NULL, 0,
	  "fixes: 2 more (1 CRITICAL, 1 LOW)\n"
	  "introduces: 2 more (2 MEDIUM)\n",
	  NULL },
	/* filters apply to both sides */
	{ "debian-buster.json.golden", "alpine-310.json.golden", 1, NULL, 5,
	  "fixes: CVE-2019-18224 (1 CRITICAL)\n"
	  "introduces: CVE-2019-1549, CVE-2019-1551 (2 MEDIUM)\n",
	  NULL },
	{ "debian-buster.json.golden", "alpine-310.json.golden", 0, "CVE-2019-1551 CVE-2019-18276", 5,
	  "fixes: CVE-2019-18224 (1 CRITICAL)\n"
	  "introduces: CVE-2019-1549 (1 MEDIUM)\n",
	  NULL },
	/* the same ID in both images is neither fixed nor introduced */
	{ "distroless-base.json.golden", "alpine-39.json.golden", 0, NULL, 5,
	  "fixes: CVE-2019-1563 (1 LOW)\n"
	  "introduces: CVE-2019-14697, CVE-2019-1549 (1 CRITICAL, 1 MEDIUM)\n",
	  NULL },
	{ "busybox-with-lockfile.json.golden", "alpine-distroless.json.golden", 0, NULL, 5,
	  "fixes: CVE-2019-15542, CVE-2021-38193 (1 HIGH, 1 MEDIUM)\n"
	  "introduces: CVE-2022-24765 (1 MEDIUM)\n",
	  "fixes:\n"
	  "- CVE-2019-15542 (HIGH) ammonia 1.9.0, fixed in >= 2.1.0\n"
	  "- CVE-2021-38193 (MEDIUM) ammonia 1.9.0, fixed in >= 3.1.0, >= 2.1.3, < 3.0.0\n"
	  "introduces:\n"
	  "- CVE-2022-24765 (MEDIUM) git 2.35.1-r2, fixed in 2.35.2-r0\n" },
	{ "alpine-39.json.golden", "alpine-39.json.golden", 0, NULL, 5,
	  "fixes: none\n"
	  "introduces: none\n",
	  "fixes: none\n"
	  "introduces: none\n" },
};

/* ---- is the report for the image asked about ---------------------------------------------- */

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const struct artifact_case artifact_cases[] = {
	{ "ghcr.io/acme/app@" D1, NULL, NULL, "ghcr.io/acme/app", D1, MD_SCAN_OK },
	{ "ghcr.io/acme/app@" D2, NULL, NULL, "ghcr.io/acme/app", D1, MD_SCAN_WRONG_ARTIFACT },
	{ "ghcr.io/acme/other@" D1, NULL, NULL, "ghcr.io/acme/app", D1, MD_SCAN_WRONG_ARTIFACT },
	{ "quay.io/acme/app@" D1, NULL, NULL, "ghcr.io/acme/app", D1, MD_SCAN_WRONG_ARTIFACT },
	{ "ghcr.io/acme/app:1.0", NULL, NULL, "ghcr.io/acme/app", D1, MD_SCAN_WRONG_ARTIFACT },
	{ "alpine@" D1, NULL, NULL, "docker.io/library/alpine", D1, MD_SCAN_OK },
	{ "docker.io/library/alpine@" D1, NULL, NULL, "alpine", D1, MD_SCAN_OK },
	{ "index.docker.io/library/alpine@" D1, NULL, NULL, "library/alpine", D1, MD_SCAN_OK },
	{ "bitnami/redis@" D1, NULL, NULL, "docker.io/bitnami/redis", D1, MD_SCAN_OK },
	{ "localhost:5000/app@" D1, NULL, NULL, "localhost:5000/app", D1, MD_SCAN_OK },
	{ "localhost:5000/app@" D1, NULL, NULL, "app", D1, MD_SCAN_WRONG_ARTIFACT },
	/* what Trivy's own integration tests scanned: an image tarball */
	{ "testdata/fixtures/images/alpine-39.tar.gz", NULL, NULL, "ghcr.io/acme/app", D1,
	  MD_SCAN_WRONG_ARTIFACT },
	/* the name decides when present, RepoDigests only without it */
	{ "ghcr.io/acme/other@" D1, "ghcr.io/acme/app@" D1, NULL, "ghcr.io/acme/app", D1,
	  MD_SCAN_WRONG_ARTIFACT },
	{ NULL, "ghcr.io/acme/app@" D1, NULL, "ghcr.io/acme/app", D1, MD_SCAN_OK },
	{ NULL, "ghcr.io/acme/app@" D2 " ghcr.io/acme/app@" D1, NULL, "ghcr.io/acme/app", D1,
	  MD_SCAN_OK },
	{ NULL, "redis@" D1, NULL, "docker.io/library/redis", D1, MD_SCAN_OK },
	{ NULL, "ghcr.io/acme/app@" D2, NULL, "ghcr.io/acme/app", D1, MD_SCAN_WRONG_ARTIFACT },
	{ NULL, NULL, NULL, "ghcr.io/acme/app", D1, MD_SCAN_WRONG_ARTIFACT },
	{ "ghcr.io/acme/app@" D1, NULL, "container_image", "ghcr.io/acme/app", D1, MD_SCAN_OK },
	{ "ghcr.io/acme/app@" D1, NULL, "filesystem", "ghcr.io/acme/app", D1,
	  MD_SCAN_WRONG_ARTIFACT },
};

/* ---- reports that are not reports --------------------------------------------------------- */

static const struct bad_case bad_cases[] = {
	{ "", "the output is empty" },
	{ "Trivy would never print this", "not JSON" },
	{ "{\"SchemaVersion\": 2, \"Results\": [", "not JSON" },
	{ "{\"SchemaVersion\": 2}{}", "not JSON" },
	{ "[]", "the document is not a JSON object" },
	{ "\"report\"", "not JSON" }, /* jansson wants an array or object on top */
	{ "{\"SchemaVersion\": 1}", "SchemaVersion is not 2" },
	{ "{\"SchemaVersion\": \"2\"}", "SchemaVersion is not 2" },
	{ "{\"ArtifactName\": 7}", "report.ArtifactName is not a string" },
	{ "{\"ArtifactType\": {}}", "report.ArtifactType is not a string" },
	{ "{\"ArtifactName\": \"a\", \"ArtifactName\": \"b\"}", "duplicate object key" },
	{ "{\"Metadata\": []}", "Metadata is not an object" },
	{ "{\"Metadata\": {\"RepoDigests\": \"x@sha256:1\"}}", "Metadata.RepoDigests is not an array" },
	{ "{\"Metadata\": {\"RepoDigests\": [1]}}", "Metadata.RepoDigests[0] is not a string" },
	{ "{\"Results\": {}}", "report.Results is not an array" },
	{ "{\"Results\": [{}, 1]}", "Results[1] is not an object" },
	{ "{\"Results\": [{\"Vulnerabilities\": {}}]}", "Results[0].Vulnerabilities is not an array" },
	{ "{\"Results\": [{\"Vulnerabilities\": [[]]}]}",
	  "Results[0].Vulnerabilities[0] is not an object" },
	{ "{\"Results\": [{\"Vulnerabilities\": [{\"VulnerabilityID\": 1}]}]}",
	  "Results[0].Vulnerabilities[0].VulnerabilityID is not a string" },
	{ "{\"Results\": [{}, {\"Vulnerabilities\": [{}, {\"PkgName\": true}]}]}",
	  "Results[1].Vulnerabilities[1].PkgName is not a string" },
	{ "{\"Results\": [{\"Vulnerabilities\": [{\"Severity\": 4}]}]}",
	  "Results[0].Vulnerabilities[0].Severity is not a string" },
	{ "{\"Results\": [{\"Vulnerabilities\": [{\"Severity\": \"SEVERE\"}]}]}",
	  "Results[0].Vulnerabilities[0].Severity \"SEVERE\" is not a Trivy severity" },
	{ "{\"Results\": [{\"Vulnerabilities\": [{\"FixedVersion\": [\"1\"]}]}]}",
	  "Results[0].Vulnerabilities[0].FixedVersion is not a string" },
	{ "{\"Results\": [{\"Vulnerabilities\": [{\"Status\": 3}]}]}",
	  "Results[0].Vulnerabilities[0].Status is not a string" },
	{ "{\"ArtifactName\": \"a\\u0000b\"}", "not JSON" },
	{ "{\"Results\": [{\"Vulnerabilities\": [{\"Severity\": \"HI\\nGH\\u0007\"}]}]}",
	  "Results[0].Vulnerabilities[0].Severity \"HI?GH?\" is not a Trivy severity" },
	/* jansson quotes the input near an error: it stays one printable line */
	{ "{\"a\": \"\\u12\n\"}", "not JSON (invalid escape near '\"\\u12?', line 2 column 0)" },
	{ "{\"a\": \"\\u\x01\"}", "not JSON (invalid escape near '\"\\u?', line 1" },
};

#endif
