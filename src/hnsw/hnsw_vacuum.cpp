// ragstore hnsw: VACUUM (ambulkdelete, amvacuumcleanup).
//
// ambulkdelete holds the update lock exclusively (no insert runs meanwhile; scans go on) and
// works in four passes over the index, each page change in its own generic WAL record:
//   1. mark: the heap TIDs the callback reports dead leave their element (the others move up,
//      so the valid ones stay first); an element left with none gets deleted = 1 (it is never
//      returned again, scans still traverse it);
//   2. repair: a deleted entry point is replaced by a live element of the highest level; then
//      every live element with a deleted neighbour on some layer keeps that layer's live
//      neighbours and gives the deleted ones' slots to the candidates the selection heuristic
//      keeps among its live neighbours, the live neighbours of its deleted neighbours (the 2-hop
//      candidates that keep the graph connected) and what an insertion search for its value
//      finds (pgvector's candidates);
//   3. reachability: every live element the entry point cannot reach on layer 0 through live
//      elements (its only paths ran through deleted elements, or an insert was interrupted
//      between its steps) gets in-links
//      from its nearest reachable neighbours (HnswLinkUnreachable; amvacuumcleanup runs it too
//      when no bulk delete ran, so a plain VACUUM reconnects an insert-only index). Its read
//      of every element's layer-0 list happens before pass 2, which keeps it current;
//   4. reclaim: deleted elements, their neighbour tuples and code tuples are removed from their
//   pages
//      (line pointers stay, so no other TID moves) and the pages' free space goes to the free
//      space map, where inserts find it.
// A repair keeps every live link of the list it rewrites (only deleted members' slots get new
// neighbours), so a crash anywhere in passes 1-3 leaves every live element as reachable as
// before (deleted elements are traversed until pass 4). A cancel (statement_timeout,
// pg_cancel_backend, autovacuum giving way to a lock request) that arrives during passes 2-3
// stops the repairs and takes effect after pass 3.
// That wait never reads the whole index: pass 3 reads every list before pass 2 starts (a cancel
// still takes effect at once there), so what waits is the repairs done so far, a walk in memory
// and the links of what they cut off. Elsewhere a cancel takes effect within a page or element.
#include "hnsw/hnsw.h"

#include <utility>

