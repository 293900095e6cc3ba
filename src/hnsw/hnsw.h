// ragstore hnsw: what the hnsw access method's files share (settings, options, type support,
// the graph search used by scans, inserts and VACUUM). The on-disk format is in hnsw_page.h.
//
// Files (split by callback group, as contrib/bloom and pgvector):
//   hnsw_handler.cpp handler, reloptions, settings (GUCs), cost estimate
//   hnsw_build.cpp   ambuild / ambuildempty: the in-memory graph of core/hnsw_graph.h, written
//                    out page by page
//   hnsw_insert.cpp  aminsert and the on-disk insertion used by builds that outgrow memory
//   hnsw_scan.cpp    ambeginscan / amrescan / amgettuple / amendscan, iterative scans
//   hnsw_vacuum.cpp  ambulkdelete / amvacuumcleanup, and the reachability pass
//   hnsw_reach.cpp   the layer-0 reachability walk (VACUUM, builds, ragstore.debug_hnsw_graph)
//   hnsw_verify.cpp  ragstore.verify_index for hnsw indexes
//   hnsw_utils.cpp   page helpers, element/neighbour reads, layer search, neighbour selection
#pragma once

#include "core/quantizer.h"
#include "core/sparse.h"
#include "hnsw/hnsw_page.h"
#include "pg/ann_am.h"
#include "pg/distance.h"

