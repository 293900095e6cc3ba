// Unit tests: GroupEqualRows (src/core/duplicates.h) on hand-made rows, on colliding hashes,
// and on random rows against a map-based reference.
#include "core/duplicates.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace ragstore {
namespace {

struct Rows {
  std::vector<int> values;
  static bool Equal(const void* ctx, int64_t a, int64_t b) {
    const auto* r = static_cast<const Rows*>(ctx);
    return r->values[a] == r->values[b];
  }
};

struct Groups {
  int64_t elements;
  std::vector<int32_t> rows;
  std::vector<int64_t> first;
  std::vector<int32_t> Element(int64_t e) const {
    return std::vector<int32_t>(rows.begin() + first[e], rows.begin() + first[e + 1]);
  }
};

Groups Group(const Rows& r, const std::vector<uint64_t>& hashes, int max_rows) {
  Groups g;
  int64_t n = static_cast<int64_t>(r.values.size());
  g.rows.assign(n, -1);
  g.first.assign(n + 1, -1);
  g.elements =
      GroupEqualRows(n, hashes.data(), Rows::Equal, &r, max_rows, g.rows.data(), g.first.data());
  return g;
}

std::vector<uint64_t> HashOf(const Rows& r) {
  std::vector<uint64_t> h;
  for (int v : r.values) h.push_back(static_cast<uint64_t>(v) * 0x9e3779b97f4a7c15ull);
  return h;
}

TEST(GroupEqualRows, DistinctRowsStayOneElementEach) {
  Rows r{{5, 3, 9, 1}};
  Groups g = Group(r, HashOf(r), 10);
  ASSERT_EQ(g.elements, 4);
  for (int64_t e = 0; e < 4; e++)
    EXPECT_EQ(g.Element(e), std::vector<int32_t>{static_cast<int32_t>(e)});
  EXPECT_EQ(g.first[4], 4);
}

TEST(GroupEqualRows, EqualRowsShareAnElementUpToMaxRows) {
  // 23 rows of value 7 (rows 0, 2, 4, ...), and others: 7 gets elements of 10, 10 and 3 rows
  Rows r;
  for (int i = 0; i < 46; i++) r.values.push_back(i % 2 == 0 ? 7 : 100 + i);
  Groups g = Group(r, HashOf(r), 10);
  EXPECT_EQ(g.elements, 23 + 3);
  // element 0 is led by row 0: rows 0, 2, ..., 18
  std::vector<int32_t> e0;
  for (int i = 0; i < 10; i++) e0.push_back(2 * i);
  EXPECT_EQ(g.Element(0), e0);
  EXPECT_EQ(g.Element(1), std::vector<int32_t>{1});
  // elements ordered by first row; every row exactly once; sizes
  std::vector<int> seen(46, 0);
  int full = 0, three = 0;
  for (int64_t e = 0; e < g.elements; e++) {
    std::vector<int32_t> el = g.Element(e);
    ASSERT_FALSE(el.empty());
    if (e > 0) EXPECT_LT(g.Element(e - 1)[0], el[0]);
    for (size_t k = 0; k < el.size(); k++) {
      seen[el[k]]++;
      EXPECT_EQ(r.values[el[k]], r.values[el[0]]);
      if (k > 0) EXPECT_LT(el[k - 1], el[k]);
    }
    if (el.size() == 10) full++;
    if (el.size() == 3) three++;
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(full, 2);
  EXPECT_EQ(three, 1);
}

TEST(GroupEqualRows, CollidingHashesAreSplitByEquality) {
  // every hash equal: only the equality test tells the values apart
  Rows r{{1, 2, 1, 3, 2, 1}};
  std::vector<uint64_t> same(r.values.size(), 42);
  Groups g = Group(r, same, 10);
  ASSERT_EQ(g.elements, 3);
  EXPECT_EQ(g.Element(0), (std::vector<int32_t>{0, 2, 5}));
  EXPECT_EQ(g.Element(1), (std::vector<int32_t>{1, 4}));
  EXPECT_EQ(g.Element(2), (std::vector<int32_t>{3}));
}

TEST(GroupEqualRows, MaxRowsOneKeepsEveryRowApart) {
  Rows r{{4, 4, 4}};
  Groups g = Group(r, HashOf(r), 1);
  EXPECT_EQ(g.elements, 3);
}

TEST(GroupEqualRows, EmptyInput) {
  Rows r;
  Groups g = Group(r, {}, 10);
  EXPECT_EQ(g.elements, 0);
  EXPECT_EQ(g.first[0], 0);
}

TEST(GroupEqualRows, RandomRowsMatchAReference) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; round++) {
    Rows r;
    int n = 1 + static_cast<int>(rng() % 2000);
    int distinct = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; i++) r.values.push_back(static_cast<int>(rng() % distinct));
    // a weak hash with many collisions
    std::vector<uint64_t> h;
    for (int v : r.values) h.push_back(static_cast<uint64_t>(v % 17));
    int max_rows = 1 + static_cast<int>(rng() % 12);
    Groups g = Group(r, h, max_rows);
    std::map<int, int> count;
    for (int v : r.values) count[v]++;
    int64_t want = 0;
    for (auto& kv : count) want += (kv.second + max_rows - 1) / max_rows;
    ASSERT_EQ(g.elements, want);
    std::map<int, int> partial;  // per value: elements with fewer than max_rows rows
    std::vector<int> seen(n, 0);
    for (int64_t e = 0; e < g.elements; e++) {
      std::vector<int32_t> el = g.Element(e);
      ASSERT_GE(static_cast<int>(el.size()), 1);
      ASSERT_LE(static_cast<int>(el.size()), max_rows);
      if (static_cast<int>(el.size()) < max_rows) partial[r.values[el[0]]]++;
      for (int32_t x : el) {
        seen[x]++;
        ASSERT_EQ(r.values[x], r.values[el[0]]);
      }
    }
    for (int s : seen) ASSERT_EQ(s, 1);
    for (auto& kv : partial) ASSERT_LE(kv.second, 1) << "value " << kv.first;
  }
}

}  // namespace
}  // namespace ragstore
