// ragstore hnsw: index scans (ORDER BY col <op> constant).
//
// The first amgettuple descends from the entry point with a small beam (kUpperLayerBeam) and
// searches layer 0 from it with ef = hnsw.ef_search (HNSW alg. 2), then returns the ef nearest
// in distance order. With hnsw.iterative_scan on, the scan goes on in batches of ef_search
// (NextBatch): everything it computed a distance for and did not return waits in a "discarded"
// heap, the nearest of it seeds the next layer-0 search with the same visited set, until
// hnsw.max_scan_tuples elements were visited or the scan's memory reaches
// work_mem * hnsw.scan_mem_multiplier; then what is left in the discarded heap is returned
// nearest first, and the scan ends when that heap is empty (as pgvector 0.8). The scan never
// ends while the discarded heap holds anything, so within its budget it covers what layer 0
// reaches from the entry point. relaxed_order returns each batch sorted; strict_order also
// drops any row closer than one already returned, so the whole output stays sorted. Deleted
// elements are traversed but never returned. Each element returns all its heap rows (rows of
// equal value share an element, hnsw_page.h), one after the other at the element's distance;
// hnsw.max_scan_tuples counts elements, as pgvector's does. A NULL query returns every indexed
// row in index page order (NextNullPage).
#include "hnsw/hnsw.h"

#include <algorithm>

#include "pg/rerank.h"
extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
}

