# tenantkit front door. Everything real lives in CMake and scripts/;
# this file only delegates.

PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 60

.PHONY: all demo check bench fuzz install deb clean

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

bench: all
	scripts/deps bench
	bench/run build/release

fuzz:
	scripts/deps fuzz
	cmake --preset fuzz
	cmake --build --preset fuzz
	scripts/fuzz build/fuzz $(FUZZ_SECONDS)

# Configured with PREFIX: the units name the programs' installed paths.
install:
	scripts/deps build
	cmake --preset release -DCMAKE_INSTALL_PREFIX="$(PREFIX)"
	cmake --build --preset release
	DESTDIR="$(DESTDIR)" cmake --install build/release

deb:
	scripts/deps deb
	scripts/deb

clean:
	rm -rf build
