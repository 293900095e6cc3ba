// ragstore hnsw: ragstore.verify_index for hnsw indexes (the SQL entry point and the heap
// checks are in pg/verify.cpp).
//
// What it checks (page layout: hnsw_page.h):
//   meta page    magic, version, m (2..100, and the index's reloption), ef_construction range,
//                dimensions = the column's, the entry point and the insert page inside the
//                relation, entry level within 0..kMaxLevel (-1 exactly when there is none);
//   data pages   header and special space are an hnsw data page's; line pointers are unused or
//                normal and inside the page; every tuple is an element, a neighbour or a code
//                tuple;
//   elements     level <= kMaxLevel; the value an uncompressed varlena inside the tuple with
//                the index's dimensions (a wide code: its code tuple names it as owner, with
//                the rest of the code); its heap TIDs: a live element has 1..kHnswHeapTids
//                valid ones, first (no valid one after an empty slot, which readers never
//                see), each once, with an offset a heap page can have, a deleted one none (all
//                are collected for the heap checks: each visible row in one element only, and
//                with heapallindexed every row indexed); its neighbour TID names a neighbour
//                tuple of (level + 2) * m slots that no other element names;
//   links        (of live elements) on each layer at most 2m (layer 0) or m slots, valid ones first
//   (a reader stops
//                at the first empty slot), no self-link, no duplicate, every target an element
//                tuple (not a freed slot, not another kind of tuple) whose level reaches the
//                layer; the entry point is an element of the meta page's level;
//   reachability every live element whose heap row is visible to the check's snapshot is
//                reachable on layer 0 from the entry point (through any element, deleted ones
//                included, as scans traverse them), reusing the pass of hnsw_reach.cpp. Skipped
//                with a NOTICE when the layer-0 lists do not fit maintenance_work_mem.
// Locks: AccessShareLock on the relations (caller), and the index's update lock (hnsw_page.h)
// in share mode while the pages are read: inserts go on, VACUUM (which restructures the graph)
// waits, as an insert that raises the entry point does. Elements found unreachable are checked
// again under the update lock in exclusive mode (inserts wait for one more read of the index),
// so that an insert caught between its steps is not reported. On a hot standby, WAL replay
// takes no such lock: a report there can be transient (run the check again).
#include "hnsw/hnsw.h"
#include "pg/verify.h"

