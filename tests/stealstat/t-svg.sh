#!/bin/sh
# SPDX-License-Identifier: ISC
# stealstat report --svg, rendered by a real SVG renderer (rsvg-convert,
# librsvg2-bin): the PNG must be 960x400, not blank, and show the shaded
# night of steal and the steal line.
. "$(dirname "$0")/lib.sh"
export TZ=UTC
command -v rsvg-convert >/dev/null || {
	echo "not ok - rsvg-convert is missing (scripts/deps check installs librsvg2-bin)"
	exit 1
}
python3 "$here/mkhist.py" "$tmp" || exit 1
"$bin" monitor --history "$tmp/h" --replay "$tmp/night.rec" 2>/dev/null || exit 1

if "$bin" report --from "$tmp/h" --until 2026-11-26T08:00Z --since 24h \
	--svg "$tmp/day.svg" >"$tmp/out" 2>&1; then
	ok "report --svg writes the picture"
else
	not_ok "report --svg: $(cat "$tmp/out")"
fi
if grep -q '<title>capped</title>' "$tmp/day.svg" &&
	grep -q 'night:\|CPU steal, 2026-11-25 08:00 to 2026-11-26 08:00' "$tmp/day.svg" &&
	grep -q 'steal threshold 10% of wanted time' "$tmp/day.svg"; then
	ok "the SVG has the title, the shaded capped period and the threshold"
else
	not_ok "SVG content:"
	head -c 2000 "$tmp/day.svg"
fi
if rsvg-convert -o "$tmp/day.png" "$tmp/day.svg" 2>"$tmp/err"; then
	ok "rsvg-convert renders it"
else
	not_ok "rsvg-convert: $(cat "$tmp/err")"
fi
# The capped shading (its legend swatch alone is 288 pixels) and the
# steal-of-wanted-time line (its legend swatch is 72).
if python3 "$here/pngcheck.py" "$tmp/day.png" 960 400 '#f8c9a0:1000' \
	'#c0392b:150' >"$tmp/png" 2>&1; then
	ok "PNG: $(head -n 1 "$tmp/png")"
else
	not_ok "PNG check: $(cat "$tmp/png")"
fi
# A window without steal draws no shading: the check can fail.
"$bin" report --from "$tmp/h" --since 2026-11-25T10:00Z --until 2026-11-25T12:00Z \
	--svg "$tmp/quiet.svg" >/dev/null 2>&1
rsvg-convert -o "$tmp/quiet.png" "$tmp/quiet.svg" 2>/dev/null
if python3 "$here/pngcheck.py" "$tmp/quiet.png" 960 400 '#f8c9a0:1000' >/dev/null 2>&1; then
	not_ok "a quiet window's picture has capped shading"
else
	ok "a quiet window's picture has no shading"
fi
# The speed probe: its lines on their own scale when the history has
# them (speed.rec), none when it has not (night.rec has no speed).
speed_color='#1e8449'
if grep -q 'class="speed"' "$tmp/day.svg" || grep -q 'speed, % of best' "$tmp/day.svg"; then
	not_ok "a history without speed draws a speed line"
else
	ok "a history without speed draws no speed line"
fi
if python3 "$here/pngcheck.py" "$tmp/day.png" 960 400 "$speed_color:1" >/dev/null 2>&1; then
	not_ok "a history without speed: its picture has the speed colour"
else
	ok "a history without speed: no speed colour in its picture"
fi
"$bin" monitor --history "$tmp/s" --replay "$tmp/speed.rec" 2>/dev/null || exit 1
if "$bin" report --from "$tmp/s" --since 2026-11-27T00:00Z --until 2026-11-27T04:00Z \
	--svg "$tmp/speed.svg" >"$tmp/out" 2>&1 &&
	[ "$(grep -c 'class="speed"' "$tmp/speed.svg")" -ge 2 ] &&
	grep -q 'speed, % of best (right)' "$tmp/speed.svg" &&
	grep -q 'slow threshold 70% of best speed' "$tmp/speed.svg" &&
	grep -q '<title>slowed</title>' "$tmp/speed.svg"; then
	ok "a history with speed: speed lines, their legend, the slow threshold, slowed shaded"
