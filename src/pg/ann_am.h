// ragstore: what the two ANN access methods (hnsw, ivfflat) call by the same name. Each method
// keeps its own callbacks in the same file roles (handler/options/cost, build, insert, scan,
// vacuum, utils, page layout) and the same callback names (<Am>CostEstimate,
// <Am>OptionsParse, <Am>Validate, <Am>BuildPhaseName); the values both use are here.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/amapi.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "nodes/pathnodes.h"
}

namespace ragstore {
namespace pg {

// The modes of hnsw.iterative_scan and ivfflat.iterative_scan (the settings' enum values;
// ivfflat has no strict_order, as pgvector).
enum class IterativeScan { kOff = 0, kRelaxedOrder = 1, kStrictOrder = 2 };
inline IterativeScan IterativeScanSetting(int guc_value) {
  return static_cast<IterativeScan>(guc_value);
}

// Build progress (pg_stat_progress_create_index.phase): PostgreSQL's "initializing" is 1; each
// method numbers its own phases from kFirstBuildPhase on (hnsw.h, ivf.h).
constexpr int kPhaseInitialize = PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE;
constexpr int kFirstBuildPhase = kPhaseInitialize + 1;

// True when the planner asks the index for ORDER BY col <op> query: the only use of an ANN
// index (without it the index costs infinity, AnnCostEstimate). Reading the index's options
// for the cost is only worth it then.
inline bool AnnOrdersBy(const IndexPath* path) { return path->indexorderbys != NIL; }

// A new IndexAmRoutine with what both methods are: ordered by a distance operator only
// (amcanorderbyop), scanned with no WHERE key on the column (amoptionalkey), one key column, no
// unique, backward, bitmap or parallel scans, a parallel VACUUM only for bulk deletion (as
// pgvector). `nprocs` is the method's number of support functions. The caller sets the
// callbacks; makeNode zeroes every other field.
inline IndexAmRoutine* NewAnnAmRoutine(uint16 nprocs) {
  IndexAmRoutine* am = makeNode(IndexAmRoutine);
  am->amstrategies = 0;
  am->amsupport = nprocs;
  am->amoptsprocnum = 0;
  am->amcanorderbyop = true;
  am->amoptionalkey = true;
  am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
  am->amkeytype = InvalidOid;
  return am;
}

}  // namespace pg
}  // namespace ragstore
