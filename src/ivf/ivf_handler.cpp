// ragstore ivfflat: the access method handler, the `lists` option, the ivfflat.* settings, the
// cost estimate (the operator classes' support functions are pg/distance.cpp's).
#include <cfloat>
#include <cmath>

#include "ivf/ivf.h"
#include "pg/ann_cost.h"
#include "pg/module.h"

extern "C" {
#include "access/reloptions.h"
#include "optimizer/optimizer.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
}

namespace ragstore {
namespace ivf {

int g_probes = 1;
int g_iterative_scan = static_cast<int>(IterativeScan::kOff);
int g_max_probes = kMaxLists;
int g_rerank_candidates = kDefaultRerankCandidates;

namespace {

relopt_kind g_relopt_kind;

const struct config_enum_entry kIterativeScanOptions[] = {
    {"off", static_cast<int>(IterativeScan::kOff), false},
    {"relaxed_order", static_cast<int>(IterativeScan::kRelaxedOrder), false},
    {nullptr, 0, false},
};

relopt_enum_elt_def kQuantizerValues[] = {
    {"none", static_cast<int>(QuantizerKind::kNone)},
    {"sq8", static_cast<int>(QuantizerKind::kSq8)},
    {"binary", static_cast<int>(QuantizerKind::kBinary)},
    {nullptr, 0},
};

}  // namespace

int GetLists(Relation index) {
  IvfOptions* opts = reinterpret_cast<IvfOptions*>(index->rd_options);
  return opts ? opts->lists : kDefaultLists;
}

QuantizerKind GetQuantizer(Relation index) {
  IvfOptions* opts = reinterpret_cast<IvfOptions*>(index->rd_options);
  return opts ? static_cast<QuantizerKind>(opts->quantizer) : QuantizerKind::kNone;
}

}  // namespace ivf
}  // namespace ragstore

using namespace ragstore;
using namespace ragstore::ivf;

RAGSTORE_MODULE_INIT(ivfflat) {
  g_relopt_kind = add_reloption_kind();
  add_int_reloption(g_relopt_kind, "lists", "Number of inverted lists", kDefaultLists, 1, kMaxLists,
                    AccessExclusiveLock);
  add_enum_reloption(g_relopt_kind, "quantizer", "Quantizer of the vectors in the lists",
                     kQuantizerValues, static_cast<int>(QuantizerKind::kNone),
                     "Valid values are \"none\", \"sq8\" and \"binary\".", AccessExclusiveLock);
  DefineCustomIntVariable("ivfflat.probes", "Sets the number of probes", "Valid range is 1..lists.",
                          &g_probes, 1, 1, kMaxLists, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomEnumVariable("ivfflat.iterative_scan", "Sets the mode for iterative scans", nullptr,
                           &g_iterative_scan, static_cast<int>(IterativeScan::kOff),
                           kIterativeScanOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("ivfflat.max_probes", "Sets the max number of probes for iterative scans",
                          nullptr, &g_max_probes, kMaxLists, 1, kMaxLists, PGC_USERSET, 0, nullptr,
                          nullptr, nullptr);
  DefineCustomIntVariable("ivfflat.rerank_candidates",
                          "Sets how many candidates of a quantized index are re-scored exactly",
                          "binary: the best rows by code distance re-scored from the table's "
                          "vectors; 0 turns re-ranking off for every quantizer.",
                          &g_rerank_candidates, kDefaultRerankCandidates, 0, kMaxRerankCandidates,
                          PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("ivfflat");
}

extern "C" {

// amoptions: parses WITH (lists = n, quantizer = 'none' | 'sq8' | 'binary'); out-of-range or
// unknown values are errors (22023) with PostgreSQL's standard messages.
static bytea* IvfOptionsParse(Datum reloptions, bool validate) {
  static const relopt_parse_elt tab[] = {
      {"lists", RELOPT_TYPE_INT, offsetof(IvfOptions, lists)},
      {"quantizer", RELOPT_TYPE_ENUM, offsetof(IvfOptions, quantizer)},
  };
  return static_cast<bytea*>(build_reloptions(reloptions, validate, g_relopt_kind,
                                              sizeof(IvfOptions), tab, lengthof(tab)));
}

// amcostestimate: the shared ANN cost model (src/pg/ann_cost.h). A search reads probes / lists
// of the index before returning its first row (more lists for the same probes: a cheaper
// search, so of two indexes the one with more lists is preferred); an iterative scan reads more
// only when a filter asks for it. A list's pages form a chain that is read in order: half of the
// page reads are charged at the sequential rate, as pgvector does.
static void IvfCostEstimate(PlannerInfo* root, IndexPath* path, double loop_count,
                            Cost* startup_cost, Cost* total_cost, Selectivity* selectivity,
                            double* correlation, double* pages) {
  int lists = kDefaultLists;
  if (pg::AnnOrdersBy(path)) {
    Relation index = index_open(path->indexinfo->indexoid, NoLock);
    lists = GetLists(index);
    index_close(index, NoLock);
  }
  pg::AnnScanShape shape = {static_cast<double>(g_probes) / lists, 0.5};
  pg::AnnCostEstimate(root, path, loop_count, shape, startup_cost, total_cost, selectivity,
                      correlation, pages);
}

static bool IvfValidate(Oid opclassoid) {
  (void)opclassoid;
  return true;
}

static char* IvfBuildPhaseName(int64 phase) {
  switch (phase) {
    case pg::kPhaseInitialize:
      return const_cast<char*>("initializing");
    case kPhaseKMeans:
      return const_cast<char*>("performing k-means");
    case kPhaseAssign:
      return const_cast<char*>("assigning tuples");
    case kPhaseLoad:
      return const_cast<char*>("loading tuples");
    default:
      return nullptr;
  }
}

PG_FUNCTION_INFO_V1(ivfflathandler);
// ivfflathandler(internal) -> index_am_handler: the ivfflat access method's callbacks.
Datum ivfflathandler(PG_FUNCTION_ARGS) {
  IndexAmRoutine* am = ragstore::pg::NewAnnAmRoutine(kNumProcs);
  am->ambuild = ivfflatbuild;
  am->ambuildempty = ivfflatbuildempty;
  am->aminsert = ivfflatinsert;
  am->ambulkdelete = ivfflatbulkdelete;
  am->amvacuumcleanup = ivfflatvacuumcleanup;
  am->amcanreturn = nullptr;
  am->amcostestimate = IvfCostEstimate;
  am->amoptions = IvfOptionsParse;
  am->amproperty = nullptr;
  am->ambuildphasename = IvfBuildPhaseName;
  am->amvalidate = IvfValidate;
  am->amadjustmembers = nullptr;
  am->ambeginscan = ivfflatbeginscan;
  am->amrescan = ivfflatrescan;
  am->amgettuple = ivfflatgettuple;
  am->amgetbitmap = nullptr;
  am->amendscan = ivfflatendscan;
  am->ammarkpos = nullptr;
  am->amrestrpos = nullptr;
  am->amestimateparallelscan = nullptr;
  am->aminitparallelscan = nullptr;
  am->amparallelrescan = nullptr;
  PG_RETURN_POINTER(am);
}

}  // extern "C"
