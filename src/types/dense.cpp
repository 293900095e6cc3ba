// ragstore: the non-template parts of the dense vector machinery (see dense.h).
#include "types/dense.h"

#include <cstring>

namespace ragstore {

void CheckExpectedDims(int32 typmod, int dim) {
  if (typmod != -1 && typmod != dim)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("expected %d dimensions, not %d", typmod, dim)));
}

}  // namespace ragstore

namespace ragstore {

void ReportInputError(const InputStatus& st, const char* type_name, const char* lit,
                      const char* token) {
  bool sparse = std::strcmp(type_name, "sparsevec") == 0;
  switch (st.error) {
    case InputError::kNone:
      elog(ERROR, "ReportInputError called without an error");
      break;
    case InputError::kSyntax:
      ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                      errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit)));
      break;
    case InputError::kSyntaxStart:
      ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                      errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit),
                      errdetail(sparse ? "Vector contents must start with \"{\"."
                                       : "Vector contents must start with \"[\".")));
      break;
    case InputError::kSyntaxJunk:
      ereport(ERROR,
              (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
               errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit),
               errdetail(sparse ? "Junk after closing." : "Junk after closing right brace.")));
      break;
    case InputError::kSyntaxEnd:
      ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                      errmsg("invalid input syntax for type %s: \"%s\"", type_name, lit),
                      errdetail("Unexpected end of input.")));
      break;
    case InputError::kOutOfRange:
      ereport(ERROR,
              (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
               errmsg("\"%s\" is out of range for type %s",
                      token != nullptr ? token : pnstrdup(lit + st.token_begin, st.token_len),
                      type_name)));
      break;
    case InputError::kNaN:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in %s", type_name)));
      break;
    case InputError::kInfinite:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("infinite value not allowed in %s", type_name)));
      break;
    case InputError::kNoDimensions:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("%s must have at least 1 dimension", type_name)));
      break;
    case InputError::kTooManyDimensions:
      ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                      errmsg("%s cannot have more than %d dimensions", type_name,
                             static_cast<int>(st.a))));
      break;
    case InputError::kTypmodMismatch:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("expected %d dimensions, not %d", static_cast<int>(st.a),
                             static_cast<int>(st.b))));
      break;
    case InputError::kTooManyNonZeros:
      ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                      errmsg("sparsevec cannot have more than %d non-zero elements",
                             static_cast<int>(st.a))));
      break;
    case InputError::kNegativeNnz:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("sparsevec cannot have negative number of elements")));
      break;
    case InputError::kMoreElementsThanDims:
      ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                      errmsg("sparsevec cannot have more elements than dimensions")));
      break;
    case InputError::kIndexOutOfBounds:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec index out of bounds")));
      break;
    case InputError::kIndexNotAscending:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("sparsevec indices must be in ascending order")));
      break;
    case InputError::kDuplicateIndex:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("sparsevec indices must not contain duplicates")));
      break;
    case InputError::kUnusedNotZero:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("expected unused to be 0, not %d", static_cast<int>(st.a))));
      break;
    case InputError::kZeroValue:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("binary representation of sparsevec cannot contain zero values")));
      break;
    case InputError::kInsufficientData:
      ereport(ERROR,
              (errcode(ERRCODE_PROTOCOL_VIOLATION), errmsg("insufficient data left in message")));
      break;
  }
  pg_unreachable();
}

}  // namespace ragstore
