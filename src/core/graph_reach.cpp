// ragstore core: reachability over fixed-stride adjacency lists (see graph_reach.h).
#include "core/graph_reach.h"

namespace ragstore {

int64_t MarkReachable(const GraphRef& g, int64_t start, uint8_t* reached, int64_t* stack) {
  if (start < 0 || start >= g.n || reached[start]) return 0;
  // Iterative depth-first walk: every node is pushed at most once (marked when pushed), so the
  // stack never holds more than n entries.
  int64_t marked = 1;
  int64_t top = 0;
  reached[start] = 1;
  stack[top++] = start;
  while (top > 0) {
    int64_t x = stack[--top];
    const int32_t* list = g.adj + x * g.stride;
    int32_t c = g.count[x];
    for (int32_t k = 0; k < c; k++) {
      int32_t y = list[k];
      if (y < 0 || y >= g.n || reached[y]) continue;
      reached[y] = 1;
      marked++;
      stack[top++] = y;
    }
  }
  return marked;
}

void CountInDegrees(const GraphRef& g, int32_t* indeg) {
  for (int64_t i = 0; i < g.n; i++) indeg[i] = 0;
  for (int64_t i = 0; i < g.n; i++) {
    const int32_t* list = g.adj + i * g.stride;
    for (int32_t k = 0; k < g.count[i]; k++)
      if (list[k] >= 0 && list[k] < g.n) indeg[list[k]]++;
  }
}

}  // namespace ragstore
