// ragstore core: small AVX helpers shared by the SIMD kernels (distance.cpp, half.cpp,
// list_scan.cpp). Only for code compiled with a target attribute that includes AVX2.
#pragma once

#include <immintrin.h>

namespace ragstore {
namespace simd {

// The sum of the 8 float lanes of v: high half + low half, then pairwise within 128 bits.
__attribute__((target("avx2"))) inline float HorizontalSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  __m128 shuf = _mm_movehdup_ps(lo);
  __m128 sums = _mm_add_ps(lo, shuf);
  shuf = _mm_movehl_ps(shuf, sums);
  sums = _mm_add_ss(sums, shuf);
  return _mm_cvtss_f32(sums);
}

}  // namespace simd
}  // namespace ragstore
