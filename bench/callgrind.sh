# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# What the stealstat benchmarks share (sourced, not run: bench/run runs
# only the executables here):
#
#	. "$(dirname "$0")/callgrind.sh"
#
# It makes $tmp, removed on exit, and defines instructions CMD...: the
# instructions valgrind --tool=callgrind counts in CMD, its output
# discarded; a run that fails shows its errors and ends the benchmark.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

instructions() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$@" \
		>/dev/null 2>"$tmp/err" || {
		cat "$tmp/err" >&2
		exit 1
	}
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/err"
}
