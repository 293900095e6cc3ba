// ragstore core: sparse vector kernels (see sparse.h).
#include "core/sparse.h"

#include <cmath>
#include <vector>

namespace ragstore {

float SparseL2SquaredDistance(const SparseView& a, const SparseView& b) {
  float sum = 0.0f;
  int32_t i = 0, j = 0;
  while (i < a.nnz && j < b.nnz) {
    if (a.indices[i] == b.indices[j]) {
      float d = a.values[i++] - b.values[j++];
      sum += d * d;
    } else if (a.indices[i] < b.indices[j]) {
      sum += a.values[i] * a.values[i];
      i++;
    } else {
      sum += b.values[j] * b.values[j];
      j++;
    }
  }
  for (; i < a.nnz; i++) sum += a.values[i] * a.values[i];
  for (; j < b.nnz; j++) sum += b.values[j] * b.values[j];
  return sum;
}

float SparseInnerProduct(const SparseView& a, const SparseView& b) {
  float sum = 0.0f;
  int32_t i = 0, j = 0;
  while (i < a.nnz && j < b.nnz) {
    if (a.indices[i] == b.indices[j])
      sum += a.values[i++] * b.values[j++];
    else if (a.indices[i] < b.indices[j])
      i++;
    else
      j++;
  }
  return sum;
}

float SparseL1Distance(const SparseView& a, const SparseView& b) {
  float sum = 0.0f;
  int32_t i = 0, j = 0;
  while (i < a.nnz && j < b.nnz) {
    if (a.indices[i] == b.indices[j])
      sum += std::fabs(a.values[i++] - b.values[j++]);
    else if (a.indices[i] < b.indices[j])
      sum += std::fabs(a.values[i++]);
    else
      sum += std::fabs(b.values[j++]);
  }
  for (; i < a.nnz; i++) sum += std::fabs(a.values[i]);
  for (; j < b.nnz; j++) sum += std::fabs(b.values[j]);
  return sum;
}

double SparseCosineDistance(const SparseView& a, const SparseView& b) {
  float dot = SparseInnerProduct(a, b);
  float na = 0.0f, nb = 0.0f;
  for (int32_t i = 0; i < a.nnz; i++) na += a.values[i] * a.values[i];
  for (int32_t j = 0; j < b.nnz; j++) nb += b.values[j] * b.values[j];
  double similarity = static_cast<double>(dot) / std::sqrt(static_cast<double>(na) * nb);
  if (std::isnan(similarity)) return similarity;
  if (similarity > 1.0) similarity = 1.0;
  if (similarity < -1.0) similarity = -1.0;
  return 1.0 - similarity;
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
