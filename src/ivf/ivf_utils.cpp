// ragstore ivfflat: operator-class facts, element conversion, the centroid cache, page helpers.
#include <cmath>

#include "ivf/ivf.h"
#include "pg/blob_pages.h"
#include "pg/guard.h"

extern "C" {
#include "access/generic_xlog.h"
#include "catalog/pg_type.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace ragstore {
namespace ivf {

const pg::DistanceDesc* IvfOpclassDistance(Relation index) {
  const pg::DistanceDesc* d = pg::OpclassDistance(index, kProcDistanceDesc, nullptr);
  if (!d->ivfflat)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("operator class of index \"%s\" has no ivfflat distance",
                           RelationGetRelationName(index))));
  return d;
}

const pg::DistanceDesc* IvfDistance(uint32 kind, uint32 metric) {
  ElementType t;
  Metric m;
  if (!ElementTypeFromCode(kind, &t) || !MetricFromCode(metric, &m)) return nullptr;
  const pg::DistanceDesc* d = pg::FindDistance(t, m);
  return d != nullptr && d->ivfflat ? d : nullptr;
}

int WorkSize(ElementType kind, int dims) {
  return WorksInFloats(kind) ? dims * 4 : ElementSize(kind, dims);
}

int IndexDims(Relation index, const pg::DistanceDesc* dist, QuantizerKind quantizer) {
  ElementType kind = dist->type;
  // bit varying has no fixed length (as pgvector: 0A000); an expression cast to bit(n) is fine
  if (TupleDescAttr(index->rd_att, 0)->atttypid == VARBITOID)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("type not supported for ivfflat index")));
  if (quantizer != QuantizerKind::kNone && !dist->quantizable)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("ivfflat quantizer \"%s\" is not supported for type %s",
                           QuantizerName(quantizer), ElementTypeName(kind)),
                    errhint("Quantizers apply to vector and halfvec columns.")));
  int dims = TupleDescAttr(index->rd_att, 0)->atttypmod;
  if (dims < 1)
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("column does not have dimensions")));
  if (quantizer == QuantizerKind::kNone) {
    if (dims > MaxDims(kind)) {
      if (WorksInFloats(kind))
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("column cannot have more than %d dimensions for ivfflat index",
                               MaxDims(kind)),
                        errhint("An ivfflat index WITH (quantizer = 'sq8') or WITH (quantizer = "
                                "'binary') takes up to %d dimensions.",
                                kMaxDimsQuantized)));
      ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                      errmsg("column cannot have more than %d dimensions for ivfflat index",
                             MaxDims(kind))));
    }
  } else {
    if (dims > kMaxDimsQuantized)
      ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                      errmsg("column cannot have more than %d dimensions for ivfflat index with "
                             "quantizer \"%s\"",
                             kMaxDimsQuantized, QuantizerName(quantizer))));
  }
  // Spherical k-means (the build metric inner product: inner product, cosine) normalises the
  // samples: one dimension leaves a single point on each side.
  if (dims == 1 && dist->build_metric == Metric::kInnerProduct)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("dimensions must be greater than one for this opclass")));
  return dims;
}

namespace {

[[noreturn]] void WrongDims(int want, int got) {
  ereport(ERROR,
          (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %d dimensions, not %d", want, got)));
  pg_unreachable();
}

// Normalises in place; false for a zero vector.
bool Normalize(float* x, int dims) {
  double sum = 0;
  for (int i = 0; i < dims; i++) sum += double(x[i]) * x[i];
  if (sum <= 0) return false;
  float inv = static_cast<float>(1.0 / std::sqrt(sum));
  for (int i = 0; i < dims; i++) x[i] *= inv;
  return true;
}

// The detoasted value of `value` with its dimensions checked: WrongDims (22000, "expected %d
// dimensions, not %d") for an indexed value, the type's distance message (dims_error) for a
// query.
const char* CheckedValue(Datum value, const pg::ElementTypeDesc* t, int dims, bool query) {
  const char* v = DatumGetPointer(PG_DETOAST_DATUM(value));
  int got = t->dims(v);
  if (got != dims) {
    if (!query) WrongDims(dims, got);
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg(t->dims_error, static_cast<unsigned>(dims), got)));
  }
  return v;
}

// The dense value v as dims floats in `out`, normalised when the entry normalises; false for a
// zero vector then.
bool ValueToFloats(const char* v, const pg::DistanceDesc* dist, int dims, float* out) {
  const pg::ElementTypeDesc* t = dist->element;
  if (t->layout != pg::ElementLayout::kDenseFloat)
    elog(ERROR, "ivfflat: no float form for %s values", t->name);
  t->to_float(v, out);
  return !dist->normalizes || Normalize(out, dims);
}

bool ValueToElement(const char* v, const pg::DistanceDesc* dist, int dims, char* out, char* work) {
  const pg::ElementTypeDesc* t = dist->element;
  if (t->layout == pg::ElementLayout::kBits) {
    // the element and the working form are the packed bits as they are
    Size offset, nbytes;
    t->bits_at(v, &offset, &nbytes);
    memcpy(out, v + offset, t->element_size(dims));
    if (work) memcpy(work, out, t->element_size(dims));
    return true;
  }
  float* x =
      work ? reinterpret_cast<float*>(work) : static_cast<float*>(palloc(sizeof(float) * dims));
  bool indexed = ValueToFloats(v, dist, dims, x);
  if (indexed) {
    t->element_from_floats(x, dims, out);
    // normalised values are rounded when stored (halfvec): the working form is what is stored
    if (work && dist->normalizes && t->elements_to_floats) t->elements_to_floats(out, dims, x);
  }
  if (!work) pfree(x);
  return indexed;
}

}  // namespace

