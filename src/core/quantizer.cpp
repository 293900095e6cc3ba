// ragstore core: sq8 and binary quantizers (see quantizer.h).
#include "core/quantizer.h"

#include <faiss/impl/ScalarQuantizer.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "core/distance.h"
#include "core/error.h"
#include "core/simd.h"

namespace ragstore {
namespace {

constexpr uint32_t kQuantizerMagic = 0x5A515352;  // "RSQZ"
constexpr size_t kHeaderBytes = 16;
// sq8's stand-in range for a dimension whose sample values are all equal (FAISS would divide by
// zero): anything above it encodes as 255, anything at or below as 0.
constexpr float kTinyRange = 1e-30f;

// Rounds a non-negative double up to a float that is >= it.
float RoundUpToFloat(double v) {
  float f = static_cast<float>(v);
  if (static_cast<double>(f) < v) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

void CheckKind(QuantizerKind kind, size_t dims) {
  if ((kind != QuantizerKind::kSq8 && kind != QuantizerKind::kBinary) || dims == 0)
    throw Error(ErrorKind::kInvalidParameter, "unknown quantizer or zero dimensions");
}

// A FAISS scalar quantizer holding `params` as its trained values.
faiss::ScalarQuantizer MakeSq8(size_t dims, const float* params) {
  faiss::ScalarQuantizer sq(dims, faiss::ScalarQuantizer::QT_8bit);
  sq.trained.assign(params, params + 2 * dims);
  return sq;
}

// ---- sq8 distances: x^_j = b_j + s_j c_j with b_j = vmin_j + 0.5 s_j, s_j = vdiff_j / 255 ----
// L2 state: [q_j - b_j][s_j]; inner-product state: [q_j][b_j][s_j].

float Sq8L2Portable(const float* qb, const float* s, const uint8_t* c, size_t d) {
  float sum = 0.0f;
  for (size_t j = 0; j < d; j++) {
    float t = qb[j] - s[j] * static_cast<float>(c[j]);
    sum += t * t;
  }
  return sum;
}

float Sq8IpPortable(const float* q, const float* b, const float* s, const uint8_t* c, size_t d) {
  float sum = 0.0f;
  for (size_t j = 0; j < d; j++) sum += q[j] * (b[j] + s[j] * static_cast<float>(c[j]));
  return -sum;
}

#define RS_AVX2 __attribute__((target("avx2,fma")))

RS_AVX2 inline __m256 LoadCodes8(const uint8_t* c) {
  __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(c));
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
}

RS_AVX2 float Sq8L2Avx2(const float* qb, const float* s, const uint8_t* c, size_t d) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t j = 0;
  for (; j + 16 <= d; j += 16) {
    __m256 t0 =
        _mm256_fnmadd_ps(_mm256_loadu_ps(s + j), LoadCodes8(c + j), _mm256_loadu_ps(qb + j));
    __m256 t1 = _mm256_fnmadd_ps(_mm256_loadu_ps(s + j + 8), LoadCodes8(c + j + 8),
                                 _mm256_loadu_ps(qb + j + 8));
    acc0 = _mm256_fmadd_ps(t0, t0, acc0);
    acc1 = _mm256_fmadd_ps(t1, t1, acc1);
  }
  for (; j + 8 <= d; j += 8) {
    __m256 t0 =
        _mm256_fnmadd_ps(_mm256_loadu_ps(s + j), LoadCodes8(c + j), _mm256_loadu_ps(qb + j));
    acc0 = _mm256_fmadd_ps(t0, t0, acc0);
  }
  float sum = simd::HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; j < d; j++) {
    float t = qb[j] - s[j] * static_cast<float>(c[j]);
    sum += t * t;
  }
  return sum;
}

RS_AVX2 float Sq8IpAvx2(const float* q, const float* b, const float* s, const uint8_t* c,
                        size_t d) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t j = 0;
  for (; j + 16 <= d; j += 16) {
    __m256 x0 = _mm256_fmadd_ps(_mm256_loadu_ps(s + j), LoadCodes8(c + j), _mm256_loadu_ps(b + j));
    __m256 x1 = _mm256_fmadd_ps(_mm256_loadu_ps(s + j + 8), LoadCodes8(c + j + 8),
                                _mm256_loadu_ps(b + j + 8));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + j), x0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + j + 8), x1, acc1);
  }
  for (; j + 8 <= d; j += 8) {
    __m256 x0 = _mm256_fmadd_ps(_mm256_loadu_ps(s + j), LoadCodes8(c + j), _mm256_loadu_ps(b + j));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + j), x0, acc0);
  }
  float sum = simd::HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; j < d; j++) sum += q[j] * (b[j] + s[j] * static_cast<float>(c[j]));
  return -sum;
}

