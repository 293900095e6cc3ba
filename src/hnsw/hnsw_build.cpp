// ragstore hnsw: CREATE INDEX (ambuild) and the init fork of unlogged indexes (ambuildempty).
//
// Dense float types (vector; halfvec through a float copy) with a metric the core kernels know
// (L2, inner product, cosine = inner product on unit vectors, L1) are built in memory by
// core/hnsw_graph.h on ragstore.max_threads OpenMP threads, then
// written out page by page (placement is computed first, so every neighbour TID is known when
// its list is written) and all pages are WAL-logged with log_newpage_range. We do not use
// FAISS's IndexHNSW here: it lacks keepPrunedConnections and its graph loses 0.1 of recall@10
// on clustered data (sift5k, ef_search 100: 0.87 against 0.97), below pgvector's.
//
// Memory: the collected vectors and the graph are estimated against maintenance_work_mem.
// When the next tuple would not fit, a NOTICE says so, the graph built so far is written out,
// and the remaining rows are inserted on disk one by one (the aminsert path, without WAL until
// the final log_newpage_range). Other types (sparse, bit) always use the on-disk path.
//
// Threads and cancellation (design.md rules 1-3): the builder runs inside GuardedCall; its
// threads never call PostgreSQL; its interrupt poll only reads QueryCancelPending /
// ProcDiePending. When it stops, the main thread runs CHECK_FOR_INTERRUPTS(), which raises the
// cancel error. The graph is owned by a memory-context reset callback, so an error anywhere
// frees it, and the aborted transaction removes the half-built index files.
#include "hnsw/hnsw.h"

#include <omp.h>

#include "core/graph_order.h"
#include "core/hnsw_graph.h"
#include "pg/faiss_support.h"
#include "pg/guard.h"

extern "C" {
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "pgstat.h"
#include "utils/backend_progress.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"
}

