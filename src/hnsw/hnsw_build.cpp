// ragstore hnsw: CREATE INDEX (ambuild) and the init fork of unlogged indexes (ambuildempty).
//
// Rows of equal prepared value share an element (up to kHnswHeapTids rows each, hnsw_page.h
// "Duplicates"): the collected rows are grouped first (core/duplicates.h, over a hash of each
// value and an exact comparison), and the graph is built over one representative value per
// element, so identical rows never crowd the graph. Rows inserted after a build outgrew memory
// join elements through the insert path.
//
// Every operator class with a fast kernel is built in memory by core/hnsw_graph.h on the
// threads PostgreSQL's parallel settings grant (leader + parallel workers, pgvector's count:
// src/pg/build_threads.h): dense float types (vector; halfvec through a float copy)
// with L2, inner product, cosine (= inner product on unit vectors) or L1 over a float copy;
// bit (Hamming, Jaccard) and sparsevec (L2, inner product, cosine, L1) over their prepared
// values, kept back to back in one arena and read in place (pg::ElementTypeDesc's bits_at /
// sparse_view), with the same kernels the scan uses. The graph is then
// written out page by page (placement is computed first, so every neighbour TID is known when
// its list is written) and all pages are WAL-logged with log_newpage_range. We do not use
// FAISS's IndexHNSW here: it lacks keepPrunedConnections, and its graph has a lower recall on
// clustered data than pgvector's (core/hnsw_graph.h).
//
// Memory: the collected vectors, the graph, the threads' working memory and the write-out's
// arrays are counted against maintenance_work_mem (the arrays never grow past it). When the
// next tuple would not fit, pgvector's NOTICE says so ("after 0 tuples" when not even one
// fits), the graph built so far is written out, and the remaining rows are inserted on disk
// one by one (the aminsert path, without WAL until the final log_newpage_range). Bit and
// sparsevec values are written out with their prepared bytes (cosine: normalised), exactly
// what an insert would store.
//
// Threads and cancellation (design.md rules 1-3): the builder runs inside GuardedCall; its
// threads never call PostgreSQL; its interrupt poll only reads QueryCancelPending /
// ProcDiePending. When it stops, the main thread runs CHECK_FOR_INTERRUPTS(), which raises the
// cancel error. The graph is owned by a memory-context reset callback, so an error anywhere
// frees it, and the aborted transaction removes the half-built index files.
#include "hnsw/hnsw.h"

#include <omp.h>

#include "core/duplicates.h"
#include "core/graph_order.h"
#include "core/hnsw_graph.h"
#include "pg/blob_pages.h"
#include "pg/build_threads.h"
#include "pg/guard.h"

extern "C" {
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "common/hashfn.h"
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

// Window of the on-disk order (graph_order.h): about the elements of one page (11 for 128
// dimensions); the locality it gives varies little with it (bench/README.md).
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
  HnswRowReader rows;  // rows spilled to on-disk inserts: equal values in a quantized index
  HnswSupport sup;
  int dims;
  int m;
  int ef_construction;
  bool in_memory;  // still collecting for the in-memory build
  double heap_tuples;
  double index_tuples;
  // collected for the in-memory build
  pg::ElementLayout kind;
  float* vecs;  // kDenseFloat: n x dims floats
  char* arena;  // kBits, kSparse: the prepared values, MAXALIGN'd, back to back
  Size arena_used;
  Size arena_cap;
  Size* offsets;        // kBits, kSparse: where value i starts in arena
  Size max_value_size;  // kBits, kSparse: largest VARSIZE collected
  ItemPointerData* tids;
  int64 n;
  int64 cap;
  // after grouping (BuildCollected): element e holds rows elem_rows[elem_first[e]..
  // elem_first[e + 1]), and the collected values are compacted so that value e is element e's
  int64 nelem;
  int32* elem_rows;
  int64* elem_first;
  Size mem_limit;
  Size per_vector;   // bytes per element besides the arena
  Size fixed_bytes;  // bytes of the in-memory build whatever its size (the threads')
  int threads;       // threads of the in-memory build (pg::BuildThreads)
  MemoryContext tmp_ctx;
};

