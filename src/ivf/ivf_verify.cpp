// ragstore ivfflat: ragstore.verify_index for ivfflat indexes (the SQL entry point and the heap
// checks are in pg/verify.cpp).
//
// What it checks (page layout: ivf_page.h):
//   meta page   magic, version, dimensions = the column's, lists in 1..32768 and = the index's
//               option, element kind and metric = the operator class's, element size = what
//               kind and dimensions give, the first list page inside the relation;
//   list pages  a chain of list pages that ends, holding exactly `lists` list tuples of the
//               right size; each list's first and insert blocks inside the relation, the
//               insert block on the list's own chain;
//   chains      every list's chain of data pages ends (no cycle), stays inside the relation and
//               shares no page with another chain; every initialised page is the meta page, a
//               list page or a data page of exactly one chain (so every vector sits in exactly
//               one list);
//   quantized   (version 2) the quantizer known, allowed for the element kind and dimensions,
//               code and element sizes matching it, the quantizer option = the meta page's; the
//               parameter pages each a blob page holding its full slice, the serialised
//               quantizer on them readable and of the meta page's kind and dimensions; each
//               entry's reconstruction error and norm non-negative (not NaN);
//   data pages  header consistent with n entries (pd_lower, pd_upper, special space), n within
//               the page's capacity, every heap TID valid (collected for the heap checks:
//               duplicates, TIDs beyond the table, heapallindexed); wide elements: the next
//               block a continuation page holding the rest, on no chain.
// Locks: AccessShareLock (caller) and a share lock on one page at a time. Inserts may append
// pages meanwhile: a page found in no chain is looked for again past each chain's tail before
// it is reported.
#include "ivf/ivf.h"
#include "pg/blob_pages.h"
#include "pg/guard.h"
#include "pg/verify.h"

