// ragstore hnsw: aminsert and the on-disk insertion of one element (also used by builds whose
// graph outgrows maintenance_work_mem, and for types FAISS cannot build).
//
// Insertion follows HNSW (Malkov & Yashunin 2016, alg. 1): draw a level, descend greedily from
// the entry point, then on each layer from min(level, entry level) down to 0 search with
// ef_construction and keep neighbours with the selection heuristic. The element and its
// neighbour tuple are written first (one generic WAL record), then each neighbour gets a back
// link (one record per neighbour page; a full list is re-pruned with the heuristic), then the
// entry point moves if the new element is higher. Locks: see hnsw_page.h.
#include "hnsw/hnsw.h"

#include <cmath>

extern "C" {
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
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

// Places the element and neighbour tuples, returns the element's TID in *etid.
// Chooses a page with room for both (free space map, then the meta page's insert page, then a
// new page); when both cannot share an empty page the neighbour tuple goes on a new page.
void WriteElement(Relation index, bool building, HnswElementTupleData* etup, Size esize,
                  HnswNeighborTupleData* ntup, Size nsize, ItemPointer etid) {
  Size both = esize + nsize + 2 * sizeof(ItemIdData);
  bool together = both <= HnswEmptyPageSpace();
  Size need = together ? both : esize + sizeof(ItemIdData);
  Buffer buf = InvalidBuffer;
  bool is_new = false;
  BlockNumber extended = InvalidBlockNumber;

  // 1. a page the free space map knows about (space freed by VACUUM)
  BlockNumber blk = GetPageWithFreeSpace(index, need);
  while (BlockNumberIsValid(blk)) {
    buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    if (!PageIsNew(page) && HnswPageGetOpaque(page)->page_id == kHnswPageId && blk != kHnswMetaBlock &&
        PageGetExactFreeSpace(page) >= need)
      break;
    Size avail = PageIsNew(page) ? 0 : PageGetExactFreeSpace(page);
    UnlockReleaseBuffer(buf);
    buf = InvalidBuffer;
    blk = RecordAndGetPageWithFreeSpace(index, blk, avail, need);
  }
  // 2. the last page that had room
  if (!BufferIsValid(buf)) {
    HnswMetaPageData meta;
    HnswReadMeta(index, &meta);
    if (BlockNumberIsValid(meta.insert_page)) {
      buf = ReadBuffer(index, meta.insert_page);
      LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
      if (PageGetExactFreeSpace(BufferGetPage(buf)) < need) {
        UnlockReleaseBuffer(buf);
        buf = InvalidBuffer;
      }
    }
  }
  // 3. a new page
  if (!BufferIsValid(buf)) {
    buf = HnswNewBuffer(index);
    is_new = true;
    extended = BufferGetBlockNumber(buf);
  }

  Buffer nbuf = InvalidBuffer;
  if (!together) {
    nbuf = HnswNewBuffer(index);
    extended = BufferGetBlockNumber(nbuf);
  }

  HnswWriter w;
  HnswWriterStart(&w, index, building);
  Page page = HnswWriterRegister(&w, buf, is_new);
  if (is_new) HnswInitDataPage(page);
  Page npage = page;
  if (!together) {
    npage = HnswWriterRegister(&w, nbuf, true);
    HnswInitDataPage(npage);
  }
  OffsetNumber eoff = PageAddItem(page, reinterpret_cast<Item>(etup), esize, InvalidOffsetNumber,
                                  false, false);
  OffsetNumber noff = PageAddItem(npage, reinterpret_cast<Item>(ntup), nsize, InvalidOffsetNumber,
                                  false, false);
  if (eoff == InvalidOffsetNumber || noff == InvalidOffsetNumber)
    elog(ERROR, "hnsw: failed to add index item to \"%s\"", RelationGetRelationName(index));
  auto* placed = reinterpret_cast<HnswElementTupleData*>(PageGetItem(page, PageGetItemId(page, eoff)));
  ItemPointerSet(&placed->neighbortid, BufferGetBlockNumber(together ? buf : nbuf), noff);
  ItemPointerSet(etid, BufferGetBlockNumber(buf), eoff);
  HnswWriterFinish(&w);
  UnlockReleaseBuffer(buf);
  if (BufferIsValid(nbuf)) UnlockReleaseBuffer(nbuf);
  if (BlockNumberIsValid(extended))
    HnswUpdateMeta(index, building, extended, false, nullptr, 0);
}

// Reads neighbour tuple `off` of the exclusive-locked page; nullptr when it is gone.
HnswNeighborTupleData* NeighborTupleAt(Page page, OffsetNumber off, int start, int slots) {
  if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page) ||
      !ItemIdIsNormal(PageGetItemId(page, off)))
    return nullptr;
  auto* nt = reinterpret_cast<HnswNeighborTupleData*>(PageGetItem(page, PageGetItemId(page, off)));
  if (nt->type != kHnswNeighborTuple || start + slots > nt->count) return nullptr;
  return nt;
}

