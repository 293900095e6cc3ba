// ragstore: the `vector` type's in-memory and on-disk layout (pgvector-compatible).
//
// A varlena: int32 varlena header, int16 dim (1..kVectorMaxDim), int16 unused (always 0),
// then dim float32 values, none NaN or infinite. Byte-compatible with pgvector's layout, so
// the binary protocol and dumps are interchangeable. The generic machinery (text and binary
// I/O, arithmetic, comparison, aggregates, arrays) is in types/dense.h; VectorElement is its
// element policy for float32.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
}

#include <cmath>

#include "types/dense.h"

namespace ragstore {

constexpr int kVectorMaxDim = 16000;

// The dense-type element policy for `vector` (see dense.h).
struct VectorElement {
  using Elem = float;
  static constexpr const char* kTypeName = "vector";
  static constexpr int kMaxDim = kVectorMaxDim;
  static float ToFloat(float x) { return x; }
  static float FromFloatUnchecked(float x) { return x; }
  static bool IsNan(float x) { return std::isnan(x); }
  static bool IsInf(float x) { return std::isinf(x); }
  static void Send(StringInfo buf, float x) { pq_sendfloat4(buf, x); }
  static constexpr DenseKind kKind = DenseKind::kVector;
  static InputStatus ParseText(const char* lit, int32 typmod, float* out, int* dim) {
    return ParseVectorText(lit, typmod, out, dim);
  }
  // The array casts' elements (already float): copied, then each must be finite.
  static InputStatus FromFloats(const float* in, float* out, int n) {
    memcpy(out, in, sizeof(float) * n);
    return CheckFiniteFloats(out, n);
  }
};

// The layout: dim, unused, float x[dim].
using Vector = DenseVector<float>;

inline Size VectorSize(int dim) { return dense::DenseSize<VectorElement>(dim); }

// palloc's a zeroed vector of dim dimensions in CurrentMemoryContext.
inline Vector* InitVector(int dim) { return dense::Alloc<VectorElement>(dim); }

// Errors (ERRCODE_DATA_EXCEPTION) unless a and b have the same dimensions:
// "different vector dimensions %d and %d".
inline void CheckSameDims(int a_dim, int b_dim) {
  dense::CheckSameDims<VectorElement>(a_dim, b_dim);
}

}  // namespace ragstore

#define DatumGetVector(x) (reinterpret_cast<::ragstore::Vector*>(PG_DETOAST_DATUM(x)))
#define PG_GETARG_VECTOR_P(n) DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(x) PG_RETURN_POINTER(x)
