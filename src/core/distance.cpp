// ragstore core: float32 distance kernels (see distance.h).
#include "core/distance.h"

#include <immintrin.h>

#include "core/simd.h"

#include <cmath>

namespace ragstore {
namespace {

// ---- portable path: plain loops the compiler may auto-vectorize for the baseline ISA ----

float L2SquaredPortable(const float* a, const float* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) {
    float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float InnerProductPortable(const float* a, const float* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) sum += a[i] * b[i];
  return sum;
}

float L1Portable(const float* a, const float* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) sum += std::fabs(a[i] - b[i]);
  return sum;
}

void DotAndNormsPortable(const float* a, const float* b, size_t n, float* dot, float* na,
                         float* nb) {
  float d = 0.0f, x = 0.0f, y = 0.0f;
  for (size_t i = 0; i < n; i++) {
    d += a[i] * b[i];
    x += a[i] * a[i];
    y += b[i] * b[i];
  }
  *dot = d;
  *na = x;
  *nb = y;
}

// ---- AVX2 + FMA path: 2 x 8 lanes per iteration, scalar tail ----

#define RS_AVX2 __attribute__((target("avx2,fma")))

using simd::HorizontalSum;

RS_AVX2 float L2SquaredAvx2(const float* a, const float* b, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; i++) {
    float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

RS_AVX2 float InnerProductAvx2(const float* a, const float* b, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8)
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; i++) sum += a[i] * b[i];
  return sum;
}

RS_AVX2 float L1Avx2(const float* a, const float* b, size_t n) {
  const __m256 sign_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc0 = _mm256_add_ps(acc0, _mm256_and_ps(d0, sign_mask));
    acc1 = _mm256_add_ps(acc1, _mm256_and_ps(d1, sign_mask));
  }
  for (; i + 8 <= n; i += 8) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc0 = _mm256_add_ps(acc0, _mm256_and_ps(d0, sign_mask));
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; i++) sum += std::fabs(a[i] - b[i]);
  return sum;
}

RS_AVX2 void DotAndNormsAvx2(const float* a, const float* b, size_t n, float* dot, float* na,
                             float* nb) {
  __m256 d = _mm256_setzero_ps(), x = _mm256_setzero_ps(), y = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
    d = _mm256_fmadd_ps(va, vb, d);
    x = _mm256_fmadd_ps(va, va, x);
    y = _mm256_fmadd_ps(vb, vb, y);
  }
  float sd = HorizontalSum(d), sx = HorizontalSum(x), sy = HorizontalSum(y);
  for (; i < n; i++) {
    sd += a[i] * b[i];
    sx += a[i] * a[i];
    sy += b[i] * b[i];
  }
  *dot = sd;
  *na = sx;
  *nb = sy;
}

// ---- AVX-512 path: 4 x 16 lanes per iteration, the tail through masked loads ----
//
// A masked load reads zeros into the lanes past n (and never touches their memory), and a zero
// lane adds exactly 0 to every sum below, so the tail needs no scalar loop.

#define RS_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))

RS_AVX512 inline __mmask16 TailMask(size_t left) {
  return static_cast<__mmask16>((1u << left) - 1u);
}

RS_AVX512 float L2SquaredAvx512(const float* a, const float* b, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
    acc2 = _mm512_fmadd_ps(d2, d2, acc2);
    acc3 = _mm512_fmadd_ps(d3, d3, acc3);
  }
  for (; i + 16 <= n; i += 16) {
    __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
  }
  if (i < n) {
    __mmask16 k = TailMask(n - i);
    __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, a + i), _mm512_maskz_loadu_ps(k, b + i));
    acc1 = _mm512_fmadd_ps(d0, d0, acc1);
  }
  return simd::HorizontalSum512(
      _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

RS_AVX512 float InnerProductAvx512(const float* a, const float* b, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), acc3);
  }
  for (; i + 16 <= n; i += 16)
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  if (i < n) {
    __mmask16 k = TailMask(n - i);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, a + i), _mm512_maskz_loadu_ps(k, b + i), acc1);
  }
  return simd::HorizontalSum512(
      _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

RS_AVX512 float L1Avx512(const float* a, const float* b, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm512_add_ps(
        acc0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
    acc1 = _mm512_add_ps(acc1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16),
                                                           _mm512_loadu_ps(b + i + 16))));
    acc2 = _mm512_add_ps(acc2, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 32),
                                                           _mm512_loadu_ps(b + i + 32))));
    acc3 = _mm512_add_ps(acc3, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 48),
                                                           _mm512_loadu_ps(b + i + 48))));
  }
  for (; i + 16 <= n; i += 16)
    acc0 = _mm512_add_ps(
        acc0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
  if (i < n) {
    __mmask16 k = TailMask(n - i);
    acc1 = _mm512_add_ps(acc1, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, a + i),
                                                           _mm512_maskz_loadu_ps(k, b + i))));
  }
  return simd::HorizontalSum512(
      _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

RS_AVX512 void DotAndNormsAvx512(const float* a, const float* b, size_t n, float* dot, float* na,
                                 float* nb) {
  __m512 d0 = _mm512_setzero_ps(), x0 = _mm512_setzero_ps(), y0 = _mm512_setzero_ps();
  __m512 d1 = _mm512_setzero_ps(), x1 = _mm512_setzero_ps(), y1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 va = _mm512_loadu_ps(a + i), vb = _mm512_loadu_ps(b + i);
    __m512 wa = _mm512_loadu_ps(a + i + 16), wb = _mm512_loadu_ps(b + i + 16);
    d0 = _mm512_fmadd_ps(va, vb, d0);
    x0 = _mm512_fmadd_ps(va, va, x0);
    y0 = _mm512_fmadd_ps(vb, vb, y0);
    d1 = _mm512_fmadd_ps(wa, wb, d1);
    x1 = _mm512_fmadd_ps(wa, wa, x1);
    y1 = _mm512_fmadd_ps(wb, wb, y1);
  }
  for (; i < n; i += 16) {
    __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xffff) : TailMask(n - i);
    __m512 va = _mm512_maskz_loadu_ps(k, a + i), vb = _mm512_maskz_loadu_ps(k, b + i);
    d0 = _mm512_fmadd_ps(va, vb, d0);
    x0 = _mm512_fmadd_ps(va, va, x0);
    y0 = _mm512_fmadd_ps(vb, vb, y0);
  }
  *dot = simd::HorizontalSum512(_mm512_add_ps(d0, d1));
  *na = simd::HorizontalSum512(_mm512_add_ps(x0, x1));
  *nb = simd::HorizontalSum512(_mm512_add_ps(y0, y1));
}