extern "C" {
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

namespace ragstore {
namespace hnsw {
namespace {

struct LiveElement {
  ItemPointerData tid;
  ItemPointerData ntid;
  uint8 level;
};

struct VacuumState {
  IndexVacuumInfo* info;
  Relation index;
  HnswSupport sup;
  int m;
  HnswVisited deleted;  // TIDs of deleted elements
  LiveElement* live;
  int64 nlive;
  int64 live_cap;
  MemoryContext tmp_ctx;
};

Buffer ReadForVacuum(VacuumState* vs, BlockNumber blk) {
  return ReadBufferExtended(vs->index, MAIN_FORKNUM, blk, RBM_NORMAL, vs->info->strategy);
}

bool IsDeleted(VacuumState* vs, ItemPointer tid) {
  // HnswVisitedAdd inserts; test membership on a copy-free probe instead.
  uint64 key = ((static_cast<uint64>(ItemPointerGetBlockNumber(tid)) << 16) |
                ItemPointerGetOffsetNumber(tid)) +
               1;
  uint64 k = key;
  k ^= k >> 33;
  k *= UINT64CONST(0xff51afd7ed558ccd);
  k ^= k >> 33;
  uint32 i = static_cast<uint32>(k) & vs->deleted.mask;
  for (;;) {
    uint64 cur = vs->deleted.keys[i];
    if (cur == key) return true;
    if (cur == 0) return false;
    i = (i + 1) & vs->deleted.mask;
  }
}

// Pass 1: removes dead heap TIDs from elements and marks the elements left with none deleted;
// collects the live ones.
void MarkDeleted(VacuumState* vs, IndexBulkDeleteCallback callback, void* callback_state,
                 IndexBulkDeleteResult* stats) {
  BlockNumber nblocks = RelationGetNumberOfBlocks(vs->index);
  for (BlockNumber blk = 1; blk < nblocks; blk++) {
    vacuum_delay_point();
    Buffer buf = ReadForVacuum(vs, blk);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    OffsetNumber maxoff = HnswPageTupleSlots(vs->index, page, blk);
    if (maxoff == 0) {
      UnlockReleaseBuffer(buf);
      continue;
    }
    // Elements that lose heap TIDs: their offsets and the TIDs they keep (none: deleted).
    OffsetNumber changed[MaxOffsetNumber];
    int nkeep[MaxOffsetNumber];
    ItemPointerData* keep = static_cast<ItemPointerData*>(
        palloc(sizeof(ItemPointerData) * kHnswHeapTids * (maxoff + 1)));
    int nchanged = 0;
    for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
      HnswElementTupleData* e = HnswGetElement(vs->index, page, blk, off, vs->sup.stored_size);
      if (e == nullptr) continue;
      ItemPointerData tid;
      ItemPointerSet(&tid, blk, off);
      if (e->deleted) {
        HnswVisitedAdd(&vs->deleted, &tid);
        continue;
      }
      int ntids = HnswElementHeapTidCount(e);
      ItemPointerData* kept = keep + nchanged * kHnswHeapTids;
      int nkept = 0;
      for (int i = 0; i < ntids; i++) {
        if (callback(&e->heaptids[i], callback_state))
          stats->tuples_removed += 1;
        else
          kept[nkept++] = e->heaptids[i];
      }
      stats->num_index_tuples += nkept;
      if (nkept < ntids) {
        changed[nchanged] = off;
        nkeep[nchanged++] = nkept;
      }
      if (nkept == 0) {
        HnswVisitedAdd(&vs->deleted, &tid);
      } else {
        if (vs->nlive == vs->live_cap) {
          vs->live_cap *= 2;
          vs->live = static_cast<LiveElement*>(
              repalloc_huge(vs->live, sizeof(LiveElement) * static_cast<Size>(vs->live_cap)));
        }
        vs->live[vs->nlive++] = {tid, e->neighbortid, e->level};
      }
    }
    if (nchanged > 0) {
      HnswWriter w;
      HnswWriterStart(&w, vs->index, false);
      Page wpage = HnswWriterRegister(&w, buf, false);
      for (int i = 0; i < nchanged; i++) {
        HnswElementTupleData* e =
            HnswGetElement(vs->index, wpage, blk, changed[i], vs->sup.stored_size);
        HnswElementSetHeapTids(e, keep + i * kHnswHeapTids, nkeep[i]);
        if (nkeep[i] == 0) e->deleted = 1;
      }
      HnswWriterFinish(&w);
    }
    pfree(keep);
    UnlockReleaseBuffer(buf);
  }
}

// Copies the neighbour tuple at ntid into out (count slots, at most (kMaxLevel + 2) * m); false
// if missing.
bool CopyNeighbors(VacuumState* vs, ItemPointer ntid, ItemPointerData* out, int* count) {
  BlockNumber blk = ItemPointerGetBlockNumber(ntid);
  Buffer buf = ReadForVacuum(vs, blk);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  HnswNeighborTupleData* nt = HnswGetNeighbors(vs->index, BufferGetPage(buf), blk,
                                               ItemPointerGetOffsetNumber(ntid), vs->m, 0);
  if (nt != nullptr) {
    *count = nt->count;
    memcpy(out, nt->tids, sizeof(ItemPointerData) * nt->count);
  }
  UnlockReleaseBuffer(buf);
  return nt != nullptr;
}

// Copies the value of element tid (palloc'd), or nullptr when the slot holds no element.
char* CopyElementValue(Relation index, BufferAccessStrategy strategy, const HnswSupport* sup,
                       ItemPointer tid) {
  BlockNumber blk = ItemPointerGetBlockNumber(tid);
  Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  OffsetNumber off = ItemPointerGetOffsetNumber(tid);
  HnswElementTupleData* e = HnswGetElement(index, BufferGetPage(buf), blk, off, sup->stored_size);
  char* value = nullptr;
  if (e != nullptr) {
    Size sz = sup->code_head > 0 ? sup->payload_size : VARSIZE(HnswElementPayload(e));
    value = static_cast<char*>(palloc(sz));
    HnswTupleProblem problem;
    if (!HnswReadPayload(index, sup, blk, off, e, value, strategy, &problem))
      HnswTupleCorrupted(index, blk, off, problem);
  }
  UnlockReleaseBuffer(buf);
  return value;
}

// Pass 2: repairs neighbour lists that point at deleted elements.
// Adds to cands[n..cap) the live elements an insertion search for `value` finds on layer lc
// (greedy descent from the entry point, then ef_construction candidates on lc; deleted
// elements are traversed, never returned), skipping self and what `seen` holds. Returns the new
// count. As pgvector, which re-runs the insertion search for every element whose list lost a
// member: after many deletions the 2-hop candidates alone are mostly deleted or far (TAP 025
// checks recall after VACUUM of such an index).
int AddSearchCandidates(VacuumState* vs, const HnswMetaPageData& meta, int efc, const char* value,
                        ItemPointer self, int lc, HnswVisited* seen, HnswCandidate* cands, int n,
                        int cap) {
  if (!BlockNumberIsValid(meta.entry_blkno) || meta.entry_level < lc) return n;
  HnswSearch fs;
  HnswSearchInit(&fs, vs->index, &vs->sup, vs->m, HnswSearchQueryFromStored(&vs->sup, value));
  fs.copy_values = true;
  fs.skip_deleted_w = true;
  HnswCandidate seed[1];
  if (HnswEntryCandidate(&fs, &meta, &seed[0])) {
    HnswHeap C, W;
    HnswHeapInit(&C, efc * 4, false);
    HnswHeapInit(&W, efc + 1, true);
    int nseeds = HnswDescend(&fs, &C, &W, meta.entry_level, lc, 1, seed, 1);
    HnswSeedLayer(&fs, &C, &W, seed, nseeds);
    HnswSearchLayer(&fs, &C, &W, nullptr, efc, lc);
    while (W.size > 0 && n < cap) {
      HnswCandidate c = HnswHeapPop(&W);
      if (c.deleted || c.value == nullptr || ItemPointerEquals(&c.tid, self)) continue;
      if (!HnswVisitedAdd(seen, &c.tid)) continue;
      cands[n++] = c;
    }
  }
  HnswSearchEnd(&fs);
  return n;
}

// True when one of the n TIDs names an element pass 1 found deleted.
bool NamesDeleted(VacuumState* vs, ItemPointerData* tids, int n) {
  for (int k = 0; k < n; k++)
    if (ItemPointerIsValid(&tids[k]) && IsDeleted(vs, &tids[k])) return true;
  return false;
}

// The first candidates of a repaired list (values copied, distances from s's query): the live
// members of the layer's list (slots TIDs from `list`), and for each deleted member its live
// neighbours on this layer (whose level reaches lc). Each at most once (s->visited, which holds
// the element itself); at most cap. dtids: room for a neighbour tuple's slots. Returns the count.
int ListCandidates(VacuumState* vs, HnswSearch* s, const ItemPointerData* list, int start,
                   int slots, int lc, ItemPointerData* dtids, HnswCandidate* cands, int cap) {
  int n = 0;
  for (int k = 0; k < slots; k++) {
    ItemPointerData t = list[k];
    if (!ItemPointerIsValid(&t)) break;
    if (!IsDeleted(vs, &t)) {
      if (HnswVisitedAdd(&s->visited, &t) && HnswLoadElement(s, &t, &cands[n], true) &&
          !cands[n].deleted)
        n++;
      continue;
    }
    // a deleted neighbour: its live neighbours on this layer are candidates
    HnswCandidate d;
    if (!HnswLoadElement(s, &t, &d, false)) continue;
    int dcount = 0;
    if (!CopyNeighbors(vs, &d.ntid, dtids, &dcount)) continue;
    if (start + slots > dcount) continue;
    for (int j = 0; j < slots && n < cap; j++) {
      ItemPointerData* x = &dtids[start + j];
      if (!ItemPointerIsValid(x)) break;
      if (IsDeleted(vs, x)) continue;
      if (HnswVisitedAdd(&s->visited, x) && HnswLoadElement(s, x, &cands[n], true) &&
          !cands[n].deleted && cands[n].level >= lc)
        n++;
    }
  }
  return n;
}

// Chooses layer lc's new list of element le (value self_value, the query of search s) when its
// list in tids names a deleted element, into newtids: the list's live members stay, in their
// order, and the slots of deleted members go to the best candidates the selection heuristic
// keeps among those of ListCandidates and of an insertion search (AddSearchCandidates), nearest
// first. Keeping every live link means a repair only adds paths between live elements, so no
// repair, and no crash between two repairs, can leave a live element unreachable (a deleted
// member stays traversable until pass 4, after pass 3 has checked reachability).
void RepairLayer(VacuumState* vs, const HnswMetaPageData& meta, int efc, HnswSearch* s,
                 const char* self_value, LiveElement* le, int lc, ItemPointerData* tids,
                 ItemPointerData* dtids, ItemPointerData* newtids) {
  int m = vs->m;
  int start = HnswLayerStart(lc, m);
  int slots = HnswLayerSlots(lc, m);
  if (!NamesDeleted(vs, &tids[start], slots)) return;
  HnswVisitedReset(&s->visited);
  HnswVisitedAdd(&s->visited, &le->tid);
  int cap = slots + slots * 2 * m + efc + 1;
  auto* cands = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * cap));
  int n = ListCandidates(vs, s, &tids[start], start, slots, lc, dtids, cands, cap);
  n = AddSearchCandidates(vs, meta, efc, self_value, &le->tid, lc, &s->visited, cands, n, cap);
  auto* kept = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * slots));
  int nkept = HnswSelectNeighbors(&vs->sup, cands, n, slots, kept);
  int nnew = 0;
  for (int k = 0; k < slots; k++) {
    const ItemPointerData* t = &tids[start + k];
    if (!ItemPointerIsValid(t)) break;
    if (!IsDeleted(vs, const_cast<ItemPointer>(t))) newtids[start + nnew++] = *t;
  }
  const int nlive = nnew;
  for (int k = 0; k < nkept && nnew < slots; k++)
    if (!HnswTidIn(newtids + start, nlive, &kept[k].tid)) newtids[start + nnew++] = kept[k].tid;
  for (int k = nnew; k < slots; k++) ItemPointerSetInvalid(&newtids[start + k]);
}

