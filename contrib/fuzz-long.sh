#!/bin/sh
# A fuzzing campaign: each libFuzzer target for SECONDS, one after the other
# in a single process (one core), then a Markdown table of what libFuzzer
# reported at the end (executions, coverage) and whether it crashed.
#
#   contrib/fuzz-long.sh SECONDS BUILD_DIR build/fuzz/fuzz_<name>...
#
# New inputs go to BUILD_DIR/fuzz-corpus/<name> (the seeds in
# tests/fuzz/corpus/<name> are only read); logs and any crash, leak,
# timeout or OOM input to BUILD_DIR/fuzz-long/. Exits 1 when a target
# failed, after running the others.
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 SECONDS BUILD_DIR FUZZ_BINARY..." >&2
	exit 2
fi
secs=$1
build=$2
shift 2
out=$build/fuzz-long
mkdir -p "$out"
# Unless the caller says otherwise: a smaller quarantine, no fill of fresh
# allocations and short allocation stacks roughly double the executions
# per second; errors are still caught, with shorter allocation traces
# (replay a crashing input with the defaults for the full report).
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16:max_malloc_fill_size=0:malloc_context_size=5}"
failed=0
rows=""

for bin in "$@"; do
	name=${bin##*/fuzz_}
	seeds=tests/fuzz/corpus/$name
	corpus=$build/fuzz-corpus/$name
	log=$out/$name.log
	mkdir -p "$corpus"
	rm -f "$out/$name"-crash-* "$out/$name"-leak-* "$out/$name"-timeout-* \
		"$out/$name"-oom-* "$out/$name"-slow-unit-*
	echo "fuzz-long: $name for ${secs}s" >&2
	start=$(date +%s)
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/$name-" "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	found=$(find "$out" -maxdepth 1 -name "$name-*" ! -name '*.log' | wc -l)
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		failed=1
		verdict="FAILED (exit $rc, $found input(s) in $out)"
	else
		verdict=0
	fi
	rows="$rows| fuzz_$name | $took | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $verdict |
"
done

cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
printf '\nFuzzing on %s, %s (%s CPUs, %s), %ss per target, one process:\n\n' \
	"$(date -u +%Y-%m-%d)" "${cpu:-unknown CPU}" "$(nproc)" "$(uname -m)" "$secs"
printf '| target | seconds | executions | execs/s | cov | ft | corpus | crashes |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---|\n'
printf '%s' "$rows"
exit "$failed"
