// ragstore: module initialisation.
//
// Each area (hnsw, ivfflat, the log, ...) registers its _PG_init work with
// RAGSTORE_MODULE_INIT(name) { ... } in its own file; _PG_init (src/pg/module.cpp) runs them
// all, in name order, so that no shared file has to list them. The static registration only
// stores a function pointer (no PostgreSQL call runs before _PG_init).
#pragma once

namespace ragstore {

using ModuleInitFn = void (*)();

// Called by static initializers; stores up to kMaxModuleInits entries.
bool RegisterModuleInit(const char* name, ModuleInitFn fn);

// Errors (55000, "debug functions are disabled") unless ragstore.debug_functions is on; the
// first call of every debug-only SQL function.
void RequireDebugFunctions();

}  // namespace ragstore

#define RAGSTORE_MODULE_INIT(name)                                        \
  static void ragstore_module_init_##name();                              \
  static const bool ragstore_module_registered_##name =                   \
      ::ragstore::RegisterModuleInit(#name, ragstore_module_init_##name); \
  static void ragstore_module_init_##name()
