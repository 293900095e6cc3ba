// ragstore core: in-memory HNSW graph builder (see hnsw_graph.h).
#include "core/hnsw_graph.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <queue>
#include <random>

#include "core/distance.h"

namespace ragstore {

namespace {
constexpr int kMaxLevel = 16;
}

HnswGraph::HnswGraph(int64_t n, int m, int ef_construction, uint64_t seed)
    : n_(n),
      m_(m),
      efc_(ef_construction),
      levels_(n),
      layer0_(static_cast<size_t>(n) * 2 * m, -1),
      count0_(n, 0),
      upper_off_(n, -1),
      dist0_(static_cast<size_t>(n) * 2 * m, 0.0f),
      locks_(n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  double ml = 1.0 / std::log(static_cast<double>(m));
  int64_t upper_size = 0;
  for (int64_t i = 0; i < n; i++) {
    double r = uni(rng);
    if (r <= 0) r = 1e-300;
    int level = static_cast<int>(-std::log(r) * ml);
    if (level > kMaxLevel) level = kMaxLevel;
    levels_[i] = static_cast<int8_t>(level);
    if (level > 0) {
      upper_off_[i] = upper_size;
      upper_size += static_cast<int64_t>(level) * (m + 1);
    }
  }
  upper_.assign(static_cast<size_t>(upper_size), -1);
  upper_dist_.assign(static_cast<size_t>(upper_size), 0.0f);
  for (int64_t i = 0; i < n; i++)
    for (int l = 1; l <= levels_[i]; l++) *Count(i, l) = 0;
}

size_t HnswGraph::BytesPerElement(int m) {
  return (sizeof(int32_t) + sizeof(float)) * (2 * m) + sizeof(int32_t) + sizeof(std::mutex) +
         sizeof(int64_t) + 1 +
         (sizeof(int32_t) + sizeof(float)) * (m + 1) / static_cast<size_t>(m > 1 ? m - 1 : 1);
}

size_t HnswGraph::BytesPerThread(int m, int ef_construction) {
  // SearchLayer's two heaps and result (the candidate heap can hold about twice ef), Insert's
  // entry points, candidates and selection, Select's pruned list, Link's lists (2m + 1 each).
  return sizeof(Cand) * (6 * static_cast<size_t>(ef_construction) + 4 * (2 * m + 1)) +
         sizeof(void*) * static_cast<size_t>(ef_construction);
}

int32_t* HnswGraph::List(int64_t i, int lc) {
  if (lc == 0) return &layer0_[static_cast<size_t>(i) * 2 * m_];
  return &upper_[upper_off_[i] + static_cast<int64_t>(lc - 1) * (m_ + 1) + 1];
}

int32_t* HnswGraph::Count(int64_t i, int lc) {
  if (lc == 0) return &count0_[i];
  return &upper_[upper_off_[i] + static_cast<int64_t>(lc - 1) * (m_ + 1)];
}

float* HnswGraph::Dists(int64_t i, int lc) {
  if (lc == 0) return &dist0_[static_cast<size_t>(i) * 2 * m_];
  return &upper_dist_[upper_off_[i] + static_cast<int64_t>(lc - 1) * (m_ + 1) + 1];
}

const int32_t* HnswGraph::Neighbors(int64_t i, int lc, int* count) const {
  auto* self = const_cast<HnswGraph*>(this);
  *count = *self->Count(i, lc);
  return self->List(i, lc);
}

template <class Space>
void HnswGraph::SearchLayer(const Space& sp, typename Space::Query q, std::vector<Cand>* eps,
                            int ef, int lc, std::vector<uint32_t>* visited, uint32_t* tag,
                            std::vector<Cand>* out) {
  (*tag)++;
  if (*tag == 0) {
    std::fill(visited->begin(), visited->end(), 0);
    *tag = 1;
  }
  uint32_t t = *tag;
  std::priority_queue<Cand> W;  // max-heap: farthest on top
  auto cmp_min = [](const Cand& a, const Cand& b) { return a.d > b.d; };
  std::priority_queue<Cand, std::vector<Cand>, decltype(cmp_min)> C(cmp_min);
  for (const Cand& e : *eps) {
    (*visited)[e.id] = t;
    C.push(e);
    W.push(e);
  }
  while (static_cast<int>(W.size()) > ef) W.pop();
  int32_t buf[2 * 100 + 2];
  while (!C.empty()) {
    Cand c = C.top();
    if (static_cast<int>(W.size()) >= ef && c.d > W.top().d) break;
    C.pop();
    int cnt;
    {
      std::lock_guard<std::mutex> g(locks_[c.id]);
      cnt = *Count(c.id, lc);
      std::copy(List(c.id, lc), List(c.id, lc) + cnt, buf);
    }
    // The unvisited neighbours first, so that each distance overlaps the fetch of the next
    // element's data.
    int fresh = 0;
    for (int k = 0; k < cnt; k++) {
      int32_t x = buf[k];
      if ((*visited)[x] == t) continue;
      (*visited)[x] = t;
      buf[fresh++] = x;
    }
    if (fresh > 0) sp.Prefetch(buf[0]);
    for (int k = 0; k < fresh; k++) {
      int32_t x = buf[k];
      if (k + 1 < fresh) sp.Prefetch(buf[k + 1]);
      float d = sp.Distance(q, x);
      if (static_cast<int>(W.size()) < ef || d < W.top().d) {
        C.push({d, x});
        W.push({d, x});
        if (static_cast<int>(W.size()) > ef) W.pop();
      }
    }
  }
  out->clear();
  while (!W.empty()) {
    out->push_back(W.top());
    W.pop();
  }
  std::reverse(out->begin(), out->end());  // ascending
}

template <class Space>
void HnswGraph::Select(const Space& sp, std::vector<Cand>* cands, int max_count,
                       std::vector<Cand>* out) const {
  std::sort(cands->begin(), cands->end());
  out->clear();
  std::vector<const Cand*> pruned;
  for (const Cand& c : *cands) {
    if (static_cast<int>(out->size()) >= max_count) break;
    bool good = true;
    for (const Cand& r : *out) {
      if (sp.Distance(sp.Get(c.id), r.id) < c.d) {
        good = false;
        break;
      }
    }
    if (good)
      out->push_back(c);
    else
      pruned.push_back(&c);
  }
  for (const Cand* p : pruned) {
    if (static_cast<int>(out->size()) >= max_count) break;
    out->push_back(*p);
  }
}

template <class Space>
void HnswGraph::Link(const Space& sp, int64_t from, int32_t to, float d, int lc) {
  int max_count = lc == 0 ? 2 * m_ : m_;
  std::lock_guard<std::mutex> g(locks_[from]);
  int32_t* list = List(from, lc);
  float* dists = Dists(from, lc);
  int32_t* count = Count(from, lc);
  for (int k = 0; k < *count; k++)
    if (list[k] == to) return;
  if (*count < max_count) {
    dists[*count] = d;
    list[(*count)++] = to;
    return;
  }
  // A full list: re-prune it with the heuristic over its members and `to`, from the stored
  // distances of the links (d(from, to) = d, the distance `to`'s search computed).
  std::vector<Cand> cands;
  cands.reserve(*count + 1);
  for (int k = 0; k < *count; k++) cands.push_back({dists[k], list[k]});
  cands.push_back({d, to});
  std::vector<Cand> kept;
  Select(sp, &cands, max_count, &kept);
  *count = static_cast<int32_t>(kept.size());
  for (size_t k = 0; k < kept.size(); k++) {
    list[k] = kept[k].id;
    dists[k] = kept[k].d;
  }
}

template <class Space>
void HnswGraph::Insert(const Space& sp, int64_t i, std::vector<uint32_t>* visited, uint32_t* tag) {
  int level = levels_[i];
  std::unique_lock<std::mutex> global(entry_lock_);
  int64_t ep = entry_;
  int max_level = max_level_;
  if (level <= max_level) global.unlock();
  if (ep < 0) {
    entry_ = i;
    max_level_ = level;
    return;
  }
  typename Space::Query q = sp.Get(i);
  std::vector<Cand> eps{{sp.Distance(q, ep), static_cast<int32_t>(ep)}};
  std::vector<Cand> W, selected;
  for (int lc = max_level; lc > level; lc--) {
    SearchLayer(sp, q, &eps, 1, lc, visited, tag, &W);
    eps.assign(W.begin(), W.begin() + 1);
  }
  for (int lc = std::min(level, max_level); lc >= 0; lc--) {
    SearchLayer(sp, q, &eps, efc_, lc, visited, tag, &W);
    // Another thread may already have linked to i on this layer (it found i on a layer above,
    // where i is linked already): i must not become its own neighbour.
    W.erase(std::remove_if(W.begin(), W.end(), [i](const Cand& c) { return c.id == i; }), W.end());
    if (W.empty()) continue;  // only i was found: keep eps for the layer below
    std::vector<Cand> cands = W;
    Select(sp, &cands, lc == 0 ? 2 * m_ : m_, &selected);
    {
      std::lock_guard<std::mutex> g(locks_[i]);
      int32_t* list = List(i, lc);
      int32_t* count = Count(i, lc);
      float* dists = Dists(i, lc);
      if (*count > 0) {
        // Links other threads added to i's list meanwhile (they found i on a layer above, see
        // the erase above) are kept: i's list is chosen from them and the search's candidates.
        // Overwriting them would drop each such element's link from i, and with it, for an
        // element that has no other in-link yet, its reachability (how often depends on how
        // the threads interleave).
        for (int k = 0; k < *count; k++) {
          bool known = false;
          for (const Cand& c : selected) known = known || c.id == list[k];
          if (!known) selected.push_back({dists[k], list[k]});
        }
        std::vector<Cand> merged = selected;
        Select(sp, &merged, lc == 0 ? 2 * m_ : m_, &selected);
      }
      for (size_t k = 0; k < selected.size(); k++) {
        list[k] = selected[k].id;
        dists[k] = selected[k].d;
      }
      *count = static_cast<int32_t>(selected.size());
    }
    for (const Cand& s : selected) Link(sp, s.id, static_cast<int32_t>(i), s.d, lc);
    eps = W;
  }
  if (level > max_level) {
    entry_ = i;
    max_level_ = level;
  }
}

template <class Space>
bool HnswGraph::Build(const Space& space, int threads, bool (*interrupted)()) {
  if (n_ == 0) return true;
  // The highest element first, so the entry point rarely moves during the parallel part.
  int64_t first = 0;
  for (int64_t i = 1; i < n_; i++)
    if (levels_[i] > levels_[first]) first = i;
  std::vector<uint32_t> v0(n_, 0);
  uint32_t t0 = 0;
  Insert(space, first, &v0, &t0);
  std::atomic<bool> stop(false);
#pragma omp parallel num_threads(threads)
  {
    std::vector<uint32_t> visited(n_, 0);
    uint32_t tag = 0;
#pragma omp for schedule(dynamic, 64)
    for (int64_t i = 0; i < n_; i++) {
      if (i == first || stop.load(std::memory_order_relaxed)) continue;
      if (interrupted != nullptr && omp_get_thread_num() == 0 && (i & 127) == 0 && interrupted())
        stop.store(true);
      Insert(space, i, &visited, &tag);
    }
  }
  if (stop.load()) return false;
  EnsureInLinks(space);
  return true;
}

template <class Space>
void HnswGraph::EnsureInLinks(const Space& sp) {
  // Elements the entry point cannot reach on layer 0 (their in-links were all pruned away, or
  // only a group of them links to each other) get a link from a reachable element j, which
  // gives up its farthest link whose target keeps another in-link (or uses a free slot); a walk
  // from each newly linked element extends the reachable set. Candidates for j, in order: the
  // reachable members of the element's own list (a few cheap passes); the reachable elements a
  // search from the entry point finds for it (a group that only links inside itself, common
  // with clustered data whose clusters are about equidistant); then elements linked by this
  // repair themselves (a tree of repaired elements), then any reachable element.
  //
  // Each element gives up at most kRepairQuota of its links to repairs. Without a quota, a
  // metric under which most elements are nobody's neighbour (inner product on unnormalised data:
  // every list prefers the few elements of largest norm, and the others keep no in-link) had
  // the lists of those few hubs rewritten entirely into repair links, which cut the paths
  // between the hubs that every search needs (recall@20 on 10,000 3-d points: 0.79-0.86 instead
  // of 0.995-1.0 without repair). The elements that need a repair are the ones searches do not
  // route through, so they can host each other's repair links at no cost to search.
  const int max0 = 2 * m_;
  const int quota = kRepairQuota;
  std::vector<int32_t> indeg(n_, 0);
  for (int64_t i = 0; i < n_; i++)
    for (int k = 0; k < count0_[i]; k++) indeg[layer0_[i * max0 + k]]++;
  std::vector<uint8_t> given(n_, 0);  // links given up to repairs
  std::vector<char> reached(n_, 0);
  std::vector<int64_t> queue;
  auto walk = [&](int64_t start) {
    reached[start] = 1;
    queue.assign(1, start);
    while (!queue.empty()) {
      int64_t x = queue.back();
      queue.pop_back();
      for (int k = 0; k < count0_[x]; k++) {
        int32_t y = layer0_[x * max0 + k];
        if (!reached[y]) {
          reached[y] = 1;
          queue.push_back(y);
        }
      }
    }
  };
  // Links j -> i; false when j has no free slot and has given up its quota, or its list is
  // full of targets that have no other in-link.
  auto link_from = [&](int32_t j, int64_t i) {
    int32_t* list = &layer0_[static_cast<size_t>(j) * max0];
    float* dists = &dist0_[static_cast<size_t>(j) * max0];
    int32_t& cnt = count0_[j];
    for (int k = 0; k < cnt; k++)
      if (list[k] == i) return true;
    if (cnt < max0) {
      dists[cnt] = sp.Distance(sp.Get(j), i);
      list[cnt++] = static_cast<int32_t>(i);
      indeg[i]++;
      return true;
    }
    if (given[j] >= quota) return false;
    for (int k = cnt - 1; k >= 0; k--) {
      if (indeg[list[k]] > 1) {
        indeg[list[k]]--;
        dists[k] = sp.Distance(sp.Get(j), i);
        list[k] = static_cast<int32_t>(i);
        indeg[i]++;
        given[j]++;
        return true;
      }
    }
    return false;
  };
  std::vector<int64_t> hosts;  // elements linked by this repair, most recent last
  auto linked_now = [&](int64_t i) {
    walk(i);
    hosts.push_back(i);
  };
  int64_t cursor = 0;  // fallback: reachable elements in id order
  std::vector<uint32_t> visited;
  uint32_t tag = 0;
  std::vector<Cand> eps, W;
  // W = the ef_construction nearest to element i found by a search from the entry point (which
  // only visits what the entry point reaches on layer 0).
  auto search_from_entry = [&](int64_t i) {
    if (visited.empty()) visited.assign(n_, 0);
    typename Space::Query q = sp.Get(i);
    eps.assign(1, {sp.Distance(q, entry_), static_cast<int32_t>(entry_)});
    for (int lc = max_level_; lc > 0; lc--) {
      SearchLayer(sp, q, &eps, 1, lc, &visited, &tag, &W);
      eps.assign(W.begin(), W.begin() + 1);
    }
    SearchLayer(sp, q, &eps, efc_, 0, &visited, &tag, &W);
  };
  // Replacing a link can cut off what was reachable only through it: recompute the reachable
  // set and repeat while rounds make progress (each one fixes far more than it breaks; at most
  // 64 rounds).
  int64_t last_unreached = n_ + 1;
  for (int round = 0; round < 64; round++) {
    std::fill(reached.begin(), reached.end(), 0);
    walk(entry_);
    int64_t unreached = std::count(reached.begin(), reached.end(), 0);
    if (unreached == 0 || (round >= 8 && unreached >= last_unreached)) break;
    last_unreached = unreached;
    hosts.clear();
    cursor = 0;
    for (int pass = 0; pass < 4; pass++) {
      bool changed = false;
      for (int64_t i = 0; i < n_; i++) {
        if (reached[i]) continue;
        bool linked = false;
        for (int k = 0; k < count0_[i] && !linked; k++) {
          int32_t j = layer0_[i * max0 + k];
          if (reached[j]) linked = link_from(j, i);
        }
        if (!linked) continue;
        linked_now(i);
        changed = true;
      }
      if (!changed) break;
    }
    for (int64_t i = 0; i < n_; i++) {
      if (reached[i]) continue;
      search_from_entry(i);
      bool linked = false;
      for (size_t k = 0; k < W.size() && !linked; k++)
        if (reached[W[k].id] && W[k].id != i) linked = link_from(W[k].id, i);
      while (!linked && !hosts.empty()) {
        int64_t h = hosts.back();
        if (h != i && reached[h]) linked = link_from(static_cast<int32_t>(h), i);
        if (!linked) hosts.pop_back();
      }
      for (; !linked && cursor < n_; cursor++)
        if (cursor != i && reached[cursor]) {
          linked = link_from(static_cast<int32_t>(cursor), i);
          if (linked) break;
        }
      if (linked) linked_now(i);
    }
  }
  // What the rounds left unreachable is linked so that nothing else is lost. The rounds can
  // leave some: a replaced link's target may keep its other in-links only from unreachable
  // elements, and they stop after 64 rounds or when a round makes no progress. How far they get
  // depends on the graph, which with several build threads depends on the threads'
  // interleaving. Here a reachable host j (the nearest reachable element a search finds, one
  // with a free slot or within its quota if any) links to i; when j's list is full, its last
  // link j -> x gives way and i takes it over (i -> x, replacing i's last link if i's list is
  // full): every path through j -> x now goes j -> i -> x, and i's own links carried no path
  // from the entry point (i was unreachable). So each step only adds to the reachable set.
  std::fill(reached.begin(), reached.end(), 0);
  walk(entry_);
  for (int64_t i = 0; i < n_; i++) {
    if (reached[i]) continue;
    search_from_entry(i);
    int64_t j = -1, nearest = -1;
    for (size_t k = 0; k < W.size() && j < 0; k++) {
      int32_t c = W[k].id;
      if (c == i || !reached[c]) continue;
      if (nearest < 0) nearest = c;
      if (count0_[c] < max0 || given[c] < quota) j = c;
    }
    if (j < 0) j = nearest >= 0 ? nearest : entry_;
    int32_t* list = &layer0_[static_cast<size_t>(j) * max0];
    float* dists = &dist0_[static_cast<size_t>(j) * max0];
    int32_t& cnt = count0_[j];
    float d = sp.Distance(sp.Get(j), i);
    if (cnt < max0) {
      dists[cnt] = d;
      list[cnt++] = static_cast<int32_t>(i);
    } else {
      int32_t x = list[cnt - 1];
      list[cnt - 1] = static_cast<int32_t>(i);
      dists[cnt - 1] = d;
      given[j]++;
      int32_t* own = &layer0_[static_cast<size_t>(i) * max0];
      float* own_dists = &dist0_[static_cast<size_t>(i) * max0];
      int32_t& own_cnt = count0_[i];
      if (std::find(own, own + own_cnt, x) == own + own_cnt) {
        int slot = own_cnt < max0 ? own_cnt++ : own_cnt - 1;
        own[slot] = x;
        own_dists[slot] = sp.Distance(sp.Get(i), x);
      }
    }
    walk(i);
  }
}

template <class Space>
std::vector<std::pair<float, int64_t>> HnswGraph::Search(const Space& space,
                                                         typename Space::Query q, int k, int ef) {
  std::vector<std::pair<float, int64_t>> result;
  if (entry_ < 0 || k <= 0) return result;
  if (ef < k) ef = k;
  std::vector<uint32_t> visited(n_, 0);
  uint32_t tag = 0;
  std::vector<Cand> eps{{space.Distance(q, entry_), static_cast<int32_t>(entry_)}};
  std::vector<Cand> W;
  for (int lc = max_level_; lc > 0; lc--) {
    SearchLayer(space, q, &eps, 1, lc, &visited, &tag, &W);
    eps.assign(W.begin(), W.begin() + 1);
  }
  SearchLayer(space, q, &eps, ef, 0, &visited, &tag, &W);
  for (size_t j = 0; j < W.size() && static_cast<int>(j) < k; j++)
    result.emplace_back(W[j].d, W[j].id);
  return result;
}

// The spaces the graph is built over (see hnsw_graph.h).
#define RAGSTORE_HNSW_GRAPH_SPACE(Space)                                    \
  template bool HnswGraph::Build<Space>(const Space&, int, bool (*)());     \
  template std::vector<std::pair<float, int64_t>> HnswGraph::Search<Space>( \
      const Space&, Space::Query, int, int);
RAGSTORE_HNSW_GRAPH_SPACE(DenseFloatSpace)
RAGSTORE_HNSW_GRAPH_SPACE(BitSpace)
RAGSTORE_HNSW_GRAPH_SPACE(SparseSpace)
#undef RAGSTORE_HNSW_GRAPH_SPACE

}  // namespace ragstore
