// ragstore: the `sparsevec` type's layout (pgvector-compatible, byte for byte).
//
// A varlena: int32 header, int32 dim (1..kSparsevecMaxDim), int32 nnz (0..kSparsevecMaxNnz,
// <= dim), int32 unused (always 0), then nnz int32 0-based indices (strictly increasing, below
// dim), then nnz float32 values (none zero, NaN or infinite). The text form is 1-based:
// '{1:1.5,3:2}/5'. Distances and comparison are the merge-join kernels of core/sparse.h.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include "core/sparse.h"

namespace ragstore {

constexpr int32 kSparsevecMaxDim = 1000000000;
constexpr int32 kSparsevecMaxNnz = 16000;

struct SparseVector {
  int32 vl_len_;  // varlena header (do not touch directly)
  int32 dim;      // number of dimensions
  int32 nnz;      // number of stored (non-zero) elements
  int32 unused;   // reserved, always 0
  int32 indices[FLEXIBLE_ARRAY_MEMBER];
  // followed by float values[nnz]
};

inline float* SparseValues(SparseVector* v) {
  return reinterpret_cast<float*>(v->indices + v->nnz);
}
inline const float* SparseValues(const SparseVector* v) {
  return reinterpret_cast<const float*>(v->indices + v->nnz);
}
inline Size SparseVectorSize(int nnz) {
  return offsetof(SparseVector, indices) + (sizeof(int32) + sizeof(float)) * nnz;
}
inline SparseView View(const SparseVector* v) {
  return {v->indices, SparseValues(v), v->nnz, v->dim};
}

// palloc's a zeroed sparse vector with room for nnz elements.
SparseVector* InitSparseVector(int32 dim, int32 nnz);

// 0 <= nnz <= 16000 and nnz <= dim (22000 negative / 54000).
void CheckSparseNnz(int64 nnz, int32 dim);

}  // namespace ragstore
