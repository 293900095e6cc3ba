// ragstore hnsw: the on-disk format of an hnsw index, its locks and its WAL.
//
// Pages
//   Block 0 is the meta page: HnswMetaPageData after the page header (magic, version,
//   dimensions, m, ef_construction, the entry point (element TID and level), and a hint for the
//   last page that had room). Every other block is a data page holding element tuples and
//   neighbour tuples; its special space is HnswPageOpaqueData (page id, so pg_filedump and
//   amcheck-like tools can recognise it).
//
// Quantized indexes (WITH (quantizer = 'sq8' | 'binary'), core/quantizer.h)
//   The trained quantizer (SerializeQuantizer's bytes) lies on consecutive parameter pages
//   (flags kHnswParamPage, pg/blob_pages.h) right after the meta page, which names the first and
//   the byte count. They are written once by the build (trained on the rows it collected; on
//   none, the quantizer's defaults) before any element, and never change. An element's payload
//   is then a code instead of the value: an uncompressed varlena holding CodeAux (the
//   reconstruction error and the norm of the value, for the exact lower bound of re-ranking),
//   then the code (sq8: a byte per dimension; binary: a bit). Searches compute distances from
//   the float query to the codes; the scan hands the executor a proven lower bound of the exact
//   distance (ORDER BY recheck, pg/rerank.h), which re-ranks from the table's vectors.
//   Wide codes: when an element tuple with the whole code would not fit an empty page (sq8
//   beyond 8,068 dimensions; every index of up to 8,000 dimensions keeps the layout
//   above), the element's payload holds CodeAux, the TID of a code tuple (HnswWidePayload),
//   then the code's first HnswSupport.code_head bytes (as many as fill the page); the code tuple
//   (HnswCodeTupleData: its owner element's TID, then the rest of the code) lies on another page.
//   Both are written in one generic WAL record (or by the build) and never change; VACUUM
//   removes the code tuple with the element's neighbour tuple. Readers assemble the whole code
//   into a scratch buffer (HnswReadPayload): they read the code tuple while they still hold the
//   element's page lock (see Locks), so they never see one without the other.
//
// Tuples (plain bytes in line pointers; TIDs are (block, offset) inside the index)
//   Element tuple  (HnswElementTupleData): type = kHnswElementTuple, the element's level, a
//     deleted flag, the heap TIDs of up to kHnswHeapTids (10) rows that hold this same value
//     (valid ones first, unused slots invalid; as pgvector), the TID of its neighbour tuple,
//     then the payload at a MAXALIGN'd offset: the indexed value as an uncompressed varlena
//     (for cosine the value is stored normalised). The heap TIDs and the payload are separate
//     parts (HnswElementHeapTids / HnswElementPayload): what the payload holds does not change
//     the rest. Elements have a fixed size per index (dimensions are fixed), so distance
//     kernels read the value directly in the shared buffer.
//   Duplicates: rows whose prepared values are byte for byte equal share one element, up to
//     kHnswHeapTids of them; more such rows make further elements, linked like any other. A
//     build groups them before the graph is built (core/duplicates.h); an insert adds its heap
//     TID to an element of equal value that its layer-0 search found and that has room
//     (hnsw_insert.cpp; in a quantized index, an element with an equal payload whose first
//     heap TID's table row holds the value). VACUUM removes dead heap TIDs from an element and
//     marks it deleted only when none is left. So a search that reaches an element returns all its
//     rows.
//   Neighbour tuple (HnswNeighborTupleData): type = kHnswNeighborTuple, count = (level + 2) * m
//     slots of ItemPointerData: slots [0, 2m) are layer 0, then m slots per upper layer
//     (layer l >= 1 at 2m + (l - 1) m). Unused slots hold an invalid TID. Neighbour lists are
//     updated in place (the tuple never changes size). It lives on the element's page when both
//     fit, otherwise on the next page.
//   Neighbour counts follow HNSW (Malkov & Yashunin 2016) as pgvector and FAISS use them: 2m on
//   layer 0, m above; levels are drawn with mL = 1 / ln(m).
//
// Reachability invariant
//   Every live element is reachable on layer 0 from the entry point (so a search, and the
//   enumeration of an iterative scan, can return every row). Inserts keep it: a list change
//   that drops a link first moves the dropped target into the new element's list unless
//   another neighbour the new element links to keeps it (HnswAddLink, HnswLinkFromNeighbors,
//   hnsw_insert.cpp; an insert that relied on a keeper checks it again after its write and links
//   the target itself when a concurrent insert dropped it there), the new element always gets
//   an in-link, and a new entry point links to the old one. VACUUM's repairs keep every live
//   link and its reachability pass links what was reachable only through deleted elements
//   before they are removed; a build runs the same pass after writing its graph
//   (hnsw_vacuum.cpp). An iterative scan keeps the
//   entry point queued, so its enumeration covers all of it even when its descent ends in a group
//   with no way out. ragstore.debug_hnsw_graph(index) counts the elements that break it.
//
// Order
//   An in-memory build writes the elements in a locality order of the layer-0 graph
//   (core/graph_order.h: a Gorder-like window order from the entry point, breadth-first when
//   its working memory does not fit maintenance_work_mem), not in heap order, so an element's
//   neighbours mostly sit on the same or recently read pages; each element is followed by its
//   neighbour tuple. Nothing depends on this order (inserts append where there is room): it
//   only reduces the buffer reads of a search (bench/README.md, "hnsw scan").
//
// Locks
//   Buffer content locks protect tuples: readers (scans, neighbour searches) take a share lock
//   on one page at a time and copy what they need. A search keeps up to kHnswBufferCache (16)
//   buffers pinned, unlocked, between reads (hnsw.h, HnswSearch); scans drop all pins before
//   returning rows, inserts and VACUUM at the end of each search (HnswSearchEnd). Before taking
//   the share lock, a search reads line pointers of pinned pages as prefetch hints only (the
//   address is prefetched; data is read after locking). No code takes a cleanup lock, so pins
//   never block writers. Writers take the exclusive lock of one page at a time (an insert holds
//   at most the page receiving its tuples, plus a freshly extended page when the neighbour
//   tuple does not fit; a back link locks the neighbour's page, and the new element's page to
//   move a dropped link there, one after the other). A wide element's writer (an insert) takes
//   its element page as its one waited-for lock, then only freshly extended pages or pages it
//   gets with ConditionalLockBuffer (code tuple, neighbour tuple). Readers of a wide element
//   take the share lock of its code tuple's page while holding the element page's (the only
//   place a reader holds two locks); since no writer waits for a lock while holding one, there
//   is no deadlock.
//   Inserts of equal values take turns: an insert holds the heavyweight page lock on "page"
//   kHnswValueLockFirst + (hash of its value mod kHnswValueLocks) exclusively for its duration
//   (taken before the update lock), so the second of two equal rows inserted at once finds the
//   first one's element instead of making a second one. The heap TID is added to an element
//   under its page's exclusive buffer lock, after checking it is live, equal and has room.
//   A heavyweight page lock on "page" kHnswUpdateLock (LockPage) orders structure changes:
//   inserts hold it in share mode for their duration (exclusive when they raise the entry
//   point); VACUUM holds it exclusively while it marks, repairs and removes elements, so an
//   insert never links to an element that VACUUM is removing; the reachability pass and
//   ragstore.debug_hnsw_graph also hold it exclusively. Scans take no heavyweight lock:
//   they tolerate line pointers that became unused or were reused (they check the tuple type),
//   and MVCC makes a reused heap TID invisible to them.
//
// WAL
//   A build writes every page through shared buffers and then logs them all with
//   log_newpage_range (full-page images) before the index becomes visible. Inserts, neighbour
//   updates, meta page updates and VACUUM changes use generic WAL (GenericXLogStart/Finish),
//   one record per page change (at most two pages for an element whose neighbour tuple spills
//   to a new page). A back link that replaces a full list's member is two records: first the
//   replaced member goes into the new element's list, then the neighbour's slot changes, so a
//   crash in between leaves an extra link, never a missing one. Unlogged indexes write their init
//   fork in ambuildempty (meta page only, logged with log_newpage).
#pragma once

