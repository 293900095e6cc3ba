// ragstore core: locality orders of a graph's vertices (see graph_order.h).
#include "core/graph_order.h"

#include <queue>
#include <string>
#include <utility>

#include "core/error.h"

namespace ragstore {

namespace {

void CheckArgs(int64_t n, int64_t start) {
  if (n > 0 && (start < 0 || start >= n))
    throw Error(ErrorKind::kInvalidParameter, "graph order: start vertex " + std::to_string(start) +
                                                  " outside [0, " + std::to_string(n) + ")");
  if (n > INT32_MAX) throw Error(ErrorKind::kProgramLimit, "graph order: too many vertices");
}

const int32_t* CheckedNeighbours(const GraphNeighbours& neighbours, int64_t n, int64_t v,
                                 int* count) {
  const int32_t* list = neighbours(v, count);
  for (int k = 0; k < *count; k++)
    if (list[k] < 0 || list[k] >= n)
      throw Error(ErrorKind::kInvalidParameter,
                  "graph order: neighbour " + std::to_string(list[k]) + " of vertex " +
                      std::to_string(v) + " outside [0, " + std::to_string(n) + ")");
  return list;
}

}  // namespace

std::vector<int32_t> BreadthFirstOrder(int64_t n, const GraphNeighbours& neighbours,
                                       int64_t start) {
  CheckArgs(n, start);
  std::vector<int32_t> order;
  order.reserve(static_cast<size_t>(n));
  std::vector<char> placed(static_cast<size_t>(n), 0);
  int64_t next_unplaced = 0;
  size_t head = 0;
  while (static_cast<int64_t>(order.size()) < n) {
    if (head == order.size()) {
      int64_t s = start;
      if (placed[s]) {
        while (placed[next_unplaced]) next_unplaced++;
        s = next_unplaced;
      }
      placed[s] = 1;
      order.push_back(static_cast<int32_t>(s));
    }
    int64_t v = order[head++];
    int count = 0;
    const int32_t* list = CheckedNeighbours(neighbours, n, v, &count);
    for (int k = 0; k < count; k++) {
      if (placed[list[k]]) continue;
      placed[list[k]] = 1;
      order.push_back(list[k]);
    }
  }
  return order;
}

size_t WindowOrderBytesPerElement(int max_degree) {
  // order 4, offsets 8, adjacency 2 * d * 4, score 4, placed 1, heap 2 * d * 12 (one entry
  // per score increase; a priority_queue's vector may hold up to twice its size)
  return 4 + 8 + 8 * static_cast<size_t>(max_degree) + 4 + 1 +
         2 * 24 * static_cast<size_t>(max_degree);
}

std::vector<int32_t> WindowGreedyOrder(int64_t n, const GraphNeighbours& neighbours, int64_t start,
                                       int window, bool (*interrupted)()) {
  CheckArgs(n, start);
  if (window < 1)
    throw Error(ErrorKind::kInvalidParameter, "graph order: window must be at least 1");
  std::vector<int32_t> order;
  order.reserve(static_cast<size_t>(n));
  if (n == 0) return order;
  // Undirected adjacency in CSR form: out-edges and in-edges (duplicates are harmless: an edge
  // present in both directions simply counts twice, as in Gorder's score).
  std::vector<int64_t> off(static_cast<size_t>(n) + 1, 0);
  for (int64_t v = 0; v < n; v++) {
    int count = 0;
    const int32_t* list = CheckedNeighbours(neighbours, n, v, &count);
    off[v + 1] += count;
    for (int k = 0; k < count; k++) off[list[k] + 1]++;
  }
  for (int64_t v = 0; v < n; v++) off[v + 1] += off[v];
  std::vector<int32_t> adj(static_cast<size_t>(off[n]));
  {
    std::vector<int64_t> fill(off.begin(), off.end() - 1);
    for (int64_t v = 0; v < n; v++) {
      int count = 0;
      const int32_t* list = neighbours(v, &count);
      for (int k = 0; k < count; k++) {
        adj[fill[v]++] = list[k];
        adj[fill[list[k]]++] = static_cast<int32_t>(v);
      }
    }
  }
  // Scores of unplaced vertices; a lazy max-heap of (score, tick, vertex): stale entries (score
  // changed since the push) are skipped when popped.
  std::vector<int32_t> score(static_cast<size_t>(n), 0);
  std::vector<char> placed(static_cast<size_t>(n), 0);
  struct Entry {
    int32_t score;
    uint32_t tick;
    int32_t v;
    bool operator<(const Entry& o) const {
      return score != o.score ? score < o.score : tick < o.tick;
    }
  };
  std::priority_queue<Entry> heap;
  uint32_t tick = 0;
  int64_t next_unplaced = 0;
  auto place = [&](int64_t v) {
    placed[v] = 1;
    order.push_back(static_cast<int32_t>(v));
    for (int64_t e = off[v]; e < off[v + 1]; e++) {
      int32_t u = adj[e];
      if (placed[u]) continue;
      score[u]++;
      heap.push({score[u], ++tick, u});
    }
    if (static_cast<int64_t>(order.size()) > window) {
      int32_t old = order[order.size() - 1 - window];  // leaves the window
      for (int64_t e = off[old]; e < off[old + 1]; e++)
        if (!placed[adj[e]]) score[adj[e]]--;
    }
  };
  place(start);
  while (static_cast<int64_t>(order.size()) < n) {
    if (interrupted != nullptr && (order.size() & 4095) == 1 && interrupted()) return {};
    int64_t next = -1;
    while (!heap.empty()) {
      Entry top = heap.top();
      heap.pop();
      if (placed[top.v]) continue;
      if (top.score != score[top.v]) {
        if (score[top.v] > 0) heap.push({score[top.v], top.tick, top.v});
        continue;
      }
      if (top.score <= 0) continue;
      next = top.v;
      break;
    }
    if (next < 0) {
      while (placed[next_unplaced]) next_unplaced++;
      next = next_unplaced;
    }
    place(next);
  }
  return order;
}

}  // namespace ragstore
