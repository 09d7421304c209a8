# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# TAP-style verdicts for the shell tests (tests/feedcache, tests/ship):
# ok and not_ok print a line, not_ok also sets $fail, which the script's
# finish turns into the exit status.
fail=0
ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	fail=1
}
check() { # check DESCRIPTION 'SHELL CONDITION': false if it failed
	if eval "$2"; then
		ok "$1"
	else
		not_ok "$1"
		return 1
	fi
}