bool DatumToElement(Datum value, const pg::DistanceDesc* dist, int dims, char* out, char* work) {
  return ValueToElement(CheckedValue(value, dist->element, dims, false), dist, dims, out, work);
}

void QueryToWork(Datum value, bool isnull, const pg::DistanceDesc* dist, int dims, char* work) {
  int work_size = WorkSize(dist->type, dims);
  if (isnull) {
    memset(work, 0, work_size);
    return;
  }
  const char* v = CheckedValue(value, dist->element, dims, true);
  char* element = static_cast<char*>(palloc(dist->element->element_size(dims)));
  if (!ValueToElement(v, dist, dims, element, work))
    memset(work, 0, work_size);  // a zero query under cosine: any order is right
  pfree(element);
}

bool DatumToFloats(Datum value, const pg::DistanceDesc* dist, int dims, float* out) {
  return ValueToFloats(CheckedValue(value, dist->element, dims, false), dist, dims, out);
}

void QueryToFloats(Datum value, bool isnull, const pg::DistanceDesc* dist, int dims, float* out) {
  if (isnull || !ValueToFloats(CheckedValue(value, dist->element, dims, true), dist, dims, out))
    memset(out, 0, sizeof(float) * dims);  // a zero query under cosine: any order is right
}

void EncodeElement(const IvfCache* cache, const float* x, char* element) {
  QuantizerKind q = cache->quantizer;
  size_t dims = static_cast<size_t>(cache->dims);
  const float* params = cache->params;
  size_t stride = static_cast<size_t>(cache->element_size);
  pg::GuardedCall(
      [&] { EncodeEntries(q, dims, params, x, 1, reinterpret_cast<uint8_t*>(element), stride); });
}

void ElementToWork(const char* element, ElementType kind, int dims, char* work) {
  const pg::ElementTypeDesc& t = pg::ElementDesc(kind);
  if (t.elements_to_floats)
    t.elements_to_floats(element, dims, reinterpret_cast<float*>(work));
  else
    memcpy(work, element, t.element_size(dims));
}

namespace {

// A version-2 meta page's quantizer fields: nullptr when consistent, else the problem.
const char* QuantizedMetaProblem(const IvfMetaData& meta, ElementType kind, BlockNumber nblocks) {
  QuantizerKind q = static_cast<QuantizerKind>(meta.quantizer);
  if (meta.quantizer != static_cast<uint16>(QuantizerKind::kSq8) &&
      meta.quantizer != static_cast<uint16>(QuantizerKind::kBinary))
    return "unknown quantizer";
  if (!WorksInFloats(kind)) return "a quantizer on bit elements";
  if (meta.dims < 1 || meta.dims > kMaxDimsQuantized)
    return "dimensions out of range for the quantizer";
  if (meta.code_size != static_cast<int32>(QuantizerCodeSize(q, meta.dims)))
    return "code size does not match the quantizer and dimensions";
  if (meta.element_size != static_cast<int32>(sizeof(CodeAux)) + meta.code_size)
    return "element size does not match the code size";
  if (meta.quantizer_bytes != SerializedQuantizerSize(q, meta.dims))
    return "quantizer parameter size does not match the quantizer and dimensions";
  Size bytes = meta.quantizer_bytes + sizeof(float) * static_cast<Size>(meta.lists) * meta.dims;
  if (meta.blob_block != kMetaBlock + 1 ||
      meta.first_list_block != meta.blob_block + pg::BlobPageCount(bytes, sizeof(IvfPageOpaque)) ||
      meta.first_list_block > nblocks)
    return "parameter pages not where the meta page's sizes put them";
  return nullptr;
}

}  // namespace

