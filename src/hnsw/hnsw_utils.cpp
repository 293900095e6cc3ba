// ragstore hnsw: page helpers, element and neighbour reads, the layer search and neighbour
// selection shared by scans, inserts and VACUUM (see hnsw.h, hnsw_page.h).
#include "hnsw/hnsw.h"

#include <algorithm>
#include <cmath>

#include "core/distance.h"
#include "pg/blob_pages.h"
#include "pg/guard.h"
extern "C" {
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
}

namespace ragstore {
namespace hnsw {

// ---------------------------------------------------------------- support

// The dimension limit of sup's index: the type's (pgvector's) when unquantized, else the
// quantizer's.
static int MaxDimensions(const HnswSupport* sup) {
  if (sup->quantizer != QuantizerKind::kNone) return kMaxDimsQuantized;
  return sup->type->hnsw_max_dims;
}

char* HnswPrepareValue(const HnswSupport* sup, Datum value, bool for_index) {
  char* v = reinterpret_cast<char*>(PG_DETOAST_DATUM(value));
  if (for_index && sup->type->limit_count(v) > MaxDimensions(sup)) {
    if (sup->quantizer != QuantizerKind::kNone)
      ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                      errmsg("%s cannot have more than %d %s for hnsw index with quantizer \"%s\"",
                             sup->type->name, MaxDimensions(sup), sup->type->limit_what,
                             QuantizerName(sup->quantizer))));
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("%s cannot have more than %d %s for hnsw index", sup->type->name,
                           sup->type->hnsw_max_dims, sup->type->limit_what),
                    sup->type->to_float != nullptr
                        ? errhint("An hnsw index WITH (quantizer = 'sq8') or WITH (quantizer = "
                                  "'binary') takes up to %d dimensions.",
                                  kMaxDimsQuantized)
                        : 0));
  }
  if (sup->norm_proc != nullptr) {
    char* n = sup->type->normalize(v);
    if (n == nullptr) return for_index ? nullptr : v;
    return n;
  }
  return v;
}

int HnswCheckColumnDims(Relation index, const HnswSupport* sup) {
  // bit varying has no fixed length (as pgvector: 0A000); an expression cast to bit(n) is fine
  if (TupleDescAttr(RelationGetDescr(index), 0)->atttypid == VARBITOID)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("type not supported for hnsw index")));
  int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
  if (!sup->type->dims_from_typmod) return typmod;
  if (typmod < 0)
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("column does not have dimensions")));
  if (sup->quantizer != QuantizerKind::kNone) {
    if (typmod > MaxDimensions(sup))
      ereport(ERROR,
              (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
               errmsg("column cannot have more than %d dimensions for hnsw index with quantizer "
                      "\"%s\"",
                      MaxDimensions(sup), QuantizerName(sup->quantizer))));
    return typmod;
  }
  if (typmod > sup->type->hnsw_max_dims)
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("column cannot have more than %d dimensions for hnsw index",
                           sup->type->hnsw_max_dims),
                    sup->type->to_float != nullptr
                        ? errhint("An hnsw index WITH (quantizer = 'sq8') or WITH (quantizer = "
                                  "'binary') takes up to %d dimensions.",
                                  kMaxDimsQuantized)
                        : 0));
  return typmod;
}

// ---------------------------------------------------------------- quantizer

void HnswSetQuantizer(HnswSupport* sup, QuantizerKind kind, int dims) {
  if (sup->type->layout != pg::ElementLayout::kDenseFloat || sup->type->to_float == nullptr)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("hnsw quantizer \"%s\" is not supported for type %s",
                           QuantizerName(kind), sup->type->name),
                    errhint("Quantizers apply to vector and halfvec columns.")));
  if (!sup->dist->quantizable)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("hnsw quantizer \"%s\" is not supported for this operator class",
                           QuantizerName(kind)),
                    errhint("Quantizers apply to the L2, inner product and cosine operator "
                            "classes.")));
  sup->quantizer = kind;
  sup->qdims = dims > 0 ? dims : 0;
  sup->qparams = nullptr;
  sup->code_metric = sup->dist->build_metric;
  sup->bound_metric = sup->dist->metric;
  sup->payload_size = VARHDRSZ + sizeof(CodeAux) + QuantizerCodeSize(kind, sup->qdims);
  sup->stored_size = sup->payload_size;
  sup->code_head = sup->code_tail = 0;
  // A payload whose element tuple would not fit an empty page is wide (hnsw_page.h): the
  // element keeps as much of the code as fills its page, a code tuple the rest.
  if (HnswElementTupleSize(sup->payload_size) + sizeof(ItemIdData) > HnswEmptyPageSpace()) {
    Size room = (HnswEmptyPageSpace() - sizeof(ItemIdData)) & ~Size(MAXIMUM_ALIGNOF - 1);
    Size code = QuantizerCodeSize(kind, sup->qdims);
    sup->code_head =
        room - offsetof(HnswElementTupleData, data) - VARHDRSZ - sizeof(HnswWidePayload);
    sup->code_tail = code - sup->code_head;
    sup->stored_size = VARHDRSZ + sizeof(HnswWidePayload) + sup->code_head;
  }
}

void HnswSplitPayload(const HnswSupport* sup, const char* payload, char* stored,
                      HnswCodeTupleData* code) {
  const char* src = payload + VARHDRSZ;
  SET_VARSIZE(stored, sup->stored_size);
  auto* head = reinterpret_cast<HnswWidePayload*>(stored + VARHDRSZ);
  memset(head, 0, sizeof(HnswWidePayload));
  memcpy(&head->aux, src, sizeof(CodeAux));
  ItemPointerSetInvalid(&head->code_tid);
  memcpy(stored + VARHDRSZ + sizeof(HnswWidePayload), src + sizeof(CodeAux), sup->code_head);
  memset(code, 0, offsetof(HnswCodeTupleData, data));
  code->type = kHnswCodeTuple;
  code->nbytes = static_cast<uint16>(sup->code_tail);
  ItemPointerSetInvalid(&code->owner);
  memcpy(code->data, src + sizeof(CodeAux) + sup->code_head, sup->code_tail);
}