extern "C" {
#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/relscan.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

namespace ragstore {
namespace hnsw {

// ---- settings (GUCs; defaults and ranges as pgvector 0.8) ----
using pg::IterativeScan;
extern int g_ef_search;               // hnsw.ef_search, 40, 1..1000
extern int g_iterative_scan;          // hnsw.iterative_scan (IterativeScan)
extern int g_max_scan_tuples;         // hnsw.max_scan_tuples, 20000, 1..INT_MAX
extern double g_scan_mem_multiplier;  // hnsw.scan_mem_multiplier, 1, 1..1000 (x work_mem)
// hnsw.rerank_candidates (quantized indexes): binary: how many of the scan's best candidates by
// code distance are re-scored exactly (the layer-0 list holds at least as many); 0 turns
// re-ranking off for every quantizer (rows come in code distance order).
extern int g_rerank_candidates;
constexpr int kDefaultRerankCandidates = 100, kMaxRerankCandidates = 1000;
// Dimensions of a quantized index (binary and sq8): up to kMaxDimsQuantized, the types' own
// limit. An sq8 code that does not fit one page with its element continues in a code tuple
// (hnsw_page.h, "Wide codes").
constexpr int kMaxDimsQuantized = 16000;

constexpr int kDefaultM = 16, kMinM = 2, kMaxM = 100;
constexpr int kDefaultEfConstruction = 64, kMinEfConstruction = 4, kMaxEfConstruction = 1000;
constexpr int kMaxLevel = 16;  // levels are capped so a neighbour tuple always fits a page

// Reloptions of an hnsw index (WITH (m = 16, ef_construction = 64)).
struct HnswOptions {
  int32 vl_len_;
  int m;
  int ef_construction;
  int quantizer;  // QuantizerKind
};

int HnswGetM(Relation index);
int HnswGetEfConstruction(Relation index);
QuantizerKind HnswGetQuantizer(Relation index);

// Support functions of an hnsw operator class (FUNCTION n in src/sql/60_hnsw.sql).
constexpr int kProcDistance = 1;      // distance(a, b) -> float8, smaller is closer
constexpr int kProcNorm = 2;          // norm(a) -> float8: cosine classes only (values normalised)
constexpr int kProcDistanceDesc = 3;  // (internal) -> internal: the class's pg::DistanceDesc
constexpr int kNumProcs = 3;

// Build progress sub-phases (pg/ann_am.h): ambuildphasename's names in hnsw_handler.cpp.
constexpr int kPhaseLoad = pg::kFirstBuildPhase;  // "loading tuples"
constexpr int kPhaseGraph = kPhaseLoad + 1;       // "building graph"
constexpr int kPhaseWrite = kPhaseLoad + 2;       // "writing pages"
constexpr int kPhaseOrder = kPhaseLoad + 3;       // "ordering elements"

// ---- type support ----
// The element type and distance of an index come from the descriptor table (pg/distance.h):
// FUNCTION 3 (kProcDistanceDesc) returns the operator class's entry (pg::OpclassDistance).
using HnswKernel = pg::StoredKernel;

// Everything needed to compute distances for one index (filled by HnswInitSupport).
struct HnswSupport {
  FmgrInfo* dist_proc;
  FmgrInfo* norm_proc;  // nullptr unless cosine
  Oid collation;
  const pg::ElementTypeDesc* type;
  const pg::DistanceDesc* dist;  // the operator class's entry (kernel nullptr: a generic one)
  HnswKernel kernel;             // dist->kernel; nullptr: use dist_proc (no in-memory build)
  Metric metric;                 // dist->build_metric (cosine: kInnerProduct on unit vectors)
  // Quantized indexes (quantizer != kNone): payloads are codes (hnsw_page.h) and a search query
  // is an HnswQuantQuery (HnswSearchQuery); the parameters are loaded by HnswLoadQuantizer.
  QuantizerKind quantizer;
  int qdims;
  const float* qparams;  // trained parameters (palloc'd), nullptr until loaded
  Metric code_metric;    // L2 squared, or negative inner product (inner product, cosine)
  Metric bound_metric;   // the SQL operator's distance, for the re-ranking bound
  // Bytes of every element's payload as searches see it (in memory): quantized, VARHDRSZ +
  // CodeAux + code; unquantized, the column's value size for vector, halfvec and bit; 0 (not
  // fixed) for sparsevec.
  Size payload_size;
  // Bytes of the payload stored in an element tuple (checked by the tuple reads): payload_size,
  // except for a wide code (code_head > 0): VARHDRSZ + HnswWidePayload + code_head.
  Size stored_size;
  // Wide codes (hnsw_page.h): the code bytes kept in the element tuple (the rest, code_tail
  // bytes, are in its code tuple); both 0 when the whole payload fits the element tuple.
  Size code_head;
  Size code_tail;
};

// The search query of a quantized index: the query's norm and the quantizer's per-query state;
// or, for a binary index's query made from a stored code (decoded: inserts' neighbour selection,
// VACUUM), the decoded query and room to decode one code, so that no per-query table (256
// floats per code byte) is built for a query that computes few distances.
struct HnswQuantQuery {
  float norm;
  bool decoded;
  float state[FLEXIBLE_ARRAY_MEMBER];
};

void HnswInitSupport(Relation index, HnswSupport* sup);
// Reads the trained quantizer of a quantized index from its parameter pages into
// sup->qparams (palloc'd in the current context); nothing for an unquantized index. Errors:
// XX002 when the pages do not hold this index's quantizer.
void HnswLoadQuantizer(Relation index, HnswSupport* sup);
// Sets sup's quantizer fields for `kind` over `dims` dimensions (parameters not loaded). Errors:
// 0A000 for a type or operator class a quantizer does not apply to (bit, sparsevec, L1).
void HnswSetQuantizer(HnswSupport* sup, QuantizerKind kind, int dims);
// The code distance from a quantized search query (HnswQuantQuery) to a stored payload.
float HnswCodeDistance(const HnswSupport* sup, const char* query, const char* payload);
inline float HnswDistance(const HnswSupport* sup, const char* a, const char* b) {
  if (sup->quantizer != QuantizerKind::kNone) return HnswCodeDistance(sup, a, b);
  if (sup->kernel) return sup->kernel(a, b);
  return static_cast<float>(DatumGetFloat8(
      FunctionCall2Coll(sup->dist_proc, sup->collation, PointerGetDatum(a), PointerGetDatum(b))));
}
// Detoasts value and applies the opclass's normalisation; returns nullptr when the value is
// not indexed (zero norm under cosine). Checks the hnsw dimension limit (54000).
char* HnswPrepareValue(const HnswSupport* sup, Datum value, bool for_index);
// True when two prepared values (uncompressed varlenas) are equal byte for byte: rows of equal
// values share an element (hnsw_page.h, "Duplicates").
inline bool HnswValuesEqual(const char* a, const char* b) {
  return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}
// True when tid is one of list[0..n).
inline bool HnswTidIn(const ItemPointerData* list, int n, const ItemPointerData* tid) {
  for (int i = 0; i < n; i++)
    if (ItemPointerEquals(const_cast<ItemPointer>(&list[i]), const_cast<ItemPointer>(tid)))
      return true;
  return false;
}
// Dimensions limit check at CREATE INDEX (column typmod): errors as pgvector (0A000 for bit
// varying, 22023 for no dimensions, 54000 over the limit), with a hint naming the quantizer
// option; a quantized index takes up to kMaxDimsQuantized.
int HnswCheckColumnDims(Relation index, const HnswSupport* sup);
// The search query for a prepared value (HnswPrepareValue) or for a stored payload (an
// element's, e.g. inserts re-pruning a neighbour's list, VACUUM): the value itself when the
// index is unquantized, else a palloc'd HnswQuantQuery (decoding the payload first).
const char* HnswSearchQuery(const HnswSupport* sup, const char* value);
const char* HnswSearchQueryFromStored(const HnswSupport* sup, const char* stored);
// What an element stores for a prepared value: the value itself (unquantized), else a palloc'd
// payload (CodeAux + code). Errors as GuardedCall (FAISS).
const char* HnswEncodePayload(const HnswSupport* sup, const char* value);
// Wide codes (hnsw_page.h): the element tuple's payload (sup->stored_size bytes) and the code
// tuple's bytes (HnswCodeTupleSize(sup->code_tail), owner and nbytes set, the caller sets the
// owner's TID) of a whole payload (sup->payload_size bytes); the payload's code_tid is left
// invalid for the caller.
void HnswSplitPayload(const HnswSupport* sup, const char* payload, char* stored,
                      HnswCodeTupleData* code);
// True when an element's stored payload holds the start of `payload` (a whole payload): the
// equality test of a wide element under its page lock (the rest of the code never changes).
bool HnswStoredPayloadMatches(const HnswSupport* sup, const char* stored, const char* payload);
// The whole payload of element e (at blk, off; its page share- or exclusively locked by the
// caller) into out (sup->payload_size bytes). For a wide code, reads its code tuple under a
// share lock of that page (buffer read with `strategy`, may be nullptr). False, with problem
// set ("code tuple"), when the code tuple is missing or not this element's.
bool HnswReadPayload(Relation index, const HnswSupport* sup, BlockNumber blk, OffsetNumber off,
                     const HnswElementTupleData* e, char* out, BufferAccessStrategy strategy,
                     struct HnswTupleProblem* problem);
// The distance between two stored payloads (neighbour selection): HnswDistance for an
// unquantized index; quantized, from a's decoded vector to b's code.
float HnswPairDistance(const HnswSupport* sup, const char* a, const char* b);

// ---- meta page ----
// Reads the meta page. Errors: XX002 when it is not an hnsw meta page, 55000 (with a hint
// naming REINDEX) when the index has an older on-disk format version.
void HnswReadMeta(Relation index, HnswMetaPageData* out);
void HnswInitMetaPage(Page page, int dims, int m, int ef_construction);
// Writes the serialised quantizer of sup onto new parameter pages (they must be the next blocks
// of the index: before any element) and records them in the meta page. A build's write (plain
// dirty buffers, logged with the build's log_newpage_range).
void HnswWriteQuantizer(Relation index, const HnswSupport* sup);
void HnswInitDataPage(Page page);

// ---- checked reads of element and neighbour tuples (hnsw_utils.cpp)
// Every read of an element or a neighbour tuple from a page goes through HnswCheckElement /
// HnswCheckNeighbors (readers that report damage instead of failing: the reachability pass,
// ragstore.verify_index) or HnswGetElement / HnswGetNeighbors (everything else: they raise the
// problem as an error). They check the page and the tuple before any field is used, so a damaged
// page never makes a reader read outside the page or the tuple.

// A damaged page or tuple: `what` is the part (ragstore.verify_index's problem names: "page",
// "line pointer", "tuple type", "element value", "element level", "neighbour tuple", "code
// tuple"), nullptr when nothing is wrong; `detail` says what is wrong, with the numbers.
struct HnswTupleProblem {
  const char* what;
  char detail[160];
};

// The element tuple at line pointer off of `page` (block blk of the index), or nullptr.
// nullptr with problem->what nullptr: the slot holds no element, which readers tolerate (a new
// page, off beyond the line pointers, an unused line pointer, or a neighbour tuple: a stale TID
// to a slot VACUUM freed and an insert reused). nullptr with problem->what set: damage: blk is
// the meta page or a parameter page; the page's header or special space is not an hnsw data
// page's; the line pointer is dead or a redirect, or its item lies outside the page's tuple
// space; the tuple's type is unknown; it is shorter than an element's header; its payload is not
// an uncompressed varlena inside the tuple, or (payload_bytes > 0: every payload of the index
// has that size, HnswSupport.payload_size) not of payload_bytes bytes; its level exceeds
// kMaxLevel.
HnswElementTupleData* HnswCheckElement(Page page, BlockNumber blk, OffsetNumber off,
                                       Size payload_bytes, HnswTupleProblem* problem);
// The neighbour tuple at line pointer off of `page` (block blk) of an index with parameter m,
// or nullptr. nullptr without a problem: the slot holds no neighbour tuple (as above, an element
// tuple instead), or one with fewer than min_count slots (a stale TID: the neighbour tuple of
// another, lower element). With a problem: the page and line pointer damage above, an unknown
// tuple type, a tuple shorter than its header or than its count of slots, or more slots than an
// element of the highest level has ((kMaxLevel + 2) * m).
HnswNeighborTupleData* HnswCheckNeighbors(Page page, BlockNumber blk, OffsetNumber off, int m,
                                          int min_count, HnswTupleProblem* problem);
// The line pointers of block blk for a reader that walks every tuple of a page (VACUUM, a scan
// with a NULL query): 0 for a new page or a parameter page (no tuples). Errors: XX002 when the
// page's header or special space is not an hnsw data page's.
OffsetNumber HnswPageTupleSlots(Relation index, Page page, BlockNumber blk);
// Raises `problem` found at (blk, off) of index (off InvalidOffsetNumber: the page): XX002
// (index_corrupted) naming the index, the block, the offset and the damaged part, with a hint to
// REINDEX.
pg_attribute_noreturn() void HnswTupleCorrupted(Relation index, BlockNumber blk, OffsetNumber off,
                                                const HnswTupleProblem& problem);
// HnswCheckElement / HnswCheckNeighbors that raise a problem (HnswTupleCorrupted): nullptr only
// when the slot holds no such tuple.
inline HnswElementTupleData* HnswGetElement(Relation index, Page page, BlockNumber blk,
                                            OffsetNumber off, Size payload_bytes) {
  HnswTupleProblem problem;
  HnswElementTupleData* e = HnswCheckElement(page, blk, off, payload_bytes, &problem);
  if (unlikely(problem.what != nullptr)) HnswTupleCorrupted(index, blk, off, problem);
  return e;
}
inline HnswNeighborTupleData* HnswGetNeighbors(Relation index, Page page, BlockNumber blk,
                                               OffsetNumber off, int m, int min_count) {
  HnswTupleProblem problem;
  HnswNeighborTupleData* nt = HnswCheckNeighbors(page, blk, off, m, min_count, &problem);
  if (unlikely(problem.what != nullptr)) HnswTupleCorrupted(index, blk, off, problem);
  return nt;
}

// Page writes through generic WAL, or plain dirty buffers while a build runs (the build logs
// everything at the end with log_newpage_range).
struct HnswWriter {
  Relation index;
  bool building;
  GenericXLogState* state;
  Buffer bufs[MAX_GENERIC_XLOG_PAGES];
  int nbufs;
};
void HnswWriterStart(HnswWriter* w, Relation index, bool building);
Page HnswWriterRegister(HnswWriter* w, Buffer buf, bool new_page);
void HnswWriterFinish(HnswWriter* w);
// Adds a new page (exclusive-locked, not yet initialised).
Buffer HnswNewBuffer(Relation index);
void HnswUpdateMeta(Relation index, bool building, BlockNumber insert_page, bool set_entry,
                    ItemPointer entry, int entry_level);

// ---- graph search ----
struct HnswCandidate {
  float distance;
  ItemPointerData tid;      // element tuple
  ItemPointerData ntid;     // neighbour tuple
  ItemPointerData heaptid;  // the element's first heap TID (invalid when it has none)
  uint8 level;
  bool deleted;
  uint8 nheaptids;  // heap TIDs of the element (0..kHnswHeapTids)
  // All nheaptids heap TIDs (palloc'd) when there are more than one and the search asked for
  // them (HnswSearch.want_heaptids), else nullptr.
  ItemPointerData* heaptids;
  char* value;  // palloc'd copy of the value (inserts) or nullptr
  CodeAux aux;  // quantized indexes: the element's reconstruction error and norm
};
// Heap TID i (< c.nheaptids) of candidate c (needs c.heaptids when nheaptids > 1).
inline ItemPointerData HnswCandidateHeapTid(const HnswCandidate& c, int i) {
  return i == 0 ? c.heaptid : c.heaptids[i];
}

struct HnswHeap {
  HnswCandidate* items;
  int size;
  int capacity;
  bool max_heap;
};
void HnswHeapInit(HnswHeap* h, int capacity, bool max_heap);
void HnswHeapPush(HnswHeap* h, const HnswCandidate& c);
HnswCandidate HnswHeapPop(HnswHeap* h);
inline const HnswCandidate& HnswHeapTop(const HnswHeap* h) { return h->items[0]; }

// A set of visited element TIDs (open addressing, grows by doubling).
struct HnswVisited {
  uint64* keys;
  uint32 mask;
  uint32 count;
};
void HnswVisitedInit(HnswVisited* v, int capacity);  // capacity 0: allocated on first add
void HnswVisitedReset(HnswVisited* v);
bool HnswVisitedAdd(HnswVisited* v, ItemPointer tid);  // true when tid was new

// Buffers a search keeps pinned (least recently used evicted): with the build's
// neighbour-first page order (hnsw_page.h) most reads of a search hit one of them, which saves
// the buffer mapping lookup and pin of ReadBuffer. 16 pins plus the executor's few exceed
// PrivateRefCount's 8-entry array; the overflow hash is only touched when a pin is taken or
// dropped, i.e. on misses (bench/README.md, "hnsw scan").
constexpr int kHnswBufferCache = 16;
// Cache misses pin pages through per-backend block -> buffer hints (ReadRecentBuffer) kept in
// the index's rd_amcache: rd_amcache of an hnsw index holds HnswBufferHints (hnsw_utils.cpp)
// and nothing else.

struct HnswBatchItem;  // hnsw_utils.cpp

struct HnswSearch {
  Relation index;
  const HnswSupport* sup;
  int m;
  const char* query;
  bool copy_values;     // keep a copy of each W member's value (inserts: neighbour selection)
  bool skip_deleted_w;  // deleted elements never enter W (inserts), still traversed
  bool want_heaptids;   // copy every heap TID of an element with more than one (scans)
  HnswVisited visited;
  // Pinned buffers (no lock held between reads); cache_used[i] is a use tick (LRU).
  Buffer cache_buf[kHnswBufferCache];
  BlockNumber cache_blk[kHnswBufferCache];
  uint32 cache_used[kHnswBufferCache];
  int ncache;
  uint32 tick;
  int64 loaded;           // elements whose distance was computed
  int64 reads;            // ReadBuffer calls (cache misses)
  ItemPointerData* nbuf;  // scratch for a neighbour list
  HnswBatchItem* batch;   // scratch for a neighbour batch (HnswSearchLayer)
  char* wide;             // wide codes: a whole payload assembled (HnswReadPayload)
};
void HnswSearchInit(HnswSearch* s, Relation index, const HnswSupport* sup, int m,
                    const char* query);
// Drops the pins of the buffer cache (the search can go on; it pins again as needed).
void HnswSearchReleaseBuffers(HnswSearch* s);
// Ends a search: releases its pins (memory is the caller's context's).
void HnswSearchEnd(HnswSearch* s);
// Reads the element at tid and its distance to s->query; false when the slot holds no element.
bool HnswLoadElement(HnswSearch* s, ItemPointer tid, HnswCandidate* out, bool copy_value);
// Copies the valid neighbour TIDs of layer lc from neighbour tuple ntid; returns their count.
int HnswLoadNeighbors(HnswSearch* s, ItemPointer ntid, int lc, ItemPointerData* out);
// HNSW SEARCH-LAYER: expands candidates c from C (min-heap) into W (max-heap, at most ef),
// stops when the nearest candidate is farther than W's farthest. Elements dropped from W or
// rejected go to discarded (when given; iterative scans resume from them).
void HnswSearchLayer(HnswSearch* s, HnswHeap* C, HnswHeap* W, HnswHeap* discarded, int ef, int lc);
// Starts the search of one layer from seeds[0..n): C and W emptied, the visited set reset to
// the seeds, every seed in C and in W (a deleted seed stays out of W when s->skip_deleted_w,
// unless W would stay empty: it keeps a bound for the search).
void HnswSeedLayer(HnswSearch* s, HnswHeap* C, HnswHeap* W, const HnswCandidate* seeds, int n);
// HNSW's descent through the upper layers (Malkov & Yashunin 2016, alg. 1 lines 5-7 and alg. 5
// lines 3-6): each layer from from_level down to to_level + 1 is searched with ef = beam from
// seeds[0..nseeds), and everything W then holds seeds the next layer (beam 1: the paper's
// greedy walk; scans keep kUpperLayerBeam). Leaves the seeds of layer to_level in seeds (W's
// pop order, farthest first; at most max(beam, nseeds) entries) and returns their count.
int HnswDescend(HnswSearch* s, HnswHeap* C, HnswHeap* W, int from_level, int to_level, int beam,
                HnswCandidate* seeds, int nseeds);
// Loads the entry point of meta into out (its value copied when s->copy_values) and marks it
// visited; false when the index is empty or the entry point's slot holds no element.
bool HnswEntryCandidate(HnswSearch* s, const HnswMetaPageData* meta, HnswCandidate* out);
// HNSW's neighbour selection heuristic (Malkov & Yashunin 2016, alg. 4, as FAISS's
// shrink_neighbor_list): keeps candidate e (ascending distance) only if it is closer to the
// base than to every kept one; at most max_count. Candidates need values. Returns kept count,
// written to out.
int HnswSelectNeighbors(const HnswSupport* sup, HnswCandidate* cands, int n, int max_count,
                        HnswCandidate* out);
// Sorts ascending by distance.
void HnswSortCandidates(HnswCandidate* c, int n);

// ---- insertion (hnsw_insert.cpp) ----
// Reads the indexed value of a table row, for inserts into a quantized index: its elements hold
// codes, which equal values share but unequal ones can too, so an insert compares its value with
// the table row of an element's heap TID before joining that element. The slot, executor state
// (index expressions) and index fetch are made on first use, in the memory context that was
// current at HnswRowReaderInit (callers reset shorter-lived ones per row); HnswRowReaderEnd
// releases them.
struct HnswRowReader {
  Relation heap;
  IndexInfo* index_info;
  MemoryContext cxt;
  EState* estate;
  TupleTableSlot* slot;
  IndexFetchTableData* fetch;
};
void HnswRowReaderInit(HnswRowReader* r, Relation heap, IndexInfo* index_info);
void HnswRowReaderEnd(HnswRowReader* r);
// Inserts one prepared value (see HnswPrepareValue) for heap row heaptid: adds the TID to an
// element of equal value with room when the layer-0 search finds one, else a new element. A
// quantized index groups equal values only with a row reader (nullptr: never).
void HnswInsertValue(Relation index, const HnswSupport* sup, const char* value, ItemPointer heaptid,
                     bool building, HnswRowReader* rows);
int HnswRandomLevel(int m);
// HNSW's neighbour search of an insertion (alg. 1 lines 1-10): greedy descent from meta's
// entry point, then ef_construction search and the selection heuristic on layers
// min(level, entry level)..0. selected[lc] (palloc'd, values copied, ascending distance) and
// nselected[lc] for lc in 0..level; all empty when the index is empty.
// found0 / nfound0 (when not nullptr): the live elements the layer-0 search found (values
// copied, ascending distance), where an insert looks for an element of equal value.
void HnswFindNeighbors(Relation index, const HnswSupport* sup, int m, int efc, const char* value,
                       int level, const HnswMetaPageData* meta, HnswCandidate** selected,
                       int* nselected, HnswCandidate** found0 = nullptr, int* nfound0 = nullptr);
// Adds the link from -> to on layer lc without ever making an element unreachable (see the
// comment in hnsw_insert.cpp). from needs tid, ntid, value and distance (= d(from, to)); to
// needs tid, ntid and value. force: take a slot even when the heuristic would drop `to`.
// replaceable (nrep entries, farthest last) are the members of `to`'s list that a moved victim
// may overwrite; a member a dropped link comes to rely on is set invalid there. Returns true when
// the link exists afterwards.
bool HnswAddLink(Relation index, const HnswSupport* sup, int m, bool building,
                 const HnswCandidate& from, const HnswCandidate& to, int lc, bool force,
                 ItemPointerData* replaceable, int nrep);
// Back links from the n neighbours nbs (ascending distance) to `added` on layer lc; forces one
// when no neighbour keeps it. True when at least one in-link exists afterwards.
bool HnswLinkFromNeighbors(Relation index, const HnswSupport* sup, int m, bool building,
                           HnswCandidate* nbs, int n, const HnswCandidate& added, int lc,
                           ItemPointerData* replaceable, int nrep);

// ---- reachability (hnsw_reach.cpp) ----
// The live (not deleted) elements of an index in TID order with their layer-0 out-links as
// dense element numbers, and which of them the entry point reaches on layer 0. palloc'd in the
// current memory context: about (2m * 4 + 24) bytes per element.
struct HnswReach {
  int64 n;
  int m;
  BlockNumber nblocks;     // index size when collected (lists on later pages are not read)
  ItemPointerData* tids;   // element TIDs, ascending
  ItemPointerData* ntids;  // their neighbour tuples
  uint8* levels;
  uint8* deleted;  // deleted flags (with_deleted only; nullptr otherwise)
  int32* adj;      // n x 2m layer-0 out-links (dense numbers, -1 = not a live element)
  int32* count;
  uint8* reached;
  int64* stack;
  int64 entry;  // dense number of the entry point, -1 when none
  int64 nreached;
};
// Reads every page (strategy may be nullptr) and fills r. The caller holds the update lock.
// Returns false (r holds only n, m and the element arrays) when the lists and the walk would
// need more than max_bytes (e.g. maintenance_work_mem), see HnswReachBytes. with_deleted: also
// take elements VACUUM marked deleted (scans traverse them) as nodes, flagged in r->deleted.
bool HnswReachCollect(Relation index, BufferAccessStrategy strategy, Size max_bytes, HnswReach* r,
                      bool with_deleted = false);
// Bytes HnswReachCollect needs for n elements of an index with parameter m.
inline Size HnswReachBytes(int64 n, int m) {
  return static_cast<Size>(n) *
         (sizeof(ItemPointerData) * 2 + 1 + sizeof(int32) * (2 * m + 1) + 1 + sizeof(int64));
}
// Dense number of element tid, or -1.
int64 HnswReachFind(const HnswReach* r, ItemPointer tid);
// Re-reads element i's layer-0 list from its page (after a link change).
void HnswReachReload(Relation index, BufferAccessStrategy strategy, HnswReach* r, int64 i);
// Marks what element i reaches; returns the count newly marked.
int64 HnswReachWalk(HnswReach* r, int64 i);
// The reachability pass of VACUUM (hnsw_vacuum.cpp): links every live element the entry point
// does not reach on layer 0; returns how many. The caller holds the update lock exclusively
// (or builds the index). Skipped, with a NOTICE when notice_when_skipped, when the lists of
// all elements do not fit maintenance_work_mem.
int64 HnswLinkUnreachable(Relation index, BufferAccessStrategy strategy, const HnswSupport* sup,
                          bool notice_when_skipped);

}  // namespace hnsw
}  // namespace ragstore

extern "C" {
IndexBuildResult* hnswbuild(Relation heap, Relation index, IndexInfo* index_info);
void hnswbuildempty(Relation index);
bool hnswinsert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo* index_info);
IndexBulkDeleteResult* hnswbulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                      IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* hnswvacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);
IndexScanDesc hnswbeginscan(Relation index, int nkeys, int norderbys);
void hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool hnswgettuple(IndexScanDesc scan, ScanDirection dir);
void hnswendscan(IndexScanDesc scan);
}
