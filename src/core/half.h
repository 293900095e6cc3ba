// ragstore core: IEEE 754 binary16 ("half") values: conversion to and from float32, and the
// distance kernels of the `halfvec` type.
//
// A half has 1 sign bit, 5 exponent bits (bias 15) and 10 mantissa bits: finite magnitudes
// up to 65504, normals down to 2^-14, subnormals down to 2^-24. Every half is exactly a float.
//
// Conversion float -> half rounds to nearest, ties to even (IEEE 754 section 4.3.1), like the
// F16C instruction VCVTPS2PH with imm8 = 0 and like C's (_Float16) cast: values whose rounded
// magnitude exceeds 65504 become +-Inf, values below half the smallest subnormal become +-0.
// NaN stays NaN (quiet, sign and the top 9 payload bits kept, as VCVTPS2PH does).
//
// Three implementations, with identical results bit for bit (checked exhaustively by the unit
// tests): AVX-512 (VCVTPH2PS / VCVTPS2PH, 16 values at a time), F16C (the same instructions, 8
// values at a time) and a portable one (integer bit manipulation). The bulk functions below
// dispatch to the best one the CPU supports; the choice is made once, when the library is loaded,
// and can be forced for tests.
//
// Distance kernels convert each half to float32 and accumulate in float32 lanes, as pgvector's
// halfvec kernels do: the AVX-512 path converts 16 halves per instruction, the F16C+AVX2+FMA
// path 8, both fuse the multiply-add; the portable path is a plain loop. Kernels never throw and
// never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ragstore {

using Half = uint16_t;

constexpr float kHalfMax = 65504.0f;

// ---- scalar conversions (portable, inline; exact, so every path agrees with them) ----

// half -> float: exact.
inline float HalfToFloat(Half h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    // Inf or NaN; a signalling NaN becomes quiet (bit 9 of the half payload -> bit 22).
    bits = sign | 0x7f800000u | (mant << 13) | (mant != 0 ? 0x00400000u : 0u);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // 112 = 127 - 15
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    // Subnormal half: mant * 2^-24, a normal float. Normalise the mantissa.
    int shift = __builtin_clz(mant) - 21;  // leading zeros within the 10-bit field, + 1
    mant = (mant << shift) & 0x3ffu;
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// float -> half, round to nearest even; overflow to +-Inf, underflow to +-0, NaN stays NaN.
inline Half FloatToHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t abs = bits & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // Inf or NaN
    if (abs == 0x7f800000u) return static_cast<Half>(sign | 0x7c00u);
    return static_cast<Half>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  }
  if (abs >= 0x477ff000u)  // >= 65520 (halfway between 65504 and 65536): rounds to Inf
    return static_cast<Half>(sign | 0x7c00u);
  if (abs >= 0x38800000u) {  // >= 2^-14: a normal half
    // Rebias the exponent and round the 13 dropped mantissa bits to nearest even; a carry out
    // of the mantissa correctly increments the exponent.
    uint32_t h = (abs - 0x38000000u) >> 13;  // 0x38000000 = 112 << 23
    uint32_t rest = abs & 0x1fffu;
    h += static_cast<uint32_t>(rest > 0x1000u) | (static_cast<uint32_t>(rest == 0x1000u) & h);
    return static_cast<Half>(sign | h);
  }
  if (abs < 0x33000000u)  // <= 2^-25 (half the smallest subnormal): rounds to zero
    return static_cast<Half>(sign);
  // Subnormal half: value = m * 2^-24 with m = full mantissa >> (126 - exp).
  uint32_t exp = abs >> 23;
  uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
  uint32_t shift = 126 - exp;  // 14..24 here
  uint32_t h = mant >> shift;
  uint32_t rest = mant & ((1u << shift) - 1);
  uint32_t halfway = 1u << (shift - 1);
  h += static_cast<uint32_t>(rest > halfway) | (static_cast<uint32_t>(rest == halfway) & h);
  return static_cast<Half>(sign | h);
}

inline bool HalfIsNan(Half h) { return (h & 0x7fffu) > 0x7c00u; }
inline bool HalfIsInf(Half h) { return (h & 0x7fffu) == 0x7c00u; }
inline bool HalfIsZero(Half h) { return (h & 0x7fffu) == 0; }

// ---- dispatch ----

// kAvx512: VCVTPH2PS / VCVTPS2PH on 16 values (AVX512F) and 16-lane FMA, the tail through
// masked loads and stores (AVX512BW/VL); needs F16C, AVX2 and FMA too.
enum class HalfKernelLevel { kPortable = 0, kF16cAvx2 = 1, kAvx512 = 2 };

// The level in use is the best of kAvx512, kF16cAvx2 the CPU has, unless forced. Forces a level
// (tests, benchmarks); a level the CPU lacks falls back to the best lower one it has. Returns the
// level actually set.
HalfKernelLevel SetHalfKernelLevel(HalfKernelLevel level);
const char* HalfKernelLevelName(HalfKernelLevel level);

// Bulk conversions of n values (n >= 0), dispatched.
void HalvesToFloats(const Half* in, float* out, size_t n);
void FloatsToHalves(const float* in, Half* out, size_t n);

// The F16C implementations themselves (tests compare them with the scalar ones). Callable only
// when the CPU has F16C (CpuHasF16c()).
bool CpuHasF16c();
namespace f16c {
float HalfToFloat(Half h);
Half FloatToHalf(float f);
}  // namespace f16c

// ---- distances over two arrays of n halves, float32 accumulation, dispatched ----

// sum_i (a_i - b_i)^2
float HalfL2SquaredDistance(const Half* a, const Half* b, size_t n);
// sum_i a_i * b_i
float HalfInnerProduct(const Half* a, const Half* b, size_t n);
// sum_i |a_i - b_i|
float HalfL1Distance(const Half* a, const Half* b, size_t n);
// One pass for cosine: *dot = a.b, *norm_a = a.a, *norm_b = b.b.
void HalfDotAndNorms(const Half* a, const Half* b, size_t n, float* dot, float* norm_a,
                     float* norm_b);
// 1 - a.b / (|a| |b|), clamped to [0, 2]; NaN when either norm is zero (as pgvector).
double HalfCosineDistance(const Half* a, const Half* b, size_t n);

// Scalar references with double accumulation (ground truth for the tests).
namespace reference {
double HalfL2SquaredDistance(const Half* a, const Half* b, size_t n);
double HalfInnerProduct(const Half* a, const Half* b, size_t n);
double HalfL1Distance(const Half* a, const Half* b, size_t n);
double HalfCosineDistance(const Half* a, const Half* b, size_t n);
}  // namespace reference

}  // namespace ragstore