else
	not_ok "speed SVG: $(cat "$tmp/out"); $(grep -c speed "$tmp/speed.svg") speed lines"
fi
# The speed line (its legend swatch alone is 72 pixels) and the slowed
# shading (its swatch is 288).
if rsvg-convert -o "$tmp/speed.png" "$tmp/speed.svg" 2>"$tmp/err" &&
	python3 "$here/pngcheck.py" "$tmp/speed.png" 960 400 "$speed_color:150" \
		'#d5f5e3:1000' >"$tmp/png" 2>&1; then
	ok "speed PNG: $(head -n 1 "$tmp/png")"
else
	not_ok "speed PNG: $(cat "$tmp/err" "$tmp/png")"
fi
# A window of one period: each line has a single point, which a
# polyline does not draw; each must show as a marker in its colour.
"$bin" report --from "$tmp/h" --since 2026-11-26T02:12Z --until 2026-11-26T02:13Z \
	--svg "$tmp/one.svg" >"$tmp/out" 2>&1
missing=
for color in '#4a7fb5' '#c0392b' '#e67e22' '#7f8c8d'; do
	grep -q "<circle [^>]*fill=\"$color\"" "$tmp/one.svg" || missing="$missing $color"
done
if [ -z "$missing" ] && rsvg-convert -o "$tmp/one.png" "$tmp/one.svg" 2>"$tmp/err"; then
	ok "a one-period window draws a marker per line"
else
	not_ok "one-period SVG: no marker for:$missing $(cat "$tmp/out" "$tmp/err" 2>/dev/null)"
fi
# The legend's labels do not run into each other: measured with DejaVu
# Sans's advance widths at 12 px (the font the SVG asks for first; an
# unknown character counts as a wide one), each label ends at least 8 px
# before the next entry starts.
if python3 - "$tmp/day.svg" "$tmp/speed.svg" >"$tmp/legend" 2>&1 <<'PY'; then
import re, sys
W = {" ": 651, "%": 1950, ",": 651, "(": 799, ")": 799, "a": 1255,
     "b": 1300, "c": 1126, "d": 1300, "e": 1260, "f": 721, "g": 1300,
     "h": 1298, "i": 569, "k": 1186, "l": 569, "m": 1995, "n": 1298,
     "o": 1253, "p": 1300, "r": 842, "s": 1067, "t": 803, "u": 1298,
     "v": 1212, "w": 1675, "y": 1212, "P": 1255, "S": 1300, "I": 604,
     "U": 1499, "C": 1430}
def width(text):
    return sum(W.get(c, 2000) for c in text) * 12 / 2048
bad = []
for path in sys.argv[1:]:
    svg = open(path).read()
    rows = {}
    for m in re.finditer(r'<(line|rect) x1?="(\d+)" y1?="(\d+)"[^>]*/>'
                         r'<text x="(\d+)" y="(\d+)">([^<]*)</text>', svg.replace("\n", "")):
        rows.setdefault(int(m.group(5)), []).append(
            (int(m.group(2)), int(m.group(4)), m.group(6)))
    for y, items in rows.items():
        items.sort()
        for (x0, tx, text), (nx, _, ntext) in zip(items, items[1:]):
            end = tx + width(text)
            if end + 8 > nx:
                bad.append("%s: '%s' ends at %.0f, '%s' starts at %d"
                           % (path.rsplit("/", 1)[1], text, end, ntext, nx))
        for x0, tx, text in items:
            if tx + width(text) > 960:
                bad.append("'%s' runs off the picture" % text)
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
	ok "legend labels do not overlap"
else
	not_ok "legend: $(cat "$tmp/legend")"
fi
if [ -n "${STEALSTAT_SVG_KEEP:-}" ]; then
	cp "$tmp/day.svg" "$tmp/day.png" "$tmp/speed.svg" "$tmp/speed.png" \
		"$STEALSTAT_SVG_KEEP"/
fi
exit $fail
