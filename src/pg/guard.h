// ragstore: the C++ / PostgreSQL boundary (design.md, "C++ inside a PostgreSQL backend").
//
// Rule 1: no C++ exception ever reaches PostgreSQL. Every extern "C" entry point that can reach
// throwing code (FAISS, the standard library's allocation, src/core) runs that code through
// GuardedCall(). The guard catches everything, copies the message into a fixed buffer (no
// allocation inside the handler), lets the C++ frames unwind, and only then calls
// ereport(ERROR), whose longjmp therefore skips no destructor.
//
// Rule 2 still holds for the body: no object with a destructor may be alive across a PostgreSQL
// call that can ereport(ERROR) (a longjmp out of the body skips destructors). Keep PostgreSQL
// calls and C++ objects in separate scopes, or use palloc'd memory.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <cstdio>
#include <exception>
#include <new>
#include <utility>

#include "core/error.h"

namespace ragstore {
namespace pg {

// The facts of a caught exception, held in plain storage so that reporting them needs no
// destructor to run afterwards.
struct CaughtError {
  bool caught = false;
  int sqlstate = 0;
  char message[512];
};

// Maps a core ErrorKind to its SQLSTATE (see core/error.h).
int SqlStateFor(ErrorKind kind);

// Fills *out from the exception currently being handled; must be called inside a catch block.
void CaptureCurrentException(CaughtError* out) noexcept;

// ereport(ERROR) with the captured facts. Call only once the C++ frames are gone.
[[noreturn]] void ReportCaughtError(const CaughtError& error);

// Runs body() and returns its result; any C++ exception becomes ereport(ERROR) with the
// matching SQLSTATE (22023, 22000, 22003, 53200, 54000, 57014, or XX000 for anything else,
// including FAISS's exceptions), raised after the body's frames have unwound.
template <typename Body>
auto GuardedCall(Body&& body) -> decltype(body()) {
  CaughtError error;
  using Result = decltype(body());
  if constexpr (std::is_void_v<Result>) {
    try {
      std::forward<Body>(body)();
      return;
    } catch (...) {
      CaptureCurrentException(&error);
    }
    ReportCaughtError(error);
  } else {
    try {
      return std::forward<Body>(body)();
    } catch (...) {
      CaptureCurrentException(&error);
    }
    ReportCaughtError(error);
  }
}

}  // namespace pg
}  // namespace ragstore
