// ragstore core: recall@k and exact ground truth (see recall.h).
#include "core/recall.h"

#include <faiss/IndexFlat.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/distance.h"
#include "core/error.h"

namespace ragstore {

double RecallAtK(const IdMatrix& results, const IdMatrix& truth, size_t k) {
  if (k == 0) throw Error(ErrorKind::kDataException, "recall@k needs k >= 1");
  if (results.rows != truth.rows)
    throw Error(ErrorKind::kDataException, "recall: " + std::to_string(results.rows) +
                                               " result rows for " + std::to_string(truth.rows) +
                                               " queries");
  if (results.k < k || truth.k < k)
    throw Error(ErrorKind::kDataException, "recall@" + std::to_string(k) + ": results have " +
                                               std::to_string(results.k) + " ids, truth " +
                                               std::to_string(truth.k));
  if (truth.rows == 0) return 0.0;
  size_t hits = 0;
  for (size_t q = 0; q < truth.rows; q++) {
    std::unordered_set<int32_t> found(results.Row(q), results.Row(q) + k);
    for (size_t j = 0; j < k; j++)
      if (truth.Row(q)[j] >= 0 && found.count(truth.Row(q)[j])) hits++;
  }
  return double(hits) / double(truth.rows * k);
}

namespace {

constexpr size_t kCandidateMargin = 64;
constexpr size_t kQueryBatch = 1024;

// The distance used for the exact re-ranking: smaller is nearer.
double RerankDistance(Metric metric, const float* a, const float* b, size_t d) {
  switch (metric) {
    case Metric::kL2:
      return reference::L2SquaredDistance(a, b, d);
    case Metric::kInnerProduct:
      return -reference::InnerProduct(a, b, d);
    case Metric::kCosine: {
      double c = reference::CosineDistance(a, b, d);
      return std::isnan(c) ? std::numeric_limits<double>::infinity() : c;
    }
    default:
      return 0;  // ExactKnn rejected the metric
  }
}

FloatMatrix Normalized(const FloatMatrix& m) {
  FloatMatrix out = m;
  for (size_t i = 0; i < out.rows; i++) {
    float* row = out.Row(i);
    double norm = std::sqrt(reference::InnerProduct(row, row, out.dim));
    if (norm > 0)
      for (size_t j = 0; j < out.dim; j++) row[j] = float(row[j] / norm);
  }
  return out;
}

}  // namespace

IdMatrix ExactKnn(const FloatMatrix& base, const FloatMatrix& queries, size_t k, Metric metric) {
  if (k == 0) throw Error(ErrorKind::kInvalidParameter, "exact k-NN needs k >= 1");
  if (metric != Metric::kL2 && metric != Metric::kInnerProduct && metric != Metric::kCosine)
    throw Error(ErrorKind::kInvalidParameter,
                std::string("exact k-NN of float vectors has no metric ") + MetricName(metric));
  if (base.dim != queries.dim)
    throw Error(ErrorKind::kDataException, "base has " + std::to_string(base.dim) +
                                               " dimensions, queries " +
                                               std::to_string(queries.dim));
  if (base.rows > size_t(std::numeric_limits<int32_t>::max()))
    throw Error(ErrorKind::kDataException, "base too large for int32 ids");
  IdMatrix out;
  out.rows = queries.rows;
  out.k = std::min(k, base.rows);
  out.data.assign(out.rows * out.k, -1);
  if (out.k == 0 || queries.rows == 0) return out;

  const size_t d = base.dim;
  const size_t cand = std::min(base.rows, k + kCandidateMargin);
  FloatMatrix base_n, queries_n;
  const FloatMatrix* b = &base;
  const FloatMatrix* q = &queries;
  if (metric == Metric::kCosine) {
    base_n = Normalized(base);
    queries_n = Normalized(queries);
    b = &base_n;
    q = &queries_n;
  }
  faiss::IndexFlat index(int(d),
                         metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT);
  index.add(faiss::Index::idx_t(b->rows), b->data.data());
  if (metric == Metric::kCosine) {
    // Candidates from normalized copies; re-rank on the original values below.
    base_n = FloatMatrix();
  }

  std::vector<float> dist;
  std::vector<faiss::Index::idx_t> ids;
  for (size_t start = 0; start < queries.rows; start += kQueryBatch) {
    size_t n = std::min(kQueryBatch, queries.rows - start);
    dist.resize(n * cand);
    ids.resize(n * cand);
    index.search(faiss::Index::idx_t(n), q->Row(start), faiss::Index::idx_t(cand), dist.data(),
                 ids.data());
#pragma omp parallel for schedule(dynamic, 16)
    for (long i = 0; i < long(n); i++) {
      std::vector<std::pair<double, int32_t>> ranked;
      ranked.reserve(cand);
      for (size_t j = 0; j < cand; j++) {
        faiss::Index::idx_t id = ids[size_t(i) * cand + j];
        if (id < 0) continue;
        ranked.emplace_back(
            RerankDistance(metric, queries.Row(start + size_t(i)), base.Row(size_t(id)), d),
            int32_t(id));
      }
      std::sort(ranked.begin(), ranked.end());
      int32_t* row = out.Row(start + size_t(i));
      for (size_t j = 0; j < out.k && j < ranked.size(); j++) row[j] = ranked[j].second;
    }
  }
  return out;
}

}  // namespace ragstore