// Writes the repaired lists newtids (count slots) into element le's neighbour tuple, only if
// it is still the one read (same slot count), in one generic WAL record.
void WriteRepairedLists(VacuumState* vs, LiveElement* le, const ItemPointerData* newtids,
                        int count) {
  Buffer buf = ReadForVacuum(vs, ItemPointerGetBlockNumber(&le->ntid));
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  Page page = BufferGetPage(buf);
  OffsetNumber off = ItemPointerGetOffsetNumber(&le->ntid);
  BlockNumber nblk = ItemPointerGetBlockNumber(&le->ntid);
  HnswNeighborTupleData* nt = HnswGetNeighbors(vs->index, page, nblk, off, vs->m, count);
  if (nt != nullptr && nt->count == count) {
    HnswWriter w;
    HnswWriterStart(&w, vs->index, false);
    Page wpage = HnswWriterRegister(&w, buf, false);
    memcpy(HnswGetNeighbors(vs->index, wpage, nblk, off, vs->m, count)->tids, newtids,
           sizeof(ItemPointerData) * count);
    HnswWriterFinish(&w);
  }
  UnlockReleaseBuffer(buf);
}

// Pass 2 for every live element whose lists name a deleted element: each such layer gets a new
// list (RepairLayer), written back at once. reach: the layer-0 lists read before the repairs
// (nullptr when they did not fit), updated for every list rewritten here.
void RepairNeighbors(VacuumState* vs, HnswReach* reach) {
  int m = vs->m;
  int efc = HnswGetEfConstruction(vs->index);
  HnswMetaPageData meta;  // the entry point is live again (RepairEntryPoint ran first)
  HnswReadMeta(vs->index, &meta);
  int max_slots = (kMaxLevel + 2) * m;
  auto* tids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * max_slots));
  auto* dtids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * max_slots));
  auto* newtids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * max_slots));
  for (int64 i = 0; i < vs->nlive; i++) {
    // A pending cancel stops the repairs here (the caller holds interrupts off until the
    // reachability pass has reconnected what the repairs so far cut off; lists still naming
    // deleted elements are fine, scans traverse those, and the next VACUUM repairs them).
    if (QueryCancelPending || ProcDiePending) break;
    vacuum_delay_point();
    LiveElement* le = &vs->live[i];
    int count = 0;
    if (!CopyNeighbors(vs, &le->ntid, tids, &count)) continue;
    if (!NamesDeleted(vs, tids, count)) continue;

    MemoryContext old = MemoryContextSwitchTo(vs->tmp_ctx);
    // The element's own value is the query of the candidate distances (only VACUUM removes
    // elements, so it is where pass 1 found it; a damaged slot raises XX002).
    const char* self_value = CopyElementValue(vs->index, vs->info->strategy, &vs->sup, &le->tid);
    if (self_value == nullptr) {
      MemoryContextSwitchTo(old);
      MemoryContextReset(vs->tmp_ctx);
      continue;
    }
    HnswSearch s;
    HnswSearchInit(&s, vs->index, &vs->sup, m, HnswSearchQueryFromStored(&vs->sup, self_value));
    memcpy(newtids, tids, sizeof(ItemPointerData) * count);
    for (int lc = 0; lc <= le->level; lc++) {
      if (HnswLayerStart(lc, m) + HnswLayerSlots(lc, m) > count) break;
      RepairLayer(vs, meta, efc, &s, self_value, le, lc, tids, dtids, newtids);
    }
    HnswSearchEnd(&s);
    MemoryContextSwitchTo(old);
    MemoryContextReset(vs->tmp_ctx);

    WriteRepairedLists(vs, le, newtids, count);
    if (reach != nullptr) {
      int64 idx = HnswReachFind(reach, &le->tid);
      if (idx >= 0) HnswReachReload(vs->index, vs->info->strategy, reach, idx);
    }
  }
}

