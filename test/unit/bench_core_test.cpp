// Unit tests: the pure pieces shared by the benchmark driver and the tests: .fvecs/.ivecs
// reading and writing, the deterministic Gaussian mixture, recall@k and exact ground truth.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "core/distance.h"
#include "core/error.h"
#include "core/recall.h"
#include "core/synthetic.h"
#include "core/vecs_io.h"

namespace ragstore {
namespace {

std::string TempPath(const char* name) {
  return std::string(P_tmpdir) + "/ragstore_unit_" + std::to_string(getpid()) + "_" + name;
}

void WriteBytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  fclose(f);
}

TEST(VecsIo, ReadsHandWrittenLittleEndianFvecs) {
  // Two 2-d vectors [1, -2] and [0.5, 3], spelled out byte by byte.
  std::string path = TempPath("hand.fvecs");
  WriteBytes(path, {2, 0, 0, 0, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0,
                    2, 0, 0, 0, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x40, 0x40});
  FloatMatrix m = ReadFvecs(path);
  EXPECT_EQ(m.rows, 2u);
  EXPECT_EQ(m.dim, 2u);
  EXPECT_EQ(m.data, (std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f}));
  EXPECT_EQ(ReadFvecs(path, 1).rows, 1u);
  remove(path.c_str());
}

TEST(VecsIo, RoundTripsAndRejectsBadFiles) {
  std::string path = TempPath("rt.ivecs");
  IdMatrix ids;
  ids.rows = 3;
  ids.k = 4;
  ids.data.resize(12);
  std::iota(ids.data.begin(), ids.data.end(), -1);
  WriteIvecs(path, ids);
  IdMatrix back = ReadIvecs(path);
  EXPECT_EQ(back.rows, 3u);
  EXPECT_EQ(back.k, 4u);
  EXPECT_EQ(back.data, ids.data);

  // Truncated last row.
  WriteBytes(path, {2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0});
  EXPECT_THROW(ReadIvecs(path), Error);
  // Rows of different widths.
  WriteBytes(path, {1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0});
  EXPECT_THROW(ReadIvecs(path), Error);
  // Negative dimension.
  WriteBytes(path, {0xff, 0xff, 0xff, 0xff});
  EXPECT_THROW(ReadFvecs(path), Error);
  remove(path.c_str());
  EXPECT_THROW(ReadFvecs(path), Error);  // missing file
}

TEST(VecsIo, ReadsSharedSiftIfPresent) {
  const char* dir = getenv("RAGSTORE_DATA_DIR");
  if (!dir) GTEST_SKIP() << "RAGSTORE_DATA_DIR not set";
  std::string base = std::string(dir) + "/sift5k/base.fvecs";
  if (access(base.c_str(), R_OK) != 0) GTEST_SKIP() << "no " << base;
  FloatMatrix m = ReadFvecs(base);
  EXPECT_EQ(m.rows, 5000u);
  EXPECT_EQ(m.dim, 128u);
  IdMatrix gt = ReadIvecs(std::string(dir) + "/sift5k/groundtruth_l2.ivecs");
  EXPECT_EQ(gt.rows, 103u);
  EXPECT_EQ(gt.k, 100u);
}

TEST(Synthetic, IsDeterministicAndPrefixStable) {
  FloatMatrix centres = MakeMixtureCentres(10, 16, 4.0, 42);
  FloatMatrix a = SampleMixturePoints(centres, 500, 1.0, 1);
  FloatMatrix b = SampleMixturePoints(MakeMixtureCentres(10, 16, 4.0, 42), 500, 1.0, 1);
  EXPECT_EQ(a.data, b.data);
  FloatMatrix prefix = SampleMixturePoints(centres, 100, 1.0, 1);
  EXPECT_TRUE(std::equal(prefix.data.begin(), prefix.data.end(), a.data.begin()));
  FloatMatrix other = SampleMixturePoints(centres, 500, 1.0, 2);
  EXPECT_NE(a.data, other.data);
  EXPECT_NE(MakeMixtureCentres(10, 16, 4.0, 43).data, centres.data);
  // Fixed values: a change to the generator changes every published figure, so it must be
  // deliberate (update these constants and say so in bench/README.md).
  EXPECT_FLOAT_EQ(centres.data[0], MakeMixtureCentres(1, 16, 4.0, 42).data[0]);
  SplitMix64 rng(0);
  EXPECT_EQ(rng.Next(), 0xe220a8397b1dcdafULL);  // SplitMix64's published first output for seed 0
}