namespace ragstore {
namespace hnsw {
namespace {

constexpr int kPhaseLoad = 2, kPhaseGraph = 3, kPhaseWrite = 4, kPhaseOrder = 5;
// Window of the on-disk order (graph_order.h): about the elements of one page (11 for 128
// dimensions); 4 to 44 gave the same locality on the synthetic 100k (bench/README.md).
constexpr int kOrderWindow = 16;

bool PgInterruptPending() { return QueryCancelPending || ProcDiePending; }

// Owns the in-memory graph across PostgreSQL calls: deleted by the memory context callback.
struct GraphHolder {
  HnswGraph* graph;
  MemoryContextCallback cb;
};

void GraphHolderFree(void* arg) {
  auto* h = static_cast<GraphHolder*>(arg);
  delete h->graph;  // no destructor in HnswGraph throws
  h->graph = nullptr;
}

struct BuildState {
  Relation heap;
  Relation index;
  HnswSupport sup;
  int dims;
  int m;
  int ef_construction;
  bool in_memory;  // still collecting for the in-memory build
  double heap_tuples;
  double index_tuples;
  // collected for the in-memory build
  float* vecs;
  ItemPointerData* tids;
  int64 n;
  int64 cap;
  Size mem_limit;
  Size per_vector;
  MemoryContext tmp_ctx;
};

// Threads of the in-memory build: ragstore.max_threads, the OpenMP thread cap shared with the
// FAISS-based builds (src/pg/faiss_support.h).
int BuildThreads() { return pg::MaxThreads(); }

// Writes the n built elements as pages from block 1 on, in the given order (order[pos] =
// element; each element's neighbour tuple right after it), and sets the meta page. Placement is
// computed first so that every neighbour TID is known when a list is written.
void WriteGraph(BuildState* bs, const HnswGraph* g, const int32* order) {
  int64 n = bs->n;
  int m = bs->m;
  int dims = bs->dims;
  Size vsize = bs->sup.type->from_float_size(dims);
  Size esize = HnswElementTupleSize(vsize);
  Size page_space = HnswEmptyPageSpace();

  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWrite);
  auto* etids = static_cast<ItemPointerData*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ItemPointerData) * n));
  auto* ntids = static_cast<ItemPointerData*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ItemPointerData) * n));
  BlockNumber blk = 1;
  Size free_space = page_space;
  OffsetNumber next_off = FirstOffsetNumber;
  auto place = [&](Size size, ItemPointerData* out) {
    Size need = size + sizeof(ItemIdData);
    if (need > free_space) {
      blk++;
      free_space = page_space;
      next_off = FirstOffsetNumber;
    }
    ItemPointerSet(out, blk, next_off);
    next_off++;
    free_space -= need;
  };
  // Element i goes to position pos of order (order[pos] = i): neighbours close together.
  for (int64 pos = 0; pos < n; pos++) {
    int64 i = order[pos];
    place(esize, &etids[i]);
    place(HnswNeighborTupleSize(g->Level(i), m), &ntids[i]);
  }
  BlockNumber last_blk = blk;

  char* etup_buf = static_cast<char*>(palloc0(esize));
  char* ntup_buf = static_cast<char*>(palloc0(HnswNeighborTupleSize(kMaxLevel, m) + 8));
  Buffer buf = InvalidBuffer;
  BlockNumber cur = InvalidBlockNumber;
  for (int64 pos = 0; pos < n; pos++) {
    int64 i = order[pos];
    int level = g->Level(i);
    Size nsize = HnswNeighborTupleSize(level, m);
    auto* etup = reinterpret_cast<HnswElementTupleData*>(etup_buf);
    memset(etup_buf, 0, esize);
    etup->type = kHnswElementTuple;
    etup->level = static_cast<uint8>(level);
    etup->heaptid = bs->tids[i];
    etup->neighbortid = ntids[i];
    bs->sup.type->from_float(bs->vecs + static_cast<size_t>(i) * dims, dims, etup->data);
    auto* ntup = reinterpret_cast<HnswNeighborTupleData*>(ntup_buf);
    memset(ntup_buf, 0, nsize);
    ntup->type = kHnswNeighborTuple;
    ntup->count = static_cast<uint16>((level + 2) * m);
    for (int s = 0; s < ntup->count; s++) ItemPointerSetInvalid(&ntup->tids[s]);
    for (int lc = 0; lc <= level; lc++) {
      int count;
      const int32_t* list = g->Neighbors(i, lc, &count);
      int start = HnswLayerStart(lc, m);
      int slots = HnswLayerSlots(lc, m);
      for (int k = 0; k < count && k < slots; k++) ntup->tids[start + k] = etids[list[k]];
    }
    ItemPointerData* targets[2] = {&etids[i], &ntids[i]};
    Item items[2] = {reinterpret_cast<Item>(etup), reinterpret_cast<Item>(ntup)};
    Size sizes[2] = {esize, nsize};
    for (int t = 0; t < 2; t++) {
      BlockNumber want = ItemPointerGetBlockNumber(targets[t]);
      if (want != cur) {
        if (BufferIsValid(buf)) {
          MarkBufferDirty(buf);
          UnlockReleaseBuffer(buf);
        }
        buf = ReadBufferExtended(bs->index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        if (BufferGetBlockNumber(buf) != want)
          elog(ERROR, "hnsw build: expected block %u, got %u", want, BufferGetBlockNumber(buf));
        HnswInitDataPage(BufferGetPage(buf));
        cur = want;
      }
      OffsetNumber off = PageAddItem(BufferGetPage(buf), items[t], sizes[t], InvalidOffsetNumber, false, false);
      if (off != ItemPointerGetOffsetNumber(targets[t]))
        elog(ERROR, "hnsw build: tuple placed at offset %u, expected %u", off,
             ItemPointerGetOffsetNumber(targets[t]));
    }
    if ((pos & 1023) == 0) {
      CHECK_FOR_INTERRUPTS();
      pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, pos);
    }
  }
  if (BufferIsValid(buf)) {
    MarkBufferDirty(buf);
    UnlockReleaseBuffer(buf);
  }
  pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, n);
  if (n > 0) {
    ItemPointerData entry = etids[g->EntryPoint()];
    HnswUpdateMeta(bs->index, true, last_blk, true, &entry, g->MaxLevel());
  }
  pfree(etids);
  pfree(ntids);
  pfree(etup_buf);
  pfree(ntup_buf);
}