// Replaces a deleted entry point with a live element of the highest level (or none).
void RepairEntryPoint(VacuumState* vs) {
  HnswMetaPageData meta;
  HnswReadMeta(vs->index, &meta);
  if (!BlockNumberIsValid(meta.entry_blkno)) return;
  ItemPointerData entry;
  ItemPointerSet(&entry, meta.entry_blkno, meta.entry_offno);
  if (!IsDeleted(vs, &entry)) return;
  int64 best = -1;
  for (int64 i = 0; i < vs->nlive; i++)
    if (best < 0 || vs->live[i].level > vs->live[best].level) best = i;
  if (best < 0)
    HnswUpdateMeta(vs->index, false, InvalidBlockNumber, true, nullptr, -1);
  else
    HnswUpdateMeta(vs->index, false, InvalidBlockNumber, true, &vs->live[best].tid,
                   vs->live[best].level);
}

}  // namespace

namespace {

// Reads the layer-0 lists of every live element into *r (HnswReachCollect, in the current
// memory context; it checks for interrupts page by page). When they do not fit
// maintenance_work_mem (design rule 5) it says so (NOTICE when notice_when_skipped) and returns
// false: the pass is skipped, the graph stays as it is (a REINDEX rebuilds it connected).
bool CollectForLinking(Relation index, BufferAccessStrategy strategy, HnswReach* r,
                       bool notice_when_skipped) {
  Size budget = static_cast<Size>(maintenance_work_mem) * 1024;
  if (HnswReachCollect(index, strategy, budget, r)) return true;
  if (notice_when_skipped)
    ereport(NOTICE, (errmsg("hnsw index \"%s\": reachability check skipped: %lld elements need "
                            "%zu kB, more than maintenance_work_mem",
                            RelationGetRelationName(index), static_cast<long long>(r->n),
                            HnswReachBytes(r->n, r->m) / 1024),
                     errhint("Increase maintenance_work_mem for VACUUM.")));
  return false;
}

// Walks r's layer-0 lists from the meta page's current entry point (in memory: no page is
// read), marking what it reaches; r.entry is -1 when the entry point is not among r's elements.
void WalkFromEntry(const HnswMetaPageData& meta, HnswReach& r) {
  r.entry = -1;
  r.nreached = 0;
  if (r.n > 0) memset(r.reached, 0, static_cast<Size>(r.n));
  if (BlockNumberIsValid(meta.entry_blkno)) {
    ItemPointerData entry;
    ItemPointerSet(&entry, meta.entry_blkno, meta.entry_offno);
    r.entry = HnswReachFind(&r, &entry);
  }
  if (r.entry >= 0) HnswReachWalk(&r, r.entry);
}

// The reachable live members of unreachable element u's own layer-0 list (the neighbours u
// chose at insertion), loaded with values and distances from u's value (to.value) into nbs,
// their dense numbers into idx. Returns their count.
int ReachableOwnNeighbors(Relation index, const HnswSupport* sup, HnswReach& r, int64 u,
                          const HnswCandidate& to, HnswCandidate* nbs, int64* idx) {
  int m = r.m;
  int n = 0;
  HnswSearch s;
  HnswSearchInit(&s, index, sup, m, HnswSearchQueryFromStored(sup, to.value));
  for (int k = 0; k < r.count[u]; k++) {
    int32 x = r.adj[u * 2 * m + k];
    if (x < 0 || !r.reached[x]) continue;
    if (HnswLoadElement(&s, &r.tids[x], &nbs[n], true) && !nbs[n].deleted) idx[n++] = x;
  }
  HnswSearchEnd(&s);
  return n;
}

// The nearest reachable live elements to u's value (to.value), at most 2m, from a layer-0
// search (ef_construction) seeded at the entry point: such a search only ever visits reachable
// elements (what the entry point reaches is closed under out-links), so its result is the
// nearest reachable elements even when u's whole group (e.g. many duplicates that fill each
// other's lists) is cut off. Fills nbs / idx as ReachableOwnNeighbors; returns the count.
int NearestReachable(Relation index, const HnswSupport* sup, const HnswMetaPageData& meta, int efc,
                     HnswReach& r, int64 u, const HnswCandidate& to, HnswCandidate* nbs,
                     int64* idx) {
  int m = r.m;
  int n = 0;
  HnswSearch fs;
  HnswSearchInit(&fs, index, sup, m, HnswSearchQueryFromStored(sup, to.value));
  fs.copy_values = true;
  fs.skip_deleted_w = true;
  HnswCandidate ep;
  if (HnswEntryCandidate(&fs, &meta, &ep)) {
    HnswHeap C, W;
    HnswHeapInit(&C, efc * 4, false);
    HnswHeapInit(&W, efc + 1, true);
    HnswHeapPush(&C, ep);
    if (!ep.deleted) HnswHeapPush(&W, ep);
    HnswSearchLayer(&fs, &C, &W, nullptr, efc, 0);
    HnswCandidate* found =
        static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * (W.size + 1)));
    int nfound = 0;
    while (W.size > 0) found[nfound++] = HnswHeapPop(&W);
    for (int k = nfound - 1; k >= 0 && n < 2 * m; k--) {  // W pops farthest first
      int64 x = HnswReachFind(&r, &found[k].tid);
      if (x < 0 || x == u || !r.reached[x] || found[k].deleted || found[k].value == nullptr)
        continue;
      nbs[n] = found[k];
      idx[n++] = x;
    }
  }
  HnswSearchEnd(&fs);
  return n;
}

