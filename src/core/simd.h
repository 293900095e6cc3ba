// ragstore core: small AVX helpers shared by the SIMD kernels (distance.cpp, half.cpp, bits.cpp,
// list_scan.cpp). Only for code compiled with a target attribute that includes AVX2 (AVX-512F
// for the 512-bit ones).
#pragma once

#include <immintrin.h>

#include <cstdint>

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

// The low 256 bits of v. (The zero-masking forms here and below, rather than
// _mm512_castps512_ps256, _mm512_shuffle_f32x4 or _mm512_reduce_add_ps, because GCC 12 warns
// that those read an uninitialised value, its own _mm256_undefined_pd.)
__attribute__((target("avx512f"))) inline __m256d Low256(__m512d v) {
  return _mm512_maskz_extractf64x4_pd(static_cast<__mmask8>(0xf), v, 0);
}

// The sum of the 16 float lanes of v: the two 256-bit halves added, then HorizontalSum.
__attribute__((target("avx512f,avx2"))) inline float HorizontalSum512(__m512 v) {
  __m512 folded =
      _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(static_cast<__mmask16>(0xffff), v, v, 0x4e));
  return HorizontalSum(_mm256_castpd_ps(Low256(_mm512_castps_pd(folded))));
}

// The sum of the 8 64-bit lanes of v.
__attribute__((target("avx512f,avx2"))) inline uint64_t HorizontalSum512(__m512i v) {
  __m512i folded =
      _mm512_add_epi64(v, _mm512_maskz_shuffle_i64x2(static_cast<__mmask8>(0xff), v, v, 0x4e));
  __m256i half = _mm256_castpd_si256(Low256(_mm512_castsi512_pd(folded)));
  return static_cast<uint64_t>(_mm256_extract_epi64(half, 0)) +
         static_cast<uint64_t>(_mm256_extract_epi64(half, 1)) +
         static_cast<uint64_t>(_mm256_extract_epi64(half, 2)) +
         static_cast<uint64_t>(_mm256_extract_epi64(half, 3));
}

}  // namespace simd
}  // namespace ragstore
