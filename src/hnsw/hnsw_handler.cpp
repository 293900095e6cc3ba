// ragstore hnsw: the access method handler, reloptions (m, ef_construction), settings
// (hnsw.ef_search, hnsw.iterative_scan, hnsw.max_scan_tuples, hnsw.scan_mem_multiplier),
// and the cost estimate.
#include "hnsw/hnsw.h"

#include <cfloat>
#include <climits>
#include <cmath>

#include "pg/ann_cost.h"
#include "pg/module.h"

extern "C" {
#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/optimizer.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
#include "utils/varbit.h"
}

namespace ragstore {
namespace hnsw {

int g_ef_search = 40;
int g_iterative_scan = static_cast<int>(IterativeScan::kOff);
int g_max_scan_tuples = 20000;
double g_scan_mem_multiplier = 1.0;
int g_rerank_candidates = kDefaultRerankCandidates;

namespace {

relopt_kind g_relopt_kind;

relopt_enum_elt_def kQuantizerValues[] = {
    {"none", static_cast<int>(QuantizerKind::kNone)},
    {"sq8", static_cast<int>(QuantizerKind::kSq8)},
    {"binary", static_cast<int>(QuantizerKind::kBinary)},
    {nullptr, 0},
};

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
  add_int_reloption(g_relopt_kind, "ef_construction",
                    "Size of the dynamic candidate list for construction", kDefaultEfConstruction,
                    kMinEfConstruction, kMaxEfConstruction, AccessExclusiveLock);
  add_enum_reloption(g_relopt_kind, "quantizer", "Quantizer of the vectors in the graph",
                     kQuantizerValues, static_cast<int>(QuantizerKind::kNone),
                     "Valid values are \"none\", \"sq8\" and \"binary\".", AccessExclusiveLock);

