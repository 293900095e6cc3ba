// ragstore core: the one exception type that pure C++ code throws.
//
// src/core/ includes no PostgreSQL header, so it cannot ereport(). Code there throws
// ragstore::Error with an ErrorKind; the guard in src/pg/guard.h catches it at the
// PostgreSQL boundary and turns the kind into a SQLSTATE (see GuardedCall).
#pragma once

#include <stdexcept>
#include <string>

namespace ragstore {

// What went wrong, in terms that map onto a SQLSTATE at the boundary.
enum class ErrorKind {
  kInternal,          // XX000 internal_error: a bug or an invariant broken
  kInvalidParameter,  // 22023 invalid_parameter_value
  kDataException,     // 22000 data_exception (wrong dimensions, bad shapes)
  kOutOfRange,        // 22003 numeric_value_out_of_range
  kOutOfMemory,       // 53200 out_of_memory
  kProgramLimit,      // 54000 program_limit_exceeded
  kQueryCanceled,     // 57014 query_canceled (a long loop saw a pending cancel)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace ragstore
