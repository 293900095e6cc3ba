// ragstore ivfflat: VACUUM. Bulk delete walks every list's chain with a cleanup lock per page,
// asks the callback about each TID and compacts the page (the last entry moves into each hole)
// in one generic WAL record per page; then the list's insert hint goes back to the first page
// with room, so new rows reuse the space. Pages are never removed from a chain.
#include "ivf/ivf.h"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

using namespace ragstore::ivf;

extern "C" {

IndexBulkDeleteResult* ivfflatbulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                         IndexBulkDeleteCallback callback, void* callback_state) {
  Relation index = info->index;
  if (stats == nullptr)
    stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
  IvfCache* cache = CopyCacheWithoutCenters(index);
  Size capacity = DataPageCapacity(cache->head_size);
  bool* dead = static_cast<bool*>(palloc(sizeof(bool) * capacity));

  for (int list = 0; list < cache->lists; list++) {
    BlockNumber start, hint;
    ReadListBlocks(index, cache, list, &start, &hint);
    BlockNumber first_free = InvalidBlockNumber;
    for (BlockNumber blk = start; BlockNumberIsValid(blk);) {
      vacuum_delay_point();
      Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, info->strategy);
      LockBufferForCleanup(buf);
      Page page = BufferGetPage(buf);
      int n = DataPageCount(page);
      int ndead = 0;
      ItemPointerData* tids = DataPageTids(page);
      for (int i = 0; i < n; i++) {
        dead[i] = callback(&tids[i], callback_state);
        ndead += dead[i];
      }
      if (ndead > 0) {
        GenericXLogState* state = GenericXLogStart(index);
        Page wpage = GenericXLogRegisterBuffer(state, buf, 0);
        // From the end, so that the entry moved into slot i (the last) is already judged.
        for (int i = n - 1; i >= 0; i--) {
          if (!dead[i]) continue;
          DataPageRemove(wpage, i, cache->head_size);
        }
        GenericXLogFinish(state);
      }
      stats->tuples_removed += ndead;
      stats->num_index_tuples += n - ndead;
      if (!BlockNumberIsValid(first_free) && static_cast<Size>(n - ndead) < capacity)
        first_free = blk;
      blk = PageOpaque(BufferGetPage(buf))->next;
      UnlockReleaseBuffer(buf);
    }
    if (BlockNumberIsValid(first_free) && first_free != hint) {
      Buffer buf = ReadBuffer(index, cache->list_block[list]);
      LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
      GenericXLogState* state = GenericXLogStart(index);
      Page page = GenericXLogRegisterBuffer(state, buf, 0);
      IvfListTuple* lt = reinterpret_cast<IvfListTuple*>(
          PageGetItem(page, PageGetItemId(page, cache->list_offset[list])));
      lt->insert_block = first_free;
      GenericXLogFinish(state);
      UnlockReleaseBuffer(buf);
    }
  }
  pfree(dead);
  return stats;
}

IndexBulkDeleteResult* ivfflatvacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats) {
  if (info->analyze_only) return stats;
  if (stats == nullptr) {
    // No bulk delete ran: count the entries so pg_class.reltuples stays right.
    stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
    Relation index = info->index;
    IvfCache* cache = CopyCacheWithoutCenters(index);
    for (int list = 0; list < cache->lists; list++) {
      BlockNumber start, hint;
      ReadListBlocks(index, cache, list, &start, &hint);
      for (BlockNumber blk = start; BlockNumberIsValid(blk);) {
        vacuum_delay_point();
        Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, info->strategy);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        stats->num_index_tuples += DataPageCount(page);
        blk = PageOpaque(page)->next;
        UnlockReleaseBuffer(buf);
      }
    }
  }
  stats->num_pages = RelationGetNumberOfBlocks(info->index);
  return stats;
}

}  // extern "C"
