// Unit tests: half <-> float conversion (src/core/half.h), exhaustively over all 65,536 half
// values on both paths, and the halfvec distance kernels against a double-precision reference.
#include "core/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace ragstore {
namespace {

uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
float FromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// Independent slow reference: the value of a half from its definition, in double.
double HalfValue(Half h) {
  int sign = (h & 0x8000) ? -1 : 1;
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  if (exp == 31) return mant ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024 + mant, exp - 25);
}

TEST(HalfConversion, HalfToFloatIsExactForEveryHalf) {
  for (uint32_t h = 0; h < 65536; h++) {
    float f = HalfToFloat(static_cast<Half>(h));
    double want = HalfValue(static_cast<Half>(h));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(f)) << std::hex << h;
      EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;
    } else {
      ASSERT_EQ(double(f), want) << std::hex << h;
      EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;  // -0 stays -0
    }
  }
}

TEST(HalfConversion, RoundTripIsIdentityForEveryNonNanHalf) {
  for (uint32_t h = 0; h < 65536; h++) {
    Half half = static_cast<Half>(h);
    if (HalfIsNan(half)) {
      // NaN comes back as a quiet NaN with the same sign and payload (plus the quiet bit).
      Half back = FloatToHalf(HalfToFloat(half));
      EXPECT_TRUE(HalfIsNan(back)) << std::hex << h;
      EXPECT_EQ(back, h | 0x0200) << std::hex << h;
      continue;
    }
    ASSERT_EQ(FloatToHalf(HalfToFloat(half)), half) << std::hex << h;
  }
}

TEST(HalfConversion, F16cPathMatchesPortableForEveryHalf) {
  if (!CpuHasF16c()) GTEST_SKIP() << "CPU lacks F16C";
  for (uint32_t h = 0; h < 65536; h++) {
    Half half = static_cast<Half>(h);
    ASSERT_EQ(Bits(f16c::HalfToFloat(half)), Bits(HalfToFloat(half))) << std::hex << h;
    float f = HalfToFloat(half);
    ASSERT_EQ(f16c::FloatToHalf(f), FloatToHalf(f)) << std::hex << h;
  }
}

// For every pair of adjacent finite halves lo < hi (same sign), the float exactly halfway
// between them rounds to the one with an even mantissa, and the floats one float-ulp either side
// of the midpoint round to the nearer half. Checked on the scalar path, the F16C path and both
// bulk paths.
TEST(HalfConversion, HalfwayFloatsRoundToNearestEven) {
  std::vector<float> inputs;
  std::vector<Half> expected;
  for (uint32_t sign : {0u, 0x8000u}) {
    for (uint32_t m = 0; m < 0x7bff; m++) {  // up to 65504 - 1 ulp
      Half lo = static_cast<Half>(sign | m), hi = static_cast<Half>(sign | (m + 1));
      double mid = (HalfValue(lo) + HalfValue(hi)) / 2;
      float fmid = static_cast<float>(mid);
      ASSERT_EQ(double(fmid), mid);  // exactly representable: half has 11 bits, float 24
      Half even = (lo & 1) ? hi : lo;
      inputs.push_back(fmid);
      expected.push_back(even);
      inputs.push_back(std::nextafter(fmid, 0.0f));
      expected.push_back(lo);
      inputs.push_back(std::nextafter(fmid, sign ? -INFINITY : INFINITY));
      expected.push_back(hi);
    }
  }
  for (size_t i = 0; i < inputs.size(); i++)
    ASSERT_EQ(FloatToHalf(inputs[i]), expected[i]) << inputs[i];
  if (CpuHasF16c())
    for (size_t i = 0; i < inputs.size(); i++)
      ASSERT_EQ(f16c::FloatToHalf(inputs[i]), expected[i]) << inputs[i];
  for (HalfKernelLevel level :
       {HalfKernelLevel::kPortable, HalfKernelLevel::kF16cAvx2, HalfKernelLevel::kAvx512}) {
    if (SetHalfKernelLevel(level) != level) continue;
    std::vector<Half> out(inputs.size());
    FloatsToHalves(inputs.data(), out.data(), inputs.size());
    EXPECT_EQ(out, expected) << HalfKernelLevelName(level);
    std::vector<float> back(inputs.size());
    HalvesToFloats(out.data(), back.data(), out.size());
    for (size_t i = 0; i < out.size(); i++) ASSERT_EQ(Bits(back[i]), Bits(HalfToFloat(out[i])));
  }
  SetHalfKernelLevel(HalfKernelLevel::kAvx512);
}