extern "C" {
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace ragstore {
namespace hnsw {
namespace {

using verify::AddProblem;
using verify::Report;

// What the verifier reads from an element tuple; ReadElementFacts is the one place that knows
// the element format.
struct ElementFacts {
  OffsetNumber off;
  uint8 level;
  bool deleted;
  ItemPointerData ntid;
  int nheaptids;  // the valid prefix of its heap TIDs
  ItemPointerData heaptids[kHnswHeapTids];
};

// Fills f from element e at (blk, off), read by HnswCheckElement (which checked the tuple's
// placement, its value's varlena and size, and its level); the value's content is checked here
// too, while the page is locked.
void ReadElementFacts(Relation index, Report* rep, BlockNumber nblocks, BlockNumber blk,
                      OffsetNumber off, const HnswElementTupleData* e, const HnswMetaPageData* meta,
                      const HnswSupport* sup, char* wide, ElementFacts* f) {
  f->off = off;
  f->level = e->level;
  f->deleted = e->deleted != 0;
  f->ntid = e->neighbortid;
  f->nheaptids = HnswElementHeapTidCount(e);
  memcpy(f->heaptids, e->heaptids, sizeof(f->heaptids));
  const char* payload = HnswElementPayload(e);
  if (sup->quantizer != QuantizerKind::kNone) {
    // a code: CodeAux then the code (its size checked by HnswCheckElement)
    CodeAux aux;
    memcpy(&aux, payload + VARHDRSZ, sizeof aux);
    if (!(aux.error >= 0) || !(aux.norm >= 0))
      AddProblem(rep, blk, off, nullptr, "element code",
                 "the reconstruction error or norm is negative or NaN");
    if (sup->code_head > 0) {
      // a wide code: its code tuple, read as searches read it (under this page's lock)
      ItemPointerData ctid = reinterpret_cast<const HnswWidePayload*>(payload + VARHDRSZ)->code_tid;
      BlockNumber cblk = ItemPointerGetBlockNumberNoCheck(&ctid);
      HnswTupleProblem problem;
      if (cblk == kHnswMetaBlock || cblk >= nblocks)
        AddProblem(rep, blk, off, nullptr, "code tuple",
                   "code tuple TID (%u,%u) is outside the data pages", cblk,
                   ItemPointerGetOffsetNumberNoCheck(&ctid));
      else if (!HnswReadPayload(index, sup, blk, off, e, wide, nullptr, &problem))
        AddProblem(rep, blk, off, nullptr, problem.what, "%s", problem.detail);
    }
  } else if (meta->dimensions > 0 && sup->type->dims_from_typmod) {
    int dims = sup->type->dims(payload);
    if (dims != static_cast<int>(meta->dimensions))
      AddProblem(rep, blk, off, nullptr, "element value",
                 "the value has %d dimensions, the index %u", dims, meta->dimensions);
  }
  if (!f->deleted && f->nheaptids == 0)
    AddProblem(rep, blk, off, nullptr, "element heap TID", "a live element has no valid heap TID");
  if (f->deleted && f->nheaptids > 0)
    AddProblem(rep, blk, off, &f->heaptids[0], "element heap TID",
               "a deleted element still holds %d heap TIDs", f->nheaptids);
  for (int i = f->nheaptids; i < kHnswHeapTids; i++)
    if (ItemPointerIsValid(&f->heaptids[i])) {
      AddProblem(rep, blk, off, &f->heaptids[i], "element heap TID",
                 "slot %d holds a heap TID after an empty slot (readers stop there)", i);
      break;
    }
  for (int i = 0; i < f->nheaptids; i++) {
    if (ItemPointerGetOffsetNumberNoCheck(&f->heaptids[i]) > MaxHeapTuplesPerPage)
      AddProblem(rep, blk, off, &f->heaptids[i], "element heap TID",
                 "slot %d: offset %u is beyond what a heap page holds", i,
                 ItemPointerGetOffsetNumberNoCheck(&f->heaptids[i]));
    for (int j = 0; j < i; j++)
      if (ItemPointerEquals(&f->heaptids[i], &f->heaptids[j])) {
        AddProblem(rep, blk, off, &f->heaptids[i], "element heap TID",
                   "slots %d and %d hold the same heap TID", j, i);
        break;
      }
  }
}

// True when line pointer off of a page a tuple read found no damage on is in use.
bool SlotUsed(Page page, OffsetNumber off) {
  return !PageIsNew(page) && off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page) &&
         ItemIdIsUsed(PageGetItemId(page, off));
}

// ProbeTarget's answer for a damaged tuple or page (reported where it lies, by the page walk).
constexpr int kDamagedTarget = -2;

// What a TID names right now (a link or entry point not among the collected elements, e.g.
// inserted meanwhile, or damaged): its level when it is an element, else -1 with *what
// describing it, or kDamagedTarget. payload_bytes: HnswSupport.stored_size.
int ProbeTarget(Relation index, ItemPointer tid, Size payload_bytes, const char** what) {
  BlockNumber blk = ItemPointerGetBlockNumberNoCheck(tid);
  OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);
  if (blk == kHnswMetaBlock || !BlockNumberIsValid(blk) ||
      blk >= RelationGetNumberOfBlocks(index)) {
    *what = "a block outside the index's data pages";
    return -1;
  }
  Buffer buf = ReadBuffer(index, blk);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  HnswTupleProblem problem;
  HnswElementTupleData* e = HnswCheckElement(page, blk, off, payload_bytes, &problem);
  int level = e != nullptr ? e->level : problem.what != nullptr ? kDamagedTarget : -1;
  if (problem.what != nullptr)
    *what = "a damaged tuple or page";
  else if (e == nullptr)
    *what = SlotUsed(page, off) ? "a tuple that is not an element" : "a freed slot";
  UnlockReleaseBuffer(buf);
  return level;
}

// TID order and equality that also take invalid TIDs (a corrupted page may hold any bytes;
// ItemPointerCompare and ItemPointerEquals assert that both are valid).
int CompareTids(const void* a, const void* b) {
  const auto* x = static_cast<const ItemPointerData*>(a);
  const auto* y = static_cast<const ItemPointerData*>(b);
  BlockNumber bx = ItemPointerGetBlockNumberNoCheck(x), by = ItemPointerGetBlockNumberNoCheck(y);
  if (bx != by) return bx < by ? -1 : 1;
  OffsetNumber ox = ItemPointerGetOffsetNumberNoCheck(x), oy = ItemPointerGetOffsetNumberNoCheck(y);
  return ox < oy ? -1 : ox > oy ? 1 : 0;
}
bool SameTid(const ItemPointerData* a, const ItemPointerData* b) { return CompareTids(a, b) == 0; }

// Checks the neighbour tuple of element f (at blk) and every link in it.
void CheckNeighbors(Relation index, Report* rep, const HnswReach* r, int m, Size payload_bytes,
                    BlockNumber nblocks, BlockNumber blk, const ElementFacts* f,
                    ItemPointerData* slots_buf) {
  BlockNumber nblk = ItemPointerGetBlockNumberNoCheck(&f->ntid);
  OffsetNumber noff = ItemPointerGetOffsetNumberNoCheck(&f->ntid);
  if (!ItemPointerIsValid(&f->ntid) || nblk == kHnswMetaBlock || nblk >= nblocks) {
    AddProblem(rep, blk, f->off, nullptr, "neighbour TID",
               "neighbour TID (%u,%u) is outside the data pages", nblk, noff);
    return;
  }
  int want = (f->level + 2) * m;
  int count = -1;
  const char* bad = nullptr;
  Buffer buf = ReadBuffer(index, nblk);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  HnswTupleProblem problem;
  HnswNeighborTupleData* nt = HnswCheckNeighbors(page, nblk, noff, m, 0, &problem);
  if (problem.what != nullptr) {
    bad = "names a damaged tuple";
  } else if (nt == nullptr) {
    bad = SlotUsed(page, noff) ? "names a tuple that is not a neighbour tuple" : "names no tuple";
  } else if (nt->count != want) {
    count = nt->count;
    bad = "names a neighbour tuple of the wrong size";
  } else {
    memcpy(slots_buf, nt->tids, sizeof(ItemPointerData) * want);
    count = want;
  }
  UnlockReleaseBuffer(buf);
  if (bad != nullptr) {
    if (problem.what != nullptr)
      AddProblem(rep, blk, f->off, nullptr, "neighbour tuple", "neighbour TID (%u,%u) %s: %s", nblk,
                 noff, bad, problem.detail);
    else if (count >= 0)
      AddProblem(rep, blk, f->off, nullptr, "neighbour tuple",
                 "neighbour TID (%u,%u) %s: %d slots, level %d needs %d", nblk, noff, bad, count,
                 f->level, want);
    else
      AddProblem(rep, blk, f->off, nullptr, "neighbour tuple", "neighbour TID (%u,%u) %s", nblk,
                 noff, bad);
    return;
  }
  // A deleted element's links are not checked: once VACUUM has repaired the lists of live
  // elements nothing leads to it, and its own links may name elements already reclaimed (a
  // VACUUM stopped in its reclaim pass leaves the rest for the next one).
  if (f->deleted) return;
  ItemPointerData self;
  ItemPointerSet(&self, blk, f->off);
  for (int lc = 0; lc <= f->level; lc++) {
    int start = HnswLayerStart(lc, m), slots = HnswLayerSlots(lc, m);
    bool ended = false;
    for (int k = 0; k < slots; k++) {
      ItemPointerData* t = &slots_buf[start + k];
      if (!ItemPointerIsValid(t)) {
        ended = true;
        continue;
      }
      BlockNumber tb = ItemPointerGetBlockNumber(t);
      OffsetNumber to = ItemPointerGetOffsetNumber(t);
      if (ended) {
        AddProblem(rep, blk, f->off, nullptr, "neighbour list hole",
                   "layer %d slot %d links (%u,%u) after an empty slot (readers stop there)", lc, k,
                   tb, to);
        ended = false;
      }
      if (SameTid(t, &self)) {
        AddProblem(rep, blk, f->off, nullptr, "self link",
                   "layer %d slot %d links the element to itself", lc, k);
        continue;
      }
      bool dup = false;
      for (int j = 0; j < k && !dup; j++) dup = SameTid(t, &slots_buf[start + j]);
      if (dup) {
        AddProblem(rep, blk, f->off, nullptr, "duplicate link", "layer %d links (%u,%u) twice", lc,
                   tb, to);
        continue;
      }
      int64 idx = HnswReachFind(r, t);
      int level;
      const char* what = nullptr;
      if (idx >= 0)
        level = r->levels[idx];
      else
        level = ProbeTarget(index, t, payload_bytes, &what);
      if (level == kDamagedTarget) continue;  // reported where it lies
      if (level < 0)
        AddProblem(rep, blk, f->off, nullptr, "link to non-element",
                   "layer %d slot %d links (%u,%u): %s", lc, k, tb, to, what);
      else if (level < lc)
        AddProblem(rep, blk, f->off, nullptr, "link below its layer",
                   "layer %d links (%u,%u), an element of level %d", lc, tb, to, level);
    }
  }
}

struct Unreached {
  ItemPointerData tid;
  int nheaptids;
  ItemPointerData heaptids[kHnswHeapTids];
};

bool HnswValueIndexed(void* arg, Datum value) {
  return HnswPrepareValue(static_cast<const HnswSupport*>(arg), value, true) != nullptr;
}

}  // namespace

namespace {

// Reads the meta page (the caller holds the update lock in share mode) and checks it against
// the index's options, the column and the relation's size (nblocks). False, the problem
// reported, when nothing else can be checked. *entry: the entry point when it lies on a data
// page, else invalid.
bool CheckMeta(Relation index, BlockNumber nblocks, Report* rep, HnswMetaPageData* meta,
               ItemPointerData* entry) {
  Buffer buf = ReadBuffer(index, kHnswMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  bool is_new = PageIsNew(page);
  if (!is_new) *meta = *HnswPageGetMeta(page);
  UnlockReleaseBuffer(buf);
  // the size after the meta page's read: inserts (which run meanwhile) extend the index before
  // they name a new page there
  nblocks = RelationGetNumberOfBlocks(index);
  const char* bad = nullptr;
  if (is_new)
    bad = "block 0 is not initialised";
  else if (meta->magic != kHnswMagic)
    bad = "wrong magic number";
  else if (meta->version != kHnswVersion)
    bad = "an on-disk format version this ragstore does not read (REINDEX rebuilds it)";
  else if (meta->m < kMinM || meta->m > kMaxM)
    bad = "m outside 2..100";
  if (bad != nullptr) {
    AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "%s: nothing else checked", bad);
    return false;
  }
  if (meta->m != HnswGetM(index))
    AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "m is %d, the index's option %d", meta->m, HnswGetM(index));
  if (meta->ef_construction < kMinEfConstruction || meta->ef_construction > kMaxEfConstruction)
    AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "ef_construction %d outside %d..%d", meta->ef_construction, kMinEfConstruction,
               kMaxEfConstruction);
  int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
  if (typmod > 0 && meta->dimensions != static_cast<uint32>(typmod))
    AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "%u dimensions, the column %d", meta->dimensions, typmod);
  ItemPointerSetInvalid(entry);
  if (BlockNumberIsValid(meta->entry_blkno)) {
    if (meta->entry_blkno == kHnswMetaBlock || meta->entry_blkno >= nblocks ||
        meta->entry_offno < FirstOffsetNumber || meta->entry_offno > MaxOffsetNumber)
      AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "entry point",
                 "entry point (%u,%u) is outside the data pages", meta->entry_blkno,
                 meta->entry_offno);
    else
      ItemPointerSet(entry, meta->entry_blkno, meta->entry_offno);
    if (meta->entry_level < 0 || meta->entry_level > kMaxLevel)
      AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "entry point",
                 "entry level %d outside 0..%d", meta->entry_level, kMaxLevel);
  } else if (meta->entry_level != -1) {
    AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "entry point",
               "no entry point but entry level %d", meta->entry_level);
  }
  if (BlockNumberIsValid(meta->insert_page) &&
      (meta->insert_page == kHnswMetaBlock || meta->insert_page >= nblocks))
    AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "insert page %u is outside the data pages", meta->insert_page);
  return true;
}

