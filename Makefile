# ragstore: PGXS build.
#   make / make install          build and install the extension (as root)
#   make installcheck            pg_regress tests (sql/ + expected/) against a running server
#   make prove_installcheck      TAP tests (test/t/*.pl)
#   make demo                    README command 1 (scripts/demo.sh)
#   make test                    README command 2 (scripts/test.sh): unit + regression + TAP +
#                                clients + fuzz, then regression + the fault TAP tests on an
#                                assert-enabled and on an ASan+UBSan PostgreSQL (debug-server.sh)
#   make test-debug / test-asan / test-valgrind   one debugging server's part of scripts/test.sh
#   make start / make stop       the throwaway cluster in the checkout (scripts/cluster.sh)

EXTENSION  = ragstore
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" ragstore.control)

MODULE_big = ragstore
SRCS       = $(sort $(shell find src -name '*.cpp'))
OBJS       = $(SRCS:.cpp=.o)
RS_HEADERS = $(shell find src -name '*.h')

# The install script is generated from src/sql/*.sql (one file per area, in name order).
# Upgrade scripts (ragstore--A--B.sql) live in src/sql/upgrade/ and are installed as-is.
RS_SQL     = $(sort $(wildcard src/sql/*.sql))
RS_UPGRADE = $(sort $(wildcard src/sql/upgrade/ragstore--*--*.sql))
DATA_built = ragstore--$(EXTVERSION).sql
DATA       = $(RS_UPGRADE)

# The same objects under pgvector's extension name `vector` (vector.control, same library):
# vector--<w>.sql wraps src/sql/*.sql and each ragstore--A--B.sql gets its vector--<wa>--<wb>.sql
# (versions from src/sql/upgrade/vector_versions). Installed by install-vector-name, which leaves
# a real pgvector's files alone. See scripts/vector_name.sh.
VN            = sh scripts/vector_name.sh
VN_MAP        = src/sql/upgrade/vector_versions
VECTOR_VERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" vector.control)
VN_RULES      = $(shell $(VN) upgrade-rules $(VN_MAP) $(RS_UPGRADE))
VN_UPGRADES   = $(foreach i,$(shell seq 2 2 $(words $(VN_RULES))),$(word $(i),$(VN_RULES)))
VN_BUILT      = vector--$(VECTOR_VERSION).sql $(VN_UPGRADES)

REGRESS      = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=. --load-extension=ragstore

PROVE_TESTS = test/t/*.pl


EXTRA_CLEAN = ragstore--*.sql vector--*.sql results regression.diffs regression.out tmp_check build

FAISS_LIB ?= /usr/lib/x86_64-linux-gnu/libfaiss.a

# C++17 with OpenMP. FAISS's symbols stay inside the .so (--exclude-libs), so they can never
# clash with another extension's copy of FAISS or BLAS.
# BLAS: Debian's OpenMP build of OpenBLAS (libopenblas0-openmp), named by run path, whichever
# BLAS the system's alternatives select. The pthreads build starts a thread pool when it is
# loaded, that is in every backend that touches a vector; the OpenMP build runs its work on
# FAISS's OpenMP threads, started at the first index build and capped by faiss_support.cpp.
OPENBLAS_DIR ?= /usr/lib/x86_64-linux-gnu/openblas-openmp
PG_CPPFLAGS = -I$(srcdir)/src
PG_CXXFLAGS = -std=c++17 -fPIC -fopenmp -Wno-missing-field-initializers -Wno-register
SHLIB_LINK  = $(FAISS_LIB) -fopenmp -L$(OPENBLAS_DIR) -Wl,-rpath,$(OPENBLAS_DIR) -llapack -lblas \
              -lstdc++ -Wl,--exclude-libs,ALL

# No LLVM bitcode for JIT inlining: our code is C++ and not worth inlining into queries.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
# PROVE_JOBS=N (scripts/test.sh): N TAP files at a time (each has its own nodes, data
# directories and reserved ports), with each file's time
PROVE_FLAGS += -I ./test/perl $(if $(PROVE_JOBS),-j$(PROVE_JOBS) --timer)
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

ragstore--$(EXTVERSION).sql: $(RS_SQL) ragstore.control scripts/vector_name.sh
	( echo "-- ragstore $(EXTVERSION): generated from src/sql/*.sql by the Makefile; do not edit."; \
	  printf "%s\n" "\\echo Use \"CREATE EXTENSION ragstore\" to load this file. \\quit"; \
	  echo; $(VN) ragstore-guard; \
	  for f in $(RS_SQL); do echo; echo "-- ---- $$f"; cat $$f; done ) > $@

# The name `vector`: the control file's version must be the one the map gives for ragstore's.
vector--$(VECTOR_VERSION).sql: $(RS_SQL) vector.control ragstore.control $(VN_MAP) scripts/vector_name.sh
	@test "$$($(VN) vector-version $(VN_MAP) $(EXTVERSION))" = "$(VECTOR_VERSION)" || \
	  { echo "vector.control's default_version $(VECTOR_VERSION) is not the one $(VN_MAP) gives for ragstore $(EXTVERSION)" >&2; exit 1; }
	$(VN) vector-install $(RS_SQL) > $@

define vn_upgrade_rule
$(2): $(1) $(VN_MAP) scripts/vector_name.sh
	$(VN) vector-upgrade $(1) > $(2)
endef
$(foreach i,$(shell seq 1 2 $(words $(VN_RULES))),$(eval $(call vn_upgrade_rule,$(word $(i),$(VN_RULES)),$(word $(shell expr $(i) + 1),$(VN_RULES)))))

ifneq ($(wildcard $(PGXS)),)
all: $(VN_BUILT)
install: install-vector-name
uninstall: uninstall-vector-name
.PHONY: install-vector-name uninstall-vector-name
install-vector-name: $(VN_BUILT) installdirs
	$(VN) install '$(DESTDIR)$(datadir)/extension' '$(DESTDIR)$(pkglibdir)' vector.control $(VN_BUILT)
uninstall-vector-name:
	$(VN) uninstall '$(DESTDIR)$(datadir)/extension'
endif

.PHONY: demo test test-debug test-asan test-valgrind start stop unit
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
test-debug:
	bash scripts/test.sh debug
test-asan:
	bash scripts/test.sh asan
test-valgrind:
	bash scripts/test.sh valgrind
start:
	bash scripts/cluster.sh start
stop:
	bash scripts/cluster.sh stop
unit:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j2 && ctest --test-dir build --output-on-failure