const char* IvfMetaProblem(const IvfMetaData& meta, BlockNumber nblocks) {
  if (meta.magic != kIvfMagic) return "wrong magic number";
  if (meta.version != kIvfVersion && meta.version != kIvfVersionQuantized) return "unknown version";
  if (meta.lists < 1 || meta.lists > kMaxLists) return "lists outside 1..32768";
  // The stored codes (core/metric.h) become enum values only through the checked conversion.
  ElementType kind = ElementType::kVector;
  if (!ElementTypeFromCode(meta.kind, &kind) || MaxDims(kind) == 0) return "unknown element kind";
  if (IvfDistance(meta.kind, meta.metric) == nullptr) return "unknown metric for the element kind";
  if (meta.version == kIvfVersionQuantized) return QuantizedMetaProblem(meta, kind, nblocks);
  if (meta.dims < 1 || meta.dims > MaxDims(kind)) return "dimensions out of range";
  if (meta.element_size != ElementSize(kind, meta.dims))
    return "element size does not match the dimensions";
  if (meta.first_list_block == kMetaBlock || meta.first_list_block >= nblocks)
    return "first list page outside the relation";
  return nullptr;
}

namespace {

// The meta page, checked (IvfMetaProblem). Errors: XX002 when it is not an ivfflat meta page of
// a known version or is damaged.
IvfMetaData ReadCheckedMeta(Relation index) {
  Buffer buf = ReadBuffer(index, kMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  IvfMetaData meta = *reinterpret_cast<IvfMetaData*>(PageGetContents(BufferGetPage(buf)));
  UnlockReleaseBuffer(buf);
  if (meta.magic != kIvfMagic ||
      (meta.version != kIvfVersion && meta.version != kIvfVersionQuantized))
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("index \"%s\" is not a ragstore ivfflat index (bad meta page)",
                           RelationGetRelationName(index))));
  if (const char* problem = IvfMetaProblem(meta, RelationGetNumberOfBlocks(index)))
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("index \"%s\" has a damaged meta page: %s",
                           RelationGetRelationName(index), problem),
                    errhint("REINDEX the index.")));
  return meta;
}

// A quantized index's parameter pages: the serialised quantizer, then the centroids (float4,
// centers_bytes). Returns the pages' bytes (palloc'd) and sets *params to the parsed parameters
// inside them. Errors: XX002 when they do not parse as the meta page's quantizer.
char* ReadQuantizerPages(Relation index, const IvfMetaData& meta, QuantizerKind quantizer,
                         Size centers_bytes, const uint8_t** params) {
  Size blob_bytes = meta.quantizer_bytes + centers_bytes;
  char* blob = static_cast<char*>(MemoryContextAllocHuge(CurrentMemoryContext, blob_bytes));
  pg::BlobRead(index, meta.blob_block, blob_bytes, sizeof(IvfPageOpaque), blob);
  QuantizerKind parsed_kind = QuantizerKind::kNone;
  size_t parsed_dims = 0;
  bool parsed = pg::GuardedCall([&] {
    try {
      ParseQuantizer(reinterpret_cast<const uint8_t*>(blob), meta.quantizer_bytes, &parsed_kind,
                     &parsed_dims, params);
      return true;
    } catch (const Error&) {
      return false;
    }
  });
  if (!parsed || parsed_kind != quantizer || parsed_dims != static_cast<size_t>(meta.dims))
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("index \"%s\" has damaged quantizer parameters",
                           RelationGetRelationName(index))));
  return blob;
}

