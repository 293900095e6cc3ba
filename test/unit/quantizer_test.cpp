// Unit tests: the sq8 and binary quantizers (core/quantizer.h): round-trip error bounds, code
// distances against distances to FAISS's decoded vectors, the exact-distance lower bound, and
// serialisation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/distance.h"
#include "core/error.h"
#include "core/quantizer.h"

namespace ragstore {
namespace {

std::vector<float> Gaussian(size_t n, size_t d, unsigned seed, float sigma = 1.0f,
                            bool unit = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> x(n * d);
  for (auto& v : x) v = normal(rng);
  // give each dimension its own offset so that per-dimension ranges matter
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) x[i * d + j] += 0.1f * sigma * static_cast<float>(j % 7);
  if (unit)
    for (size_t i = 0; i < n; i++) {
      double s = 0;
      for (size_t j = 0; j < d; j++) s += double(x[i * d + j]) * x[i * d + j];
      for (size_t j = 0; j < d; j++) x[i * d + j] = static_cast<float>(x[i * d + j] / std::sqrt(s));
    }
  return x;
}

std::vector<float> Train(QuantizerKind kind, size_t d, const std::vector<float>& x) {
  std::vector<float> params(QuantizerParamCount(kind, d));
  TrainQuantizer(kind, d, x.data(), x.size() / d, params.data());
  return params;
}

// Code distances from query q to the n entries (stride bytes each) for `metric`.
std::vector<float> DistancesToEntries(QuantizerKind kind, size_t d,
                                      const std::vector<float>& params, Metric metric,
                                      const std::vector<float>& q,
                                      const std::vector<uint8_t>& entries, size_t n,
                                      size_t stride) {
  std::vector<float> state(QueryStateFloats(kind, d, metric)), out(n);
  PrepareQuery(kind, d, params.data(), metric, q.data(), state.data());
  CodeDistances(kind, d, metric, state.data(), EntryCode(entries.data()), n, stride, out.data());
  return out;
}

TEST(QuantizerTest, Sizes) {
  EXPECT_EQ(QuantizerCodeSize(QuantizerKind::kSq8, 1536), 1536u);
  EXPECT_EQ(QuantizerCodeSize(QuantizerKind::kBinary, 1536), 192u);
  EXPECT_EQ(QuantizerCodeSize(QuantizerKind::kBinary, 13), 2u);
  EXPECT_EQ(QuantizerParamCount(QuantizerKind::kSq8, 10), 20u);
  EXPECT_EQ(QuantizerParamCount(QuantizerKind::kBinary, 10), 30u);
  EXPECT_THROW(TrainQuantizer(QuantizerKind::kNone, 4, nullptr, 0, nullptr), Error);
}

// sq8: every training vector decodes within half a step (vdiff / 255 / 2) per dimension, since
// the sample's minimum and maximum are the range. Dimensions 1..133 cover the SIMD tails.
TEST(QuantizerTest, Sq8RoundTripWithinHalfStep) {
  for (size_t d : {1, 7, 8, 16, 23, 133}) {
    auto x = Gaussian(300, d, 3);
    auto params = Train(QuantizerKind::kSq8, d, x);
    std::vector<uint8_t> codes(300 * d);
    std::vector<float> y(300 * d);
    EncodeVectors(QuantizerKind::kSq8, d, params.data(), x.data(), 300, codes.data());
    DecodeVectors(QuantizerKind::kSq8, d, params.data(), codes.data(), 300, y.data());
    for (size_t i = 0; i < 300; i++)
      for (size_t j = 0; j < d; j++) {
        float step = params[d + j] / 255.0f;
        ASSERT_LE(std::fabs(x[i * d + j] - y[i * d + j]), 0.5f * step * 1.001f + 1e-6f)
            << "d=" << d << " i=" << i << " j=" << j;
      }
  }
}

// Values outside the trained range clamp to its ends (inserted rows after the build).
TEST(QuantizerTest, Sq8ClampsOutsideRange) {
  const size_t d = 4;
  auto x = Gaussian(100, d, 5);
  auto params = Train(QuantizerKind::kSq8, d, x);
  std::vector<float> far(d, 1e6f), y(d);
  uint8_t code[d];
  EncodeVectors(QuantizerKind::kSq8, d, params.data(), far.data(), 1, code);
  DecodeVectors(QuantizerKind::kSq8, d, params.data(), code, 1, y.data());
  for (size_t j = 0; j < d; j++) {
    EXPECT_EQ(code[j], 255);
    EXPECT_NEAR(y[j], params[j] + params[d + j], params[d + j] / 255.0f);
  }
}

// A dimension with one value everywhere (and a single training vector) encodes without NaN.
TEST(QuantizerTest, Sq8EmptyRange) {
  const size_t d = 3;
  std::vector<float> x = {1.0f, 2.0f, 3.0f};
  auto params = Train(QuantizerKind::kSq8, d, x);
  std::vector<float> y(d);
  uint8_t code[d];
  EncodeVectors(QuantizerKind::kSq8, d, params.data(), x.data(), 1, code);
  DecodeVectors(QuantizerKind::kSq8, d, params.data(), code, 1, y.data());
  for (size_t j = 0; j < d; j++) EXPECT_NEAR(y[j], x[j], 1e-5f);
  // no sample at all: the range [-1, 1]
  Train(QuantizerKind::kSq8, d, {}).swap(params);
  EXPECT_EQ(params[0], -1.0f);
  EXPECT_EQ(params[d], 2.0f);
}

// binary: the threshold is the per-dimension mean, lo/hi the means of each side; a code decodes
// to lo or hi per dimension, and the bit says which side of the threshold the value was.
TEST(QuantizerTest, BinaryThresholdAndDecode) {
  const size_t d = 11, n = 400;
  auto x = Gaussian(n, d, 9);
  auto params = Train(QuantizerKind::kBinary, d, x);
  for (size_t j = 0; j < d; j++) {
    double mean = 0;
    for (size_t i = 0; i < n; i++) mean += x[i * d + j];
    mean /= n;
    EXPECT_NEAR(params[j], mean, 1e-5);
    EXPECT_LT(params[d + j], params[j]);
    EXPECT_GT(params[2 * d + j], params[j]);
  }
  std::vector<uint8_t> codes(n * 2);
  std::vector<float> y(n * d);
  EncodeVectors(QuantizerKind::kBinary, d, params.data(), x.data(), n, codes.data());
  DecodeVectors(QuantizerKind::kBinary, d, params.data(), codes.data(), n, y.data());
  for (size_t i = 0; i < n; i++) {
    EXPECT_EQ(codes[i * 2 + 1] >> 3, 0) << "bits past the last dimension stay clear";
    for (size_t j = 0; j < d; j++) {
      bool bit = (codes[i * 2 + j / 8] >> (j % 8)) & 1;
      EXPECT_EQ(bit, x[i * d + j] > params[j]);
      EXPECT_EQ(y[i * d + j], bit ? params[2 * d + j] : params[d + j]);
    }
  }
}

// CodeDistances equals the distance from the query to the decoded vector (FAISS's decoding for
// sq8), for both metrics, through entries with a stride, with the AVX-512, AVX2 and portable
// kernels (lengths around the 16- and 64-lane steps: masked tails).
TEST(QuantizerTest, CodeDistancesMatchDecodedVectors) {
  const KernelLevel saved = ActiveKernelLevel();
  for (QuantizerKind kind : {QuantizerKind::kSq8, QuantizerKind::kBinary}) {
    for (KernelLevel level :
         {KernelLevel::kPortable, KernelLevel::kAvx2Fma, KernelLevel::kAvx512}) {
      SetKernelLevel(level);
      for (size_t d : {5, 8, 24, 47, 64, 65, 131, 1536}) {
        const size_t n = 40;
        auto x = Gaussian(n, d, 13);
        auto params = Train(kind, d, x);
        const size_t cs = QuantizerCodeSize(kind, d);
        const size_t stride = sizeof(CodeAux) + cs + 3;  // an odd stride: unaligned codes
        std::vector<uint8_t> entries(n * stride);
        EncodeEntries(kind, d, params.data(), x.data(), n, entries.data(), stride);
        std::vector<uint8_t> codes(n * cs);
        for (size_t i = 0; i < n; i++)
          std::memcpy(&codes[i * cs], EntryCode(&entries[i * stride]), cs);
        std::vector<float> y(n * d);
        DecodeVectors(kind, d, params.data(), codes.data(), n, y.data());
        auto q = Gaussian(1, d, 17);
        for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
          auto out = DistancesToEntries(kind, d, params, metric, q, entries, n, stride);
          for (size_t i = 0; i < n; i++) {
            double want = metric == Metric::kL2
                              ? reference::L2SquaredDistance(q.data(), &y[i * d], d)
                              : -reference::InnerProduct(q.data(), &y[i * d], d);
            ASSERT_NEAR(out[i], want, 1e-4 * (1 + std::fabs(want)))
                << QuantizerName(kind) << " d=" << d << " i=" << i << " metric=" << int(metric);
          }
        }
        // the stored error is ||x - decoded|| (rounded up), the norm ||x||
        for (size_t i = 0; i < n; i++) {
          CodeAux aux;
          std::memcpy(&aux, &entries[i * stride], sizeof(aux));
          double err = std::sqrt(reference::L2SquaredDistance(&x[i * d], &y[i * d], d));
          double norm = std::sqrt(reference::InnerProduct(&x[i * d], &x[i * d], d));
          EXPECT_GE(aux.error, err * (1 - 1e-6));
          EXPECT_NEAR(aux.error, err, 1e-5 * (1 + err));
          EXPECT_NEAR(aux.norm, norm, 1e-5 * (1 + norm));
        }
      }
    }
  }
  SetKernelLevel(saved);
}

