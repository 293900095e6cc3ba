// ragstore: FAISS inside a backend: thread cap and interrupt callback (see faiss_support.h).
#include "pg/faiss_support.h"

#include <omp.h>

#include <algorithm>

#include <faiss/impl/AuxIndexStructures.h>

#include "pg/module.h"

extern "C" {
#include "utils/guc.h"
}

// OpenBLAS (Debian's libblas.so.3 alternative) runs its own thread pool under FAISS's sgemm
// calls; cap it too when it is the BLAS in use (weak: absent with another BLAS).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace ragstore {
namespace pg {
namespace {

constexpr int kThreadsLimit = 64;
int g_max_threads = -1;
bool g_callback_installed = false;

// -1 (the CPUs) or 1..64; 0 would mean no thread at all.
bool CheckMaxThreads(int* value, void** extra, GucSource source) {
  (void)extra;
  (void)source;
  if (*value == 0) {
    GUC_check_errdetail("Use -1 for as many threads as the server has CPUs, or 1 to %d.",
                        kThreadsLimit);
    return false;
  }
  return true;
}

// Called by FAISS from any of its threads: reads the pending flags, nothing else.
struct PostgresInterruptCallback : faiss::InterruptCallback {
  bool want_interrupt() override { return InterruptPendingForFaiss(); }
};

}  // namespace

int MaxThreads() {
  if (g_max_threads > 0) return g_max_threads;
  // omp_get_num_procs: the CPUs this process may run on (its affinity mask, cgroup cpusets).
  return std::max(1, std::min(omp_get_num_procs(), kThreadsLimit));
}

void PrepareFaiss(int threads) {
  threads = std::max(1, threads);
  omp_set_num_threads(threads);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(threads);
  if (!g_callback_installed) {
    try {
      faiss::InterruptCallback::instance.reset(new PostgresInterruptCallback());
      g_callback_installed = true;
    } catch (...) {
      // Out of memory for a 16-byte object: run without the callback; the main thread still
      // checks for interrupts between batches.
    }
  }
}

}  // namespace pg
}  // namespace ragstore

RAGSTORE_MODULE_INIT(faiss_support) {
  DefineCustomIntVariable("ragstore.max_threads",
                          "Maximum number of threads one backend's index build may use.",
                          "Caps the threads that stand for the parallel workers of hnsw and "
                          "ivfflat builds; -1 means the number of CPUs.",
                          &ragstore::pg::g_max_threads, -1, -1, ragstore::pg::kThreadsLimit,
                          PGC_USERSET, 0, ragstore::pg::CheckMaxThreads, nullptr, nullptr);
}
