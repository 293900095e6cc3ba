// ragstore: the index verifier's shared part (ragstore.verify_index, src/sql/75_verify.sql).
//
// In the spirit of PostgreSQL's amcheck: each access method checks its own pages (hnsw:
// hnsw/hnsw_verify.cpp, ivfflat: ivf/ivf_verify.cpp) and reports every problem it finds as a
// row; nothing is raised for a corrupt index. What is shared lives here: the result rows, the
// multiset of heap TIDs the index holds (duplicates, TIDs beyond the table) and the
// heapallindexed pass, which checks that every heap row visible to the verifier's snapshot with
// an indexed value has an index entry (table_index_build_scan with that snapshot, as amcheck's
// bt_index_check(heapallindexed), with an exact sorted set of TIDs instead of a Bloom filter).
#pragma once

extern "C" {
#include "postgres.h"
#include "access/tupdesc.h"
#include "storage/block.h"
#include "storage/itemptr.h"
#include "storage/off.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"
#include "utils/tuplestore.h"
}

namespace ragstore {
namespace verify {

// Where the rows of verify_index go.
struct Report {
  Tuplestorestate* store;
  TupleDesc desc;
  int64 problems;
};

// One row: the index location (InvalidBlockNumber / InvalidOffsetNumber give NULL), the heap
// TID concerned (nullptr: NULL), a short problem kind (a stable phrase: tests and users filter
// on it) and a printf-style detail.
void AddProblem(Report* rep, BlockNumber block, OffsetNumber item, ItemPointer heap_tid,
                const char* kind, const char* fmt, ...) pg_attribute_printf(6, 7);

// The heap TIDs of the live index entries: 8 bytes each, palloc'd in the current memory
// context. Once more than `budget` bytes would be needed the set stops growing (overflow) and
// the checks that need it are skipped with a NOTICE.
struct HeapTids {
  uint64* keys;
  int64 n;
  int64 cap;
  Size budget;
  bool overflow;
};
void HeapTidsInit(HeapTids* set, Size budget);
void HeapTidsAdd(HeapTids* set, ItemPointer tid);

// Which non-NULL values an index holds (e.g. cosine indexes skip zero vectors). Called in a
// short-lived memory context that is reset after each call.
using IndexedValueFn = bool (*)(void* arg, Datum value);

// Sorts the set, reports heap TIDs of visible rows held by more than one index entry and TIDs
// beyond the end of the table; with heapallindexed, scans the table with `snapshot` and reports
// every visible row with an indexed value that has no entry. The caller holds AccessShareLock on
// both relations.
void CheckHeapTids(Relation heap, Relation index, Snapshot snapshot, HeapTids* set,
                   bool heapallindexed, IndexedValueFn indexed, void* arg, Report* rep);

// True when some version of the heap row at tid (the root of a HOT chain) is visible to
// snapshot; false also when tid lies beyond the table.
bool HeapRowVisible(Relation heap, ItemPointer tid, Snapshot snapshot);

// The budget of the verifier's per-element arrays: maintenance_work_mem.
Size VerifyBudget();

}  // namespace verify
}  // namespace ragstore

namespace ragstore {
namespace hnsw {
// Checks an hnsw index (hnsw_verify.cpp); the caller holds AccessShareLock on heap and index.
void HnswVerify(Relation heap, Relation index, Snapshot snapshot, bool heapallindexed,
                verify::Report* rep);
}  // namespace hnsw
namespace ivf {
// Checks an ivfflat index (ivf_verify.cpp); the caller holds AccessShareLock on heap and index.
void IvfVerify(Relation heap, Relation index, Snapshot snapshot, bool heapallindexed,
               verify::Report* rep);
}  // namespace ivf
}  // namespace ragstore
