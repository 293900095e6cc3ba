// ragstore hnsw: aminsert and the on-disk insertion of one element (also used by builds whose
// graph outgrows maintenance_work_mem, and for types FAISS cannot build).
//
// Insertion follows HNSW (Malkov & Yashunin 2016, alg. 1): draw a level, descend greedily from
// the entry point, then on each layer from min(level, entry level) down to 0 search with
// ef_construction and keep neighbours with the selection heuristic. The element and its
// neighbour tuple are written first (one generic WAL record), then each neighbour gets a back
// link (HnswAddLink: a free slot, or a full list gives up the one member the heuristic drops,
// which first moves into the new element's list, so no element ever loses its last in-link),
// then the entry point moves if the new element is higher. A value equal to that of an element
// the layer-0 search found (hnsw_page.h, "Duplicates") only adds its heap TID to that element
// when it has room (AddDuplicate). Locks and WAL: see hnsw_page.h.
#include "hnsw/hnsw.h"

#include <algorithm>

#include <cmath>

extern "C" {
#include "access/tableam.h"
#include "catalog/index.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "executor/executor.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace ragstore {
namespace hnsw {

int HnswRandomLevel(int m) {
  double ml = 1.0 / std::log(static_cast<double>(m));
  double r = pg_prng_double(&pg_global_prng_state);
  if (r <= 0) r = 1e-300;
  int level = static_cast<int>(-std::log(r) * ml);
  // Cap so that the neighbour tuple ((level + 2) * m TIDs) always fits on a page.
  int cap = static_cast<int>((HnswEmptyPageSpace() - 64) / (sizeof(ItemPointerData) * m)) - 2;
  if (cap > kMaxLevel) cap = kMaxLevel;
  return level > cap ? cap : level;
}

namespace {

// Buffer of block blk locked exclusively when it is a data page with `need` free bytes, not in
// avoid[0..navoid); else InvalidBuffer, with the page's free space in *avail when it was read
// (else 0). wait: the lock is waited for (the caller holds none); else only
// ConditionalLockBuffer, and *busy when another backend held the page.
Buffer TryPage(Relation index, BlockNumber blk, Size need, const BlockNumber* avoid, int navoid,
               bool wait, Size* avail, bool* busy) {
  *avail = 0;
  *busy = false;
  if (!BlockNumberIsValid(blk) || blk == kHnswMetaBlock) return InvalidBuffer;
  for (int i = 0; i < navoid; i++)
    if (blk == avoid[i]) return InvalidBuffer;  // the caller's: being filled
  Buffer buf = ReadBuffer(index, blk);
  if (wait) {
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  } else if (!ConditionalLockBuffer(buf)) {
    ReleaseBuffer(buf);
    *busy = true;
    return InvalidBuffer;
  }
  Page page = BufferGetPage(buf);
  if (HnswPageIsSane(page) && !HnswIsParamPage(page)) {
    *avail = PageGetExactFreeSpace(page);
    if (*avail >= need) return buf;
  }
  UnlockReleaseBuffer(buf);
  return InvalidBuffer;
}

// A data page for tuples of `need` bytes (with their line pointers), exclusively locked: a page
// of the free space map (space VACUUM freed), else `hint` (the meta page's insert page, the last
// page that had room), else a new page (*is_new; not initialised). Blocks in avoid[0..navoid)
// are not taken. wait: the caller holds no lock, so locks are waited for (an element's page);
// else the caller holds its first page's lock (hnsw_page.h, "Locks": never a wait while holding
// a lock), so a page is taken only when ConditionalLockBuffer gets it, at most 8 pages of the
// free space map are tried, and a busy one ends the search there.
Buffer PageWithRoom(Relation index, BlockNumber hint, Size need, const BlockNumber* avoid,
                    int navoid, bool wait, bool* is_new) {
  *is_new = false;
  Size avail;
  bool busy;
  BlockNumber blk = GetPageWithFreeSpace(index, need);
  for (int tries = 0; BlockNumberIsValid(blk) && (wait || tries < 8); tries++) {
    Buffer buf = TryPage(index, blk, need, avoid, navoid, wait, &avail, &busy);
    if (BufferIsValid(buf)) return buf;
    if (busy) break;  // another backend's: not this time
    // too small, or one of the caller's pages (whose room the caller is using up)
    blk = RecordAndGetPageWithFreeSpace(index, blk, avail, need);
  }
  Buffer buf = TryPage(index, hint, need, avoid, navoid, wait, &avail, &busy);
  if (BufferIsValid(buf)) return buf;
  *is_new = true;
  return HnswNewBuffer(index);
}

// Places the element and neighbour tuples (and a wide element's code tuple ctup, csize bytes,
// or nullptr), returns the element's TID in *etid and its neighbour tuple's in *ntid.
// Chooses a page with room for the element and its neighbour tuple (PageWithRoom, waiting for
// its lock); when both cannot share an empty page the neighbour tuple goes on a second page
// (PageWithRoom without waiting). A code tuple goes on a second page, with the neighbour tuple
// when both fit an empty page. One generic WAL record for all of them.
void WriteElement(Relation index, bool building, HnswElementTupleData* etup, Size esize,
                  HnswNeighborTupleData* ntup, Size nsize, HnswCodeTupleData* ctup, Size csize,
                  ItemPointer etid, ItemPointer ntid) {
  const Size lp = sizeof(ItemIdData);
  Size both = esize + nsize + 2 * lp;
  bool together = ctup == nullptr && both <= HnswEmptyPageSpace();
  // The neighbour tuple joins the code tuple only with room to spare for two line pointers:
  // a page VACUUM emptied keeps its unused line pointers, so an exact fit would never reuse one.
  bool with_code = ctup != nullptr && csize + nsize + 4 * lp <= HnswEmptyPageSpace();
  Size need = together ? both : esize + lp;
  HnswMetaPageData meta;
  HnswReadMeta(index, &meta);
  bool is_new;
  Buffer buf = PageWithRoom(index, meta.insert_page, need, nullptr, 0, true, &is_new);
  BlockNumber extended = is_new ? BufferGetBlockNumber(buf) : InvalidBlockNumber;

  // The code tuple's page (with the neighbour tuple when both fit), then the neighbour tuple's.
  BlockNumber avoid[2] = {BufferGetBlockNumber(buf), InvalidBlockNumber};
  Buffer cbuf = InvalidBuffer;
  bool cnew = false;
  if (ctup != nullptr) {
    cbuf = PageWithRoom(index, meta.insert_page, csize + lp + (with_code ? nsize + lp : 0), avoid,
                        1, false, &cnew);
    avoid[1] = BufferGetBlockNumber(cbuf);
    if (cnew) extended = avoid[1];
  }
  Buffer nbuf = InvalidBuffer;
  bool nnew = false;
  if (!together && !with_code) {
    nbuf = PageWithRoom(index, meta.insert_page, nsize + lp, avoid, ctup != nullptr ? 2 : 1, false,
                        &nnew);
    if (nnew) extended = BufferGetBlockNumber(nbuf);
  }

  HnswWriter w;
  HnswWriterStart(&w, index, building);
  Page page = HnswWriterRegister(&w, buf, is_new);
  if (is_new) HnswInitDataPage(page);
  Page cpage = nullptr;
  if (BufferIsValid(cbuf)) {
    cpage = HnswWriterRegister(&w, cbuf, cnew);
    if (cnew) HnswInitDataPage(cpage);
  }
  Page npage = together ? page : with_code ? cpage : nullptr;
  if (BufferIsValid(nbuf)) {
    npage = HnswWriterRegister(&w, nbuf, nnew);
    if (nnew) HnswInitDataPage(npage);
  }
  Buffer ntarget = together ? buf : with_code ? cbuf : nbuf;
  OffsetNumber eoff =
      PageAddItem(page, reinterpret_cast<Item>(etup), esize, InvalidOffsetNumber, false, false);
  OffsetNumber noff =
      PageAddItem(npage, reinterpret_cast<Item>(ntup), nsize, InvalidOffsetNumber, false, false);
  OffsetNumber coff = FirstOffsetNumber;
  if (ctup != nullptr) {
    ItemPointerSet(&ctup->owner, BufferGetBlockNumber(buf), eoff);
    coff =
        PageAddItem(cpage, reinterpret_cast<Item>(ctup), csize, InvalidOffsetNumber, false, false);
  }
  if (eoff == InvalidOffsetNumber || noff == InvalidOffsetNumber || coff == InvalidOffsetNumber)
    elog(ERROR, "hnsw: failed to add index item to \"%s\"", RelationGetRelationName(index));
  HnswElementTupleData* placed = HnswGetElement(index, page, BufferGetBlockNumber(buf), eoff, 0);
  ItemPointerSet(&placed->neighbortid, BufferGetBlockNumber(ntarget), noff);
  if (ctup != nullptr)
    ItemPointerSet(
        &reinterpret_cast<HnswWidePayload*>(HnswElementPayload(placed) + VARHDRSZ)->code_tid,
        BufferGetBlockNumber(cbuf), coff);
  ItemPointerSet(etid, BufferGetBlockNumber(buf), eoff);
  *ntid = placed->neighbortid;
  HnswWriterFinish(&w);
  UnlockReleaseBuffer(buf);
  if (BufferIsValid(cbuf)) UnlockReleaseBuffer(cbuf);
  if (BufferIsValid(nbuf)) UnlockReleaseBuffer(nbuf);
  if (BlockNumberIsValid(extended)) HnswUpdateMeta(index, building, extended, false, nullptr, 0);
}

// The neighbour tuple `off` of locked buffer buf, read on `page` (the buffer's page or a writer's
// copy of it), when it holds the slots [start, start + slots); nullptr when it is gone. Errors:
// XX002 for a damaged page or tuple (HnswGetNeighbors).
HnswNeighborTupleData* NeighborTupleAt(Relation index, int m, Buffer buf, Page page,
                                       OffsetNumber off, int start, int slots) {
  return HnswGetNeighbors(index, page, BufferGetBlockNumber(buf), off, m, start + slots);
}

// Copies the valid TIDs of layer lc of the neighbour tuple at ntid (share lock); returns their
// count (0 when the tuple is gone).
int ReadLayerList(Relation index, int m, ItemPointer ntid, int lc, ItemPointerData* out) {
  int start = HnswLayerStart(lc, m);
  int slots = HnswLayerSlots(lc, m);
  Buffer buf = ReadBuffer(index, ItemPointerGetBlockNumber(ntid));
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  HnswNeighborTupleData* nt = NeighborTupleAt(index, m, buf, BufferGetPage(buf),
                                              ItemPointerGetOffsetNumber(ntid), start, slots);
  int n = 0;
  for (int i = 0; nt != nullptr && i < slots && ItemPointerIsValid(&nt->tids[start + i]); i++)
    out[n++] = nt->tids[start + i];
  UnlockReleaseBuffer(buf);
  return n;
}

// Puts each of the n TIDs into layer lc of the neighbour tuple at ntid unless it is there
// already, using free slots (lists stay contiguous), else the slots of the last listed members
// of `replaceable` still in the list (invalid entries are skipped). placed[i] tells whether
// tids[i] is in the list afterwards. One page lock and at most one generic WAL record.
void AddToList(Relation index, bool building, int m, ItemPointer ntid, int lc,
               const ItemPointerData* tids, int n, const ItemPointerData* replaceable, int nrep,
               bool* placed) {
  int start = HnswLayerStart(lc, m);
  int slots = HnswLayerSlots(lc, m);
  OffsetNumber off = ItemPointerGetOffsetNumber(ntid);
  for (int i = 0; i < n; i++) placed[i] = false;
  Buffer buf = ReadBuffer(index, ItemPointerGetBlockNumber(ntid));
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  if (NeighborTupleAt(index, m, buf, BufferGetPage(buf), off, start, slots) == nullptr) {
    UnlockReleaseBuffer(buf);
    return;
  }
  // Decide on a copy of the list, then write only if something changes.
  ItemPointerData list[2 * kMaxM];
  memcpy(list, NeighborTupleAt(index, m, buf, BufferGetPage(buf), off, start, slots)->tids + start,
         sizeof(ItemPointerData) * slots);
  bool changed = false;
  for (int i = 0; i < n; i++) {
    int slot = -1;
    for (int k = 0; k < slots && slot < 0 && !placed[i]; k++) {
      if (!ItemPointerIsValid(&list[k]))
        slot = k;
      else if (ItemPointerEquals(&list[k], const_cast<ItemPointer>(&tids[i])))
        placed[i] = true;
    }
    for (int r = nrep - 1; r >= 0 && slot < 0 && !placed[i]; r--)
      for (int k = 0; k < slots && slot < 0; k++)
        if (ItemPointerIsValid(&replaceable[r]) &&
            ItemPointerEquals(&list[k], const_cast<ItemPointer>(&replaceable[r])))
          slot = k;
    if (slot >= 0) {
      list[slot] = tids[i];
      placed[i] = true;
      changed = true;
    }
  }
  if (changed) {
    HnswWriter w;
    HnswWriterStart(&w, index, building);
    Page wpage = HnswWriterRegister(&w, buf, false);
    memcpy(NeighborTupleAt(index, m, buf, wpage, off, start, slots)->tids + start, list,
           sizeof(ItemPointerData) * slots);
    HnswWriterFinish(&w);
  }
  UnlockReleaseBuffer(buf);
}

// True when the table row heaptid (any version: SnapshotAny, as the index entry was made for
// it) still exists and its prepared indexed value is `value`, byte for byte. False when the row
// is gone (pruned) or an index expression has not been prepared by the caller's executor.
bool RowHasValue(HnswRowReader* r, const HnswSupport* sup, ItemPointer heaptid, const char* value) {
  IndexInfo* ii = r->index_info;
  if (ii->ii_Expressions != NIL && ii->ii_ExpressionsState == NIL) return false;
  if (r->estate == nullptr) {
    MemoryContext old = MemoryContextSwitchTo(r->cxt);
    r->estate = CreateExecutorState();
    r->slot = table_slot_create(r->heap, nullptr);
    r->fetch = table_index_fetch_begin(r->heap);
    GetPerTupleExprContext(r->estate)->ecxt_scantuple = r->slot;
    MemoryContextSwitchTo(old);
  }
  bool call_again = false, all_dead = false;
  ItemPointerData tid = *heaptid;
  if (!table_index_fetch_tuple(r->fetch, &tid, SnapshotAny, r->slot, &call_again, &all_dead))
    return false;
  Datum values[INDEX_MAX_KEYS];
  bool isnull[INDEX_MAX_KEYS];
  FormIndexDatum(ii, r->slot, r->estate, values, isnull);
  bool equal = false;
  if (!isnull[0]) {
    const char* row_value = HnswPrepareValue(sup, values[0], true);
    equal = row_value != nullptr && HnswValuesEqual(row_value, value);
  }
  ExecClearTuple(r->slot);
  ResetPerTupleExprContext(r->estate);
  return equal;
}

// Adds heaptid to the element `dup` (a live element whose payload equals `payload`: for a wide
// code, HnswStoredPayloadMatches on the part in the element, the caller compared the rest; and,
// when `witness` is given, that still holds that heap TID) under its page's exclusive lock, in one
// generic WAL record; false when it no longer qualifies (deleted, another payload, the witness
// gone) or has no free slot.
bool AddDuplicate(Relation index, const HnswSupport* sup, bool building, const HnswCandidate& dup,
                  const char* payload, const ItemPointerData* witness, ItemPointer heaptid) {
  Buffer buf = ReadBuffer(index, ItemPointerGetBlockNumber(&dup.tid));
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  Page page = BufferGetPage(buf);
  OffsetNumber off = ItemPointerGetOffsetNumber(&dup.tid);
  BlockNumber blk = BufferGetBlockNumber(buf);
  bool added = false;
  HnswElementTupleData* e = HnswGetElement(index, page, blk, off, 0);
  int n = e != nullptr && !e->deleted ? HnswElementHeapTidCount(e) : 0;
  bool witnessed = witness == nullptr;
  for (int i = 0; i < n && !witnessed; i++)
    witnessed = ItemPointerEquals(&e->heaptids[i], const_cast<ItemPointer>(witness));
  if (n > 0 && n < kHnswHeapTids && witnessed &&
      HnswStoredPayloadMatches(sup, HnswElementPayload(e), payload)) {
    HnswWriter w;
    HnswWriterStart(&w, index, building);
    Page wpage = HnswWriterRegister(&w, buf, false);
    HnswElementHeapTids(HnswGetElement(index, wpage, blk, off, 0))[n] = *heaptid;
    HnswWriterFinish(&w);
    added = true;
  }
  UnlockReleaseBuffer(buf);
  return added;
}

// Removes tid from `replaceable` (see HnswAddLink).
void Protect(ItemPointerData* replaceable, int nrep, const ItemPointerData* tid) {
  for (int r = 0; r < nrep; r++)
    if (ItemPointerIsValid(&replaceable[r]) &&
        ItemPointerEquals(&replaceable[r], const_cast<ItemPointer>(tid)))
      ItemPointerSetInvalid(&replaceable[r]);
}

enum class LinkStep { kDone, kRejected, kReplace };

// First half of a link from -> to: reads from's list; kDone when `to` is in it or took a free
// slot (written), kRejected when the list is gone or the heuristic drops `to` (and not force),
// else kReplace with the slot that gives way in *victim. In every case current[0..*count_out)
// is the list as read (up to `to` when it was there already; without the new link).
LinkStep PlanLink(Relation index, const HnswSupport* sup, int m, bool building,
                  const HnswCandidate& from, const HnswCandidate& to, int lc, bool force,
                  const ItemPointerData* to_list, int nto, ItemPointerData* current, int* count_out,
                  int* victim_out) {
  int start = HnswLayerStart(lc, m);
  int slots = HnswLayerSlots(lc, m);
  OffsetNumber off = ItemPointerGetOffsetNumber(&from.ntid);
  int count = 0;
  Buffer buf = ReadBuffer(index, ItemPointerGetBlockNumber(&from.ntid));
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  HnswNeighborTupleData* nt = NeighborTupleAt(index, m, buf, BufferGetPage(buf), off, start, slots);
  if (nt == nullptr) {
    UnlockReleaseBuffer(buf);
    return LinkStep::kRejected;
  }
  int free_slot = -1;
  *count_out = 0;
  for (int i = 0; i < slots; i++) {
    ItemPointerData* t = &nt->tids[start + i];
    if (!ItemPointerIsValid(t)) {
      free_slot = i;
      break;
    }
    if (ItemPointerEquals(t, const_cast<ItemPointer>(&to.tid))) {
      UnlockReleaseBuffer(buf);
      *count_out = count;
      return LinkStep::kDone;
    }
    current[count++] = *t;
  }
  *count_out = count;
  if (free_slot >= 0) {
    HnswWriter w;
    HnswWriterStart(&w, index, building);
    Page wpage = HnswWriterRegister(&w, buf, false);
    NeighborTupleAt(index, m, buf, wpage, off, start, slots)->tids[start + free_slot] = to.tid;
    HnswWriterFinish(&w);
    UnlockReleaseBuffer(buf);
    return LinkStep::kDone;
  }
  UnlockReleaseBuffer(buf);

  // Full: which member gives up its slot (see HnswAddLink). Distances are seen from `from`.
  HnswSearch s;
  HnswSearchInit(&s, index, sup, m, HnswSearchQueryFromStored(sup, from.value));
  auto* cands = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * (count + 1)));
  int n = 0;
  int victim = -1;  // slot index in current[]
  for (int i = 0; i < count && victim < 0; i++) {
    if (HnswLoadElement(&s, &current[i], &cands[n], true) && !cands[n].deleted)
      n++;
    else
      victim = i;  // a link to a removed or deleted element: reuse it, nothing to keep
  }
  HnswSearchEnd(&s);
  if (victim >= 0) {
    *victim_out = victim;
    return LinkStep::kReplace;
  }
  cands[n] = to;
  cands[n].distance = from.distance;
  n++;
  auto* kept = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * n));
  int nkept = HnswSelectNeighbors(sup, cands, n, slots, kept);  // sorts cands ascending
  // With keepPrunedConnections the heuristic keeps all but the farthest pruned candidate.
  const HnswCandidate* dropped = nullptr;
  for (int i = n - 1; i >= 0 && dropped == nullptr; i--) {
    bool in_kept = false;
    for (int k = 0; k < nkept && !in_kept; k++)
      in_kept = ItemPointerEquals(&kept[k].tid, &cands[i].tid);
    if (!in_kept) dropped = &cands[i];
  }
  if (dropped != nullptr && !ItemPointerEquals(const_cast<ItemPointer>(&dropped->tid),
                                               const_cast<ItemPointer>(&to.tid))) {
    for (int k = 0; k < count; k++)
      if (ItemPointerEquals(&current[k], const_cast<ItemPointer>(&dropped->tid))) victim = k;
  } else {
    if (!force) return LinkStep::kRejected;
    // Forced: a member `to` already links to (farthest first), else the farthest member.
    for (int i = n - 1; i >= 0 && victim < 0; i--) {
      if (ItemPointerEquals(&cands[i].tid, const_cast<ItemPointer>(&to.tid))) continue;
      if (HnswTidIn(to_list, nto, &cands[i].tid))
        for (int k = 0; k < count; k++)
          if (ItemPointerEquals(&current[k], &cands[i].tid)) victim = k;
    }
    for (int i = n - 1; i >= 0 && victim < 0; i--) {
      if (ItemPointerEquals(&cands[i].tid, const_cast<ItemPointer>(&to.tid))) continue;
      for (int k = 0; k < count; k++)
        if (ItemPointerEquals(&current[k], &cands[i].tid)) victim = k;
    }
  }
  if (victim < 0) return LinkStep::kRejected;
  *victim_out = victim;
  return LinkStep::kReplace;
}