#include "core/quantizer.h"

extern "C" {
#include "postgres.h"
#include "storage/block.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
}

namespace ragstore {
namespace hnsw {

constexpr uint32 kHnswMagic = 0x484e5357;  // "HNSW"
// Version 2: up to kHnswHeapTids heap TIDs per element. An index of version 1 is refused with
// an error asking for REINDEX (HnswReadMeta).
constexpr uint32 kHnswVersion = 2;
constexpr BlockNumber kHnswMetaBlock = 0;
constexpr BlockNumber kHnswUpdateLock = 0;  // heavyweight LockPage "page number"
// Heavyweight LockPage "page numbers" that make inserts of equal values take turns (see Locks):
// far beyond any real block of an index (they only name locks).
constexpr BlockNumber kHnswValueLockFirst = 0xFFF00000u;
constexpr uint32 kHnswValueLocks = 1u << 16;
// Heap rows of equal value kept in one element (pgvector's HNSW_HEAPTIDS).
constexpr int kHnswHeapTids = 10;
constexpr uint16 kHnswPageId = 0xFF90;

// HnswPageOpaqueData.flags of a parameter page (pg/blob_pages.h: no line pointers; readers
// that walk every page skip it).
constexpr uint16 kHnswParamPage = 1;

constexpr uint8 kHnswElementTuple = 1;
constexpr uint8 kHnswNeighborTuple = 2;
constexpr uint8 kHnswCodeTuple = 3;  // the rest of a wide element's code (see "Wide codes")

struct HnswMetaPageData {
  uint32 magic;
  uint32 version;
  uint32 dimensions;
  uint16 m;
  uint16 ef_construction;
  BlockNumber entry_blkno;  // InvalidBlockNumber when the index is empty
  OffsetNumber entry_offno;
  int16 entry_level;        // -1 when empty
  BlockNumber insert_page;  // last data page that had room (a hint)
  // Quantized indexes (reloption quantizer; all zero for an unquantized index, the default):
  uint8 quantizer;  // QuantizerKind (core/quantizer.h), 0 = none
  uint8 unused_q[3];
  uint32 quantizer_bytes;   // bytes of the serialised quantizer (SerializeQuantizer)
  BlockNumber param_first;  // its first parameter page (consecutive pages, pg/blob_pages.h)
};

struct HnswPageOpaqueData {
  BlockNumber unused;
  uint16 flags;
  uint16 page_id;  // kHnswPageId
};

struct HnswElementTupleData {
  uint8 type;  // kHnswElementTuple
  uint8 level;
  uint8 deleted;  // 1 once VACUUM found all its heap rows dead; never returned, still traversed
  uint8 unused;
  // Heap TIDs of the rows holding this value: valid ones first, then invalid (all invalid once
  // deleted). Read and written through the accessors below.
  ItemPointerData heaptids[kHnswHeapTids];
  ItemPointerData neighbortid;
  uint16 unused2;
  char data[FLEXIBLE_ARRAY_MEMBER];  // the payload (HnswElementPayload)
};
static_assert(offsetof(HnswElementTupleData, heaptids) == 4, "heap TIDs at byte 4");
static_assert(offsetof(HnswElementTupleData, data) == 72, "payload at a MAXALIGN'd offset");

// ---- element accessors: the heap-TID part
// Number of heap TIDs of element e (its valid prefix, 0 when deleted).
inline int HnswElementHeapTidCount(const HnswElementTupleData* e) {
  int n = 0;
  while (n < kHnswHeapTids && ItemPointerIsValid(&e->heaptids[n])) n++;
  return n;
}
inline ItemPointerData* HnswElementHeapTids(HnswElementTupleData* e) { return e->heaptids; }
// Sets the heap TIDs of e to tids[0..n) (n <= kHnswHeapTids), the other slots invalid.
inline void HnswElementSetHeapTids(HnswElementTupleData* e, const ItemPointerData* tids, int n) {
  for (int i = 0; i < kHnswHeapTids; i++) {
    if (i < n)
      e->heaptids[i] = tids[i];
    else
      ItemPointerSetInvalid(&e->heaptids[i]);
  }
}
// ---- element accessors: the payload (the stored value)
inline char* HnswElementPayload(HnswElementTupleData* e) { return e->data; }
inline const char* HnswElementPayload(const HnswElementTupleData* e) { return e->data; }

struct HnswNeighborTupleData {
  uint8 type;  // kHnswNeighborTuple
  uint8 unused;
  uint16 count;  // (level + 2) * m
  ItemPointerData tids[FLEXIBLE_ARRAY_MEMBER];
};

// The start of a wide element's payload (after the varlena header): CodeAux as in every
// quantized payload, the code tuple's TID, then code_head bytes of the code.
struct HnswWidePayload {
  CodeAux aux;
  ItemPointerData code_tid;
  uint16 unused;
};
static_assert(sizeof(HnswWidePayload) == 16, "wide payload head of 16 bytes");

// The rest of a wide element's code: nbytes bytes after the header, for element `owner`.
struct HnswCodeTupleData {
  uint8 type;  // kHnswCodeTuple
  uint8 unused;
  uint16 nbytes;
  ItemPointerData owner;
  uint16 unused2;
  char data[FLEXIBLE_ARRAY_MEMBER];
};
static_assert(offsetof(HnswCodeTupleData, data) == 12, "code bytes at byte 12");
inline Size HnswCodeTupleSize(Size nbytes) {
  return MAXALIGN(offsetof(HnswCodeTupleData, data) + nbytes);
}

// Bytes of an element tuple whose payload has payload_size bytes.
inline Size HnswElementTupleSize(Size payload_size) {
  return MAXALIGN(offsetof(HnswElementTupleData, data) + payload_size);
}
inline Size HnswNeighborTupleSize(int level, int m) {
  return MAXALIGN(offsetof(HnswNeighborTupleData, tids) +
                  sizeof(ItemPointerData) * (level + 2) * m);
}
// Number of neighbour slots of layer lc, and where they start.
inline int HnswLayerSlots(int lc, int m) { return lc == 0 ? 2 * m : m; }
inline int HnswLayerStart(int lc, int m) { return lc == 0 ? 0 : 2 * m + (lc - 1) * m; }

inline HnswMetaPageData* HnswPageGetMeta(Page page) {
  return reinterpret_cast<HnswMetaPageData*>(PageGetContents(page));
}
inline HnswPageOpaqueData* HnswPageGetOpaque(Page page) {
  return reinterpret_cast<HnswPageOpaqueData*>(PageGetSpecialPointer(page));
}

// True when a data page's header and special space look like ours (bounds a reader must trust
// before it walks line pointers): a page that fails this is skipped by readers that must not
// fail on a damaged index (the reachability pass, ragstore.verify_index).
inline bool HnswPageIsSane(Page page) {
  PageHeader h = reinterpret_cast<PageHeader>(page);
  return !PageIsNew(page) && h->pd_lower >= SizeOfPageHeaderData && h->pd_lower <= h->pd_upper &&
         h->pd_upper <= h->pd_special &&
         h->pd_special == BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData)) &&
         HnswPageGetOpaque(page)->page_id == kHnswPageId;
}
// True when line pointer iid of a sane page is a normal item of at least min_len bytes that
// lies within the page's tuple space.
inline bool HnswItemIsSane(Page page, ItemId iid, Size min_len) {
  PageHeader h = reinterpret_cast<PageHeader>(page);
  return ItemIdIsNormal(iid) && ItemIdGetLength(iid) >= min_len &&
         ItemIdGetOffset(iid) >= h->pd_upper &&
         ItemIdGetOffset(iid) + ItemIdGetLength(iid) <= h->pd_special;
}

// True for a parameter page of a quantized index (holds bytes, no tuples).
inline bool HnswIsParamPage(Page page) {
  return !PageIsNew(page) && (HnswPageGetOpaque(page)->flags & kHnswParamPage) != 0;
}

// Free bytes for tuples on an empty data page.
inline Size HnswEmptyPageSpace() {
  return BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData));
}

}  // namespace hnsw
}  // namespace ragstore
