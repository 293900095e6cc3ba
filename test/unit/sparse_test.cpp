// Unit tests: the sparse kernels of src/core/sparse.h against dense double references, with
// overlapping, disjoint, empty and identical index sets, and the dense-equivalent ordering.
#include "core/sparse.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace ragstore {
namespace {

struct Sparse {
  std::vector<int32_t> idx;
  std::vector<float> val;
  int32_t dim;
  SparseView view() const { return {idx.data(), val.data(), int32_t(idx.size()), dim}; }
  std::vector<float> dense() const {
    std::vector<float> d(dim, 0.0f);
    for (size_t i = 0; i < idx.size(); i++) d[idx[i]] = val[i];
    return d;
  }
};

Sparse RandomSparse(int32_t dim, double density, std::mt19937* rng) {
  std::bernoulli_distribution keep(density);
  std::normal_distribution<float> value(0.0f, 1.0f);
  Sparse s{{}, {}, dim};
  for (int32_t i = 0; i < dim; i++)
    if (keep(*rng)) {
      float v = value(*rng);
      if (v == 0.0f) continue;
      s.idx.push_back(i);
      s.val.push_back(v);
    }
  return s;
}

TEST(SparseKernels, MatchDenseReference) {
  std::mt19937 rng(11);
  for (int32_t dim : {1, 2, 5, 17, 100, 1000, 30000}) {
    for (double da : {0.0, 0.01, 0.3, 1.0}) {
      for (double db : {0.0, 0.05, 0.5, 1.0}) {
        Sparse a = RandomSparse(dim, da, &rng), b = RandomSparse(dim, db, &rng);
        SparseView va = a.view(), vb = b.view();
        double l2 = reference::SparseL2SquaredDistance(va, vb);
        double l1 = reference::SparseL1Distance(va, vb);
        double mag_ip = 0;
        auto x = a.dense(), y = b.dense();
        for (int32_t i = 0; i < dim; i++) mag_ip += std::fabs(double(x[i]) * y[i]);
        double tol_n = 4.0 * (a.idx.size() + b.idx.size() + 1) * 1.2e-7;
        EXPECT_NEAR(SparseL2SquaredDistance(va, vb), l2, tol_n * l2 + 1e-30);
        EXPECT_NEAR(SparseL1Distance(va, vb), l1, tol_n * l1 + 1e-30);
        EXPECT_NEAR(SparseInnerProduct(va, vb), reference::SparseInnerProduct(va, vb),
                    tol_n * mag_ip + 1e-30);
        double cos = SparseCosineDistance(va, vb), rcos = reference::SparseCosineDistance(va, vb);
        if (std::isnan(rcos))
          EXPECT_TRUE(std::isnan(cos));
        else
          EXPECT_NEAR(cos, rcos, 1e-4 * std::sqrt(double(dim)));
        double norm = 0;
        for (float v : x) norm += double(v) * v;
        EXPECT_DOUBLE_EQ(SparseNorm(va), std::sqrt(norm));
        // the same vector: zero distances, cosine 0 (or NaN when empty)
        EXPECT_EQ(SparseL2SquaredDistance(va, va), 0.0f);
        EXPECT_EQ(SparseL1Distance(va, va), 0.0f);
      }
    }
  }
}

TEST(SparseKernels, KnownValues) {
  Sparse a{{0, 2}, {1.5f, 2.0f}, 5}, b{{2, 4}, {1.0f, -3.0f}, 5}, empty{{}, {}, 5};
  EXPECT_FLOAT_EQ(SparseL2SquaredDistance(a.view(), b.view()), 2.25f + 1.0f + 9.0f);
  EXPECT_FLOAT_EQ(SparseInnerProduct(a.view(), b.view()), 2.0f);
  EXPECT_FLOAT_EQ(SparseL1Distance(a.view(), b.view()), 1.5f + 1.0f + 3.0f);
  EXPECT_TRUE(std::isnan(SparseCosineDistance(a.view(), empty.view())));
  EXPECT_DOUBLE_EQ(SparseNorm(a.view()), 2.5);
  EXPECT_FLOAT_EQ(SparseL2SquaredDistance(a.view(), empty.view()), 6.25f);
}

// SparseCompare gives the same order as comparing the dense arrays lexicographically, then by
// length (std::lexicographical_compare on float arrays is exactly that order).
TEST(SparseKernels, CompareMatchesDenseOrder) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> dim_dist(1, 6);
  std::uniform_int_distribution<int> val_dist(-1, 1);
  for (int iter = 0; iter < 20000; iter++) {
    Sparse s[2];
    for (auto& v : s) {
      v.dim = dim_dist(rng);
      for (int32_t i = 0; i < v.dim; i++) {
        int x = val_dist(rng);
        if (x != 0) {
          v.idx.push_back(i);
          v.val.push_back(float(x));
        }
      }
    }
    auto x = s[0].dense(), y = s[1].dense();
    int want = std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end())   ? -1
               : std::lexicographical_compare(y.begin(), y.end(), x.begin(), x.end()) ? 1
                                                                                      : 0;
    ASSERT_EQ(SparseCompare(s[0].view(), s[1].view()), want) << iter;
  }
}

}  // namespace
}  // namespace ragstore

namespace ragstore {
namespace {

// Elements near the float32 limit overflow float32 accumulation as in pgvector: Infinity for
// the sums, NaN for a cosine whose product and norms are infinite or whose squares underflow.
TEST(SparseKernels, Float32OverflowAsPgvector) {
  int32_t idx[2] = {0, 1};
  float big[2] = {3e38f, 3e38f}, neg[2] = {-3e38f, -3e38f}, tiny[2] = {1e-30f, 1e-30f},
        tiny1[1] = {1e-30f};
  SparseView a{idx, big, 2, 2}, b{idx, neg, 2, 2}, t{idx, tiny, 2, 2}, t1{idx, tiny1, 1, 2};
  EXPECT_EQ(SparseL2SquaredDistance(a, b), INFINITY);
  EXPECT_EQ(SparseInnerProduct(a, a), INFINITY);
  EXPECT_EQ(SparseInnerProduct(a, b), -INFINITY);
  EXPECT_EQ(SparseL1Distance(a, b), INFINITY);
  EXPECT_TRUE(std::isnan(SparseCosineDistance(a, a)));
  EXPECT_TRUE(std::isnan(SparseCosineDistance(a, b)));
  EXPECT_TRUE(std::isnan(SparseCosineDistance(t, t1)));
}

}  // namespace
}  // namespace ragstore