extern "C" {
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace ragstore {
namespace ivf {
namespace {

using verify::AddProblem;
using verify::Report;

constexpr int32 kOwnerNone = -1;
constexpr int32 kOwnerMeta = -2;  // meta or list page

struct IndexedArg {
  const pg::DistanceDesc* dist;
  int dims;
  char* element;
};

bool IvfValueIndexed(void* arg, Datum value) {
  auto* a = static_cast<IndexedArg*>(arg);
  return DatumToElement(value, a->dist, a->dims, a->element, nullptr);
}

bool PageHeaderSane(Page page) {
  PageHeader h = reinterpret_cast<PageHeader>(page);
  return h->pd_lower >= SizeOfPageHeaderData && h->pd_lower <= h->pd_upper &&
         h->pd_upper <= h->pd_special &&
         h->pd_special == BLCKSZ - MAXALIGN(sizeof(IvfPageOpaque)) &&
         PageOpaque(page)->page_id == kIvfPageId;
}

struct ChainWalk {
  Relation index;
  Report* rep;
  int32* owner;
  BlockNumber nblocks;
  int element_size;  // bytes of an entry's element on its data page (HeadElementSize)
  int tail_size;     // wide elements: bytes on the continuation page (WideTailSize)
  Size capacity;
  verify::HeapTids* heap_tids;
  bool quantized;
};

// A wide element's continuation page (ivf_page.h) after data page blk of list `list` (read
// while the caller holds blk's share lock, the insert's lock order): a continuation page
// holding the rest of the element, owned by no chain.
void CheckContinuation(ChainWalk* w, int list, BlockNumber blk) {
  BlockNumber cblk = blk + 1;
  if (cblk >= w->nblocks || w->owner[cblk] != kOwnerNone) {
    AddProblem(w->rep, blk, InvalidOffsetNumber, nullptr, "continuation page",
               "the continuation page %u of list %d's wide entries is %s", cblk, list,
               cblk >= w->nblocks ? "outside the relation" : "on a chain or seen before");
    return;
  }
  w->owner[cblk] = list;
  Buffer buf = ReadBuffer(w->index, cblk);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  bool ok = !PageIsNew(page) && PageHeaderSane(page) && IsContinuationPage(page, w->tail_size);
  UnlockReleaseBuffer(buf);
  if (!ok)
    AddProblem(w->rep, cblk, InvalidOffsetNumber, nullptr, "continuation page",
               "not a continuation page holding %d bytes (after data page %u of list %d)",
               w->tail_size, blk, list);
}

// Walks list `list`'s chain from blk, checking each page; returns the last page walked
// (InvalidBlockNumber when none). Stops at a page outside the relation or already owned.
// from_blk: where the link to blk was read (for the report).
BlockNumber WalkChain(ChainWalk* w, int list, BlockNumber blk, BlockNumber from_blk) {
  BlockNumber last = InvalidBlockNumber;
  BlockNumber prev = from_blk;
  while (BlockNumberIsValid(blk)) {
    CHECK_FOR_INTERRUPTS();
    if (blk == kMetaBlock || blk >= w->nblocks) {
      AddProblem(w->rep, prev, InvalidOffsetNumber, nullptr, "chain",
                 "list %d's chain leads to block %u, outside the data pages", list, blk);
      break;
    }
    if (w->owner[blk] != kOwnerNone) {
      if (w->owner[blk] == list)
        AddProblem(w->rep, prev, InvalidOffsetNumber, nullptr, "chain",
                   "list %d's chain returns to block %u (a cycle)", list, blk);
      else if (w->owner[blk] == kOwnerMeta)
        AddProblem(w->rep, prev, InvalidOffsetNumber, nullptr, "chain",
                   "list %d's chain leads to block %u, a meta or list page", list, blk);
      else
        AddProblem(w->rep, prev, InvalidOffsetNumber, nullptr, "chain",
                   "list %d's chain leads to block %u, a page of list %d", list, blk,
                   w->owner[blk]);
      break;
    }
    w->owner[blk] = list;
    last = blk;
    Buffer buf = ReadBuffer(w->index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    BlockNumber next = InvalidBlockNumber;
    if (PageIsNew(page) || !PageHeaderSane(page) || PageOpaque(page)->type != kPageData) {
      AddProblem(w->rep, blk, InvalidOffsetNumber, nullptr, "data page",
                 "list %d's chain holds a page that is not an ivfflat data page", list);
    } else {
      PageHeader h = reinterpret_cast<PageHeader>(page);
      Size tid_bytes = h->pd_lower - MAXALIGN(SizeOfPageHeaderData);
      int n = DataPageCount(page);
      if (tid_bytes % sizeof(ItemPointerData) != 0 || static_cast<Size>(n) > w->capacity ||
          h->pd_upper != h->pd_special - static_cast<Size>(w->element_size) * n) {
        AddProblem(
            w->rep, blk, InvalidOffsetNumber, nullptr, "data page",
            "header does not describe whole entries (pd_lower %u, pd_upper %u, %zu entries fit)",
            h->pd_lower, h->pd_upper, w->capacity);
      } else {
        ItemPointerData* tids = DataPageTids(page);
        if (w->tail_size > 0) CheckContinuation(w, list, blk);
        for (int i = 0; i < n; i++) {
          if (w->quantized) {
            CodeAux aux;
            memcpy(&aux, DataPageElement(page, i, w->element_size), sizeof(aux));
            if (!(aux.error >= 0) || !(aux.norm >= 0))
              AddProblem(w->rep, blk, static_cast<OffsetNumber>(i + 1), &tids[i], "entry code",
                         "entry %d has a negative or NaN reconstruction error or norm", i);
          }
          if (ItemPointerIsValid(&tids[i]))
            verify::HeapTidsAdd(w->heap_tids, &tids[i]);
          else
            AddProblem(w->rep, blk, static_cast<OffsetNumber>(i + 1), nullptr, "entry heap TID",
                       "entry %d has an invalid heap TID", i);
        }
      }
      next = PageOpaque(page)->next;
    }
    UnlockReleaseBuffer(buf);
    prev = blk;
    blk = next;
  }
  return last;
}

// The list page chain: fills start/insert/where of each list; false when unusable.
bool ReadListPages(Relation index, Report* rep, const IvfMetaData* meta, int32* owner,
                   BlockNumber nblocks, BlockNumber* start, BlockNumber* insert,
                   BlockNumber* where_blk, OffsetNumber* where_off) {
  int list = 0;
  BlockNumber prev = kMetaBlock;
  for (BlockNumber blk = meta->first_list_block; BlockNumberIsValid(blk);) {
    CHECK_FOR_INTERRUPTS();
    if (blk == kMetaBlock || blk >= nblocks || owner[blk] != kOwnerNone) {
      AddProblem(rep, prev, InvalidOffsetNumber, nullptr, "list page",
                 "the list pages' chain leads to block %u (outside the relation or seen before)",
                 blk);
      return false;
    }
    owner[blk] = kOwnerMeta;
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    BlockNumber next = InvalidBlockNumber;
    bool ok = !PageIsNew(page) && PageHeaderSane(page) && PageOpaque(page)->type == kPageList;
    if (!ok) {
      UnlockReleaseBuffer(buf);
      AddProblem(rep, blk, InvalidOffsetNumber, nullptr, "list page", "not an ivfflat list page");
      return false;
    }
    Size want = ListTupleSize(ListCenterSize(meta));
    OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
    PageHeader h = reinterpret_cast<PageHeader>(page);
    for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
      ItemId iid = PageGetItemId(page, off);
      if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) < want ||
          ItemIdGetOffset(iid) < h->pd_upper ||
          ItemIdGetOffset(iid) + ItemIdGetLength(iid) > h->pd_special) {
        AddProblem(rep, blk, off, nullptr, "list page", "not a list tuple of %zu bytes", want);
        continue;
      }
      auto* lt = reinterpret_cast<IvfListTuple*>(PageGetItem(page, iid));
      if (list < meta->lists) {
        start[list] = lt->start_block;
        insert[list] = lt->insert_block;
        where_blk[list] = blk;
        where_off[list] = off;
      }
      list++;
    }
    next = PageOpaque(page)->next;
    UnlockReleaseBuffer(buf);
    prev = blk;
    blk = next;
  }
  if (list != meta->lists) {
    AddProblem(rep, meta->first_list_block, InvalidOffsetNumber, nullptr, "list page",
               "%d list tuples, the meta page says %d lists", list, meta->lists);
    return list > meta->lists;
  }
  return true;
}

// The parameter pages (owned as meta pages): each a blob page with its full slice; the
// serialised quantizer readable. False when the quantizer cannot be read.
bool CheckParameterPages(Relation index, Report* rep, const IvfMetaData* meta, int32* owner) {
  Size bytes = meta->quantizer_bytes + sizeof(float) * static_cast<Size>(meta->lists) * meta->dims;
  Size per = pg::BlobBytesPerPage(sizeof(IvfPageOpaque));
  char* qbytes = static_cast<char*>(palloc(meta->quantizer_bytes));
  bool ok = true;
  Size done = 0;
  for (BlockNumber blk = meta->blob_block; blk < meta->first_list_block; blk++, done += per) {
    CHECK_FOR_INTERRUPTS();
    owner[blk] = kOwnerMeta;
    Size want = Min(per, bytes - done);
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    if (PageIsNew(page) || !PageHeaderSane(page) || PageOpaque(page)->type != kPageBlob ||
        pg::BlobPageBytes(page) != static_cast<long>(want)) {
      AddProblem(rep, blk, InvalidOffsetNumber, nullptr, "parameter page",
                 "not a parameter page holding %zu bytes", want);
      ok = false;
    } else if (done < meta->quantizer_bytes) {
      memcpy(qbytes + done, PageGetContents(page), Min(want, meta->quantizer_bytes - done));
    }
    UnlockReleaseBuffer(buf);
  }
  if (!ok) return false;
  QuantizerKind kind = QuantizerKind::kNone;
  size_t dims = 0;
  const uint8_t* params = nullptr;
  uint32 len = meta->quantizer_bytes;
  bool parsed = pg::GuardedCall([&] {
    try {
      ParseQuantizer(reinterpret_cast<const uint8_t*>(qbytes), len, &kind, &dims, &params);
      return true;
    } catch (const Error&) {
      return false;
    }
  });
  if (!parsed || kind != static_cast<QuantizerKind>(meta->quantizer) ||
      dims != static_cast<size_t>(meta->dims)) {
    AddProblem(rep, meta->blob_block, InvalidOffsetNumber, nullptr, "parameter page",
               "the serialised quantizer is unreadable or not the meta page's");
    return false;
  }
  return true;
}

}  // namespace

namespace {

// Reads and checks the meta page against itself, the relation's size, the operator class, the
// column and the index's options. False (the problem reported) when nothing else can be
// checked; problems that leave the pages readable are reported and the check goes on.
bool CheckMeta(Relation index, BlockNumber nblocks, const pg::DistanceDesc* opc, Report* rep,
               IvfMetaData* meta) {
  const char* bad = nullptr;
  Buffer buf = ReadBuffer(index, kMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  if (PageIsNew(page))
    bad = "block 0 is not initialised";
  else if (!PageHeaderSane(page) || PageOpaque(page)->type != kPageMeta)
    bad = "not an ivfflat meta page";
  else
    *meta = *reinterpret_cast<IvfMetaData*>(PageGetContents(page));
  UnlockReleaseBuffer(buf);
  if (bad == nullptr) {
    bad = IvfMetaProblem(*meta, nblocks);
    if (bad == nullptr && meta->kind != static_cast<uint16>(opc->type))
      bad = "element kind is not the operator class's";
  }
  if (bad != nullptr) {
    AddProblem(rep, kMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "%s: nothing else checked", bad);
    return false;
  }
  if (meta->metric != static_cast<uint16>(opc->metric))
    AddProblem(rep, kMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "metric %u, the operator class's %u", meta->metric,
               static_cast<unsigned>(opc->metric));
  int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
  if (typmod > 0 && meta->dims != typmod)
    AddProblem(rep, kMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "%d dimensions, the column %d", meta->dims, typmod);
  if (meta->lists != GetLists(index))
    AddProblem(rep, kMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "%d lists, the index's option %d", meta->lists, GetLists(index));
  QuantizerKind qkind = meta->version == kIvfVersionQuantized
                            ? static_cast<QuantizerKind>(meta->quantizer)
                            : QuantizerKind::kNone;
  if (qkind != GetQuantizer(index))
    AddProblem(rep, kMetaBlock, InvalidOffsetNumber, nullptr, "meta page",
               "quantizer %s, the index's option %s", QuantizerName(qkind),
               QuantizerName(GetQuantizer(index)));
  return true;
}

// Pages on no chain: first follows each chain past the tail WalkChain saw (inserts go on
// meanwhile), or from an empty list's new first page, then reports every initialised page still
// on no chain as an orphan.
void ReportOrphans(ChainWalk* w, const IvfMetaData& meta, const BlockNumber* tail,
                   const BlockNumber* where_blk, const OffsetNumber* where_off) {
  Relation index = w->index;
  const int32* owner = w->owner;
  BlockNumber nblocks = w->nblocks;
  bool any_orphan = false;
  for (BlockNumber b = 1; b < nblocks && !any_orphan; b++) any_orphan = owner[b] == kOwnerNone;
  if (!any_orphan) return;
  for (int list = 0; list < meta.lists; list++) {
    BlockNumber from;
    if (BlockNumberIsValid(tail[list])) {
      Buffer buf = ReadBuffer(index, tail[list]);
      LockBuffer(buf, BUFFER_LOCK_SHARE);
      Page page = BufferGetPage(buf);
      from = PageIsNew(page) ? InvalidBlockNumber : PageOpaque(page)->next;
      UnlockReleaseBuffer(buf);
    } else if (BlockNumberIsValid(where_blk[list])) {
      // the list was empty: its first page may have come meanwhile
      Buffer buf = ReadBuffer(index, where_blk[list]);
      LockBuffer(buf, BUFFER_LOCK_SHARE);
      Page page = BufferGetPage(buf);
      from =
          reinterpret_cast<IvfListTuple*>(PageGetItem(page, PageGetItemId(page, where_off[list])))
              ->start_block;
      UnlockReleaseBuffer(buf);
    } else {
      from = InvalidBlockNumber;
    }
    if (BlockNumberIsValid(from) && from < nblocks && owner[from] == kOwnerNone)
      WalkChain(w, list, from, BlockNumberIsValid(tail[list]) ? tail[list] : InvalidBlockNumber);
  }
  for (BlockNumber b = 1; b < nblocks; b++) {
    if (owner[b] != kOwnerNone) continue;
    CHECK_FOR_INTERRUPTS();
    Buffer buf = ReadBuffer(index, b);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    bool is_new = PageIsNew(BufferGetPage(buf));
    UnlockReleaseBuffer(buf);
    // a zeroed page is an extension whose first write never happened (a crash): not damage
    if (!is_new)
      AddProblem(w->rep, b, InvalidOffsetNumber, nullptr, "orphan page",
                 "an initialised page on no list's chain");
  }
}

}  // namespace

void IvfVerify(Relation heap, Relation index, Snapshot snapshot, bool heapallindexed, Report* rep) {
  BlockNumber nblocks = RelationGetNumberOfBlocks(index);
  if (nblocks == 0) {
    AddProblem(rep, InvalidBlockNumber, InvalidOffsetNumber, nullptr, "meta page",
               "the index has no pages");
    return;
  }
  IvfMetaData meta;
  const pg::DistanceDesc* opc = IvfOpclassDistance(index);
  if (!CheckMeta(index, nblocks, opc, rep, &meta)) return;
  const bool quantized = meta.version == kIvfVersionQuantized;

  // Owner of each block: list number, kOwnerMeta, or kOwnerNone (4 bytes per block).
  auto* owner =
      static_cast<int32*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * nblocks));
  for (BlockNumber b = 0; b < nblocks; b++) owner[b] = kOwnerNone;
  owner[kMetaBlock] = kOwnerMeta;
  auto* start = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * meta.lists));
  auto* insert = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * meta.lists));
  auto* tail = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * meta.lists));
  auto* where_blk = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * meta.lists));
  auto* where_off = static_cast<OffsetNumber*>(palloc0(sizeof(OffsetNumber) * meta.lists));
  for (int i = 0; i < meta.lists; i++)
    start[i] = insert[i] = tail[i] = where_blk[i] = InvalidBlockNumber;
  if (quantized && !CheckParameterPages(index, rep, &meta, owner)) return;
  if (!ReadListPages(index, rep, &meta, owner, nblocks, start, insert, where_blk, where_off))
    return;

  verify::HeapTids heap_tids;
  verify::HeapTidsInit(&heap_tids, verify::VerifyBudget());
  ChainWalk w{index,
              rep,
              owner,
              nblocks,
              HeadElementSize(meta.element_size),
              WideTailSize(meta.element_size),
              DataPageCapacity(HeadElementSize(meta.element_size)),
              &heap_tids,
              quantized};
  for (int list = 0; list < meta.lists; list++) {
    tail[list] = WalkChain(&w, list, start[list], where_blk[list]);
    if (BlockNumberIsValid(insert[list]) &&
        (insert[list] >= nblocks || owner[insert[list]] != list))
      AddProblem(rep, where_blk[list], where_off[list], nullptr, "list page",
                 "list %d's insert block %u is not on its chain", list, insert[list]);
  }
  ReportOrphans(&w, meta, tail, where_blk, where_off);

  IndexedArg arg{opc, meta.dims, static_cast<char*>(palloc(ElementSize(opc->type, meta.dims)))};
  verify::CheckHeapTids(heap, index, snapshot, &heap_tids, heapallindexed, IvfValueIndexed, &arg,
                        rep);
}

}  // namespace ivf
}  // namespace ragstore
