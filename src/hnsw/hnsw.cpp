// ragstore hnsw: the access method handler, reloptions (m, ef_construction), settings
// (hnsw.ef_search, hnsw.iterative_scan, hnsw.max_scan_tuples, hnsw.scan_mem_multiplier),
// and the cost estimate.
#include "hnsw/hnsw.h"

#include <cfloat>
#include <climits>
#include <cmath>

#include "pg/module.h"

extern "C" {
#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/optimizer.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
}

namespace ragstore {
namespace hnsw {

int g_ef_search = 40;
int g_iterative_scan = static_cast<int>(IterativeScan::kOff);
int g_max_scan_tuples = 20000;
double g_scan_mem_multiplier = 1.0;

namespace {

relopt_kind g_relopt_kind;

const struct config_enum_entry kIterativeScanOptions[] = {
    {"off", static_cast<int>(IterativeScan::kOff), false},
    {"relaxed_order", static_cast<int>(IterativeScan::kRelaxedOrder), false},
    {"strict_order", static_cast<int>(IterativeScan::kStrictOrder), false},
    {nullptr, 0, false}};

}  // namespace

RAGSTORE_MODULE_INIT(hnsw) {
  g_relopt_kind = add_reloption_kind();
  add_int_reloption(g_relopt_kind, "m", "Max number of connections", kDefaultM, kMinM, kMaxM,
                    AccessExclusiveLock);
  add_int_reloption(g_relopt_kind, "ef_construction", "Size of the dynamic candidate list for construction",
                    kDefaultEfConstruction, kMinEfConstruction, kMaxEfConstruction,
                    AccessExclusiveLock);

  DefineCustomIntVariable("hnsw.ef_search", "Sets the size of the dynamic candidate list for search",
                          "Valid range is 1..1000.", &g_ef_search, 40, 1, 1000, PGC_USERSET, 0,
                          nullptr, nullptr, nullptr);
  DefineCustomEnumVariable("hnsw.iterative_scan", "Sets the mode for iterative scans", nullptr,
                           &g_iterative_scan, static_cast<int>(IterativeScan::kOff),
                           kIterativeScanOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("hnsw.max_scan_tuples", "Sets the max number of tuples to visit for iterative scans",
                          nullptr, &g_max_scan_tuples, 20000, 1, INT_MAX, PGC_USERSET, 0, nullptr,
                          nullptr, nullptr);
  DefineCustomRealVariable("hnsw.scan_mem_multiplier",
                           "Sets the multiple of work_mem to use for iterative scans", nullptr,
                           &g_scan_mem_multiplier, 1, 1, 1000, PGC_USERSET, 0, nullptr, nullptr,
                           nullptr);
  MarkGUCPrefixReserved("hnsw");
}

int HnswGetM(Relation index) {
  auto* opts = reinterpret_cast<HnswOptions*>(index->rd_options);
  return opts ? opts->m : kDefaultM;
}

int HnswGetEfConstruction(Relation index) {
  auto* opts = reinterpret_cast<HnswOptions*>(index->rd_options);
  return opts ? opts->ef_construction : kDefaultEfConstruction;
}

void HnswInitSupport(Relation index, HnswSupport* sup) {
  sup->dist_proc = index_getprocinfo(index, 1, 1);
  sup->norm_proc = OidIsValid(index_getprocid(index, 1, 2)) ? index_getprocinfo(index, 1, 2) : nullptr;
  sup->collation = index->rd_indcollation[0];
  FmgrInfo* type_proc = index_getprocinfo(index, 1, 3);
  sup->type = reinterpret_cast<const HnswTypeInfo*>(
      DatumGetPointer(FunctionCall1(type_proc, PointerGetDatum(nullptr))));
  sup->kernel = nullptr;
  sup->metric = HnswMetric::kNone;
  sup->type->kernel_for(sup->dist_proc->fn_addr, &sup->kernel, &sup->metric);
}

// ---------------------------------------------------------------- cost estimate

namespace {

// Cost model: a search visits about ef_search * m * (layers) elements, reading a page for each
// (random), whatever the table size (HNSW search is logarithmic). With a WHERE filter of
// selectivity s the scan must produce about LIMIT / s candidates to return LIMIT rows, i.e.
// (LIMIT / s) / ef_search searches' worth of work: very selective filters make the index
// expensive, so the planner prefers a plan that applies the filter first.
void HnswCostEstimate(PlannerInfo* root, IndexPath* path, double loop_count,
                      Cost* startup_cost, Cost* total_cost, Selectivity* selectivity,
                      double* correlation, double* pages) {
  GenericCosts costs;
  if (path->indexorderbys == NIL) {
    // Never use the index without an ORDER BY on its operator.
    *startup_cost = DBL_MAX;
    *total_cost = DBL_MAX;
    *selectivity = 0;
    *correlation = 0;
    *pages = 0;
    return;
  }
  memset(&costs, 0, sizeof(costs));
  IndexOptInfo* info = path->indexinfo;
  double tuples = info->tuples > 1 ? info->tuples : 1;
  int m = kDefaultM;
  {
    Relation index = index_open(info->indexoid, NoLock);
    m = HnswGetM(index);
    index_close(index, NoLock);
  }
  // Distance computations of one search, as pgvector estimates them: (entry level + 2) * m,
  // scaled by ef_search beyond its default (an underestimate, as for pgvector: the planner
  // must prefer the index for ORDER BY ... LIMIT over sorting the table).
  double levels = std::log(tuples) / std::log(static_cast<double>(m));
  double visited = (levels + 2) * m * (g_ef_search > 40 ? g_ef_search / 40.0 : 1.0);
  // Filters: how many candidates are needed to produce the wanted rows.
  double sel = 1.0;
  RelOptInfo* rel = path->path.parent;
  if (rel != nullptr && rel->baserestrictinfo != NIL)
    sel = clauselist_selectivity(root, rel->baserestrictinfo, rel->relid, JOIN_INNER, nullptr);
  if (sel < 1e-9) sel = 1e-9;
  double wanted = root->limit_tuples > 0 ? root->limit_tuples : g_ef_search;
  double needed = wanted / sel;
  if (needed > tuples) needed = tuples;
  double rounds = needed / g_ef_search;
  if (rounds < 1) rounds = 1;
  visited *= rounds;
  if (visited > tuples * 2) visited = tuples * 2;
  costs.numIndexTuples = visited;
  genericcostestimate(root, path, loop_count, &costs);
  double random_page_cost = 0, seq_page_cost = 0;
  get_tablespace_page_costs(info->reltablespace, &random_page_cost, &seq_page_cost);
  double page_fraction = visited / tuples;
  if (page_fraction > 1) page_fraction = 1;
  double index_pages = info->pages * page_fraction;
  // All the work happens before the first tuple is returned.
  Cost cost = costs.indexTotalCost + index_pages * random_page_cost * 0.1;
  *startup_cost = cost;
  *total_cost = cost;
  *selectivity = costs.indexSelectivity;
  *correlation = 0;
  *pages = index_pages;
}

bytea* HnswOptionsParse(Datum reloptions, bool validate) {
  static const relopt_parse_elt tab[] = {
      {"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
      {"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, ef_construction)},
  };
  return static_cast<bytea*>(build_reloptions(reloptions, validate, g_relopt_kind,
                                              sizeof(HnswOptions), tab, lengthof(tab)));
}

bool HnswValidate(Oid opclassoid) { return true; }

char* HnswBuildPhaseName(int64 phase) {
  switch (phase) {
    case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE: return const_cast<char*>("initializing");
    case 2: return const_cast<char*>("loading tuples");
    case 3: return const_cast<char*>("building graph");
    case 4: return const_cast<char*>("writing pages");
    case 5: return const_cast<char*>("ordering elements");
    default: return nullptr;
  }
}

}  // namespace

}  // namespace hnsw
}  // namespace ragstore

using namespace ragstore::hnsw;

extern "C" {

PG_FUNCTION_INFO_V1(hnswhandler);
// hnswhandler(internal) -> index_am_handler: the hnsw access method's callbacks.
Datum hnswhandler(PG_FUNCTION_ARGS) {
  IndexAmRoutine* am = makeNode(IndexAmRoutine);
  am->amstrategies = 0;
  am->amsupport = 3;
  am->amoptsprocnum = 0;
  am->amcanorder = false;
  am->amcanorderbyop = true;
  am->amcanbackward = false;
  am->amcanunique = false;
  am->amcanmulticol = false;
  am->amoptionalkey = true;
  am->amsearcharray = false;
  am->amsearchnulls = false;
  am->amstorage = false;
  am->amclusterable = false;
  am->ampredlocks = false;
  am->amcanparallel = false;
  am->amcaninclude = false;
  am->amusemaintenanceworkmem = false;
  am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
  am->amkeytype = InvalidOid;
  am->ambuild = hnswbuild;
  am->ambuildempty = hnswbuildempty;
  am->aminsert = hnswinsert;
  am->ambulkdelete = hnswbulkdelete;
  am->amvacuumcleanup = hnswvacuumcleanup;
  am->amcanreturn = nullptr;
  am->amcostestimate = HnswCostEstimate;
  am->amoptions = HnswOptionsParse;
  am->amproperty = nullptr;
  am->ambuildphasename = HnswBuildPhaseName;
  am->amvalidate = HnswValidate;
  am->amadjustmembers = nullptr;
  am->ambeginscan = hnswbeginscan;
  am->amrescan = hnswrescan;
  am->amgettuple = hnswgettuple;
  am->amgetbitmap = nullptr;
  am->amendscan = hnswendscan;
  am->ammarkpos = nullptr;
  am->amrestrpos = nullptr;
  am->amestimateparallelscan = nullptr;
  am->aminitparallelscan = nullptr;
  am->amparallelrescan = nullptr;
  PG_RETURN_POINTER(am);
}

}  // extern "C"
