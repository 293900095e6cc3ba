// ragstore core: an in-memory HNSW graph builder (pure C++, OpenMP threads, no PostgreSQL).
//
// HNSW as in Malkov & Yashunin 2016 (arXiv:1603.09320): alg. 1 insertion, alg. 2 layer search,
// alg. 4 neighbour selection heuristic WITH keepPrunedConnections (lists are topped up with the
// nearest pruned candidates), 2m links on layer 0 and m above, levels drawn with mL = 1/ln(m).
// This is the graph pgvector builds; FAISS's IndexHNSW has no keepPrunedConnections, which on
// clustered data (sift5k) leaves its graph with a clearly lower recall at the same ef_search
// (bench/README.md), which is why builds use this builder. Parallel insertion follows hnswlib: one
// mutex per element guards its lists, a global mutex guards the entry point; an element that raises
// the entry point is inserted while holding the global mutex.
//
// After the parallel insertion, every element the entry point cannot reach on layer 0 (its
// in-links were all pruned away) gets a link from its nearest reachable neighbour.
//
// Threads never call PostgreSQL: cancellation is a caller-given poll function (which only reads
// flags) checked every few hundred insertions by thread 0.
//
// The graph is generic over its elements through a "space": a small struct that names element
// i's data as a Query (Get(i)) and gives the distance from a Query to element b (smaller is
// closer). The algorithm is a template over the space, instantiated for the three spaces below,
// so every distance call is a direct, inlinable call (no virtual dispatch on the hot path):
//   DenseFloatSpace  n x dim floats (vector; halfvec through a float copy): L2, IP, L1
//   BitSpace         n packed bit strings of the same byte length: Hamming, Jaccard
//   SparseSpace      n sparse vectors (index/value lists, e.g. views into one arena): L2, IP, L1
// Each space's distance is the kernel the hnsw scan uses for the same operator class (the
// descriptor table, src/pg/distance.cpp), so the graph is built with the distances searches
// compute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "core/bits.h"
#include "core/distance.h"
#include "core/metric.h"
#include "core/sparse.h"

namespace ragstore {

// Dense and sparse spaces compute Metric::kL2 (squared), kInnerProduct (negated: smaller is
// closer, as the hnsw distance support functions; cosine is inner product on unit vectors) and
// kL1; the bit space kHamming and kJaccard. The constructor of HnswGraph does not see the
// space: the caller passes a metric the space computes (pg/distance.h: build_metric).

// n x dim float vectors at xb (row-major; not copied, must outlive the graph).
struct DenseFloatSpace {
  using Query = const float*;
  const float* xb;
  int dim;
  Metric metric;
  Query Get(int64_t i) const { return xb + i * dim; }
  // Asks the CPU to fetch element b's floats into cache (a search computes the distance of one
  // neighbour while the next one's are on their way).
  void Prefetch(int64_t b) const {
    const char* p = reinterpret_cast<const char*>(Get(b));
    size_t bytes = sizeof(float) * static_cast<size_t>(dim);
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
  }
  float Distance(Query q, int64_t b) const {
    const float* y = Get(b);
    switch (metric) {
      case Metric::kInnerProduct:
        return -InnerProduct(q, y, dim);
      case Metric::kL1:
        return L1Distance(q, y, dim);
      default:
        return L2SquaredDistance(q, y, dim);
    }
  }
};

// n bit strings of `bytes` bytes each; element i starts at base + i * stride (stride >= bytes,
// so the bits can be read in place inside larger records, e.g. stored bit varlenas). Bits past
// the length in the last byte must be zero (as PostgreSQL keeps them). Distances as the bit
// operator classes: Hamming = popcount(a XOR b), Jaccard = 1 - |a AND b| / |a OR b|, as float.
struct BitSpace {
  using Query = const uint8_t*;
  const uint8_t* base;
  size_t stride;
  size_t bytes;
  Metric metric;
  Query Get(int64_t i) const { return base + static_cast<size_t>(i) * stride; }
  void Prefetch(int64_t b) const {
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(Get(b) + off);
  }
  float Distance(Query q, int64_t b) const {
    if (metric == Metric::kJaccard) return static_cast<float>(JaccardDistance(q, Get(b), bytes));
    return static_cast<float>(HammingBits(q, Get(b), bytes));
  }
};

// n sparse vectors given as views (the index and value arrays are not copied and must outlive
// the graph). Distances are core/sparse.h's float32 merge joins: L2 squared, negated inner
// product (cosine: on unit vectors), L1.
struct SparseSpace {
  using Query = const SparseView&;
  const SparseView* views;
  Metric metric;
  const SparseView& Get(int64_t i) const { return views[i]; }
  void Prefetch(int64_t b) const { __builtin_prefetch(views[b].indices); }
  float Distance(const SparseView& q, int64_t b) const {
    switch (metric) {
      case Metric::kInnerProduct:
        return -SparseInnerProduct(q, views[b]);
      case Metric::kL1:
        return SparseL1Distance(q, views[b]);
      default:
        return SparseL2SquaredDistance(q, views[b]);
    }
  }
};

class HnswGraph {
 public:
  // The structure for n elements (levels drawn from seed; no links yet). Throws std::bad_alloc.
  HnswGraph(int64_t n, int m, int ef_construction, uint64_t seed);

