// ragstore core: kernels of the `sparsevec` type over (index, value) lists.
//
// A sparse vector here is three things: nnz 0-based int32 indices, strictly increasing, each
// below the dimension; nnz float32 values, none zero, NaN or infinite; and the dimension. The
// distance kernels walk both index lists at once (a merge join, O(na + nb)) and accumulate in
// float32 like the dense kernels and pgvector's sparsevec functions; positions present in only
// one vector count against zero. Kernels never throw and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ragstore {

struct SparseView {
  const int32_t* indices;  // nnz strictly increasing 0-based indices
  const float* values;     // nnz non-zero values
  int32_t nnz;
  int32_t dim;
};

// sum_i (a_i - b_i)^2 over the union of the index sets.
float SparseL2SquaredDistance(const SparseView& a, const SparseView& b);
// sum_i a_i * b_i over the intersection of the index sets.
float SparseInnerProduct(const SparseView& a, const SparseView& b);
// sum_i |a_i - b_i| over the union.
float SparseL1Distance(const SparseView& a, const SparseView& b);
// 1 - a.b / (|a| |b|), clamped to [0, 2], from the float32 inner product and float32 squared
// norms (as pgvector): NaN when either vector has no non-zero or when float32 overflows to
// Infinity in both the product and a norm.
double SparseCosineDistance(const SparseView& a, const SparseView& b);
// Euclidean norm, accumulated in double.
double SparseNorm(const SparseView& a);
// The order of the equivalent dense arrays (as real[] compares): the first position below
// min(dim_a, dim_b) where the values differ decides, else the smaller dimension is smaller.
// Returns -1, 0 or 1.
int SparseCompare(const SparseView& a, const SparseView& b);

// Dense references with double accumulation (ground truth for the tests); dims must match.
namespace reference {
double SparseL2SquaredDistance(const SparseView& a, const SparseView& b);
double SparseInnerProduct(const SparseView& a, const SparseView& b);
double SparseL1Distance(const SparseView& a, const SparseView& b);
double SparseCosineDistance(const SparseView& a, const SparseView& b);
}  // namespace reference

}  // namespace ragstore