TEST(HalfConversion, OverflowUnderflowInfNan) {
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(65519.996f), 0x7bff);  // just below the midpoint to 65536
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);    // the midpoint rounds (to even) to Inf
  EXPECT_EQ(FloatToHalf(-1e10f), 0xfc00);
  EXPECT_EQ(FloatToHalf(3.4e38f), 0x7c00);
  EXPECT_EQ(FloatToHalf(INFINITY), 0x7c00);
  EXPECT_EQ(FloatToHalf(-INFINITY), 0xfc00);
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000);  // halfway to it: ties to even, 0
  EXPECT_EQ(FloatToHalf(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(FloatToHalf(1e-30f), 0x0000);
  EXPECT_EQ(FloatToHalf(-1e-30f), 0x8000);
  EXPECT_EQ(FloatToHalf(FromBits(1)), 0x0000);            // smallest float subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(2.0f), 0x4000);
  EXPECT_EQ(FloatToHalf(3.0f), 0x4200);
  EXPECT_EQ(FloatToHalf(0.1f), 0x2e66);
  EXPECT_TRUE(HalfIsNan(FloatToHalf(NAN)));
  EXPECT_TRUE(HalfIsNan(FloatToHalf(FromBits(0x7f800001))));  // signalling NaN, low payload
  EXPECT_TRUE(HalfIsNan(FloatToHalf(FromBits(0xff800001))));
  EXPECT_TRUE(HalfIsInf(FloatToHalf(1e5f)));
  EXPECT_TRUE(HalfIsZero(FloatToHalf(-0.0f)));
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
}

// Floats spread over the whole 32-bit space (a stride coprime with 2^32 visits ~1M patterns
// including NaNs, subnormals, huge values): the F16C path agrees with the portable one.
TEST(HalfConversion, F16cMatchesPortableOnSampledFloats) {
  if (!CpuHasF16c()) GTEST_SKIP() << "CPU lacks F16C";
  uint32_t bits = 0;
  for (int i = 0; i < (1 << 20); i++, bits += 4099u) {
    float f = FromBits(bits);
    ASSERT_EQ(f16c::FloatToHalf(f), FloatToHalf(f)) << std::hex << bits;
  }
}

class HalfDistanceTest : public ::testing::TestWithParam<HalfKernelLevel> {
 protected:
  void SetUp() override {
    if (SetHalfKernelLevel(GetParam()) != GetParam()) GTEST_SKIP() << "CPU lacks this level";
  }
  void TearDown() override {
    SetHalfKernelLevel(HalfKernelLevel::kAvx512);
  }  // the best, as at load
};

std::vector<Half> RandomHalves(size_t n, std::mt19937* rng, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<Half> v(n);
  for (auto& x : v) x = FloatToHalf(dist(*rng));
  return v;
}

void ExpectClose(double got, double want, double magnitude, size_t n) {
  double tol = 4.0 * (n + 1) * 1.2e-7 * magnitude + 1e-30;
  EXPECT_NEAR(got, want, tol) << "n=" << n;
}

TEST_P(HalfDistanceTest, MatchesReferenceOnAwkwardLengths) {
  std::mt19937 rng(7);
  for (size_t n : {0,  1,  2,  3,  7,   8,   9,   15,  16,   17,   31,   33,
                   47, 63, 64, 65, 100, 127, 128, 129, 1535, 1536, 16000}) {
    for (float scale : {1e-3f, 1.0f, 100.0f}) {
      auto a = RandomHalves(n, &rng, scale), b = RandomHalves(n, &rng, scale);
      double mag_l2 = reference::HalfL2SquaredDistance(a.data(), b.data(), n);
      double mag_ip = 0;
      for (size_t i = 0; i < n; i++)
        mag_ip += std::fabs(double(HalfToFloat(a[i])) * HalfToFloat(b[i]));
      double mag_l1 = reference::HalfL1Distance(a.data(), b.data(), n);
      ExpectClose(HalfL2SquaredDistance(a.data(), b.data(), n), mag_l2, mag_l2, n);
      ExpectClose(HalfInnerProduct(a.data(), b.data(), n),
                  reference::HalfInnerProduct(a.data(), b.data(), n), mag_ip, n);
      ExpectClose(HalfL1Distance(a.data(), b.data(), n), mag_l1, mag_l1, n);
      if (n > 0)
        EXPECT_NEAR(HalfCosineDistance(a.data(), b.data(), n),
                    reference::HalfCosineDistance(a.data(), b.data(), n),
                    1e-4 * std::sqrt(double(n)));
    }
  }
}

TEST_P(HalfDistanceTest, EdgeCases) {
  std::vector<Half> zero(17, 0), one(17, 0x3c00), minus(17, 0xbc00), max(16, 0x7bff),
      min(16, 0xfbff);
  EXPECT_EQ(HalfL2SquaredDistance(one.data(), one.data(), 17), 0.0f);
  EXPECT_EQ(HalfL2SquaredDistance(zero.data(), one.data(), 17), 17.0f);
  EXPECT_EQ(HalfInnerProduct(one.data(), minus.data(), 17), -17.0f);
  EXPECT_EQ(HalfL1Distance(one.data(), minus.data(), 17), 34.0f);
  EXPECT_TRUE(std::isnan(HalfCosineDistance(zero.data(), one.data(), 17)));
  EXPECT_DOUBLE_EQ(HalfCosineDistance(one.data(), minus.data(), 17), 2.0);
  EXPECT_DOUBLE_EQ(HalfCosineDistance(one.data(), one.data(), 17), 0.0);
  // The largest halves do not overflow float32 accumulation: 16 * (2 * 65504)^2 ~ 2.7e11.
  EXPECT_FLOAT_EQ(HalfL2SquaredDistance(max.data(), min.data(), 16), 16.0f * 131008.0f * 131008.0f);
}

TEST_P(HalfDistanceTest, BulkConversionMatchesScalar) {
  std::vector<Half> all(65536);
  for (uint32_t h = 0; h < 65536; h++) all[h] = static_cast<Half>(h);
  std::vector<float> f(all.size());
  HalvesToFloats(all.data(), f.data(), all.size());
  for (uint32_t h = 0; h < 65536; h++) ASSERT_EQ(Bits(f[h]), Bits(HalfToFloat(all[h])));
  std::vector<Half> back(all.size());
  FloatsToHalves(f.data(), back.data(), f.size());
  for (uint32_t h = 0; h < 65536; h++) ASSERT_EQ(back[h], FloatToHalf(f[h]));
  // Every tail length from every start (the SIMD paths convert 8 or 16 at a time): nothing
  // past n is read into the result or written.
  for (size_t start = 0; start < 3; start++) {
    for (size_t n = 0; n <= 40; n++) {
      std::vector<float> out(n + 1, -7.0f);
      HalvesToFloats(all.data() + 15360 + start, out.data(), n);
      for (size_t i = 0; i < n; i++)
        ASSERT_EQ(Bits(out[i]), Bits(HalfToFloat(all[15360 + start + i])));
      ASSERT_EQ(out[n], -7.0f) << "wrote past n=" << n;
      std::vector<Half> hout(n + 1, 0x1234);
      FloatsToHalves(f.data() + 15360 + start, hout.data(), n);
      for (size_t i = 0; i < n; i++) ASSERT_EQ(hout[i], FloatToHalf(f[15360 + start + i]));
      ASSERT_EQ(hout[n], 0x1234) << "wrote past n=" << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, HalfDistanceTest,
                         ::testing::Values(HalfKernelLevel::kPortable, HalfKernelLevel::kF16cAvx2,
                                           HalfKernelLevel::kAvx512),
                         [](const auto& info) {
                           return std::string(info.param == HalfKernelLevel::kPortable ? "portable"
                                              : info.param == HalfKernelLevel::kF16cAvx2
                                                  ? "f16c"
                                                  : "avx512");
                         });

}  // namespace
}  // namespace ragstore
