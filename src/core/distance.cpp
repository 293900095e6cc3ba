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

struct KernelTable {
  float (*l2sq)(const float*, const float*, size_t);
  float (*ip)(const float*, const float*, size_t);
  float (*l1)(const float*, const float*, size_t);
  void (*dot_norms)(const float*, const float*, size_t, float*, float*, float*);
};

constexpr KernelTable kPortableTable = {L2SquaredPortable, InnerProductPortable, L1Portable,
                                        DotAndNormsPortable};
constexpr KernelTable kAvx2Table = {L2SquaredAvx2, InnerProductAvx2, L1Avx2, DotAndNormsAvx2};

bool CpuHasAvx2Fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

KernelLevel g_level = CpuHasAvx2Fma() ? KernelLevel::kAvx2Fma : KernelLevel::kPortable;
const KernelTable* g_table = g_level == KernelLevel::kAvx2Fma ? &kAvx2Table : &kPortableTable;

}  // namespace

KernelLevel ActiveKernelLevel() { return g_level; }

KernelLevel SetKernelLevel(KernelLevel level) {
  if (level == KernelLevel::kAvx2Fma && !CpuHasAvx2Fma()) level = KernelLevel::kPortable;
  g_level = level;
  g_table = level == KernelLevel::kAvx2Fma ? &kAvx2Table : &kPortableTable;
  return level;
}

const char* KernelLevelName(KernelLevel level) {
  return level == KernelLevel::kAvx2Fma ? "avx2+fma" : "portable";
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
