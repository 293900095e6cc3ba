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

HnswGraph::HnswGraph(int64_t n, int dim, const float* xb, GraphMetric metric, int m,
                     int ef_construction, uint64_t seed)
    : n_(n), dim_(dim), xb_(xb), metric_(metric), m_(m), efc_(ef_construction),
      levels_(n), layer0_(static_cast<size_t>(n) * 2 * m, -1), count0_(n, 0),
      upper_off_(n, -1), locks_(n) {
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
  for (int64_t i = 0; i < n; i++)
    for (int l = 1; l <= levels_[i]; l++) *Count(i, l) = 0;
}

size_t HnswGraph::BytesPerElement(int m) {
  return sizeof(int32_t) * (2 * m + 1) + sizeof(std::mutex) + sizeof(int64_t) + 1 +
         sizeof(int32_t) * (m + 1) / static_cast<size_t>(m > 1 ? m - 1 : 1);
}

int32_t* HnswGraph::List(int64_t i, int lc) {
  if (lc == 0) return &layer0_[static_cast<size_t>(i) * 2 * m_];
  return &upper_[upper_off_[i] + static_cast<int64_t>(lc - 1) * (m_ + 1) + 1];
}

int32_t* HnswGraph::Count(int64_t i, int lc) {
  if (lc == 0) return &count0_[i];
  return &upper_[upper_off_[i] + static_cast<int64_t>(lc - 1) * (m_ + 1)];
}

const int32_t* HnswGraph::Neighbors(int64_t i, int lc, int* count) const {
  auto* self = const_cast<HnswGraph*>(this);
  *count = *self->Count(i, lc);
  return self->List(i, lc);
}

float HnswGraph::DistTo(const float* q, int64_t b) const {
  const float* y = xb_ + b * dim_;
  switch (metric_) {
    case GraphMetric::kInnerProduct: return -InnerProduct(q, y, dim_);
    case GraphMetric::kL1: return L1Distance(q, y, dim_);
    default: return L2SquaredDistance(q, y, dim_);
  }
}

float HnswGraph::Dist(int64_t a, int64_t b) const { return DistTo(xb_ + a * dim_, b); }

