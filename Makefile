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
# driven with systemctl (root; exit 77 from tests/system/run when the
# package mirror is unreachable, which make reports as 2; .ci/run runs
# the script directly). docs/TESTING.md.
system-check:
	tests/system/run

clean:
	rm -rf build
