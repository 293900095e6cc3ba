// ragstore: FAISS inside a backend: thread cap and interrupt callback (see faiss_support.h).
#include "pg/faiss_support.h"

#include <omp.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <faiss/impl/AuxIndexStructures.h>

#include "pg/module.h"

extern "C" {
#include "utils/guc.h"
}

// OpenBLAS runs FAISS's sgemm calls on several threads: the OpenMP build ragstore.so links by
// run path (Makefile, OPENBLAS_DIR) on the OpenMP pool omp_set_num_threads caps, a pthreads
// build on its own pool. Cap it too when OpenBLAS is the BLAS in use (weak: absent otherwise).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace ragstore {
namespace pg {
namespace {

constexpr int kThreadsLimit = 64;
int g_max_threads = -1;
bool g_callback_installed = false;
// Address space FAISS's BLAS takes per thread (the calling thread and each pool thread):
// OpenBLAS's work buffer (128 MB + a page, allocated at its first sgemm on that thread and
// kept) and the glibc malloc arena of a new thread (64 MB reserved), with room for the
// thread's stack.
constexpr Size kFaissBytesPerThread = Size(128 + 64 + 16) << 20;
// The most threads that ran FAISS in this backend: their buffers exist already.
int g_faiss_ready_threads = 0;

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

void CheckAddressSpaceForFaiss(int threads) {
  threads = std::max(1, threads);
  if (threads <= g_faiss_ready_threads) return;
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
  unsigned long pages = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == nullptr) return;
  bool read = fscanf(f, "%lu", &pages) == 1;
  fclose(f);
  if (!read) return;
  Size used = static_cast<Size>(pages) * static_cast<Size>(sysconf(_SC_PAGESIZE));
  Size need = kFaissBytesPerThread * static_cast<Size>(threads + 1);
  Size limit = static_cast<Size>(rl.rlim_cur);
  if (used + need > limit)
    ereport(ERROR,
            (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory"),
             errdetail("FAISS needs about %zu MB of address space (%d threads); the process's "
                       "limit (RLIMIT_AS) leaves %zu MB.",
                       need >> 20, threads, used < limit ? (limit - used) >> 20 : 0),
             errhint("Raise the server's address-space limit (ulimit -v), or lower "
                     "ragstore.max_threads.")));
}

void NoteFaissRan(int threads) { g_faiss_ready_threads = std::max(g_faiss_ready_threads, threads); }

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
