# dbkit: the extension is built with PGXS; the client and the tests with CMake.
#   make demo     set up, build, install, and show a migrated example database
#   make test     set up, build, install, and run every test (ctest)
#   make install  install the extension into PostgreSQL 15 and `dbkit` into /usr/local/bin

EXTENSION  = dbkit
MODULE_big = dbkit
OBJS       = $(patsubst %.cpp,%.o,$(wildcard extension/*.cpp extension/core/*.cpp))
DATA       = $(wildcard sql/$(EXTENSION)--*.sql)

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
BUILD     ?= build
PREFIX    ?= /usr/local

# fmt header-only: Debian ships only a shared libfmt, which the server must not depend on.
# -isystem for the server headers silences their C++17 warnings.
PG_CPPFLAGS = -Iextension -isystem $(shell $(PG_CONFIG) --includedir-server 2>/dev/null) -DFMT_HEADER_ONLY
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
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

.PHONY: setup client install-client test demo fuzz test-faults-random

setup:
	@scripts/setup.sh

client:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j2

install: install-client
install-client: client
	install -m 755 $(BUILD)/client/dbkit $(DESTDIR)$(PREFIX)/bin/dbkit

# Each step re-reads this Makefile, so PGXS is found once setup has installed it.
test: setup
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@$(MAKE) --no-print-directory install >/dev/null
	@cd $(BUILD) && ctest --output-on-failure

demo: setup
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@$(MAKE) --no-print-directory install >/dev/null
	@scripts/demo.sh

# Randomized fault campaign (not part of make test): FAULT_RUNS applies (default 1000),
# each interrupted by a random fault, recovered and checked; SEED=<n> replays.
# Uses the installed extension: run after make install (or make test).
test-faults-random: client
	@DBKIT=$(CURDIR)/$(BUILD)/client/dbkit DBKIT_SRC=$(CURDIR) tests/faults/random_campaign.sh

# libFuzzer on the server-free core (FUZZ_SECONDS, default 60; see tests/fuzz/README.md).
fuzz:
	@tests/fuzz/run.sh