// Bytes of element i's stored value (an uncompressed varlena; quantized: the payload).
Size ElementValueSize(const BuildState* bs, int64 i) {
  if (bs->sup.quantizer != QuantizerKind::kNone) return bs->sup.payload_size;
  if (bs->kind == pg::ElementLayout::kDenseFloat) return bs->sup.type->from_float_size(bs->dims);
  return VARSIZE(bs->arena + bs->offsets[i]);
}

// Writes element i's stored value to out (ElementValueSize bytes). Quantized: its payload,
// encoded from the collected floats (FAISS, inside GuardedCall).
void CopyElementValue(const BuildState* bs, int64 i, char* out) {
  if (bs->sup.quantizer != QuantizerKind::kNone) {
    const HnswSupport* sup = &bs->sup;
    SET_VARSIZE(out, sup->payload_size);
    const float* x = bs->vecs + static_cast<size_t>(i) * bs->dims;
    pg::GuardedCall([&] {
      EncodeEntries(sup->quantizer, sup->qdims, sup->qparams, x, 1,
                    reinterpret_cast<uint8_t*>(out) + VARHDRSZ, sup->payload_size - VARHDRSZ);
    });
    return;
  }
  if (bs->kind == pg::ElementLayout::kDenseFloat)
    bs->sup.type->from_float(bs->vecs + static_cast<size_t>(i) * bs->dims, bs->dims, out);
  else
    memcpy(out, bs->arena + bs->offsets[i], VARSIZE(bs->arena + bs->offsets[i]));
}

// Quantized indexes: trains the quantizer on the n collected rows (none: its defaults) and
// writes it to the parameter pages, once, before any element is written (hnsw_page.h).
void EnsureQuantizer(BuildState* bs, int64 n) {
  HnswSupport* sup = &bs->sup;
  if (sup->quantizer == QuantizerKind::kNone || sup->qparams != nullptr) return;
  auto* params = static_cast<float*>(
      palloc(sizeof(float) * Max(QuantizerParamCount(sup->quantizer, sup->qdims), size_t(1))));
  const float* x = n > 0 ? bs->vecs : nullptr;
  pg::GuardedCall(
      [&] { TrainQuantizer(sup->quantizer, sup->qdims, x, static_cast<size_t>(n), params); });
  sup->qparams = params;
  HnswWriteQuantizer(bs->index, sup);
}

// Bytes of element i's stored payload: a wide code keeps only its start (hnsw_page.h).
Size StoredValueSize(const BuildState* bs, int64 i) {
  return bs->sup.code_head > 0 ? bs->sup.stored_size : ElementValueSize(bs, i);
}

// Where each tuple of WriteGraph goes: from the next block of the index on, element order[pos]
// at position pos, each element's code tuple (wide codes; ctids) and neighbour tuple right after
// it; tuples fill a page before the next one starts. Fills etids / ctids / ntids (indexed by
// element) and returns the last block used.
BlockNumber PlaceTuples(const BuildState* bs, const HnswGraph* g, const int32* order,
                        ItemPointerData* etids, ItemPointerData* ctids, ItemPointerData* ntids) {
  Size page_space = HnswEmptyPageSpace();
  BlockNumber blk = RelationGetNumberOfBlocks(bs->index);
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
  for (int64 pos = 0; pos < bs->nelem; pos++) {
    int64 i = order[pos];
    place(HnswElementTupleSize(StoredValueSize(bs, i)), &etids[i]);
    if (bs->sup.code_head > 0) place(HnswCodeTupleSize(bs->sup.code_tail), &ctids[i]);
    place(HnswNeighborTupleSize(g->Level(i), bs->m), &ntids[i]);
  }
  return blk;
}