// Second half: writes `to` into slot victim of from's list if the list still equals
// current[0..count) (a full list). Returns false when it changed meanwhile; *gone when the
// tuple disappeared.
bool ReplaceIfSame(Relation index, bool building, int m, const HnswCandidate& from,
                   const HnswCandidate& to, int lc, const ItemPointerData* current, int count,
                   int victim, bool* gone) {
  int start = HnswLayerStart(lc, m);
  int slots = HnswLayerSlots(lc, m);
  OffsetNumber off = ItemPointerGetOffsetNumber(&from.ntid);
  Buffer buf = ReadBuffer(index, ItemPointerGetBlockNumber(&from.ntid));
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  HnswNeighborTupleData* nt = NeighborTupleAt(index, m, buf, BufferGetPage(buf), off, start, slots);
  *gone = nt == nullptr;
  bool same = nt != nullptr;
  for (int i = 0; i < slots && same; i++) {
    ItemPointerData* t = &nt->tids[start + i];
    same = i < count
               ? ItemPointerIsValid(t) && ItemPointerEquals(t, const_cast<ItemPointer>(&current[i]))
               : !ItemPointerIsValid(t);
  }
  if (same) {
    HnswWriter w;
    HnswWriterStart(&w, index, building);
    Page wpage = HnswWriterRegister(&w, buf, false);
    NeighborTupleAt(index, m, buf, wpage, off, start, slots)->tids[start + victim] = to.tid;
    HnswWriterFinish(&w);
  }
  UnlockReleaseBuffer(buf);
  return same;
}

