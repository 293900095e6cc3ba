// ragstore ivfflat: the on-disk format, its locks and its WAL.
//
// An ivfflat index is an inverted file: `lists` centroids (trained by k-means at build time and
// never changed afterwards) and, for each centroid, a list of the rows closest to it. A scan
// picks the `ivfflat.probes` centroids closest to the query and computes exact distances to
// every row of their lists.
//
// Pages (all with the standard page header, so checksums and generic WAL work, and an
// IvfPageOpaque in the special space: next block in the chain, page type, page id):
//
//   block 0            meta page: IvfMetaData (magic, version, dimensions, lists, element
//                      kind, metric, where the list pages are; for a quantized index the
//                      quantizer, its code size and where its parameter pages are). Written
//                      once by the build.
//   blocks 1..P        quantized indexes only (version 2): parameter pages (kPageBlob), one
//                      byte string across consecutive pages (pg/blob_pages.h): the serialised
//                      quantizer (core/quantizer.h), then the centroids as lists * dims float4
//                      (too large for list tuples beyond 2,000 dimensions). Never change.
//   blocks 1..C        list (centroid) pages, chained: ordinary line-pointer items, one
//                      IvfListTuple per list in list order: the list's first data block, its
//                      insert block (a hint: the first page that had room) and the centroid in
//                      the element format of the index. Centroids never change after the
//                      build; the two block numbers change when a list grows or is vacuumed.
//   other blocks       data pages, one chain per list (IvfPageOpaque.next). No line pointers:
//                      the page holds n entries of a fixed size, in two arrays so that vectors
//                      are contiguous for the batched distance kernels:
//                        heap TIDs  (ItemPointerData, 6 bytes each) grow up from the header:
//                                   pd_lower = header + 6 n
//                        elements   (element_size bytes each) grow down from the special
//                                   space: pd_upper = special - element_size n;
//                                   entry i's element is at special - element_size (i + 1),
//                                   so the elements form one array, entry n-1 first.
//                      pd_lower..pd_upper is the free hole (skipped by full-page images and
//                      generic WAL deltas). Deleting entry i moves entry n-1 into slot i.
//   continuation pages wide elements only (kPageCont): an element that with its TID does not
//                      fit an empty data page (sq8 beyond 8,146 dimensions) keeps its first
//                      HeadElementSize bytes on the data page, which then holds one entry, and
//                      the rest (WideTailSize bytes) on the page right after it (block + 1),
//                      allocated with it and never in a chain: its contents area holds the rest
//                      of entry 0's element, pd_lower right after it (pg/blob_pages.h). An
//                      insert writes both pages in one record; a scan reads the rest under the
//                      data page's pin (VACUUM, which empties the data page, waits for that pin,
//                      and an insert writes the continuation only while the data page is empty).
//
// Element formats (IvfMetaData.kind, an ElementType): vector = dim float4; halfvec = dim IEEE
// binary16; bit = ceil(dim / 8) bytes. A quantized index (reloption quantizer, meta version 2)
// stores instead, for vector and halfvec alike, a CodeAux (reconstruction error and norm, two
// float4, for exact re-ranking) followed by the code (sq8: dim bytes; binary: ceil(dim / 8) bytes),
// and its list tuples hold no centroid (the centroids are on the parameter pages). Cosine indexes
// store L2-normalised elements (zero vectors are not indexed) and order by negative inner product;
// inner-product indexes store the element as is.
//
// Locks: the meta page and centroids are read-only after the build (and cached per backend in
// rd_amcache, keyed by relfilenode). A list tuple's block numbers are read under a share lock
// and changed under an exclusive lock on its list page. Data pages: a scan share-locks a page
// just long enough to read its entry count n and next link, then reads entries 0..n-1 under
// its pin alone (the next page is pinned and prefetched meanwhile): inserts only append beyond
// n (exclusive lock) and vacuum moves entries only under a cleanup lock, which waits until no
// other backend holds a pin. Appending a page to a chain happens with the old tail page exclusively
// locked (so a concurrent inserter following the chain waits and then sees the new page), under the
// relation extension lock for the new block. A first page of an empty list is added with its
// list page exclusively locked. Lock order is always data page before list page, except for a
// brand-new page nobody else can see yet.
//
// WAL: the build writes every page through shared buffers without WAL, then logs them all with
// log_newpage_range (full-page images) when the relation needs WAL; unlogged indexes get an
// init fork written the same way (always logged). After the build every change (insert, chain
// extension, list tuple update, vacuum compaction) is one generic WAL record
// (GenericXLogStart/Finish) covering all the pages it changes, so a standby and crash recovery
// replay exactly what the primary did.
#pragma once