#define RS_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

// The codes at c of the lanes set in mask k (up to 16 bytes) as floats. (Zero-masking forms:
// GCC 12 warns that the unmasked ones read its own uninitialised _mm512_undefined_*, see
// simd.h.)
RS_AVX512 inline __m512 CodesToFloats(__m128i bytes) {
  constexpr __mmask16 kAll = 0xffff;
  return _mm512_maskz_cvtepi32_ps(kAll, _mm512_maskz_cvtepu8_epi32(kAll, bytes));
}
RS_AVX512 inline __m512 LoadCodesMasked(const uint8_t* c, __mmask16 k) {
  return CodesToFloats(_mm_maskz_loadu_epi8(k, c));
}

// The AVX2 kernels' arithmetic (per dimension the same two fused operations) on 16 lanes: the sum
// over all lanes of a * b where term(j, k) gives the factors (a, b) of the 16 dimensions from j
// on (k: the lanes to read, all but in the tail), with four accumulators and a masked tail.
template <typename Term>
RS_AVX512 inline float SumOfProducts16(size_t d, const Term& term) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  constexpr __mmask16 kAll = 0xffff;
  __m512 a, b;
  size_t j = 0;
  for (; j + 64 <= d; j += 64)
    for (int u = 0; u < 4; u++) {
      term(j + 16 * u, kAll, &a, &b);
      acc[u] = _mm512_fmadd_ps(a, b, acc[u]);
    }
  for (; j + 16 <= d; j += 16) {
    term(j, kAll, &a, &b);
    acc[0] = _mm512_fmadd_ps(a, b, acc[0]);
  }
  if (j < d) {
    term(j, static_cast<__mmask16>((1u << (d - j)) - 1u), &a, &b);
    acc[1] = _mm512_fmadd_ps(a, b, acc[1]);
  }
  return simd::HorizontalSum512(
      _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

// L2: t = qb - s c, summed as t * t.
struct Sq8L2Term16 {
  const float* qb;
  const float* s;
  const uint8_t* c;
  RS_AVX512 void operator()(size_t j, __mmask16 k, __m512* a, __m512* b) const {
    *a = _mm512_fnmadd_ps(_mm512_maskz_loadu_ps(k, s + j), LoadCodesMasked(c + j, k),
                          _mm512_maskz_loadu_ps(k, qb + j));
    *b = *a;
  }
};

// Inner product: x = b + s c, summed as q * x.
struct Sq8IpTerm16 {
  const float* q;
  const float* base;
  const float* s;
  const uint8_t* c;
  RS_AVX512 void operator()(size_t j, __mmask16 k, __m512* a, __m512* b) const {
    *a = _mm512_maskz_loadu_ps(k, q + j);
    *b = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, s + j), LoadCodesMasked(c + j, k),
                         _mm512_maskz_loadu_ps(k, base + j));
  }
};

RS_AVX512 float Sq8L2Avx512(const float* qb, const float* s, const uint8_t* c, size_t d) {
  return SumOfProducts16(d, Sq8L2Term16{qb, s, c});
}

RS_AVX512 float Sq8IpAvx512(const float* q, const float* b, const float* s, const uint8_t* c,
                            size_t d) {
  return -SumOfProducts16(d, Sq8IpTerm16{q, b, s, c});
}

// ---- binary ----

void TrainBinary(size_t dims, const float* x, size_t n, float* params) {
  float* t = params;
  float* lo = params + dims;
  float* hi = params + 2 * dims;
  if (n == 0) {
    float a = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dims)));
    for (size_t j = 0; j < dims; j++) {
      t[j] = 0.0f;
      lo[j] = -a;
      hi[j] = a;
    }
    return;
  }
  std::vector<double> sum(dims, 0.0), sum_hi(dims, 0.0), sum_lo(dims, 0.0);
  std::vector<size_t> n_hi(dims, 0);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < dims; j++) sum[j] += x[i * dims + j];
  for (size_t j = 0; j < dims; j++) t[j] = static_cast<float>(sum[j] / static_cast<double>(n));
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < dims; j++) {
      float v = x[i * dims + j];
      if (v > t[j]) {
        sum_hi[j] += v;
        n_hi[j]++;
      } else {
        sum_lo[j] += v;
      }
    }
  for (size_t j = 0; j < dims; j++) {
    size_t n_lo = n - n_hi[j];
    lo[j] = n_lo > 0 ? static_cast<float>(sum_lo[j] / static_cast<double>(n_lo)) : t[j];
    hi[j] = n_hi[j] > 0 ? static_cast<float>(sum_hi[j] / static_cast<double>(n_hi[j])) : t[j];
  }
}

