// ragstore: the thread count of index builds from PostgreSQL's parallel settings (see
// build_threads.h).
#include "pg/build_threads.h"

#include <algorithm>

#include "pg/faiss_support.h"

extern "C" {
#include "miscadmin.h"
#include "optimizer/optimizer.h"
}

namespace ragstore {
namespace pg {
namespace {

// The parallel workers pgvector would ask for (before the launch limits).
int PlannedWorkers(Relation heap, Relation index, BuildKind kind) {
  int planned = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
  if (kind == BuildKind::kIvfflat || planned == 0) return planned;
  int table_workers = RelationGetParallelWorkers(heap, -1);
  if (table_workers != -1) return std::min(table_workers, max_parallel_maintenance_workers);
  return max_parallel_maintenance_workers;
}

}  // namespace

int BuildThreads(Relation heap, Relation index, BuildKind kind) {
  if (heap == nullptr) return 1;
  int workers = std::min(PlannedWorkers(heap, index, kind), max_parallel_workers);
  int threads = std::max(1, std::min(workers + 1, MaxThreads()));
  if (threads > 1) ereport(DEBUG1, (errmsg("using %d parallel workers", threads - 1)));
  return threads;
}

}  // namespace pg
}  // namespace ragstore
