// Unit tests: ivfflat's core pieces: the batched list-scan kernels against distance.h's
// per-pair kernels, and FAISS k-means / assignment on well-separated clusters.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/distance.h"
#include "core/error.h"
#include "core/ivf_kmeans.h"
#include "core/list_scan.h"

namespace ragstore {
namespace {

TEST(ListScanTest, BatchKernelsMatchPairKernels) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (size_t d : {1, 3, 8, 13, 128, 131}) {
    for (size_t n : {0, 1, 3, 4, 5, 17}) {
      std::vector<float> q(d), base(n * d), l2(n), ip(n);
      for (auto& x : q) x = normal(rng);
      for (auto& x : base) x = normal(rng);
      BatchL2Squared(q.data(), base.data(), n, d, l2.data());
      BatchNegativeInnerProduct(q.data(), base.data(), n, d, ip.data());
      for (size_t i = 0; i < n; i++) {
        double want_l2 = reference::L2SquaredDistance(q.data(), base.data() + i * d, d);
        double want_ip = reference::InnerProduct(q.data(), base.data() + i * d, d);
        EXPECT_NEAR(l2[i], want_l2, 1e-4 * (1 + want_l2)) << "d=" << d << " n=" << n;
        EXPECT_NEAR(ip[i], -want_ip, 1e-4 * (1 + std::fabs(want_ip))) << "d=" << d << " n=" << n;
      }
    }
  }
}

TEST(ListScanTest, Hamming) {
  uint8_t a[9] = {0xff, 0, 0x0f, 1, 2, 3, 4, 5, 0x80};
  uint8_t b[9] = {0x00, 0, 0x0f, 1, 2, 3, 4, 5, 0x00};
  EXPECT_EQ(HammingDistance(a, b, 9), 9u);
  float out[2];
  uint8_t base[18];
  std::copy(a, a + 9, base);
  std::copy(b, b + 9, base + 9);
  BatchHamming(a, base, 2, 9, out);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 9.0f);
}

// Four tight clusters far apart: k-means with k = 4 puts one centroid in each, and every point
// is assigned to its own cluster's centroid.
TEST(IvfKMeansTest, FindsSeparatedClusters) {
  const size_t d = 16, per = 200, k = 4;
  std::mt19937 rng(11);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> x(k * per * d);
  for (size_t c = 0; c < k; c++)
    for (size_t i = 0; i < per; i++)
      for (size_t j = 0; j < d; j++)
        x[(c * per + i) * d + j] = (j == c ? 10.0f : 0.0f) + noise(rng);
  std::vector<float> centroids(k * d);
  ivf::TrainKMeans(x.data(), k * per, d, k, false, 10, 1234, centroids.data());
  std::vector<int64_t> labels(k * per);
  ivf::AssignNearest(x.data(), k * per, centroids.data(), k, d, false, labels.data());
  for (size_t c = 0; c < k; c++)
    for (size_t i = 1; i < per; i++) EXPECT_EQ(labels[c * per + i], labels[c * per]);
  EXPECT_NE(labels[0], labels[per]);
  EXPECT_NE(labels[0], labels[2 * per]);
  EXPECT_NE(labels[per], labels[3 * per]);
  EXPECT_NE(labels[2 * per], labels[3 * per]);

  // Spherical: centroids come out unit-norm.
  ivf::NormalizeRows(x.data(), k * per, d);
  ivf::TrainKMeans(x.data(), k * per, d, k, true, 10, 1234, centroids.data());
  for (size_t c = 0; c < k; c++) {
    double norm = 0;
    for (size_t j = 0; j < d; j++) norm += centroids[c * d + j] * centroids[c * d + j];
    EXPECT_NEAR(norm, 1.0, 1e-4);
  }
}

TEST(IvfKMeansTest, FewPointsAndHamming) {
  const size_t d = 8, k = 5;
  std::vector<float> x = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  std::vector<float> centroids(k * d);
  ivf::FillCentroidsFewPoints(x.data(), 2, d, k, false, 1, centroids.data());
  EXPECT_EQ(centroids[0], 1.0f);
  EXPECT_EQ(centroids[d + 1], 1.0f);
  EXPECT_THROW(ivf::TrainKMeans(x.data(), 2, d, k, false, 5, 1, centroids.data()), ragstore::Error);

  uint8_t codes[3] = {0xf0, 0x0f, 0xf1};
  uint8_t cents[2] = {0xf0, 0x0f};
  int64_t labels[3];
  ivf::AssignNearestHamming(codes, 3, cents, 2, 1, labels);
  EXPECT_EQ(labels[0], 0);
  EXPECT_EQ(labels[1], 1);
  EXPECT_EQ(labels[2], 0);
}

}  // namespace
}  // namespace ragstore
