// ragstore: how many threads an hnsw or ivfflat CREATE INDEX uses.
//
// pgvector builds in parallel with PostgreSQL parallel worker processes, so its users size
// builds with PostgreSQL's settings (max_parallel_maintenance_workers, the table's
// parallel_workers, min_parallel_table_scan_size, maintenance_work_mem). Our builds run their
// heavy part (the hnsw graph, ivfflat's k-means and list assignment) on OpenMP threads inside
// the backend, over memory the backend owns, so they take no worker process: each parallel
// worker PostgreSQL would grant becomes one more thread beside the leader's (leader + N
// workers = N + 1 threads). The count of workers is pgvector's:
//   hnsw:    0 when plan_create_index_workers() says 0 (parallelism off, table smaller than
//            min_parallel_table_scan_size, less than 32 MB of maintenance_work_mem per
//            participant, temporary table, parallel-unsafe index expression); else the
//            table's parallel_workers when set, capped by max_parallel_maintenance_workers;
//            else max_parallel_maintenance_workers.
//   ivfflat: plan_create_index_workers() itself (its count grows with the table's size).
// then capped by max_parallel_workers (the server's limit on parallel workers, which would
// bound the processes pgvector launches) and by ragstore.max_threads (default: the CPUs).
// When the result is at least one worker, DEBUG1 says `using N parallel workers`, pgvector's
// message.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/rel.h"
}

namespace ragstore {
namespace pg {

enum class BuildKind { kHnsw, kIvfflat };

// Threads (>= 1) for building `index` over `heap` (nullptr: an init fork, 1 thread), as above;
// logs `using N parallel workers` at DEBUG1 when more than one. Raises nothing of its own.
int BuildThreads(Relation heap, Relation index, BuildKind kind);

}  // namespace pg
}  // namespace ragstore