bool HnswStoredPayloadMatches(const HnswSupport* sup, const char* stored, const char* payload) {
  if (sup->code_head == 0) return HnswValuesEqual(stored, payload);
  return VARSIZE(stored) == sup->stored_size && VARSIZE(payload) == sup->payload_size &&
         memcmp(stored + VARHDRSZ, payload + VARHDRSZ, sizeof(CodeAux)) == 0 &&
         memcmp(stored + VARHDRSZ + sizeof(HnswWidePayload), payload + VARHDRSZ + sizeof(CodeAux),
                sup->code_head) == 0;
}

void HnswLoadQuantizer(Relation index, HnswSupport* sup) {
  if (sup->quantizer == QuantizerKind::kNone || sup->qparams != nullptr) return;
  HnswMetaPageData meta;
  HnswReadMeta(index, &meta);
  size_t want = SerializedQuantizerSize(sup->quantizer, sup->qdims);
  if (meta.quantizer != static_cast<uint8>(sup->quantizer) || meta.quantizer_bytes != want ||
      !BlockNumberIsValid(meta.param_first) || meta.param_first == kHnswMetaBlock)
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("index \"%s\" has no trained quantizer \"%s\" in its meta page",
                           RelationGetRelationName(index), QuantizerName(sup->quantizer)),
                    errhint("REINDEX the index.")));
  char* blob = static_cast<char*>(palloc(want));
  pg::BlobRead(index, meta.param_first, want, sizeof(HnswPageOpaqueData), blob);
  QuantizerKind kind;
  size_t dims;
  const uint8_t* params;
  pg::GuardedCall(
      [&] { ParseQuantizer(reinterpret_cast<const uint8_t*>(blob), want, &kind, &dims, &params); });
  if (kind != sup->quantizer || dims != static_cast<size_t>(sup->qdims))
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("index \"%s\" has parameter pages of another quantizer",
                           RelationGetRelationName(index))));
  Size bytes = sizeof(float) * QuantizerParamCount(kind, dims);
  float* copy = static_cast<float*>(palloc(bytes));
  memcpy(copy, params, bytes);
  pfree(blob);
  sup->qparams = copy;
}