void EncodeBinary(size_t dims, const float* params, const float* x, uint8_t* code) {
  const float* t = params;
  std::memset(code, 0, (dims + 7) / 8);
  for (size_t j = 0; j < dims; j++)
    if (x[j] > t[j]) code[j / 8] |= static_cast<uint8_t>(1u << (j % 8));
}

void DecodeBinary(size_t dims, const float* params, const uint8_t* code, float* x) {
  const float* lo = params + dims;
  const float* hi = params + 2 * dims;
  for (size_t j = 0; j < dims; j++) x[j] = (code[j / 8] >> (j % 8)) & 1 ? hi[j] : lo[j];
}

// table[i * 256 + v] = base (byte 0 only) + the sum of delta_j over the set bits of v at byte i.
void PrepareBinary(size_t dims, const float* params, Metric metric, const float* q, float* table) {
  const float* lo = params + dims;
  const float* hi = params + 2 * dims;
  const size_t bytes = (dims + 7) / 8;
  double base = 0;
  float delta[8];
  for (size_t i = 0; i < bytes; i++) {
    for (size_t k = 0; k < 8; k++) {
      size_t j = i * 8 + k;
      if (j >= dims) {
        delta[k] = 0.0f;
        continue;
      }
      if (metric == Metric::kL2) {
        double a = double(q[j]) - lo[j], b = double(q[j]) - hi[j];
        base += a * a;
        delta[k] = static_cast<float>(b * b - a * a);
      } else {
        base -= double(q[j]) * lo[j];
        delta[k] = static_cast<float>(-double(q[j]) * (double(hi[j]) - lo[j]));
      }
    }
    float* row = table + i * 256;
    row[0] = 0.0f;
    for (unsigned v = 1; v < 256; v++) row[v] = row[v & (v - 1)] + delta[__builtin_ctz(v)];
  }
  for (unsigned v = 0; v < 256; v++) table[v] += static_cast<float>(base);
}

}  // namespace

const char* QuantizerName(QuantizerKind kind) {
  switch (kind) {
    case QuantizerKind::kNone:
      return "none";
    case QuantizerKind::kSq8:
      return "sq8";
    case QuantizerKind::kBinary:
      return "binary";
  }
  return "?";
}

size_t QuantizerCodeSize(QuantizerKind kind, size_t dims) {
  switch (kind) {
    case QuantizerKind::kNone:
      return 0;
    case QuantizerKind::kSq8:
      return dims;
    case QuantizerKind::kBinary:
      return (dims + 7) / 8;
  }
  return 0;
}

size_t QuantizerParamCount(QuantizerKind kind, size_t dims) {
  switch (kind) {
    case QuantizerKind::kNone:
      return 0;
    case QuantizerKind::kSq8:
      return 2 * dims;
    case QuantizerKind::kBinary:
      return 3 * dims;
  }
  return 0;
}

void TrainQuantizer(QuantizerKind kind, size_t dims, const float* x, size_t n, float* params) {
  CheckKind(kind, dims);
  if (kind == QuantizerKind::kBinary) return TrainBinary(dims, x, n, params);
  if (n == 0) {
    for (size_t j = 0; j < dims; j++) {
      params[j] = -1.0f;
      params[dims + j] = 2.0f;
    }
    return;
  }
  faiss::ScalarQuantizer sq(dims, faiss::ScalarQuantizer::QT_8bit);
  sq.train(n, x);
  if (sq.trained.size() != 2 * dims)
    throw Error(ErrorKind::kInternal, "FAISS scalar quantizer: unexpected trained size");
  for (size_t j = 0; j < dims; j++) {
    params[j] = sq.trained[j];
    // an empty range (all sample values equal, or a single sample)
    float diff = sq.trained[dims + j];
    params[dims + j] = diff > kTinyRange ? diff : kTinyRange;
  }
}

