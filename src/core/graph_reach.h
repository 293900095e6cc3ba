// ragstore core: reachability in a directed graph stored as fixed-stride adjacency lists (the
// layer-0 graph of an hnsw index, one dense element number per element). Used by hnsw VACUUM
// and the hnsw debug check to find live elements that no search can reach from the entry
// point. Pure functions over caller-owned arrays: no allocation, no exception, so they can run
// directly inside a PostgreSQL backend on palloc'd memory.
#pragma once

#include <cstdint>

namespace ragstore {

// A graph of n nodes: node i's out-links are adj[i * stride + k] for k < count[i], each in
// [0, n) or negative (a link to something that is not a node: ignored).
struct GraphRef {
  const int32_t* adj;
  const int32_t* count;
  int32_t stride;
  int64_t n;
};

// Marks every node reachable from start (start included) whose reached[] flag was 0 and sets
// it to 1; nodes already marked are not walked through again (so calling it again from a newly
// linked node extends an earlier walk). stack must hold n entries. Returns the number of nodes
// newly marked. start outside [0, n) marks nothing.
int64_t MarkReachable(const GraphRef& g, int64_t start, uint8_t* reached, int64_t* stack);

// indeg[i] = number of out-links (from any node, self-links included) that point to node i.
void CountInDegrees(const GraphRef& g, int32_t* indeg);

}  // namespace ragstore