// Links unreachable element u (to) from the nearest kMaxLinks of the n reachable elements nbs
// (dense numbers idx) with HnswLinkFromNeighbors, re-reads the lists it changed into r (in
// memory context ctx) and, when one of them now holds u, walks on from u. True when u became
// reachable.
bool LinkFromNearest(Relation index, BufferAccessStrategy strategy, const HnswSupport* sup,
                     MemoryContext ctx, HnswReach& r, int64 u, const HnswCandidate& to,
                     HnswCandidate* nbs, int64* idx, int n) {
  constexpr int kMaxLinks = 3;  // in-links added per unreachable element
  int m = r.m;
  // nearest first, at most kMaxLinks
  for (int a = 1; a < n; a++)
    for (int b = a; b > 0 && nbs[b - 1].distance > nbs[b].distance; b--) {
      std::swap(nbs[b - 1], nbs[b]);
      std::swap(idx[b - 1], idx[b]);
    }
  if (n > kMaxLinks) n = kMaxLinks;
  // u's own out-links may make room for the victims moved to u (see HnswAddLink)
  ItemPointerData own[2 * kMaxM];
  int nown = 0;
  for (int k = 0; k < r.count[u]; k++)
    if (r.adj[u * 2 * m + k] >= 0) own[nown++] = r.tids[r.adj[u * 2 * m + k]];
  if (!HnswLinkFromNeighbors(index, sup, m, false, nbs, n, to, 0, own, nown)) return false;
  MemoryContextSwitchTo(ctx);
  for (int k = 0; k < n; k++) HnswReachReload(index, strategy, &r, idx[k]);
  HnswReachReload(index, strategy, &r, u);
  // u is reachable only if one of the lists now holds it (the link may have been refused on
  // every neighbour)
  bool holds = false;
  for (int k = 0; k < n && !holds; k++)
    for (int j = 0; j < r.count[idx[k]] && !holds; j++) holds = r.adj[idx[k] * 2 * m + j] == u;
  if (holds) HnswReachWalk(&r, u);
  return holds;
}

