// ragstore core: half conversions and halfvec distance kernels (see half.h).
#include "core/half.h"
#include "core/distance.h"
#include "core/simd.h"

#include <immintrin.h>

#include <cmath>

namespace ragstore {
namespace {

// ---- portable path ----

void HalvesToFloatsPortable(const Half* in, float* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = HalfToFloat(in[i]);
}

void FloatsToHalvesPortable(const float* in, Half* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = FloatToHalf(in[i]);
}

float L2SquaredPortable(const Half* a, const Half* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) {
    float d = HalfToFloat(a[i]) - HalfToFloat(b[i]);
    sum += d * d;
  }
  return sum;
}

float InnerProductPortable(const Half* a, const Half* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) sum += HalfToFloat(a[i]) * HalfToFloat(b[i]);
  return sum;
}

float L1Portable(const Half* a, const Half* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) sum += std::fabs(HalfToFloat(a[i]) - HalfToFloat(b[i]));
  return sum;
}

void DotAndNormsPortable(const Half* a, const Half* b, size_t n, float* dot, float* na, float* nb) {
  float d = 0.0f, x = 0.0f, y = 0.0f;
  for (size_t i = 0; i < n; i++) {
    float fa = HalfToFloat(a[i]), fb = HalfToFloat(b[i]);
    d += fa * fb;
    x += fa * fa;
    y += fb * fb;
  }
  *dot = d;
  *na = x;
  *nb = y;
}

// ---- F16C + AVX2 + FMA path: 8 halves converted per instruction, scalar tail ----

#define RS_F16C __attribute__((target("f16c,avx2,fma")))

RS_F16C inline __m256 Load8(const Half* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

using simd::HorizontalSum;

RS_F16C float F16cHalfToFloat(Half h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }

RS_F16C Half F16cFloatToHalf(float f) {
  return static_cast<Half>(
      _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}

RS_F16C void HalvesToFloatsF16c(const Half* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, Load8(in + i));
  for (; i < n; i++) out[i] = F16cHalfToFloat(in[i]);
}

RS_F16C void FloatsToHalvesF16c(const float* in, Half* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++) out[i] = F16cFloatToHalf(in[i]);
}

RS_F16C float L2SquaredF16c(const Half* a, const Half* b, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 d0 = _mm256_sub_ps(Load8(a + i), Load8(b + i));
    __m256 d1 = _mm256_sub_ps(Load8(a + i + 8), Load8(b + i + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 d0 = _mm256_sub_ps(Load8(a + i), Load8(b + i));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; i++) {
    float d = HalfToFloat(a[i]) - HalfToFloat(b[i]);
    sum += d * d;
  }
  return sum;
}

RS_F16C float InnerProductF16c(const Half* a, const Half* b, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(Load8(a + i), Load8(b + i), acc0);
    acc1 = _mm256_fmadd_ps(Load8(a + i + 8), Load8(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(Load8(a + i), Load8(b + i), acc0);
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; i++) sum += HalfToFloat(a[i]) * HalfToFloat(b[i]);
  return sum;
}

RS_F16C float L1F16c(const Half* a, const Half* b, size_t n) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 d0 = _mm256_sub_ps(Load8(a + i), Load8(b + i));
    __m256 d1 = _mm256_sub_ps(Load8(a + i + 8), Load8(b + i + 8));
    acc0 = _mm256_add_ps(acc0, _mm256_and_ps(d0, abs_mask));
    acc1 = _mm256_add_ps(acc1, _mm256_and_ps(d1, abs_mask));
  }
  for (; i + 8 <= n; i += 8) {
    __m256 d0 = _mm256_sub_ps(Load8(a + i), Load8(b + i));
    acc0 = _mm256_add_ps(acc0, _mm256_and_ps(d0, abs_mask));
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; i++) sum += std::fabs(HalfToFloat(a[i]) - HalfToFloat(b[i]));
  return sum;
}

