// ragstore ivfflat: operator-class facts, element conversion, the centroid cache, page helpers.
#include <cmath>

#include "core/half.h"
#include "core/list_scan.h"
#include "ivf/ivf.h"
#include "pg/blob_pages.h"
#include "pg/guard.h"
#include "types/halfvec.h"
#include "types/vector.h"

extern "C" {
#include "access/generic_xlog.h"
#include "catalog/pg_type.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/varbit.h"
}

namespace ragstore {
namespace ivf {

const pg::DistanceDesc* IvfOpclassDistance(Relation index) {
  const pg::DistanceDesc* d = pg::OpclassDistance(index, kProcOpclassInfo, nullptr);
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

int IndexDims(Relation index, ElementType kind, Metric metric, QuantizerKind quantizer) {
  // bit varying has no fixed length (as pgvector: 0A000); an expression cast to bit(n) is fine
  if (TupleDescAttr(index->rd_att, 0)->atttypid == VARBITOID)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("type not supported for ivfflat index")));
  if (quantizer != QuantizerKind::kNone && !WorksInFloats(kind))
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
                        errhint("An ivfflat index WITH (quantizer = 'sq8') takes up to %d "
                                "dimensions, WITH (quantizer = 'binary') up to %d.",
                                kMaxDimsSq8, kMaxDimsQuantized)));
      ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                      errmsg("column cannot have more than %d dimensions for ivfflat index",
                             MaxDims(kind))));
    }
  } else {
    int limit = quantizer == QuantizerKind::kSq8 ? kMaxDimsSq8 : kMaxDimsQuantized;
    if (dims > limit)
      ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                      errmsg("column cannot have more than %d dimensions for ivfflat index with "
                             "quantizer \"%s\"",
                             limit, QuantizerName(quantizer)),
                      errhint("WITH (quantizer = 'binary') takes up to %d dimensions.",
                              kMaxDimsQuantized)));
  }
  // Spherical k-means (inner product, cosine) normalises the samples: one dimension leaves a
  // single point on each side.
  if (dims == 1 && (metric == Metric::kInnerProduct || metric == Metric::kCosine))
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

}  // namespace

bool DatumToElement(Datum value, ElementType kind, Metric metric, int dims, char* out, char* work) {
  switch (kind) {
    case ElementType::kVector: {
      Vector* v = DatumGetVector(value);
      if (v->dim != dims) WrongDims(dims, v->dim);
      float* dst = reinterpret_cast<float*>(out);
      memcpy(dst, v->x, sizeof(float) * dims);
      if (metric == Metric::kCosine && !Normalize(dst, dims)) return false;
      if (work) memcpy(work, dst, sizeof(float) * dims);
      return true;
    }
    case ElementType::kBit: {
      VarBit* b = DatumGetVarBitP(value);
      if (VARBITLEN(b) != dims) WrongDims(dims, VARBITLEN(b));
      memcpy(out, VARBITS(b), ElementSize(kind, dims));
      if (work) memcpy(work, out, ElementSize(kind, dims));
      return true;
    }
    case ElementType::kHalfvec: {
      HalfVector* v = reinterpret_cast<HalfVector*>(PG_DETOAST_DATUM(value));
      if (v->dim != dims) WrongDims(dims, v->dim);
      Half* dst = reinterpret_cast<Half*>(out);
      if (metric != Metric::kCosine) {
        memcpy(dst, v->x, sizeof(Half) * dims);
        if (work) HalvesToFloats(dst, reinterpret_cast<float*>(work), dims);
        return true;
      }
      // Cosine: normalise in float, store the rounded halves; the working form is what is stored.
      float* tmp = static_cast<float*>(palloc(sizeof(float) * dims));
      HalvesToFloats(v->x, tmp, dims);
      bool nonzero = Normalize(tmp, dims);
      if (nonzero) {
        FloatsToHalves(tmp, dst, dims);
        if (work) HalvesToFloats(dst, reinterpret_cast<float*>(work), dims);
      }
      pfree(tmp);
      return nonzero;
    }
    case ElementType::kSparsevec:  // not an ivfflat type (IvfDistance)
      break;
  }
  return false;
}

void QueryToWork(Datum value, bool isnull, ElementType kind, Metric metric, int dims, char* work) {
  if (isnull) {
    memset(work, 0, WorkSize(kind, dims));
    return;
  }
  // The distance operators' own messages for a query of other dimensions.
  if (kind == ElementType::kVector) {
    Vector* v = DatumGetVector(value);
    CheckSameDims(dims, v->dim);
  } else if (kind == ElementType::kHalfvec) {
    HalfVector* v = reinterpret_cast<HalfVector*>(PG_DETOAST_DATUM(value));
    if (v->dim != dims)
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("different halfvec dimensions %d and %d", dims, v->dim)));
  } else if (kind == ElementType::kBit) {
    VarBit* b = DatumGetVarBitP(value);
    if (VARBITLEN(b) != dims)
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("different bit lengths %d and %d", dims, VARBITLEN(b))));
  }
  char* element = static_cast<char*>(palloc(ElementSize(kind, dims)));
  if (!DatumToElement(value, kind, metric, dims, element, work))
    memset(work, 0, WorkSize(kind, dims));  // a zero query under cosine: any order is right
  pfree(element);
}