  DefineCustomIntVariable("hnsw.ef_search",
                          "Sets the size of the dynamic candidate list for search",
                          "Valid range is 1..1000.", &g_ef_search, 40, 1, 1000, PGC_USERSET, 0,
                          nullptr, nullptr, nullptr);
  DefineCustomEnumVariable("hnsw.iterative_scan", "Sets the mode for iterative scans", nullptr,
                           &g_iterative_scan, static_cast<int>(IterativeScan::kOff),
                           kIterativeScanOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "hnsw.max_scan_tuples", "Sets the max number of tuples to visit for iterative scans", nullptr,
      &g_max_scan_tuples, 20000, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomRealVariable(
      "hnsw.scan_mem_multiplier", "Sets the multiple of work_mem to use for iterative scans",
      nullptr, &g_scan_mem_multiplier, 1, 1, 1000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("hnsw.rerank_candidates",
                          "Sets how many candidates of a quantized index are re-scored exactly",
                          "binary: the best candidates by code distance re-scored from the table's "
                          "vectors; 0 turns re-ranking off for every quantizer.",
                          &g_rerank_candidates, kDefaultRerankCandidates, 0, kMaxRerankCandidates,
                          PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("hnsw");
}

int HnswGetM(Relation index) {
  auto* opts = reinterpret_cast<HnswOptions*>(index->rd_options);
  return opts ? opts->m : kDefaultM;
}

QuantizerKind HnswGetQuantizer(Relation index) {
  auto* opts = reinterpret_cast<HnswOptions*>(index->rd_options);
  return opts ? static_cast<QuantizerKind>(opts->quantizer) : QuantizerKind::kNone;
}

int HnswGetEfConstruction(Relation index) {
  auto* opts = reinterpret_cast<HnswOptions*>(index->rd_options);
  return opts ? opts->ef_construction : kDefaultEfConstruction;
}

void HnswInitSupport(Relation index, HnswSupport* sup) {
  sup->dist_proc = index_getprocinfo(index, 1, kProcDistance);
  sup->norm_proc = OidIsValid(index_getprocid(index, 1, kProcNorm))
                       ? index_getprocinfo(index, 1, kProcNorm)
                       : nullptr;
  sup->collation = index->rd_indcollation[0];
  pg::OpclassProcs procs = {sup->dist_proc->fn_addr, sup->norm_proc != nullptr};
  sup->dist = pg::OpclassDistance(index, kProcDistanceDesc, &procs);
  sup->type = sup->dist->element;
  sup->kernel = sup->dist->kernel;
  sup->metric = sup->dist->build_metric;
  sup->quantizer = QuantizerKind::kNone;
  sup->qdims = 0;
  sup->qparams = nullptr;
  sup->payload_size = 0;
  int32 typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
  // Values of a column with dimensions have one size (HnswPrepareValue keeps it: detoasted,
  // normalised in place of the same dimensions).
  if (typmod > 0 && sup->type->dims_from_typmod) {
    if (sup->type->layout == pg::ElementLayout::kDenseFloat)
      sup->payload_size = sup->type->from_float_size(typmod);
    else if (sup->type->layout == pg::ElementLayout::kBits)
      sup->payload_size = VARBITTOTALLEN(typmod);
  }
  sup->stored_size = sup->payload_size;
  sup->code_head = sup->code_tail = 0;
  QuantizerKind q = HnswGetQuantizer(index);
  if (q != QuantizerKind::kNone) HnswSetQuantizer(sup, q, typmod);
}

// ---------------------------------------------------------------- cost estimate

namespace {

// amcostestimate: the shared ANN cost model (src/pg/ann_cost.h) with the fraction of the
// elements one search visits, a planning estimate from the algorithm's shape rather than a
// measurement of this index: about m elements on each upper layer (ln N / ln m layers, the
// expected height of a graph built with mL = 1 / ln m), and on layer 0 about ef_search
// expansions, each meeting about m elements not seen before (of its up to 2m neighbours).
// Graph pages are read in random order.
void HnswCostEstimate(PlannerInfo* root, IndexPath* path, double loop_count, Cost* startup_cost,
                      Cost* total_cost, Selectivity* selectivity, double* correlation,
                      double* pages) {
  IndexOptInfo* info = path->indexinfo;
  double tuples = info->tuples > 1 ? info->tuples : 1;
  int m = kDefaultM;
  if (pg::AnnOrdersBy(path)) {
    Relation index = index_open(info->indexoid, NoLock);
    m = HnswGetM(index);
    index_close(index, NoLock);
  }
  double levels = std::log(tuples) / std::log(static_cast<double>(m));
  double visited = (levels + g_ef_search) * m;
  pg::AnnScanShape shape = {visited / tuples, 0.0};
  pg::AnnCostEstimate(root, path, loop_count, shape, startup_cost, total_cost, selectivity,
                      correlation, pages);
}

bytea* HnswOptionsParse(Datum reloptions, bool validate) {
  static const relopt_parse_elt tab[] = {
      {"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
      {"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, ef_construction)},
      {"quantizer", RELOPT_TYPE_ENUM, offsetof(HnswOptions, quantizer)},
  };
  return static_cast<bytea*>(build_reloptions(reloptions, validate, g_relopt_kind,
                                              sizeof(HnswOptions), tab, lengthof(tab)));
}

bool HnswValidate(Oid opclassoid) { return true; }

char* HnswBuildPhaseName(int64 phase) {
  switch (phase) {
    case pg::kPhaseInitialize:
      return const_cast<char*>("initializing");
    case kPhaseLoad:
      return const_cast<char*>("loading tuples");
    case kPhaseGraph:
      return const_cast<char*>("building graph");
    case kPhaseWrite:
      return const_cast<char*>("writing pages");
    case kPhaseOrder:
      return const_cast<char*>("ordering elements");
    default:
      return nullptr;
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
  IndexAmRoutine* am = ragstore::pg::NewAnnAmRoutine(kNumProcs);
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
