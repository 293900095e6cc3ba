// ragstore ivfflat: CREATE INDEX (ambuild) and the init fork of unlogged indexes (ambuildempty).
//
// 1. Sample: one pass over the table with reservoir sampling (Vitter's algorithm R, fixed seed,
//    so a build is reproducible) of up to kSamplesPerList * lists rows, bounded by
//    maintenance_work_mem.
// 2. k-means: FAISS (faiss::Clustering), spherical for cosine and inner product (the samples are
//    normalised), kKMeansIterations iterations.
//    Fewer rows than lists: the rows plus random centroids, and pgvector's NOTICE.
// 3. Assign + load: a pass over the table assigns rows in batches (kAssignBatch rows, fewer
//    when an eighth of maintenance_work_mem does not hold them) with FAISS's batched (BLAS)
//    nearest-centroid search, keeps them in memory, and writes each list as a chain of data
//    pages, lists in order. When the rows do not fit in what maintenance_work_mem leaves beside
//    the batch and the centroids (at least a quarter of it), the lists are split into groups and
//    each group takes its own pass (with a NOTICE). pgvector raises an error where its k-means
//    does not fit; we sample less and take more passes instead.
// 4. WAL: log_newpage_range over every page written (see ivf_page.h).
// Quantized indexes (quantizer = 'sq8' | 'binary'): the quantizer is trained on the same sample
// before k-means (core/quantizer.h: FAISS's ScalarQuantizer for sq8), written with the
// centroids to the parameter pages, and each row is stored as its code with its CodeAux,
// encoded in the assignment batches from the row's float32 values.
// Threads: k-means and the assignment run on the threads PostgreSQL's parallel settings grant
// (leader + parallel workers, pgvector's count: src/pg/build_threads.h); the table scans and
// page writes run in the backend's own thread.
#include <algorithm>

#include "core/ivf_kmeans.h"
#include "ivf/ivf.h"
#include "pg/blob_pages.h"
#include "pg/build_threads.h"
#include "pg/faiss_support.h"

