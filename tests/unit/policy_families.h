/* Real image families: the tags they publish and what a site moves to.
 * The same rows are the table in docs/policies.md; keep them in step.
 * Tag sets are trimmed from the families' registries (a few releases,
 * every scheme and flavour they mix). Included once, by test_policy.c. */
#ifndef POLICY_FAMILIES_H
#define POLICY_FAMILIES_H

#define FAM_SV(range) "{\"magos\": {\"policy\": \"semver\", \"range\": \"" range "\"}}"
#define FAM_SV_PRE(range) \
	"{\"magos\": {\"policy\": \"semver\", \"range\": \"" range "\", \"prerelease\": true}}"

#define POSTGRES                                                                          \
	"16.4 16.4-alpine 16.4-alpine3.20 16.4-bookworm 16.6 16.6-alpine 16.6-alpine3.21 "   \
	"16.6-bookworm 16 16-alpine 17.2 17.2-alpine 17.2-bookworm 17 17-alpine 17rc1 "      \
	"17rc1-alpine 17beta3-bookworm 18beta1 18beta1-alpine latest alpine bookworm"
#define PYTHON                                                                            \
	"3.12.7 3.12.7-slim 3.12.7-slim-bookworm 3.12.7-alpine3.20 3.12.8-slim 3.12-slim 3.12 " \
	"3.13.0rc1-slim 3.13.0rc2-slim 3.13.0-slim 3.13.1 3.13.1-slim 3.13.1-slim-bookworm "  \
	"3.13.1-alpine3.21 3.13-slim 3.13-rc-slim 3.14.0a1 3.14.0a1-slim 3.8.0b1-alpine slim " \
	"latest"
#define NODE                                                                              \
	"20.18.0 20.18.0-alpine 20.18.0-alpine3.20 20.18.0-bookworm-slim 20.18.1-alpine "     \
	"20.18.1-bookworm-slim 20-alpine 20 22.12.0-alpine 22.12.0-bookworm-slim "            \
	"23.4.0-alpine lts lts-alpine iron-alpine jod current-alpine"
#define NGINX                                                                             \
	"1.26.2 1.26.2-alpine 1.26.2-alpine-slim 1.26.2-perl 1.26.3-alpine 1.27.3 "          \
	"1.27.3-alpine 1.27.3-alpine-slim 1.27.3-alpine3.20-perl 1.27 1.27-alpine 1 mainline " \
	"stable stable-alpine mainline-alpine3.20-slim"
#define REDIS                                                                             \
	"7.2.6 7.2.6-alpine 7.2.7-alpine 7.4.1 7.4.1-alpine 7.4.1-alpine3.20 7.4.1-bookworm " \
	"7.4.2-alpine 7.4-alpine 7-alpine 7 8.0-M02 8.0-M02-alpine latest alpine"
#define SONARR                                                                            \
	"4.0.10.2544-ls260 4.0.11.2680-ls261 4.0.11.2680-ls262 4.0.12.2823-ls263 "            \
	"version-4.0.12.2823 4.0.12.2823 latest develop"
#define MARIADB_LS                                                                        \
	"10.11.8-r0-ls150 10.11.8-r0-ls151 10.11.9-r0-ls152 11.4.4-r1-ls160 11.4.4-r2-ls161 " \
	"latest"
#define LS_ISSUE "4.0.1-ls220 4.0.1-ls221 4.0.1-ls999 4.0.2-ls1 4.0.2 latest"
#define NETBOX                                                                            \
	"v4.1-3.0.2 v4.1.6-3.0.2 v4.1.7-3.0.2 v4.1.7-3.1.0 v4.2-3.1.0 v4.2.1-3.1.0 v4.1 "     \
	"v4.1.7 v4.2.1 latest latest-3.1.0 snapshot snapshot-3.1.0"
#define MAILCOW "1.25.1 1.25.1-1 1.25.1-2 1.25.2-1 nightly"
#define MAILCOW_2 "1.77 1.78 1.79 latest"
#define IMMICH "v1.120.2 v1.121.0 v1.122.3 release main pr-14000 commit-0a1b2c3"
#define IMMICH_ML "v1.121.0 v1.121.0-cuda v1.122.3-cuda v1.122.3-openvino v1.122.3 release-cuda"
#define IMMICH_PG                                                                         \
	"14-vectorchord0.4.3-pgvectors0.2.0 15-vectorchord0.4.3-pgvectors0.2.0 "              \
	"14-vectorchord0.4.4-pgvectors0.2.0 14"