// The live elements with heap rows that the entry point does not reach on layer 0, collected
// by CheckPages (palloc'd, grown by doubling).
struct UnreachedList {
  Unreached* items;
  int64 n;
  int64 cap;
};

void AddUnreached(UnreachedList* u, BlockNumber blk, const ElementFacts* f) {
  if (u->n == u->cap) {
    u->cap *= 2;
    u->items = static_cast<Unreached*>(repalloc_huge(u->items, sizeof(Unreached) * u->cap));
  }
  Unreached* x = &u->items[u->n++];
  ItemPointerSet(&x->tid, blk, f->off);
  x->nheaptids = f->nheaptids;
  memcpy(x->heaptids, f->heaptids, sizeof(x->heaptids));
}

// Every page, element and neighbour tuple: damage reported, the live elements' heap TIDs into
// heap_tids, the elements r (when lists_fit) says are not reached into *unreached.
void CheckPages(Relation index, const HnswSupport* sup, const HnswMetaPageData* meta, HnswReach* r,
                bool lists_fit, Report* rep, verify::HeapTids* heap_tids,
                UnreachedList* unreached) {
  auto* facts = static_cast<ElementFacts*>(palloc(sizeof(ElementFacts) * MaxOffsetNumber));
  char* wide = sup->code_head > 0 ? static_cast<char*>(palloc(sup->payload_size)) : nullptr;
  auto* slots_buf =
      static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * (kMaxLevel + 2) * kMaxM));
  BlockNumber nblocks = RelationGetNumberOfBlocks(index);
  for (BlockNumber blk = 1; blk < nblocks; blk++) {
    CHECK_FOR_INTERRUPTS();
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    int nfacts = 0;
    if (PageIsNew(page)) {
      // an extension whose first write never happened (a crash): unused space, not damage
    } else if (HnswPageIsSane(page) && HnswIsParamPage(page)) {
      // a quantized index's parameter page: checked with the meta page (its quantizer loads)
    } else if (!HnswPageIsSane(page)) {
      AddProblem(rep, blk, InvalidOffsetNumber, nullptr, "page",
                 "not an hnsw data page (header or special space)");
    } else {
      OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
      for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
        // neighbour tuples (no element here, no problem) are checked from their element
        HnswTupleProblem problem;
        HnswElementTupleData* e = HnswCheckElement(page, blk, off, sup->stored_size, &problem);
        if (problem.what != nullptr)
          AddProblem(rep, blk, off, nullptr, problem.what, "%s", problem.detail);
        if (e == nullptr) continue;
        ReadElementFacts(index, rep, nblocks, blk, off, e, meta, sup, wide, &facts[nfacts++]);
      }
    }
    UnlockReleaseBuffer(buf);
    for (int i = 0; i < nfacts; i++) {
      ElementFacts* f = &facts[i];
      if (!f->deleted)
        for (int k = 0; k < f->nheaptids; k++) verify::HeapTidsAdd(heap_tids, &f->heaptids[k]);
      CheckNeighbors(index, rep, r, meta->m, sup->stored_size, nblocks, blk, f, slots_buf);
      if (lists_fit && !f->deleted && f->nheaptids > 0) {
        ItemPointerData tid;
        ItemPointerSet(&tid, blk, f->off);
        int64 idx = HnswReachFind(r, &tid);
        if (idx >= 0 && !r->reached[idx]) AddUnreached(unreached, blk, f);
      }
    }
  }
  pfree(facts);
  pfree(slots_buf);
}

