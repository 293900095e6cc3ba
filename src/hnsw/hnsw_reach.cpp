// ragstore hnsw: reachability of the layer-0 graph (what VACUUM's reachability pass and the
// debug check ragstore.debug_hnsw_graph use; see hnsw.h, HnswReach).
//
// An element is found by a search, or by the enumeration of an iterative scan, only if some
// path of layer-0 links leads to it from where the search starts. The invariant the index
// keeps (HnswAddLink in hnsw_insert.cpp for inserts, the pass in hnsw_vacuum.cpp for VACUUM):
// every live element is reachable on layer 0 from the entry point.
#include "hnsw/hnsw.h"
#include "pg/module.h"

#include "core/graph_reach.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace ragstore {
namespace hnsw {

namespace {

GraphRef RefOf(const HnswReach* r) { return {r->adj, r->count, 2 * r->m, r->n}; }

Buffer ReadWith(Relation index, BlockNumber blk, BufferAccessStrategy strategy) {
  return ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
}

}  // namespace

int64 HnswReachFind(const HnswReach* r, ItemPointer tid) {
  int64 lo = 0, hi = r->n - 1;
  while (lo <= hi) {
    int64 mid = (lo + hi) / 2;
    int c = ItemPointerCompare(&r->tids[mid], tid);
    if (c == 0) return mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

void HnswReachReload(Relation index, BufferAccessStrategy strategy, HnswReach* r, int64 i) {
  int slots = 2 * r->m;
  int32* out = r->adj + i * slots;
  r->count[i] = 0;
  ItemPointerData* ntid = &r->ntids[i];
  if (!BlockNumberIsValid(ItemPointerGetBlockNumber(ntid)) ||
      ItemPointerGetBlockNumber(ntid) == kHnswMetaBlock ||
      ItemPointerGetBlockNumber(ntid) >= r->nblocks)
    return;
  Buffer buf = ReadWith(index, ItemPointerGetBlockNumber(ntid), strategy);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  OffsetNumber off = ItemPointerGetOffsetNumber(ntid);
  ItemPointerData tids[2 * kMaxM];
  int n = 0;
  // a damaged tuple counts as no list (ragstore.verify_index names it)
  HnswTupleProblem problem;
  HnswNeighborTupleData* nt =
      HnswCheckNeighbors(page, ItemPointerGetBlockNumber(ntid), off, r->m, slots, &problem);
  for (int k = 0; nt != nullptr && k < slots && ItemPointerIsValid(&nt->tids[k]); k++)
    tids[n++] = nt->tids[k];
  UnlockReleaseBuffer(buf);
  for (int k = 0; k < n; k++) out[k] = static_cast<int32>(HnswReachFind(r, &tids[k]));
  r->count[i] = n;
}

int64 HnswReachWalk(HnswReach* r, int64 i) {
  int64 marked = MarkReachable(RefOf(r), i, r->reached, r->stack);
  r->nreached += marked;
  return marked;
}

bool HnswReachCollect(Relation index, BufferAccessStrategy strategy, Size max_bytes, HnswReach* r,
                      bool with_deleted) {
  HnswMetaPageData meta;
  HnswReadMeta(index, &meta);
  r->m = meta.m;
  r->n = 0;
  int64 cap = 1024;
  r->tids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * cap));
  r->ntids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * cap));
  r->levels = static_cast<uint8*>(palloc(cap));
  r->deleted = with_deleted ? static_cast<uint8*>(palloc(cap)) : nullptr;
  BlockNumber nblocks = RelationGetNumberOfBlocks(index);
  r->nblocks = nblocks;
  for (BlockNumber blk = 1; blk < nblocks; blk++) {
    CHECK_FOR_INTERRUPTS();
    Buffer buf = ReadWith(index, blk, strategy);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    OffsetNumber maxoff =
        HnswPageIsSane(page) && !HnswIsParamPage(page) ? PageGetMaxOffsetNumber(page) : 0;
    for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
      // a damaged tuple is skipped (ragstore.verify_index names it)
      HnswTupleProblem problem;
      HnswElementTupleData* e = HnswCheckElement(page, blk, off, 0, &problem);
      if (e == nullptr || (e->deleted && !with_deleted)) continue;
      if (r->n == cap) {
        cap *= 2;
        r->tids =
            static_cast<ItemPointerData*>(repalloc_huge(r->tids, sizeof(ItemPointerData) * cap));
        r->ntids =
            static_cast<ItemPointerData*>(repalloc_huge(r->ntids, sizeof(ItemPointerData) * cap));
        r->levels = static_cast<uint8*>(repalloc_huge(r->levels, cap));
        if (with_deleted) r->deleted = static_cast<uint8*>(repalloc_huge(r->deleted, cap));
      }
      ItemPointerSet(&r->tids[r->n], blk, off);
      r->ntids[r->n] = e->neighbortid;
      r->levels[r->n] = e->level;
      if (with_deleted) r->deleted[r->n] = e->deleted ? 1 : 0;
      r->n++;
    }
    UnlockReleaseBuffer(buf);
  }
  r->entry = -1;
  r->nreached = 0;
  if (HnswReachBytes(r->n, r->m) > max_bytes) return false;
  Size n = static_cast<Size>(r->n > 0 ? r->n : 1);
  r->adj = static_cast<int32*>(
      MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * 2 * r->m * n));
  r->count = static_cast<int32*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * n));
  r->reached = static_cast<uint8*>(MemoryContextAllocHuge(CurrentMemoryContext, n));
  r->stack = static_cast<int64*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * n));
  memset(r->reached, 0, n);
  for (int64 i = 0; i < r->n; i++) {
    if ((i & 1023) == 0) CHECK_FOR_INTERRUPTS();
    HnswReachReload(index, strategy, r, i);
  }
  r->nreached = 0;
  r->entry = -1;
  if (BlockNumberIsValid(meta.entry_blkno)) {
    ItemPointerData entry;
    ItemPointerSet(&entry, meta.entry_blkno, meta.entry_offno);
    r->entry = HnswReachFind(r, &entry);
  }
  if (r->entry >= 0) HnswReachWalk(r, r->entry);
  return true;
}

}  // namespace hnsw
}  // namespace ragstore