bool DatumToFloats(Datum value, ElementType kind, Metric metric, int dims, float* out) {
  if (kind == ElementType::kVector) {
    Vector* v = DatumGetVector(value);
    if (v->dim != dims) WrongDims(dims, v->dim);
    memcpy(out, v->x, sizeof(float) * dims);
  } else if (kind == ElementType::kHalfvec) {
    HalfVector* v = reinterpret_cast<HalfVector*>(PG_DETOAST_DATUM(value));
    if (v->dim != dims) WrongDims(dims, v->dim);
    HalvesToFloats(v->x, out, dims);
  } else {
    elog(ERROR, "ivfflat: no float form for bit values");
  }
  return metric != Metric::kCosine || Normalize(out, dims);
}

void QueryToFloats(Datum value, bool isnull, ElementType kind, Metric metric, int dims,
                   float* out) {
  if (isnull) {
    memset(out, 0, sizeof(float) * dims);
    return;
  }
  if (kind == ElementType::kVector) {
    CheckSameDims(dims, DatumGetVector(value)->dim);
  } else if (kind == ElementType::kHalfvec) {
    HalfVector* v = reinterpret_cast<HalfVector*>(PG_DETOAST_DATUM(value));
    if (v->dim != dims)
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                      errmsg("different halfvec dimensions %d and %d", dims, v->dim)));
  }
  if (!DatumToFloats(value, kind, metric, dims, out))
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

void ElementToWork(const char* element, ElementType kind, int dims, float* work) {
  if (kind == ElementType::kVector) memcpy(work, element, sizeof(float) * dims);
  if (kind == ElementType::kHalfvec)
    HalvesToFloats(reinterpret_cast<const Half*>(element), work, dims);
}

void CenterToElement(const float* center, ElementType kind, int dims, char* out) {
  switch (kind) {
    case ElementType::kVector:
      memcpy(out, center, sizeof(float) * dims);
      return;
    case ElementType::kBit: {
      uint8* bytes = reinterpret_cast<uint8*>(out);
      memset(bytes, 0, ElementSize(kind, dims));
      for (int i = 0; i < dims; i++)
        if (center[i] > 0.5f) bytes[i / 8] |= static_cast<uint8>(0x80 >> (i % 8));
      return;
    }
    case ElementType::kHalfvec:
      FloatsToHalves(center, reinterpret_cast<Half*>(out), dims);
      return;
    case ElementType::kSparsevec:  // not an ivfflat type (IvfDistance)
      break;
  }
}