// Adds a back link from neighbour `nb` (at layer lc) to the new element `added`; nb.distance
// is their distance. A free slot takes the link; a full list is re-selected with the heuristic
// among its members plus the new element and written back only if nobody changed it meanwhile.
void AddBackLink(Relation index, const HnswSupport* sup, int m, bool building,
                 const HnswCandidate& nb, const HnswCandidate& added, int lc) {
  int start = HnswLayerStart(lc, m);
  int slots = HnswLayerSlots(lc, m);
  BlockNumber blk = ItemPointerGetBlockNumber(&nb.ntid);
  OffsetNumber off = ItemPointerGetOffsetNumber(&nb.ntid);
  ItemPointerData current[2 * kMaxM];
  int count = 0;

  Buffer buf = ReadBuffer(index, blk);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  HnswNeighborTupleData* nt = NeighborTupleAt(BufferGetPage(buf), off, start, slots);
  if (nt == nullptr) {
    UnlockReleaseBuffer(buf);
    return;
  }
  int free_slot = -1;
  for (int i = 0; i < slots; i++) {
    ItemPointerData* t = &nt->tids[start + i];
    if (!ItemPointerIsValid(t)) {
      free_slot = i;
      break;
    }
    if (ItemPointerEquals(t, const_cast<ItemPointer>(&added.tid))) {
      UnlockReleaseBuffer(buf);
      return;
    }
    current[count++] = *t;
  }
  if (free_slot >= 0) {
    HnswWriter w;
    HnswWriterStart(&w, index, building);
    Page wpage = HnswWriterRegister(&w, buf, false);
    NeighborTupleAt(wpage, off, start, slots)->tids[start + free_slot] = added.tid;
    HnswWriterFinish(&w);
    UnlockReleaseBuffer(buf);
    return;
  }
  UnlockReleaseBuffer(buf);

  // Full: re-select among the current neighbours plus the new element, seen from nb.
  HnswSearch s;
  HnswSearchInit(&s, index, sup, m, nb.value);
  auto* cands = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * (count + 1)));
  int n = 0;
  for (int i = 0; i < count; i++)
    if (HnswLoadElement(&s, &current[i], &cands[n], true)) n++;
  HnswSearchEnd(&s);
  cands[n] = added;
  cands[n].distance = nb.distance;
  n++;
  auto* kept = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * n));
  int nkept = HnswSelectNeighbors(sup, cands, n, slots, kept);
  bool selected = false;
  for (int i = 0; i < nkept; i++)
    if (ItemPointerEquals(&kept[i].tid, const_cast<ItemPointer>(&added.tid))) selected = true;
  if (!selected) return;

  buf = ReadBuffer(index, blk);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  nt = NeighborTupleAt(BufferGetPage(buf), off, start, slots);
  bool same = nt != nullptr;
  for (int i = 0; i < slots && same; i++) {
    ItemPointerData* t = &nt->tids[start + i];
    same = i < count ? ItemPointerEquals(t, &current[i]) : !ItemPointerIsValid(t);
  }
  if (same) {
    HnswWriter w;
    HnswWriterStart(&w, index, building);
    Page wpage = HnswWriterRegister(&w, buf, false);
    HnswNeighborTupleData* wnt = NeighborTupleAt(wpage, off, start, slots);
    for (int i = 0; i < slots; i++) {
      if (i < nkept) wnt->tids[start + i] = kept[i].tid;
      else ItemPointerSetInvalid(&wnt->tids[start + i]);
    }
    HnswWriterFinish(&w);
  }
  UnlockReleaseBuffer(buf);
}

}  // namespace

