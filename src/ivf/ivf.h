// ragstore ivfflat: what the files of src/ivf share (settings, operator-class facts, the
// per-backend cache of centroids, element conversion, page helpers, the AM callbacks).
//
// Files: ivf_handler.cpp (handler, options, settings, cost, support functions),
// ivf_build.cpp (ambuild, ambuildempty), ivf_insert.cpp (aminsert), ivf_scan.cpp (scans),
// ivf_vacuum.cpp (bulk delete, cleanup), ivf_utils.cpp (cache, conversions, pages),
// ivf_verify.cpp (ragstore.verify_index for ivfflat indexes).
// The on-disk format, locks and WAL are described in ivf_page.h.
#pragma once

#include "core/quantizer.h"
#include "ivf/ivf_page.h"
#include "pg/ann_am.h"
#include "pg/distance.h"

extern "C" {
#include "access/amapi.h"
#include "access/genam.h"
#include "access/generic_xlog.h"
#include "nodes/pathnodes.h"
#include "storage/buf.h"
#include "common/relpath.h"
#include "utils/relcache.h"
}

namespace ragstore {
namespace ivf {

// Settings (ivfflat.*), registered in ivf_handler.cpp.
using pg::IterativeScan;
extern int g_probes;          // ivfflat.probes, 1..32768, default 1
extern int g_iterative_scan;  // ivfflat.iterative_scan (IterativeScan: off or relaxed_order)
extern int g_max_probes;      // ivfflat.max_probes, 1..32768, default 32768
// ivfflat.rerank_candidates, 0..kMaxRerankCandidates, default kDefaultRerankCandidates: how
// many of a binary-quantized scan's best rows by code distance are re-scored exactly (sq8 needs
// no count: its lower bound re-ranks every row); 0 turns re-ranking off for every quantizer.
constexpr int kDefaultRerankCandidates = 100;
constexpr int kMaxRerankCandidates = 50000;
extern int g_rerank_candidates;

// Index option `lists` (1..32768, default 100), pgvector's bounds.
constexpr int kDefaultLists = 100;
constexpr int kMaxLists = 32768;
// Index option `quantizer` ('none', the default, 'sq8', 'binary'): a QuantizerKind.
struct IvfOptions {
  int32 vl_len_;
  int lists;
  int quantizer;
};
int GetLists(Relation index);
QuantizerKind GetQuantizer(Relation index);

// Dimension limits of unquantized indexes: pg::ElementTypeDesc::ivfflat_max_dims (MaxDims).
// Quantized indexes (vector and halfvec, binary and sq8): up to the types' own limit (an sq8
// code beyond one data page continues on a continuation page, ivf_page.h).
constexpr int kMaxDimsQuantized = 16000;

// Build progress sub-phases (pg/ann_am.h): ambuildphasename's names in ivf_handler.cpp.
constexpr int kPhaseKMeans = pg::kFirstBuildPhase;  // "performing k-means"
constexpr int kPhaseAssign = kPhaseKMeans + 1;      // "assigning tuples"
constexpr int kPhaseLoad = kPhaseKMeans + 2;        // "loading tuples"

// Support functions of an ivfflat operator class (FUNCTION n in src/sql/70_ivfflat.sql).
constexpr int kProcDistanceDesc = 1;  // (internal) -> internal: the class's pg::DistanceDesc
constexpr int kNumProcs = 1;

// The operator class's descriptor entry (pg::OpclassDistance). Errors: 0A000 when the class's
// support function names a distance ivfflat does not index.
const pg::DistanceDesc* IvfOpclassDistance(Relation index);
// The entry of an index's stored (element type, metric) codes, or nullptr when ivfflat does not
// index that pair (a damaged meta page).
const pg::DistanceDesc* IvfDistance(uint32 kind, uint32 metric);

// ivfflat's dimension limit of a type (pgvector's: one centroid fits a list page).
inline int MaxDims(ElementType kind) { return pg::ElementDesc(kind).ivfflat_max_dims; }
// Bytes of one stored element of `dims` dimensions.
inline int ElementSize(ElementType kind, int dims) {
  return pg::ElementDesc(kind).element_size(dims);
}
// True when the working form (pg::ElementTypeDesc: what the batch kernels read) is float32
// (vector, halfvec); bit works on the packed bits.
inline bool WorksInFloats(ElementType kind) {
  return pg::ElementDesc(kind).layout == pg::ElementLayout::kDenseFloat;
}
// Bytes of the working form (dims floats, or the element bytes for bit).
int WorkSize(ElementType kind, int dims);

// The dimensions of the indexed column (its typmod), checked in pgvector's order and with its
// messages: bit varying (0A000), "column does not have dimensions" (22023), "column cannot have
// more than N dimensions for ivfflat index" (54000; for an unquantized vector or halfvec index
// with a hint naming the quantizer option), "dimensions must be greater than one for this
// opclass" (22023: spherical k-means, the entry's build metric inner product: inner product and
// cosine); also a quantizer on an entry that is not quantizable (bit: 0A000).
int IndexDims(Relation index, const pg::DistanceDesc* dist, QuantizerKind quantizer);
// Quantized indexes: the vector's float32 values (cosine: L2-normalised, halfvec included, so
// that they are the exact operands of the SQL operator), dims floats into `out`. Returns false
// when the value is not indexed (a zero vector under cosine). Errors (22000) when its dimensions
// differ.
bool DatumToFloats(Datum value, const pg::DistanceDesc* dist, int dims, float* out);
// The same for a query value (the distance operators' messages for other dimensions); a NULL
// query or a zero query under cosine gives the zero vector.
void QueryToFloats(Datum value, bool isnull, const pg::DistanceDesc* dist, int dims, float* out);

// Converts an indexed value to the stored element (`out`, ElementSize bytes) and the working
// form (`work`, WorkSize bytes; may be nullptr), with the type's descriptor (to_float,
// element_from_floats, elements_to_floats; bit: bits_at). Cosine (dist->normalizes): normalised,
// and the working form is the stored (rounded, for halfvec) element's. Returns false when the
// value is not indexed (a zero vector under cosine). Errors (22000) when its dimensions differ.
bool DatumToElement(Datum value, const pg::DistanceDesc* dist, int dims, char* out, char* work);
// Converts a query value to the working form (a NULL query gives the zero vector). Errors (22000)
// with the type's message (pg::ElementTypeDesc::dims_error) when its dimensions differ.
void QueryToWork(Datum value, bool isnull, const pg::DistanceDesc* dist, int dims, char* work);
// Stored element -> working form (WorkSize bytes).
void ElementToWork(const char* element, ElementType kind, int dims, char* work);

// The meta page's fields checked against each other and the relation's size (nblocks blocks):
// nullptr when consistent, else what is wrong (a stored element kind, metric or quantizer outside
// its enum included). Used by GetCache (XX002) and the verifier.
const char* IvfMetaProblem(const IvfMetaData& meta, BlockNumber nblocks);

// Per-backend cache of the meta page and the centroids, in rd_amcache (one palloc chunk in
// rd_indexcxt; rebuilt when the relfilenode changes, as after REINDEX or TRUNCATE).
struct IvfCache {
  Oid relfilenode;
  int dims;
  int lists;
  int element_size;
  int head_size;  // bytes of each element on its data page (HeadElementSize)
  int tail_size;  // wide elements: bytes on the continuation page (WideTailSize), else 0
  int work_size;
  ElementType kind;
  Metric metric;
  const pg::DistanceDesc* dist;  // the entry of (kind, metric)
  QuantizerKind quantizer;       // kNone for version 1
  BlockNumber* list_block;       // where list i's IvfListTuple lives
  OffsetNumber* list_offset;
  char* centers;  // lists * work_size bytes (working form of each centroid)
  float* params;  // quantized: QuantizerParamCount floats; else nullptr
};
// The pointer is valid only until the next relcache invalidation is processed (any heavyweight
// lock acquisition, e.g. detoasting a value): call it again after such calls, or use a copy.
IvfCache* GetCache(Relation index);
// A copy of the cache without the centroids and quantizer parameters (centers == params ==
// nullptr), palloc'd in CurrentMemoryContext: what scans and vacuum keep across calls that may
// process invalidations.
IvfCache* CopyCacheWithoutCenters(Relation index);

// out[i] = distance from the query (working form) to centroid i, for i < lists; smaller is closer
// (the entry's batch kernel, pg::DistanceDesc::batch).
void CenterDistances(const IvfCache* cache, const char* query, float* out);
// out[k] = distance from the query to the k-th element of a contiguous element array of n: the
// elements in working form (converted into scratch when the type has elements_to_floats), then
// the entry's batch kernel. scratch: n * dims floats, or nullptr when the type needs none
// (NeedsScratch).
void ElementDistances(const IvfCache* cache, const char* query, const char* elements, int n,
                      float* out, float* scratch);
// True when ElementDistances needs its scratch (the stored element is not the working form).
inline bool NeedsScratch(const IvfCache* cache) {
  return cache->dist->element->elements_to_floats != nullptr;
}

// Pages.
void InitPage(Page page, IvfPageType type);
// Appends an entry to a data page with room (DataPageCount < DataPageCapacity).
void DataPageAppend(Page page, ItemPointer tid, const char* element, int element_size);
// Removes entry i (the last entry moves into its slot).
void DataPageRemove(Page page, int i, int element_size);
// The pages of a new entry: a new data page (kPageData, initialised, exclusively locked) and,
// for wide elements (tail_size > 0), its continuation page at the next block (*cont, kPageCont;
// else InvalidBuffer), both extended under one extension lock. Pages registered with `state`
// (generic WAL, full images) when given; the returned pages are what to write (*cpage too).
Buffer NewEntryPages(Relation index, const IvfCache* cache, GenericXLogState* state, Page* page,
                     Buffer* cont, Page* cpage);
// True when page (pinned) is a continuation page (kPageCont) and, when tail_size >= 0, holds
// exactly tail_size bytes: the rest of its data page's wide element.
bool IsContinuationPage(Page page, int tail_size);
// Appends entry (tid, element of head_size + tail_size bytes) to data page `page` with room:
// head_size bytes there (HeadElementSize), the tail_size rest of a wide element (WideTailSize,
// else 0) on its continuation page cpage.
void AppendEntry(Page page, Page cpage, ItemPointer tid, const char* element, int head_size,
                 int tail_size);
// Reads list i's tuple (share lock): its first and insert blocks.
void ReadListBlocks(Relation index, const IvfCache* cache, int list, BlockNumber* start,
                    BlockNumber* insert);

// Encodes one vector (dims floats) as a quantized element (CodeAux + code, element_size bytes).
void EncodeElement(const IvfCache* cache, const float* x, char* element);

// Inserts one element into list `list` (generic WAL). ivf_insert.cpp.
void InsertIntoList(Relation index, const IvfCache* cache, int list, ItemPointer tid,
                    const char* element);

}  // namespace ivf
}  // namespace ragstore

// AM callbacks (PostgreSQL's naming), defined in the files named above.
extern "C" {
IndexBuildResult* ivfflatbuild(Relation heap, Relation index, IndexInfo* index_info);
void ivfflatbuildempty(Relation index);
bool ivfflatinsert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                   IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo* index_info);
IndexBulkDeleteResult* ivfflatbulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                         IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* ivfflatvacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);
IndexScanDesc ivfflatbeginscan(Relation index, int nkeys, int norderbys);
void ivfflatrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool ivfflatgettuple(IndexScanDesc scan, ScanDirection dir);
void ivfflatendscan(IndexScanDesc scan);
}