void HnswWriteQuantizer(Relation index, const HnswSupport* sup) {
  size_t len = SerializedQuantizerSize(sup->quantizer, sup->qdims);
  char* blob = static_cast<char*>(palloc(len));
  pg::GuardedCall([&] {
    SerializeQuantizer(sup->quantizer, sup->qdims, sup->qparams, reinterpret_cast<uint8_t*>(blob));
  });
  Size per = pg::BlobBytesPerPage(sizeof(HnswPageOpaqueData));
  BlockNumber first = InvalidBlockNumber;
  for (Size done = 0; done < len; done += per) {
    Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    HnswInitDataPage(page);
    HnswPageGetOpaque(page)->flags |= kHnswParamPage;
    pg::BlobPageFill(page, blob + done, Min(per, len - done));
    if (!BlockNumberIsValid(first)) first = BufferGetBlockNumber(buf);
    MarkBufferDirty(buf);
    UnlockReleaseBuffer(buf);
  }
  pfree(blob);
  Buffer buf = ReadBuffer(index, kHnswMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  HnswMetaPageData* meta = HnswPageGetMeta(BufferGetPage(buf));
  meta->quantizer = static_cast<uint8>(sup->quantizer);
  meta->quantizer_bytes = static_cast<uint32>(len);
  meta->param_first = first;
  MarkBufferDirty(buf);
  UnlockReleaseBuffer(buf);
}

// A palloc'd HnswQuantQuery for the float query x (qdims floats).
static const char* QueryFromFloats(const HnswSupport* sup, const float* x) {
  size_t nstate = QueryStateFloats(sup->quantizer, sup->qdims, sup->code_metric);
  auto* q = static_cast<HnswQuantQuery*>(
      palloc(offsetof(HnswQuantQuery, state) + sizeof(float) * Max(nstate, size_t(1))));
  double norm = 0;
  for (int i = 0; i < sup->qdims; i++) norm += static_cast<double>(x[i]) * x[i];
  q->norm = static_cast<float>(std::sqrt(norm));
  q->decoded = false;
  pg::GuardedCall([&] {
    PrepareQuery(sup->quantizer, sup->qdims, sup->qparams, sup->code_metric, x, q->state);
  });
  return reinterpret_cast<const char*>(q);
}

const char* HnswSearchQuery(const HnswSupport* sup, const char* value) {
  if (sup->quantizer == QuantizerKind::kNone) return value;
  float* x = static_cast<float*>(palloc(sizeof(float) * Max(sup->qdims, 1)));
  sup->type->to_float(value, x);
  const char* q = QueryFromFloats(sup, x);
  pfree(x);
  return q;
}

const char* HnswSearchQueryFromStored(const HnswSupport* sup, const char* stored) {
  if (sup->quantizer == QuantizerKind::kNone) return stored;
  if (sup->quantizer == QuantizerKind::kBinary) {
    // decoded query: the code's floats, then room to decode the other side (HnswCodeDistance)
    auto* q = static_cast<HnswQuantQuery*>(
        palloc(offsetof(HnswQuantQuery, state) + sizeof(float) * 2 * Max(sup->qdims, 1)));
    const uint8_t* code = EntryCode(reinterpret_cast<const uint8_t*>(stored) + VARHDRSZ);
    pg::GuardedCall(
        [&] { DecodeVectors(sup->quantizer, sup->qdims, sup->qparams, code, 1, q->state); });
    double norm = 0;
    for (int i = 0; i < sup->qdims; i++) norm += static_cast<double>(q->state[i]) * q->state[i];
    q->norm = static_cast<float>(std::sqrt(norm));
    q->decoded = true;
    return reinterpret_cast<const char*>(q);
  }
  float* x = static_cast<float*>(palloc(sizeof(float) * Max(sup->qdims, 1)));
  const uint8_t* code = EntryCode(reinterpret_cast<const uint8_t*>(stored) + VARHDRSZ);
  pg::GuardedCall([&] { DecodeVectors(sup->quantizer, sup->qdims, sup->qparams, code, 1, x); });
  const char* q = QueryFromFloats(sup, x);
  pfree(x);
  return q;
}

const char* HnswEncodePayload(const HnswSupport* sup, const char* value) {
  if (sup->quantizer == QuantizerKind::kNone) return value;
  float* x = static_cast<float*>(palloc(sizeof(float) * Max(sup->qdims, 1)));
  sup->type->to_float(value, x);
  char* payload = static_cast<char*>(palloc0(sup->payload_size));
  SET_VARSIZE(payload, sup->payload_size);
  pg::GuardedCall([&] {
    EncodeEntries(sup->quantizer, sup->qdims, sup->qparams, x, 1,
                  reinterpret_cast<uint8_t*>(payload) + VARHDRSZ, sup->payload_size - VARHDRSZ);
  });
  pfree(x);
  return payload;
}

float HnswCodeDistance(const HnswSupport* sup, const char* query, const char* payload) {
  const auto* q = reinterpret_cast<const HnswQuantQuery*>(query);
  const uint8_t* code = EntryCode(reinterpret_cast<const uint8_t*>(payload) + VARHDRSZ);
  // src/core throws on a quantizer kind or metric it does not know: the guard makes that an
  // error (it costs no more than the try block's bookkeeping per call).
  return pg::GuardedCall([&]() -> float {
    if (q->decoded) {
      // A binary code decoded into the query's scratch half (a backend runs one search at a
      // time per query), then the float kernel.
      float* other = const_cast<float*>(q->state) + sup->qdims;
      DecodeVectors(sup->quantizer, sup->qdims, sup->qparams, code, 1, other);
      if (sup->code_metric == Metric::kL2) return L2SquaredDistance(q->state, other, sup->qdims);
      return -InnerProduct(q->state, other, sup->qdims);
    }
    float d;
    CodeDistances(sup->quantizer, sup->qdims, sup->code_metric, q->state, code, 1, 0, &d);
    return d;
  });
}

float HnswPairDistance(const HnswSupport* sup, const char* a, const char* b) {
  if (sup->quantizer == QuantizerKind::kNone) return HnswDistance(sup, a, b);
  const char* q = HnswSearchQueryFromStored(sup, a);
  float d = HnswCodeDistance(sup, q, b);
  pfree(const_cast<char*>(q));
  return d;
}

// ---------------------------------------------------------------- pages

void HnswInitMetaPage(Page page, int dims, int m, int ef_construction) {
  PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
  HnswPageGetOpaque(page)->page_id = kHnswPageId;
  HnswMetaPageData* meta = HnswPageGetMeta(page);
  meta->magic = kHnswMagic;
  meta->version = kHnswVersion;
  meta->dimensions = static_cast<uint32>(dims);
  meta->m = static_cast<uint16>(m);
  meta->ef_construction = static_cast<uint16>(ef_construction);
  meta->entry_blkno = InvalidBlockNumber;
  meta->entry_offno = InvalidOffsetNumber;
  meta->entry_level = -1;
  meta->insert_page = InvalidBlockNumber;
  meta->quantizer = 0;
  meta->quantizer_bytes = 0;
  meta->param_first = InvalidBlockNumber;
  reinterpret_cast<PageHeader>(page)->pd_lower =
      reinterpret_cast<char*>(meta) + sizeof(HnswMetaPageData) - reinterpret_cast<char*>(page);
}

void HnswInitDataPage(Page page) {
  PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
  HnswPageGetOpaque(page)->page_id = kHnswPageId;
  HnswPageGetOpaque(page)->unused = InvalidBlockNumber;
}

// ---------------------------------------------------------------- checked tuple reads

// Records a problem (what is wrong, formatted into problem->detail). Out of line: only damage
// gets here.
static pg_noinline pg_attribute_printf(3, 4) void SetProblem(HnswTupleProblem* problem,
                                                             const char* what, const char* fmt,
                                                             ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(problem->detail, sizeof(problem->detail), fmt, args);
  va_end(args);
  problem->what = what;
}

// The item at line pointer off of page (block blk) and its length, for both tuple reads; nullptr
// when the slot holds nothing (problem->what nullptr) or on damage of the page or the line
// pointer (problem set).
static inline char* CheckedItem(Page page, BlockNumber blk, OffsetNumber off, Size* len,
                                HnswTupleProblem* problem) {
  problem->what = nullptr;
  if (unlikely(blk == kHnswMetaBlock)) {
    SetProblem(problem, "page", "the meta page holds no tuples");
    return nullptr;
  }
  if (PageIsNew(page)) return nullptr;  // an extension whose first write never happened
  if (unlikely(!HnswPageIsSane(page))) {
    SetProblem(problem, "page", "not an hnsw data page (header or special space)");
    return nullptr;
  }
  if (unlikely(HnswIsParamPage(page))) {
    SetProblem(problem, "page", "a parameter page, which holds no tuples");
    return nullptr;
  }
  if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page)) return nullptr;
  ItemId iid = PageGetItemId(page, off);
  if (!ItemIdIsUsed(iid)) return nullptr;
  if (unlikely(!HnswItemIsSane(page, iid, 1))) {
    SetProblem(problem, "line pointer",
               "not a normal item inside the page (flags %u, offset %u, length %u)",
               ItemIdGetFlags(iid), ItemIdGetOffset(iid), ItemIdGetLength(iid));
    return nullptr;
  }
  *len = ItemIdGetLength(iid);
  char* item = PageGetItem(page, iid);
  uint8 type = *reinterpret_cast<uint8*>(item);
  if (unlikely(type != kHnswElementTuple && type != kHnswNeighborTuple && type != kHnswCodeTuple)) {
    SetProblem(problem, "tuple type", "unknown tuple type %u", type);
    return nullptr;
  }
  return item;
}

HnswElementTupleData* HnswCheckElement(Page page, BlockNumber blk, OffsetNumber off,
                                       Size payload_bytes, HnswTupleProblem* problem) {
  Size len = 0;
  char* item = CheckedItem(page, blk, off, &len, problem);
  if (item == nullptr || *reinterpret_cast<uint8*>(item) != kHnswElementTuple) return nullptr;
  auto* e = reinterpret_cast<HnswElementTupleData*>(item);
  if (unlikely(len < offsetof(HnswElementTupleData, data) + VARHDRSZ)) {
    SetProblem(problem, "element value", "an element tuple of %zu bytes", len);
    return nullptr;
  }
  const char* payload = HnswElementPayload(e);
  Size room = len - offsetof(HnswElementTupleData, data);
  if (unlikely(!VARATT_IS_4B_U(payload) || VARSIZE(payload) < VARHDRSZ + 4 ||
               VARSIZE(payload) > room)) {
    SetProblem(problem, "element value",
               "the value is not an uncompressed varlena within the tuple's %zu bytes", room);
    return nullptr;
  }
  if (unlikely(payload_bytes > 0 && VARSIZE(payload) != payload_bytes)) {
    SetProblem(problem, "element value", "the value has %u bytes, the index's values %zu",
               static_cast<unsigned>(VARSIZE(payload)), payload_bytes);
    return nullptr;
  }
  if (unlikely(e->level > kMaxLevel)) {
    SetProblem(problem, "element level", "level %d exceeds the maximum %d", e->level, kMaxLevel);
    return nullptr;
  }
  return e;
}

