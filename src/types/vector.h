// ragstore: the `vector` type's in-memory and on-disk layout (pgvector-compatible).
//
// A varlena: int32 varlena header, int16 dim (1..kVectorMaxDim), int16 unused (always 0),
// then dim float32 values, none NaN or infinite. Byte-compatible with pgvector's layout, so
// the binary protocol and dumps are interchangeable.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

namespace ragstore {

constexpr int kVectorMaxDim = 16000;

struct Vector {
  int32 vl_len_;  // varlena header (do not touch directly)
  int16 dim;      // number of dimensions
  int16 unused;   // reserved, always 0
  float x[FLEXIBLE_ARRAY_MEMBER];
};

inline Size VectorSize(int dim) { return offsetof(Vector, x) + sizeof(float) * dim; }

// palloc's a zeroed vector of dim dimensions in CurrentMemoryContext.
Vector* InitVector(int dim);

// Errors (ERRCODE_DATA_EXCEPTION) unless a and b have the same dimensions:
// "different vector dimensions %d and %d".
void CheckSameDims(int a_dim, int b_dim);

// Errors unless 1 <= dim <= kVectorMaxDim (typmod -1 means unconstrained) and dim matches typmod:
// "expected %d dimensions, not %d".
void CheckExpectedDims(int32 typmod, int dim);

}  // namespace ragstore

#define DatumGetVector(x) (reinterpret_cast<::ragstore::Vector*>(PG_DETOAST_DATUM(x)))
#define PG_GETARG_VECTOR_P(n) DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(x) PG_RETURN_POINTER(x)