// After an insert dropped v from a list relying on `holder` (a neighbour `added` links to)
// keeping it: if v has left the holder's layer-lc list meanwhile (a concurrent insert dropped it
// there, relying on the list just changed), links v from `added`: into a free or replaceable
// slot, else through HnswAddLink with force (which moves what it displaces). A build is
// single-writer per list and never needs this.
void KeepReachable(Relation index, const HnswSupport* sup, int m, const HnswCandidate& added,
                   const HnswCandidate& holder, const ItemPointerData& v, int lc,
                   ItemPointerData* replaceable, int nrep) {
  ItemPointerData list[2 * kMaxM];
  int nlist = ReadLayerList(index, m, const_cast<ItemPointer>(&holder.ntid), lc, list);
  if (HnswTidIn(list, nlist, &v)) return;
  bool placed = false;
  AddToList(index, false, m, const_cast<ItemPointer>(&added.ntid), lc, &v, 1, replaceable, nrep,
            &placed);
  if (placed) return;
  HnswSearch s;
  HnswSearchInit(&s, index, sup, m, HnswSearchQueryFromStored(sup, added.value));
  HnswCandidate vc;
  bool live = HnswLoadElement(&s, const_cast<ItemPointer>(&v), &vc, true) && !vc.deleted;
  HnswSearchEnd(&s);
  if (!live) return;
  HnswCandidate from = added;
  from.distance = vc.distance;  // PlanLink ranks `to` by its distance to `from`
  HnswAddLink(index, sup, m, false, from, vc, lc, true, replaceable, nrep);
}

}  // namespace