namespace ragstore {
namespace hnsw {
namespace {

// Candidates kept while descending the upper layers (HNSW alg. 5 of Malkov & Yashunin 2016, as
// pgvector and FAISS implement it, keeps 1: a greedy walk). One greedy path can end in the wrong
// region on clustered data, and no layer-0 search from there finds the query's neighbours; the
// layer-0 search starts from all the beam's candidates instead. 4 raised recall at low
// ef_search at no measurable CPU cost, a wider beam costs more per query. ef_search still
// bounds layer 0's list.
constexpr int kUpperLayerBeam = 4;

struct HnswScanState {
  bool started;
  bool done;
  HnswSupport sup;
  char* query;  // prepared query value, nullptr when NULL
  int m;
  HnswSearch search;
  HnswHeap C;
  HnswHeap W;
  HnswHeap discarded;
  int ef;                  // hnsw.ef_search when the scan started (batch size)
  HnswCandidate* results;  // current batch, ascending
  // Quantized indexes: per result, how it is re-ranked (pg/rerank.h) and its lower bound.
  pg::RerankMode* modes;
  double* bounds;
  int64 rescored;    // binary: rows returned for re-scoring so far
  float query_norm;  // quantized: the norm of the float query (the bound needs it)
  int nresults;
  int pos;
  int tid_pos;  // next heap TID of results[pos]
  bool emitted_any;
  bool budget_spent;
  // NULL query (every distance is NULL): all indexed rows in index page order.
  bool null_query;
  BlockNumber null_next;  // next block to read
  ItemPointerData* null_tids;
  int null_n;
  int null_pos;          // hnsw.max_scan_tuples or the memory limit reached: drain discarded
  double last_distance;  // of the last row returned (sq8 re-ranking: its bound)
  int64 returned;        // heap TIDs returned (DEBUG2 at the end of the scan)
  MemoryContext ctx;
};

// Bytes the scan holds: everything in its memory context (visited set, heaps, batch), as
// allocated (capacities, not sizes), which is what work_mem limits.
Size ScanMemory(const HnswScanState* so) { return MemoryContextMemAllocated(so->ctx, true); }

void RankBatch(HnswScanState* so);

// Drains W into the sorted batch.
void TakeBatch(HnswScanState* so) {
  so->nresults = 0;
  so->pos = 0;
  so->tid_pos = 0;
  while (so->W.size > 0) so->results[so->nresults++] = HnswHeapPop(&so->W);
  // W pops farthest first: reverse
  for (int i = 0, j = so->nresults - 1; i < j; i++, j--) {
    HnswCandidate t = so->results[i];
    so->results[i] = so->results[j];
    so->results[j] = t;
  }
  RankBatch(so);
}

// Quantized indexes: how each row of the batch is re-ranked (pg/rerank.h, as ivfflat's): sq8
// rows go out in nondecreasing order of the proven lower bound of their exact distance
// (core/quantizer.h ExactDistanceLowerBound), so the executor returns them in exact order; binary
// bounds are too loose to be useful, so the scan's first hnsw.rerank_candidates rows by code
// distance are re-scored (their exact order among themselves) and the rest follow in code order.
// hnsw.rerank_candidates = 0: no re-ranking, code distance order.
void RankBatch(HnswScanState* so) {
  if (so->sup.quantizer == QuantizerKind::kNone) return;
  int n = so->nresults;
  for (int i = 0; i < n; i++) {
    so->bounds[i] = 0;
    if (g_rerank_candidates == 0) {
      so->modes[i] = pg::RerankMode::kOff;
    } else if (so->sup.quantizer == QuantizerKind::kSq8) {
      so->modes[i] = pg::RerankMode::kBound;
      so->bounds[i] =
          ExactDistanceLowerBound(so->sup.bound_metric, so->sup.qdims, so->results[i].distance,
                                  so->results[i].aux, so->query_norm);
    } else {
      so->modes[i] =
          so->rescored < g_rerank_candidates ? pg::RerankMode::kRescore : pg::RerankMode::kTail;
      if (so->modes[i] == pg::RerankMode::kRescore) so->rescored++;
    }
  }
  if (so->sup.quantizer != QuantizerKind::kSq8 || g_rerank_candidates == 0) return;
  // Bound order (insertion sort: a batch is at most ef_search + 1 rows, nearly in order).
  for (int i = 1; i < n; i++) {
    HnswCandidate c = so->results[i];
    double b = so->bounds[i];
    int j = i - 1;
    for (; j >= 0 && so->bounds[j] > b; j--) {
      so->results[j + 1] = so->results[j];
      so->bounds[j + 1] = so->bounds[j];
    }
    so->results[j + 1] = c;
    so->bounds[j + 1] = b;
  }
}

void FirstSearch(IndexScanDesc scan, HnswScanState* so) {
  HnswMetaPageData meta;
  int ef = g_ef_search;
  // binary: the list holds at least the candidates re-scored exactly
  if (so->sup.quantizer == QuantizerKind::kBinary) ef = std::max(ef, g_rerank_candidates);
  HnswCandidate ep;
  bool found = false;
  // The entry point may be replaced by VACUUM between reading the meta page and the element.
  for (int attempt = 0; attempt < 3 && !found; attempt++) {
    HnswReadMeta(scan->indexRelation, &meta);
    if (!BlockNumberIsValid(meta.entry_blkno)) break;
    if (attempt == 0) {
      // The fast kernels assume equal dimensions (the fmgr path checks by itself).
      if (so->sup.kernel != nullptr && meta.dimensions > 0) {
        int qdims = so->sup.type->dims(so->query);
        if (qdims != static_cast<int>(meta.dimensions))
          ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                          errmsg(so->sup.type->dims_error, meta.dimensions, qdims)));
      }
      HnswLoadQuantizer(scan->indexRelation, &so->sup);
      so->query = const_cast<char*>(HnswSearchQuery(&so->sup, so->query));
      if (so->sup.quantizer != QuantizerKind::kNone)
        so->query_norm = reinterpret_cast<const HnswQuantQuery*>(so->query)->norm;
      HnswSearchInit(&so->search, scan->indexRelation, &so->sup, meta.m, so->query);
      so->search.want_heaptids = true;
      so->m = meta.m;
    }
    found = HnswEntryCandidate(&so->search, &meta, &ep);
  }
  if (!found) {
    so->done = true;
    return;
  }
  HnswHeapInit(&so->C, ef * 4, false);
  HnswHeapInit(&so->W, ef + 1, true);
  HnswHeapInit(&so->discarded, ef * 4, false);
  so->ef = ef;
  so->results = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * (ef + 1)));
  so->modes = static_cast<pg::RerankMode*>(palloc(sizeof(pg::RerankMode) * (ef + 1)));
  so->bounds = static_cast<double*>(palloc(sizeof(double) * (ef + 1)));
  HnswCandidate top = ep;
  // Descent: a beam of kUpperLayerBeam candidates on the upper layers, and layer 0 starts from
  // all of them (see kUpperLayerBeam).
  int upper_ef = std::min(ef, kUpperLayerBeam);
  HnswCandidate seeds[kUpperLayerBeam];  // after a layer's search W holds at most upper_ef
  seeds[0] = ep;
  int nseeds = HnswDescend(&so->search, &so->C, &so->W, meta.entry_level, 0, upper_ef, seeds, 1);
  HnswSeedLayer(&so->search, &so->C, &so->W, seeds, nseeds);
  bool iterative = pg::IterativeScanSetting(g_iterative_scan) != IterativeScan::kOff;
  // An iterative scan can enumerate the whole index: what layer 0 reaches from the entry point
  // is every live element (the invariant in hnsw_page.h), while the descent may end in a group
  // with no way out (e.g. duplicates filling each other's lists). So the entry point waits in
  // the discarded heap: a later batch expands it if the search got that far.
  if (iterative && HnswVisitedAdd(&so->search.visited, &top.tid)) HnswHeapPush(&so->discarded, top);
  HnswSearchLayer(&so->search, &so->C, &so->W, iterative ? &so->discarded : nullptr, ef, 0);
  // No pins are held while the executor has the rows (a cursor may keep the scan open).
  HnswSearchReleaseBuffers(&so->search);
  TakeBatch(so);
}