// Neighbour tuples named by two elements, and the entry point's element and level.
void CheckSharedListsAndEntry(Relation index, const HnswSupport* sup, const HnswMetaPageData& meta,
                              const ItemPointerData* entry, const HnswReach* r, Report* rep) {
  if (r->n > 1) {
    auto* ntids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * r->n));
    memcpy(ntids, r->ntids, sizeof(ItemPointerData) * r->n);
    qsort(ntids, r->n, sizeof(ItemPointerData), CompareTids);
    for (int64 i = 1; i < r->n; i++)
      if (ItemPointerIsValid(&ntids[i]) && SameTid(&ntids[i], &ntids[i - 1]) &&
          (i == 1 || !SameTid(&ntids[i - 1], &ntids[i - 2])))
        AddProblem(rep, ItemPointerGetBlockNumberNoCheck(&ntids[i]),
                   ItemPointerGetOffsetNumberNoCheck(&ntids[i]), nullptr, "neighbour tuple",
                   "named by more than one element");
    pfree(ntids);
  }
  if (ItemPointerIsValid(entry)) {
    ItemPointerData tid = *entry;
    int64 idx = HnswReachFind(r, &tid);
    const char* what = nullptr;
    int level = idx >= 0 ? r->levels[idx] : ProbeTarget(index, &tid, sup->stored_size, &what);
    if (level < 0)
      AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "entry point",
                 "entry point (%u,%u) is %s", meta.entry_blkno, meta.entry_offno, what);
    else if (level != meta.entry_level)
      AddProblem(rep, kHnswMetaBlock, InvalidOffsetNumber, nullptr, "entry point",
                 "entry point (%u,%u) has level %d, the meta page says %d", meta.entry_blkno,
                 meta.entry_offno, level, meta.entry_level);
  }
}

