// Unit tests: the locality orders of core/graph_order.h (the hnsw build's on-disk order).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/graph_order.h"

namespace ragstore {
namespace {

// A directed graph as adjacency lists.
struct Graph {
  std::vector<std::vector<int32_t>> adj;
  GraphNeighbours Fn() const {
    return [this](int64_t v, int* count) {
      *count = static_cast<int>(adj[v].size());
      return adj[v].data();
    };
  }
};

// k clusters of `size` vertices, vertex v in cluster v % k (so ids interleave the clusters);
// each vertex links to `deg` random members of its cluster and, for a few, one other cluster.
Graph Clusters(int k, int size, int deg, uint32_t seed) {
  std::mt19937 rng(seed);
  Graph g;
  int n = k * size;
  g.adj.resize(n);
  for (int v = 0; v < n; v++) {
    int c = v % k;
    for (int j = 0; j < deg; j++) {
      int u = c + k * static_cast<int>(rng() % size);
      if (u != v) g.adj[v].push_back(u);
    }
    if (rng() % 10 == 0) g.adj[v].push_back(static_cast<int32_t>(rng() % n));
  }
  return g;
}

void ExpectPermutation(const std::vector<int32_t>& order, int64_t n) {
  ASSERT_EQ(static_cast<int64_t>(order.size()), n);
  std::vector<int32_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < n; i++) ASSERT_EQ(sorted[i], i);
}

// How often consecutive positions switch cluster.
int ClusterChanges(const std::vector<int32_t>& order, int k) {
  int changes = 0;
  for (size_t i = 1; i < order.size(); i++) changes += (order[i] % k) != (order[i - 1] % k);
  return changes;
}

TEST(GraphOrderTest, PermutationsOfEveryVertex) {
  Graph g = Clusters(7, 30, 5, 1);
  // an isolated vertex and one only pointing out
  g.adj.push_back({});
  g.adj.push_back({0, 1});
  int64_t n = static_cast<int64_t>(g.adj.size());
  for (int64_t start : {int64_t{0}, int64_t{5}, n - 1}) {
    ExpectPermutation(BreadthFirstOrder(n, g.Fn(), start), n);
    for (int w : {1, 4, 16}) {
      std::vector<int32_t> o = WindowGreedyOrder(n, g.Fn(), start, w);
      ExpectPermutation(o, n);
      EXPECT_EQ(o[0], start);
    }
  }
}

TEST(GraphOrderTest, WindowOrderKeepsClustersTogether) {
  const int k = 20, size = 50;
  Graph g = Clusters(k, size, 8, 2);
  int64_t n = k * size;
  // identity order switches cluster at every position
  std::vector<int32_t> identity(n);
  for (int64_t i = 0; i < n; i++) identity[i] = static_cast<int32_t>(i);
  EXPECT_EQ(ClusterChanges(identity, k), n - 1);
  std::vector<int32_t> o = WindowGreedyOrder(n, g.Fn(), 0, 8);
  // each cluster in one or a few runs (cross links pull in a stray vertex now and then)
  EXPECT_LE(ClusterChanges(o, k), 4 * k) << "window order does not group clusters";
  // breadth-first is no better than the window order on this graph
  EXPECT_GE(ClusterChanges(BreadthFirstOrder(n, g.Fn(), 0), k), ClusterChanges(o, k));
}

TEST(GraphOrderTest, BreadthFirstFollowsAPath) {
  // path 0 - 5 - 2 - 7 - 1 (ids shuffled), both directions linked
  std::vector<int32_t> path = {0, 5, 2, 7, 1};
  Graph g;
  g.adj.resize(8);
  for (size_t i = 0; i + 1 < path.size(); i++) {
    g.adj[path[i]].push_back(path[i + 1]);
    g.adj[path[i + 1]].push_back(path[i]);
  }
  std::vector<int32_t> o = BreadthFirstOrder(8, g.Fn(), 0);
  ASSERT_EQ(o.size(), 8u);
  EXPECT_EQ(std::vector<int32_t>(o.begin(), o.begin() + 5), path);
  // unreached vertices follow in id order
  EXPECT_EQ(std::vector<int32_t>(o.begin() + 5, o.end()), (std::vector<int32_t>{3, 4, 6}));
  std::vector<int32_t> w = WindowGreedyOrder(8, g.Fn(), 0, 2);
  EXPECT_EQ(std::vector<int32_t>(w.begin(), w.begin() + 5), path);
}

TEST(GraphOrderTest, EmptyGraphAndErrors) {
  Graph g;
  EXPECT_TRUE(BreadthFirstOrder(0, g.Fn(), 0).empty());
  EXPECT_TRUE(WindowGreedyOrder(0, g.Fn(), 0, 4).empty());
  g.adj = {{1}, {0}, {7}};
  EXPECT_THROW(BreadthFirstOrder(2, g.Fn(), 2), Error);
  EXPECT_THROW(WindowGreedyOrder(2, g.Fn(), -1, 4), Error);
  EXPECT_THROW(WindowGreedyOrder(2, g.Fn(), 0, 0), Error);
  EXPECT_THROW(WindowGreedyOrder(3, g.Fn(), 0, 4), Error);  // neighbour 7 out of range
  EXPECT_THROW(BreadthFirstOrder(3, g.Fn(), 2), Error);
  EXPECT_GT(WindowOrderBytesPerElement(32), WindowOrderBytesPerElement(16));
}

bool AlwaysInterrupted() { return true; }

TEST(GraphOrderTest, InterruptedWindowOrderIsEmpty) {
  Graph g = Clusters(10, 10, 3, 3);
  EXPECT_TRUE(WindowGreedyOrder(100, g.Fn(), 0, 4, AlwaysInterrupted).empty());
}

}  // namespace
}  // namespace ragstore