// Builds element i's tuple in buf (at least its size): level, heap TIDs of its rows, its
// neighbour tuple's TID ntid, its value. A wide code (hnsw_page.h): the code's start, naming
// code tuple ctid, which is built in cbuf (HnswCodeTupleSize(code_tail) bytes) for element etid,
// through wide (payload_size bytes of scratch). Returns the element tuple's size.
Size FillElementTuple(const BuildState* bs, const HnswGraph* g, int64 i, ItemPointerData etid,
                      ItemPointerData ctid, ItemPointerData ntid, char* buf, char* cbuf,
                      char* wide) {
  Size esize = HnswElementTupleSize(StoredValueSize(bs, i));
  auto* etup = reinterpret_cast<HnswElementTupleData*>(buf);
  memset(buf, 0, esize);
  etup->type = kHnswElementTuple;
  etup->level = static_cast<uint8>(g->Level(i));
  ItemPointerData heaptids[kHnswHeapTids];
  int nheaptids = 0;
  for (int64 k = bs->elem_first[i]; k < bs->elem_first[i + 1]; k++)
    heaptids[nheaptids++] = bs->tids[bs->elem_rows[k]];
  HnswElementSetHeapTids(etup, heaptids, nheaptids);
  etup->neighbortid = ntid;
  if (bs->sup.code_head > 0) {
    CopyElementValue(bs, i, wide);
    auto* ctup = reinterpret_cast<HnswCodeTupleData*>(cbuf);
    HnswSplitPayload(&bs->sup, wide, HnswElementPayload(etup), ctup);
    reinterpret_cast<HnswWidePayload*>(HnswElementPayload(etup) + VARHDRSZ)->code_tid = ctid;
    ctup->owner = etid;
  } else {
    CopyElementValue(bs, i, HnswElementPayload(etup));
  }
  return esize;
}

// Builds element i's neighbour tuple in buf: its lists of every layer as element TIDs (etids),
// unused slots invalid. Returns the tuple's size.
Size FillNeighborTuple(const BuildState* bs, const HnswGraph* g, int64 i,
                       const ItemPointerData* etids, char* buf) {
  int m = bs->m;
  int level = g->Level(i);
  Size nsize = HnswNeighborTupleSize(level, m);
  auto* ntup = reinterpret_cast<HnswNeighborTupleData*>(buf);
  memset(buf, 0, nsize);
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
  return nsize;
}

// Appends tuples to new pages at the end of the index in block order (a build's writes: plain
// dirty buffers, logged with the build's log_newpage_range).
struct PageAppender {
  Relation index;
  Buffer buf;
  BlockNumber cur;
};