TEST(Synthetic, HasTheDocumentedMoments) {
  FloatMatrix centres = MakeMixtureCentres(200, 32, 4.0, 7);
  double sum = 0, sq = 0;
  for (float x : centres.data) {
    sum += x;
    sq += double(x) * x;
  }
  double n = double(centres.data.size());
  EXPECT_NEAR(sum / n, 0.0, 0.2);
  EXPECT_NEAR(std::sqrt(sq / n - (sum / n) * (sum / n)), 4.0, 0.15);

  // Every point lies near its nearest centre: squared distance about dim * noise^2.
  FloatMatrix pts = SampleMixturePoints(centres, 2000, 1.0, 3);
  double mean_d2 = 0;
  for (size_t i = 0; i < pts.rows; i++) {
    double best = 1e300;
    for (size_t c = 0; c < centres.rows; c++)
      best = std::min(best, reference::L2SquaredDistance(pts.Row(i), centres.Row(c), 32));
    mean_d2 += best / double(pts.rows);
  }
  EXPECT_NEAR(mean_d2, 32.0, 2.0);
  EXPECT_EQ(DefaultMixtureCentres(100000), 1000u);
  EXPECT_EQ(DefaultMixtureCentres(5), 1u);
}

TEST(Synthetic, SubspaceNoiseLiesInTheBasisSpan) {
  const size_t dim = 24, d = 3;
  FloatMatrix centres = MakeMixtureCentres(7, dim, 4.0, 5);
  FloatMatrix basis = MakeMixtureCentres(d, dim, 2.0 / std::sqrt(double(d)), 6);
  FloatMatrix pts = SampleMixturePointsInSubspace(centres, basis, 3000, 8);
  EXPECT_EQ(pts.data, SampleMixturePointsInSubspace(centres, basis, 3000, 8).data);
  // Noise-free points of the isotropic sampler with the same seed are each row's centre.
  FloatMatrix own = SampleMixturePoints(centres, 3000, 0.0, 8);
  // Orthonormalise the basis rows (Gram-Schmidt, double precision).
  std::vector<std::vector<double>> q;
  for (size_t t = 0; t < d; t++) {
    std::vector<double> v(basis.Row(t), basis.Row(t) + dim);
    for (const auto& u : q) {
      double dot = std::inner_product(v.begin(), v.end(), u.begin(), 0.0);
      for (size_t j = 0; j < dim; j++) v[j] -= dot * u[j];
    }
    double norm = std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
    ASSERT_GT(norm, 1e-3);
    for (double& x : v) x /= norm;
    q.push_back(v);
  }
  double energy = 0, worst_residual = 0;
  for (size_t i = 0; i < pts.rows; i++) {
    std::vector<double> r(dim);
    for (size_t j = 0; j < dim; j++) r[j] = double(pts.Row(i)[j]) - own.Row(i)[j];
    double e = std::inner_product(r.begin(), r.end(), r.begin(), 0.0);
    energy += e / double(pts.rows * dim);
    for (const auto& u : q) {
      double dot = std::inner_product(r.begin(), r.end(), u.begin(), 0.0);
      for (size_t j = 0; j < dim; j++) r[j] -= dot * u[j];
    }
    double left = std::inner_product(r.begin(), r.end(), r.begin(), 0.0);
    worst_residual = std::max(worst_residual, std::sqrt(left / (e + 1e-30)));
  }
  EXPECT_LT(worst_residual, 1e-4);       // the noise has rank d: nothing outside the span
  EXPECT_NEAR(energy, 4.0, 4.0 * 0.35);  // noise_sigma^2 = 2^2 per coordinate in expectation
  EXPECT_THROW(SampleMixturePointsInSubspace(centres, MakeMixtureCentres(2, dim + 1, 1.0, 1), 5, 1),
               Error);
  EXPECT_THROW(SampleMixturePointsInSubspace(centres, FloatMatrix(), 5, 1), Error);
}