// sq8's reconstruction error is small against typical distances (what makes the lower bound
// useful), binary's is not: unit vectors of 256 dimensions.
TEST(QuantizerTest, ReconstructionErrorScale) {
  const size_t d = 256, n = 500;
  auto x = Gaussian(n, d, 21, 1.0f, true);
  for (QuantizerKind kind : {QuantizerKind::kSq8, QuantizerKind::kBinary}) {
    auto params = Train(kind, d, x);
    const size_t stride = sizeof(CodeAux) + QuantizerCodeSize(kind, d);
    std::vector<uint8_t> entries(n * stride);
    EncodeEntries(kind, d, params.data(), x.data(), n, entries.data(), stride);
    double mean_err = 0;
    for (size_t i = 0; i < n; i++) {
      CodeAux aux;
      std::memcpy(&aux, &entries[i * stride], sizeof(aux));
      mean_err += aux.error / n;
    }
    if (kind == QuantizerKind::kSq8)
      EXPECT_LT(mean_err, 0.02) << "sq8 error norm of unit vectors";
    else
      EXPECT_LT(mean_err, 0.75) << "binary error norm of unit vectors";
  }
}

// The lower bound never exceeds the exact distance computed in float32 (as the SQL operators
// do), for every metric, on vectors the quantizer was not trained on (clamped values too).
TEST(QuantizerTest, LowerBoundHoldsForAllMetrics) {
  for (QuantizerKind kind : {QuantizerKind::kSq8, QuantizerKind::kBinary}) {
    for (size_t d : {3, 64, 1536}) {
      for (bool unit : {false, true}) {
        auto train = Gaussian(200, d, 31, 1.0f, unit);
        auto params = Train(kind, d, train);
        const size_t n = 200;
        auto x = Gaussian(n, d, 37, 1.3f, unit);  // wider than the training data
        const size_t stride = sizeof(CodeAux) + QuantizerCodeSize(kind, d);
        std::vector<uint8_t> entries(n * stride);
        EncodeEntries(kind, d, params.data(), x.data(), n, entries.data(), stride);
        for (unsigned qs = 0; qs < 5; qs++) {
          auto q = Gaussian(1, d, 41 + qs, 1.0f, unit);
          float qnorm = std::sqrt(InnerProduct(q.data(), q.data(), d));
          for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
            auto out = DistancesToEntries(kind, d, params, metric, q, entries, n, stride);
            for (size_t i = 0; i < n; i++) {
              CodeAux aux;
              std::memcpy(&aux, &entries[i * stride], sizeof(aux));
              const float* xi = &x[i * d];
              if (metric == Metric::kL2) {
                double exact = std::sqrt(double(L2SquaredDistance(q.data(), xi, d)));
                double b = ExactDistanceLowerBound(Metric::kL2, d, out[i], aux, qnorm);
                ASSERT_LE(b, exact) << QuantizerName(kind) << " d=" << d;
                if (kind == QuantizerKind::kSq8) ASSERT_GT(b, exact - 3 * aux.error - 1e-3);
              } else {
                double exact = -double(InnerProduct(q.data(), xi, d));
                double b = ExactDistanceLowerBound(Metric::kInnerProduct, d, out[i], aux, qnorm);
                ASSERT_LE(b, exact) << QuantizerName(kind) << " d=" << d;
                if (unit) {
                  double cexact = CosineDistance(q.data(), xi, d);
                  double cb = ExactDistanceLowerBound(Metric::kCosine, d, out[i], aux, qnorm);
                  ASSERT_LE(cb, cexact) << QuantizerName(kind) << " d=" << d;
                }
              }
            }
          }
        }
      }
    }
  }
}