// Adds item (size bytes) at `target`, which PlaceTuples chose: on the current page, or on the
// next new page. Errors (internal) when the block or offset differs from the placement.
void AppendTuple(PageAppender* a, const ItemPointerData* target, Item item, Size size) {
  BlockNumber want = ItemPointerGetBlockNumber(target);
  if (want != a->cur) {
    if (BufferIsValid(a->buf)) {
      MarkBufferDirty(a->buf);
      UnlockReleaseBuffer(a->buf);
    }
    a->buf = ReadBufferExtended(a->index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
    LockBuffer(a->buf, BUFFER_LOCK_EXCLUSIVE);
    if (BufferGetBlockNumber(a->buf) != want)
      elog(ERROR, "hnsw build: expected block %u, got %u", want, BufferGetBlockNumber(a->buf));
    HnswInitDataPage(BufferGetPage(a->buf));
    a->cur = want;
  }
  OffsetNumber off =
      PageAddItem(BufferGetPage(a->buf), item, size, InvalidOffsetNumber, false, false);
  if (off != ItemPointerGetOffsetNumber(target))
    elog(ERROR, "hnsw build: tuple placed at offset %u, expected %u", off,
         ItemPointerGetOffsetNumber(target));
}

void FinishAppender(PageAppender* a) {
  if (BufferIsValid(a->buf)) {
    MarkBufferDirty(a->buf);
    UnlockReleaseBuffer(a->buf);
  }
  a->buf = InvalidBuffer;
}

// Writes the built elements as pages from the next block on (block 1, or after the parameter
// pages of a quantized index), in the given order (order[pos] = element; each element's
// neighbour tuple right after it), and sets the meta page. Placement is computed first so that
// every neighbour TID is known when a list is written.
void WriteGraph(BuildState* bs, const HnswGraph* g, const int32* order) {
  int64 n = bs->nelem;
  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWrite);
  auto* etids = static_cast<ItemPointerData*>(
      MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ItemPointerData) * n));
  auto* ntids = static_cast<ItemPointerData*>(
      MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ItemPointerData) * n));
  const bool wide = bs->sup.code_head > 0;
  ItemPointerData* ctids = nullptr;
  if (wide)
    ctids = static_cast<ItemPointerData*>(
        MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ItemPointerData) * n));
  BlockNumber last_blk = PlaceTuples(bs, g, order, etids, ctids, ntids);

  Size max_esize = HnswElementTupleSize(
      bs->kind == pg::ElementLayout::kDenseFloat ? StoredValueSize(bs, 0) : bs->max_value_size);
  char* etup_buf = static_cast<char*>(palloc0(max_esize));
  Size csize = wide ? HnswCodeTupleSize(bs->sup.code_tail) : 0;
  char* ctup_buf = wide ? static_cast<char*>(palloc0(csize)) : nullptr;
  char* wide_buf = wide ? static_cast<char*>(palloc0(bs->sup.payload_size)) : nullptr;
  ItemPointerData no_tid;
  ItemPointerSetInvalid(&no_tid);
  char* ntup_buf = static_cast<char*>(palloc0(HnswNeighborTupleSize(kMaxLevel, bs->m) + 8));
  PageAppender appender = {bs->index, InvalidBuffer, InvalidBlockNumber};
  for (int64 pos = 0; pos < n; pos++) {
    int64 i = order[pos];
    Size esize = FillElementTuple(bs, g, i, etids[i], wide ? ctids[i] : no_tid, ntids[i], etup_buf,
                                  ctup_buf, wide_buf);
    Size nsize = FillNeighborTuple(bs, g, i, etids, ntup_buf);
    AppendTuple(&appender, &etids[i], reinterpret_cast<Item>(etup_buf), esize);
    if (wide) AppendTuple(&appender, &ctids[i], reinterpret_cast<Item>(ctup_buf), csize);
    AppendTuple(&appender, &ntids[i], reinterpret_cast<Item>(ntup_buf), nsize);
    if ((pos & 1023) == 0) {
      CHECK_FOR_INTERRUPTS();
      pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, pos);
    }
  }
  FinishAppender(&appender);
  pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, n);
  if (n > 0) {
    ItemPointerData entry = etids[g->EntryPoint()];
    HnswUpdateMeta(bs->index, true, last_blk, true, &entry, g->MaxLevel());
  }
  pfree(etids);
  pfree(ntids);
  if (wide) {
    pfree(ctids);
    pfree(ctup_buf);
    pfree(wide_buf);
  }
  pfree(etup_buf);
  pfree(ntup_buf);
}

// Whether collected rows a and b hold equal values (GroupEqualRows' equality test).
bool CollectedRowsEqual(const void* ctx, int64_t a, int64_t b) {
  const auto* bs = static_cast<const BuildState*>(ctx);
  if (bs->kind == pg::ElementLayout::kDenseFloat)
    return memcmp(bs->vecs + static_cast<size_t>(a) * bs->dims,
                  bs->vecs + static_cast<size_t>(b) * bs->dims, sizeof(float) * bs->dims) == 0;
  return HnswValuesEqual(bs->arena + bs->offsets[a], bs->arena + bs->offsets[b]);
}

