#!/bin/sh
# Policy benchmark: choose among 100,000 tags of mixed schemes with a range
# and a filter through `explain --tags` (parse, filter, order, trace, JSON
# output). Prints wall time and peak memory. Usage: policy.sh MAGOS_BIN
set -eu
bin=${1:?usage: policy.sh MAGOS_BIN}
n=${MAGOS_BENCH_TAGS:-100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Deterministic mix: semver with and without v, flavours, prereleases
# (rc.N, betaN), two- and four-part versions, CalVer, dates, build numbers,
# commit tags and signature tags.
awk -v n="$n" 'BEGIN {
	split("alpine bookworm bookworm-slim alpine3.19", fl, " ");
	for (i = 0; i < n; i++) {
		k = i % 10; a = int(i / 10) % 4; b = int(i / 40) % 50; c = int(i / 2000) % 50;
		if (k == 0)      printf "%d.%d.%d\n", a, b, c;
		else if (k == 1) printf "v%d.%d.%d\n", a, b, c;
		else if (k == 2) printf "%d.%d.%d-%s\n", a, b, c, fl[(i % 4) + 1];
		else if (k == 3) printf "%d.%d.%d-rc.%d\n", a, b, c, i % 13;
		else if (k == 4) printf "%d.%d.%d-beta%d-alpine\n", a, b, c, i % 11;
		else if (k == 5) printf "%d.%d\n", a, b * 50 + c;
		else if (k == 6) printf "%d.%d.%d.%d\n", a, b, c, i % 97;
		else if (k == 7) printf "%d.%02d.%02d\n", 2000 + int(i / 10) % 30, (i % 12) + 1, (i % 28) + 1;
		else if (k == 8) printf "build-%d\n", i;
		else             printf "sha256-%064x.sig\n", i;
	}
}' > "$tmp/tags"

fmt=${MAGOS_BENCH_FORMAT:-json}
annotation='{"magos": {"range": "^1", "filter": "^v?[0-9]+\\.[0-9]+"}}'
echo "policy: $(wc -l < "$tmp/tags") tags, annotation $annotation"
/usr/bin/time -f '%e s %M KiB' "$bin" explain --annotation "$annotation" --current 1.0.0 \
	--tags "$tmp/tags" --now 2024-06-01T00:00:00Z --format "$fmt" > "$tmp/out" 2> "$tmp/time" || {
	cat "$tmp/time" >&2
	exit 1
}
# The decision: "decision: TAG" (table) or the object after "decision" (json).
decision=$(awk '/^decision: /{sub(/^decision: /, ""); print; exit}
	/"decision": null/{print "none"; exit}
	/"decision": \{/{getline; gsub(/[" ]/, ""); sub(/^tag:/, ""); print; exit}' "$tmp/out")
echo "policy: $fmt output, decision $decision"
echo "policy: $(tail -1 "$tmp/time") (wall time, peak RSS)"