#define HASS                                                                              \
	"2024.11.3 2024.12.0b0 2024.12.0b5 2024.12.0 2024.12.1 2024.12.5 2025.1.0b1 "          \
	"2025.2.0.dev20250110 stable beta dev latest rc"
#define GITEA                                                                             \
	"1.22.3 1.22.3-rootless 1.22.6 1.22.6-rootless 1.22 1.22-rootless 1.23.0-rc0 "        \
	"1.23.0-rc0-rootless 1.23.1 1.23.1-rootless 1.23 1 latest latest-rootless nightly "   \
	"1.23-nightly"

static const struct family_case family_cases[] = {
	{ "postgres", FAM_SV("^16"), "16.4-alpine", POSTGRES, "16.6-alpine", MD_DECISION_TAG },
	{ "postgres", FAM_SV("*"), "16.4-alpine", POSTGRES, "17.2-alpine", MD_DECISION_TAG },
	{ "postgres", FAM_SV("*"), "16.4", POSTGRES, "17.2", MD_DECISION_TAG },
	{ "postgres", FAM_SV("*"), "16-alpine", POSTGRES, "17-alpine", MD_DECISION_TAG },
	{ "postgres", FAM_SV_PRE("*"), "16-alpine", POSTGRES, "18beta1-alpine", MD_DECISION_TAG },
	{ "postgres", FAM_SV("^16"), "latest", POSTGRES, "16.6", MD_DECISION_TAG },
	{ "postgres", FAM_SV("*"), "alpine", POSTGRES, NULL, MD_DECISION_UNREADABLE },

	{ "python", FAM_SV("*"), "3.13.0rc1-slim", PYTHON, "3.13.1-slim", MD_DECISION_TAG },
	{ "python", FAM_SV_PRE("*"), "3.13.0rc1-slim", PYTHON, "3.14.0a1-slim", MD_DECISION_TAG },
	{ "python", FAM_SV("~3.12"), "3.12.7-slim", PYTHON, "3.12.8-slim", MD_DECISION_TAG },
	{ "python", FAM_SV("*"), "3.12-slim", PYTHON, "3.13-slim", MD_DECISION_TAG },
	{ "python", FAM_SV("*"), "3.12.7-alpine3.20", PYTHON, "3.12.7-alpine3.20",
	  MD_DECISION_TAG },
	{ "python", FAM_SV("*"), "3.8.0b1-alpine", PYTHON, NULL, MD_DECISION_NONE },

	{ "node", FAM_SV("^20"), "20.18.0-alpine", NODE, "20.18.1-alpine", MD_DECISION_TAG },
	{ "node", FAM_SV("^20"), "20.18.0-bookworm-slim", NODE, "20.18.1-bookworm-slim",
	  MD_DECISION_TAG },
	{ "node", FAM_SV("*"), "20.18.0-alpine", NODE, "23.4.0-alpine", MD_DECISION_TAG },
	{ "node", FAM_SV("*"), "lts-alpine", NODE, NULL, MD_DECISION_UNREADABLE },

	{ "nginx", FAM_SV("~1.26"), "1.26.2-alpine", NGINX, "1.26.3-alpine", MD_DECISION_TAG },
	{ "nginx", FAM_SV("*"), "1.26.2-alpine-slim", NGINX, "1.27.3-alpine-slim",
	  MD_DECISION_TAG },
	{ "nginx", FAM_SV("*"), "1.26.2", NGINX, "1.27.3", MD_DECISION_TAG },
	{ "nginx", FAM_SV("*"), "1.27-alpine", NGINX, "1.27-alpine", MD_DECISION_TAG },
	{ "nginx", FAM_SV("*"), "stable-alpine", NGINX, NULL, MD_DECISION_UNREADABLE },

	{ "redis", FAM_SV("~7.2"), "7.2.6-alpine", REDIS, "7.2.7-alpine", MD_DECISION_TAG },
	{ "redis", FAM_SV("*"), "7.4.1-alpine", REDIS, "7.4.2-alpine", MD_DECISION_TAG },
	{ "redis", FAM_SV("*"), "7.4-alpine", REDIS, "7.4-alpine", MD_DECISION_TAG },
	{ "redis", FAM_SV("*"), "7", REDIS, "7", MD_DECISION_TAG },

	{ "linuxserver", FAM_SV("*"), "4.0.11.2680-ls261", SONARR, "4.0.12.2823-ls263",
	  MD_DECISION_TAG },
	{ "linuxserver", FAM_SV("4.0.11"), "4.0.11.2680-ls261", SONARR, "4.0.11.2680-ls262",
	  MD_DECISION_TAG },
	{ "linuxserver", FAM_SV("^10"), "10.11.8-r0-ls150", MARIADB_LS, "10.11.9-r0-ls152",
	  MD_DECISION_TAG },
	{ "linuxserver", FAM_SV("^11"), "11.4.4-r1-ls160", MARIADB_LS, "11.4.4-r2-ls161",
	  MD_DECISION_TAG },
	{ "linuxserver", FAM_SV("*"), "4.0.1-ls220", LS_ISSUE, "4.0.2-ls1", MD_DECISION_TAG },

	{ "netbox", FAM_SV("*"), "v4.1-3.0.2", NETBOX, "v4.2-3.1.0", MD_DECISION_TAG },
	{ "netbox", FAM_SV("~4.1"), "v4.1.6-3.0.2", NETBOX, "v4.1.7-3.1.0", MD_DECISION_TAG },
	{ "netbox", FAM_SV("*"), "v4.1.7", NETBOX, "v4.2.1", MD_DECISION_TAG },
	{ "netbox", FAM_SV("*"), "latest-3.1.0", NETBOX, NULL, MD_DECISION_UNREADABLE },

	{ "mailcow", FAM_SV("*"), "1.25.1-1", MAILCOW, "1.25.2-1", MD_DECISION_TAG },
	{ "mailcow", FAM_SV("1.25.1"), "1.25.1-1", MAILCOW, "1.25.1-2", MD_DECISION_TAG },
	{ "mailcow", FAM_SV("*"), "1.25.1", MAILCOW, "1.25.1", MD_DECISION_TAG },
	{ "mailcow", FAM_SV("*"), "1.77", MAILCOW_2, "1.79", MD_DECISION_TAG },

	{ "immich", FAM_SV("^1"), "v1.120.2", IMMICH, "v1.122.3", MD_DECISION_TAG },
	{ "immich", FAM_SV("^1"), "v1.121.0-cuda", IMMICH_ML, "v1.122.3-cuda", MD_DECISION_TAG },
	{ "immich", FAM_SV("*"), "release", IMMICH, NULL, MD_DECISION_UNREADABLE },
	{ "immich", FAM_SV("^14"), "14-vectorchord0.4.3-pgvectors0.2.0", IMMICH_PG,
	  "14-vectorchord0.4.3-pgvectors0.2.0", MD_DECISION_TAG },

	{ "home-assistant", FAM_SV("*"), "2024.11.3", HASS, "2024.12.5", MD_DECISION_TAG },
	{ "home-assistant", FAM_SV("*"), "2024.12.0b0", HASS, "2024.12.5", MD_DECISION_TAG },
	{ "home-assistant",
	  "{\"magos\": {\"range\": \"*\", \"prerelease\": true, \"exclude\": \"dev\"}}",
	  "2024.11.3", HASS, "2025.1.0b1", MD_DECISION_TAG },
	{ "home-assistant", FAM_SV("*"), "stable", HASS, NULL, MD_DECISION_UNREADABLE },

	{ "gitea", FAM_SV("~1.22"), "1.22.3-rootless", GITEA, "1.22.6-rootless", MD_DECISION_TAG },
	{ "gitea", FAM_SV("*"), "1.22.3-rootless", GITEA, "1.23.1-rootless", MD_DECISION_TAG },
	{ "gitea", FAM_SV("*"), "1.22", GITEA, "1.23", MD_DECISION_TAG },
	{ "gitea", FAM_SV("*"), "1", GITEA, "1", MD_DECISION_TAG },
};

#endif