extern "C" {
#include "access/generic_xlog.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace ragstore {
namespace ivf {
namespace {

// 50 samples per list, as pgvector: k-means quality levels off beyond a few dozen points per
// centroid (FAISS warns below 39), and k-means time is linear in the sample.
constexpr int64 kSamplesPerList = 50;
constexpr int kKMeansIterations = 10;
constexpr int kKMeansSeed = 1234;
constexpr uint64 kSampleSeed = 42;
constexpr int kAssignBatch = 4096;

struct BuildState {
  Relation index;
  ForkNumber fork;
  ElementType kind;
  Metric metric;
  const pg::DistanceDesc* dist;
  int dims;
  int lists;
  int esize;
  int wsize;
  int threads;  // FAISS threads (pg::BuildThreads)
  QuantizerKind quantizer;
  float* params;  // quantized: the trained parameters
  MemoryContext tmpctx;

  // sampling
  float* samples;
  int64 sample_target;
  int64 nsamples;
  int64 seen;  // indexable rows
  pg_prng_state prng;
  char* elem_tmp;
  char* work_tmp;

  // centroids in working form (lists * wsize)
  char* centers_work;

  // assignment batch
  int batch_n;
  int batch_cap;
  ItemPointerData* batch_tids;
  char* batch_elems;
  char* batch_work;
  int64* labels;
  int64 assigned;

  // rows of the current group of lists [group_lo, group_hi)
  int group_lo, group_hi;
  char* arena;  // entries of kEntry = tid + element
  int64* next;  // per entry: the next entry of the same list, or -1
  int64 arena_n, arena_cap;
  int64* head;  // per list: first entry, or -1
  int64 loaded;
};

inline Size EntrySize(const BuildState* bs) { return sizeof(ItemPointerData) + bs->esize; }

// Working form of a row as float samples (bit: one float 0/1 per bit).
void WorkToSample(const BuildState* bs, const char* work, float* out) {
  if (WorksInFloats(bs->kind)) {
    memcpy(out, work, sizeof(float) * bs->dims);
  } else {
    const uint8* bytes = reinterpret_cast<const uint8*>(work);
    for (int i = 0; i < bs->dims; i++) out[i] = (bytes[i / 8] & (0x80 >> (i % 8))) ? 1.0f : 0.0f;
  }
}

void SampleCallback(Relation index, ItemPointer tid, Datum* values, bool* isnull, bool alive,
                    void* state) {
  (void)index;
  (void)tid;
  (void)alive;
  BuildState* bs = static_cast<BuildState*>(state);
  if (isnull[0]) return;
  MemoryContext old = MemoryContextSwitchTo(bs->tmpctx);
  bool ok =
      bs->quantizer != QuantizerKind::kNone
          ? DatumToFloats(values[0], bs->dist, bs->dims, reinterpret_cast<float*>(bs->work_tmp))
          : DatumToElement(values[0], bs->dist, bs->dims, bs->elem_tmp, bs->work_tmp);
  MemoryContextSwitchTo(old);
  MemoryContextReset(bs->tmpctx);
  if (!ok) return;
  bs->seen++;
  int64 slot;
  if (bs->nsamples < bs->sample_target) {
    slot = bs->nsamples++;
  } else {
    slot = static_cast<int64>(pg_prng_uint64_range(&bs->prng, 0, bs->seen - 1));
    if (slot >= bs->sample_target) return;
  }
  WorkToSample(bs, bs->work_tmp, bs->samples + slot * bs->dims);
}

void FlushBatch(BuildState* bs) {
  if (bs->batch_n == 0) return;
  int n = bs->batch_n;
  pg::RunFaiss(bs->threads, [&] {
    if (bs->quantizer != QuantizerKind::kNone)
      EncodeEntries(bs->quantizer, bs->dims, bs->params,
                    reinterpret_cast<const float*>(bs->batch_work), n,
                    reinterpret_cast<uint8_t*>(bs->batch_elems), bs->esize);
    if (WorksInFloats(bs->kind))
      AssignNearest(reinterpret_cast<const float*>(bs->batch_work), n,
                    reinterpret_cast<const float*>(bs->centers_work), bs->lists, bs->dims,
                    bs->dist->build_metric == Metric::kInnerProduct, bs->labels);
    else
      AssignNearestHamming(reinterpret_cast<const uint8_t*>(bs->batch_work), n,
                           reinterpret_cast<const uint8_t*>(bs->centers_work), bs->lists, bs->esize,
                           bs->labels);
  });
  Size entry = EntrySize(bs);
  for (int i = 0; i < n; i++) {
    int list = static_cast<int>(bs->labels[i]);
    if (list < bs->group_lo || list >= bs->group_hi) continue;
    if (bs->arena_n == bs->arena_cap) {
      bs->arena_cap *= 2;
      bs->arena = static_cast<char*>(repalloc_huge(bs->arena, bs->arena_cap * entry));
      bs->next = static_cast<int64*>(repalloc_huge(bs->next, bs->arena_cap * sizeof(int64)));
    }
    char* dst = bs->arena + bs->arena_n * entry;
    memcpy(dst, &bs->batch_tids[i], sizeof(ItemPointerData));
    memcpy(dst + sizeof(ItemPointerData), bs->batch_elems + static_cast<Size>(i) * bs->esize,
           bs->esize);
    bs->next[bs->arena_n] = bs->head[list];
    bs->head[list] = bs->arena_n;
    bs->arena_n++;
  }
  bs->assigned += n;
  bs->batch_n = 0;
  pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->assigned);
  CHECK_FOR_INTERRUPTS();
}

void AssignCallback(Relation index, ItemPointer tid, Datum* values, bool* isnull, bool alive,
                    void* state) {
  (void)index;
  (void)alive;
  BuildState* bs = static_cast<BuildState*>(state);
  if (isnull[0]) return;
  int n = bs->batch_n;
  MemoryContext old = MemoryContextSwitchTo(bs->tmpctx);
  // quantized: the float values now, the code when the batch is flushed
  bool ok = bs->quantizer != QuantizerKind::kNone
                ? DatumToFloats(
                      values[0], bs->dist, bs->dims,
                      reinterpret_cast<float*>(bs->batch_work + static_cast<Size>(n) * bs->wsize))
                : DatumToElement(values[0], bs->dist, bs->dims,
                                 bs->batch_elems + static_cast<Size>(n) * bs->esize,
                                 bs->batch_work + static_cast<Size>(n) * bs->wsize);
  MemoryContextSwitchTo(old);
  MemoryContextReset(bs->tmpctx);
  if (!ok) return;
  bs->batch_tids[n] = *tid;
  if (++bs->batch_n == bs->batch_cap) FlushBatch(bs);
}

Buffer NewBuildBuffer(BuildState* bs, IvfPageType type) {
  Buffer buf = ReadBufferExtended(bs->index, bs->fork, P_NEW, RBM_NORMAL, nullptr);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  InitPage(BufferGetPage(buf), type);
  return buf;
}

void FinishBuildBuffer(Buffer buf) {
  MarkBufferDirty(buf);
  UnlockReleaseBuffer(buf);
}

// Trains (or, with few rows, picks) the centroids; fills bs->centers_work and returns the
// stored form of every centroid (lists * esize; nullptr for a quantized index, whose centroids
// are stored as they are in bs->centers_work).
char* ComputeCentroids(BuildState* bs) {
  Size nfloats = static_cast<Size>(bs->lists) * bs->dims;
  float* centers =
      static_cast<float*>(MemoryContextAllocHuge(CurrentMemoryContext, nfloats * sizeof(float)));
  bool spherical = bs->dist->build_metric == Metric::kInnerProduct;
  int64 n = bs->nsamples;
  float* samples = bs->samples;
  int dims = bs->dims, lists = bs->lists;
  pg::RunFaiss(bs->threads, [&] {
    if (spherical) NormalizeRows(samples, n, dims);
    if (n >= lists)
      TrainKMeans(samples, n, dims, lists, spherical, kKMeansIterations, kKMeansSeed, centers);
    else
      FillCentroidsFewPoints(samples, n, dims, lists, spherical, kKMeansSeed, centers);
  });
  if (bs->quantizer != QuantizerKind::kNone) {
    // stored as float4 on the parameter pages: the working form is the stored form
    bs->centers_work = reinterpret_cast<char*>(centers);
    return nullptr;
  }
  char* stored = static_cast<char*>(
      MemoryContextAllocHuge(CurrentMemoryContext, static_cast<Size>(lists) * bs->esize));
  bs->centers_work = static_cast<char*>(
      MemoryContextAllocHuge(CurrentMemoryContext, static_cast<Size>(lists) * bs->wsize));
  for (int i = 0; i < lists; i++) {
    char* elem = stored + static_cast<Size>(i) * bs->esize;
    char* work = bs->centers_work + static_cast<Size>(i) * bs->wsize;
    bs->dist->element->element_from_floats(centers + static_cast<Size>(i) * dims, dims, elem);
    ElementToWork(elem, bs->kind, dims, work);
  }
  pfree(centers);
  return stored;
}

// Writes the meta page (block 0) and the list pages; returns each list's tuple location.
void WriteMetaAndLists(BuildState* bs, const char* stored, BlockNumber* list_block,
                       OffsetNumber* list_offset) {
  Buffer meta_buf = NewBuildBuffer(bs, kPageMeta);
  Assert(BufferGetBlockNumber(meta_buf) == kMetaBlock);
  Page meta_page = BufferGetPage(meta_buf);
  IvfMetaData* meta = reinterpret_cast<IvfMetaData*>(PageGetContents(meta_page));
  meta->magic = kIvfMagic;
  meta->version = kIvfVersion;
  meta->dims = bs->dims;
  meta->lists = bs->lists;
  meta->kind = static_cast<uint16>(bs->kind);
  meta->metric = static_cast<uint16>(bs->metric);
  meta->element_size = bs->esize;
  meta->first_list_block = kMetaBlock + 1;
  const bool quantized = bs->quantizer != QuantizerKind::kNone;
  if (quantized) {
    Size qbytes = SerializedQuantizerSize(bs->quantizer, bs->dims);
    Size cbytes = sizeof(float) * static_cast<Size>(bs->lists) * bs->dims;
    meta->version = kIvfVersionQuantized;
    meta->quantizer = static_cast<uint16>(bs->quantizer);
    meta->code_size = static_cast<int32>(QuantizerCodeSize(bs->quantizer, bs->dims));
    meta->blob_block = kMetaBlock + 1;
    meta->quantizer_bytes = static_cast<uint32>(qbytes);
    meta->first_list_block =
        meta->blob_block + pg::BlobPageCount(qbytes + cbytes, sizeof(IvfPageOpaque));
  }
  reinterpret_cast<PageHeader>(meta_page)->pd_lower =
      static_cast<LocationIndex>(reinterpret_cast<char*>(meta + 1) - meta_page);
  BlockNumber first_list_block = meta->first_list_block;
  FinishBuildBuffer(meta_buf);

  if (quantized) {
    // parameter pages: the serialised quantizer, then the centroids
    Size qbytes = SerializedQuantizerSize(bs->quantizer, bs->dims);
    Size cbytes = sizeof(float) * static_cast<Size>(bs->lists) * bs->dims;
    char* blob = static_cast<char*>(MemoryContextAllocHuge(CurrentMemoryContext, qbytes + cbytes));
    QuantizerKind q = bs->quantizer;
    size_t dims = bs->dims;
    const float* params = bs->params;
    pg::GuardedCall([&] { SerializeQuantizer(q, dims, params, reinterpret_cast<uint8_t*>(blob)); });
    memcpy(blob + qbytes, bs->centers_work, cbytes);
    Size per = pg::BlobBytesPerPage(sizeof(IvfPageOpaque));
    for (Size done = 0; done < qbytes + cbytes; done += per) {
      Buffer buf = NewBuildBuffer(bs, kPageBlob);
      Assert(BufferGetBlockNumber(buf) == kMetaBlock + 1 + done / per);
      pg::BlobPageFill(BufferGetPage(buf), blob + done, std::min(per, qbytes + cbytes - done));
      FinishBuildBuffer(buf);
    }
    pfree(blob);
  }

  Size tuple_size = ListTupleSize(quantized ? 0 : bs->esize);
  IvfListTuple* tuple = static_cast<IvfListTuple*>(palloc0(tuple_size));
  Buffer buf = NewBuildBuffer(bs, kPageList);
  if (BufferGetBlockNumber(buf) != first_list_block)
    elog(ERROR, "ivfflat: list pages out of place");
  for (int i = 0; i < bs->lists; i++) {
    tuple->start_block = InvalidBlockNumber;
    tuple->insert_block = InvalidBlockNumber;
    if (!quantized) memcpy(tuple->center, stored + static_cast<Size>(i) * bs->esize, bs->esize);
    Page page = BufferGetPage(buf);
    if (PageGetFreeSpace(page) < tuple_size) {
      Buffer next = NewBuildBuffer(bs, kPageList);
      PageOpaque(page)->next = BufferGetBlockNumber(next);
      FinishBuildBuffer(buf);
      buf = next;
      page = BufferGetPage(buf);
    }
    OffsetNumber off = PageAddItem(page, reinterpret_cast<Item>(tuple), tuple_size,
                                   InvalidOffsetNumber, false, false);
    if (off == InvalidOffsetNumber) elog(ERROR, "ivfflat: failed to add list tuple");
    list_block[i] = BufferGetBlockNumber(buf);
    list_offset[i] = off;
  }
  FinishBuildBuffer(buf);
  pfree(tuple);
}

// Writes the lists [lo, hi) collected in the arena as page chains.
void WriteGroup(BuildState* bs, BlockNumber* start, BlockNumber* insert) {
  Size entry = EntrySize(bs);
  // A wide element (ivf_page.h) takes a data page and the continuation page after it.
  const int head = HeadElementSize(bs->esize), tail = WideTailSize(bs->esize);
  Size capacity = DataPageCapacity(head);
  for (int list = bs->group_lo; list < bs->group_hi; list++) {
    int64 e = bs->head[list];
    if (e < 0) continue;
    Buffer buf = NewBuildBuffer(bs, kPageData);
    start[list] = BufferGetBlockNumber(buf);
    Buffer cont = tail > 0 ? NewBuildBuffer(bs, kPageCont) : InvalidBuffer;
    for (; e >= 0; e = bs->next[e]) {
      Page page = BufferGetPage(buf);
      if (static_cast<Size>(DataPageCount(page)) >= capacity) {
        if (BufferIsValid(cont)) FinishBuildBuffer(cont);
        Buffer next = NewBuildBuffer(bs, kPageData);
        PageOpaque(page)->next = BufferGetBlockNumber(next);
        FinishBuildBuffer(buf);
        buf = next;
        page = BufferGetPage(buf);
        cont = tail > 0 ? NewBuildBuffer(bs, kPageCont) : InvalidBuffer;
      }
      const char* src = bs->arena + e * entry;
      ItemPointerData tid;
      memcpy(&tid, src, sizeof(tid));
      AppendEntry(page, tail > 0 ? BufferGetPage(cont) : nullptr, &tid,
                  src + sizeof(ItemPointerData), head, tail);
      bs->loaded++;
    }
    if (BufferIsValid(cont)) FinishBuildBuffer(cont);
    insert[list] = BufferGetBlockNumber(buf);
    FinishBuildBuffer(buf);
    if ((list & 63) == 0) {
      pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->loaded);
      CHECK_FOR_INTERRUPTS();
    }
  }
}

// The build state for `index` (its operator class, quantizer, dimensions, lists, element and
// work sizes, build threads), palloc'd in the current memory context.
BuildState* InitBuildState(Relation heap, Relation index, ForkNumber fork) {
  const pg::DistanceDesc* opc = IvfOpclassDistance(index);
  BuildState* bs = static_cast<BuildState*>(palloc0(sizeof(BuildState)));
  bs->index = index;
  bs->fork = fork;
  bs->kind = opc->type;
  bs->metric = opc->metric;
  bs->dist = opc;
  bs->quantizer = GetQuantizer(index);
  bs->dims = IndexDims(index, opc, bs->quantizer);
  bs->lists = GetLists(index);
  bs->esize = bs->quantizer == QuantizerKind::kNone
                  ? ElementSize(opc->type, bs->dims)
                  : static_cast<int>(sizeof(CodeAux) + QuantizerCodeSize(bs->quantizer, bs->dims));
  bs->wsize = WorkSize(opc->type, bs->dims);
  bs->threads = pg::BuildThreads(heap, index, pg::BuildKind::kIvfflat);
  bs->tmpctx =
      AllocSetContextCreate(CurrentMemoryContext, "ivfflat build tuple", ALLOCSET_DEFAULT_SIZES);
  bs->elem_tmp = static_cast<char*>(palloc(ElementSize(opc->type, bs->dims)));
  bs->work_tmp = static_cast<char*>(palloc(bs->wsize));
  return bs;
}

// Step 1: samples up to kSamplesPerList rows per list (at most half of `budget` bytes) in one
// scan of the table (none for an empty index, heap == nullptr); a NOTICE when there are fewer
// samples than lists. Returns the table's row count.
double SampleRows(BuildState* bs, Relation heap, IndexInfo* index_info, int64 budget) {
  double reltuples = 0;
  Size sample_bytes = sizeof(float) * bs->dims;
  bs->sample_target =
      std::max<int64>(1, std::min<int64>(kSamplesPerList * bs->lists, budget / 2 / sample_bytes));
  if (heap != nullptr) {
    bs->samples = static_cast<float*>(
        MemoryContextAllocHuge(CurrentMemoryContext, bs->sample_target * sample_bytes));
    pg_prng_seed(&bs->prng, kSampleSeed);
    reltuples = table_index_build_scan(heap, bs->index, index_info, true, true, SampleCallback, bs,
                                       nullptr);
    if (bs->nsamples < bs->lists)
      ereport(NOTICE, (errmsg("ivfflat index created with little data"),
                       errdetail("This will cause low recall."),
                       errhint("Drop the index until the table has more data.")));
  }
  pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->seen);
  return reltuples;
}