HnswNeighborTupleData* HnswCheckNeighbors(Page page, BlockNumber blk, OffsetNumber off, int m,
                                          int min_count, HnswTupleProblem* problem) {
  Size len = 0;
  char* item = CheckedItem(page, blk, off, &len, problem);
  if (item == nullptr || *reinterpret_cast<uint8*>(item) != kHnswNeighborTuple) return nullptr;
  auto* nt = reinterpret_cast<HnswNeighborTupleData*>(item);
  if (unlikely(len < offsetof(HnswNeighborTupleData, tids))) {
    SetProblem(problem, "neighbour tuple", "a neighbour tuple of %zu bytes", len);
    return nullptr;
  }
  if (unlikely(offsetof(HnswNeighborTupleData, tids) + sizeof(ItemPointerData) * nt->count > len ||
               nt->count > (kMaxLevel + 2) * m)) {
    SetProblem(problem, "neighbour tuple",
               "%d slots in a tuple of %zu bytes (at most %d slots for m %d)", nt->count, len,
               (kMaxLevel + 2) * m, m);
    return nullptr;
  }
  if (nt->count < min_count) return nullptr;
  return nt;
}

OffsetNumber HnswPageTupleSlots(Relation index, Page page, BlockNumber blk) {
  if (PageIsNew(page)) return 0;
  if (unlikely(!HnswPageIsSane(page))) {
    HnswTupleProblem problem;
    SetProblem(&problem, "page", "not an hnsw data page (header or special space)");
    HnswTupleCorrupted(index, blk, InvalidOffsetNumber, problem);
  }
  return HnswIsParamPage(page) ? 0 : PageGetMaxOffsetNumber(page);
}

void HnswTupleCorrupted(Relation index, BlockNumber blk, OffsetNumber off,
                        const HnswTupleProblem& problem) {
  ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                  off == InvalidOffsetNumber
                      ? errmsg("hnsw index \"%s\" is corrupted: %s at block %u",
                               RelationGetRelationName(index), problem.what, blk)
                      : errmsg("hnsw index \"%s\" is corrupted: %s at block %u, offset %u",
                               RelationGetRelationName(index), problem.what, blk, off),
                  errdetail("%s", problem.detail),
                  errhint("Rebuild it with REINDEX INDEX %s.",
                          quote_identifier(RelationGetRelationName(index)))));
}

void HnswReadMeta(Relation index, HnswMetaPageData* out) {
  Buffer buf = ReadBuffer(index, kHnswMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  HnswMetaPageData* meta = HnswPageGetMeta(BufferGetPage(buf));
  if (meta->magic != kHnswMagic) {
    UnlockReleaseBuffer(buf);
    ereport(ERROR,
            (errcode(ERRCODE_INDEX_CORRUPTED),
             errmsg("index \"%s\" is not a valid hnsw index", RelationGetRelationName(index))));
  }
  if (meta->version != kHnswVersion) {
    uint32 version = meta->version;
    UnlockReleaseBuffer(buf);
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("hnsw index \"%s\" has on-disk format version %u, this version of "
                           "ragstore reads version %u",
                           RelationGetRelationName(index), version, kHnswVersion),
                    errhint("Rebuild it with REINDEX INDEX %s.",
                            quote_identifier(RelationGetRelationName(index)))));
  }
  *out = *meta;
  UnlockReleaseBuffer(buf);
}

void HnswWriterStart(HnswWriter* w, Relation index, bool building) {
  w->index = index;
  w->building = building;
  w->nbufs = 0;
  w->state = building ? nullptr : GenericXLogStart(index);
}

Page HnswWriterRegister(HnswWriter* w, Buffer buf, bool new_page) {
  w->bufs[w->nbufs++] = buf;
  if (w->building) return BufferGetPage(buf);
  return GenericXLogRegisterBuffer(w->state, buf, new_page ? GENERIC_XLOG_FULL_IMAGE : 0);
}

void HnswWriterFinish(HnswWriter* w) {
  if (w->building) {
    for (int i = 0; i < w->nbufs; i++) MarkBufferDirty(w->bufs[i]);
  } else {
    GenericXLogFinish(w->state);
  }
  w->state = nullptr;
  w->nbufs = 0;
}

Buffer HnswNewBuffer(Relation index) {
  LockRelationForExtension(index, ExclusiveLock);
  Buffer buf = ReadBuffer(index, P_NEW);
  UnlockRelationForExtension(index, ExclusiveLock);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  return buf;
}

void HnswUpdateMeta(Relation index, bool building, BlockNumber insert_page, bool set_entry,
                    ItemPointer entry, int entry_level) {
  Buffer buf = ReadBuffer(index, kHnswMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  HnswWriter w;
  HnswWriterStart(&w, index, building);
  HnswMetaPageData* meta = HnswPageGetMeta(HnswWriterRegister(&w, buf, false));
  if (BlockNumberIsValid(insert_page)) meta->insert_page = insert_page;
  if (set_entry) {
    if (entry == nullptr) {
      meta->entry_blkno = InvalidBlockNumber;
      meta->entry_offno = InvalidOffsetNumber;
      meta->entry_level = -1;
    } else {
      meta->entry_blkno = ItemPointerGetBlockNumber(entry);
      meta->entry_offno = ItemPointerGetOffsetNumber(entry);
      meta->entry_level = static_cast<int16>(entry_level);
    }
  }
  HnswWriterFinish(&w);
  UnlockReleaseBuffer(buf);
}

// ---------------------------------------------------------------- heaps

void HnswHeapInit(HnswHeap* h, int capacity, bool max_heap) {
  h->capacity = capacity < 16 ? 16 : capacity;
  h->items = static_cast<HnswCandidate*>(palloc(sizeof(HnswCandidate) * h->capacity));
  h->size = 0;
  h->max_heap = max_heap;
}

static inline bool HeapBefore(const HnswHeap* h, const HnswCandidate& a, const HnswCandidate& b) {
  return h->max_heap ? a.distance > b.distance : a.distance < b.distance;
}

void HnswHeapPush(HnswHeap* h, const HnswCandidate& c) {
  if (h->size == h->capacity) {
    h->capacity *= 2;
    h->items = static_cast<HnswCandidate*>(
        repalloc_huge(h->items, sizeof(HnswCandidate) * static_cast<Size>(h->capacity)));
  }
  int i = h->size++;
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (!HeapBefore(h, c, h->items[parent])) break;
    h->items[i] = h->items[parent];
    i = parent;
  }
  h->items[i] = c;
}

