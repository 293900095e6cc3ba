// ragstore: FAISS inside a backend: thread cap and interrupt callback (see faiss_support.h).
#include "pg/faiss_support.h"

#include <omp.h>

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

int g_max_threads = 2;
bool g_callback_installed = false;

// Called by FAISS from any of its threads: reads the pending flags, nothing else.
struct PostgresInterruptCallback : faiss::InterruptCallback {
  bool want_interrupt() override { return InterruptPendingForFaiss(); }
};

}  // namespace

int MaxThreads() { return g_max_threads; }

void PrepareFaiss() {
  omp_set_num_threads(g_max_threads);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(g_max_threads);
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
                          "Maximum number of threads one backend's FAISS computation may use.",
                          "Caps OpenMP threads of index builds (k-means, list assignment).",
                          &ragstore::pg::g_max_threads, 2, 1, 64, PGC_USERSET, 0, nullptr,
                          nullptr, nullptr);
}
