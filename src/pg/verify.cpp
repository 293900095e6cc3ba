// ragstore: ragstore.verify_index (the entry point and what both access methods share; see
// verify.h) and ragstore.debug_write_index_page, the debug function the verifier's regression
// test corrupts a page with.
#include "pg/verify.h"

#include <cstdarg>

#include "hnsw/hnsw.h"
#include "ivf/ivf.h"
#include "pg/module.h"

extern "C" {
#include "access/genam.h"
#include "access/generic_xlog.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace ragstore {
namespace verify {

namespace {

uint64 KeyOf(ItemPointer tid) {
  return (static_cast<uint64>(ItemPointerGetBlockNumberNoCheck(tid)) << 16) |
         ItemPointerGetOffsetNumberNoCheck(tid);
}

void TidOf(uint64 key, ItemPointer out) {
  ItemPointerSet(out, static_cast<BlockNumber>(key >> 16), static_cast<OffsetNumber>(key & 0xFFFF));
}

int CompareKeys(const void* a, const void* b) {
  uint64 x = *static_cast<const uint64*>(a), y = *static_cast<const uint64*>(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

struct HeapScanState {
  const HeapTids* set;
  IndexedValueFn indexed;
  void* arg;
  Report* rep;
  MemoryContext row_ctx;
  int64 rows;
};

// table_index_build_scan callback: the row is visible to the snapshot; it must have an entry
// when its value is indexed.
void HeapRowCallback(Relation index, ItemPointer tid, Datum* values, bool* isnull,
                     bool tuple_is_alive, void* state) {
  (void)index;
  (void)tuple_is_alive;
  auto* hs = static_cast<HeapScanState*>(state);
  if ((++hs->rows & 1023) == 0) CHECK_FOR_INTERRUPTS();
  if (isnull[0]) return;
  MemoryContext old = MemoryContextSwitchTo(hs->row_ctx);
  bool indexed = hs->indexed(hs->arg, values[0]);
  MemoryContextSwitchTo(old);
  MemoryContextReset(hs->row_ctx);
  if (!indexed) return;
  uint64 key = KeyOf(tid);
  if (bsearch(&key, hs->set->keys, hs->set->n, sizeof(uint64), CompareKeys) == nullptr)
    AddProblem(hs->rep, InvalidBlockNumber, InvalidOffsetNumber, tid, "heap row not indexed",
               "a row visible to the check's snapshot has a value the index should hold and no "
               "index entry");
}

}  // namespace

void AddProblem(Report* rep, BlockNumber block, OffsetNumber item, ItemPointer heap_tid,
                const char* kind, const char* fmt, ...) {
  char detail[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof(detail), fmt, ap);
  va_end(ap);
  Datum values[5];
  bool nulls[5] = {false, false, false, false, false};
  ItemPointerData tid_copy;
  if (BlockNumberIsValid(block))
    values[0] = Int64GetDatum(static_cast<int64>(block));
  else
    nulls[0] = true;
  if (OffsetNumberIsValid(item))
    values[1] = Int32GetDatum(item);
  else
    nulls[1] = true;
  if (heap_tid != nullptr) {
    tid_copy = *heap_tid;
    values[2] = PointerGetDatum(&tid_copy);
  } else {
    nulls[2] = true;
  }
  values[3] = CStringGetTextDatum(kind);
  values[4] = CStringGetTextDatum(detail);
  tuplestore_putvalues(rep->store, rep->desc, values, nulls);
  rep->problems++;
}

Size VerifyBudget() { return static_cast<Size>(maintenance_work_mem) * 1024; }

void HeapTidsInit(HeapTids* set, Size budget) {
  set->cap = 1024;
  set->n = 0;
  set->budget = budget;
  set->overflow = false;
  set->keys = static_cast<uint64*>(palloc(sizeof(uint64) * set->cap));
}

void HeapTidsAdd(HeapTids* set, ItemPointer tid) {
  if (set->overflow) return;
  if (set->n == set->cap) {
    if (sizeof(uint64) * static_cast<Size>(set->cap) * 2 > set->budget) {
      set->overflow = true;
      return;
    }
    set->cap *= 2;
    set->keys = static_cast<uint64*>(repalloc_huge(set->keys, sizeof(uint64) * set->cap));
  }
  set->keys[set->n++] = KeyOf(tid);
}

bool HeapRowVisible(Relation heap, ItemPointer tid, Snapshot snapshot) {
  if (ItemPointerGetBlockNumberNoCheck(tid) >= RelationGetNumberOfBlocks(heap)) return false;
  IndexFetchTableData* fetch = table_index_fetch_begin(heap);
  TupleTableSlot* slot = table_slot_create(heap, nullptr);
  ItemPointerData t = *tid;
  bool call_again = false, all_dead = false;
  bool found = table_index_fetch_tuple(fetch, &t, snapshot, slot, &call_again, &all_dead);
  ExecDropSingleTupleTableSlot(slot);
  table_index_fetch_end(fetch);
  return found;
}

void CheckHeapTids(Relation heap, Relation index, Snapshot snapshot, HeapTids* set,
                   bool heapallindexed, IndexedValueFn indexed, void* arg, Report* rep) {
  if (set->overflow) {
    ereport(NOTICE,
            (errmsg("index \"%s\": heap TIDs not checked: more than maintenance_work_mem holds",
                    RelationGetRelationName(index)),
             errhint("Increase maintenance_work_mem.")));
    return;
  }
  qsort(set->keys, set->n, sizeof(uint64), CompareKeys);
  // The table only grows while we hold AccessShareLock (truncation needs AccessExclusiveLock),
  // and every TID read from the index was there before this call.
  BlockNumber heap_blocks = RelationGetNumberOfBlocks(heap);
  for (int64 i = 0; i < set->n; i++) {
    if ((i & 4095) == 0) CHECK_FOR_INTERRUPTS();
    ItemPointerData tid;
    TidOf(set->keys[i], &tid);
    int64 j = i;
    while (j + 1 < set->n && set->keys[j + 1] == set->keys[i]) j++;
    if (ItemPointerGetBlockNumberNoCheck(&tid) >= heap_blocks) {
      AddProblem(rep, InvalidBlockNumber, InvalidOffsetNumber, &tid, "heap TID beyond the table",
                 "the table has %u blocks", heap_blocks);
    } else if (j > i && HeapRowVisible(heap, &tid, snapshot)) {
      // Only a visible row counts: a TID can be reused by a new row (not visible to the
      // snapshot) while an index that lets VACUUM run concurrently (ivfflat) is being read,
      // its old entry read before VACUUM removed it and the new one after.
      AddProblem(rep, InvalidBlockNumber, InvalidOffsetNumber, &tid, "heap row indexed twice",
                 "%lld index entries hold this heap TID", static_cast<long long>(j - i + 1));
    }
    i = j;
  }
  if (!heapallindexed) return;
  IndexInfo* info = BuildIndexInfo(index);
  // A concurrent-style scan: rows visible to the snapshot, as amcheck does.
  info->ii_Concurrent = true;
  HeapScanState hs;
  hs.set = set;
  hs.indexed = indexed;
  hs.arg = arg;
  hs.rep = rep;
  hs.rows = 0;
  hs.row_ctx =
      AllocSetContextCreate(CurrentMemoryContext, "verify_index row", ALLOCSET_SMALL_SIZES);
  TableScanDesc scan = table_beginscan_strat(heap, snapshot, 0, nullptr, true, false);
  table_index_build_scan(heap, index, info, true, false, HeapRowCallback, &hs, scan);
  MemoryContextDelete(hs.row_ctx);
}

}  // namespace verify
}  // namespace ragstore

using namespace ragstore;

extern "C" {

PG_FUNCTION_INFO_V1(ragstore_verify_index);
// ragstore.verify_index(index regclass, heapallindexed boolean) RETURNS SETOF (block bigint,
// item integer, heap_tid tid, problem text, detail text): one row per problem found in an
// hnsw or ivfflat index, none for a healthy one (see hnsw_verify.cpp and ivf_verify.cpp for
// what each checks). Takes AccessShareLock on the table and the index (so it runs on a hot
// standby and blocks no reader or writer; hnsw also takes its update lock, see
// hnsw_verify.cpp). Memory: about 16 bytes per index entry, plus the hnsw layer-0 lists when
// they fit maintenance_work_mem. Errors: 42809 when the relation is not an hnsw or ivfflat
// index, 55000 when the index is not valid (a failed CREATE INDEX CONCURRENTLY), 0A000 for
// another session's temporary table.
Datum ragstore_verify_index(PG_FUNCTION_ARGS) {
  Oid indexid = PG_GETARG_OID(0);
  bool heapallindexed = PG_GETARG_BOOL(1);
  // Table first, then index, as every other lock taker (amcheck does the same).
  Oid heapid = IndexGetRelation(indexid, true);
  if (!OidIsValid(heapid)) {
    char* name = get_rel_name(indexid);
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("\"%s\" is not an index", name ? name : "?")));
  }
  Relation heap = table_open(heapid, AccessShareLock);
  Relation index = index_open(indexid, AccessShareLock);
  if (index->rd_index->indrelid != heapid)
    ereport(ERROR,
            (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("could not open parent table of index \"%s\"",
                                                      RelationGetRelationName(index))));
  bool is_hnsw = index->rd_indam != nullptr && index->rd_indam->ambuild == hnswbuild;
  bool is_ivf = index->rd_indam != nullptr && index->rd_indam->ambuild == ivfflatbuild;
  if (!is_hnsw && !is_ivf)
    ereport(ERROR,
            (errcode(ERRCODE_WRONG_OBJECT_TYPE),
             errmsg("\"%s\" is not an hnsw or ivfflat index", RelationGetRelationName(index))));
  if (RELATION_IS_OTHER_TEMP(index))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("cannot verify temporary indexes of other sessions")));
  if (!index->rd_index->indisvalid || !index->rd_index->indisready)
    ereport(ERROR,
            (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
             errmsg("cannot verify index \"%s\": it is not valid", RelationGetRelationName(index)),
             errhint("REINDEX it, or drop it and create it again.")));

  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  verify::Report rep{rsinfo->setResult, rsinfo->setDesc, 0};

  // Taken before the index is read: a row visible to it was committed before, so its index
  // entries were complete before the check started (heapallindexed, hnsw reachability).
  Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
  if (heapallindexed && index->rd_index->indcheckxmin &&
      !TransactionIdPrecedes(HeapTupleHeaderGetXmin(index->rd_indextuple->t_data),
                             snapshot->xmin)) {
    ereport(NOTICE,
            (errmsg("index \"%s\" is not yet usable by the check's snapshot: heap rows not checked",
                    RelationGetRelationName(index))));
    heapallindexed = false;
  }
  MemoryContext ctx =
      AllocSetContextCreate(CurrentMemoryContext, "verify_index", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(ctx);
  if (is_hnsw)
    hnsw::HnswVerify(heap, index, snapshot, heapallindexed, &rep);
  else
    ivf::IvfVerify(heap, index, snapshot, heapallindexed, &rep);
  MemoryContextSwitchTo(old);
  MemoryContextDelete(ctx);
  UnregisterSnapshot(snapshot);
  index_close(index, AccessShareLock);
  table_close(heap, AccessShareLock);
  return static_cast<Datum>(0);
}

