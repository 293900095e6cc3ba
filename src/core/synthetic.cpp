// ragstore core: the deterministic Gaussian mixture (see synthetic.h).
#include "core/synthetic.h"

#include <cmath>

#include "core/error.h"

namespace ragstore {
namespace {

constexpr uint64_t kCentreTag = 0x43454e5452455321ULL;  // "CENTRES!"
constexpr uint64_t kPointTag = 0x504f494e54532121ULL;   // "POINTS!!"

uint64_t RowSeed(uint64_t seed, uint64_t tag, uint64_t i) { return Mix64(seed ^ Mix64(i + tag)); }

// rows points of centres.dim dimensions: point i draws, from its own generator (seeded from
// seed and i, so the result does not depend on the thread count), a centre uniformly, then
// fill(rng, centre, row) writes the point's centres.dim values.
template <class Fill>
FloatMatrix SamplePointsAroundCentres(const FloatMatrix& centres, size_t rows, uint64_t seed,
                                      Fill fill) {
  FloatMatrix m;
  m.rows = rows;
  m.dim = centres.dim;
  m.data.resize(rows * centres.dim);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < long(rows); i++) {
    SplitMix64 rng(RowSeed(seed, kPointTag, uint64_t(i)));
    // Multiply-shift maps 64 random bits to [0, centres) without modulo bias worth noticing.
    size_t c = size_t((unsigned __int128)rng.Next() * centres.rows >> 64);
    fill(rng, centres.Row(c), m.Row(size_t(i)));
  }
  return m;
}

}  // namespace

uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t SplitMix64::Next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return Mix64(state_);
}

double SplitMix64::NextOpenUniform() {
  // 53 random bits, shifted to (0, 1].
  return (double(Next() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

double SplitMix64::NextNormal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double r = std::sqrt(-2.0 * std::log(NextOpenUniform()));
  double theta = 2.0 * M_PI * NextOpenUniform();
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

size_t DefaultMixtureCentres(size_t rows) { return rows / 100 > 0 ? rows / 100 : 1; }

FloatMatrix MakeMixtureCentres(size_t centres, size_t dim, double centre_sigma, uint64_t seed) {
  if (centres == 0 || dim == 0 || !(centre_sigma >= 0))
    throw Error(ErrorKind::kInvalidParameter, "mixture needs centres > 0, dim > 0, sigma >= 0");
  FloatMatrix m;
  m.rows = centres;
  m.dim = dim;
  m.data.resize(centres * dim);
#pragma omp parallel for schedule(static)
  for (long c = 0; c < long(centres); c++) {
    SplitMix64 rng(RowSeed(seed, kCentreTag, uint64_t(c)));
    float* row = m.Row(size_t(c));
    for (size_t j = 0; j < dim; j++) row[j] = float(centre_sigma * rng.NextNormal());
  }
  return m;
}

FloatMatrix SampleMixturePoints(const FloatMatrix& centres, size_t rows, double noise_sigma,
                                uint64_t seed) {
  if (centres.rows == 0 || centres.dim == 0 || !(noise_sigma >= 0))
    throw Error(ErrorKind::kInvalidParameter, "mixture needs centres and noise sigma >= 0");
  size_t dim = centres.dim;
  return SamplePointsAroundCentres(centres, rows, seed,
                                   [&](SplitMix64& rng, const float* centre, float* row) {
                                     for (size_t j = 0; j < dim; j++)
                                       row[j] = float(centre[j] + noise_sigma * rng.NextNormal());
                                   });
}

FloatMatrix SampleMixturePointsInSubspace(const FloatMatrix& centres, const FloatMatrix& basis,
                                          size_t rows, uint64_t seed) {
  if (centres.rows == 0 || centres.dim == 0 || basis.rows == 0 || basis.dim != centres.dim)
    throw Error(ErrorKind::kInvalidParameter,
                "subspace mixture needs centres and a basis of the same dimension");
  size_t dim = centres.dim;
  return SamplePointsAroundCentres(centres, rows, seed,
                                   [&](SplitMix64& rng, const float* centre, float* row) {
                                     for (size_t j = 0; j < dim; j++) row[j] = centre[j];
                                     for (size_t t = 0; t < basis.rows; t++) {
                                       const float z = float(rng.NextNormal());
                                       const float* b = basis.Row(t);
                                       for (size_t j = 0; j < dim; j++) row[j] += z * b[j];
                                     }
                                   });
}

}  // namespace ragstore