// One chunk in rd_indexcxt: the cache's fields from meta and its arrays (list locations,
// centroids of centers_bytes, param_count quantizer parameters), not yet filled.
IvfCache* NewCache(Relation index, const IvfMetaData& meta, const pg::DistanceDesc* dist,
                   QuantizerKind quantizer, Size centers_bytes, Size param_count) {
  Size size = MAXALIGN(sizeof(IvfCache)) + MAXALIGN(sizeof(BlockNumber) * meta.lists) +
              MAXALIGN(sizeof(OffsetNumber) * meta.lists) + MAXALIGN(centers_bytes) +
              sizeof(float) * param_count;
  char* chunk = static_cast<char*>(MemoryContextAllocHuge(index->rd_indexcxt, size));
  IvfCache* cache = reinterpret_cast<IvfCache*>(chunk);
  cache->relfilenode = index->rd_node.relNode;
  cache->dims = meta.dims;
  cache->lists = meta.lists;
  cache->element_size = meta.element_size;
  cache->head_size = HeadElementSize(meta.element_size);
  cache->tail_size = WideTailSize(meta.element_size);
  cache->work_size = WorkSize(dist->type, meta.dims);
  cache->kind = dist->type;
  cache->metric = dist->metric;
  cache->dist = dist;
  cache->quantizer = quantizer;
  char* p = chunk + MAXALIGN(sizeof(IvfCache));
  cache->list_block = reinterpret_cast<BlockNumber*>(p);
  p += MAXALIGN(sizeof(BlockNumber) * meta.lists);
  cache->list_offset = reinterpret_cast<OffsetNumber*>(p);
  p += MAXALIGN(sizeof(OffsetNumber) * meta.lists);
  cache->centers = p;
  p += MAXALIGN(centers_bytes);
  cache->params = param_count > 0 ? reinterpret_cast<float*>(p) : nullptr;
  return cache;
}

// Walks the list pages from the meta page's first one: each list's tuple location and (unless
// quantized: those came from the parameter pages) its centroid in working form. Returns the
// number of lists found (at most meta.lists).
int ReadListTuples(Relation index, const IvfMetaData& meta, bool quantized, IvfCache* cache) {
  int list = 0;
  BlockNumber blk = meta.first_list_block;
  while (BlockNumberIsValid(blk) && list < meta.lists) {
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    OffsetNumber max = PageGetMaxOffsetNumber(page);
    for (OffsetNumber off = FirstOffsetNumber; off <= max && list < meta.lists; off++) {
      IvfListTuple* lt =
          reinterpret_cast<IvfListTuple*>(PageGetItem(page, PageGetItemId(page, off)));
      cache->list_block[list] = blk;
      cache->list_offset[list] = off;
      char* center = cache->centers + static_cast<Size>(cache->work_size) * list;
      if (!quantized) ElementToWork(lt->center, cache->kind, meta.dims, center);
      list++;
    }
    blk = PageOpaque(page)->next;
    UnlockReleaseBuffer(buf);
  }
  return list;
}

}  // namespace

IvfCache* GetCache(Relation index) {
  IvfCache* cache = static_cast<IvfCache*>(index->rd_amcache);
  if (cache != nullptr && cache->relfilenode == index->rd_node.relNode) return cache;
  if (cache != nullptr) {
    pfree(cache);
    index->rd_amcache = nullptr;
  }
  IvfMetaData meta = ReadCheckedMeta(index);
  // (IvfMetaProblem checked the codes: an entry ivfflat indexes)
  const pg::DistanceDesc* dist = IvfDistance(meta.kind, meta.metric);
  const bool quantized = meta.version == kIvfVersionQuantized;
  QuantizerKind quantizer =
      quantized ? static_cast<QuantizerKind>(meta.quantizer) : QuantizerKind::kNone;
  Size param_count = QuantizerParamCount(quantizer, meta.dims);
  Size centers_bytes = static_cast<Size>(WorkSize(dist->type, meta.dims)) * meta.lists;
  const uint8_t* params = nullptr;
  char* blob =
      quantized ? ReadQuantizerPages(index, meta, quantizer, centers_bytes, &params) : nullptr;
  cache = NewCache(index, meta, dist, quantizer, centers_bytes, param_count);
  if (quantized) {
    memcpy(cache->params, params, sizeof(float) * param_count);
    memcpy(cache->centers, blob + meta.quantizer_bytes, centers_bytes);
    pfree(blob);
  }
  int found = ReadListTuples(index, meta, quantized, cache);
  if (found != meta.lists) {
    pfree(cache);
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("index \"%s\" has %d lists on disk, expected %d",
                           RelationGetRelationName(index), found, meta.lists)));
  }
  index->rd_amcache = cache;
  return cache;
}