struct KernelTable {
  float (*l2sq)(const float*, const float*, size_t);
  float (*ip)(const float*, const float*, size_t);
  float (*l1)(const float*, const float*, size_t);
  void (*dot_norms)(const float*, const float*, size_t, float*, float*, float*);
};

constexpr KernelTable kPortableTable = {L2SquaredPortable, InnerProductPortable, L1Portable,
                                        DotAndNormsPortable};
constexpr KernelTable kAvx2Table = {L2SquaredAvx2, InnerProductAvx2, L1Avx2, DotAndNormsAvx2};
constexpr KernelTable kAvx512Table = {L2SquaredAvx512, InnerProductAvx512, L1Avx512,
                                      DotAndNormsAvx512};

// The best level the CPU supports, at most `wanted`.
KernelLevel BestLevel(KernelLevel wanted) {
  __builtin_cpu_init();
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool avx512 = avx2 && CpuHasAvx512();
  if (wanted == KernelLevel::kAvx512 && !avx512) wanted = KernelLevel::kAvx2Fma;
  if (wanted == KernelLevel::kAvx2Fma && !avx2) wanted = KernelLevel::kPortable;
  return wanted;
}

const KernelTable* TableFor(KernelLevel level) {
  switch (level) {
    case KernelLevel::kAvx512:
      return &kAvx512Table;
    case KernelLevel::kAvx2Fma:
      return &kAvx2Table;
    default:
      return &kPortableTable;
  }
}

KernelLevel g_level = BestLevel(KernelLevel::kAvx512);
const KernelTable* g_table = TableFor(g_level);

}  // namespace

bool CpuHasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}

KernelLevel ActiveKernelLevel() { return g_level; }

KernelLevel SetKernelLevel(KernelLevel level) {
  g_level = BestLevel(level);
  g_table = TableFor(g_level);
  return g_level;
}

const char* KernelLevelName(KernelLevel level) {
  switch (level) {
    case KernelLevel::kAvx512:
      return "avx512";
    case KernelLevel::kAvx2Fma:
      return "avx2+fma";
    default:
      return "portable";
  }
}

float L2SquaredDistance(const float* a, const float* b, size_t n) { return g_table->l2sq(a, b, n); }
float InnerProduct(const float* a, const float* b, size_t n) { return g_table->ip(a, b, n); }
float L1Distance(const float* a, const float* b, size_t n) { return g_table->l1(a, b, n); }
void DotAndNorms(const float* a, const float* b, size_t n, float* dot, float* na, float* nb) {
  g_table->dot_norms(a, b, n, dot, na, nb);
}

double CosineDistanceFromDotAndNorms(double dot, double norm_a, double norm_b) {
  double similarity = dot / std::sqrt(norm_a * norm_b);
  if (std::isnan(similarity)) return similarity;  // a zero vector: NaN, as pgvector
  if (similarity > 1.0) similarity = 1.0;
  if (similarity < -1.0) similarity = -1.0;
  return 1.0 - similarity;
}

double CosineDistance(const float* a, const float* b, size_t n) {
  float dot, na, nb;
  DotAndNorms(a, b, n, &dot, &na, &nb);
  return CosineDistanceFromDotAndNorms(dot, na, nb);
}

namespace reference {
double L2SquaredDistance(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return s;
}
double InnerProduct(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += double(a[i]) * b[i];
  return s;
}
double L1Distance(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += std::fabs(double(a[i]) - b[i]);
  return s;
}
double CosineDistance(const float* a, const float* b, size_t n) {
  double d = 0, x = 0, y = 0;
  for (size_t i = 0; i < n; i++) {
    d += double(a[i]) * b[i];
    x += double(a[i]) * a[i];
    y += double(b[i]) * b[i];
  }
  double s = d / std::sqrt(x * y);
  if (std::isnan(s)) return s;
  return 1.0 - std::fmax(-1.0, std::fmin(1.0, s));
}
}  // namespace reference

}  // namespace ragstore