PG_FUNCTION_INFO_V1(ragstore_debug_write_index_page);
// ragstore.debug_write_index_page(index regclass, block bigint, item integer, byte_offset
// integer, data bytea): debug-only (ragstore.debug_functions must be on; superuser): writes
// `data` into page `block` of an hnsw or ivfflat index, at byte_offset inside line pointer
// `item`'s tuple (item 0: inside the whole page), as one generic WAL record. It exists to
// corrupt a copy of an index on purpose (the verifier's tests). Errors: 55000 when debug
// functions are off, 42809 for another relation, 22023 when the bytes fall outside the page
// or the tuple.
Datum ragstore_debug_write_index_page(PG_FUNCTION_ARGS) {
  RequireDebugFunctions();
  Oid indexid = PG_GETARG_OID(0);
  int64 block = PG_GETARG_INT64(1);
  int32 item = PG_GETARG_INT32(2);
  int32 offset = PG_GETARG_INT32(3);
  bytea* data = PG_GETARG_BYTEA_PP(4);
  Size len = VARSIZE_ANY_EXHDR(data);
  Relation index = index_open(indexid, RowExclusiveLock);
  if (index->rd_indam == nullptr ||
      (index->rd_indam->ambuild != hnswbuild && index->rd_indam->ambuild != ivfflatbuild))
    ereport(ERROR,
            (errcode(ERRCODE_WRONG_OBJECT_TYPE),
             errmsg("\"%s\" is not an hnsw or ivfflat index", RelationGetRelationName(index))));
  if (block < 0 || block >= RelationGetNumberOfBlocks(index))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("block %lld is outside the index", static_cast<long long>(block))));
  Buffer buf = ReadBuffer(index, static_cast<BlockNumber>(block));
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  Page page = BufferGetPage(buf);
  Size start = 0, room = BLCKSZ;
  if (item != 0) {
    if (PageIsNew(page) || item < FirstOffsetNumber ||
        item > static_cast<int32>(PageGetMaxOffsetNumber(page)) ||
        !ItemIdHasStorage(PageGetItemId(page, item))) {
      UnlockReleaseBuffer(buf);
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("item %d of block %lld holds no tuple", item,
                             static_cast<long long>(block))));
    }
    ItemId iid = PageGetItemId(page, item);
    start = ItemIdGetOffset(iid);
    room = ItemIdGetLength(iid);
  }
  if (offset < 0 || static_cast<Size>(offset) + len > room) {
    UnlockReleaseBuffer(buf);
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("%zu bytes at offset %d do not fit in %zu bytes", len, offset, room)));
  }
  GenericXLogState* state = GenericXLogStart(index);
  Page wpage = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
  memcpy(wpage + start + offset, VARDATA_ANY(data), len);
  GenericXLogFinish(state);
  UnlockReleaseBuffer(buf);
  // Cached facts (ivfflat's centroids and meta) must be re-read.
  CacheInvalidateRelcache(index);
  index_close(index, RowExclusiveLock);
  PG_RETURN_VOID();
}

}  // extern "C"
