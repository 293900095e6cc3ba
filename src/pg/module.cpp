// ragstore: PG_MODULE_MAGIC, _PG_init and the debug-only functions that exercise the guard.
#include "pg/module.h"

#include <cstring>
#include <new>
#include <stdexcept>
#include <vector>

#include "pg/guard.h"

extern "C" {
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace ragstore {
namespace {

constexpr int kMaxModuleInits = 32;
struct ModuleInit {
  const char* name;
  ModuleInitFn fn;
};
ModuleInit g_inits[kMaxModuleInits];
int g_init_count = 0;

bool g_debug_functions = false;

}  // namespace

bool RegisterModuleInit(const char* name, ModuleInitFn fn) {
  if (g_init_count >= kMaxModuleInits) return false;  // checked in _PG_init
  g_inits[g_init_count++] = {name, fn};
  return true;
}

void RequireDebugFunctions() {
  if (!g_debug_functions)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("debug functions are disabled"),
                    errhint("A superuser can SET ragstore.debug_functions = on.")));
}

}  // namespace ragstore

using namespace ragstore;

extern "C" {

void _PG_init(void) {
  DefineCustomBoolVariable(
      "ragstore.debug_functions",
      "Enables ragstore's debug-only SQL functions (superuser only; for tests).", nullptr,
      &g_debug_functions, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  // Run the registered area initialisers in name order, so the order is deterministic.
  for (int i = 1; i < g_init_count; i++)
    for (int j = i; j > 0 && std::strcmp(g_inits[j - 1].name, g_inits[j].name) > 0; j--)
      std::swap(g_inits[j - 1], g_inits[j]);
  for (int i = 0; i < g_init_count; i++) g_inits[i].fn();
  MarkGUCPrefixReserved("ragstore");
}

PG_FUNCTION_INFO_V1(ragstore_debug_throw);
// ragstore.debug_throw(kind text) -> void: debug-only (ragstore.debug_functions must be on).
// Throws a C++ exception from inside the error guard so that tests can check that it becomes
// a clean SQL error: 'bad_alloc' (53200), 'invalid_parameter' (22023), 'runtime' (XX000),
// 'out_of_range' (std::out_of_range from a container, XX000). Any other kind: 22023.
Datum ragstore_debug_throw(PG_FUNCTION_ARGS) {
  RequireDebugFunctions();
  char* kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
  pg::GuardedCall([&] {
    // Objects with destructors live here; the guard unwinds them before ereport.
    std::vector<int> scratch(1024, 7);
    if (strcmp(kind, "bad_alloc") == 0) throw std::bad_alloc();
    if (strcmp(kind, "invalid_parameter") == 0)
      throw Error(ErrorKind::kInvalidParameter, "debug: invalid parameter thrown in C++");
    if (strcmp(kind, "runtime") == 0)
      throw std::runtime_error("debug: runtime_error thrown in C++");
    if (strcmp(kind, "out_of_range") == 0) (void)scratch.at(scratch.size());
    throw Error(ErrorKind::kInvalidParameter, std::string("unknown debug exception kind: ") + kind);
  });
  PG_RETURN_VOID();
}

}  // extern "C"