// The heap TIDs of the live elements of the next data page with any, for a NULL query: an
// ORDER BY whose distances are all NULL orders nothing, so every indexed row is returned (a
// sequential scan returns them all, and an index never changes a result set). Pages are read
// in block order under a share lock, one at a time. False when the index has no more pages.
bool NextNullPage(IndexScanDesc scan, HnswScanState* so) {
  Relation index = scan->indexRelation;
  so->null_n = 0;
  so->null_pos = 0;
  while (so->null_n == 0) {
    if (so->null_next >= RelationGetNumberOfBlocks(index)) return false;
    BlockNumber blk = so->null_next++;
    CHECK_FOR_INTERRUPTS();
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    OffsetNumber maxoff = HnswPageTupleSlots(index, page, blk);
    for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
      HnswElementTupleData* e = HnswGetElement(index, page, blk, off, so->sup.stored_size);
      if (e == nullptr || e->deleted) continue;
      int ntids = HnswElementHeapTidCount(e);
      for (int i = 0; i < ntids; i++) so->null_tids[so->null_n++] = e->heaptids[i];
    }
    UnlockReleaseBuffer(buf);
  }
  return true;
}

// The next batch of an iterative scan (HNSW alg. 2 resumed, as pgvector 0.8 does): every
// element the scan computed a distance for and did not return waits in the discarded heap, so
// nothing the search reached is lost. While the budget lasts (hnsw.max_scan_tuples elements
// visited, work_mem * hnsw.scan_mem_multiplier bytes), the ef_search nearest of them seed a new
// layer-0 search with the same visited set; its W is the batch, what it drops or rejects goes
// back to the discarded heap. Each returned element was expanded (W holds only expanded elements
// when the search stops), so its neighbours are visited: as long as the discarded heap is not
// empty the scan keeps going, and it covers all the entry point reaches on layer 0 (every live
// element, hnsw_page.h) before it runs dry. Once the budget is spent, the discarded elements are
// returned nearest first without further search (they were visited, so the scan "saw" them).
// False when nothing is left.
bool NextBatch(HnswScanState* so) {
  int ef = so->ef;
  so->nresults = 0;
  so->pos = 0;
  so->tid_pos = 0;
  if (so->discarded.size == 0) return false;
  if (!so->budget_spent) {
    Size limit = static_cast<Size>(work_mem * 1024.0 * g_scan_mem_multiplier);
    if (so->search.loaded >= g_max_scan_tuples) {
      so->budget_spent = true;
    } else if (ScanMemory(so) >= limit) {
      so->budget_spent = true;
      ereport(DEBUG1, (errmsg("hnsw index scan reached memory limit after " INT64_FORMAT " tuples",
                              so->search.loaded),
                       errhint("Increase hnsw.scan_mem_multiplier to scan more tuples.")));
    }
  }
  if (so->budget_spent) {
    while (so->nresults < ef && so->discarded.size > 0)
      so->results[so->nresults++] = HnswHeapPop(&so->discarded);
    RankBatch(so);
    return true;
  }
  // What C still holds from the last batch is farther than everything that batch returned, so
  // it was dropped from W into the discarded heap already: C starts empty.
  so->C.size = 0;
  so->W.size = 0;
  while (so->W.size < ef && so->discarded.size > 0) {
    HnswCandidate c = HnswHeapPop(&so->discarded);
    HnswHeapPush(&so->C, c);
    HnswHeapPush(&so->W, c);
  }
  HnswSearchLayer(&so->search, &so->C, &so->W, &so->discarded, ef, 0);
  HnswSearchReleaseBuffers(&so->search);
  TakeBatch(so);
  return true;
}

}  // namespace
}  // namespace hnsw
}  // namespace ragstore

using namespace ragstore;
using namespace ragstore::hnsw;