TEST(QuantizerTest, LowerBoundNeverNaN) {
  CodeAux aux{std::numeric_limits<float>::infinity(), 1.0f};
  double b = ExactDistanceLowerBound(Metric::kInnerProduct, 4, 0.0f, aux, 0.0f);
  EXPECT_FALSE(std::isnan(b));
  EXPECT_TRUE(std::isinf(b) && b < 0);
}

TEST(QuantizerTest, SerialisationRoundTrip) {
  for (QuantizerKind kind : {QuantizerKind::kSq8, QuantizerKind::kBinary}) {
    const size_t d = 16000;  // the parameters span several 8 kB pages
    auto x = Gaussian(20, d, 51);
    auto params = Train(kind, d, x);
    std::vector<uint8_t> bytes(SerializedQuantizerSize(kind, d));
    ASSERT_GT(bytes.size(), 8192u * 2);
    SerializeQuantizer(kind, d, params.data(), bytes.data());
    QuantizerKind k2;
    size_t d2;
    const uint8_t* p2;
    ParseQuantizer(bytes.data(), bytes.size(), &k2, &d2, &p2);
    EXPECT_EQ(k2, kind);
    EXPECT_EQ(d2, d);
    EXPECT_EQ(std::memcmp(p2, params.data(), params.size() * sizeof(float)), 0);
    // damaged or truncated bytes are rejected
    EXPECT_THROW(ParseQuantizer(bytes.data(), bytes.size() - 1, &k2, &d2, &p2), Error);
    EXPECT_THROW(ParseQuantizer(bytes.data(), 10, &k2, &d2, &p2), Error);
    auto bad = bytes;
    bad[0] ^= 1;
    EXPECT_THROW(ParseQuantizer(bad.data(), bad.size(), &k2, &d2, &p2), Error);
    bad = bytes;
    bad[4] = 7;
    EXPECT_THROW(ParseQuantizer(bad.data(), bad.size(), &k2, &d2, &p2), Error);
  }
}

}  // namespace
}  // namespace ragstore