// Builds the graph over the collected vectors in memory and writes it out.
void BuildCollected(BuildState* bs) {
  if (bs->n == 0) return;
  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseGraph);
  pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->n);
  auto* holder = static_cast<GraphHolder*>(palloc0(sizeof(GraphHolder)));
  holder->cb.func = GraphHolderFree;
  holder->cb.arg = holder;
  MemoryContextRegisterResetCallback(CurrentMemoryContext, &holder->cb);
  int threads = BuildThreads();
  GraphMetric metric = bs->sup.metric == HnswMetric::kInnerProduct ? GraphMetric::kInnerProduct
                       : bs->sup.metric == HnswMetric::kL1       ? GraphMetric::kL1
                                                                 : GraphMetric::kL2;
  int64 n = bs->n;
  int dims = bs->dims, m = bs->m, efc = bs->ef_construction;
  const float* vecs = bs->vecs;
  uint64 seed = 0x5eed0000u + static_cast<uint64>(n);
  bool completed = pg::GuardedCall([&]() -> bool {
    holder->graph = new HnswGraph(n, dims, vecs, metric, m, efc, seed);
    return holder->graph->Build(threads, PgInterruptPending);
  });
  if (!completed) {
    CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("hnsw index build interrupted")));
  }
  CHECK_FOR_INTERRUPTS();
  // On-disk order (hnsw_page.h, "Order"): a Gorder-like window order over layer 0 when its
  // working memory fits what maintenance_work_mem has left, else breadth-first.
  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseOrder);
  auto* order = static_cast<int32*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * n));
  bool greedy = static_cast<Size>(n) * (bs->per_vector + WindowOrderBytesPerElement(2 * m)) <= bs->mem_limit;
  completed = pg::GuardedCall([&]() -> bool {
    const HnswGraph* g = holder->graph;
    GraphNeighbours layer0 = [g](int64_t v, int* count) { return g->Neighbors(v, 0, count); };
    std::vector<int32_t> o = greedy ? WindowGreedyOrder(n, layer0, g->EntryPoint(), kOrderWindow,
                                                        PgInterruptPending)
                                    : BreadthFirstOrder(n, layer0, g->EntryPoint());
    if (static_cast<int64>(o.size()) != n) return false;  // interrupted
    std::copy(o.begin(), o.end(), order);
    return true;
  });
  if (!completed) {
    CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("hnsw index build interrupted")));
  }
  WriteGraph(bs, holder->graph, order);
  pfree(order);
  GraphHolderFree(holder);
  bs->index_tuples += static_cast<double>(bs->n);
  pfree(bs->vecs);
  bs->vecs = nullptr;
  pfree(bs->tids);
  bs->tids = nullptr;
  bs->n = 0;
}

void BuildCallback(Relation index, ItemPointer tid, Datum* values, bool* isnull, bool alive,
                   void* state) {
  auto* bs = static_cast<BuildState*>(state);
  bs->heap_tuples += 1;
  if (isnull[0]) return;
  MemoryContext old = MemoryContextSwitchTo(bs->tmp_ctx);
  char* value = HnswPrepareValue(&bs->sup, values[0], true);
  if (value == nullptr) {
    MemoryContextSwitchTo(old);
    MemoryContextReset(bs->tmp_ctx);
    return;
  }
  if (bs->in_memory) {
    MemoryContextSwitchTo(old);
    Size needed = static_cast<Size>(bs->n + 1) * bs->per_vector;
    if (needed > bs->mem_limit && bs->n > 0) {
      ereport(NOTICE,
              (errmsg("hnsw graph no longer fits into maintenance_work_mem after " INT64_FORMAT " tuples",
                      bs->n),
               errdetail("Building will take significantly more time."),
               errhint("Increase maintenance_work_mem to speed up builds.")));
      BuildCollected(bs);
      bs->in_memory = false;
    } else {
      if (bs->n == bs->cap) {
        int64 cap = bs->cap == 0 ? 1024 : bs->cap * 2;
        if (bs->vecs == nullptr) {
          bs->vecs = static_cast<float*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * bs->dims * cap));
          bs->tids = static_cast<ItemPointerData*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ItemPointerData) * cap));
        } else {
          bs->vecs = static_cast<float*>(repalloc_huge(bs->vecs, sizeof(float) * bs->dims * cap));
          bs->tids = static_cast<ItemPointerData*>(repalloc_huge(bs->tids, sizeof(ItemPointerData) * cap));
        }
        bs->cap = cap;
      }
      bs->sup.type->to_float(value, bs->vecs + static_cast<size_t>(bs->n) * bs->dims);
      bs->tids[bs->n] = *tid;
      bs->n++;
      if ((bs->n & 1023) == 0) pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->n);
      MemoryContextReset(bs->tmp_ctx);
      return;
    }
    MemoryContextSwitchTo(bs->tmp_ctx);
  }
  HnswInsertValue(bs->index, &bs->sup, value, tid, true);
  bs->index_tuples += 1;
  MemoryContextSwitchTo(old);
  MemoryContextReset(bs->tmp_ctx);
  CHECK_FOR_INTERRUPTS();
}

}  // namespace
}  // namespace hnsw
}  // namespace ragstore

