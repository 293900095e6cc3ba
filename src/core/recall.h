// ragstore core: ANN quality measures and exact ground truth.
#pragma once

#include <cstddef>

#include "core/metric.h"
#include "core/vecs_io.h"

namespace ragstore {

// Mean recall@k: for each query, the fraction of the true k nearest ids (truth.Row(q)[0..k))
// found among the first k ids returned (results.Row(q)[0..k), -1 for "no row"), averaged over
// queries. The usual ANN-benchmarks definition, ties not credited (ground truth breaks ties by
// lower id). Shapes: results rows = truth rows = number of queries, results.k >= k, truth.k >= k.
// Throws Error(kDataException) on mismatched shapes or k = 0. Returns 0 when there is no query.
double RecallAtK(const IdMatrix& results, const IdMatrix& truth, size_t k);

// The exact k nearest rows of base for every query, nearest first, ties broken by lower id (the
// convention of the files in $RAGSTORE_DATA_DIR). L2: smallest Euclidean distance; inner
// product: largest dot product; cosine: largest cosine similarity (zero vectors last).
// Candidates come from FAISS's brute force (IndexFlatL2 / IndexFlatIP, queries in batches,
// BLAS and OpenMP threads), k + 64 per query, then are re-ranked with double-precision
// distances, so float rounding in FAISS's ||x||^2 + ||y||^2 - 2xy cannot misorder the answer.
// Shapes: base rows x d, queries nq x d, result nq x min(k, base.rows). Base ids must fit int32.
// Throws Error(kDataException) on mismatched dimensions, Error(kInvalidParameter) for k = 0 or a
// metric other than kL2, kInnerProduct, kCosine.
IdMatrix ExactKnn(const FloatMatrix& base, const FloatMatrix& queries, size_t k, Metric metric);

}  // namespace ragstore