// Groups the collected rows into elements (hnsw_page.h, "Duplicates") and compacts the values
// so that value e is element e's (its first row's): the graph is then built over bs->nelem
// values. A row's value only moves to a lower position, and elements are ordered by their first
// row, so moving them in element order never overwrites a value still to be moved.
void GroupCollected(BuildState* bs) {
  int64 n = bs->n;
  auto* hashes =
      static_cast<uint64*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * n));
  for (int64 i = 0; i < n; i++) {
    const char* bytes;
    Size len;
    if (bs->kind == pg::ElementLayout::kDenseFloat) {
      bytes = reinterpret_cast<const char*>(bs->vecs + static_cast<size_t>(i) * bs->dims);
      len = sizeof(float) * bs->dims;
    } else {
      bytes = bs->arena + bs->offsets[i];
      len = VARSIZE(bytes);
    }
    hashes[i] = hash_bytes_extended(reinterpret_cast<const unsigned char*>(bytes),
                                    static_cast<int>(len), 0);
    if ((i & 4095) == 0) CHECK_FOR_INTERRUPTS();
  }
  bs->elem_rows =
      static_cast<int32*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * n));
  bs->elem_first =
      static_cast<int64*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (n + 1)));
  int64 nelem = 0;
  pg::GuardedCall([&]() {
    nelem = GroupEqualRows(n, hashes, CollectedRowsEqual, bs, kHnswHeapTids, bs->elem_rows,
                           bs->elem_first);
  });
  pfree(hashes);
  bs->nelem = nelem;
  if (nelem == n) return;  // no two rows share a value: nothing moves
  Size stride = bs->kind == pg::ElementLayout::kBits && n > 1 ? bs->offsets[1] - bs->offsets[0] : 0;
  for (int64 e = 0; e < nelem; e++) {
    int64 row = bs->elem_rows[bs->elem_first[e]];
    if (row == e) continue;
    switch (bs->kind) {
      case pg::ElementLayout::kDenseFloat:
        memcpy(bs->vecs + static_cast<size_t>(e) * bs->dims,
               bs->vecs + static_cast<size_t>(row) * bs->dims, sizeof(float) * bs->dims);
        break;
      case pg::ElementLayout::kBits:  // the bit space reads values at one stride: move the bytes
        memcpy(bs->arena + e * stride, bs->arena + row * stride, stride);
        bs->offsets[e] = e * stride;
        break;
      default:
        bs->offsets[e] = bs->offsets[row];
        break;
    }
  }
}