using namespace ragstore;
using namespace ragstore::hnsw;

extern "C" {

PG_FUNCTION_INFO_V1(ragstore_debug_hnsw_graph);
// ragstore.debug_hnsw_graph(index regclass, OUT elements bigint, OUT orphans bigint,
// OUT unreachable bigint): debug-only (ragstore.debug_functions must be on; superuser). Counts
// the live elements of an hnsw index, those with no layer-0 in-link from a live element
// (orphans) and those the entry point does not reach on layer 0 (unreachable: no search can
// return them). Holds the index's update lock exclusively while it reads every page, so
// inserts wait. Errors: 55000 when debug functions are off, 42809 when the relation is not an
// hnsw index.
Datum ragstore_debug_hnsw_graph(PG_FUNCTION_ARGS) {
  RequireDebugFunctions();
  Oid relid = PG_GETARG_OID(0);
  Relation index = index_open(relid, AccessShareLock);
  if (index->rd_indam == nullptr || index->rd_indam->ambuild != hnswbuild) {
    index_close(index, AccessShareLock);
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("\"%s\" is not an hnsw index", get_rel_name(relid))));
  }
  TupleDesc tupdesc;
  if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
    elog(ERROR, "return type must be a row type");
  MemoryContext ctx =
      AllocSetContextCreate(CurrentMemoryContext, "hnsw graph check", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(ctx);
  LockPage(index, kHnswUpdateLock, ExclusiveLock);
  HnswReach r;
  HnswReachCollect(index, nullptr, MaxAllocHugeSize, &r);
  UnlockPage(index, kHnswUpdateLock, ExclusiveLock);
  int64 orphans = 0;
  if (r.n > 0) {
    auto* indeg = static_cast<int32*>(MemoryContextAllocHuge(ctx, sizeof(int32) * r.n));
    CountInDegrees({r.adj, r.count, 2 * r.m, r.n}, indeg);
    for (int64 i = 0; i < r.n; i++)
      if (indeg[i] == 0 && i != r.entry) orphans++;
  }
  int64 elements = r.n, unreachable = r.n - r.nreached;
  MemoryContextSwitchTo(old);
  MemoryContextDelete(ctx);
  index_close(index, AccessShareLock);
  Datum values[3] = {Int64GetDatum(elements), Int64GetDatum(orphans), Int64GetDatum(unreachable)};
  bool nulls[3] = {false, false, false};
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

}  // extern "C"