namespace {

// The per-vector loop both code conversions share: binary(i) for each of n vectors of a binary
// quantizer, sq8(quant, i) with FAISS's sq8 quantizer for params otherwise (made once; vector by
// vector, without compute_codes' OpenMP loop: a backend's insert converts one vector and must
// not start a thread team for it).
template <class Binary, class Sq8>
void PerVector(QuantizerKind kind, size_t dims, const float* params, size_t n, Binary binary,
               Sq8 sq8) {
  CheckKind(kind, dims);
  if (kind == QuantizerKind::kBinary) {
    for (size_t i = 0; i < n; i++) binary(i);
    return;
  }
  faiss::ScalarQuantizer sq = MakeSq8(dims, params);  // quant reads sq's trained values
  std::unique_ptr<faiss::ScalarQuantizer::SQuantizer> quant(sq.select_quantizer());
  for (size_t i = 0; i < n; i++) sq8(*quant, i);
}

}  // namespace

void EncodeVectors(QuantizerKind kind, size_t dims, const float* params, const float* x, size_t n,
                   uint8_t* codes) {
  const size_t cs = QuantizerCodeSize(kind, dims);
  std::memset(codes, 0, n * cs);
  PerVector(
      kind, dims, params, n,
      [&](size_t i) { EncodeBinary(dims, params, x + i * dims, codes + i * cs); },
      [&](faiss::ScalarQuantizer::SQuantizer& q, size_t i) {
        q.encode_vector(x + i * dims, codes + i * cs);
      });
}

void DecodeVectors(QuantizerKind kind, size_t dims, const float* params, const uint8_t* codes,
                   size_t n, float* x) {
  const size_t cs = QuantizerCodeSize(kind, dims);
  PerVector(
      kind, dims, params, n,
      [&](size_t i) { DecodeBinary(dims, params, codes + i * cs, x + i * dims); },
      [&](faiss::ScalarQuantizer::SQuantizer& q, size_t i) {
        q.decode_vector(codes + i * cs, x + i * dims);
      });
}

void EncodeEntries(QuantizerKind kind, size_t dims, const float* params, const float* x, size_t n,
                   uint8_t* entries, size_t stride) {
  const size_t cs = QuantizerCodeSize(kind, dims);
  if (stride < sizeof(CodeAux) + cs)
    throw Error(ErrorKind::kInternal, "quantizer entry stride too small");
  std::vector<uint8_t> code(cs);
  std::vector<float> decoded(dims);
  for (size_t i = 0; i < n; i++) {
    const float* v = x + i * dims;
    EncodeVectors(kind, dims, params, v, 1, code.data());
    DecodeVectors(kind, dims, params, code.data(), 1, decoded.data());
    double err = 0, norm = 0;
    for (size_t j = 0; j < dims; j++) {
      double e = double(v[j]) - decoded[j];
      err += e * e;
      norm += double(v[j]) * v[j];
    }
    CodeAux aux{RoundUpToFloat(std::sqrt(err)), RoundUpToFloat(std::sqrt(norm))};
    uint8_t* entry = entries + i * stride;
    std::memcpy(entry, &aux, sizeof(aux));
    std::memcpy(entry + sizeof(aux), code.data(), cs);
  }
}

size_t QueryStateFloats(QuantizerKind kind, size_t dims, Metric metric) {
  switch (kind) {
    case QuantizerKind::kNone:
      return 0;
    case QuantizerKind::kSq8:
      return metric == Metric::kL2 ? 2 * dims : 3 * dims;
    case QuantizerKind::kBinary:
      return 256 * QuantizerCodeSize(kind, dims);
  }
  return 0;
}

void PrepareQuery(QuantizerKind kind, size_t dims, const float* params, Metric metric,
                  const float* q, float* state) {
  CheckKind(kind, dims);
  if (kind == QuantizerKind::kBinary) return PrepareBinary(dims, params, metric, q, state);
  // sq8: per dimension the code step s = (max - min) / 255 and the centre of code 0's cell
  // b = min + s / 2; L2 keeps q - b and s, inner product q, b and s (CodeDistances' layout)
  const float* vmin = params;
  const float* vdiff = params + dims;
  const bool l2 = metric == Metric::kL2;
  float* s = state + (l2 ? dims : 2 * dims);
  for (size_t j = 0; j < dims; j++) {
    s[j] = vdiff[j] / 255.0f;
    float b = vmin[j] + 0.5f * s[j];
    if (l2) {
      state[j] = q[j] - b;
    } else {
      state[j] = q[j];
      state[dims + j] = b;
    }
  }
}