// Builds the graph over the collected vectors in memory and writes it out.
void BuildCollected(BuildState* bs) {
  if (bs->kind == pg::ElementLayout::kDenseFloat) EnsureQuantizer(bs, bs->n);
  if (bs->n == 0) return;
  int64 rows = bs->n;
  GroupCollected(bs);
  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseGraph);
  pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->nelem);
  auto* holder = static_cast<GraphHolder*>(palloc0(sizeof(GraphHolder)));
  holder->cb.func = GraphHolderFree;
  holder->cb.arg = holder;
  MemoryContextRegisterResetCallback(CurrentMemoryContext, &holder->cb);
  int threads = bs->threads;
  Metric metric = bs->sup.metric;
  int64 n = bs->nelem;
  int m = bs->m, efc = bs->ef_construction;
  uint64 seed = 0x5eed0000u + static_cast<uint64>(n);
  // The space over the collected values (arena pointers are final: collection is over).
  DenseFloatSpace dense{bs->vecs, bs->dims, metric};
  BitSpace bits{nullptr, 0, 0, Metric::kHamming};
  SparseSpace sparse{nullptr, metric};
  if (bs->kind == pg::ElementLayout::kBits) {
    Size offset, nbytes;
    bs->sup.type->bits_at(bs->arena, &offset, &nbytes);
    bits.base = reinterpret_cast<const uint8_t*>(bs->arena + offset);
    bits.stride = n > 1 ? bs->offsets[1] - bs->offsets[0] : 0;  // all values have one size
    bits.bytes = nbytes;
    bits.metric = bs->sup.metric;
  } else if (bs->kind == pg::ElementLayout::kSparse) {
    auto* views = static_cast<SparseView*>(
        MemoryContextAllocHuge(CurrentMemoryContext, sizeof(SparseView) * static_cast<Size>(n)));
    for (int64 i = 0; i < n; i++) views[i] = bs->sup.type->sparse_view(bs->arena + bs->offsets[i]);
    sparse.views = views;
  }
  pg::ElementLayout kind = bs->kind;
  bool completed = pg::GuardedCall([&]() -> bool {
    holder->graph = new HnswGraph(n, m, efc, seed);
    switch (kind) {
      case pg::ElementLayout::kBits:
        return holder->graph->Build(bits, threads, PgInterruptPending);
      case pg::ElementLayout::kSparse:
        return holder->graph->Build(sparse, threads, PgInterruptPending);
      default:
        return holder->graph->Build(dense, threads, PgInterruptPending);
    }
  });
  if (!completed) {
    CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("hnsw index build interrupted")));
  }
  ereport(DEBUG1, (errmsg_internal("hnsw graph of " INT64_FORMAT " %s elements built in memory", n,
                                   bs->sup.type->name)));
  CHECK_FOR_INTERRUPTS();
  // On-disk order (hnsw_page.h, "Order"): a Gorder-like window order over layer 0 when its
  // working memory fits what maintenance_work_mem has left, else breadth-first.
  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseOrder);
  auto* order =
      static_cast<int32*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * n));
  bool greedy = static_cast<Size>(n) * (bs->per_vector + WindowOrderBytesPerElement(2 * m)) +
                    bs->arena_used <=
                bs->mem_limit;
  completed = pg::GuardedCall([&]() -> bool {
    const HnswGraph* g = holder->graph;
    GraphNeighbours layer0 = [g](int64_t v, int* count) { return g->Neighbors(v, 0, count); };
    std::vector<int32_t> o =
        greedy ? WindowGreedyOrder(n, layer0, g->EntryPoint(), kOrderWindow, PgInterruptPending)
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
  bs->index_tuples += static_cast<double>(rows);
  pfree(bs->elem_rows);
  pfree(bs->elem_first);
  bs->elem_rows = nullptr;
  bs->elem_first = nullptr;
  bs->nelem = 0;
  if (bs->vecs != nullptr) pfree(bs->vecs);
  bs->vecs = nullptr;
  if (bs->arena != nullptr) pfree(bs->arena);
  bs->arena = nullptr;
  if (bs->offsets != nullptr) pfree(bs->offsets);
  bs->offsets = nullptr;
  if (sparse.views != nullptr) pfree(const_cast<SparseView*>(sparse.views));
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
    bool dense = bs->kind == pg::ElementLayout::kDenseFloat;
    Size vbytes = dense ? 0 : MAXALIGN(VARSIZE(value));
    Size needed =
        bs->fixed_bytes + static_cast<Size>(bs->n + 1) * bs->per_vector + bs->arena_used + vbytes;
    if (needed > bs->mem_limit) {
      ereport(NOTICE,
              (errmsg("hnsw graph no longer fits into maintenance_work_mem after " INT64_FORMAT
                      " tuples",
                      bs->n),
               errdetail("Building will take significantly more time."),
               errhint("Increase maintenance_work_mem to speed up builds.")));
      BuildCollected(bs);
      bs->in_memory = false;
    } else {
      if (bs->n == bs->cap) {
        // Doubling, but never past the elements the budget holds (needed <= mem_limit, so at
        // least n + 1 of them).
        int64 fit = static_cast<int64>((bs->mem_limit - bs->fixed_bytes - bs->arena_used - vbytes) /
                                       bs->per_vector);
        int64 cap = Min(bs->cap == 0 ? 1024 : bs->cap * 2, fit);
        if (bs->tids == nullptr) {
          if (dense)
            bs->vecs = static_cast<float*>(
                MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * bs->dims * cap));
          else
            bs->offsets = static_cast<Size*>(
                MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Size) * cap));
          bs->tids = static_cast<ItemPointerData*>(
              MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ItemPointerData) * cap));
        } else {
          if (dense)
            bs->vecs = static_cast<float*>(repalloc_huge(bs->vecs, sizeof(float) * bs->dims * cap));
          else
            bs->offsets = static_cast<Size*>(repalloc_huge(bs->offsets, sizeof(Size) * cap));
          bs->tids =
              static_cast<ItemPointerData*>(repalloc_huge(bs->tids, sizeof(ItemPointerData) * cap));
        }
        bs->cap = cap;
      }
      if (dense) {
        bs->sup.type->to_float(value, bs->vecs + static_cast<size_t>(bs->n) * bs->dims);
      } else {
        // The bit space reads every value at one stride: all must have one length (a bit(n)
        // column guarantees it; the distance functions raise the same error).
        if (bs->kind == pg::ElementLayout::kBits && bs->n > 0 &&
            bs->sup.type->dims(value) != bs->sup.type->dims(bs->arena + bs->offsets[0]))
          ereport(ERROR,
                  (errcode(ERRCODE_DATA_EXCEPTION),
                   errmsg("different bit lengths %u and %u",
                          static_cast<uint32>(bs->sup.type->dims(bs->arena + bs->offsets[0])),
                          static_cast<uint32>(bs->sup.type->dims(value)))));
        if (bs->arena_used + vbytes > bs->arena_cap) {
          // Doubling (at least 64 kB), but never past what the budget leaves for values.
          Size cap = Max(bs->arena_cap * 2, bs->arena_used + vbytes);
          cap = Max(cap, static_cast<Size>(64 * 1024));
          cap = Min(
              cap, bs->mem_limit - bs->fixed_bytes - static_cast<Size>(bs->n + 1) * bs->per_vector);
          bs->arena = bs->arena == nullptr
                          ? static_cast<char*>(MemoryContextAllocHuge(CurrentMemoryContext, cap))
                          : static_cast<char*>(repalloc_huge(bs->arena, cap));
          bs->arena_cap = cap;
        }
        memcpy(bs->arena + bs->arena_used, value, VARSIZE(value));
        bs->offsets[bs->n] = bs->arena_used;
        bs->arena_used += vbytes;
        bs->max_value_size = Max(bs->max_value_size, static_cast<Size>(VARSIZE(value)));
      }
      bs->tids[bs->n] = *tid;
      bs->n++;
      if ((bs->n & 1023) == 0) pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->n);
      MemoryContextReset(bs->tmp_ctx);
      return;
    }
    MemoryContextSwitchTo(bs->tmp_ctx);
  }
  HnswInsertValue(bs->index, &bs->sup, value, tid, true, &bs->rows);
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