extern "C" {

// ambeginscan: allocates the scan state in its own memory context.
IndexScanDesc hnswbeginscan(Relation index, int nkeys, int norderbys) {
  IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
  auto* so = static_cast<HnswScanState*>(palloc0(sizeof(HnswScanState)));
  so->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(so->ctx);
  HnswInitSupport(index, &so->sup);
  MemoryContextSwitchTo(old);
  so->search.ncache = 0;
  scan->opaque = so;
  pg::InitOrderByValues(scan);
  return scan;
}

// amrescan: remembers the ORDER BY argument; the search runs on the first amgettuple.
void hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys) {
  auto* so = static_cast<HnswScanState*>(scan->opaque);
  if (so->started) HnswSearchEnd(&so->search);
  MemoryContextReset(so->ctx);
  MemoryContext old = MemoryContextSwitchTo(so->ctx);
  HnswInitSupport(scan->indexRelation, &so->sup);
  MemoryContextSwitchTo(old);
  so->started = false;
  so->done = false;
  so->query = nullptr;
  so->rescored = 0;
  so->returned = 0;
  so->query_norm = 0;
  so->nresults = 0;
  so->pos = 0;
  so->tid_pos = 0;
  so->emitted_any = false;
  so->budget_spent = false;
  so->null_query = false;
  so->null_n = 0;
  so->null_pos = 0;
  so->search.ncache = 0;
  if (keys && scan->numberOfKeys > 0)
    memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
  if (orderbys && scan->numberOfOrderBys > 0)
    memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

// amgettuple: the next heap TID in distance order (see the file comment); no recheck needed.
bool hnswgettuple(IndexScanDesc scan, ScanDirection dir) {
  auto* so = static_cast<HnswScanState*>(scan->opaque);
  if (!so->started) {
    so->started = true;
    if (scan->orderByData == nullptr) {
      so->done = true;
    } else if (scan->orderByData[0].sk_flags & SK_ISNULL) {
      pgstat_count_index_scan(scan->indexRelation);
      so->null_query = true;
      so->null_next = kHnswMetaBlock + 1;
      // a page holds at most this many element tuples, each with up to kHnswHeapTids TIDs
      Size per_page = HnswEmptyPageSpace() / (HnswElementTupleSize(0) + sizeof(ItemIdData)) + 1;
      so->null_tids = static_cast<ItemPointerData*>(
          MemoryContextAlloc(so->ctx, sizeof(ItemPointerData) * per_page * kHnswHeapTids));
    } else {
      MemoryContext old = MemoryContextSwitchTo(so->ctx);
      so->query = HnswPrepareValue(&so->sup, scan->orderByData[0].sk_argument, false);
      pgstat_count_index_scan(scan->indexRelation);
      FirstSearch(scan, so);
      MemoryContextSwitchTo(old);
    }
  }
  if (so->null_query) {
    while (so->null_pos >= so->null_n)
      if (!NextNullPage(scan, so)) return false;
    scan->xs_heaptid = so->null_tids[so->null_pos++];
    scan->xs_recheck = false;
    scan->xs_recheckorderby = false;
    return true;
  }
  bool strict = ragstore::pg::IterativeScanSetting(g_iterative_scan) == IterativeScan::kStrictOrder;
  while (!so->done) {
    while (so->pos < so->nresults) {
      HnswCandidate* c = &so->results[so->pos];
      bool bounded =
          so->sup.quantizer != QuantizerKind::kNone && so->modes[so->pos] == pg::RerankMode::kBound;
      double key = bounded ? so->bounds[so->pos] : c->distance;
      if (c->deleted || so->tid_pos >= c->nheaptids ||
          (so->tid_pos == 0 && strict && so->emitted_any && key < so->last_distance)) {
        so->pos++;
        so->tid_pos = 0;
        continue;
      }
      so->emitted_any = true;
      so->last_distance = key;
      so->returned++;
      if (so->sup.quantizer != QuantizerKind::kNone) {
        ItemPointerData tid = HnswCandidateHeapTid(*c, so->tid_pos++);
        pg::SetRerankedResult(scan, &tid, so->modes[so->pos], so->bounds[so->pos]);
        return true;
      }
      scan->xs_heaptid = HnswCandidateHeapTid(*c, so->tid_pos++);
      scan->xs_recheck = false;
      scan->xs_recheckorderby = false;
      return true;
    }
    if (ragstore::pg::IterativeScanSetting(g_iterative_scan) == IterativeScan::kOff) {
      so->done = true;
      break;
    }
    CHECK_FOR_INTERRUPTS();
    MemoryContext old = MemoryContextSwitchTo(so->ctx);
    bool more = NextBatch(so);
    MemoryContextSwitchTo(old);
    if (!more) so->done = true;
  }
  return false;
}

// amendscan: releases the pinned buffer and the scan memory.
void hnswendscan(IndexScanDesc scan) {
  auto* so = static_cast<HnswScanState*>(scan->opaque);
  if (so->started)
    elog(DEBUG2,
         "hnsw scan: " INT64_FORMAT " elements read, " INT64_FORMAT
         " buffer reads, %zu bytes, " INT64_FORMAT " rows returned",
         so->search.loaded, so->search.reads, ScanMemory(so), so->returned);
  if (so->started) HnswSearchEnd(&so->search);
  MemoryContextDelete(so->ctx);
  pfree(so);
  scan->opaque = nullptr;
}

}  // extern "C"
