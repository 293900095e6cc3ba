// ann_bench: the ANN benchmark driver for ragstore's hnsw and ivfflat indexes (what it does:
// ann_bench.h; how to run it: bench/run.sh, bench/README.md).
#include "ann_bench.h"

#include <cstdio>
#include <ctime>

namespace ragstore {
namespace bench {

namespace {

int RunFiltered(const Options& o, const Dataset& ds, const std::string& data_desc,
                const std::string& timestamp) {
  const std::string load_start = LoadAvg();
  FilteredTruths truths;
  for (int m : o.moduli) truths.push_back(FilteredTruth(ds, m, o.k));
  std::vector<FilteredPoint> points;
  std::vector<std::string> builds;
  if (o.server) RunFilteredServer(o, ds, truths, &points, &builds);
  if (o.faiss) RunFilteredFaiss(o, ds, truths, &points, &builds);
  const std::string load_end = LoadAvg();

  ReportFiltered(o, ds, data_desc, timestamp, load_start, load_end, points, builds);
  return 0;
}

int Main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  Report r;
  r.o = o;
  char ts[32];
  time_t now = time(nullptr);
  strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", gmtime(&now));
  r.timestamp = ts;
  r.load_start = LoadAvg();
  if (o.method == "quantized" || o.method == "highdim") return RunQuantized(o, r.timestamp);
  Dataset ds = LoadData(o);
  r.ds = &ds;
  r.data_desc = DataDescription(o, ds);
  if (o.method == "filtered") return RunFiltered(o, ds, r.data_desc, r.timestamp);
  if (o.server) {
    r.server_version = ServerVersion();
    r.server = RunServer(o, ds, &r.notices);
    r.have_server = true;
  }
  if (o.faiss) {
    r.faiss = RunFaiss(o, ds);
    r.have_faiss = true;
  }
  r.load_end = LoadAvg();
  PrintTable(r);
  WriteFiles(r);
  if (o.plot && o.method != "none") Plot(r);
  if (o.method == "none" && r.have_server) {
    for (const auto& p : r.server.points)
      if (p.recall < 1.0) {
        fprintf(stderr, "[bench] ERROR: exact scan recall %.4f < 1: ground truth or server wrong\n",
                p.recall);
        return 2;
      }
  }
  return 0;
}

}  // namespace

}  // namespace bench
}  // namespace ragstore

int main(int argc, char** argv) {
  try {
    return ragstore::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    fprintf(stderr, "ann_bench: %s\n", e.what());
    return 1;
  }
}