// ambuild: builds the graph over the table's rows (see the file comment). Errors (pgvector's
// messages, SQLSTATEs and order): 0A000 for bit varying, 22023 for a column without dimensions,
// 54000 for a column or a value over hnsw's dimension limit, 22023 for ef_construction < 2 * m;
// 57014 when cancelled.
IndexBuildResult* hnswbuild(Relation heap, Relation index, IndexInfo* index_info) {
  if (RelationGetNumberOfBlocks(index) != 0)
    elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
  auto* bs = static_cast<BuildState*>(palloc0(sizeof(BuildState)));
  MemoryContext build_ctx =
      AllocSetContextCreate(CurrentMemoryContext, "hnsw build", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(build_ctx);
  bs->heap = heap;
  bs->index = index;
  bs->m = HnswGetM(index);
  bs->ef_construction = HnswGetEfConstruction(index);
  HnswInitSupport(index, &bs->sup);
  bs->dims = HnswCheckColumnDims(index, &bs->sup);
  // (after the column checks, in pgvector's order)
  if (bs->ef_construction < 2 * bs->m)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("ef_construction must be greater than or equal to 2 * m")));
  if (bs->dims < 0) bs->dims = 0;  // sparsevec without a declared dimension
  bs->kind = bs->sup.type->layout;
  bs->in_memory = bs->sup.kernel != nullptr &&
                  (bs->kind == pg::ElementLayout::kDenseFloat
                       ? bs->sup.type->to_float != nullptr && bs->dims > 0
                   : bs->kind == pg::ElementLayout::kBits ? bs->sup.type->bits_at != nullptr
                                                          : bs->sup.type->sparse_view != nullptr);
  bs->mem_limit = static_cast<Size>(maintenance_work_mem) * 1024;
  bs->threads = bs->in_memory ? pg::BuildThreads(heap, index, pg::BuildKind::kHnsw) : 1;
  bs->fixed_bytes =
      static_cast<Size>(bs->threads) * HnswGraph::BytesPerThread(bs->m, bs->ef_construction);
  // Per element: its heap TID, its place in the grouping of equal values (a row number and a
  // range start; the grouping's working memory is freed before the graph is allocated and is
  // smaller than it), the graph (lists, counts, lock), the placement arrays of the
  // write-out, the threads' visited tables, the breadth-first order (two int32 arrays and a
  // flag; the window order is only used when its memory fits, see BuildCollected), and its
  // value: dense floats, or (bit, sparsevec) its offset, its sparse view, and its bytes in the
  // arena (counted as collected).
  bs->per_vector = sizeof(ItemPointerData) + sizeof(int32) + sizeof(int64) +
                   HnswGraph::BytesPerElement(bs->m) + 2 * sizeof(ItemPointerData) +
                   sizeof(uint32) * bs->threads + 2 * sizeof(int32) + 1;
  if (bs->kind == pg::ElementLayout::kDenseFloat)
    bs->per_vector += sizeof(float) * bs->dims;
  else
    bs->per_vector +=
        sizeof(Size) + (bs->kind == pg::ElementLayout::kSparse ? sizeof(SparseView) : 0);
  bs->tmp_ctx = AllocSetContextCreate(build_ctx, "hnsw build tuple", ALLOCSET_DEFAULT_SIZES);

  // Meta page.
  Buffer meta_buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
  LockBuffer(meta_buf, BUFFER_LOCK_EXCLUSIVE);
  HnswInitMetaPage(BufferGetPage(meta_buf), bs->dims, bs->m, bs->ef_construction);
  MarkBufferDirty(meta_buf);
  UnlockReleaseBuffer(meta_buf);

  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoad);
  HnswRowReaderInit(&bs->rows, heap, index_info);
  bs->heap_tuples =
      table_index_build_scan(heap, index, index_info, true, true, BuildCallback, bs, nullptr);
  HnswRowReaderEnd(&bs->rows);
  if (bs->in_memory) BuildCollected(bs);
  EnsureQuantizer(bs, 0);  // an empty table, or no in-memory phase: the quantizer's defaults
  if (RelationNeedsWAL(index))
    log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
  // Every element reachable from the entry point before the index is used (generic WAL from
  // here on; quiet when it does not fit maintenance_work_mem: the build said enough).
  HnswLinkUnreachable(index, nullptr, &bs->sup, false);

  // The result outlives the build context: allocate it in the caller's context.
  MemoryContextSwitchTo(old);
  auto* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
  result->heap_tuples = bs->heap_tuples;
  result->index_tuples = bs->index_tuples;
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
  // Quantized: the parameter pages of an untrained quantizer (its defaults) follow the meta page.
  char* blob = nullptr;
  Size len = 0;
  if (sup.quantizer != QuantizerKind::kNone) {
    auto* params = static_cast<float*>(
        palloc(sizeof(float) * Max(QuantizerParamCount(sup.quantizer, sup.qdims), size_t(1))));
    len = SerializedQuantizerSize(sup.quantizer, sup.qdims);
    blob = static_cast<char*>(palloc(len));
    pg::GuardedCall([&] {
      TrainQuantizer(sup.quantizer, sup.qdims, nullptr, 0, params);
      SerializeQuantizer(sup.quantizer, sup.qdims, params, reinterpret_cast<uint8_t*>(blob));
    });
    HnswMetaPageData* meta = HnswPageGetMeta(page);
    meta->quantizer = static_cast<uint8>(sup.quantizer);
    meta->quantizer_bytes = static_cast<uint32>(len);
    meta->param_first = kHnswMetaBlock + 1;
  }
  PageSetChecksumInplace(page, kHnswMetaBlock);
  smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, kHnswMetaBlock, page, true);
  log_newpage(&RelationGetSmgr(index)->smgr_rnode.node, INIT_FORKNUM, kHnswMetaBlock, page, true);
  Size per = pg::BlobBytesPerPage(sizeof(HnswPageOpaqueData));
  BlockNumber blk = kHnswMetaBlock + 1;
  for (Size done = 0; blob != nullptr && done < len; done += per, blk++) {
    HnswInitDataPage(page);
    HnswPageGetOpaque(page)->flags |= kHnswParamPage;
    pg::BlobPageFill(page, blob + done, Min(per, len - done));
    PageSetChecksumInplace(page, blk);
    smgrextend(RelationGetSmgr(index), INIT_FORKNUM, blk, page, true);
    log_newpage(&RelationGetSmgr(index)->smgr_rnode.node, INIT_FORKNUM, blk, page, true);
  }
  smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
  pfree(page);
}

}  // extern "C"
