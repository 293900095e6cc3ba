# ragstore: PGXS build.
#   make / make install          build and install the extension (as root)
#   make installcheck            pg_regress tests (sql/ + expected/) against a running server
#   make prove_installcheck      TAP tests (test/t/*.pl)
#   make demo                    README command 1 (scripts/demo.sh)
#   make test                    README command 2 (scripts/test.sh): unit + regression + TAP
#   make start / make stop       the throwaway cluster in the checkout (scripts/cluster.sh)

EXTENSION  = ragstore
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" ragstore.control)

MODULE_big = ragstore
SRCS       = $(sort $(shell find src -name '*.cpp'))
OBJS       = $(SRCS:.cpp=.o)
RS_HEADERS = $(shell find src -name '*.h')

# The install script is generated from src/sql/*.sql (one file per area, in name order).
# Upgrade scripts (ragstore--A--B.sql) live in src/sql/upgrade/ and are installed as-is.
DATA_built = ragstore--$(EXTVERSION).sql
DATA       = $(wildcard src/sql/upgrade/ragstore--*--*.sql)

REGRESS      = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=. --load-extension=ragstore

PROVE_TESTS = test/t/*.pl


EXTRA_CLEAN = ragstore--*.sql results regression.diffs regression.out tmp_check build

FAISS_LIB ?= /usr/lib/x86_64-linux-gnu/libfaiss.a

# C++17 with OpenMP. FAISS's symbols stay inside the .so (--exclude-libs), so they can never
# clash with another extension's copy of FAISS or BLAS.
PG_CPPFLAGS = -I$(srcdir)/src
PG_CXXFLAGS = -std=c++17 -fPIC -fopenmp -Wno-missing-field-initializers -Wno-register
SHLIB_LINK  = $(FAISS_LIB) -fopenmp -llapack -lblas -lstdc++ -Wl,--exclude-libs,ALL

# No LLVM bitcode for JIT inlining: our code is C++ and not worth inlining into queries.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
PROVE_FLAGS += -I ./test/perl
else
# A fresh machine: `make demo` and `make test` install the packages first (scripts/setup.sh).
all install installcheck prove_installcheck:
	@echo "PostgreSQL 15 server development files are missing; run 'make demo', 'make test' or 'bash scripts/setup.sh'" >&2; exit 1
endif

$(OBJS): $(RS_HEADERS)

# TAP tests on their own (PGXS only runs them inside installcheck with TAP_TESTS, which would
# also run them as root there). scripts/test.sh runs this as the server's user.
.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)

ragstore--$(EXTVERSION).sql: $(sort $(wildcard src/sql/*.sql)) ragstore.control
	( echo "-- ragstore $(EXTVERSION): generated from src/sql/*.sql by the Makefile; do not edit."; \
	  printf "%s\n" "\\echo Use \"CREATE EXTENSION ragstore\" to load this file. \\quit"; \
	  for f in $(sort $(wildcard src/sql/*.sql)); do echo; echo "-- ---- $$f"; cat $$f; done ) > $@

.PHONY: demo test start stop unit
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
start:
	bash scripts/cluster.sh start
stop:
	bash scripts/cluster.sh stop
unit:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j2 && ctest --test-dir build --output-on-failure