// Reachability: an unreached element matters when its row is visible (an interrupted insert
// leaves an unreached element of an aborted row: harmless, VACUUM removes it). Checks the
// survivors again with inserts held off and reports those still unreached.
void ReportUnreachable(Relation heap, Relation index, Snapshot snapshot, UnreachedList* u,
                       Report* rep) {
  int64 nvisible = 0;
  for (int64 i = 0; i < u->n; i++) {
    if ((i & 255) == 0) CHECK_FOR_INTERRUPTS();
    bool visible = false;
    for (int k = 0; k < u->items[i].nheaptids && !visible; k++)
      visible = verify::HeapRowVisible(heap, &u->items[i].heaptids[k], snapshot);
    if (visible) u->items[nvisible++] = u->items[i];
  }
  if (nvisible == 0) return;
  MemoryContext reach_ctx =
      AllocSetContextCreate(CurrentMemoryContext, "verify hnsw reach", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(reach_ctx);
  LockPage(index, kHnswUpdateLock, ExclusiveLock);
  HnswReach r2;
  bool fit = HnswReachCollect(index, nullptr, verify::VerifyBudget(), &r2, true);
  UnlockPage(index, kHnswUpdateLock, ExclusiveLock);
  MemoryContextSwitchTo(old);
  for (int64 i = 0; fit && i < nvisible; i++) {
    Unreached& x = u->items[i];
    int64 idx = HnswReachFind(&r2, &x.tid);
    if (idx < 0 || r2.reached[idx] || r2.deleted[idx]) continue;
    AddProblem(rep, ItemPointerGetBlockNumber(&x.tid), ItemPointerGetOffsetNumber(&x.tid),
               &x.heaptids[0], "unreachable element",
               r2.entry < 0
                   ? "no search can return this visible row: the index has no usable entry point"
                   : "no search can return this visible row: layer 0 has no path to it from the "
                     "entry point");
  }
  MemoryContextDelete(reach_ctx);
}

}  // namespace

