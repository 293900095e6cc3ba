// The distance functions as pgvector computes them, checked against an independent model of
// pgvector's arithmetic on random inputs and at the edges of float32, for vector, halfvec and
// sparsevec.
//
// The model (written from pgvector's C loops, not from our kernels): every sum is a float32
// accumulator that starts at 0 and adds one float32 term per position in index order (dense:
// d = a_i - b_i; d * d, a_i * b_i, |a_i - b_i|; halfvec: each half widened to float first;
// sparsevec: a merge over the union of the sorted indices, a position missing on one side
// counting as that side's value alone). The SQL value is then the float widened to double:
// sqrt of it for l2_distance, its negation for <#>, and for cosine
// 1 - clamp(dot / sqrt(norm_a * norm_b), -1, 1) in double, where a NaN similarity stays NaN.
//
// Tolerances:
//   - sparsevec and the portable dense kernels add in exactly the model's order: bit for bit.
//   - the SIMD dense kernels (AVX2 / F16C, 16 lanes, fused multiply-add) add the same terms in
//     another order, as pgvector's auto-vectorised loops do (GCC with -fassociative-math and an
//     FMA target clone). Any order of n float32 additions is within (n + 1) * 2^-24 * sum|t_i|
//     of the exact sum, so two orders differ by at most twice that: the bound used here.
//     For cosine the bound is carried through the quotient (relative errors of the norms halve
//     under the square root).
//   - at the edges (elements near +-3.4e38) the sum overflows in every order: the results must
//     be Infinity / NaN exactly as in the model, for every kernel level.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "core/distance.h"
#include "core/half.h"
#include "core/sparse.h"

namespace ragstore {
namespace {

constexpr double kUnit = 1.0 / (1 << 24);  // float32 unit roundoff

// ---- the model --------------------------------------------------------------------------

struct Sums {
  float value = 0;     // the float32 sum in index order
  double abs_sum = 0;  // sum of |term| in double (for the tolerance)
  size_t terms = 0;
  void Add(float t) {
    value += t;
    abs_sum += std::fabs(double(t));
    terms++;
  }
  // How far another order of the same float32 additions may land from this one.
  double Tolerance() const { return 2.0 * double(terms + 1) * kUnit * abs_sum; }
};

struct Model {
  Sums l2sq, dot, l1, norm_a, norm_b;
};

Model DenseModel(const std::vector<float>& a, const std::vector<float>& b) {
  Model m;
  for (size_t i = 0; i < a.size(); i++) {
    float d = a[i] - b[i];
    m.l2sq.Add(d * d);
    m.dot.Add(a[i] * b[i]);
    m.l1.Add(std::fabs(a[i] - b[i]));
    m.norm_a.Add(a[i] * a[i]);
    m.norm_b.Add(b[i] * b[i]);
  }
  return m;
}

struct Sparse {
  std::vector<int32_t> idx;
  std::vector<float> val;
  int32_t dim = 0;
  SparseView View() const { return {idx.data(), val.data(), int32_t(idx.size()), dim}; }
};

Model SparseModel(const Sparse& a, const Sparse& b) {
  Model m;
  size_t i = 0, j = 0;
  while (i < a.idx.size() || j < b.idx.size()) {
    bool has_a = i < a.idx.size(), has_b = j < b.idx.size();
    if (has_a && has_b && a.idx[i] == b.idx[j]) {
      float d = a.val[i] - b.val[j];
      m.l2sq.Add(d * d);
      m.dot.Add(a.val[i] * b.val[j]);
      m.l1.Add(std::fabs(a.val[i] - b.val[j]));
      i++, j++;
    } else if (has_a && (!has_b || a.idx[i] < b.idx[j])) {
      m.l2sq.Add(a.val[i] * a.val[i]);
      m.l1.Add(std::fabs(a.val[i]));
      i++;
    } else {
      m.l2sq.Add(b.val[j] * b.val[j]);
      m.l1.Add(std::fabs(b.val[j]));
      j++;
    }
  }
  for (float x : a.val) m.norm_a.Add(x * x);
  for (float y : b.val) m.norm_b.Add(y * y);
  return m;
}

double ModelCosine(float dot, float na, float nb) {
  double similarity = double(dot) / std::sqrt(double(na) * double(nb));
  if (std::isnan(similarity)) return similarity;
  similarity = std::min(1.0, std::max(-1.0, similarity));
  return 1.0 - similarity;
}

// Cosine tolerance: the quotient's error from the sums' tolerances.
double CosineTolerance(const Model& m) {
  double na = m.norm_a.value, nb = m.norm_b.value;
  double denom = std::sqrt(na * nb);
  double sim = std::fabs(double(m.dot.value)) / denom;
  return m.dot.Tolerance() / denom +
         sim * 0.5 * (m.norm_a.Tolerance() / na + m.norm_b.Tolerance() / nb) * 1.01 + 1e-15;
}

// Same class of value: both NaN, or both the same infinity, or both finite.
void ExpectSameClass(double got, double want, const char* what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << ": got " << got << ", pgvector gives NaN";
  } else if (std::isinf(want)) {
    EXPECT_EQ(got, want) << what;
  } else {
    EXPECT_TRUE(std::isfinite(got)) << what << ": got " << got << ", pgvector gives " << want;
  }
}

// ---- random inputs ------------------------------------------------------------------------

// Values of several shapes: normal, wide-ranging magnitudes (1e-15..1e15, so that no sum of
// 2000 terms overflows: the edges are tested on their own), small integers, exact zeros.
float RandomValue(std::mt19937& rng, int shape) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  switch (shape) {
    case 0:
      return normal(rng);
    case 1: {
      std::uniform_real_distribution<float> exponent(-15.0f, 15.0f);
      return normal(rng) * std::pow(10.0f, exponent(rng));
    }
    case 2:
      return float(int(rng() % 21) - 10);
    default:
      return rng() % 3 == 0 ? 0.0f : normal(rng) * 1000.0f;
  }
}