void CodeDistances(QuantizerKind kind, size_t dims, Metric metric, const float* state,
                   const uint8_t* codes, size_t n, size_t stride, float* out) {
  if (kind == QuantizerKind::kBinary) {
    const size_t bytes = (dims + 7) / 8;
    for (size_t i = 0; i < n; i++) {
      const uint8_t* c = codes + i * stride;
      float sum = 0.0f;
      for (size_t k = 0; k < bytes; k++) sum += state[k * 256 + c[k]];
      out[i] = sum;
    }
    return;
  }
  const KernelLevel level = ActiveKernelLevel();
  if (metric == Metric::kL2) {
    const float* qb = state;
    const float* s = state + dims;
    auto* kernel = level == KernelLevel::kAvx512    ? Sq8L2Avx512
                   : level == KernelLevel::kAvx2Fma ? Sq8L2Avx2
                                                    : Sq8L2Portable;
    for (size_t i = 0; i < n; i++) out[i] = kernel(qb, s, codes + i * stride, dims);
  } else {
    const float* q = state;
    const float* b = state + dims;
    const float* s = state + 2 * dims;
    auto* kernel = level == KernelLevel::kAvx512    ? Sq8IpAvx512
                   : level == KernelLevel::kAvx2Fma ? Sq8IpAvx2
                                                    : Sq8IpPortable;
    for (size_t i = 0; i < n; i++) out[i] = kernel(q, b, s, codes + i * stride, dims);
  }
}

double LowerBoundMargin(Metric metric, size_t dims, double code_distance, const CodeAux& aux,
                        double query_norm) {
  const double rel = 4.0 * static_cast<double>(dims) * std::ldexp(1.0, -24);
  double scale;
  switch (metric) {
    case Metric::kL2:
      scale = std::sqrt(std::max(0.0, code_distance)) + aux.error;
      break;
    case Metric::kInnerProduct:
      scale = query_norm * (double(aux.norm) + aux.error);
      break;
    case Metric::kCosine:
    default:
      scale = 1.0 + query_norm * (double(aux.norm) + aux.error);
      break;
  }
  return rel * scale + 1e-5 * (query_norm + aux.norm + aux.error) + 1e-6;
}

double ExactDistanceLowerBound(Metric metric, size_t dims, float code_distance, const CodeAux& aux,
                               float query_norm) {
  double bound;
  switch (metric) {
    case Metric::kL2:
      bound = std::sqrt(std::max(0.0, double(code_distance))) - aux.error;
      break;
    case Metric::kInnerProduct:
      bound = double(code_distance) - double(query_norm) * aux.error;
      break;
    case Metric::kCosine:
    default:
      bound = 1.0 + double(code_distance) - double(query_norm) * aux.error;
      break;
  }
  bound -= LowerBoundMargin(metric, dims, code_distance, aux, query_norm);
  if (!(bound >= -std::numeric_limits<double>::max()))
    return -std::numeric_limits<double>::infinity();
  return bound;
}

size_t SerializedQuantizerSize(QuantizerKind kind, size_t dims) {
  return kHeaderBytes + sizeof(float) * QuantizerParamCount(kind, dims);
}

void SerializeQuantizer(QuantizerKind kind, size_t dims, const float* params, uint8_t* out) {
  CheckKind(kind, dims);
  uint32_t count = static_cast<uint32_t>(QuantizerParamCount(kind, dims));
  uint32_t d = static_cast<uint32_t>(dims);
  std::memset(out, 0, kHeaderBytes);
  std::memcpy(out, &kQuantizerMagic, 4);
  out[4] = static_cast<uint8_t>(kind);
  std::memcpy(out + 8, &d, 4);
  std::memcpy(out + 12, &count, 4);
  std::memcpy(out + kHeaderBytes, params, sizeof(float) * count);
}

void ParseQuantizer(const uint8_t* data, size_t len, QuantizerKind* kind, size_t* dims,
                    const uint8_t** params) {
  uint32_t magic, d, count;
  if (len < kHeaderBytes) throw Error(ErrorKind::kDataException, "quantizer parameters truncated");
  std::memcpy(&magic, data, 4);
  std::memcpy(&d, data + 8, 4);
  std::memcpy(&count, data + 12, 4);
  QuantizerKind k = static_cast<QuantizerKind>(data[4]);
  if (magic != kQuantizerMagic)
    throw Error(ErrorKind::kDataException, "quantizer parameters: bad magic number");
  if ((k != QuantizerKind::kSq8 && k != QuantizerKind::kBinary) || d == 0)
    throw Error(ErrorKind::kDataException, "quantizer parameters: unknown kind or zero dimensions");
  if (count != QuantizerParamCount(k, d) || len != SerializedQuantizerSize(k, d))
    throw Error(ErrorKind::kDataException,
                "quantizer parameters: size does not match kind and dimensions");
  *kind = k;
  *dims = d;
  *params = data + kHeaderBytes;
}

}  // namespace ragstore