void HnswVerify(Relation heap, Relation index, Snapshot snapshot, bool heapallindexed,
                Report* rep) {
  HnswSupport sup;
  HnswInitSupport(index, &sup);
  if (sup.quantizer != QuantizerKind::kNone) {
    // The meta page names the option's quantizer and its parameter pages hold it (this raises
    // XX002 when they do not: nothing else could be read).
    HnswLoadQuantizer(index, &sup);
  }
  BlockNumber nblocks = RelationGetNumberOfBlocks(index);
  if (nblocks == 0) {
    AddProblem(rep, InvalidBlockNumber, InvalidOffsetNumber, nullptr, "meta page",
               "the index has no pages");
    return;
  }
  LockPage(index, kHnswUpdateLock, ShareLock);
  HnswMetaPageData meta;
  ItemPointerData entry;
  if (!CheckMeta(index, nblocks, rep, &meta, &entry)) {
    UnlockPage(index, kHnswUpdateLock, ShareLock);
    return;
  }

  // the elements and their layer-0 lists (hnsw_reach.cpp), deleted ones included
  MemoryContext reach_ctx =
      AllocSetContextCreate(CurrentMemoryContext, "verify hnsw reach", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(reach_ctx);
  HnswReach r;
  bool lists_fit = HnswReachCollect(index, nullptr, verify::VerifyBudget(), &r, true);
  MemoryContextSwitchTo(old);
  if (!lists_fit)
    ereport(NOTICE, (errmsg("hnsw index \"%s\": reachability not checked: %lld elements need %zu "
                            "kB, more than maintenance_work_mem",
                            RelationGetRelationName(index), static_cast<long long>(r.n),
                            HnswReachBytes(r.n, r.m) / 1024),
                     errhint("Increase maintenance_work_mem.")));

  verify::HeapTids heap_tids;
  verify::HeapTidsInit(&heap_tids, verify::VerifyBudget());
  UnreachedList unreached{static_cast<Unreached*>(palloc(sizeof(Unreached) * 16)), 0, 16};
  CheckPages(index, &sup, &meta, &r, lists_fit, rep, &heap_tids, &unreached);
  CheckSharedListsAndEntry(index, &sup, meta, &entry, &r, rep);
  UnlockPage(index, kHnswUpdateLock, ShareLock);
  MemoryContextDelete(reach_ctx);

  ReportUnreachable(heap, index, snapshot, &unreached, rep);
  verify::CheckHeapTids(heap, index, snapshot, &heap_tids, heapallindexed, HnswValueIndexed, &sup,
                        rep);
}

}  // namespace hnsw
}  // namespace ragstore
