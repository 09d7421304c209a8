# SPDX-License-Identifier: ISC
# tenantkit front door. Everything real lives in CMake and scripts/;
# this file only delegates.

PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 60

.PHONY: all demo check fresh-check system-check bench fuzz install deb clean

all:
	scripts/deps build
	cmake --preset release
	cmake --build --preset release

demo: all
	scripts/deps demo
	scripts/demo build/release

check:
	scripts/deps check
	cmake --preset ci
	cmake --build --preset ci
	ctest --preset ci

# The two commands above, as a new user runs them on a pristine Debian 12
# (root; about 10 minutes; exit 77 when the package mirror is unreachable).
fresh-check:
	scripts/fresh-check

bench: all
	scripts/deps bench
	bench/run build/release

fuzz:
	scripts/deps fuzz
	cmake --preset fuzz
	cmake --build --preset fuzz
	scripts/fuzz build/fuzz $(FUZZ_SECONDS)

# `make` first (as yourself), then `sudo make install`: installing builds
# nothing, so the build tree stays yours.
install:
	@test -f build/release/build.ninja || { \
		echo "install: nothing built yet: run 'make' first" >&2; exit 2; }
	DESTDIR="$(DESTDIR)" cmake --install build/release --prefix "$(PREFIX)"

deb:
	scripts/deps deb
	scripts/deb

# The packages, installed with apt in a booted Debian 12 container and
# driven with systemctl (tests/system/run; docs/TESTING.md). Needs root
# and the Debian mirror; when the mirror cannot be reached it says SKIP
# and succeeds (the script itself exits 77).
system-check:
	scripts/deps system
	@tests/system/run; rc=$$?; [ $$rc = 77 ] && exit 0; exit $$rc

clean:
	rm -rf build
