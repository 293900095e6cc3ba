// ragstore: exact re-ranking of a quantized index's candidates through PostgreSQL's ORDER BY
// recheck, shared by the hnsw and ivfflat scans.
//
// Where the full-precision vector comes from: the table row. An index scan that sets
// xs_recheckorderby hands the executor (nodeIndexscan.c, IndexNextWithReorder) a value that
// must be a lower bound of the exact ORDER BY distance; the executor fetches the row, evaluates
// the ORDER BY expression on it (the exact distance, the same code as a sequential scan), keeps
// the rows in a queue ordered by that exact distance, and returns the queue's first row once no
// row still to come from the index can be closer (its bound is not smaller). The index keeps no
// full vectors (no extra pages), a replica re-ranks from its own copy of the table, and a value
// above the exact distance is caught by the executor ("index returned tuples in wrong order",
// XX000), never silently misordered.
//
// Modes, per returned row:
//   kBound    the value is a proven lower bound (core/quantizer.h ExactDistanceLowerBound) and
//             rows come in nondecreasing bound order: every row comes back in exact order
//             (sq8, where the reconstruction error is small, so few extra rows are fetched).
//   kRescore  the value is -infinity (a bound of anything): the executor re-scores the row and
//             holds it until the first kTail row; the rows returned as kRescore come back first,
//             in exact order among themselves (binary codes, whose bound is too loose: the scan
//             returns its best rerank_candidates rows by code distance this way).
//   kTail     the value is +infinity and is not rechecked: the row follows the re-scored ones,
//             in the scan's own (code distance) order.
//   kOff      no recheck, no value: the scan's own order (re-ranking turned off, or a NULL query).
#pragma once

extern "C" {
#include "postgres.h"
#include "access/genam.h"
#include "access/relscan.h"
}

namespace ragstore {
namespace pg {

enum class RerankMode { kOff, kBound, kRescore, kTail };

// Allocates the scan's xs_orderbyvals/xs_orderbynulls (one per ORDER BY key) in the current
// memory context; call from ambeginscan.
void InitOrderByValues(IndexScanDesc scan);

// Sets the scan's result: heap TID, no qual recheck, and the ORDER BY value and recheck flag of
// `mode` (bound is used by kBound only). The ORDER BY value is float8, the distance operators'
// result type.
void SetRerankedResult(IndexScanDesc scan, ItemPointer tid, RerankMode mode, double bound);

}  // namespace pg
}  // namespace ragstore