HnswCandidate HnswHeapPop(HnswHeap* h) {
  HnswCandidate top = h->items[0];
  HnswCandidate last = h->items[--h->size];
  int i = 0;
  int n = h->size;
  for (;;) {
    int child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && HeapBefore(h, h->items[child + 1], h->items[child])) child++;
    if (!HeapBefore(h, h->items[child], last)) break;
    h->items[i] = h->items[child];
    i = child;
  }
  if (n > 0) h->items[i] = last;
  return top;
}

void HnswSortCandidates(HnswCandidate* c, int n) {
  // insertion sort for short lists, else a heap sort through a max-heap
  for (int i = 1; i < n; i++) {
    HnswCandidate x = c[i];
    int j = i - 1;
    while (j >= 0 && c[j].distance > x.distance) {
      c[j + 1] = c[j];
      j--;
    }
    c[j + 1] = x;
  }
}

// ---------------------------------------------------------------- visited set

static inline uint64 TidKey(ItemPointer tid) {
  return ((static_cast<uint64>(ItemPointerGetBlockNumber(tid)) << 16) |
          ItemPointerGetOffsetNumber(tid)) +
         1;
}

static inline uint32 HashKey(uint64 k) {
  k ^= k >> 33;
  k *= UINT64CONST(0xff51afd7ed558ccd);
  k ^= k >> 33;
  return static_cast<uint32>(k);
}

void HnswVisitedInit(HnswVisited* v, int capacity) {
  if (capacity <= 0) {
    // allocated by the first HnswVisitedAdd (a search that only loads elements needs none)
    v->keys = nullptr;
    v->mask = 0;
    v->count = 0;
    return;
  }
  uint32 cap = 64;
  while (cap < static_cast<uint32>(capacity) * 2) cap <<= 1;
  v->keys = static_cast<uint64*>(palloc0(sizeof(uint64) * cap));
  v->mask = cap - 1;
  v->count = 0;
}

void HnswVisitedReset(HnswVisited* v) {
  if (v->keys == nullptr) return;
  memset(v->keys, 0, sizeof(uint64) * (Size(v->mask) + 1));
  v->count = 0;
}

bool HnswVisitedAdd(HnswVisited* v, ItemPointer tid) {
  if (v->keys == nullptr) HnswVisitedInit(v, 1024);
  uint64 key = TidKey(tid);
  uint32 i = HashKey(key) & v->mask;
  for (;;) {
    uint64 k = v->keys[i];
    if (k == key) return false;
    if (k == 0) break;
    i = (i + 1) & v->mask;
  }
  v->keys[i] = key;
  v->count++;
  if (v->count * 2 > v->mask) {
    uint32 old_cap = v->mask + 1;
    uint64* old = v->keys;
    uint32 cap = old_cap * 2;
    v->keys =
        static_cast<uint64*>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * cap));
    memset(v->keys, 0, sizeof(uint64) * cap);
    v->mask = cap - 1;
    for (uint32 j = 0; j < old_cap; j++) {
      if (old[j] == 0) continue;
      uint32 p = HashKey(old[j]) & v->mask;
      while (v->keys[p] != 0) p = (p + 1) & v->mask;
      v->keys[p] = old[j];
    }
    pfree(old);
  }
  return true;
}

// ---------------------------------------------------------------- reads

// One unvisited neighbour of the candidate being expanded (see HnswSearchLayer).
struct HnswBatchItem {
  ItemPointerData tid;
  Buffer buf;  // pinned buffer of its block (cache), or InvalidBuffer: read it later
  bool done;
  bool ok;
  HnswCandidate e;
};

void HnswSearchInit(HnswSearch* s, Relation index, const HnswSupport* sup, int m,
                    const char* query) {
  s->index = index;
  s->sup = sup;
  s->m = m;
  s->query = query;
  s->copy_values = false;
  s->skip_deleted_w = false;
  s->want_heaptids = false;
  // The visited set and the layer search's scratch are allocated on first use: inserts and
  // VACUUM start a search per neighbour list they re-prune only to load a few elements.
  HnswVisitedInit(&s->visited, 0);
  s->ncache = 0;
  s->tick = 0;
  s->loaded = 0;
  s->reads = 0;
  s->nbuf = nullptr;
  s->batch = nullptr;
  s->wide = sup->code_head > 0 ? static_cast<char*>(palloc(sup->payload_size)) : nullptr;
}

void HnswSearchReleaseBuffers(HnswSearch* s) {
  for (int i = 0; i < s->ncache; i++) ReleaseBuffer(s->cache_buf[i]);
  s->ncache = 0;
}

void HnswSearchEnd(HnswSearch* s) { HnswSearchReleaseBuffers(s); }

// Per-backend hints "block -> buffer it was last read into", in rd_amcache (one chunk in
// rd_indexcxt, freed by any relcache invalidation of the index). A hint lets ReadRecentBuffer
// pin the page after checking the buffer's tag, skipping ReadBuffer's buffer mapping lookup
// (hash and partition lock), a large part of a search's cost. A stale hint (page
// evicted, index rebuilt) fails the tag check and falls back to ReadBuffer. Indexes of more
// than kMaxHintBlocks pages get hints for their first kMaxHintBlocks pages only. The table grows
// with the index (a block read beyond it enlarges it).
struct HnswBufferHints {
  RelFileNode node;
  BlockNumber nblocks;
  Buffer buf[FLEXIBLE_ARRAY_MEMBER];
};
constexpr BlockNumber kMaxHintBlocks = BlockNumber(1) << 20;  // 4 MB of hints per backend

// Bytes of a hint table for blocks [0, n] (one slot of slack).
static Size HintsBytes(BlockNumber n) {
  return offsetof(HnswBufferHints, buf) + sizeof(Buffer) * (n + 1);
}