// Step 2: trains the quantizer on the samples (quantized indexes; before k-means, which
// normalises the samples of inner-product indexes in place), then the centroids (k-means).
// Frees the samples. Returns the centroids as stored (ComputeCentroids).
char* TrainCentroids(BuildState* bs) {
  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseKMeans);
  if (bs->quantizer != QuantizerKind::kNone) {
    bs->params =
        static_cast<float*>(palloc(sizeof(float) * QuantizerParamCount(bs->quantizer, bs->dims)));
    QuantizerKind q = bs->quantizer;
    size_t dims = bs->dims, n = bs->nsamples;
    const float* samples = bs->samples;
    float* params = bs->params;
    pg::RunFaiss(bs->threads, [&] { TrainQuantizer(q, dims, samples, n, params); });
  }
  char* stored = ComputeCentroids(bs);
  if (bs->samples) pfree(bs->samples);
  bs->samples = nullptr;
  return stored;
}

// Step 3: assigns every row to its nearest centroid and writes the lists, in as many passes
// over the table as `budget` bytes require (a NOTICE when more than one: each pass keeps the
// rows of a contiguous group of lists). start / insert: each list's first and last data page.
void AssignAndLoad(BuildState* bs, Relation heap, IndexInfo* index_info, int64 budget,
                   BlockNumber* start, BlockNumber* insert) {
  Size row_bytes = EntrySize(bs) + sizeof(int64);
  int64 total = bs->seen * static_cast<int64>(row_bytes);
  int64 batch_row = sizeof(ItemPointerData) + bs->esize + bs->wsize + sizeof(int64);
  bs->batch_cap = static_cast<int>(std::clamp<int64>(budget / 8 / batch_row, 64, kAssignBatch));
  int64 fixed = bs->batch_cap * batch_row + static_cast<int64>(bs->lists) * (bs->esize + bs->wsize);
  int64 rows_budget = std::max<int64>(budget - fixed, budget / 4);
  int groups = 1;
  if (total > rows_budget) {
    groups = static_cast<int>(std::min<int64>(bs->lists, (total * 3 / 2) / rows_budget + 1));
    ereport(NOTICE, (errmsg("ivfflat index rows do not fit in maintenance_work_mem"),
                     errdetail("Loading the lists in %d passes over the table.", groups),
                     errhint("Increase maintenance_work_mem to speed up index builds.")));
  }
  bs->batch_tids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * bs->batch_cap));
  bs->batch_elems = static_cast<char*>(
      MemoryContextAllocHuge(CurrentMemoryContext, static_cast<Size>(bs->batch_cap) * bs->esize));
  bs->batch_work = static_cast<char*>(
      MemoryContextAllocHuge(CurrentMemoryContext, static_cast<Size>(bs->batch_cap) * bs->wsize));
  bs->labels = static_cast<int64*>(palloc(sizeof(int64) * bs->batch_cap));
  bs->head = static_cast<int64*>(palloc(sizeof(int64) * bs->lists));
  bs->arena_cap = std::max<int64>(1024, bs->seen / groups + bs->seen / (4 * groups));
  bs->arena = static_cast<char*>(
      MemoryContextAllocHuge(CurrentMemoryContext, bs->arena_cap * EntrySize(bs)));
  bs->next = static_cast<int64*>(
      MemoryContextAllocHuge(CurrentMemoryContext, bs->arena_cap * sizeof(int64)));
  for (int g = 0; g < groups; g++) {
    bs->group_lo = static_cast<int>(static_cast<int64>(bs->lists) * g / groups);
    bs->group_hi = static_cast<int>(static_cast<int64>(bs->lists) * (g + 1) / groups);
    for (int i = 0; i < bs->lists; i++) bs->head[i] = -1;
    bs->arena_n = 0;
    bs->assigned = 0;
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseAssign);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
    table_index_build_scan(heap, bs->index, index_info, true, false, AssignCallback, bs, nullptr);
    FlushBatch(bs);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoad);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, bs->loaded);
    WriteGroup(bs, start, insert);
  }
}

