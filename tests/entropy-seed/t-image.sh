#!/bin/sh
# SPDX-License-Identifier: ISC
# t-image: image-check on a fake root tree. Each thing clones would share
# is listed and makes it exit 1; a clean tree (an empty machine-id) exits
# 0; --fix removes exactly the findings and nothing else, after which the
# tree checks clean.
#
# usage: sh t-image.sh /abs/entropy-seed /abs/entropyd
NAME=image
. "$(dirname "$0")/lib.sh"

R="$T/root"
# A tree as an image builder leaves it: every finding, and files around
# them that must survive --fix.
mkdir -p "$R/etc/ssh" "$R/var/lib/systemd/timers" "$R/var/cache/pollinate" \
    "$R/var/lib/cloud/instances/i-0123/sem" "$R/var/lib/cloud/data" \
    "$R/var/lib/dbus" || fatal "mkdir"
echo "PRIVATE KEY ed25519" >"$R/etc/ssh/ssh_host_ed25519_key"
echo "ssh-ed25519 AAAA host" >"$R/etc/ssh/ssh_host_ed25519_key.pub"
echo "PRIVATE KEY ecdsa" >"$R/etc/ssh/ssh_host_ecdsa_key"
echo "Port 22" >"$R/etc/ssh/sshd_config"
echo "Host *" >"$R/etc/ssh/ssh_config"
echo "0123456789abcdef0123456789abcdef" >"$R/etc/machine-id"
echo "0123456789abcdef0123456789abcdef" >"$R/var/lib/dbus/machine-id"
head -c 512 /dev/urandom >"$R/var/lib/systemd/random-seed"
: >"$R/var/lib/systemd/timers/stamp-apt-daily.timer"
: >"$R/var/cache/pollinate/seeded"
echo "i-0123" >"$R/var/lib/cloud/instances/i-0123/instance-id"
: >"$R/var/lib/cloud/instances/i-0123/sem/config_ssh"
# cloud-init's own shape: instance is an absolute symlink.
ln -s /var/lib/cloud/instances/i-0123 "$R/var/lib/cloud/instance"
echo "previous" >"$R/var/lib/cloud/data/previous-instance-id"
echo "image" >"$R/etc/hostname"

FINDINGS='/etc/machine-id
/var/lib/dbus/machine-id
/var/lib/systemd/random-seed
/var/cache/pollinate/seeded
/var/lib/cloud/instance
/var/lib/cloud/instances
/etc/ssh/ssh_host_ed25519_key
/etc/ssh/ssh_host_ed25519_key.pub
/etc/ssh/ssh_host_ecdsa_key'
KEPT='/etc/ssh/sshd_config
/etc/ssh/ssh_config
/etc/hostname
/var/lib/systemd/timers/stamp-apt-daily.timer
/var/lib/cloud/data/previous-instance-id'

# snapshot FILE: every path under R with its type, the size of each
# non-directory and each file's content hash. Not a directory's size: that
# is the file system's business (4096 on ext4, a function of the entries
# on tmpfs, so removing a finding would change its parent's).
snapshot() {
	(cd "$R" && find . \( -type d -printf '%p %y\n' \) -o \
	    -printf '%p %y %s\n' | sort &&
	    find . -type f -exec sha256sum {} + | sort) >"$1"
}

# 1. The dirty tree: exit 1, each finding on its own line, nothing touched.
snapshot "$T/before"
"$ES" image-check "$R" >"$T/check.out" 2>&1
rc=$?
[ $rc = 1 ] && pass "dirty tree: exit 1" ||
    fail "dirty tree: exit $rc, want 1" "$T/check.out"
echo "$FINDINGS" | while read -r p; do
	if grep -q "^$R$p: ." "$T/check.out"; then
		echo "ok - listed: $p"
	else
		echo "not ok - not listed: $p"
	fi
done >"$T/listed"
cat "$T/listed"
grep -q '^not ok' "$T/listed" && fail "findings missing" "$T/check.out"
n=$(grep -c "^$R/" "$T/check.out")
[ "$n" = 9 ] && pass "dirty tree: 9 findings, no more" ||
    fail "dirty tree: $n lines of findings, want 9" "$T/check.out"
for p in $KEPT; do
	grep -q "^$R$p:" "$T/check.out" && fail "not a finding, listed: $p"
done
snapshot "$T/after-check"
cmp -s "$T/before" "$T/after-check" && pass "the check changes nothing" ||
    fail "the check changed the tree"

# 2. --fix: removes (or empties) each finding, says so, exits 0.
"$ES" image-check --fix "$R" >"$T/fix.out" 2>&1
rc=$?
[ $rc = 0 ] && pass "--fix: exit 0" || fail "--fix: exit $rc" "$T/fix.out"
grep -q "^$R/etc/machine-id: emptied" "$T/fix.out" &&
    pass "--fix: says machine-id was emptied" ||
    fail "--fix: no 'emptied' for machine-id" "$T/fix.out"