#include "core/metric.h"

extern "C" {
#include "postgres.h"
#include "storage/block.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
}

namespace ragstore {
namespace ivf {

constexpr uint32 kIvfMagic = 0x49564631;    // "IVF1"
constexpr uint32 kIvfVersion = 1;           // unquantized (pgvector's layout)
constexpr uint32 kIvfVersionQuantized = 2;  // quantized: parameter pages, codes in the lists
constexpr BlockNumber kMetaBlock = 0;
constexpr uint16 kIvfPageId = 0xFF91;  // identifies our pages (pg_filedump, sanity checks)

enum IvfPageType : uint16 {
  kPageMeta = 1,
  kPageList = 2,
  kPageData = 3,
  kPageBlob = 4,
  kPageCont = 5
};

struct IvfPageOpaque {
  BlockNumber next;  // next page of the chain, InvalidBlockNumber at the tail
  uint16 type;       // IvfPageType
  uint16 page_id;    // kIvfPageId
};

struct IvfMetaData {
  uint32 magic;
  uint32 version;
  int32 dims;
  int32 lists;
  uint16 kind;    // ElementType (core/metric.h: its stored codes, checked when read)
  uint16 metric;  // Metric (core/metric.h)
  int32 element_size;
  BlockNumber first_list_block;
  // version 2 only (zero in version 1, whose meta page ends above):
  uint16 quantizer;  // QuantizerKind
  uint16 reserved;
  int32 code_size;         // bytes of one code (element_size = sizeof(CodeAux) + code_size)
  BlockNumber blob_block;  // first parameter page
  uint32 quantizer_bytes;  // serialised quantizer; the centroids follow it on the pages
};

// Bytes of the centroid stored in each list tuple: the element for version 1, none for 2.
inline int ListCenterSize(const IvfMetaData* meta) {
  return meta->version == kIvfVersionQuantized ? 0 : meta->element_size;
}

struct IvfListTuple {
  BlockNumber start_block;   // first data page, InvalidBlockNumber while the list is empty
  BlockNumber insert_block;  // hint: first page with free room
  char center[FLEXIBLE_ARRAY_MEMBER];
};

inline IvfPageOpaque* PageOpaque(Page page) {
  return reinterpret_cast<IvfPageOpaque*>(PageGetSpecialPointer(page));
}

inline Size ListTupleSize(int element_size) {
  return MAXALIGN(offsetof(IvfListTuple, center) + element_size);
}

// Data page geometry.
inline Size DataPageRoom() {
  return BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfPageOpaque));
}
inline Size DataPageCapacity(int element_size) {
  return DataPageRoom() / (sizeof(ItemPointerData) + element_size);
}
// Bytes of an element of element_size bytes kept on its data page: all of it, or for a wide
// element (one that with its TID does not fit an empty data page) as much as fits; the rest,
// WideTailSize bytes (0 when not wide), is on the continuation page after it.
inline int HeadElementSize(int element_size) {
  Size room = DataPageRoom() - sizeof(ItemPointerData);
  return static_cast<Size>(element_size) <= room ? element_size : static_cast<int>(room);
}
inline int WideTailSize(int element_size) { return element_size - HeadElementSize(element_size); }
inline int DataPageCount(Page page) {
  return static_cast<int>((((PageHeader)page)->pd_lower - MAXALIGN(SizeOfPageHeaderData)) /
                          sizeof(ItemPointerData));
}
inline ItemPointerData* DataPageTids(Page page) {
  return reinterpret_cast<ItemPointerData*>(page + MAXALIGN(SizeOfPageHeaderData));
}
// Element of entry i (0 <= i < n).
inline char* DataPageElement(Page page, int i, int element_size) {
  return page + ((PageHeader)page)->pd_special - static_cast<Size>(element_size) * (i + 1);
}

}  // namespace ivf
}  // namespace ragstore