// Sets each non-empty list's first and last data page in its list tuple (list_block[i],
// list_offset[i]: where WriteMetaAndLists put it).
void SetListStarts(BuildState* bs, const BlockNumber* list_block, const OffsetNumber* list_offset,
                   const BlockNumber* start, const BlockNumber* insert) {
  for (int i = 0; i < bs->lists; i++) {
    if (!BlockNumberIsValid(start[i])) continue;
    Buffer buf = ReadBufferExtended(bs->index, bs->fork, list_block[i], RBM_NORMAL, nullptr);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    IvfListTuple* lt =
        reinterpret_cast<IvfListTuple*>(PageGetItem(page, PageGetItemId(page, list_offset[i])));
    lt->start_block = start[i];
    lt->insert_block = insert[i];
    FinishBuildBuffer(buf);
  }
}

// Milliseconds since *t0, which is reset to now (the build's DEBUG1 timings).
double LapMs(instr_time* t0) {
  instr_time t1;
  INSTR_TIME_SET_CURRENT(t1);
  INSTR_TIME_SUBTRACT(t1, *t0);
  INSTR_TIME_SET_CURRENT(*t0);
  return INSTR_TIME_GET_MILLISEC(t1);
}

// The whole build into `fork`; heap == nullptr builds an empty index (init fork): sample,
// centroids, meta page and list tuples, assignment and lists, then full-page WAL images.
double BuildIndex(Relation heap, Relation index, IndexInfo* index_info, ForkNumber fork,
                  double* heap_tuples) {
  BuildState* bs = InitBuildState(heap, index, fork);
  int64 budget = static_cast<int64>(maintenance_work_mem) * 1024L;
  instr_time t0;
  INSTR_TIME_SET_CURRENT(t0);
  double reltuples = SampleRows(bs, heap, index_info, budget);
  elog(DEBUG1, "ivfflat build: sampled %lld of %lld rows in %.1f ms", (long long)bs->nsamples,
       (long long)bs->seen, LapMs(&t0));
  char* stored = TrainCentroids(bs);
  elog(DEBUG1, "ivfflat build: k-means (%d lists, %d iterations) in %.1f ms", bs->lists,
       kKMeansIterations, LapMs(&t0));

  BlockNumber* list_block = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * bs->lists));
  OffsetNumber* list_offset = static_cast<OffsetNumber*>(palloc(sizeof(OffsetNumber) * bs->lists));
  BlockNumber* start = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * bs->lists));
  BlockNumber* insert = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * bs->lists));
  for (int i = 0; i < bs->lists; i++) start[i] = insert[i] = InvalidBlockNumber;
  WriteMetaAndLists(bs, stored, list_block, list_offset);
  if (heap != nullptr && bs->seen > 0) AssignAndLoad(bs, heap, index_info, budget, start, insert);
  elog(DEBUG1, "ivfflat build: assigned and loaded %lld rows in %.1f ms", (long long)bs->loaded,
       LapMs(&t0));
  SetListStarts(bs, list_block, list_offset, start, insert);

  // WAL: full-page images of everything written
  if (RelationNeedsWAL(index) || fork == INIT_FORKNUM)
    log_newpage_range(index, fork, 0, RelationGetNumberOfBlocksInFork(index, fork), true);

  *heap_tuples = reltuples;
  double indexed = static_cast<double>(bs->loaded);
  MemoryContextDelete(bs->tmpctx);
  return indexed;
}

}  // namespace
}  // namespace ivf
}  // namespace ragstore