// Why links are added this way (the on-disk counterpart of HnswGraph::EnsureInLinks):
// HNSW (Malkov & Yashunin 2016, alg. 1 lines 11-16) re-prunes a neighbour's full list with the
// selection heuristic after adding the back link. A pruned list drops a link, and when that
// link was the dropped element's only in-link the element becomes unreachable: no search, and
// no enumeration through an iterative scan, can find its row any more. On disk we cannot
// afford in-degrees, so instead every list change here preserves reachability by
// construction:
//   * a free slot simply takes the link;
//   * a full list gives up exactly one slot, the one alg. 4 with keepPrunedConnections would
//     drop (the farthest pruned candidate), as pgvector's on-disk update does. Before the slot
//     is overwritten, the victim v is put into `to`'s own list, so every path that went
//     from -> v now goes from -> to -> v and nothing `from` could reach is lost. When v is in
//     `to`'s list already nothing needs to move. `to`'s list is normally full (the heuristic
//     fills it with pruned candidates), so v takes the slot of a `replaceable` member: for an
//     element being inserted, the out-links it chose itself (pre-existing elements whose
//     reachability never depended on the new element), farthest first; for an element VACUUM
//     found unreachable, the members its list had before (no path from the entry point went
//     through it). Never a victim moved there earlier, nor a member some dropped link now relies
//     on (it is removed from `replaceable`): its only path may be that slot. When no slot may
//     take v, the link is not added (returns false) rather than risk stranding v;
//   * when the heuristic would drop `to` itself the link is not added, unless `force` (the
//     caller found no other in-link for `to`): then the victim is preferably a member that
//     `to` links to already, else the farthest member, moved as above.
// Each step is one page under one buffer lock and one generic WAL record, in an order where a
// crash between two steps leaves an extra link, never a missing one. Concurrent writers are
// detected by comparing the list with the copy taken before the distances were computed; the
// whole step is then retried.
bool HnswAddLink(Relation index, const HnswSupport* sup, int m, bool building,
                 const HnswCandidate& from, const HnswCandidate& to, int lc, bool force,
                 ItemPointerData* replaceable, int nrep) {
  ItemPointerData current[2 * kMaxM];
  ItemPointerData to_list[2 * kMaxM];
  for (int attempt = 0; attempt < 20; attempt++) {
    int nto = ReadLayerList(index, m, const_cast<ItemPointer>(&to.ntid), lc, to_list);
    int count = 0, victim = -1;
    LinkStep step = PlanLink(index, sup, m, building, from, to, lc, force, to_list, nto, current,
                             &count, &victim);
    if (step == LinkStep::kDone) return true;
    if (step == LinkStep::kRejected) return false;
    // Keep the victim reachable through `to` before `from` forgets it; from now on that link
    // must stay, so the victim is no longer replaceable (it may have been one of `to`'s own
    // out-links, overwritten earlier and moved back now).
    Protect(replaceable, nrep, &current[victim]);
    if (!HnswTidIn(to_list, nto, &current[victim])) {
      bool placed;
      AddToList(index, building, m, const_cast<ItemPointer>(&to.ntid), lc, &current[victim], 1,
                replaceable, nrep, &placed);
      if (!placed) return false;
    }
    bool gone;
    if (ReplaceIfSame(index, building, m, from, to, lc, current, count, victim, &gone)) return true;
    if (gone) return false;
    CHECK_FOR_INTERRUPTS();
  }
  return false;
}