static Buffer ReadIndexBuffer(Relation index, BlockNumber blk) {
  auto* h = static_cast<HnswBufferHints*>(index->rd_amcache);
  if (h == nullptr && !RelationUsesLocalBuffers(index)) {
    BlockNumber n = RelationGetNumberOfBlocks(index);
    if (n > kMaxHintBlocks) n = kMaxHintBlocks;
    h = static_cast<HnswBufferHints*>(MemoryContextAllocZero(index->rd_indexcxt, HintsBytes(n)));
    h->node = index->rd_node;
    h->nblocks = n;
    index->rd_amcache = h;
  }
  if (h != nullptr && blk < h->nblocks && RelFileNodeEquals(h->node, index->rd_node)) {
    Buffer hint = h->buf[blk];
    if (BufferIsValid(hint) && ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blk, hint)) {
      pgstat_count_buffer_read(index);
      pgstat_count_buffer_hit(index);
      return hint;
    }
  }
  Buffer buf = ReadBuffer(index, blk);
  h = static_cast<HnswBufferHints*>(index->rd_amcache);  // ReadBuffer processes no invalidation
  if (h != nullptr && RelFileNodeEquals(h->node, index->rd_node)) {
    if (blk >= h->nblocks && blk < kMaxHintBlocks) {
      // The index grew since the hints were sized (inserts into an index created small):
      // at least double, so a growing index reallocates O(log n) times.
      BlockNumber n = std::min(kMaxHintBlocks, std::max(2 * h->nblocks, blk + 1));
      h = static_cast<HnswBufferHints*>(repalloc(h, HintsBytes(n)));
      memset(&h->buf[h->nblocks], 0, sizeof(Buffer) * (n + 1 - h->nblocks));
      h->nblocks = n;
      index->rd_amcache = h;
    }
    if (blk < h->nblocks) h->buf[blk] = buf;
  }
  return buf;
}

bool HnswReadPayload(Relation index, const HnswSupport* sup, BlockNumber blk, OffsetNumber off,
                     const HnswElementTupleData* e, char* out, BufferAccessStrategy strategy,
                     HnswTupleProblem* problem) {
  problem->what = nullptr;
  const char* stored = HnswElementPayload(e);
  if (sup->code_head == 0) {
    memcpy(out, stored, VARSIZE(stored));
    return true;
  }
  const auto* head = reinterpret_cast<const HnswWidePayload*>(stored + VARHDRSZ);
  SET_VARSIZE(out, sup->payload_size);
  memcpy(out + VARHDRSZ, &head->aux, sizeof(CodeAux));
  memcpy(out + VARHDRSZ + sizeof(CodeAux), stored + VARHDRSZ + sizeof(HnswWidePayload),
         sup->code_head);
  ItemPointerData ctid = head->code_tid;
  BlockNumber cblk = ItemPointerGetBlockNumberNoCheck(&ctid);
  OffsetNumber coff = ItemPointerGetOffsetNumberNoCheck(&ctid);
  // The element fills its page, so its code tuple is on another one (which also rules out
  // locking the caller's page twice).
  if (!BlockNumberIsValid(cblk) || cblk == blk || cblk == kHnswMetaBlock) {
    SetProblem(problem, "code tuple", "the code tuple's TID (%u,%u) names no other data page", cblk,
               coff);
    return false;
  }
  Buffer cbuf = strategy != nullptr
                    ? ReadBufferExtended(index, MAIN_FORKNUM, cblk, RBM_NORMAL, strategy)
                    : ReadIndexBuffer(index, cblk);
  LockBuffer(cbuf, BUFFER_LOCK_SHARE);
  Page cpage = BufferGetPage(cbuf);
  Size len = 0;
  char* item = CheckedItem(cpage, cblk, coff, &len, problem);
  const auto* c = reinterpret_cast<const HnswCodeTupleData*>(item);
  bool ok = false;
  if (item != nullptr && c->type == kHnswCodeTuple &&
      len >= offsetof(HnswCodeTupleData, data) + sup->code_tail && c->nbytes == sup->code_tail &&
      ItemPointerGetBlockNumberNoCheck(&c->owner) == blk &&
      ItemPointerGetOffsetNumberNoCheck(&c->owner) == off) {
    memcpy(out + VARHDRSZ + sizeof(CodeAux) + sup->code_head, c->data, sup->code_tail);
    ok = true;
  } else if (problem->what == nullptr) {
    SetProblem(problem, "code tuple",
               "(%u,%u) is not a code tuple of %zu bytes owned by this element", cblk, coff,
               sup->code_tail);
  }
  UnlockReleaseBuffer(cbuf);
  return ok;
}

// The pinned buffer of block blk from the search's cache, read (and pinned) on a miss, evicting
// the least recently used entry. An entry used at or after tick `keep_from` is never evicted
// (its page is still referenced by the caller): then InvalidBuffer is returned. No lock taken.
static Buffer CachedBuffer(HnswSearch* s, BlockNumber blk, uint32 keep_from) {
  int victim = 0;
  for (int i = 0; i < s->ncache; i++) {
    if (s->cache_blk[i] == blk) {
      s->cache_used[i] = ++s->tick;
      return s->cache_buf[i];
    }
    if (s->cache_used[i] < s->cache_used[victim]) victim = i;
  }
  if (s->ncache < kHnswBufferCache) {
    victim = s->ncache++;
  } else {
    if (s->cache_used[victim] >= keep_from) return InvalidBuffer;
    ReleaseBuffer(s->cache_buf[victim]);
    s->cache_buf[victim] = InvalidBuffer;
    s->cache_blk[victim] = InvalidBlockNumber;
    s->cache_used[victim] = 0;
  }
  // Fill the slot only once ReadBuffer returned: if it errors, the slot holds nothing pinned.
  Buffer buf = ReadIndexBuffer(s->index, blk);
  s->reads++;
  s->cache_buf[victim] = buf;
  s->cache_blk[victim] = blk;
  s->cache_used[victim] = ++s->tick;
  return buf;
}

static inline Buffer PinAndLock(HnswSearch* s, BlockNumber blk) {
  Buffer buf = CachedBuffer(s, blk, PG_UINT32_MAX);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  return buf;
}

