// Unit tests: MarkReachable / CountInDegrees (src/core/graph_reach.h) on small hand-made graphs
// and on random graphs against a straightforward breadth-first reference.
#include "core/graph_reach.h"

#include <gtest/gtest.h>

#include <queue>
#include <random>
#include <vector>

namespace ragstore {
namespace {

struct Graph {
  int32_t stride;
  std::vector<int32_t> adj;
  std::vector<int32_t> count;
  Graph(int64_t n, int32_t s) : stride(s), adj(n * s, -1), count(n, 0) {}
  void Link(int32_t from, int32_t to) { adj[from * stride + count[from]++] = to; }
  GraphRef Ref() const { return {adj.data(), count.data(), stride, int64_t(count.size())}; }
};

std::vector<uint8_t> Reference(const Graph& g, int64_t start) {
  std::vector<uint8_t> seen(g.count.size(), 0);
  std::queue<int64_t> q;
  seen[start] = 1;
  q.push(start);
  while (!q.empty()) {
    int64_t x = q.front();
    q.pop();
    for (int k = 0; k < g.count[x]; k++) {
      int32_t y = g.adj[x * g.stride + k];
      if (y >= 0 && y < int64_t(seen.size()) && !seen[y]) {
        seen[y] = 1;
        q.push(y);
      }
    }
  }
  return seen;
}

TEST(GraphReach, ChainCycleAndOrphan) {
  // 0 -> 1 -> 2 -> 0, 3 -> 0 (3 has no in-link: an orphan), 4 <-> 5 (an island).
  Graph g(6, 2);
  g.Link(0, 1);
  g.Link(1, 2);
  g.Link(2, 0);
  g.Link(3, 0);
  g.Link(4, 5);
  g.Link(5, 4);
  std::vector<uint8_t> reached(6, 0);
  std::vector<int64_t> stack(6);
  EXPECT_EQ(MarkReachable(g.Ref(), 0, reached.data(), stack.data()), 3);
  EXPECT_EQ(reached, (std::vector<uint8_t>{1, 1, 1, 0, 0, 0}));
  // Walking again from a reached node marks nothing; from the orphan, only the orphan.
  EXPECT_EQ(MarkReachable(g.Ref(), 1, reached.data(), stack.data()), 0);
  EXPECT_EQ(MarkReachable(g.Ref(), 3, reached.data(), stack.data()), 1);
  // Link the island from a reached node and extend the walk from the newly linked node.
  g.Link(2, 4);
  EXPECT_EQ(MarkReachable(g.Ref(), 4, reached.data(), stack.data()), 2);
  EXPECT_EQ(reached, (std::vector<uint8_t>(6, 1)));

  std::vector<int32_t> indeg(6);
  CountInDegrees(g.Ref(), indeg.data());
  EXPECT_EQ(indeg, (std::vector<int32_t>{2, 1, 1, 0, 2, 1}));
}

TEST(GraphReach, IgnoresInvalidLinksAndStarts) {
  Graph g(3, 3);
  g.Link(0, -1);
  g.Link(0, 7);
  g.Link(0, 2);
  std::vector<uint8_t> reached(3, 0);
  std::vector<int64_t> stack(3);
  EXPECT_EQ(MarkReachable(g.Ref(), -1, reached.data(), stack.data()), 0);
  EXPECT_EQ(MarkReachable(g.Ref(), 3, reached.data(), stack.data()), 0);
  EXPECT_EQ(MarkReachable(g.Ref(), 0, reached.data(), stack.data()), 2);
  EXPECT_EQ(reached, (std::vector<uint8_t>{1, 0, 1}));
  std::vector<int32_t> indeg(3);
  CountInDegrees(g.Ref(), indeg.data());
  EXPECT_EQ(indeg, (std::vector<int32_t>{0, 0, 1}));
}

TEST(GraphReach, RandomGraphsMatchBreadthFirstReference) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; trial++) {
    int64_t n = 1 + rng() % 300;
    int32_t stride = 1 + rng() % 6;
    Graph g(n, stride);
    for (int64_t i = 0; i < n; i++) {
      int32_t c = rng() % (stride + 1);
      for (int32_t k = 0; k < c; k++) g.Link(int32_t(i), int32_t(rng() % n));
    }
    int64_t start = rng() % n;
    std::vector<uint8_t> reached(n, 0);
    std::vector<int64_t> stack(n);
    int64_t marked = MarkReachable(g.Ref(), start, reached.data(), stack.data());
    std::vector<uint8_t> want = Reference(g, start);
    ASSERT_EQ(reached, want) << "trial " << trial;
    int64_t total = 0;
    for (uint8_t r : want) total += r;
    ASSERT_EQ(marked, total);
  }
}

}  // namespace
}  // namespace ragstore
