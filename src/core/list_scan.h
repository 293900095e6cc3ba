// ragstore core: batched distance kernels for scanning an ivfflat list, whose vectors lie
// contiguously on a page (n vectors of d elements, row-major).
//
// The float32 kernels process four rows per pass so the query is loaded once for four rows,
// and prefetch the rows that follow; they use AVX2+FMA when distance.h's active kernel level
// allows it, plain loops otherwise. Results equal distance.h's per-pair kernels up to float32
// summation order. No allocation, no exception.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ragstore {

// out[i] = sum_j (q_j - base[i*d + j])^2 for i < n.
void BatchL2Squared(const float* q, const float* base, size_t n, size_t d, float* out);
// out[i] = -(q . base_i) for i < n (smaller is closer, as pgvector's <#>).
void BatchNegativeInnerProduct(const float* q, const float* base, size_t n, size_t d, float* out);
// out[i] = number of differing bits between q and row i (rows of `bytes` bytes).
void BatchHamming(const uint8_t* q, const uint8_t* base, size_t n, size_t bytes, float* out);
// Hamming distance of two bit strings of `bytes` bytes.
uint32_t HammingDistance(const uint8_t* a, const uint8_t* b, size_t bytes);

}  // namespace ragstore