using namespace ragstore;
using namespace ragstore::hnsw;

extern "C" {

// ambuild: builds the graph over the table's rows (see the file comment). Errors: 22023 for
// ef_construction < 2 * m, a column without dimensions or over hnsw's dimension limit; 54000
// for a value over the limit; 57014 when cancelled.
IndexBuildResult* hnswbuild(Relation heap, Relation index, IndexInfo* index_info) {
  if (RelationGetNumberOfBlocks(index) != 0)
    elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
  auto* bs = static_cast<BuildState*>(palloc0(sizeof(BuildState)));
  MemoryContext build_ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build",
                                                  ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(build_ctx);
  bs->heap = heap;
  bs->index = index;
  bs->m = HnswGetM(index);
  bs->ef_construction = HnswGetEfConstruction(index);
  if (bs->ef_construction < 2 * bs->m)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("ef_construction must be greater than or equal to 2 * m")));
  HnswInitSupport(index, &bs->sup);
  bs->dims = HnswCheckColumnDims(index, &bs->sup);
  if (bs->dims < 0) bs->dims = 0;  // sparsevec without a declared dimension
  bs->in_memory = bs->sup.kernel != nullptr && bs->sup.metric != HnswMetric::kNone &&
                  bs->sup.type->to_float != nullptr && bs->dims > 0;
  bs->mem_limit = static_cast<Size>(maintenance_work_mem) * 1024;
  // Per vector: its floats, its heap TID, the graph (lists, counts, lock), the placement arrays
  // of the write-out, the threads' visited tables, and the breadth-first order (two int32
  // arrays and a flag; the window order is only used when its memory fits, see BuildCollected).
  bs->per_vector = sizeof(float) * bs->dims + sizeof(ItemPointerData) +
                   HnswGraph::BytesPerElement(bs->m) + 2 * sizeof(ItemPointerData) +
                   sizeof(uint32) * BuildThreads() + 2 * sizeof(int32) + 1;
  bs->tmp_ctx = AllocSetContextCreate(build_ctx, "hnsw build tuple", ALLOCSET_DEFAULT_SIZES);

  // Meta page.
  Buffer meta_buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
  LockBuffer(meta_buf, BUFFER_LOCK_EXCLUSIVE);
  HnswInitMetaPage(BufferGetPage(meta_buf), bs->dims, bs->m, bs->ef_construction);
  MarkBufferDirty(meta_buf);
  UnlockReleaseBuffer(meta_buf);

  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoad);
  bs->heap_tuples = table_index_build_scan(heap, index, index_info, true, true, BuildCallback, bs, nullptr);
  if (bs->in_memory) BuildCollected(bs);

  if (RelationNeedsWAL(index))
    log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

  auto* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
  result->heap_tuples = bs->heap_tuples;
  result->index_tuples = bs->index_tuples;
  MemoryContextSwitchTo(old);
  MemoryContextDelete(build_ctx);
  return result;
}

// ambuildempty: the init fork of an unlogged index (the meta page of an empty index).
void hnswbuildempty(Relation index) {
  Page page = static_cast<Page>(palloc(BLCKSZ));
  HnswSupport sup;
  HnswInitSupport(index, &sup);
  int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
  HnswInitMetaPage(page, typmod > 0 ? typmod : 0, HnswGetM(index), HnswGetEfConstruction(index));
  PageSetChecksumInplace(page, kHnswMetaBlock);
  smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, kHnswMetaBlock, page, true);
  log_newpage(&RelationGetSmgr(index)->smgr_rnode.node, INIT_FORKNUM, kHnswMetaBlock, page, true);
  smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
  pfree(page);
}

}  // extern "C"