void HnswGraph::SearchLayer(const float* q, std::vector<Cand>* eps, int ef, int lc,
                            std::vector<uint32_t>* visited, uint32_t* tag,
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
    for (int k = 0; k < cnt; k++) {
      int32_t x = buf[k];
      if ((*visited)[x] == t) continue;
      (*visited)[x] = t;
      float d = DistTo(q, x);
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

void HnswGraph::Select(std::vector<Cand>* cands, int max_count, std::vector<Cand>* out) const {
  std::sort(cands->begin(), cands->end());
  out->clear();
  std::vector<const Cand*> pruned;
  for (const Cand& c : *cands) {
    if (static_cast<int>(out->size()) >= max_count) break;
    bool good = true;
    for (const Cand& r : *out) {
      if (Dist(c.id, r.id) < c.d) {
        good = false;
        break;
      }
    }
    if (good) out->push_back(c);
    else pruned.push_back(&c);
  }
  for (const Cand* p : pruned) {
    if (static_cast<int>(out->size()) >= max_count) break;
    out->push_back(*p);
  }
}

void HnswGraph::Link(int64_t from, int32_t to, float d, int lc) {
  int max_count = lc == 0 ? 2 * m_ : m_;
  std::lock_guard<std::mutex> g(locks_[from]);
  int32_t* list = List(from, lc);
  int32_t* count = Count(from, lc);
  for (int k = 0; k < *count; k++)
    if (list[k] == to) return;
  if (*count < max_count) {
    list[(*count)++] = to;
    return;
  }
  std::vector<Cand> cands;
  cands.reserve(*count + 1);
  for (int k = 0; k < *count; k++) cands.push_back({Dist(from, list[k]), list[k]});
  cands.push_back({d, to});
  std::vector<Cand> kept;
  Select(&cands, max_count, &kept);
  *count = static_cast<int32_t>(kept.size());
  for (size_t k = 0; k < kept.size(); k++) list[k] = kept[k].id;
}

void HnswGraph::Insert(int64_t i, std::vector<uint32_t>* visited, uint32_t* tag) {
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
  const float* q = xb_ + i * dim_;
  std::vector<Cand> eps{{DistTo(q, ep), static_cast<int32_t>(ep)}};
  std::vector<Cand> W, selected;
  for (int lc = max_level; lc > level; lc--) {
    SearchLayer(q, &eps, 1, lc, visited, tag, &W);
    eps.assign(W.begin(), W.begin() + 1);
  }
  for (int lc = std::min(level, max_level); lc >= 0; lc--) {
    SearchLayer(q, &eps, efc_, lc, visited, tag, &W);
    std::vector<Cand> cands = W;
    Select(&cands, lc == 0 ? 2 * m_ : m_, &selected);
    {
      std::lock_guard<std::mutex> g(locks_[i]);
      int32_t* list = List(i, lc);
      for (size_t k = 0; k < selected.size(); k++) list[k] = selected[k].id;
      *Count(i, lc) = static_cast<int32_t>(selected.size());
    }
    for (const Cand& s : selected) Link(s.id, static_cast<int32_t>(i), s.d, lc);
    eps = W;
  }
  if (level > max_level) {
    entry_ = i;
    max_level_ = level;
  }
}

bool HnswGraph::Build(int threads, bool (*interrupted)()) {
  if (n_ == 0) return true;
  // The highest element first, so the entry point rarely moves during the parallel part.
  int64_t first = 0;
  for (int64_t i = 1; i < n_; i++)
    if (levels_[i] > levels_[first]) first = i;
  std::vector<uint32_t> v0(n_, 0);
  uint32_t t0 = 0;
  Insert(first, &v0, &t0);
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
      Insert(i, &visited, &tag);
    }
  }
  if (stop.load()) return false;
  EnsureInLinks();
  return true;
}

void HnswGraph::EnsureInLinks() {
  // Elements the entry point cannot reach on layer 0 (their in-links were all pruned away, or
  // only a group of them links to each other) get a link from their nearest reachable
  // neighbour, replacing that neighbour's farthest link whose target keeps another in-link (or
  // using a free slot); a breadth-first walk from each newly linked element extends the
  // reachable set. Elements whose own list holds no reachable element keep waiting for a later
  // pass (at most a few passes).
  const int max0 = 2 * m_;
  std::vector<int32_t> indeg(n_, 0);
  for (int64_t i = 0; i < n_; i++)
    for (int k = 0; k < count0_[i]; k++) indeg[layer0_[i * max0 + k]]++;
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
  walk(entry_);
  for (int pass = 0; pass < 4; pass++) {
    bool changed = false;
    for (int64_t i = 0; i < n_; i++) {
      if (reached[i]) continue;
      int32_t j = -1;
      for (int k = 0; k < count0_[i] && j < 0; k++)
        if (reached[layer0_[i * max0 + k]]) j = layer0_[i * max0 + k];
      if (j < 0) continue;
      int32_t* list = &layer0_[static_cast<size_t>(j) * max0];
      int32_t& cnt = count0_[j];
      bool linked = false;
      if (cnt < max0) {
        list[cnt++] = static_cast<int32_t>(i);
        linked = true;
      } else {
        for (int k = cnt - 1; k >= 0 && !linked; k--) {
          if (indeg[list[k]] > 1) {
            indeg[list[k]]--;
            list[k] = static_cast<int32_t>(i);
            linked = true;
          }
        }
      }
      if (!linked) continue;
      indeg[i]++;
      walk(i);
      changed = true;
    }
    if (!changed) break;
  }
}

}  // namespace ragstore
