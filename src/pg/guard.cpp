// ragstore: the C++ / PostgreSQL error guard (see guard.h).
#include "pg/guard.h"

#include <cstring>

#include <faiss/impl/FaissException.h>

extern "C" {
#include "utils/elog.h"
}

namespace ragstore {
namespace pg {

int SqlStateFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidParameter:
      return ERRCODE_INVALID_PARAMETER_VALUE;
    case ErrorKind::kDataException:
      return ERRCODE_DATA_EXCEPTION;
    case ErrorKind::kOutOfRange:
      return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
    case ErrorKind::kOutOfMemory:
      return ERRCODE_OUT_OF_MEMORY;
    case ErrorKind::kProgramLimit:
      return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
    case ErrorKind::kQueryCanceled:
      return ERRCODE_QUERY_CANCELED;
    case ErrorKind::kInternal:
      break;
  }
  return ERRCODE_INTERNAL_ERROR;
}

void CaptureCurrentException(CaughtError* out) noexcept {
  out->caught = true;
  out->sqlstate = ERRCODE_INTERNAL_ERROR;
  const char* what = "unknown C++ exception";
  try {
    throw;
  } catch (const Error& e) {
    out->sqlstate = SqlStateFor(e.kind());
    what = e.what();
  } catch (const std::bad_alloc&) {
    out->sqlstate = ERRCODE_OUT_OF_MEMORY;
    what = "out of memory";
  } catch (const faiss::FaissException& e) {
    what = e.what();
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  std::snprintf(out->message, sizeof(out->message), "%s", what);
}

void ReportCaughtError(const CaughtError& error) {
  ereport(ERROR, (errcode(error.sqlstate), errmsg("%s", error.message)));
  pg_unreachable();
}

}  // namespace pg
}  // namespace ragstore
