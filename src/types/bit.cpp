// ragstore: distances on PostgreSQL's built-in `bit` type (pgvector's hamming_distance and
// jaccard_distance, operators <~> and <%>), over the popcount kernels of core/bits.h.
#include "core/bits.h"

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/varbit.h"
}

namespace {

// Both arguments, of the same bit length: "different bit lengths %u and %u" (22000).
void Args2(FunctionCallInfo fcinfo, VarBit** a, VarBit** b) {
  *a = PG_GETARG_VARBIT_P(0);
  *b = PG_GETARG_VARBIT_P(1);
  if (VARBITLEN(*a) != VARBITLEN(*b))
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("different bit lengths %u and %u", VARBITLEN(*a), VARBITLEN(*b))));
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(hamming_distance);
// hamming_distance(bit, bit) -> float8: the number of differing bits (the <~> operator).
// 22000 "different bit lengths %u and %u". The padding bits of the last byte are zero in both
// (PostgreSQL keeps them so), so whole bytes can be compared.
Datum hamming_distance(PG_FUNCTION_ARGS) {
  VarBit *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(
      static_cast<double>(ragstore::HammingBits(VARBITS(a), VARBITS(b), VARBITBYTES(a))));
}

PG_FUNCTION_INFO_V1(jaccard_distance);
// jaccard_distance(bit, bit) -> float8: 1 - |a AND b| / |a OR b| (the <%> operator); 1 when no
// bit is set in both (including two all-zero values), as pgvector. 22000 on different lengths.
Datum jaccard_distance(PG_FUNCTION_ARGS) {
  VarBit *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(ragstore::JaccardDistance(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
}

}  // extern "C"
