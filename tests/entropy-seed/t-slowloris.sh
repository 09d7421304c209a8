#!/bin/sh
# SPDX-License-Identifier: ISC
# t-slowloris: 300 half-open connections from an honest client's own
# address and 300 from an address outside allow, in network namespaces;
# the honest client is still seeded, the connections from outside are
# closed at accept, the ones from its address are evicted or timed out,
# and a connection trickling its request a byte at a time is closed at
# the deadline. Skips (77) where namespaces cannot be made.
#
# usage: sh t-slowloris.sh ENTROPY_SEED ENTROPYD
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export FLEET_DEADLINE=90 FLEET_TIMEOUT=20
python3 "$HERE/fleet.py" "$1" "$2" slowloris 300 || exit $?
echo "ok - honest client served beside 600 half-open connections"