// Reads the element at (page, off) of block blk under the caller's share lock: distance to the
// query, TIDs, level; copies the value when copy_value, or when W is given and the element would
// enter it (size < ef or closer than its top). False when the slot holds no element. Errors:
// XX002 for a damaged page or tuple (HnswGetElement).
static inline bool ReadElement(HnswSearch* s, Page page, BlockNumber blk, OffsetNumber off,
                               HnswCandidate* out, bool copy_value, const HnswHeap* W, int ef) {
  HnswElementTupleData* e = HnswGetElement(s->index, page, blk, off, s->sup->stored_size);
  if (e == nullptr) return false;
  const char* payload = HnswElementPayload(e);
  if (s->sup->code_head > 0) {
    // a wide code: assembled with its code tuple (read under this page's lock, hnsw_page.h)
    HnswTupleProblem problem;
    if (!HnswReadPayload(s->index, s->sup, blk, off, e, s->wide, nullptr, &problem))
      HnswTupleCorrupted(s->index, blk, off, problem);
    payload = s->wide;
  }
  out->distance = HnswDistance(s->sup, s->query, payload);
  out->ntid = e->neighbortid;
  out->level = e->level;
  out->deleted = e->deleted != 0;
  out->value = nullptr;
  int ntids = HnswElementHeapTidCount(e);
  out->nheaptids = static_cast<uint8>(ntids);
  out->heaptids = nullptr;
  if (ntids > 0)
    out->heaptid = e->heaptids[0];
  else
    ItemPointerSetInvalid(&out->heaptid);
  if (ntids > 1 && s->want_heaptids) {
    out->heaptids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * ntids));
    memcpy(out->heaptids, e->heaptids, sizeof(ItemPointerData) * ntids);
  }
  if (s->sup->quantizer != QuantizerKind::kNone)
    memcpy(&out->aux, payload + VARHDRSZ, sizeof(CodeAux));
  if (W != nullptr) copy_value = W->size < ef || out->distance < HnswHeapTop(W).distance;
  if (copy_value) {
    Size sz = VARSIZE(payload);
    out->value = static_cast<char*>(palloc(sz));
    memcpy(out->value, payload, sz);
  }
  return true;
}

bool HnswLoadElement(HnswSearch* s, ItemPointer tid, HnswCandidate* out, bool copy_value) {
  BlockNumber blk = ItemPointerGetBlockNumber(tid);
  if (blk == kHnswMetaBlock || !BlockNumberIsValid(blk)) return false;
  Buffer buf = PinAndLock(s, blk);
  bool ok = ReadElement(s, BufferGetPage(buf), blk, ItemPointerGetOffsetNumber(tid), out,
                        copy_value, nullptr, 0);
  LockBuffer(buf, BUFFER_LOCK_UNLOCK);
  if (ok) {
    out->tid = *tid;
    s->loaded++;
  }
  return ok;
}

int HnswLoadNeighbors(HnswSearch* s, ItemPointer ntid, int lc, ItemPointerData* out) {
  BlockNumber blk = ItemPointerGetBlockNumber(ntid);
  OffsetNumber off = ItemPointerGetOffsetNumber(ntid);
  if (!BlockNumberIsValid(blk) || blk == kHnswMetaBlock) return 0;
  Buffer buf = PinAndLock(s, blk);
  Page page = BufferGetPage(buf);
  int n = 0;
  int start = HnswLayerStart(lc, s->m);
  int slots = HnswLayerSlots(lc, s->m);
  HnswNeighborTupleData* nt = HnswGetNeighbors(s->index, page, blk, off, s->m, start + slots);
  for (int i = 0; nt != nullptr && i < slots && ItemPointerIsValid(&nt->tids[start + i]); i++)
    out[n++] = nt->tids[start + i];
  LockBuffer(buf, BUFFER_LOCK_UNLOCK);
  return n;
}

bool HnswEntryCandidate(HnswSearch* s, const HnswMetaPageData* meta, HnswCandidate* out) {
  if (!BlockNumberIsValid(meta->entry_blkno)) return false;
  ItemPointerData tid;
  ItemPointerSet(&tid, meta->entry_blkno, meta->entry_offno);
  if (!HnswLoadElement(s, &tid, out, s->copy_values)) return false;
  HnswVisitedAdd(&s->visited, &tid);
  return true;
}

// ---------------------------------------------------------------- search

// Prefetches the cache lines a checked tuple read (HnswGetElement) touches before the tuple: the
// page header, line pointer off, and the special space at the end of the page, whose page id
// HnswPageIsSane reads (without it, the first read of each page waits for that line).
static inline void PrefetchPageHead(Page page, OffsetNumber off) {
  __builtin_prefetch(page);
  __builtin_prefetch(reinterpret_cast<char*>(PageGetItemId(page, off)));
  __builtin_prefetch(static_cast<char*>(page) + BLCKSZ - 1);
}

// Prefetches the tuple at line pointer off: its first max_bytes bytes (whole cache lines). The
// line pointer is read without the content lock: it is a hint only (a concurrent change just
// prefetches the wrong lines; the real read below is made under the share lock and checks
// everything).
static inline void PrefetchTuple(Page page, OffsetNumber off, unsigned max_bytes) {
  const volatile ItemIdData* iid = PageGetItemId(page, off);
  unsigned lp_off = iid->lp_off;
  unsigned len = iid->lp_len;
  len = std::min(len, max_bytes);
  if (lp_off == 0 || lp_off >= BLCKSZ || len > BLCKSZ - lp_off) return;
  const char* t = static_cast<const char*>(page) + lp_off;
  for (unsigned b = 0; b < len; b += 64) __builtin_prefetch(t + b);
}

// Computes the distances of the batch items of block `blk` (items from `first` on) under one
// share lock of its page.
static void ReadBlockItems(HnswSearch* s, HnswBatchItem* items, int n, int first, Buffer buf,
                           const HnswHeap* W, int ef) {
  BlockNumber blk = ItemPointerGetBlockNumber(&items[first].tid);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  for (int j = first; j < n; j++) {
    HnswBatchItem* it = &items[j];
    if (it->done || ItemPointerGetBlockNumber(&it->tid) != blk) continue;
    it->done = true;
    it->ok = ReadElement(s, page, blk, ItemPointerGetOffsetNumber(&it->tid), &it->e, false, W, ef);
    if (it->ok) {
      it->e.tid = it->tid;
      s->loaded++;
    }
  }
  LockBuffer(buf, BUFFER_LOCK_UNLOCK);
}

