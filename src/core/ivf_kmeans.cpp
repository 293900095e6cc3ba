// ragstore core: ivfflat k-means and list assignment with FAISS (see ivf_kmeans.h).
#include "core/ivf_kmeans.h"

#include <faiss/Clustering.h>
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/list_scan.h"

namespace ragstore {
namespace ivf {

void NormalizeRows(float* x, size_t n, size_t d) {
  for (size_t i = 0; i < n; i++) {
    float* row = x + i * d;
    double sum = 0;
    for (size_t j = 0; j < d; j++) sum += double(row[j]) * row[j];
    if (sum <= 0) continue;
    float inv = static_cast<float>(1.0 / std::sqrt(sum));
    for (size_t j = 0; j < d; j++) row[j] *= inv;
  }
}

namespace {

// k-means++ seeding (Arthur and Vassilvitskii, 2007): each next centroid is a point drawn with
// probability proportional to its squared distance to the nearest centroid so far. Lloyd's
// iterations from FAISS's default (uniformly random points) often leave two centroids in one
// cluster and none in another; this seeding avoids most such starts. Cost: k passes of the
// batched L2 kernel over the points.
void KMeansPlusPlus(const float* x, size_t n, size_t d, size_t k, int seed, float* centroids) {
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  std::vector<float> nearest(n, std::numeric_limits<float>::infinity()), dist(n);
  size_t first = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  std::copy(x + first * d, x + (first + 1) * d, centroids);
  for (size_t c = 1; c < k; c++) {
    // The caller's interrupt callback (PostgreSQL's pending cancel): throws FaissException.
    if ((c & 15) == 0) faiss::InterruptCallback::check();
    BatchL2Squared(centroids + (c - 1) * d, x, n, d, dist.data());
    double total = 0;
    for (size_t i = 0; i < n; i++) {
      nearest[i] = std::min(nearest[i], dist[i]);
      total += nearest[i];
    }
    size_t pick = 0;
    if (total > 0) {
      double target = std::uniform_real_distribution<double>(0.0, total)(rng), acc = 0;
      pick = n - 1;
      for (size_t i = 0; i < n; i++) {
        acc += nearest[i];
        if (acc >= target && nearest[i] > 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = std::uniform_int_distribution<size_t>(0, n - 1)(rng);  // all points coincide
    }
    std::copy(x + pick * d, x + (pick + 1) * d, centroids + c * d);
  }
}

}  // namespace

void TrainKMeans(const float* x, size_t n, size_t d, size_t k, bool spherical, int niter, int seed,
                 float* centroids) {
  if (k == 0 || d == 0 || n < k)
    throw Error(ErrorKind::kInternal, "k-means needs at least as many points as clusters");
  faiss::ClusteringParameters cp;
  cp.niter = niter;
  cp.nredo = 1;
  cp.verbose = false;
  cp.spherical = spherical;
  cp.seed = seed;
  // We sample ourselves (bounded by maintenance_work_mem): no FAISS subsampling, no warning
  // printed to the server's stderr for few points per centroid.
  cp.min_points_per_centroid = 1;
  cp.max_points_per_centroid = static_cast<int>(std::min<size_t>(n / k + 1, 1u << 30));
  faiss::Clustering clus(static_cast<int>(d), k, cp);
  clus.centroids.resize(k * d);
  KMeansPlusPlus(x, n, d, k, seed, clus.centroids.data());
  if (spherical) NormalizeRows(clus.centroids.data(), k, d);
  if (spherical) {
    faiss::IndexFlatIP index(static_cast<int64_t>(d));
    clus.train(static_cast<int64_t>(n), x, index);
  } else {
    faiss::IndexFlatL2 index(static_cast<int64_t>(d));
    clus.train(static_cast<int64_t>(n), x, index);
  }
  if (clus.centroids.size() != k * d)
    throw Error(ErrorKind::kInternal, "k-means produced no centroids");
  std::copy(clus.centroids.begin(), clus.centroids.end(), centroids);
}

void FillCentroidsFewPoints(const float* x, size_t n, size_t d, size_t k, bool spherical, int seed,
                            float* centroids) {
  size_t copied = std::min(n, k);
  std::copy(x, x + copied * d, centroids);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (size_t i = copied * d; i < k * d; i++) centroids[i] = normal(rng);
  if (spherical) NormalizeRows(centroids, k, d);
}

void AssignNearest(const float* x, size_t n, const float* centroids, size_t k, size_t d,
                   bool inner_product, int64_t* labels) {
  if (n == 0) return;
  std::vector<float> distances(n);
  if (inner_product)
    faiss::knn_inner_product(x, centroids, d, n, k, 1, distances.data(), labels);
  else
    faiss::knn_L2sqr(x, centroids, d, n, k, 1, distances.data(), labels);
  for (size_t i = 0; i < n; i++)
    if (labels[i] < 0) labels[i] = 0;  // all distances NaN/inf cannot happen for finite input
}

void AssignNearestHamming(const uint8_t* x, size_t n, const uint8_t* centroids, size_t k,
                          size_t bytes, int64_t* labels) {
  if (n == 0) return;
  faiss::IndexBinaryFlat index(static_cast<int64_t>(bytes * 8));
  index.add(static_cast<int64_t>(k), centroids);
  std::vector<int32_t> distances(n);
  index.search(static_cast<int64_t>(n), x, 1, distances.data(), labels);
  for (size_t i = 0; i < n; i++)
    if (labels[i] < 0) labels[i] = 0;
}

}  // namespace ivf
}  // namespace ragstore