TEST(Recall, CountsHitsAmongTheFirstK) {
  IdMatrix truth{2, 3, {1, 2, 3, 4, 5, 6}};
  IdMatrix results{2, 4, {3, 9, 1, 2, 6, 5, 4, -1}};
  // Query 0: top-3 results {3, 9, 1} hold 2 of {1, 2, 3}; query 1: {6, 5, 4} hold all 3.
  EXPECT_DOUBLE_EQ(RecallAtK(results, truth, 3), 5.0 / 6.0);
  // k = 1: query 0 wants 1, sees 3 (miss); query 1 wants 4, sees 6 (miss).
  EXPECT_DOUBLE_EQ(RecallAtK(results, truth, 1), 0.0);
  // Duplicates in results are not counted twice.
  IdMatrix dup{1, 2, {7, 7}};
  IdMatrix t2{1, 2, {7, 8}};
  EXPECT_DOUBLE_EQ(RecallAtK(dup, t2, 2), 0.5);
  EXPECT_THROW(RecallAtK(results, truth, 4), Error);
  EXPECT_THROW(RecallAtK(IdMatrix{1, 4, {1, 2, 3, 4}}, truth, 3), Error);
}

TEST(ExactKnn, MatchesNaiveScanWithTieBreakByLowerId) {
  FloatMatrix centres = MakeMixtureCentres(5, 8, 4.0, 11);
  FloatMatrix base = SampleMixturePoints(centres, 600, 1.0, 12);
  // Plant exact duplicates of row 10 at rows 500 and 20: ties must come back as 10, 20, 500.
  std::copy(base.Row(10), base.Row(10) + 8, base.Row(500));
  std::copy(base.Row(10), base.Row(10) + 8, base.Row(20));
  FloatMatrix queries = SampleMixturePoints(centres, 50, 1.0, 13);
  std::copy(base.Row(10), base.Row(10) + 8, queries.Row(0));

  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
    IdMatrix gt = ExactKnn(base, queries, 10, metric);
    ASSERT_EQ(gt.rows, 50u);
    ASSERT_EQ(gt.k, 10u);
    for (size_t q = 0; q < queries.rows; q++) {
      std::vector<std::pair<double, int32_t>> all;
      for (size_t i = 0; i < base.rows; i++) {
        const float* a = queries.Row(q);
        const float* b = base.Row(i);
        double d = metric == Metric::kL2             ? reference::L2SquaredDistance(a, b, 8)
                   : metric == Metric::kInnerProduct ? -reference::InnerProduct(a, b, 8)
                                                     : reference::CosineDistance(a, b, 8);
        all.emplace_back(d, int32_t(i));
      }
      std::sort(all.begin(), all.end());
      for (size_t j = 0; j < 10; j++) EXPECT_EQ(gt.Row(q)[j], all[j].second) << q << "," << j;
    }
    if (metric == Metric::kL2) {
      EXPECT_EQ(gt.Row(0)[0], 10);
      EXPECT_EQ(gt.Row(0)[1], 20);
      EXPECT_EQ(gt.Row(0)[2], 500);
    }
    EXPECT_DOUBLE_EQ(RecallAtK(gt, gt, 10), 1.0);
  }
  EXPECT_THROW(ExactKnn(base, MakeMixtureCentres(1, 9, 1.0, 1), 10, Metric::kL2), Error);
  // float ground truth has L2, inner product and cosine only
  EXPECT_THROW(ExactKnn(base, base, 10, Metric::kL1), Error);
  EXPECT_THROW(ExactKnn(base, base, 10, Metric::kHamming), Error);
}

}  // namespace
}  // namespace ragstore
