// ragstore ivfflat: index scans for ORDER BY col <op> query [LIMIT n].
//
// The first amgettuple ranks all centroids by distance to the query, reads the ivfflat.probes
// nearest lists page by page (share lock per page, batched SIMD distances over the page's
// contiguous elements, TIDs copied out), and keeps the candidates in a binary min-heap; rows
// are then returned in exact distance order. With ivfflat.iterative_scan = relaxed_order, when
// the candidates run out (a WHERE filter rejected them) the next `probes` lists are read, up to
// ivfflat.max_probes lists in all; rows of a later batch may come out of order relative to an
// earlier one (relaxed order, as pgvector). A NULL query value (ORDER BY col <op> NULL) reads
// every list, so the index returns every indexed row, as a sequential scan returns every row
// (all distances NULL, in no particular order). Memory: the candidates (12 bytes each) in the
// scan's context.
//
// Quantized indexes: distances are computed on the codes (core/quantizer.h) and rows are
// re-ranked exactly through PostgreSQL's ORDER BY recheck (pg/rerank.h): sq8 candidates are
// ordered by a proven lower bound of their exact distance, so the executor returns every row in
// exact order; binary candidates are ordered by code distance, the first
// ivfflat.rerank_candidates of them are re-scored and returned first in exact order, the rest
// follow in code order. ivfflat.rerank_candidates = 0: code order, no re-scoring.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "ivf/ivf.h"
#include "pg/guard.h"
#include "pg/rerank.h"

extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace ragstore {
namespace ivf {
namespace {

struct Candidate {
  float distance;
  ItemPointerData tid;
};

// std heap algorithms build a max-heap; "less" = farther gives a min-heap on distance.
struct Farther {
  bool operator()(const Candidate& a, const Candidate& b) const { return a.distance > b.distance; }
};

struct ScanState {
  MemoryContext ctx;
  bool started;
  IvfCache* cache;
  char* query;      // working form
  int* list_order;  // lists sorted by centroid distance
  int probed;       // lists read so far
  int max_lists;    // lists this scan may read
  int batch;        // lists per round
  Candidate* heap;
  int64 heap_n, heap_cap;
  float* dist;  // per page
  float* scratch;
  // quantized indexes
  bool quantized;
  bool null_query;
  float* qstate;        // core/quantizer.h PrepareQuery state
  float qnorm;          // the query's L2 norm (cosine: 1, or 0 for a zero query)
  pg::RerankMode mode;  // kBound (sq8), kRescore then kTail (binary), or kOff
  int64 returned;       // rows returned so far
  int rerank_limit;     // binary: rows re-scored (ivfflat.rerank_candidates at the scan's start)
  char* wide;           // wide elements: one element assembled from its two pages
};

// A wide element (ivf_page.h): the data page `page` (block blk, pinned, one entry) holds its
// start; the rest is read from the continuation page at blk + 1 under the data page's pin, and
// both are copied into so->wide. Errors (XX002) when that page is not the entry's continuation.
const char* AssembleWide(Relation index, ScanState* so, Page page, BlockNumber blk, int n) {
  const IvfCache* c = so->cache;
  Buffer cbuf = n == 1 ? ReadBuffer(index, blk + 1) : InvalidBuffer;
  Page cpage = BufferIsValid(cbuf) ? BufferGetPage(cbuf) : nullptr;
  if (cpage == nullptr || !IsContinuationPage(cpage, c->tail_size)) {
    if (BufferIsValid(cbuf)) ReleaseBuffer(cbuf);
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("ivfflat index \"%s\" has a damaged wide entry at block %u",
                           RelationGetRelationName(index), blk)));
  }
  memcpy(so->wide, DataPageElement(page, 0, c->head_size), c->head_size);
  memcpy(so->wide + c->head_size, PageGetContents(cpage), c->tail_size);
  ReleaseBuffer(cbuf);
  return so->wide;
}

// Pins the page and asks the CPU to start loading it (the whole 8 kB), so that its memory
// latency overlaps the distance computation of the page before it.
Buffer PinAndPrefetch(Relation index, BlockNumber blk) {
  Buffer buf = ReadBuffer(index, blk);
  const char* page = BufferGetPage(buf);
  for (int off = 0; off < BLCKSZ; off += 64) _mm_prefetch(page + off, _MM_HINT_T0);
  return buf;
}

// Quantized entries: code distances, then (sq8 re-ranked) the lower bound of each exact
// distance, rounded down to float.
void QuantizedDistances(ScanState* so, const char* elements, int n) {
  const IvfCache* c = so->cache;
  const uint8_t* base = reinterpret_cast<const uint8_t*>(elements);
  CodeDistances(c->quantizer, c->dims, c->dist->build_metric, so->qstate, EntryCode(base), n,
                c->element_size, so->dist);
  if (so->mode != pg::RerankMode::kBound) return;
  for (int k = 0; k < n; k++) {
    CodeAux aux;
    memcpy(&aux, base + static_cast<Size>(k) * c->element_size, sizeof(aux));
    double bound = ExactDistanceLowerBound(c->metric, c->dims, so->dist[k], aux, so->qnorm);
    float f = static_cast<float>(bound);
    if (static_cast<double>(f) > bound)
      f = std::nextafter(f, -std::numeric_limits<float>::infinity());
    so->dist[k] = f;
  }
}

// Reads one list. Each page is share-locked only long enough to read its entry count and next
// link; the entries below that count are then read under the pin alone: inserts only append
// beyond them and VACUUM's compaction needs a cleanup lock, which waits for our pin to go.
void ScanList(Relation index, ScanState* so, int list) {
  BlockNumber start, insert;
  ReadListBlocks(index, so->cache, list, &start, &insert);
  if (!BlockNumberIsValid(start)) return;
  Buffer buf = PinAndPrefetch(index, start);
  while (BufferIsValid(buf)) {
    CHECK_FOR_INTERRUPTS();
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    int n = DataPageCount(page);
    BlockNumber next = PageOpaque(page)->next;
    LockBuffer(buf, BUFFER_LOCK_UNLOCK);
    Buffer next_buf = BlockNumberIsValid(next) ? PinAndPrefetch(index, next) : InvalidBuffer;
    if (n > 0) {
      if (so->heap_n + n > so->heap_cap) {
        so->heap_cap = std::max<int64>(so->heap_cap * 2, so->heap_n + n);
        so->heap =
            static_cast<Candidate*>(repalloc_huge(so->heap, sizeof(Candidate) * so->heap_cap));
      }
      // The element array of entries 0..n-1 starts at entry n-1's element.
      const char* elements = so->cache->tail_size > 0
                                 ? AssembleWide(index, so, page, BufferGetBlockNumber(buf), n)
                                 : DataPageElement(page, n - 1, so->cache->element_size);
      if (so->quantized)
        QuantizedDistances(so, elements, n);
      else
        ElementDistances(so->cache, so->query, elements, n, so->dist, so->scratch);
      ItemPointerData* tids = DataPageTids(page);
      Candidate* out = so->heap + so->heap_n;
      for (int k = 0; k < n; k++) {
        out[k].distance = so->dist[k];
        out[k].tid = tids[n - 1 - k];
      }
      so->heap_n += n;
    }
    ReleaseBuffer(buf);
    buf = next_buf;
  }
}

// Reads the next round of lists and restores the heap property.
void ProbeMore(Relation index, ScanState* so) {
  int64 before = so->heap_n;
  int end = std::min(so->max_lists, so->probed + so->batch);
  for (; so->probed < end; so->probed++) ScanList(index, so, so->list_order[so->probed]);
  if (before == 0) {
    std::make_heap(so->heap, so->heap + so->heap_n, Farther());
  } else {
    for (int64 i = before; i < so->heap_n; i++)
      std::push_heap(so->heap, so->heap + i + 1, Farther());
  }
}

void StartScan(IndexScanDesc scan, ScanState* so) {
  Relation index = scan->indexRelation;
  // The scan keeps a copy (rd_amcache may be freed by an invalidation between amgettuple
  // calls or while detoasting the query); the centroids are used right after a fresh GetCache.
  IvfCache* cache = CopyCacheWithoutCenters(index);
  so->cache = cache;
  so->query = static_cast<char*>(palloc(cache->work_size));
  ScanKey key = &scan->orderByData[0];
  const bool null_query = (key->sk_flags & SK_ISNULL) != 0;
  so->quantized = cache->quantizer != QuantizerKind::kNone;
  so->null_query = null_query;
  so->returned = 0;
  so->rerank_limit = g_rerank_candidates;
  so->mode = pg::RerankMode::kOff;
  if (!so->quantized) {
    QueryToWork(key->sk_argument, null_query, cache->dist, cache->dims, so->query);
  } else {
    float* q = reinterpret_cast<float*>(so->query);
    QueryToFloats(key->sk_argument, null_query, cache->dist, cache->dims, q);
    double norm = 0;
    for (int j = 0; j < cache->dims; j++) norm += double(q[j]) * q[j];
    so->qnorm = static_cast<float>(std::sqrt(norm));
    if (!null_query && g_rerank_candidates > 0)
      so->mode = cache->quantizer == QuantizerKind::kSq8 ? pg::RerankMode::kBound
                                                         : pg::RerankMode::kRescore;
    // the parameters from a fresh cache (nothing between that may process invalidations)
    IvfCache* fresh = GetCache(index);
    QuantizerKind qk = cache->quantizer;
    size_t dims = cache->dims;
    Metric metric = cache->dist->build_metric;
    so->qstate = static_cast<float*>(MemoryContextAllocHuge(
        CurrentMemoryContext, sizeof(float) * QueryStateFloats(qk, dims, metric)));
    float* state = so->qstate;
    const float* params = fresh->params;
    pg::GuardedCall([&] { PrepareQuery(qk, dims, params, metric, q, state); });
  }

  float* center_dist = static_cast<float*>(palloc(sizeof(float) * cache->lists));
  CenterDistances(GetCache(index), so->query, center_dist);
  so->list_order = static_cast<int*>(palloc(sizeof(int) * cache->lists));
  for (int i = 0; i < cache->lists; i++) so->list_order[i] = i;
  int probes = std::min(g_probes, cache->lists);
  so->batch = probes;
  so->max_lists = probes;
  if (pg::IterativeScanSetting(g_iterative_scan) != IterativeScan::kOff)
    so->max_lists = std::min(cache->lists, std::max(g_max_probes, probes));
  if (null_query) so->batch = so->max_lists = cache->lists;
  // Only the first max_lists need ordering.
  auto closer = [center_dist](int a, int b) {
    return center_dist[a] < center_dist[b] || (center_dist[a] == center_dist[b] && a < b);
  };
  std::partial_sort(so->list_order, so->list_order + so->max_lists, so->list_order + cache->lists,
                    closer);
  pfree(center_dist);

  Size capacity = DataPageCapacity(cache->head_size);
  so->dist = static_cast<float*>(palloc(sizeof(float) * capacity));
  so->wide = cache->tail_size > 0 ? static_cast<char*>(palloc(cache->element_size)) : nullptr;
  so->scratch = NeedsScratch(cache) && !so->quantized
                    ? static_cast<float*>(palloc(sizeof(float) * capacity * cache->dims))
                    : nullptr;
  so->heap_cap = 1024;
  so->heap = static_cast<Candidate*>(
      MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Candidate) * so->heap_cap));
  so->heap_n = 0;
  so->probed = 0;
  ProbeMore(index, so);
}

}  // namespace
}  // namespace ivf
}  // namespace ragstore

