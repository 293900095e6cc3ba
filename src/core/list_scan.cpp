// ragstore core: batched list-scan kernels (see list_scan.h).
#include "core/list_scan.h"

#include <immintrin.h>

#include <cstring>

#include "core/distance.h"
#include "core/simd.h"

namespace ragstore {
namespace {

#define RS_AVX2 __attribute__((target("avx2,fma")))

using simd::HorizontalSum;

// Four rows at a time; d % 8 tail handled with scalars.
template <bool kL2>
RS_AVX2 void BatchAvx2(const float* q, const float* base, size_t n, size_t d, float* out) {
  const size_t d8 = d & ~size_t(7);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float* r0 = base + i * d;
    const float* r1 = r0 + d;
    const float* r2 = r1 + d;
    const float* r3 = r2 + d;
    // Prefetch the next four rows (one cache line per 16 floats).
    const char* next = reinterpret_cast<const char*>(r3 + d);
    if (i + 8 <= n)
      for (size_t off = 0; off < 4 * d * sizeof(float); off += 64)
        _mm_prefetch(next + off, _MM_HINT_T0);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (size_t j = 0; j < d8; j += 8) {
      __m256 vq = _mm256_loadu_ps(q + j);
      if (kL2) {
        __m256 t0 = _mm256_sub_ps(vq, _mm256_loadu_ps(r0 + j));
        __m256 t1 = _mm256_sub_ps(vq, _mm256_loadu_ps(r1 + j));
        __m256 t2 = _mm256_sub_ps(vq, _mm256_loadu_ps(r2 + j));
        __m256 t3 = _mm256_sub_ps(vq, _mm256_loadu_ps(r3 + j));
        a0 = _mm256_fmadd_ps(t0, t0, a0);
        a1 = _mm256_fmadd_ps(t1, t1, a1);
        a2 = _mm256_fmadd_ps(t2, t2, a2);
        a3 = _mm256_fmadd_ps(t3, t3, a3);
      } else {
        a0 = _mm256_fmadd_ps(vq, _mm256_loadu_ps(r0 + j), a0);
        a1 = _mm256_fmadd_ps(vq, _mm256_loadu_ps(r1 + j), a1);
        a2 = _mm256_fmadd_ps(vq, _mm256_loadu_ps(r2 + j), a2);
        a3 = _mm256_fmadd_ps(vq, _mm256_loadu_ps(r3 + j), a3);
      }
    }
    float s[4] = {HorizontalSum(a0), HorizontalSum(a1), HorizontalSum(a2), HorizontalSum(a3)};
    const float* rows[4] = {r0, r1, r2, r3};
    for (size_t j = d8; j < d; j++)
      for (int r = 0; r < 4; r++) {
        float t = kL2 ? (q[j] - rows[r][j]) : 0.0f;
        s[r] += kL2 ? t * t : q[j] * rows[r][j];
      }
    for (int r = 0; r < 4; r++) out[i + r] = kL2 ? s[r] : -s[r];
  }
  for (; i < n; i++) {
    const float* r = base + i * d;
    out[i] = kL2 ? L2SquaredDistance(q, r, d) : -InnerProduct(q, r, d);
  }
}

}  // namespace

void BatchL2Squared(const float* q, const float* base, size_t n, size_t d, float* out) {
  if (ActiveKernelLevel() >= KernelLevel::kAvx2Fma) return BatchAvx2<true>(q, base, n, d, out);
  for (size_t i = 0; i < n; i++) out[i] = L2SquaredDistance(q, base + i * d, d);
}

void BatchNegativeInnerProduct(const float* q, const float* base, size_t n, size_t d, float* out) {
  if (ActiveKernelLevel() >= KernelLevel::kAvx2Fma) return BatchAvx2<false>(q, base, n, d, out);
  for (size_t i = 0; i < n; i++) out[i] = -InnerProduct(q, base + i * d, d);
}

uint32_t HammingDistance(const uint8_t* a, const uint8_t* b, size_t bytes) {
  uint32_t count = 0;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    count += static_cast<uint32_t>(__builtin_popcountll(x ^ y));
  }
  for (; i < bytes; i++) count += static_cast<uint32_t>(__builtin_popcount(a[i] ^ b[i]));
  return count;
}

void BatchHamming(const uint8_t* q, const uint8_t* base, size_t n, size_t bytes, float* out) {
  for (size_t i = 0; i < n; i++)
    out[i] = static_cast<float>(HammingDistance(q, base + i * bytes, bytes));
}

}  // namespace ragstore