RS_F16C void DotAndNormsF16c(const Half* a, const Half* b, size_t n, float* dot, float* na,
                             float* nb) {
  __m256 d = _mm256_setzero_ps(), x = _mm256_setzero_ps(), y = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 va = Load8(a + i), vb = Load8(b + i);
    d = _mm256_fmadd_ps(va, vb, d);
    x = _mm256_fmadd_ps(va, va, x);
    y = _mm256_fmadd_ps(vb, vb, y);
  }
  float sd = HorizontalSum(d), sx = HorizontalSum(x), sy = HorizontalSum(y);
  for (; i < n; i++) {
    float fa = HalfToFloat(a[i]), fb = HalfToFloat(b[i]);
    sd += fa * fb;
    sx += fa * fa;
    sy += fb * fb;
  }
  *dot = sd;
  *na = sx;
  *nb = sy;
}

// ---- AVX-512 path: 16 halves converted per instruction (VCVTPH2PS zmm), 2-4 x 16 lanes per
// iteration, the tail through a masked load (zero halves past n add exactly 0) ----

#define RS_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,f16c,fma")))

RS_AVX512 inline __m512 Load16(const Half* p) {
  return _mm512_maskz_cvtph_ps(static_cast<__mmask16>(0xffff),
                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
RS_AVX512 inline __m512 LoadTail(const Half* p, size_t left) {
  __mmask16 k = static_cast<__mmask16>((1u << left) - 1u);
  return _mm512_maskz_cvtph_ps(k, _mm256_maskz_loadu_epi16(k, p));
}

RS_AVX512 void HalvesToFloatsAvx512(const Half* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, Load16(in + i));
  if (i < n)
    _mm512_mask_storeu_ps(out + i, static_cast<__mmask16>((1u << (n - i)) - 1u),
                          LoadTail(in + i, n - i));
}

RS_AVX512 void FloatsToHalvesAvx512(const float* in, Half* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm512_maskz_cvtps_ph(static_cast<__mmask16>(0xffff),
                                              _mm512_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
  if (i < n) {
    __mmask16 k = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm256_mask_storeu_epi16(
        out + i, k,
        _mm512_maskz_cvtps_ph(k, _mm512_maskz_loadu_ps(k, in + i), _MM_FROUND_TO_NEAREST_INT));
  }
}

RS_AVX512 float L2SquaredAvx512(const Half* a, const Half* b, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 d0 = _mm512_sub_ps(Load16(a + i), Load16(b + i));
    __m512 d1 = _mm512_sub_ps(Load16(a + i + 16), Load16(b + i + 16));
    __m512 d2 = _mm512_sub_ps(Load16(a + i + 32), Load16(b + i + 32));
    __m512 d3 = _mm512_sub_ps(Load16(a + i + 48), Load16(b + i + 48));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
    acc2 = _mm512_fmadd_ps(d2, d2, acc2);
    acc3 = _mm512_fmadd_ps(d3, d3, acc3);
  }
  for (; i + 16 <= n; i += 16) {
    __m512 d0 = _mm512_sub_ps(Load16(a + i), Load16(b + i));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
  }
  if (i < n) {
    __m512 d0 = _mm512_sub_ps(LoadTail(a + i, n - i), LoadTail(b + i, n - i));
    acc1 = _mm512_fmadd_ps(d0, d0, acc1);
  }
  return simd::HorizontalSum512(
      _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

RS_AVX512 float InnerProductAvx512(const Half* a, const Half* b, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm512_fmadd_ps(Load16(a + i), Load16(b + i), acc0);
    acc1 = _mm512_fmadd_ps(Load16(a + i + 16), Load16(b + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(Load16(a + i + 32), Load16(b + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(Load16(a + i + 48), Load16(b + i + 48), acc3);
  }
  for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(Load16(a + i), Load16(b + i), acc0);
  if (i < n) acc1 = _mm512_fmadd_ps(LoadTail(a + i, n - i), LoadTail(b + i, n - i), acc1);
  return simd::HorizontalSum512(
      _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

RS_AVX512 float L1Avx512(const Half* a, const Half* b, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_add_ps(acc0, _mm512_abs_ps(_mm512_sub_ps(Load16(a + i), Load16(b + i))));
    acc1 =
        _mm512_add_ps(acc1, _mm512_abs_ps(_mm512_sub_ps(Load16(a + i + 16), Load16(b + i + 16))));
  }
  for (; i + 16 <= n; i += 16)
    acc0 = _mm512_add_ps(acc0, _mm512_abs_ps(_mm512_sub_ps(Load16(a + i), Load16(b + i))));
  if (i < n)
    acc1 = _mm512_add_ps(
        acc1, _mm512_abs_ps(_mm512_sub_ps(LoadTail(a + i, n - i), LoadTail(b + i, n - i))));
  return simd::HorizontalSum512(_mm512_add_ps(acc0, acc1));
}

RS_AVX512 void DotAndNormsAvx512(const Half* a, const Half* b, size_t n, float* dot, float* na,
                                 float* nb) {
  __m512 d0 = _mm512_setzero_ps(), x0 = _mm512_setzero_ps(), y0 = _mm512_setzero_ps();
  __m512 d1 = _mm512_setzero_ps(), x1 = _mm512_setzero_ps(), y1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 va = Load16(a + i), vb = Load16(b + i);
    __m512 wa = Load16(a + i + 16), wb = Load16(b + i + 16);
    d0 = _mm512_fmadd_ps(va, vb, d0);
    x0 = _mm512_fmadd_ps(va, va, x0);
    y0 = _mm512_fmadd_ps(vb, vb, y0);
    d1 = _mm512_fmadd_ps(wa, wb, d1);
    x1 = _mm512_fmadd_ps(wa, wa, x1);
    y1 = _mm512_fmadd_ps(wb, wb, y1);
  }
  for (; i < n; i += 16) {
    size_t left = n - i < 16 ? n - i : 16;
    __m512 va = LoadTail(a + i, left), vb = LoadTail(b + i, left);
    d0 = _mm512_fmadd_ps(va, vb, d0);
    x0 = _mm512_fmadd_ps(va, va, x0);
    y0 = _mm512_fmadd_ps(vb, vb, y0);
  }
  *dot = simd::HorizontalSum512(_mm512_add_ps(d0, d1));
  *na = simd::HorizontalSum512(_mm512_add_ps(x0, x1));
  *nb = simd::HorizontalSum512(_mm512_add_ps(y0, y1));
}

struct HalfKernelTable {
  void (*to_floats)(const Half*, float*, size_t);
  void (*to_halves)(const float*, Half*, size_t);
  float (*l2sq)(const Half*, const Half*, size_t);
  float (*ip)(const Half*, const Half*, size_t);
  float (*l1)(const Half*, const Half*, size_t);
  void (*dot_norms)(const Half*, const Half*, size_t, float*, float*, float*);
};

constexpr HalfKernelTable kPortableTable = {HalvesToFloatsPortable,
                                            FloatsToHalvesPortable,
                                            L2SquaredPortable,
                                            InnerProductPortable,
                                            L1Portable,
                                            DotAndNormsPortable};
constexpr HalfKernelTable kF16cTable = {
    HalvesToFloatsF16c, FloatsToHalvesF16c, L2SquaredF16c, InnerProductF16c, L1F16c,
    DotAndNormsF16c};

constexpr HalfKernelTable kAvx512Table = {
    HalvesToFloatsAvx512, FloatsToHalvesAvx512, L2SquaredAvx512, InnerProductAvx512, L1Avx512,
    DotAndNormsAvx512};

bool CpuHasF16cAvx2Fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && CpuHasF16c();
}

// The best level the CPU supports, at most `wanted`.
HalfKernelLevel BestLevel(HalfKernelLevel wanted) {
  bool f16c = CpuHasF16cAvx2Fma();
  if (wanted == HalfKernelLevel::kAvx512 && !(f16c && CpuHasAvx512()))
    wanted = HalfKernelLevel::kF16cAvx2;
  if (wanted == HalfKernelLevel::kF16cAvx2 && !f16c) wanted = HalfKernelLevel::kPortable;
  return wanted;
}

const HalfKernelTable* TableFor(HalfKernelLevel level) {
  switch (level) {
    case HalfKernelLevel::kAvx512:
      return &kAvx512Table;
    case HalfKernelLevel::kF16cAvx2:
      return &kF16cTable;
    default:
      return &kPortableTable;
  }
}

HalfKernelLevel g_level = BestLevel(HalfKernelLevel::kAvx512);
const HalfKernelTable* g_table = TableFor(g_level);

}  // namespace

bool CpuHasF16c() {
  // __builtin_cpu_supports has no "f16c" key in GCC 12: read CPUID leaf 1, ECX bit 29, and
  // check that the OS saves the AVX state (OSXSAVE, ECX bit 27, and XCR0 bits 1-2).
  unsigned int eax, ebx, ecx, edx;
  __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
  if (!(ecx & (1u << 29)) || !(ecx & (1u << 27))) return false;
  unsigned int xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  return (xcr0_lo & 0x6u) == 0x6u;
}

namespace f16c {
float HalfToFloat(Half h) { return F16cHalfToFloat(h); }
Half FloatToHalf(float f) { return F16cFloatToHalf(f); }
}  // namespace f16c

HalfKernelLevel SetHalfKernelLevel(HalfKernelLevel level) {
  g_level = BestLevel(level);
  g_table = TableFor(g_level);
  return g_level;
}

const char* HalfKernelLevelName(HalfKernelLevel level) {
  switch (level) {
    case HalfKernelLevel::kAvx512:
      return "avx512";
    case HalfKernelLevel::kF16cAvx2:
      return "f16c+avx2+fma";
    default:
      return "portable";
  }
}

void HalvesToFloats(const Half* in, float* out, size_t n) { g_table->to_floats(in, out, n); }
void FloatsToHalves(const float* in, Half* out, size_t n) { g_table->to_halves(in, out, n); }

float HalfL2SquaredDistance(const Half* a, const Half* b, size_t n) {
  return g_table->l2sq(a, b, n);
}
float HalfInnerProduct(const Half* a, const Half* b, size_t n) { return g_table->ip(a, b, n); }
float HalfL1Distance(const Half* a, const Half* b, size_t n) { return g_table->l1(a, b, n); }
void HalfDotAndNorms(const Half* a, const Half* b, size_t n, float* dot, float* na, float* nb) {
  g_table->dot_norms(a, b, n, dot, na, nb);
}

double HalfCosineDistance(const Half* a, const Half* b, size_t n) {
  float dot, na, nb;
  HalfDotAndNorms(a, b, n, &dot, &na, &nb);
  return CosineDistanceFromDotAndNorms(dot, na, nb);
}

namespace reference {
double HalfL2SquaredDistance(const Half* a, const Half* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = double(HalfToFloat(a[i])) - HalfToFloat(b[i]);
    s += d * d;
  }
  return s;
}
double HalfInnerProduct(const Half* a, const Half* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += double(HalfToFloat(a[i])) * HalfToFloat(b[i]);
  return s;
}
double HalfL1Distance(const Half* a, const Half* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += std::fabs(double(HalfToFloat(a[i])) - HalfToFloat(b[i]));
  return s;
}
double HalfCosineDistance(const Half* a, const Half* b, size_t n) {
  double d = 0, x = 0, y = 0;
  for (size_t i = 0; i < n; i++) {
    double fa = HalfToFloat(a[i]), fb = HalfToFloat(b[i]);
    d += fa * fb;
    x += fa * fa;
    y += fb * fb;
  }
  double s = d / std::sqrt(x * y);
  if (std::isnan(s)) return s;
  return 1.0 - std::fmax(-1.0, std::fmin(1.0, s));
}
}  // namespace reference

}  // namespace ragstore