IvfCache* CopyCacheWithoutCenters(Relation index) {
  IvfCache* cache = GetCache(index);
  Size lists = static_cast<Size>(cache->lists);
  char* chunk =
      static_cast<char*>(palloc(MAXALIGN(sizeof(IvfCache)) + MAXALIGN(sizeof(BlockNumber) * lists) +
                                sizeof(OffsetNumber) * lists));
  IvfCache* copy = reinterpret_cast<IvfCache*>(chunk);
  *copy = *cache;
  copy->list_block = reinterpret_cast<BlockNumber*>(chunk + MAXALIGN(sizeof(IvfCache)));
  copy->list_offset = reinterpret_cast<OffsetNumber*>(chunk + MAXALIGN(sizeof(IvfCache)) +
                                                      MAXALIGN(sizeof(BlockNumber) * lists));
  memcpy(copy->list_block, cache->list_block, sizeof(BlockNumber) * lists);
  memcpy(copy->list_offset, cache->list_offset, sizeof(OffsetNumber) * lists);
  copy->centers = nullptr;
  copy->params = nullptr;
  return copy;
}

void CenterDistances(const IvfCache* cache, const char* query, float* out) {
  cache->dist->batch(query, cache->centers, cache->lists, cache->dims, out);
}

void ElementDistances(const IvfCache* cache, const char* query, const char* elements, int n,
                      float* out, float* scratch) {
  const pg::ElementTypeDesc* t = cache->dist->element;
  const char* rows = elements;
  if (t->elements_to_floats) {
    // One bulk conversion of the page's contiguous elements (halfvec: F16C), then the kernel.
    t->elements_to_floats(elements, static_cast<size_t>(n) * cache->dims, scratch);
    rows = reinterpret_cast<const char*>(scratch);
  }
  cache->dist->batch(query, rows, n, cache->dims, out);
}

void InitPage(Page page, IvfPageType type) {
  PageInit(page, BLCKSZ, sizeof(IvfPageOpaque));
  IvfPageOpaque* opaque = PageOpaque(page);
  opaque->next = InvalidBlockNumber;
  opaque->type = type;
  opaque->page_id = kIvfPageId;
}

void DataPageAppend(Page page, ItemPointer tid, const char* element, int element_size) {
  PageHeader header = reinterpret_cast<PageHeader>(page);
  int n = DataPageCount(page);
  DataPageTids(page)[n] = *tid;
  memcpy(DataPageElement(page, n, element_size), element, element_size);
  header->pd_lower += sizeof(ItemPointerData);
  header->pd_upper -= element_size;
}

void DataPageRemove(Page page, int i, int element_size) {
  PageHeader header = reinterpret_cast<PageHeader>(page);
  int last = DataPageCount(page) - 1;
  if (i != last) {
    DataPageTids(page)[i] = DataPageTids(page)[last];
    memcpy(DataPageElement(page, i, element_size), DataPageElement(page, last, element_size),
           element_size);
  }
  header->pd_lower -= sizeof(ItemPointerData);
  header->pd_upper += element_size;
}

Buffer NewEntryPages(Relation index, const IvfCache* cache, GenericXLogState* state, Page* page,
                     Buffer* cont, Page* cpage) {
  LockRelationForExtension(index, ExclusiveLock);
  Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
  *cont = cache->tail_size > 0 ? ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr)
                               : InvalidBuffer;
  UnlockRelationForExtension(index, ExclusiveLock);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  *page = state != nullptr ? GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE)
                           : BufferGetPage(buf);
  InitPage(*page, kPageData);
  *cpage = nullptr;
  if (BufferIsValid(*cont)) {
    LockBuffer(*cont, BUFFER_LOCK_EXCLUSIVE);
    *cpage = state != nullptr ? GenericXLogRegisterBuffer(state, *cont, GENERIC_XLOG_FULL_IMAGE)
                              : BufferGetPage(*cont);
    InitPage(*cpage, kPageCont);
  }
  return buf;
}

bool IsContinuationPage(Page page, int tail_size) {
  if (PageIsNew(page) || PageOpaque(page)->type != kPageCont) return false;
  return tail_size < 0 || pg::BlobPageBytes(page) == tail_size;
}

void AppendEntry(Page page, Page cpage, ItemPointer tid, const char* element, int head_size,
                 int tail_size) {
  DataPageAppend(page, tid, element, head_size);
  if (tail_size > 0) pg::BlobPageFill(cpage, element + head_size, tail_size);
}

void ReadListBlocks(Relation index, const IvfCache* cache, int list, BlockNumber* start,
                    BlockNumber* insert) {
  Buffer buf = ReadBuffer(index, cache->list_block[list]);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  IvfListTuple* lt = reinterpret_cast<IvfListTuple*>(
      PageGetItem(page, PageGetItemId(page, cache->list_offset[list])));
  *start = lt->start_block;
  *insert = lt->insert_block;
  UnlockReleaseBuffer(buf);
}

}  // namespace ivf
}  // namespace ragstore