// The linking part of HnswLinkUnreachable, on lists already collected in *r (kept current by
// the caller for every list it rewrote since). Walks the lists again from the meta page's
// current entry point, then, in up to four rounds, links each unreachable element from its
// reachable own neighbours, else (from the second round on) from the nearest reachable
// elements. Returns the number of elements it linked.
int64 LinkUnreachableCollected(Relation index, BufferAccessStrategy strategy,
                               const HnswSupport* sup, HnswReach& r) {
  MemoryContext ctx = CurrentMemoryContext;
  MemoryContext tmp =
      AllocSetContextCreate(ctx, "hnsw reachability element", ALLOCSET_DEFAULT_SIZES);
  int64 linked = 0;
  HnswMetaPageData meta;
  HnswReadMeta(index, &meta);
  WalkFromEntry(meta, r);
  int efc = HnswGetEfConstruction(index);
  for (int round = 0; round < 4 && r.entry >= 0 && r.nreached < r.n; round++) {
    bool changed = false;
    for (int64 u = 0; u < r.n; u++) {
      if (r.reached[u]) continue;
      vacuum_delay_point();
      MemoryContextSwitchTo(tmp);
      HnswCandidate to;
      to.tid = r.tids[u];
      to.ntid = r.ntids[u];
      to.level = r.levels[u];
      to.deleted = false;
      to.value = CopyElementValue(index, strategy, sup, &to.tid);
      int64 idx[2 * kMaxM];
      HnswCandidate nbs[2 * kMaxM];
      int n = 0;
      if (to.value != nullptr) {
        n = ReachableOwnNeighbors(index, sup, r, u, to, nbs, idx);
        if (n == 0 && round > 0) n = NearestReachable(index, sup, meta, efc, r, u, to, nbs, idx);
      }
      if (n > 0 && LinkFromNearest(index, strategy, sup, ctx, r, u, to, nbs, idx, n)) {
        linked++;
        changed = true;
      }
      MemoryContextSwitchTo(ctx);
      MemoryContextReset(tmp);
    }
    if (!changed && round > 0) break;
  }
  MemoryContextDelete(tmp);
  return linked;
}

}  // namespace

