#!/bin/sh
# SPDX-License-Identifier: ISC
# stealstat.1 says what the program does: its examples show the table
# header and the check perfdata the binary prints today, and it renders
# without nested quotes (one .Ql per item, never .Ql inside .Ql).
. "$(dirname "$0")/lib.sh"
page=$here/../../stealstat/stealstat.1
cd "$here" || exit 1

# Rendered, no quoted item runs into the next: two closing quotes in a
# row only come from a .Ql nested in another.
if ! command -v mandoc >/dev/null; then
	ok "nested quotes # SKIP no mandoc"
elif mandoc -Tutf8 "$page" | col -b >"$tmp/page.txt" &&
	! grep -n "’’\|‘[^’]*‘" "$tmp/page.txt" >"$tmp/nested"; then
	ok "no nested quotes in the rendered page"
else
	not_ok "nested quotes: $(cat "$tmp/nested")"
fi

# The live table's header: the example's columns are the program's (with
# the speed probe's %spd, as a live run shows it).
want=$("$bin" --replay slowed.rec 2>/dev/null | head -n 1 | tr -s ' ')
have=$(sed -n '/^\$ stealstat 1 10$/{n;p;q;}' "$page" | tr -s ' ')
if [ -n "$want" ] && [ "$have" = "$want" ]; then
	ok "the example table header is the program's: $have"
else
	not_ok "example header '$have', the program prints '$want'"
fi

# The check example's perfdata: the thresholds sit on the label the
# program puts them on, and its labels come in the program's order.
out=$("$bin" check --replay busy-stolen.rec -w 5 -c 20)
labels() { tr ' ' '\n' | sed -n 's/^\([a-z_]*\)=[0-9.]*%\{0,1\};.*/\1/p' | paste -s -d ' '; }
thresholded() { tr ' ' '\n' | sed -n 's/^\([a-z_]*\)=[0-9.]*%\{0,1\};5;20;.*/\1/p'; }
perf=$(sed -n '/^\$ stealstat check -w 5 -c 20/,/^\.Ed/p' "$page" |
	sed -n '/|/,$p' | sed 's/.*|//' | tr '\n' ' ')
want_l=$(printf '%s' "${out#*|}" | labels)
have_l=$(printf '%s' "$perf" | labels)
want_t=$(printf '%s' "${out#*|}" | thresholded)
have_t=$(printf '%s' "$perf" | thresholded)
if [ -n "$have_t" ] && [ "$have_t" = "$want_t" ] && [ "$have_l" = "$want_l" ]; then
	ok "the check example's perfdata is the program's: $have_l, -w/-c on $have_t"
else
	not_ok "check example perfdata '$have_l' (-w/-c on '$have_t'), the program prints '$want_l' (-w/-c on '$want_t')"
fi
exit $fail
