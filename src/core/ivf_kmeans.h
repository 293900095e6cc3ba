// ragstore core: the numeric parts of the ivfflat index (k-means training and list assignment),
// on top of FAISS. No PostgreSQL header: called from src/ivf through GuardedCall.
//
// Threads: FAISS parallelises with OpenMP; the caller caps the thread count (omp_set_num_threads
// from ragstore.max_threads) and installs the interrupt callback (src/pg/faiss_support.h).
// These functions throw faiss::FaissException (including "computation interrupted") or
// ragstore::Error; they never call PostgreSQL.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ragstore {
namespace ivf {

// Trains k centroids on n points (x: n * d floats, row-major) with FAISS's Lloyd k-means
// (faiss::Clustering: k-means++-free random init from the points, `niter` iterations, the
// empty-cluster split heuristic). spherical: centroids are L2-normalised after each iteration
// and points are assigned by maximum inner product (spherical k-means, for cosine and inner
// product indexes; the caller passes normalised points). Requires n >= k >= 1.
// centroids: k * d floats, written.
void TrainKMeans(const float* x, size_t n, size_t d, size_t k, bool spherical, int niter, int seed,
                 float* centroids);

// Fills centroids (k * d) when there are fewer points than lists (pgvector's behaviour for
// tiny tables): the n points first, then pseudo-random Gaussian vectors (fixed seed);
// normalised when spherical.
void FillCentroidsFewPoints(const float* x, size_t n, size_t d, size_t k, bool spherical, int seed,
                            float* centroids);

// For each of the n rows of x (n * d), the index of the nearest centroid (k * d): smallest
// squared L2 distance, or largest inner product when inner_product. Uses FAISS's batched
// (BLAS) search; labels: n entries, written.
void AssignNearest(const float* x, size_t n, const float* centroids, size_t k, size_t d,
                   bool inner_product, int64_t* labels);

// The same for bit strings of `bytes` bytes each (Hamming distance), via faiss::IndexBinaryFlat.
void AssignNearestHamming(const uint8_t* x, size_t n, const uint8_t* centroids, size_t k,
                          size_t bytes, int64_t* labels);

// Scales each of the n rows of x (n * d) to unit L2 norm; zero rows stay zero.
void NormalizeRows(float* x, size_t n, size_t d);

}  // namespace ivf
}  // namespace ragstore