// Reachability pass: every live element the entry point cannot reach on layer 0 gets in-links.
// The repair above chooses new lists with the heuristic and can drop the last in-link of an
// element (so can a crash between two steps of an old insert, or an insert's forced link that
// found no room); this pass makes VACUUM a complete fix for all of them. It reads every page
// once (the sequential scan VACUUM does anyway) to get the layer-0 lists, walks them from the
// entry point (core/graph_reach.h), then links each unreachable element u from its nearest
// reachable neighbours with HnswAddLink (which never strands another element): first from
// the reachable members of u's own list (the neighbours u chose at insertion; HNSW's links
// are meant to be mutual), else (from the second round on) from the nearest elements a layer-0
// search seeded at the entry point finds (HNSW alg. 2 on layer 0). Each newly
// linked element extends the walk. Called with the update lock held exclusively. Returns the
// number of elements it linked. Also run at the end of a build (hnsw_build.cpp), which catches
// what the in-memory builder's own repair (HnswGraph::EnsureInLinks) cannot: groups of
// elements, such as many duplicates, whose lists hold no reachable element.
int64 HnswLinkUnreachable(Relation index, BufferAccessStrategy strategy, const HnswSupport* sup,
                          bool notice_when_skipped) {
  MemoryContext ctx =
      AllocSetContextCreate(CurrentMemoryContext, "hnsw reachability", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(ctx);
  HnswReach r;
  int64 linked = 0;
  if (CollectForLinking(index, strategy, &r, notice_when_skipped))
    linked = LinkUnreachableCollected(index, strategy, sup, r);
  MemoryContextSwitchTo(old);
  MemoryContextDelete(ctx);
  return linked;
}

namespace {

// Pass 4: removes deleted elements, their neighbour tuples and (wide codes) their code tuples;
// records free space.
void Reclaim(VacuumState* vs, IndexBulkDeleteResult* stats) {
  BlockNumber nblocks = RelationGetNumberOfBlocks(vs->index);
  // Neighbour tuples of deleted elements that live on another page than their element.
  int64 nfar = 0, far_cap = 64;
  auto* far = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * far_cap));
  for (int pass = 0; pass < 2; pass++) {
    for (BlockNumber blk = 1; blk < nblocks; blk++) {
      vacuum_delay_point();
      Buffer buf = ReadForVacuum(vs, blk);
      LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
      Page page = BufferGetPage(buf);
      OffsetNumber maxoff = HnswPageTupleSlots(vs->index, page, blk);
      if (maxoff == 0) {
        UnlockReleaseBuffer(buf);
        continue;
      }
      OffsetNumber remove[MaxOffsetNumber];
      int nremove = 0;
      if (pass == 0) {
        for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
          HnswElementTupleData* e = HnswGetElement(vs->index, page, blk, off, vs->sup.stored_size);
          if (e == nullptr || !e->deleted) continue;
          remove[nremove++] = off;
          if (vs->sup.code_head > 0) {
            // a wide element's code tuple (always on another page, hnsw_page.h)
            if (nfar == far_cap) {
              far_cap *= 2;
              far = static_cast<ItemPointerData*>(
                  repalloc_huge(far, sizeof(ItemPointerData) * far_cap));
            }
            far[nfar++] = reinterpret_cast<const HnswWidePayload*>(HnswElementPayload(e) + VARHDRSZ)
                              ->code_tid;
          }
          if (ItemPointerGetBlockNumber(&e->neighbortid) == blk) {
            remove[nremove++] = ItemPointerGetOffsetNumber(&e->neighbortid);
          } else {
            if (nfar == far_cap) {
              far_cap *= 2;
              far = static_cast<ItemPointerData*>(
                  repalloc_huge(far, sizeof(ItemPointerData) * far_cap));
            }
            far[nfar++] = e->neighbortid;
          }
        }
      } else {
        for (int64 i = 0; i < nfar; i++)
          if (ItemPointerGetBlockNumber(&far[i]) == blk)
            remove[nremove++] = ItemPointerGetOffsetNumber(&far[i]);
      }
      if (nremove > 0) {
        HnswWriter w;
        HnswWriterStart(&w, vs->index, false);
        Page wpage = HnswWriterRegister(&w, buf, false);
        // highest offsets first: removing the last line pointer shortens the array
        for (int a = 1; a < nremove; a++)
          for (int b = a; b > 0 && remove[b - 1] < remove[b]; b--)
            std::swap(remove[b - 1], remove[b]);
        for (int k = 0; k < nremove; k++) {
          OffsetNumber off = remove[k];
          if (off > PageGetMaxOffsetNumber(wpage) || !ItemIdIsNormal(PageGetItemId(wpage, off)))
            continue;
          PageIndexTupleDeleteNoCompact(wpage, off);
        }
        PageSetHasFreeLinePointers(wpage);
        HnswWriterFinish(&w);
      }
      Size avail = PageGetExactFreeSpace(page);
      UnlockReleaseBuffer(buf);
      if (pass == 1 || nfar == 0) RecordPageWithFreeSpace(vs->index, blk, avail);
    }
    if (nfar == 0) break;
  }
  IndexFreeSpaceMapVacuum(vs->index);
  stats->num_pages = nblocks;
}

}  // namespace
}  // namespace hnsw
}  // namespace ragstore

