// ragstore core: deterministic synthetic vectors, a Gaussian mixture (../shared/data/README.md,
// "Larger scales"): cluster centres drawn N(0, centre_sigma^2) per coordinate, each point a
// uniformly chosen centre plus N(0, noise_sigma^2) noise per coordinate. Benchmarks at 100k and
// 1M rows use it with about rows/100 centres, centre_sigma 4 and noise_sigma 1; queries are drawn
// from the same centres with another seed. Every figure made with it must say "synthetic".
//
// Determinism: row i (centre i) is a pure function of (seed, i): a SplitMix64 stream seeded
// from a hash of both (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014) and Box-Muller normals. No std:: distribution is involved (their output differs
// between standard libraries), so the data is the same on every run and thread count, and a
// prefix of a larger set equals the smaller set drawn with the same seed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/vecs_io.h"

namespace ragstore {

// The standard number of centres for n rows: max(1, n / 100).
size_t DefaultMixtureCentres(size_t rows);

// centres x dim matrix, coordinates N(0, centre_sigma^2). Throws Error(kInvalidParameter)
// when centres or dim is 0 or centre_sigma < 0.
FloatMatrix MakeMixtureCentres(size_t centres, size_t dim, double centre_sigma, uint64_t seed);

// rows x centres.dim matrix: row i = centres.Row(c_i) + N(0, noise_sigma^2) noise, c_i uniform in
// [0, centres.rows). Runs on OpenMP threads. Throws Error(kInvalidParameter) when centres is
// empty or noise_sigma < 0.
FloatMatrix SampleMixturePoints(const FloatMatrix& centres, size_t rows, double noise_sigma,
                                uint64_t seed);

// Low intrinsic dimension: rows x centres.dim matrix, row i = centres.Row(c_i) +
// sum_t z_it * basis.Row(t) with z_it ~ N(0, 1) for t < basis.rows, c_i chosen as in
// SampleMixturePoints (same seed, same centre per row). The noise lies in the span of the
// basis rows (one subspace shared by all clusters), so the neighbours of a point within its
// cluster form a basis.rows-dimensional Gaussian whatever the ambient dimension: real text
// embeddings also have an intrinsic dimension far below their size. A basis from
// MakeMixtureCentres(D, dim, noise_sigma / sqrt(D), seed) gives the noise the same expected
// energy per coordinate (noise_sigma^2) as SampleMixturePoints with noise_sigma. Runs on OpenMP
// threads. Throws Error(kInvalidParameter) when centres or basis is empty or their dimensions
// differ.
FloatMatrix SampleMixturePointsInSubspace(const FloatMatrix& centres, const FloatMatrix& basis,
                                          size_t rows, uint64_t seed);

// A small splittable generator (SplitMix64), exposed for tests.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in (0, 1]: never 0, so log() in Box-Muller is finite.
  double NextOpenUniform();
  // N(0, 1) by Box-Muller (both values of a pair are used).
  double NextNormal();

 private:
  uint64_t state_;
  bool has_spare_ = false;
  double spare_ = 0;
};

// A 64-bit finalizer (SplitMix64's), used to derive per-row seeds: Mix64(seed ^ Mix64(i + tag)).
uint64_t Mix64(uint64_t x);

}  // namespace ragstore