namespace {

// A version-2 meta page's quantizer fields: nullptr when consistent, else the problem.
const char* QuantizedMetaProblem(const IvfMetaData& meta, ElementType kind, BlockNumber nblocks) {
  QuantizerKind q = static_cast<QuantizerKind>(meta.quantizer);
  if (meta.quantizer != static_cast<uint16>(QuantizerKind::kSq8) &&
      meta.quantizer != static_cast<uint16>(QuantizerKind::kBinary))
    return "unknown quantizer";
  if (!WorksInFloats(kind)) return "a quantizer on bit elements";
  int limit = q == QuantizerKind::kSq8 ? kMaxDimsSq8 : kMaxDimsQuantized;
  if (meta.dims < 1 || meta.dims > limit) return "dimensions out of range for the quantizer";
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

IvfCache* GetCache(Relation index) {
  IvfCache* cache = static_cast<IvfCache*>(index->rd_amcache);
  if (cache != nullptr && cache->relfilenode == index->rd_node.relNode) return cache;
  if (cache != nullptr) {
    pfree(cache);
    index->rd_amcache = nullptr;
  }

  Buffer buf = ReadBuffer(index, kMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  IvfMetaData meta = *reinterpret_cast<IvfMetaData*>(PageGetContents(page));
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
  // (IvfMetaProblem checked the codes: an entry ivfflat indexes)
  const pg::DistanceDesc* dist = IvfDistance(meta.kind, meta.metric);
  ElementType kind = dist->type;
  int work_size = WorkSize(kind, meta.dims);
  const bool quantized = meta.version == kIvfVersionQuantized;
  QuantizerKind quantizer =
      quantized ? static_cast<QuantizerKind>(meta.quantizer) : QuantizerKind::kNone;
  Size param_count = QuantizerParamCount(quantizer, meta.dims);
  Size centers_bytes = static_cast<Size>(work_size) * meta.lists;
  // Quantized: the parameter pages hold the serialised quantizer, then the centroids (float4).
  char* blob = nullptr;
  const uint8_t* parsed_params = nullptr;
  if (quantized) {
    Size blob_bytes = meta.quantizer_bytes + centers_bytes;
    blob = static_cast<char*>(MemoryContextAllocHuge(CurrentMemoryContext, blob_bytes));
    pg::BlobRead(index, meta.blob_block, blob_bytes, sizeof(IvfPageOpaque), blob);
    QuantizerKind parsed_kind = QuantizerKind::kNone;
    size_t parsed_dims = 0;
    bool parsed = pg::GuardedCall([&] {
      try {
        ParseQuantizer(reinterpret_cast<const uint8_t*>(blob), meta.quantizer_bytes, &parsed_kind,
                       &parsed_dims, &parsed_params);
        return true;
      } catch (const Error&) {
        return false;
      }
    });
    if (!parsed || parsed_kind != quantizer || parsed_dims != static_cast<size_t>(meta.dims))
      ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                      errmsg("index \"%s\" has damaged quantizer parameters",
                             RelationGetRelationName(index))));
  }
  Size size = MAXALIGN(sizeof(IvfCache)) + MAXALIGN(sizeof(BlockNumber) * meta.lists) +
              MAXALIGN(sizeof(OffsetNumber) * meta.lists) + MAXALIGN(centers_bytes) +
              sizeof(float) * param_count;
  char* chunk = static_cast<char*>(MemoryContextAllocHuge(index->rd_indexcxt, size));
  cache = reinterpret_cast<IvfCache*>(chunk);
  cache->relfilenode = index->rd_node.relNode;
  cache->dims = meta.dims;
  cache->lists = meta.lists;
  cache->element_size = meta.element_size;
  cache->work_size = work_size;
  cache->kind = kind;
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
  cache->params = nullptr;
  if (quantized) {
    cache->params = reinterpret_cast<float*>(p);
    memcpy(cache->params, parsed_params, sizeof(float) * param_count);
    memcpy(cache->centers, blob + meta.quantizer_bytes, centers_bytes);
    pfree(blob);
  }

  int list = 0;
  BlockNumber blk = meta.first_list_block;
  while (BlockNumberIsValid(blk) && list < meta.lists) {
    buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    page = BufferGetPage(buf);
    OffsetNumber max = PageGetMaxOffsetNumber(page);
    for (OffsetNumber off = FirstOffsetNumber; off <= max && list < meta.lists; off++) {
      IvfListTuple* lt =
          reinterpret_cast<IvfListTuple*>(PageGetItem(page, PageGetItemId(page, off)));
      cache->list_block[list] = blk;
      cache->list_offset[list] = off;
      char* center = cache->centers + static_cast<Size>(work_size) * list;
      // (a quantized index's centroids came from its parameter pages)
      if (!quantized && WorksInFloats(kind))
        ElementToWork(lt->center, kind, meta.dims, reinterpret_cast<float*>(center));
      else if (!quantized)
        memcpy(center, lt->center, meta.element_size);
      list++;
    }
    blk = PageOpaque(page)->next;
    UnlockReleaseBuffer(buf);
  }
  if (list != meta.lists) {
    pfree(chunk);
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("index \"%s\" has %d lists on disk, expected %d",
                           RelationGetRelationName(index), list, meta.lists)));
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
  switch (cache->metric) {
    case Metric::kL2:
      BatchL2Squared(reinterpret_cast<const float*>(query),
                     reinterpret_cast<const float*>(cache->centers), cache->lists, cache->dims,
                     out);
      return;
    case Metric::kInnerProduct:
    case Metric::kCosine:
      BatchNegativeInnerProduct(reinterpret_cast<const float*>(query),
                                reinterpret_cast<const float*>(cache->centers), cache->lists,
                                cache->dims, out);
      return;
    case Metric::kHamming:
      BatchHamming(reinterpret_cast<const uint8_t*>(query),
                   reinterpret_cast<const uint8_t*>(cache->centers), cache->lists,
                   cache->element_size, out);
      return;
    default:  // GetCache took only ivfflat's metrics (IvfDistance)
      elog(ERROR, "ivfflat: unsupported metric %s", MetricName(cache->metric));
  }
}

void ElementDistances(const IvfCache* cache, const char* query, const char* elements, int n,
                      float* out, float* scratch) {
  const float* q = reinterpret_cast<const float*>(query);
  const float* base = reinterpret_cast<const float*>(elements);
  if (cache->kind == ElementType::kHalfvec) {
    // One bulk F16C conversion of the page's contiguous halves, then the float kernels.
    HalvesToFloats(reinterpret_cast<const Half*>(elements), scratch,
                   static_cast<size_t>(n) * cache->dims);
    base = scratch;
  }
  switch (cache->metric) {
    case Metric::kL2:
      BatchL2Squared(q, base, n, cache->dims, out);
      return;
    case Metric::kInnerProduct:
    case Metric::kCosine:
      BatchNegativeInnerProduct(q, base, n, cache->dims, out);
      return;
    case Metric::kHamming:
      BatchHamming(reinterpret_cast<const uint8_t*>(query),
                   reinterpret_cast<const uint8_t*>(elements), n, cache->element_size, out);
      return;
    default:  // GetCache took only ivfflat's metrics (IvfDistance)
      elog(ERROR, "ivfflat: unsupported metric %s", MetricName(cache->metric));
  }
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

Buffer NewLockedBuffer(Relation index, ForkNumber fork) {
  LockRelationForExtension(index, ExclusiveLock);
  Buffer buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, nullptr);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  UnlockRelationForExtension(index, ExclusiveLock);
  return buf;
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