  // Inserts elements 0..n-1 of space (which must hold n elements) on `threads` OpenMP threads.
  // Returns false when interrupted() (polled by thread 0; may be null) returned true; the graph
  // is then incomplete. Instantiated for DenseFloatSpace, BitSpace and SparseSpace.
  template <class Space>
  bool Build(const Space& space, int threads, bool (*interrupted)());

  // The k nearest elements to q found by an HNSW search with ef_search ef (greedy descent,
  // then the layer-0 beam), as (distance, element), ascending. After Build; single-threaded
  // (tests and tools). Throws std::bad_alloc.
  template <class Space>
  std::vector<std::pair<float, int64_t>> Search(const Space& space, typename Space::Query q, int k,
                                                int ef);

  int64_t size() const { return n_; }
  int Level(int64_t i) const { return levels_[i]; }
  int64_t EntryPoint() const { return entry_; }
  int MaxLevel() const { return max_level_; }
  // Neighbours of i on layer lc (count written to *count; ids are element numbers).
  const int32_t* Neighbors(int64_t i, int lc, int* count) const;

  // Bytes needed per element beyond the vectors (for memory budgets): lists and their
  // distances, counts, lock.
  static size_t BytesPerElement(int m);
  // Bytes one Build thread needs besides its visited table (4 bytes per element): its search
  // queues and candidate lists, each at most about ef_construction (distance, id) pairs.
  static size_t BytesPerThread(int m, int ef_construction);

  // Layer-0 links an element gives up, at most, to reachability repairs (EnsureInLinks): the
  // rest of its list stays what neighbour selection chose. 2 of 2m: on 10,000 3-d points under
  // inner product, quotas of 1 and 2 gave the recall of an unrepaired graph, 4 a little less,
  // 8 clearly less (and left a few elements unreachable after the round limit).
  static constexpr int kRepairQuota = 2;

 private:
  struct Cand {
    float d;
    int32_t id;
    bool operator<(const Cand& o) const { return d < o.d; }
  };
  int32_t* List(int64_t i, int lc);
  int32_t* Count(int64_t i, int lc);
  // The distances of List(i, lc)'s links (d(i, neighbour), slot by slot), so that re-pruning a
  // full list in Link computes no distance from i to its own neighbours again.
  float* Dists(int64_t i, int lc);
  template <class Space>
  void Insert(const Space& sp, int64_t i, std::vector<uint32_t>* visited, uint32_t* tag);
  template <class Space>
  void SearchLayer(const Space& sp, typename Space::Query q, std::vector<Cand>* eps, int ef, int lc,
                   std::vector<uint32_t>* visited, uint32_t* tag, std::vector<Cand>* out);
  template <class Space>
  void Select(const Space& sp, std::vector<Cand>* cands, int max_count,
              std::vector<Cand>* out) const;
  template <class Space>
  void Link(const Space& sp, int64_t from, int32_t to, float d, int lc);
  template <class Space>
  void EnsureInLinks(const Space& sp);

  int64_t n_;
  int m_;
  int efc_;
  std::vector<int8_t> levels_;
  std::vector<int32_t> layer0_;     // n x (2m) ids
  std::vector<int32_t> count0_;     // n counts
  std::vector<int64_t> upper_off_;  // per element: offset into upper_ (levels x (m + 1))
  std::vector<int32_t> upper_;      // per upper layer: count, then m ids
  std::vector<float> dist0_;        // n x (2m): distances of layer0_'s links
  std::vector<float> upper_dist_;   // as upper_: an unused slot, then the m links' distances
  std::vector<std::mutex> locks_;
  std::mutex entry_lock_;
  int64_t entry_ = -1;
  int max_level_ = -1;
};

}  // namespace ragstore
