# dbkit: the extension is built with PGXS; the client and the tests with CMake.
#   make demo     set up, build, install, and show a migrated example database
#   make test     set up, build, install, and run every test (ctest)
#   make install  install the extension into PostgreSQL 15 and `dbkit` into /usr/local/bin
#   make uninstall  remove what make install put in place
#   make dist     the PGXN zip: $(BUILD)/dbkit-VERSION.zip of HEAD (git archive), top directory dbkit-VERSION/
#   make deb      Debian packages postgresql-15-dbkit and dbkit in $(BUILD)/deb (debian/, dpkg-buildpackage)
#   make test-deb install those packages instead of make install, check them, lintian; then make install again

EXTENSION  = dbkit
MODULE_big = dbkit
OBJS       = $(patsubst %.cpp,%.o,$(wildcard extension/*.cpp extension/core/*.cpp))
DATA       = $(wildcard sql/$(EXTENSION)--*.sql)

# make installcheck: the pg_regress suites against the installed extension on a running
# server (PGHOST/PGPORT/PGUSER; each suite creates and drops its own database).
# make test runs the same suites on a throwaway instance (tests/run_regress.sh).
REGRESS      = $(sort $(basename $(notdir $(wildcard regress/sql/*.sql))))
REGRESS_OPTS = --inputdir=regress --outputdir=$(BUILD)/installcheck --encoding=UTF8 --no-locale

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
BUILD     ?= build
PREFIX    ?= /usr/local

# fmt header-only: Debian ships only a shared libfmt, which the server must not depend on.
# -isystem for the server headers silences their C++17 warnings.
PG_CPPFLAGS = -Iextension -isystem $(shell $(PG_CONFIG) --includedir-server 2>/dev/null) -DFMT_HEADER_ONLY
# Debug info: -g1 keeps what a backtrace needs (function names, line numbers) and compiles
# about a third faster than -g (bench/RESULTS.md, Dec 2); `make DBKIT_DEBUG=-g` for gdb's locals.
DBKIT_DEBUG ?= -g1
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers $(DBKIT_DEBUG)
SHLIB_LINK  = -lstdc++
# Debian builds PostgreSQL with LLVM: PGXS would also compile each .cpp to bitcode
# with clang and without -std=c++17.
override with_llvm = no

.DEFAULT_GOAL := all

ifneq ($(wildcard $(PG_CONFIG)),)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
else
all install:
	@echo "PostgreSQL 15 server headers are missing: run 'make setup' first (make demo and make test do it)." >&2; exit 1
endif

# PGXS does not track header dependencies: rebuild every object when a header changes.
$(OBJS): $(wildcard extension/*.hpp extension/core/*.hpp)

.PHONY: setup client install-client uninstall-client test demo fuzz dist deb test-deb check-compat test-faults-random

setup:
	@scripts/setup.sh

# CLIENT_TARGETS=dbkit builds the client alone (the Debian package does), not the unit tests.
client:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 $(DBKIT_DEBUG) -DNDEBUG" >/dev/null
	@cmake --build $(BUILD) -j2 $(if $(CLIENT_TARGETS),--target $(CLIENT_TARGETS))

install: install-client
install-client: client
	install -D -m 755 $(BUILD)/client/dbkit $(DESTDIR)$(PREFIX)/bin/dbkit

# PGXS's uninstall removes the control file, the sql/ scripts and dbkit.so.
uninstall: uninstall-client
uninstall-client:
	rm -f $(DESTDIR)$(PREFIX)/bin/dbkit

# PGXN wants dbkit-VERSION.zip holding one directory dbkit-VERSION/ with META.json at its top.
# git archive takes the committed tree (HEAD): commit first. The version is META.json's.
DIST_VERSION = $(shell python3 -c 'import json; print(json.load(open("META.json"))["version"])')
DIST_DIR ?= $(BUILD)
dist:
	@git diff --quiet HEAD -- || echo "make dist: warning: uncommitted changes are not in the zip (it is made from HEAD)" >&2
	@mkdir -p $(DIST_DIR)
	git archive --format=zip --prefix=$(EXTENSION)-$(DIST_VERSION)/ -o $(DIST_DIR)/$(EXTENSION)-$(DIST_VERSION).zip HEAD
	@echo "$(DIST_DIR)/$(EXTENSION)-$(DIST_VERSION).zip"

# Debian packages (debian/): built from a copy of the tree in $(DEB_DIR), since dpkg-buildpackage writes
# into the parent directory. Installs the build dependencies with apt-get when run as root.
DEB_DIR ?= $(BUILD)/deb
deb:
	@scripts/build-deb.sh $(DEB_DIR)

# Replaces `make install` by the packages for the time of the test (under /tmp/dbkit-pg.lock), then
# puts `make install` back. Not part of make test.
test-deb:
	@tests/deb/test_deb.sh

# Each step re-reads this Makefile, so PGXS is found once setup has installed it.
# ctest -j: two chains of e2e tests on their own clusters, beside regress and faults (CMakeLists.txt).
test: setup
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@$(MAKE) --no-print-directory install >/dev/null
	@cd $(BUILD) && ctest --output-on-failure -j$$(nproc)

demo: setup
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@$(MAKE) --no-print-directory install >/dev/null
	@scripts/demo.sh

# Randomized fault campaign (not part of make test): FAULT_RUNS applies (default 1000),
# each interrupted by a random fault, recovered and checked; SEED=<n> replays.
# Uses the installed extension: run after make install (or make test).
test-faults-random: client
	@DBKIT=$(CURDIR)/$(BUILD)/client/dbkit DBKIT_SRC=$(CURDIR) tests/faults/random_campaign.sh

# The calls that differ between PostgreSQL 13 and 17 go through extension/pg_compat.hpp only (docs/compat.md).
check-compat:
	@tests/compat/check_guards.sh

# libFuzzer on the server-free core (FUZZ_SECONDS, default 60; see tests/fuzz/README.md).
fuzz:
	@tests/fuzz/run.sh
