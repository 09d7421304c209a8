#!/bin/sh
# SPDX-License-Identifier: ISC
# t-fleet: a fleet boots seeded against entropyd's shipped defaults, in
# network namespaces (IPv4 addresses and IPv6 /128s inside one /64):
#  - a small boot storm, 60 instances from 6 addresses with 2 group
#    tokens (bench/boot-storm is the 500-instance one);
#  - 40 instances on one address with one group token, beside a
#    neighbour on that address flooding without a token (403s) and with
#    another token (429s), and a stranger outside allow: all 40 seeded.
# The machines make check runs on are shared and the build is
# sanitized, so the clients get a 90 s deadline and 20 s per try here:
# what is checked is that no instance is shut out; the times are the
# benchmark's. Skips (77) where namespaces cannot be made.
#
# usage: sh t-fleet.sh ENTROPY_SEED ENTROPYD
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export FLEET_DEADLINE=90 FLEET_TIMEOUT=20
python3 "$HERE/fleet.py" "$1" "$2" boot-storm 60 6 2 3
rc=$?
[ $rc = 0 ] || exit $rc
echo "ok - boot storm: every instance seeded"
python3 "$HERE/fleet.py" "$1" "$2" neighbours || exit $?
echo "ok - 40 instances with one token beside a flooding neighbour: all seeded"
