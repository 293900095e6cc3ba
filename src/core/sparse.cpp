// ragstore core: sparse vector kernels (see sparse.h).
#include "core/sparse.h"

#include "core/distance.h"

#include <cmath>
#include <vector>

namespace ragstore {

namespace {

// The merge joins, with the accumulator type as a parameter (float, as pgvector). They are
// branch-free: each step loads both current entries, takes a's value when a's index is <= b's and
// b's when b's is <= a's (multiplied by 1, else by 0), and advances each side whose value it took.
// Every union position is visited in increasing order and each term is exactly what the branching
// merge computes ((x - 0)^2 = x^2, |0 - y| = |y|; products are only added on equal indices), so the
// sums are bit for bit the same, without the mispredicted branches of a merge over interleaved
// index lists (bench/kernels_bench.cpp measures them).
template <typename Acc>
Acc L2Squared(const SparseView& a, const SparseView& b) {
  Acc sum = 0;
  int32_t i = 0, j = 0;
  while (i < a.nnz && j < b.nnz) {
    int32_t ia = a.indices[i], ib = b.indices[j];
    Acc va = Acc(a.values[i]), vb = Acc(b.values[j]);
    bool take_a = ia <= ib, take_b = ib <= ia;
    Acc d = va * Acc(take_a) - vb * Acc(take_b);  // x * 0 = +-0 and x -+ 0 = x: exact
    sum += d * d;
    i += take_a;
    j += take_b;
  }
  for (; i < a.nnz; i++) sum += Acc(a.values[i]) * Acc(a.values[i]);
  for (; j < b.nnz; j++) sum += Acc(b.values[j]) * Acc(b.values[j]);
  return sum;
}

template <typename Acc>
Acc Dot(const SparseView& a, const SparseView& b) {
  Acc sum = 0;
  int32_t i = 0, j = 0;
  while (i < a.nnz && j < b.nnz) {
    int32_t ia = a.indices[i], ib = b.indices[j];
    Acc added = sum + Acc(a.values[i]) * Acc(b.values[j]);
    sum = ia == ib ? added : sum;
    i += ia <= ib;
    j += ib <= ia;
  }
  return sum;
}

template <typename Acc>
Acc L1(const SparseView& a, const SparseView& b) {
  Acc sum = 0;
  int32_t i = 0, j = 0;
  while (i < a.nnz && j < b.nnz) {
    int32_t ia = a.indices[i], ib = b.indices[j];
    Acc va = Acc(a.values[i]), vb = Acc(b.values[j]);
    bool take_a = ia <= ib, take_b = ib <= ia;
    sum += std::fabs(va * Acc(take_a) - vb * Acc(take_b));
    i += take_a;
    j += take_b;
  }
  for (; i < a.nnz; i++) sum += std::fabs(Acc(a.values[i]));
  for (; j < b.nnz; j++) sum += std::fabs(Acc(b.values[j]));
  return sum;
}

template <typename Acc>
Acc SquaredNorm(const SparseView& a) {
  Acc sum = 0;
  for (int32_t i = 0; i < a.nnz; i++) sum += Acc(a.values[i]) * Acc(a.values[i]);
  return sum;
}

}  // namespace

float SparseL2SquaredDistance(const SparseView& a, const SparseView& b) {
  return L2Squared<float>(a, b);
}
float SparseInnerProduct(const SparseView& a, const SparseView& b) { return Dot<float>(a, b); }
float SparseL1Distance(const SparseView& a, const SparseView& b) { return L1<float>(a, b); }

double SparseCosineDistance(const SparseView& a, const SparseView& b) {
  return CosineDistanceFromDotAndNorms(Dot<float>(a, b), SquaredNorm<float>(a),
                                       SquaredNorm<float>(b));
}

double SparseNorm(const SparseView& a) {
  double sum = 0.0;
  for (int32_t i = 0; i < a.nnz; i++) sum += static_cast<double>(a.values[i]) * a.values[i];
  return std::sqrt(sum);
}

int SparseCompare(const SparseView& a, const SparseView& b) {
  int32_t limit = a.dim < b.dim ? a.dim : b.dim;
  int32_t i = 0, j = 0;
  // Walk the union of positions in order; a position missing from one side holds 0 there.
  while (i < a.nnz || j < b.nnz) {
    int32_t ia = i < a.nnz ? a.indices[i] : INT32_MAX;
    int32_t ib = j < b.nnz ? b.indices[j] : INT32_MAX;
    int32_t pos = ia < ib ? ia : ib;
    if (pos >= limit) break;
    float va = ia == pos ? a.values[i++] : 0.0f;
    float vb = ib == pos ? b.values[j++] : 0.0f;
    if (va < vb) return -1;
    if (va > vb) return 1;
  }
  if (a.dim < b.dim) return -1;
  if (a.dim > b.dim) return 1;
  return 0;
}

namespace reference {
namespace {
std::vector<double> Dense(const SparseView& a) {
  std::vector<double> out(a.dim, 0.0);
  for (int32_t i = 0; i < a.nnz; i++) out[a.indices[i]] = a.values[i];
  return out;
}
}  // namespace

double SparseL2SquaredDistance(const SparseView& a, const SparseView& b) {
  auto x = Dense(a), y = Dense(b);
  double s = 0;
  for (size_t i = 0; i < x.size(); i++) s += (x[i] - y[i]) * (x[i] - y[i]);
  return s;
}
double SparseInnerProduct(const SparseView& a, const SparseView& b) {
  auto x = Dense(a), y = Dense(b);
  double s = 0;
  for (size_t i = 0; i < x.size(); i++) s += x[i] * y[i];
  return s;
}
double SparseL1Distance(const SparseView& a, const SparseView& b) {
  auto x = Dense(a), y = Dense(b);
  double s = 0;
  for (size_t i = 0; i < x.size(); i++) s += std::fabs(x[i] - y[i]);
  return s;
}
double SparseCosineDistance(const SparseView& a, const SparseView& b) {
  auto x = Dense(a), y = Dense(b);
  double d = 0, nx = 0, ny = 0;
  for (size_t i = 0; i < x.size(); i++) {
    d += x[i] * y[i];
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  double s = d / std::sqrt(nx * ny);
  if (std::isnan(s)) return s;
  return 1.0 - std::fmax(-1.0, std::fmin(1.0, s));
}
}  // namespace reference

}  // namespace ragstore
