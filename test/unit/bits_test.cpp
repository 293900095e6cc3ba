// Unit tests: the popcount kernels of src/core/bits.h on every level the CPU offers, against a
// bit-by-bit reference, on lengths around the 8-, 32-, 64- and 128-byte block sizes.
#include "core/bits.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace ragstore {
namespace {

class BitsTest : public ::testing::TestWithParam<BitKernelLevel> {
 protected:
  void SetUp() override {
    if (SetBitKernelLevel(GetParam()) != GetParam()) GTEST_SKIP() << "CPU lacks this level";
  }
  void TearDown() override { SetBitKernelLevel(BitKernelLevel::kAvx512); }  // the best, as at load
};

TEST_P(BitsTest, MatchesReference) {
  std::mt19937 rng(3);
  for (size_t n :
       {0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 191, 192, 193, 1000, 8000}) {
    for (double density : {0.0, 0.1, 0.5, 0.9, 1.0}) {
      std::bernoulli_distribution bit(density);
      // Set bits past n (up to a whole 64-byte block) must not count.
      std::vector<uint8_t> a(n + 64, 0xff), b(n + 64, 0x0f);
      for (size_t i = 0; i < n; i++) a[i] = b[i] = 0;
      for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++) {
          a[i] |= uint8_t(bit(rng) << k);
          b[i] |= uint8_t(bit(rng) << k);
        }
      EXPECT_EQ(HammingBits(a.data(), b.data(), n), reference::HammingBits(a.data(), b.data(), n))
          << n;
      uint64_t both, either, rboth, reither;
      JaccardCounts(a.data(), b.data(), n, &both, &either);
      reference::JaccardCounts(a.data(), b.data(), n, &rboth, &reither);
      EXPECT_EQ(both, rboth) << n;
      EXPECT_EQ(either, reither) << n;
      double want = rboth == 0 ? 1.0 : 1.0 - double(rboth) / double(reither);
      EXPECT_DOUBLE_EQ(JaccardDistance(a.data(), b.data(), n), want);
    }
  }
}

TEST_P(BitsTest, KnownValues) {
  std::vector<uint8_t> ones(40, 0xff), zeros(40, 0), half(40, 0xf0);
  EXPECT_EQ(HammingBits(ones.data(), zeros.data(), 40), 320u);
  EXPECT_EQ(HammingBits(ones.data(), half.data(), 40), 160u);
  EXPECT_EQ(HammingBits(half.data(), half.data(), 40), 0u);
  EXPECT_DOUBLE_EQ(JaccardDistance(ones.data(), half.data(), 40), 0.5);
  EXPECT_DOUBLE_EQ(JaccardDistance(zeros.data(), zeros.data(), 40), 1.0);
  EXPECT_DOUBLE_EQ(JaccardDistance(ones.data(), ones.data(), 40), 0.0);
  // 101 vs 111 (bit(3), packed high bits first): |and| = 2, |or| = 3.
  uint8_t a = 0xa0, b = 0xe0;
  EXPECT_EQ(HammingBits(&a, &b, 1), 1u);
  EXPECT_DOUBLE_EQ(JaccardDistance(&a, &b, 1), 1.0 - 2.0 / 3.0);
}

INSTANTIATE_TEST_SUITE_P(Levels, BitsTest,
                         ::testing::Values(BitKernelLevel::kPortable, BitKernelLevel::kPopcnt,
                                           BitKernelLevel::kAvx2, BitKernelLevel::kAvx512),
                         [](const auto& info) {
                           return std::string(BitKernelLevelName(info.param));
                         });

}  // namespace
}  // namespace ragstore