using namespace ragstore::ivf;

extern "C" {

IndexScanDesc ivfflatbeginscan(Relation index, int nkeys, int norderbys) {
  IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
  ScanState* so = static_cast<ScanState*>(palloc0(sizeof(ScanState)));
  so->ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat scan", ALLOCSET_DEFAULT_SIZES);
  scan->opaque = so;
  ragstore::pg::InitOrderByValues(scan);
  return scan;
}

void ivfflatrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys) {
  ScanState* so = static_cast<ScanState*>(scan->opaque);
  if (keys && scan->numberOfKeys > 0)
    memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
  if (orderbys && scan->numberOfOrderBys > 0)
    memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
  (void)nkeys;
  (void)norderbys;
  MemoryContextReset(so->ctx);
  so->started = false;
  so->heap_n = 0;
}

// amgettuple: the next row in distance order. Errors (0A000) without an ORDER BY: the index
// cannot answer other scans.
bool ivfflatgettuple(IndexScanDesc scan, ScanDirection dir) {
  (void)dir;
  ScanState* so = static_cast<ScanState*>(scan->opaque);
  if (!so->started) {
    if (scan->numberOfOrderBys == 0 || scan->orderByData[0].sk_strategy == 0)
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("cannot scan ivfflat index without order")));
    // Counted once per scan (pg_stat_*_indexes.idx_scan), as PostgreSQL's own AMs do.
    pgstat_count_index_scan(scan->indexRelation);
    // The scan's results live in so->ctx; the caller's context may be reset per row.
    MemoryContext old = MemoryContextSwitchTo(so->ctx);
    StartScan(scan, so);
    MemoryContextSwitchTo(old);
    so->started = true;
  }
  for (;;) {
    if (so->heap_n > 0) {
      std::pop_heap(so->heap, so->heap + so->heap_n, Farther());
      so->heap_n--;
      const Candidate& c = so->heap[so->heap_n];
      ragstore::pg::RerankMode mode = so->mode;
      if (mode == ragstore::pg::RerankMode::kRescore && so->returned >= so->rerank_limit)
        mode = ragstore::pg::RerankMode::kTail;
      ragstore::pg::SetRerankedResult(scan, const_cast<ItemPointer>(&c.tid), mode, c.distance);
      so->returned++;
      return true;
    }
    if (so->probed >= so->max_lists) return false;
    MemoryContext old = MemoryContextSwitchTo(so->ctx);
    ProbeMore(scan->indexRelation, so);
    MemoryContextSwitchTo(old);
  }
}

void ivfflatendscan(IndexScanDesc scan) {
  ScanState* so = static_cast<ScanState*>(scan->opaque);
  MemoryContextDelete(so->ctx);
  pfree(so);
  scan->opaque = nullptr;
}

}  // extern "C"
