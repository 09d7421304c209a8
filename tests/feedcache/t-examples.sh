#!/bin/sh
# SPDX-License-Identifier: ISC
# The reader snippets in feedcache(1) EXAMPLES are the tested files of
# tests/feedcache/readers/, line for line (the SPDX line aside).
#
#	sh t-examples.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
for f in reader.php reader.py reader.js; do
	python3 - "$src/feedcache/feedcache.1" "$src/tests/feedcache/readers/$f" \
		"tests/feedcache/readers/$f" >"$tmp/diff" 2>&1 <<'EOF'
import difflib, sys
man, path, name = sys.argv[1:]
lines = open(man).read().split("\n")
try:
    i = lines.index('.\\" begin ' + name)
except ValueError:
    sys.exit("no '.\\\" begin %s' in feedcache.1" % name)
assert lines[i + 1].startswith(".Bd -literal")
block = lines[i + 2:lines.index(".Ed", i)]
want = []
for line in open(path).read().rstrip("\n").split("\n"):
    if "SPDX-License-Identifier" in line:
        continue
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    want.append(line)
if block != want:
    sys.stdout.writelines(difflib.unified_diff(
        [l + "\n" for l in want], [l + "\n" for l in block], name, "feedcache.1"))
    sys.exit(1)
EOF
	check "feedcache(1) EXAMPLES shows $f as tested" '[ ! -s "$tmp/diff" ]' ||
		sed 's/^/# /' "$tmp/diff"
done
finish
