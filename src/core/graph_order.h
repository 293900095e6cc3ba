// ragstore core: orderings of a graph's vertices that put neighbours close together (pure C++).
//
// Used by the hnsw build to choose the on-disk order of elements (hnsw_page.h): a search reads
// an element's neighbours one after the other, so when they sit on the same or recently read
// pages, a small cache of pinned buffers serves most reads and the CPU caches hold the page
// headers. See Coleman et al., "Graph Reordering for Cache-Efficient Near Neighbor Search"
// (NeurIPS 2022): orders that place each vertex near its neighbours (Gorder, RCM, BFS) speed up
// HNSW search by improving locality; Gorder (Wei et al., SIGMOD 2016) did best there.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace ragstore {

// Out-neighbours of vertex v (ids in [0, n)): returns a pointer to *count ids.
using GraphNeighbours = std::function<const int32_t*(int64_t v, int* count)>;

// A Gorder-like greedy order (Wei et al. 2016, simplified: no sibling score): starting at
// `start`, repeatedly places the unplaced vertex with the most edges (either direction) to the
// last `window` placed vertices, ties to the most recently scored; when no unplaced vertex is
// linked to the window, the next is the lowest unplaced id. O((n + E) log E) time; memory: see
// WindowOrderBytesPerElement. Returns order[position] = vertex, a permutation of [0, n), or an
// empty vector when interrupted() (may be null; polled every 4096 vertices; it must only read
// flags) returned true. Throws std::bad_alloc; Error(kInvalidParameter) when start is outside
// [0, n) (n > 0) or window < 1, or when a neighbour id is out of range; Error(kProgramLimit)
// when n > INT32_MAX.
std::vector<int32_t> WindowGreedyOrder(int64_t n, const GraphNeighbours& neighbours, int64_t start,
                                       int window, bool (*interrupted)() = nullptr);

// Upper bound of WindowGreedyOrder's working memory per vertex (bytes) for graphs of at most
// max_degree out-neighbours per vertex: the order, undirected CSR lists, scores, flags and the
// lazy heap (at most one entry per score increase, i.e. per directed edge end).
size_t WindowOrderBytesPerElement(int max_degree);

// Breadth-first order from `start` (unreached vertices: further breadth-first walks from the
// lowest unplaced id). Same errors as WindowGreedyOrder.
std::vector<int32_t> BreadthFirstOrder(int64_t n, const GraphNeighbours& neighbours, int64_t start);

}  // namespace ragstore