size_t RandomDim(std::mt19937& rng) {
  static const size_t kDims[] = {1,  2,  3,  7,  8,   9,   15,  16,  17,   31,   33,
                                 47, 63, 64, 65, 100, 127, 128, 384, 1535, 1536, 2000};
  return kDims[rng() % (sizeof(kDims) / sizeof(kDims[0]))];
}

class PgvectorArith : public ::testing::Test {
 protected:
  void TearDown() override {
    SetKernelLevel(KernelLevel::kAvx512);  // the best the CPU has, as at load
    SetHalfKernelLevel(HalfKernelLevel::kAvx512);
  }
};

// The four results of one pair against the model: bit for bit when the kernel adds in the
// model's order, else within the reordering bound.
struct Results {
  double l2sq, ip, l1, cos;
};

::testing::AssertionResult MatchesModel(const Results& r, const Model& m, bool exact_order) {
  double want_cos = ModelCosine(m.dot.value, m.norm_a.value, m.norm_b.value);
  auto same = [](double got, double want) {
    return std::isnan(want) ? std::isnan(got) : got == want;
  };
  auto near = [](double got, double want, double tol) { return std::fabs(got - want) <= tol; };
  bool ok;
  if (exact_order) {
    ok = same(r.l2sq, m.l2sq.value) && same(r.ip, m.dot.value) && same(r.l1, m.l1.value) &&
         same(r.cos, want_cos);
  } else {
    bool zero_norm = m.norm_a.value == 0 || m.norm_b.value == 0;
    ok = near(r.l2sq, m.l2sq.value, m.l2sq.Tolerance()) &&
         near(std::sqrt(r.l2sq), std::sqrt(double(m.l2sq.value)), std::sqrt(m.l2sq.Tolerance())) &&
         near(r.ip, m.dot.value, m.dot.Tolerance()) && near(r.l1, m.l1.value, m.l1.Tolerance()) &&
         (zero_norm ? std::isnan(r.cos) : near(r.cos, want_cos, CosineTolerance(m)));
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got l2sq " << r.l2sq << " ip " << r.ip << " l1 " << r.l1 << " cos " << r.cos
         << "; model " << m.l2sq.value << " " << m.dot.value << " " << m.l1.value << " " << want_cos
         << (exact_order ? " (exact order)" : " (reordered)");
}

// vector: every distance, every kernel level, against the model.
TEST_F(PgvectorArith, VectorRandomInputs) {
  std::mt19937 rng(20261207);
  for (KernelLevel level : {KernelLevel::kPortable, KernelLevel::kAvx2Fma, KernelLevel::kAvx512}) {
    KernelLevel set = SetKernelLevel(level);
    bool exact_order = set == KernelLevel::kPortable;
    for (int iter = 0; iter < 3000; iter++) {
      size_t n = RandomDim(rng);
      int shape = int(rng() % 4);
      std::vector<float> a(n), b(n);
      for (size_t i = 0; i < n; i++) a[i] = RandomValue(rng, shape), b[i] = RandomValue(rng, shape);
      Model m = DenseModel(a, b);
      Results r{L2SquaredDistance(a.data(), b.data(), n), InnerProduct(a.data(), b.data(), n),
                L1Distance(a.data(), b.data(), n), CosineDistance(a.data(), b.data(), n)};
      ASSERT_TRUE(MatchesModel(r, m, exact_order)) << "n=" << n << " iter " << iter;
    }
  }
}

// halfvec: the same, with elements rounded to halves.
TEST_F(PgvectorArith, HalfvecRandomInputs) {
  std::mt19937 rng(7);
  for (HalfKernelLevel level :
       {HalfKernelLevel::kPortable, HalfKernelLevel::kF16cAvx2, HalfKernelLevel::kAvx512}) {
    HalfKernelLevel set = SetHalfKernelLevel(level);
    bool exact_order = set == HalfKernelLevel::kPortable;
    for (int iter = 0; iter < 3000; iter++) {
      size_t n = RandomDim(rng);
      int shape = int(rng() % 4);
      std::vector<Half> ha(n), hb(n);
      std::vector<float> a(n), b(n);
      for (size_t i = 0; i < n; i++) {
        ha[i] = FloatToHalf(std::fmax(-65504.0f, std::fmin(65504.0f, RandomValue(rng, shape))));
        hb[i] = FloatToHalf(std::fmax(-65504.0f, std::fmin(65504.0f, RandomValue(rng, shape))));
        a[i] = HalfToFloat(ha[i]);
        b[i] = HalfToFloat(hb[i]);
      }
      Model m = DenseModel(a, b);
      Results r{HalfL2SquaredDistance(ha.data(), hb.data(), n),
                HalfInnerProduct(ha.data(), hb.data(), n), HalfL1Distance(ha.data(), hb.data(), n),
                HalfCosineDistance(ha.data(), hb.data(), n)};
      ASSERT_TRUE(MatchesModel(r, m, exact_order)) << "n=" << n << " iter " << iter;
    }
  }
}

Sparse RandomSparse(std::mt19937& rng, int32_t dim, int shape) {
  Sparse s;
  s.dim = dim;
  int32_t nnz = int32_t(rng() % std::min<int32_t>(dim + 1, 200));
  std::vector<int32_t> all;
  for (int32_t k = 0; k < nnz; k++) all.push_back(int32_t(rng() % uint32_t(dim)));
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  for (int32_t i : all) {
    float v = RandomValue(rng, shape);
    if (v == 0) v = 1;  // sparsevec stores no zeros
    s.idx.push_back(i);
    s.val.push_back(v);
  }
  return s;
}

// sparsevec: bit for bit (our merge adds in pgvector's order).
TEST_F(PgvectorArith, SparsevecRandomInputs) {
  std::mt19937 rng(99);
  for (int iter = 0; iter < 20000; iter++) {
    int32_t dim = 1 + int32_t(rng() % (rng() % 2 ? 50 : 100000));
    int shape = int(rng() % 4);
    Sparse a = RandomSparse(rng, dim, shape), b = RandomSparse(rng, dim, shape);
    Model m = SparseModel(a, b);
    Results r{SparseL2SquaredDistance(a.View(), b.View()), SparseInnerProduct(a.View(), b.View()),
              SparseL1Distance(a.View(), b.View()), SparseCosineDistance(a.View(), b.View())};
    ASSERT_TRUE(MatchesModel(r, m, true)) << "iter " << iter;
  }
}

// ---- the edges of float32 -----------------------------------------------------------------

struct EdgeCase {
  std::vector<float> a, b;
  bool repeatable = true;  // repeated, every order of the sums still gives the same class
};

std::vector<EdgeCase> EdgeCases() {
  const float big = 3e38f, max = FLT_MAX;
  return {
      {{big}, {-big}},                                 // l2: (6e38)^2 = Inf, l1: 6e38 = Inf
      {{big}, {big}},                                  // ip: 9e76 = Inf, cosine: Inf / Inf = NaN
      {{big, 1}, {0, 1}},                              // cosine: 1 / Inf = 0 -> 1
      {{max, max}, {-max, -max}},                      // every sum overflows
      {{1e-30f, 1e-30f}, {1e-30f, 0}},                 // squares underflow to 0: cosine 0 / 0 = NaN
      {{0, 0, 0}, {1, 2, 3}},                          // a zero vector: NaN
      {{1e20f, 1e20f, 1e20f}, {1e20f, 1e20f, 1e20f}},  // 1e40 per term: Inf
      // ip: 1e38 - 1e38 = 0, cosine 1; repeated, the order decides whether partial sums of
      // the same sign reach Infinity first (then NaN), so only as it is
      {{1e19f, -1e19f}, {1e19f, 1e19f}, false},
  };
}

TEST_F(PgvectorArith, VectorEdges) {
  for (KernelLevel level : {KernelLevel::kPortable, KernelLevel::kAvx2Fma, KernelLevel::kAvx512}) {
    SetKernelLevel(level);
    for (const EdgeCase& e : EdgeCases()) {
      // the same values in every lane position and in the scalar tail
      for (size_t reps : {size_t(1), size_t(8), size_t(17), size_t(67)}) {
        if (reps > 1 && !e.repeatable) continue;
        std::vector<float> a, b;
        for (size_t r = 0; r < reps; r++) {
          a.insert(a.end(), e.a.begin(), e.a.end());
          b.insert(b.end(), e.b.begin(), e.b.end());
        }
        Model m = DenseModel(a, b);
        size_t n = a.size();
        ExpectSameClass(L2SquaredDistance(a.data(), b.data(), n), m.l2sq.value, "l2");
        ExpectSameClass(InnerProduct(a.data(), b.data(), n), m.dot.value, "ip");
        ExpectSameClass(L1Distance(a.data(), b.data(), n), m.l1.value, "l1");
        ExpectSameClass(CosineDistance(a.data(), b.data(), n),
                        ModelCosine(m.dot.value, m.norm_a.value, m.norm_b.value), "cosine");
      }
    }
  }
  // The values pgvector's documentation of the edge promises, spelled out.
  float p = 3e38f, q = -3e38f;
  EXPECT_EQ(std::sqrt(double(L2SquaredDistance(&p, &q, 1))), INFINITY);
  EXPECT_EQ(double(InnerProduct(&p, &p, 1)), INFINITY);
  EXPECT_EQ(double(L1Distance(&p, &q, 1)), INFINITY);
  EXPECT_TRUE(std::isnan(CosineDistance(&p, &p, 1)));
}

TEST_F(PgvectorArith, SparsevecEdges) {
  for (const EdgeCase& e : EdgeCases()) {
    Sparse a, b;
    a.dim = b.dim = int32_t(e.a.size());
    for (size_t i = 0; i < e.a.size(); i++) {
      if (e.a[i] != 0) a.idx.push_back(int32_t(i)), a.val.push_back(e.a[i]);
      if (e.b[i] != 0) b.idx.push_back(int32_t(i)), b.val.push_back(e.b[i]);
    }
    Model m = SparseModel(a, b);
    ExpectSameClass(SparseL2SquaredDistance(a.View(), b.View()), m.l2sq.value, "l2");
    ExpectSameClass(SparseInnerProduct(a.View(), b.View()), m.dot.value, "ip");
    ExpectSameClass(SparseL1Distance(a.View(), b.View()), m.l1.value, "l1");
    ExpectSameClass(SparseCosineDistance(a.View(), b.View()),
                    ModelCosine(m.dot.value, m.norm_a.value, m.norm_b.value), "cosine");
  }
}

// halfvec cannot overflow float32 (|x| <= 65504): the largest values at the largest dimension
// stay finite, in every kernel level, and match the model.
TEST_F(PgvectorArith, HalfvecLargestValuesStayFinite) {
  for (HalfKernelLevel level :
       {HalfKernelLevel::kPortable, HalfKernelLevel::kF16cAvx2, HalfKernelLevel::kAvx512}) {
    SetHalfKernelLevel(level);
    size_t n = 16000;
    std::vector<Half> a(n, FloatToHalf(65504.0f)), b(n, FloatToHalf(-65504.0f));
    double l2 = HalfL2SquaredDistance(a.data(), b.data(), n);
    EXPECT_TRUE(std::isfinite(l2));
    EXPECT_NEAR(l2, 16000.0 * 131008.0 * 131008.0, 16000.0 * 131008.0 * 131008.0 * 1e-3);
    EXPECT_DOUBLE_EQ(HalfCosineDistance(a.data(), b.data(), n), 2.0);
  }
}

}  // namespace
}  // namespace ragstore