void HnswFindNeighbors(Relation index, const HnswSupport* sup, int m, int efc, const char* value,
                       int level, const HnswMetaPageData* meta, HnswCandidate** selected,
                       int* nselected, HnswCandidate** found0, int* nfound0) {
  for (int i = 0; i <= level; i++) {
    selected[i] = nullptr;
    nselected[i] = 0;
  }
  if (found0 != nullptr) {
    *found0 = nullptr;
    *nfound0 = 0;
  }
  HnswSearch s;
  HnswSearchInit(&s, index, sup, m, HnswSearchQuery(sup, value));
  s.copy_values = true;
  s.skip_deleted_w = true;
  HnswCandidate ep;
  if (!HnswEntryCandidate(&s, meta, &ep)) {
    HnswSearchEnd(&s);
    return;
  }
  HnswHeap C, W;
  HnswHeapInit(&C, efc * 4, false);
  HnswHeapInit(&W, efc + 1, true);
  HnswCandidate* eps = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * (efc + 1)));
  eps[0] = ep;
  // greedy descent to the new element's top layer, then on each of its layers the
  // ef_construction nearest (all of W is the next layer's entry set) and the selection
  const int top = std::min(level, static_cast<int>(meta->entry_level));
  int neps = HnswDescend(&s, &C, &W, meta->entry_level, top, 1, eps, 1);
  for (int lc = top; lc >= 0; lc--) {
    HnswSeedLayer(&s, &C, &W, eps, neps);
    HnswSearchLayer(&s, &C, &W, nullptr, efc, lc);
    neps = 0;
    while (W.size > 0) eps[neps++] = HnswHeapPop(&W);
    HnswSortCandidates(eps, neps);
    int slots = HnswLayerSlots(lc, m);
    HnswCandidate* cands = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * neps));
    int n = 0;
    for (int i = 0; i < neps; i++)
      if (!eps[i].deleted && eps[i].value != nullptr) cands[n++] = eps[i];
    if (lc == 0 && found0 != nullptr) {  // before the selection reorders cands
      *found0 = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * (n > 0 ? n : 1)));
      memcpy(*found0, cands, sizeof(HnswCandidate) * n);
      *nfound0 = n;
    }
    selected[lc] = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * slots));
    nselected[lc] = HnswSelectNeighbors(sup, cands, n, slots, selected[lc]);
    if (neps == 0) {
      eps[0] = ep;
      neps = 1;
    }
  }
  HnswSearchEnd(&s);
}