using namespace ragstore::hnsw;

extern "C" {

// ambulkdelete: removes the elements of dead heap rows and repairs the graph (see above).
IndexBulkDeleteResult* hnswbulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                      IndexBulkDeleteCallback callback, void* callback_state) {
  Relation index = info->index;
  if (stats == nullptr)
    stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
  MemoryContext ctx =
      AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(ctx);
  auto* vs = static_cast<VacuumState*>(palloc0(sizeof(VacuumState)));
  vs->info = info;
  vs->index = index;
  HnswInitSupport(index, &vs->sup);
  HnswLoadQuantizer(index, &vs->sup);
  vs->m = HnswGetM(index);
  HnswVisitedInit(&vs->deleted, 1024);
  vs->live_cap = 1024;
  vs->live =
      static_cast<LiveElement*>(MemoryContextAllocHuge(ctx, sizeof(LiveElement) * vs->live_cap));
  vs->tmp_ctx = AllocSetContextCreate(ctx, "hnsw vacuum element", ALLOCSET_DEFAULT_SIZES);

  LockPage(index, kHnswUpdateLock, ExclusiveLock);
  stats->num_index_tuples = 0;
  MarkDeleted(vs, callback, callback_state, stats);
  // A repair can take the last in-link of a live element (see HnswLinkUnreachable): from the
  // first repair until the reachability pass has linked such elements again, a cancel or a
  // termination waits, else a cancelled VACUUM would leave rows that no search returns until
  // the next one. So that the wait stays short, the pass's one read of every page comes first,
  // while a cancel still takes effect at once (nothing has been repaired yet); the repairs keep
  // those lists current and stop early when a cancel is pending; what runs with interrupts
  // held is then the repairs done so far, a walk in memory and the links of what they cut off.
  int64 linked = 0;
  if (vs->deleted.count > 0) {
    HnswReach reach;
    bool collected = CollectForLinking(index, info->strategy, &reach, true);
    HOLD_INTERRUPTS();
    RepairEntryPoint(vs);
    RepairNeighbors(vs, collected ? &reach : nullptr);
    if (collected) linked = LinkUnreachableCollected(index, info->strategy, &vs->sup, reach);
    RESUME_INTERRUPTS();
    CHECK_FOR_INTERRUPTS();
  } else {
    linked = HnswLinkUnreachable(index, info->strategy, &vs->sup, true);
  }
  if (vs->deleted.count > 0) Reclaim(vs, stats);
  UnlockPage(index, kHnswUpdateLock, ExclusiveLock);
  if (linked > 0)
    ereport(info->message_level,
            (errmsg("hnsw index \"%s\": linked %lld unreachable elements",
                    RelationGetRelationName(index), static_cast<long long>(linked))));
  stats->num_pages = RelationGetNumberOfBlocks(index);
  MemoryContextSwitchTo(old);
  MemoryContextDelete(ctx);
  return stats;
}

// amvacuumcleanup: statistics (when no bulk delete ran, an estimate from the heap).
IndexBulkDeleteResult* hnswvacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats) {
  if (info->analyze_only) return stats;
  if (stats == nullptr) {
    // No bulk delete ran (nothing to remove): still run the reachability pass, so that a plain
    // VACUUM also reconnects what inserts could not (see HnswLinkUnreachable).
    stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
    stats->num_index_tuples = info->num_heap_tuples;
    stats->estimated_count = info->estimated_count;
    Relation index = info->index;
    MemoryContext ctx =
        AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum cleanup", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(ctx);
    HnswSupport sup;
    HnswInitSupport(index, &sup);
    HnswLoadQuantizer(index, &sup);
    LockPage(index, kHnswUpdateLock, ExclusiveLock);
    int64 linked = HnswLinkUnreachable(index, info->strategy, &sup, true);
    UnlockPage(index, kHnswUpdateLock, ExclusiveLock);
    MemoryContextSwitchTo(old);
    MemoryContextDelete(ctx);
    if (linked > 0)
      ereport(info->message_level,
              (errmsg("hnsw index \"%s\": linked %lld unreachable elements",
                      RelationGetRelationName(index), static_cast<long long>(linked))));
  }
  stats->num_pages = RelationGetNumberOfBlocks(info->index);
  return stats;
}

}  // extern "C"
