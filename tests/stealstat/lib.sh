# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# What the stealstat shell tests share; each t-NAME.sh sources it first
# thing (it is not a test: CTest runs t-*.sh only):
#
#	. "$(dirname "$0")/lib.sh"
#
# It takes the stealstat binary from the first argument ($bin, an
# absolute path), sets $here (this folder) and makes $tmp; on exit it
# stops the process whose pid stands in $pid (a script empties $pid once
# it has waited for that process) and removes $tmp. ok, not_ok and $fail
# come from tests/lib/tap.sh.
set -u
bin=$(realpath "${1:?usage: ${0##*/} STEALSTAT}") || exit 1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d) || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=../lib/tap.sh
. "$here/../lib/tap.sh"
