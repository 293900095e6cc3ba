// Unit tests: the distance kernels of src/core/distance.h against the double-precision scalar
// reference, on every kernel level the CPU offers, random and edge-case inputs.
#include "core/distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace ragstore {
namespace {

class DistanceTest : public ::testing::TestWithParam<KernelLevel> {
 protected:
  void SetUp() override {
    if (SetKernelLevel(GetParam()) != GetParam()) GTEST_SKIP() << "CPU lacks this level";
  }
  void TearDown() override { SetKernelLevel(KernelLevel::kAvx512); }  // the best, as at load
};

// float32 accumulation versus the double reference: relative error grows with n and with
// cancellation; bound it by n * eps * (sum of |terms|).
void ExpectClose(double got, double want, double magnitude, size_t n) {
  double tol = 4.0 * (n + 1) * 1.2e-7 * magnitude + 1e-30;
  EXPECT_NEAR(got, want, tol) << "n=" << n;
}

std::vector<float> Random(size_t n, std::mt19937* rng, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(*rng);
  return v;
}

TEST_P(DistanceTest, MatchesReferenceOnAwkwardLengths) {
  std::mt19937 rng(42);
  for (size_t n : {1,  2,  3,  7,  8,   9,   15,  16,  17,   31,   33,
                   47, 63, 64, 65, 100, 127, 128, 129, 1535, 1536, 16000}) {
    for (float scale : {1e-18f, 1.0f, 1e15f}) {
      auto a = Random(n, &rng, scale), b = Random(n, &rng, scale);
      double mag_l2 = 0, mag_ip = 0, mag_l1 = 0;
      for (size_t i = 0; i < n; i++) {
        mag_l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        mag_ip += std::fabs(double(a[i]) * b[i]);
        mag_l1 += std::fabs(double(a[i]) - b[i]);
      }
      ExpectClose(L2SquaredDistance(a.data(), b.data(), n),
                  reference::L2SquaredDistance(a.data(), b.data(), n), mag_l2, n);
      ExpectClose(InnerProduct(a.data(), b.data(), n),
                  reference::InnerProduct(a.data(), b.data(), n), mag_ip, n);
      ExpectClose(L1Distance(a.data(), b.data(), n), reference::L1Distance(a.data(), b.data(), n),
                  mag_l1, n);
      EXPECT_NEAR(CosineDistance(a.data(), b.data(), n),
                  reference::CosineDistance(a.data(), b.data(), n), 1e-4 * std::sqrt(double(n)));
    }
  }
}

TEST_P(DistanceTest, EdgeCases) {
  std::vector<float> zero(17, 0.0f), one(17, 1.0f), minus(17, -1.0f);
  EXPECT_EQ(L2SquaredDistance(one.data(), one.data(), 17), 0.0f);
  EXPECT_EQ(L2SquaredDistance(zero.data(), one.data(), 17), 17.0f);
  EXPECT_EQ(InnerProduct(one.data(), minus.data(), 17), -17.0f);
  EXPECT_EQ(L1Distance(one.data(), minus.data(), 17), 34.0f);
  EXPECT_TRUE(std::isnan(CosineDistance(zero.data(), one.data(), 17)));
  EXPECT_DOUBLE_EQ(CosineDistance(one.data(), minus.data(), 17), 2.0);
  EXPECT_DOUBLE_EQ(CosineDistance(one.data(), one.data(), 17), 0.0);
  EXPECT_EQ(L2SquaredDistance(one.data(), zero.data(), 0), 0.0f);
  // Overflow to infinity in float32 is reported, not hidden.
  std::vector<float> big(16, 3e38f), neg(16, -3e38f);
  EXPECT_TRUE(std::isinf(L2SquaredDistance(big.data(), neg.data(), 16)));
}

INSTANTIATE_TEST_SUITE_P(Levels, DistanceTest,
                         ::testing::Values(KernelLevel::kPortable, KernelLevel::kAvx2Fma,
                                           KernelLevel::kAvx512),
                         [](const auto& info) {
                           return std::string(info.param == KernelLevel::kPortable  ? "portable"
                                              : info.param == KernelLevel::kAvx2Fma ? "avx2fma"
                                                                                    : "avx512");
                         });

}  // namespace
}  // namespace ragstore