n=$(grep -c "^$R/.*: removed$" "$T/fix.out")
[ "$n" = 8 ] && pass "--fix: says 8 findings were removed" ||
    fail "--fix: $n 'removed' lines, want 8" "$T/fix.out"
if [ -f "$R/etc/machine-id" ] && [ ! -s "$R/etc/machine-id" ]; then
	pass "--fix: etc/machine-id exists and is empty"
else
	fail "--fix: etc/machine-id missing or not empty"
fi
left=
for p in $FINDINGS; do
	[ "$p" = /etc/machine-id ] && continue
	if [ -e "$R$p" ] || [ -L "$R$p" ]; then
		left="$left $p"
	fi
done
[ -z "$left" ] && pass "--fix: every other finding is gone" ||
    fail "--fix: still there:$left"
# Everything else is exactly as it was: compare the snapshot of the tree
# minus the findings (and the directories they lived in stay).
snapshot "$T/after-fix"
for p in $FINDINGS; do
	[ "$p" = /etc/machine-id ] && continue
	echo ".$p"
done >"$T/gone"
grep -v -F -f "$T/gone" "$T/before" | grep -v '\./etc/machine-id' \
    >"$T/expect"
grep -v '\./etc/machine-id' "$T/after-fix" >"$T/got"
if cmp -s "$T/expect" "$T/got"; then
	pass "--fix: nothing else changed"
else
	fail "--fix: other files changed: $(diff "$T/expect" "$T/got" |
	    head -5 | tr '\n' ' ')"
fi
for p in $KEPT; do
	[ -f "$R$p" ] || fail "--fix: removed $p"
done

# 3. The fixed tree checks clean.
"$ES" image-check "$R" >"$T/again.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q 'nothing that clones would share' "$T/again.out"
then
	pass "after --fix: clean, exit 0"
else
	fail "after --fix: exit $rc" "$T/again.out"
fi

# 4. A clean tree from scratch: an empty machine-id and no findings.
C="$T/clean"
mkdir -p "$C/etc/ssh" "$C/var/lib/systemd" "$C/var/lib/cloud" \
    "$C/var/cache/pollinate" "$C/var/lib/dbus"
: >"$C/etc/machine-id"
echo "Port 22" >"$C/etc/ssh/sshd_config"
"$ES" image-check "$C" >"$T/clean.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q 'nothing that clones would share' "$T/clean.out"
then
	pass "clean tree (empty machine-id): exit 0"
else
	fail "clean tree: exit $rc" "$T/clean.out"
fi
# Debian and Ubuntu ship /var/lib/dbus/machine-id as a symlink to
# /etc/machine-id: not a second copy.
ln -s /etc/machine-id "$C/var/lib/dbus/machine-id"
"$ES" image-check "$C" >"$T/clean2.out" 2>&1
rc=$?
[ $rc = 0 ] && pass "clean tree with dbus's machine-id symlink: exit 0" ||
    fail "clean tree with dbus's machine-id symlink: exit $rc" \
        "$T/clean2.out"

# 4b. A finding --fix cannot remove (a directory where pollinate's flag
# file goes) is named, and --fix exits 1.
mkdir -p "$C/var/cache/pollinate/seeded"
"$ES" image-check --fix "$C" >"$T/stuck.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "pollinate/seeded: could not fix" "$T/stuck.out" &&
    grep -q "could not be fixed" "$T/stuck.out"; then
	pass "--fix that cannot fix: says so, exit 1"
else
	fail "--fix that cannot fix: exit $rc" "$T/stuck.out"
fi

# 4c. Absolute symlinks inside an image resolve inside the image: one
# pointing at this machine's files must not make --fix delete them.
H="$T/host"
E="$T/escape"
mkdir -p "$H/etc/ssh" "$H/var/lib/systemd" "$E/etc" "$E/var/lib"
echo "host key" >"$H/etc/ssh/ssh_host_ed25519_key"
echo "host seed" >"$H/var/lib/systemd/random-seed"
echo "host id" >"$H/etc/machine-id"
ln -s "$H/etc/ssh" "$E/etc/ssh"
ln -s "$H/var/lib/systemd" "$E/var/lib/systemd"
ln -s "$H/etc/machine-id" "$E/etc/machine-id"
"$ES" image-check --fix "$E" >"$T/escape.out" 2>&1
if [ -s "$H/etc/ssh/ssh_host_ed25519_key" ] &&
    [ -s "$H/var/lib/systemd/random-seed" ] && [ -s "$H/etc/machine-id" ]
then
	pass "--fix stays inside the image root (absolute symlinks)"
else
	fail "--fix followed a symlink out of the image root" "$T/escape.out"
fi

# 5. Usage: a missing root is an error (2), not "clean".
"$ES" image-check "$T/no-such-root" >"$T/missing.out" 2>&1
rc=$?
[ $rc = 2 ] && pass "missing root: exit 2" ||
    fail "missing root: exit $rc, want 2" "$T/missing.out"
finish