void HnswSearchLayer(HnswSearch* s, HnswHeap* C, HnswHeap* W, HnswHeap* discarded, int ef, int lc) {
  if (s->batch == nullptr) {
    s->nbuf = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * 2 * kMaxM));
    s->batch = static_cast<HnswBatchItem*>(palloc(sizeof(HnswBatchItem) * 2 * kMaxM));
  }
  ItemPointerData* nb = s->nbuf;
  HnswBatchItem* items = s->batch;
  const HnswHeap* copy_w = s->copy_values ? W : nullptr;
  // How much of each unvisited neighbour's tuple is prefetched before the distances of a batch
  // are computed: all of it when the payload is a quantized code (a batch's codes then arrive
  // from memory together instead of one code's lines after another as each distance runs),
  // the tuple's head otherwise (a full-precision value is read by the kernel in sequence, which
  // the hardware prefetcher follows).
  const unsigned prefetch_bytes = s->sup->quantizer != QuantizerKind::kNone ? BLCKSZ : 256;
  // A search through many deleted or filtered-out elements can expand a large part of the
  // graph before W fills: a cancel is honoured every 64 expansions (a no-op where interrupts
  // are held, as in VACUUM's repairs).
  uint32 expanded = 0;
  while (C->size > 0) {
    if (W->size >= ef && HnswHeapTop(C).distance > HnswHeapTop(W).distance) break;
    if ((++expanded & 63) == 0) CHECK_FOR_INTERRUPTS();
    HnswCandidate c = HnswHeapPop(C);
    if (c.level < lc) continue;
    int n = HnswLoadNeighbors(s, &c.ntid, lc, nb);
    // The unvisited neighbours as one batch: pages from the buffer cache (pins are kept while
    // the batch refers to them), prefetch of page heads, then of tuples, so the cache misses of
    // the batch overlap; then each page is share-locked once for all its items.
    uint32 batch_tick = s->tick + 1;
    int k = 0;
    for (int i = 0; i < n; i++) {
      BlockNumber blk = ItemPointerGetBlockNumber(&nb[i]);
      if (blk == kHnswMetaBlock || !BlockNumberIsValid(blk)) continue;
      if (!HnswVisitedAdd(&s->visited, &nb[i])) continue;
      HnswBatchItem* it = &items[k++];
      it->tid = nb[i];
      it->done = false;
      it->ok = false;
      it->buf = CachedBuffer(s, blk, batch_tick);
      if (BufferIsValid(it->buf))
        PrefetchPageHead(BufferGetPage(it->buf), ItemPointerGetOffsetNumber(&it->tid));
    }
    for (int i = 0; i < k; i++)
      if (BufferIsValid(items[i].buf))
        PrefetchTuple(BufferGetPage(items[i].buf), ItemPointerGetOffsetNumber(&items[i].tid),
                      prefetch_bytes);
    // Pages whose buffer is held first; then the rest (their reads may evict any entry).
    for (int i = 0; i < k; i++)
      if (!items[i].done && BufferIsValid(items[i].buf))
        ReadBlockItems(s, items, k, i, items[i].buf, copy_w, ef);
    for (int i = 0; i < k; i++)
      if (!items[i].done)
        ReadBlockItems(s, items, k, i,
                       CachedBuffer(s, ItemPointerGetBlockNumber(&items[i].tid), PG_UINT32_MAX),
                       copy_w, ef);
    for (int i = 0; i < k; i++) {
      if (!items[i].ok) continue;
      const HnswCandidate& e = items[i].e;
      bool enters = W->size < ef || e.distance < HnswHeapTop(W).distance;
      if (enters && s->skip_deleted_w && e.deleted) {
        // traverse through deleted elements, never select them
        HnswHeapPush(C, e);
        continue;
      }
      if (enters) {
        HnswHeapPush(C, e);
        HnswHeapPush(W, e);
        if (W->size > ef) {
          HnswCandidate dropped = HnswHeapPop(W);
          if (discarded) HnswHeapPush(discarded, dropped);
        }
      } else if (discarded) {
        HnswHeapPush(discarded, e);
      }
    }
  }
}

void HnswSeedLayer(HnswSearch* s, HnswHeap* C, HnswHeap* W, const HnswCandidate* seeds, int n) {
  C->size = 0;
  W->size = 0;
  HnswVisitedReset(&s->visited);
  for (int i = 0; i < n; i++) {
    HnswVisitedAdd(&s->visited, const_cast<ItemPointer>(&seeds[i].tid));
    HnswHeapPush(C, seeds[i]);
    if (!(s->skip_deleted_w && seeds[i].deleted)) HnswHeapPush(W, seeds[i]);
  }
  if (W->size == 0 && n > 0) HnswHeapPush(W, seeds[0]);
}

int HnswDescend(HnswSearch* s, HnswHeap* C, HnswHeap* W, int from_level, int to_level, int beam,
                HnswCandidate* seeds, int nseeds) {
  for (int lc = from_level; lc > to_level; lc--) {
    HnswSeedLayer(s, C, W, seeds, nseeds);
    HnswSearchLayer(s, C, W, nullptr, beam, lc);
    nseeds = 0;
    while (W->size > 0) seeds[nseeds++] = HnswHeapPop(W);
  }
  return nseeds;
}

int HnswSelectNeighbors(const HnswSupport* sup, HnswCandidate* cands, int n, int max_count,
                        HnswCandidate* out) {
  HnswSortCandidates(cands, n);
  int kept = 0;
  bool* pruned = static_cast<bool*>(palloc0(sizeof(bool) * (n > 0 ? n : 1)));
  for (int i = 0; i < n && kept < max_count; i++) {
    bool good = true;
    // Quantized: candidate i's decoded vector as the query, prepared once for all kept ones.
    const char* qi = kept > 0 ? HnswSearchQueryFromStored(sup, cands[i].value) : nullptr;
    for (int j = 0; j < kept; j++) {
      float d = HnswDistance(sup, qi, out[j].value);
      if (d < cands[i].distance) {
        good = false;
        break;
      }
    }
    if (qi != nullptr && qi != cands[i].value) pfree(const_cast<char*>(qi));
    if (good)
      out[kept++] = cands[i];
    else
      pruned[i] = true;
  }
  // keepPrunedConnections (alg. 4's option, as pgvector): fill the list with the nearest pruned
  // candidates, which keeps hard (clustered) data connected.
  for (int i = 0; i < n && kept < max_count; i++)
    if (pruned[i]) out[kept++] = cands[i];
  pfree(pruned);
  return kept;
}

}  // namespace hnsw
}  // namespace ragstore
