// ragstore ivfflat: aminsert. A row goes to the list of its nearest centroid; the entry is
// appended to the first page of the chain with room, from the list's insert-block hint on; a
// full tail page gets a new page linked after it. Every change is one generic WAL record
// (see ivf_page.h for the locks).
#include "ivf/ivf.h"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace ragstore {
namespace ivf {
namespace {

IvfListTuple* ListTupleOnPage(Page page, OffsetNumber off) {
  return reinterpret_cast<IvfListTuple*>(PageGetItem(page, PageGetItemId(page, off)));
}

// Moves list `list`'s insert hint to `block` (generic WAL), unless already there.
void UpdateInsertHint(Relation index, const IvfCache* cache, int list, BlockNumber block) {
  Buffer buf = ReadBuffer(index, cache->list_block[list]);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  if (ListTupleOnPage(BufferGetPage(buf), cache->list_offset[list])->insert_block != block) {
    GenericXLogState* state = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(state, buf, 0);
    ListTupleOnPage(page, cache->list_offset[list])->insert_block = block;
    GenericXLogFinish(state);
  }
  UnlockReleaseBuffer(buf);
}

// The list is empty: gives it its first page, holding the entry. Returns false when another
// backend gave it one first (the caller then inserts normally).
bool StartList(Relation index, const IvfCache* cache, int list, ItemPointer tid,
               const char* element) {
  Buffer lbuf = ReadBuffer(index, cache->list_block[list]);
  LockBuffer(lbuf, BUFFER_LOCK_EXCLUSIVE);
  if (BlockNumberIsValid(
          ListTupleOnPage(BufferGetPage(lbuf), cache->list_offset[list])->start_block)) {
    UnlockReleaseBuffer(lbuf);
    return false;
  }
  GenericXLogState* state = GenericXLogStart(index);
  Page lpage = GenericXLogRegisterBuffer(state, lbuf, 0);
  Page npage, cpage;
  Buffer cbuf;
  Buffer nbuf = NewEntryPages(index, cache, state, &npage, &cbuf, &cpage);
  BlockNumber nblk = BufferGetBlockNumber(nbuf);
  AppendEntry(npage, cpage, tid, element, cache->head_size, cache->tail_size);
  IvfListTuple* lt = ListTupleOnPage(lpage, cache->list_offset[list]);
  lt->start_block = nblk;
  lt->insert_block = nblk;
  GenericXLogFinish(state);
  UnlockReleaseBuffer(nbuf);
  if (BufferIsValid(cbuf)) UnlockReleaseBuffer(cbuf);
  UnlockReleaseBuffer(lbuf);
  return true;
}

}  // namespace

void InsertIntoList(Relation index, const IvfCache* cache, int list, ItemPointer tid,
                    const char* element) {
  BlockNumber start, hint;
  ReadListBlocks(index, cache, list, &start, &hint);
  if (!BlockNumberIsValid(start)) {
    if (StartList(index, cache, list, tid, element)) return;
    ReadListBlocks(index, cache, list, &start, &hint);
  }
  BlockNumber blk = BlockNumberIsValid(hint) ? hint : start;
  Size capacity = DataPageCapacity(cache->head_size);
  for (;;) {
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    if (static_cast<Size>(DataPageCount(page)) < capacity) {
      GenericXLogState* state = GenericXLogStart(index);
      page = GenericXLogRegisterBuffer(state, buf, 0);
      // a wide element's continuation page (after its data page's, ivf_page.h)
      Buffer cbuf = cache->tail_size > 0 ? ReadBuffer(index, blk + 1) : InvalidBuffer;
      Page cpage = nullptr;
      if (BufferIsValid(cbuf)) {
        LockBuffer(cbuf, BUFFER_LOCK_EXCLUSIVE);
        if (!IsContinuationPage(BufferGetPage(cbuf), -1))
          ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                          errmsg("ivfflat index \"%s\" has no continuation page after block %u",
                                 RelationGetRelationName(index), blk)));
        cpage = GenericXLogRegisterBuffer(state, cbuf, 0);
      }
      AppendEntry(page, cpage, tid, element, cache->head_size, cache->tail_size);
      GenericXLogFinish(state);
      if (BufferIsValid(cbuf)) UnlockReleaseBuffer(cbuf);
      UnlockReleaseBuffer(buf);
      if (blk != hint) UpdateInsertHint(index, cache, list, blk);
      return;
    }
    BlockNumber next = PageOpaque(page)->next;
    if (BlockNumberIsValid(next)) {
      UnlockReleaseBuffer(buf);
      blk = next;
      continue;
    }
    // The tail is full: append a page (the tail stays locked, so a concurrent inserter waits
    // and then follows the new link).
    GenericXLogState* state = GenericXLogStart(index);
    page = GenericXLogRegisterBuffer(state, buf, 0);
    Page npage, cpage;
    Buffer cbuf;
    Buffer nbuf = NewEntryPages(index, cache, state, &npage, &cbuf, &cpage);
    BlockNumber nblk = BufferGetBlockNumber(nbuf);
    AppendEntry(npage, cpage, tid, element, cache->head_size, cache->tail_size);
    PageOpaque(page)->next = nblk;
    GenericXLogFinish(state);
    UnlockReleaseBuffer(nbuf);
    if (BufferIsValid(cbuf)) UnlockReleaseBuffer(cbuf);
    UnlockReleaseBuffer(buf);
    UpdateInsertHint(index, cache, list, nblk);
    return;
  }
}

}  // namespace ivf
}  // namespace ragstore

using namespace ragstore::ivf;

extern "C" {

// aminsert: NULLs (and zero vectors under cosine) are not indexed. Errors: 22000 on a value of
// other dimensions than the index's.
bool ivfflatinsert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                   IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo* index_info) {
  (void)heap;
  (void)check_unique;
  (void)index_unchanged;
  (void)index_info;
  if (isnull[0]) return false;
  MemoryContext ctx =
      AllocSetContextCreate(CurrentMemoryContext, "ivfflat insert", ALLOCSET_SMALL_SIZES);
  MemoryContext old = MemoryContextSwitchTo(ctx);
  // Detoasting may process invalidations (which free rd_amcache): convert first, from a copy
  // of the cache's scalars, then fetch the cache again and use it with no such call between.
  IvfCache facts = *GetCache(index);
  const bool quantized = facts.quantizer != ragstore::QuantizerKind::kNone;
  char* element = static_cast<char*>(
      palloc(quantized ? facts.element_size : ElementSize(facts.kind, facts.dims)));
  char* work = static_cast<char*>(palloc(facts.work_size));
  float* dist = static_cast<float*>(palloc(sizeof(float) * facts.lists));
  // quantized: the row's float values; the code is encoded below with the cached parameters
  bool indexed =
      quantized ? DatumToFloats(values[0], facts.dist, facts.dims, reinterpret_cast<float*>(work))
                : DatumToElement(values[0], facts.dist, facts.dims, element, work);
  if (indexed) {
    IvfCache* cache = GetCache(index);
    CenterDistances(cache, work, dist);
    int best = 0;
    for (int i = 1; i < cache->lists; i++)
      if (dist[i] < dist[best]) best = i;
    if (quantized) EncodeElement(cache, reinterpret_cast<const float*>(work), element);
    InsertIntoList(index, cache, best, heap_tid, element);
  }
  MemoryContextSwitchTo(old);
  MemoryContextDelete(ctx);
  return false;
}

}  // extern "C"