void HnswInsertValue(Relation index, const HnswSupport* sup, const char* value,
                     ItemPointer heaptid, bool building) {
  int m = HnswGetM(index);
  int efc = HnswGetEfConstruction(index);
  int level = HnswRandomLevel(m);
  LOCKMODE lockmode = ShareLock;
  HnswMetaPageData meta;

  LockPage(index, kHnswUpdateLock, lockmode);
  HnswReadMeta(index, &meta);
  if (level > meta.entry_level) {
    UnlockPage(index, kHnswUpdateLock, lockmode);
    lockmode = ExclusiveLock;
    LockPage(index, kHnswUpdateLock, lockmode);
    HnswReadMeta(index, &meta);
  }

  // Search for neighbours, layer by layer.
  HnswSearch s;
  HnswSearchInit(&s, index, sup, m, value);
  s.copy_values = true;
  s.skip_deleted_w = true;
  HnswCandidate* selected[kMaxLevel + 1];
  int nselected[kMaxLevel + 1];
  for (int i = 0; i <= kMaxLevel; i++) nselected[i] = 0;

  HnswCandidate ep;
  bool have_entry = HnswEntryCandidate(&s, &meta, &ep);
  if (have_entry) {
    HnswHeap C, W;
    HnswHeapInit(&C, efc * 4, false);
    HnswHeapInit(&W, efc + 1, true);
    HnswCandidate* eps = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * (efc + 1)));
    int neps = 1;
    eps[0] = ep;
    for (int lc = meta.entry_level; lc >= 0; lc--) {
      int ef = lc > level ? 1 : efc;
      C.size = 0;
      W.size = 0;
      for (int i = 0; i < neps; i++) {
        HnswHeapPush(&C, eps[i]);
        if (!(eps[i].deleted && lc <= level)) HnswHeapPush(&W, eps[i]);
      }
      if (W.size == 0) HnswHeapPush(&W, eps[0]);  // keep a bound for the search
      HnswVisitedReset(&s.visited);
      for (int i = 0; i < neps; i++) HnswVisitedAdd(&s.visited, &eps[i].tid);
      HnswSearchLayer(&s, &C, &W, nullptr, ef, lc);
      // W -> eps (all of W is the next layer's entry set)
      neps = 0;
      while (W.size > 0) eps[neps++] = HnswHeapPop(&W);
      HnswSortCandidates(eps, neps);
      if (lc <= level) {
        int slots = HnswLayerSlots(lc, m);
        HnswCandidate* cands = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * neps));
        int n = 0;
        for (int i = 0; i < neps; i++)
          if (!eps[i].deleted && eps[i].value != nullptr) cands[n++] = eps[i];
        selected[lc] = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * slots));
        nselected[lc] = HnswSelectNeighbors(sup, cands, n, slots, selected[lc]);
      } else {
        // greedy layers: keep only the nearest as entry
        neps = neps > 0 ? 1 : 0;
      }
      if (neps == 0) {
        eps[0] = ep;
        neps = 1;
      }
    }
  }
  HnswSearchEnd(&s);

  // Build and write the element.
  Size vsize = VARSIZE(value);
  Size esize = HnswElementTupleSize(vsize);
  Size nsize = HnswNeighborTupleSize(level, m);
  auto* etup = static_cast<HnswElementTupleData*>(palloc0(esize));
  etup->type = kHnswElementTuple;
  etup->level = static_cast<uint8>(level);
  etup->heaptid = *heaptid;
  memcpy(etup->data, value, vsize);
  auto* ntup = static_cast<HnswNeighborTupleData*>(palloc0(nsize));
  ntup->type = kHnswNeighborTuple;
  ntup->count = static_cast<uint16>((level + 2) * m);
  for (int i = 0; i < ntup->count; i++) ItemPointerSetInvalid(&ntup->tids[i]);
  for (int lc = 0; lc <= level; lc++) {
    int start = HnswLayerStart(lc, m);
    for (int i = 0; i < nselected[lc]; i++) ntup->tids[start + i] = selected[lc][i].tid;
  }
  ItemPointerData etid;
  WriteElement(index, building, etup, esize, ntup, nsize, &etid);

  // Back links.
  HnswCandidate added;
  added.tid = etid;
  added.value = const_cast<char*>(value);
  added.deleted = false;
  added.level = static_cast<uint8>(level);
  for (int lc = 0; lc <= level; lc++) {
    for (int i = 0; i < nselected[lc]; i++)
      AddBackLink(index, sup, m, building, selected[lc][i], added, lc);
  }

  if (level > meta.entry_level) HnswUpdateMeta(index, building, InvalidBlockNumber, true, &etid, level);
  UnlockPage(index, kHnswUpdateLock, lockmode);
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
  MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert",
                                            ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(ctx);
  HnswSupport sup;
  HnswInitSupport(index, &sup);
  char* value = HnswPrepareValue(&sup, values[0], true);
  if (value != nullptr) HnswInsertValue(index, &sup, value, heap_tid, false);
  MemoryContextSwitchTo(old);
  MemoryContextDelete(ctx);
  return false;
}

}  // extern "C"
