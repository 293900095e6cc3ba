// ragstore: running FAISS inside a backend (design.md rules 1, 3 and 7), shared by the index
// access methods.
//
// - ragstore.max_threads (integer, -1 or 1..64, default -1, any user): the most threads one
//   backend's index build may use (the build's own count comes from PostgreSQL's parallel
//   settings, src/pg/build_threads.h); -1 = the number of CPUs the server process may run on,
//   so a build never runs more threads than there are CPUs unless asked to.
// - FAISS's interrupt callback reads only PostgreSQL's pending-interrupt flags
//   (QueryCancelPending, ProcDiePending: volatile sig_atomic_t, safe to read from any thread);
//   FAISS checks it between k-means iterations and inside its batched searches, so a cancel
//   stops a long FAISS call within a fraction of a second.
// - RunFaiss() runs C++ code under GuardedCall with both in place; if FAISS stopped because of a
//   pending interrupt, the interrupt is processed (57014 query_canceled, or the session ends)
//   after the C++ frames are gone.
#pragma once

#include "pg/guard.h"

#include <faiss/impl/FaissException.h>

extern "C" {
#include "miscadmin.h"
}

namespace ragstore {
namespace pg {

// The thread cap ragstore.max_threads stands for (-1 resolved to the CPU count): 1..64.
int MaxThreads();

// Sets the OpenMP (and OpenBLAS) thread count of the following FAISS calls to `threads` and
// installs the interrupt callback (once per backend). Never throws; main thread only.
void PrepareFaiss(int threads);

// Errors with 53200 (out of memory) when the process's address-space limit (RLIMIT_AS, e.g.
// `ulimit -v`) leaves less room than FAISS's BLAS takes on `threads` threads (about 208 MB per
// thread, the calling one included; see faiss_support.cpp) and they have not run FAISS in this
// backend yet. OpenBLAS cannot fail an allocation gracefully (it exits the process, or retries
// for ever without an interrupt check), so FAISS must not start without that room. Without a
// limit nothing is checked. Main thread only, outside any C++ frame with a destructor.
void CheckAddressSpaceForFaiss(int threads);
// Records that `threads` threads ran FAISS (their BLAS buffers exist).
void NoteFaissRan(int threads);

// True when PostgreSQL has a cancel or termination pending (reads flags only; any thread).
inline bool InterruptPendingForFaiss() { return QueryCancelPending || ProcDiePending; }

// Runs body() (void) as GuardedCall does, on `threads` OpenMP threads (PrepareFaiss), once
// CheckAddressSpaceForFaiss allows it. A
// FaissException raised while an interrupt is pending becomes that interrupt
// (CHECK_FOR_INTERRUPTS), else an XX000 error with FAISS's message.
template <typename Body>
void RunFaiss(int threads, Body&& body) {
  CheckAddressSpaceForFaiss(threads);
  PrepareFaiss(threads);
  bool interrupted = GuardedCall([&]() -> bool {
    try {
      body();
      return false;
    } catch (const faiss::FaissException&) {
      if (InterruptPendingForFaiss()) return true;
      throw;
    }
  });
  if (!interrupted) NoteFaissRan(threads);
  if (interrupted) {
    CHECK_FOR_INTERRUPTS();
    ereport(ERROR,
            (errcode(ERRCODE_QUERY_CANCELED), errmsg("canceling statement due to user request")));
  }
}

}  // namespace pg
}  // namespace ragstore