bool HnswLinkFromNeighbors(Relation index, const HnswSupport* sup, int m, bool building,
                           HnswCandidate* nbs, int n, const HnswCandidate& added, int lc,
                           ItemPointerData* replaceable, int nrep) {
  // HnswAddLink for each neighbour, batched: every list is planned first, then all victims
  // that must move go into `added`'s list in one page write (one WAL record instead of one per
  // neighbour), then each neighbour's slot is replaced. Same order as HnswAddLink (moves before
  // replacements), so the same argument holds; a list that changed meanwhile is redone alone.
  //
  // A victim v dropped by neighbour i need not move when another neighbour j keeps it (v is in
  // j's list and is not j's own victim) and `added` links to j: once i's slot holds `added`,
  // the path i -> added -> j -> v replaces i -> v, with nothing written beyond the replacement
  // (j is then protected in `added`'s list). Moving every victim would overwrite most of the
  // new element's own out-links with the farthest members of its neighbours' lists, a loss of
  // recall on the insert path. Concurrent inserts plan from lists that may change meanwhile: two
  // of them may each drop v relying on the holder the other one is emptying. So after its
  // replacement an insert reads the holder's list again and, when v has left it, links v from
  // `added` after all (KeepReachable). Both steps take page locks in order (drop, then check),
  // so of two such inserts at least the later checker sees the other's drop: v keeps a path.
  bool linked = false;
  if (n == 0) return false;
  ItemPointerData to_list[2 * kMaxM];
  int nto = ReadLayerList(index, m, const_cast<ItemPointer>(&added.ntid), lc, to_list);
  auto* current = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * 2 * kMaxM * n));
  auto* count = static_cast<int*>(palloc(sizeof(int) * n));
  auto* victim = static_cast<int*>(palloc(sizeof(int) * n));
  auto* moves = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * n));
  auto* placed = static_cast<bool*>(palloc(sizeof(bool) * n));
  auto* holder_of = static_cast<int*>(palloc(sizeof(int) * n));
  int nmoves = 0;
  for (int i = 0; i < n; i++) {
    victim[i] = -1;
    LinkStep step = PlanLink(index, sup, m, building, nbs[i], added, lc, false, to_list, nto,
                             current + i * 2 * kMaxM, &count[i], &victim[i]);
    if (step == LinkStep::kDone) linked = true;
    if (step != LinkStep::kReplace) victim[i] = -1;
  }
  for (int i = 0; i < n; i++) {
    holder_of[i] = -1;
    if (victim[i] < 0) continue;
    const ItemPointerData* v = &current[i * 2 * kMaxM + victim[i]];
    Protect(replaceable, nrep, v);
    if (HnswTidIn(to_list, nto, v) || HnswTidIn(moves, nmoves, v)) continue;
    int holder = -1;
    for (int j = 0; j < n && holder < 0; j++) {
      if (j == i || !HnswTidIn(to_list, nto, &nbs[j].tid)) continue;
      const ItemPointerData* lj = current + j * 2 * kMaxM;
      if (victim[j] >= 0 &&
          ItemPointerEquals(const_cast<ItemPointer>(&lj[victim[j]]), const_cast<ItemPointer>(v)))
        continue;
      if (HnswTidIn(lj, count[j], v)) holder = j;
    }
    holder_of[i] = holder;
    if (holder >= 0)
      Protect(replaceable, nrep, &nbs[holder].tid);
    else
      moves[nmoves++] = *v;
  }
  if (nmoves > 0)
    AddToList(index, building, m, const_cast<ItemPointer>(&added.ntid), lc, moves, nmoves,
              replaceable, nrep, placed);
  for (int i = 0; i < n; i++) {
    if (victim[i] < 0) continue;
    const ItemPointerData* v = &current[i * 2 * kMaxM + victim[i]];
    bool moved = false, kept = HnswTidIn(to_list, nto, v);
    for (int k = 0; k < nmoves && !kept; k++) {
      if (!ItemPointerEquals(&moves[k], const_cast<ItemPointer>(v))) continue;
      moved = true;
      kept = placed[k];
    }
    if (!moved && !kept) kept = true;  // a neighbour keeps v (see above)
    if (!kept) continue;               // no room in added's list: dropping v could strand it
    bool gone;
    if (ReplaceIfSame(index, building, m, nbs[i], added, lc, current + i * 2 * kMaxM, count[i],
                      victim[i], &gone)) {
      linked = true;
      if (!building && holder_of[i] >= 0)
        KeepReachable(index, sup, m, added, nbs[holder_of[i]], *v, lc, replaceable, nrep);
    } else if (!gone &&
               HnswAddLink(index, sup, m, building, nbs[i], added, lc, false, replaceable, nrep))
      linked = true;
  }
  // Nobody kept the link: force one, nearest neighbour first (see HnswAddLink).
  for (int i = 0; i < n && !linked; i++)
    linked = HnswAddLink(index, sup, m, building, nbs[i], added, lc, true, replaceable, nrep);
  return linked;
}

