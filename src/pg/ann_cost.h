// ragstore: the cost model shared by the approximate-nearest-neighbour access methods (hnsw,
// ivfflat). Each method's amcostestimate says which fraction of the index one search reads and
// how its pages are read; this file turns that into PostgreSQL's startup and total costs.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/pathnodes.h"
}

namespace ragstore {
namespace pg {

// How an access method describes one search to AnnCostEstimate.
struct AnnScanShape {
  // Fraction of the index (tuples and pages) read before the first row is returned, 0..1:
  // hnsw, the elements a graph search visits / all elements; ivfflat, probes / lists.
  double startup_fraction;
  // Fraction of the index's page reads that are sequential (a list's chain of pages) rather
  // than random (graph neighbours), 0..1.
  double sequential_pages;
};

// amcostestimate body for an index that answers ORDER BY col <op> query [LIMIT n]:
//   - without an ORDER BY on the index's operator the index is never used (infinite cost);
//   - the total cost is PostgreSQL's generic cost of reading every index tuple and page (the
//     index returns every row if asked for all of them), with shape.sequential_pages of the
//     page reads charged at seq_page_cost;
//   - the startup cost is shape.startup_fraction of that: the search itself, done before the
//     first row comes back. With LIMIT n the planner charges startup plus n / (estimated rows)
//     of the rest, so a WHERE filter that keeps few rows (estimated rows close to n) makes the
//     index cost close to reading all of it, and a sequential scan wins, as with pgvector;
//   - vectors over about 2 kB live in the table's TOAST relation, which the planner's cost of a
//     sequential scan does not include (it reads the heap's pages only), while the index holds
//     the vectors in its own pages. When a search reads more index pages than the heap has,
//     those are charged as the heap's page count read sequentially: the comparison then is
//     between two scans that read the same vectors.
// Errors: none of its own (genericcostestimate's).
void AnnCostEstimate(PlannerInfo* root, IndexPath* path, double loop_count, AnnScanShape shape,
                     Cost* startup_cost, Cost* total_cost, Selectivity* selectivity,
                     double* correlation, double* pages);

}  // namespace pg
}  // namespace ragstore