using namespace ragstore::ivf;

extern "C" {

// ambuild: builds the whole index (see the file comment). Errors: dimensions (42611, 54000),
// cancellation (57014), out of memory (53200).
IndexBuildResult* ivfflatbuild(Relation heap, Relation index, IndexInfo* index_info) {
  if (RelationGetNumberOfBlocks(index) != 0)
    elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
  MemoryContext ctx =
      AllocSetContextCreate(CurrentMemoryContext, "ivfflat build", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(ctx);
  double heap_tuples = 0;
  double index_tuples = BuildIndex(heap, index, index_info, MAIN_FORKNUM, &heap_tuples);
  MemoryContextSwitchTo(old);
  MemoryContextDelete(ctx);
  IndexBuildResult* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
  result->heap_tuples = heap_tuples;
  result->index_tuples = index_tuples;
  return result;
}

// ambuildempty: the init fork of an unlogged index: meta page and centroids (random, as for an
// empty table), WAL-logged.
void ivfflatbuildempty(Relation index) {
  MemoryContext ctx =
      AllocSetContextCreate(CurrentMemoryContext, "ivfflat build", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(ctx);
  double heap_tuples = 0;
  BuildIndex(nullptr, index, nullptr, INIT_FORKNUM, &heap_tuples);
  MemoryContextSwitchTo(old);
  MemoryContextDelete(ctx);
}

}  // extern "C"