void HnswRowReaderInit(HnswRowReader* r, Relation heap, IndexInfo* index_info) {
  r->heap = heap;
  r->index_info = index_info;
  r->cxt = CurrentMemoryContext;
  r->estate = nullptr;
  r->slot = nullptr;
  r->fetch = nullptr;
}

void HnswRowReaderEnd(HnswRowReader* r) {
  if (r->estate == nullptr) return;
  table_index_fetch_end(r->fetch);
  ExecDropSingleTupleTableSlot(r->slot);
  FreeExecutorState(r->estate);
  r->estate = nullptr;
}

void HnswInsertValue(Relation index, const HnswSupport* sup, const char* value, ItemPointer heaptid,
                     bool building, HnswRowReader* rows) {
  int m = HnswGetM(index);
  int efc = HnswGetEfConstruction(index);
  int level = HnswRandomLevel(m);
  LOCKMODE lockmode = ShareLock;
  HnswMetaPageData meta;

  // Inserts of equal values take turns (hnsw_page.h, "Locks"); a build is alone.
  BlockNumber value_lock = InvalidBlockNumber;
  if (!building) {
    uint32 h =
        hash_bytes(reinterpret_cast<const unsigned char*>(value), static_cast<int>(VARSIZE(value)));
    value_lock = kHnswValueLockFirst + h % kHnswValueLocks;
    LockPage(index, value_lock, ExclusiveLock);
  }
  LockPage(index, kHnswUpdateLock, lockmode);
  HnswReadMeta(index, &meta);
  if (level > meta.entry_level) {
    UnlockPage(index, kHnswUpdateLock, lockmode);
    lockmode = ExclusiveLock;
    LockPage(index, kHnswUpdateLock, lockmode);
    HnswReadMeta(index, &meta);
  }

  // Search for neighbours, layer by layer.
  HnswCandidate* selected[kMaxLevel + 1];
  int nselected[kMaxLevel + 1];
  HnswCandidate* found0;
  int nfound0;
  HnswFindNeighbors(index, sup, m, efc, value, level, &meta, selected, nselected, &found0,
                    &nfound0);

  // What the element stores: the value, or its code (quantized).
  const char* payload = HnswEncodePayload(sup, value);

  // An element of equal value with room takes the heap TID instead. Unquantized: equal values
  // have equal distances to the query, so only those are compared, then the values. Quantized:
  // an element whose payload (code, error, norm) is ours may still hold another value, so the
  // table row of its first heap TID decides (equal values have equal payloads).
  const bool quantized = sup->quantizer != QuantizerKind::kNone;
  if (quantized && rows == nullptr) nfound0 = 0;
  float self_distance = nfound0 > 0 && !quantized ? HnswDistance(sup, value, value) : 0;
  for (int i = 0; i < nfound0; i++) {
    const HnswCandidate& c = found0[i];
    if ((!quantized && c.distance != self_distance) || c.deleted || c.value == nullptr ||
        c.nheaptids == 0 || c.nheaptids >= kHnswHeapTids || !HnswValuesEqual(c.value, payload))
      continue;
    ItemPointerData witness = c.heaptid;
    if (quantized && !RowHasValue(rows, sup, &witness, value)) continue;
    if (AddDuplicate(index, sup, building, c, payload, quantized ? &witness : nullptr, heaptid)) {
      UnlockPage(index, kHnswUpdateLock, lockmode);
      if (BlockNumberIsValid(value_lock)) UnlockPage(index, value_lock, ExclusiveLock);
      return;
    }
  }

  // Build and write the element (a wide code: its start, and a code tuple with the rest).
  Size vsize = sup->code_head > 0 ? sup->stored_size : VARSIZE(payload);
  Size esize = HnswElementTupleSize(vsize);
  Size nsize = HnswNeighborTupleSize(level, m);
  auto* etup = static_cast<HnswElementTupleData*>(palloc0(esize));
  etup->type = kHnswElementTuple;
  etup->level = static_cast<uint8>(level);
  HnswElementSetHeapTids(etup, heaptid, 1);
  HnswCodeTupleData* ctup = nullptr;
  Size csize = 0;
  if (sup->code_head > 0) {
    csize = HnswCodeTupleSize(sup->code_tail);
    ctup = static_cast<HnswCodeTupleData*>(palloc0(csize));
    HnswSplitPayload(sup, payload, HnswElementPayload(etup), ctup);
  } else {
    memcpy(HnswElementPayload(etup), payload, vsize);
  }
  auto* ntup = static_cast<HnswNeighborTupleData*>(palloc0(nsize));
  ntup->type = kHnswNeighborTuple;
  ntup->count = static_cast<uint16>((level + 2) * m);
  for (int i = 0; i < ntup->count; i++) ItemPointerSetInvalid(&ntup->tids[i]);
  for (int lc = 0; lc <= level; lc++) {
    int start = HnswLayerStart(lc, m);
    for (int i = 0; i < nselected[lc]; i++) ntup->tids[start + i] = selected[lc][i].tid;
  }
  // A new entry point links to the old one on layer 0: everything the old entry point reached
  // stays reachable from the new one (the invariant VACUUM's reachability pass restores, and
  // what an iterative scan's enumeration relies on). The farthest neighbour makes room if the
  // list is full; it stays reachable through the old entry point.
  ItemPointerData old_entry;
  ItemPointerSetInvalid(&old_entry);
  if (level > meta.entry_level && BlockNumberIsValid(meta.entry_blkno)) {
    ItemPointerSet(&old_entry, meta.entry_blkno, meta.entry_offno);
    if (!HnswTidIn(ntup->tids, nselected[0], &old_entry)) {
      int slot = nselected[0] < 2 * m ? nselected[0] : 2 * m - 1;
      ntup->tids[slot] = old_entry;
    }
  }
  HnswCandidate added;
  WriteElement(index, building, etup, esize, ntup, nsize, ctup, csize, &added.tid, &added.ntid);

  // Back links (alg. 1 lines 11-16) through HnswAddLink, which never strands an element; if no
  // neighbour kept the link on a layer, one is forced, so the new element always has an
  // in-link wherever it has neighbours.
  added.value = const_cast<char*>(payload);
  added.deleted = false;
  added.level = static_cast<uint8>(level);
  for (int lc = 0; lc <= level; lc++) {
    auto* own =
        static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * (nselected[lc] + 1)));
    int nown = 0;
    for (int i = 0; i < nselected[lc]; i++)
      if (!(lc == 0 && ItemPointerIsValid(&old_entry) &&
            ItemPointerEquals(&selected[lc][i].tid, &old_entry)))  // keep that link
        own[nown++] = selected[lc][i].tid;
    HnswLinkFromNeighbors(index, sup, m, building, selected[lc], nselected[lc], added, lc, own,
                          nown);
  }

  if (level > meta.entry_level)
    HnswUpdateMeta(index, building, InvalidBlockNumber, true, &added.tid, level);
  UnlockPage(index, kHnswUpdateLock, lockmode);
  if (BlockNumberIsValid(value_lock)) UnlockPage(index, value_lock, ExclusiveLock);
}

}  // namespace hnsw
}  // namespace ragstore

using namespace ragstore;
using namespace ragstore::hnsw;

extern "C" {

// aminsert: indexes values[0] for heap row heap_tid (NULLs and, under cosine, zero vectors are
// skipped). Errors: 54000 when the value exceeds hnsw's dimension limit.
bool hnswinsert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo* index_info) {
  if (isnull[0]) return false;
  MemoryContext ctx =
      AllocSetContextCreate(CurrentMemoryContext, "hnsw insert", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(ctx);
  HnswSupport sup;
  HnswInitSupport(index, &sup);
  HnswLoadQuantizer(index, &sup);
  char* value = HnswPrepareValue(&sup, values[0], true);
  HnswRowReader rows;
  HnswRowReaderInit(&rows, heap, index_info);
  if (value != nullptr) HnswInsertValue(index, &sup, value, heap_tid, false, &rows);
  HnswRowReaderEnd(&rows);
  MemoryContextSwitchTo(old);
  MemoryContextDelete(ctx);
  return false;
}

}  // extern "C"
