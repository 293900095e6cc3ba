// ragstore: the `halfvec` type's layout (pgvector-compatible): a varlena with int16 dim
// (1..kHalfvecMaxDim), int16 unused (always 0), then dim IEEE 754 binary16 values, none NaN or
// infinite. The text and binary I/O, arithmetic, comparison, aggregates and array casts are the
// dense templates (types/dense.h) instantiated with HalfvecElement; the half conversions and
// distance kernels are in core/half.h.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
}

#include "core/half.h"
#include "types/dense.h"

namespace ragstore {

constexpr int kHalfvecMaxDim = 16000;

// The dense-type element policy for `halfvec`. Float -> half rounds to nearest even; values
// beyond +-65504 after rounding become infinite (reported as out of range by the templates);
// tiny values underflow to zero.
struct HalfvecElement {
  using Elem = Half;
  static constexpr const char* kTypeName = "halfvec";
  static constexpr int kMaxDim = kHalfvecMaxDim;
  static float ToFloat(Half x) { return HalfToFloat(x); }
  static Half FromFloatUnchecked(float x) { return FloatToHalf(x); }
  static bool IsNan(Half x) { return HalfIsNan(x); }
  static bool IsInf(Half x) { return HalfIsInf(x); }
  static void Send(StringInfo buf, Half x) { pq_sendint16(buf, x); }
  static constexpr DenseKind kKind = DenseKind::kHalfvec;
  static InputStatus ParseText(const char* lit, int32 typmod, Half* out, int* dim) {
    return ParseHalfvecText(lit, typmod, out, dim);
  }
  // The array casts' elements: every one rounded to a half (out of range beyond 65504), then
  // each must be finite.
  static InputStatus FromFloats(const float* in, Half* out, int n) {
    InputStatus st = FloatsToHalvesChecked(in, out, n);
    return st.ok() ? CheckFiniteHalves(out, n) : st;
  }
};

using HalfVector = DenseVector<Half>;

}  // namespace ragstore
