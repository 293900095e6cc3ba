// ragstore: the cost model shared by the ANN access methods (see ann_cost.h).
#include "pg/ann_cost.h"

#include "pg/ann_am.h"

#include <algorithm>

extern "C" {
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
}

namespace ragstore {
namespace pg {

void AnnCostEstimate(PlannerInfo* root, IndexPath* path, double loop_count, AnnScanShape shape,
                     Cost* startup_cost, Cost* total_cost, Selectivity* selectivity,
                     double* correlation, double* pages) {
  if (!AnnOrdersBy(path)) {
    *startup_cost = get_float8_infinity();
    *total_cost = get_float8_infinity();
    *selectivity = 0;
    *correlation = 0;
    *pages = 0;
    return;
  }
  IndexOptInfo* info = path->indexinfo;
  GenericCosts costs;
  MemSet(&costs, 0, sizeof(costs));
  // numIndexTuples 0: genericcostestimate takes every tuple (there are no index quals).
  genericcostestimate(root, path, loop_count, &costs);

  double random_page_cost = 0, seq_page_cost = 0;
  get_tablespace_page_costs(info->reltablespace, &random_page_cost, &seq_page_cost);
  const double fraction = std::clamp(shape.startup_fraction, 0.0, 1.0);
  const double sequential = std::clamp(shape.sequential_pages, 0.0, 1.0);
  // genericcostestimate charged numIndexPages at the random rate.
  const double page_discount = std::max(0.0, random_page_cost - seq_page_cost);
  Cost total = costs.indexTotalCost - sequential * costs.numIndexPages * page_discount;

  Cost startup = total * fraction;
  const double startup_pages = costs.numIndexPages * fraction;
  const double heap_pages = info->rel->pages;
  if (fraction < 0.5 && startup_pages > heap_pages) {
    // The vectors are TOASTed (see the header): the search's page reads, as many as the heap's
    // at the sequential rate, plus its CPU.
    const double page_cost_in_startup =
        startup_pages * (random_page_cost - sequential * page_discount);
    startup = startup - page_cost_in_startup + heap_pages * seq_page_cost;
  }
  *startup_cost = std::max<Cost>(startup, costs.indexStartupCost);
  *total_cost = std::max<Cost>(total, *startup_cost);
  *selectivity = costs.indexSelectivity;
  *correlation = costs.indexCorrelation;
  *pages = costs.numIndexPages;
}

}  // namespace pg
}  // namespace ragstore
