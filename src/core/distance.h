// ragstore core: float32 distance kernels with runtime CPU dispatch.
//
// Every kernel takes two arrays of n float32 values (n >= 0) and accumulates in float32 lanes
// the way pgvector does (so results agree with it to the last bits that matter), returning
// float for the index hot paths; SQL functions widen to double.
//
// Dispatch: an AVX-512 implementation (AVX512F/VL/BW/DQ: 4 x 16 lanes, the tail through masked
// loads), an AVX2+FMA one (2 x 8 lanes, scalar tail) and a portable one; the choice is made
// once, when the library is loaded (a static initializer reads CPUID via
// __builtin_cpu_supports, so the same build runs on a CPU without AVX-512), and can be forced
// with SetKernelLevel() for tests. Kernels never throw and never allocate.
#pragma once

#include <cstddef>

namespace ragstore {

enum class KernelLevel { kPortable = 0, kAvx2Fma = 1, kAvx512 = 2 };

// True when the CPU has AVX512F, AVX512VL, AVX512BW and AVX512DQ (what the AVX-512 kernels of
// distance.cpp and half.cpp use).
bool CpuHasAvx512();

// The level in use; the best one the CPU supports unless forced.
KernelLevel ActiveKernelLevel();
// Forces a level (tests and benchmarks); a level the CPU lacks falls back to the best lower one
// it has. Returns the level actually set.
KernelLevel SetKernelLevel(KernelLevel level);
const char* KernelLevelName(KernelLevel level);

// sum_i (a_i - b_i)^2
float L2SquaredDistance(const float* a, const float* b, size_t n);
// sum_i a_i * b_i
float InnerProduct(const float* a, const float* b, size_t n);
// sum_i |a_i - b_i|
float L1Distance(const float* a, const float* b, size_t n);
// One pass for cosine: *dot = a.b, *norm_a = a.a, *norm_b = b.b.
void DotAndNorms(const float* a, const float* b, size_t n, float* dot, float* norm_a,
                 float* norm_b);
// 1 - a.b / (|a| |b|), clamped to [0, 2]; NaN when either norm is zero (as pgvector).
double CosineDistance(const float* a, const float* b, size_t n);
// The same from a.b, a.a and b.b computed elsewhere (half and sparse kernels share it).
double CosineDistanceFromDotAndNorms(double dot, double norm_a, double norm_b);

// Scalar reference implementations (double accumulation), used by tests as ground truth.
namespace reference {
double L2SquaredDistance(const float* a, const float* b, size_t n);
double InnerProduct(const float* a, const float* b, size_t n);
double L1Distance(const float* a, const float* b, size_t n);
double CosineDistance(const float* a, const float* b, size_t n);
}  // namespace reference

}  // namespace ragstore
