// ann_bench: the command line (Options, --help).
#include "ann_bench.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace ragstore {
namespace bench {

namespace {

void Usage() {
  printf(
      "usage: ann_bench [options]\n"
      "  --method hnsw|ivfflat|none   index to build (none: exact scan, recall must be 1)\n"
      "  --data synthetic|sift5k|mnist10k|DIR  data set (DIR holds base.fvecs, query.fvecs,\n"
      "                               groundtruth_l2.ivecs); default synthetic\n"
      "  --rows N                     synthetic rows (default 100000) or cap on the file's rows\n"
      "  --dim D                      synthetic dimensions (default 128)\n"
      "  --queries N                  queries (default 1000; 100 for --method none)\n"
      "  --seed S                     synthetic seed (default 42)\n"
      "  --centre-sigma X --noise-sigma Y  synthetic mixture spread (default 4, 1; a larger\n"
      "                               noise/centre ratio makes clusters overlap: harder data)\n"
      "  --centres N                  synthetic mixture centres (default rows / 100)\n"
      "  --intrinsic-dim D            synthetic noise in a shared D-dimensional subspace "
      "(default:\n"
      "                               isotropic; a low D gives the kNN structure of real data)\n"
      "  --metric l2|ip|cosine        operator <->, <#>, <=> (default l2)\n"
      "  --k K                        neighbours per query, recall@K (default 10)\n"
      "  --m M --ef-construction E    hnsw options (default 16, 64)\n"
      "  --lists L                    ivfflat lists (default 316)\n"
      "  --sweep a,b,c                ef_search (default 10,20,40,80,100,200) or probes\n"
      "                               (default 1,2,4,8,16,32)\n"
      "  --quantizer none|sq8|binary|pq  the index's WITH (quantizer = ...) (default none: no\n"
      "                               option)\n"
      "  --rerank a,b,c               hnsw/ivfflat.rerank_candidates values, each measured at "
      "every\n"
      "                               sweep point (default: not set, the server's default)\n"
      "  --maintenance-work-mem X     for the build (default 1GB)\n"
      "  --parallel-workers N         max_parallel_maintenance_workers (default 2)\n"
      "  --clients N                  concurrent clients for the throughput pass (default 2, 0 "
      "off)\n"
      "  --repeats N                  timed passes per point, medians reported (default 3)\n"
      "  --warmup N                   warm-up queries per point (default 200)\n"
      "  --no-faiss                   skip the in-process FAISS reference\n"
      "  --no-server                  FAISS reference only (no database)\n"
      "  --no-plot                    do not draw the recall-vs-QPS PNG (gnuplot)\n"
      "  --faiss-build-threads N      FAISS build threads (default: all cores)\n"
      "  --reload                     reload the table even if it is current\n"
      "  --force-index                SET enable_seqscan = off for the queries\n"
      "  --keep-index                 reuse the index left by an earlier run when its method,\n"
      "                               operator class and options match (no build: search only)\n"
      "  --dbname NAME                database (created if missing; default ragstore_bench)\n"
      "  --out DIR                    results directory (default bench/results)\n"
      "  --cache-dir DIR              ground-truth cache (default OUT/cache)\n"
      "  --note TEXT                  stored with the results\n"
      "filtered search (--method filtered; L2 only):\n"
      "  --moduli a,b,c               filters WHERE id %% M = r, selectivity 1/M (default\n"
      "                               100,1000,10000: 1%%, 0.1%%, 0.01%%); r differs per query\n"
      "  --filter-methods hnsw,ivfflat  indexes to measure (default both)\n"
      "  --filter-ef-search N         hnsw.ef_search (default 40)\n"
      "  --filter-probes N            ivfflat.probes (default 10)\n"
      "  --max-scan-tuples N          hnsw.max_scan_tuples (default 20000)\n"
      "  --quick                      20,000 x 128, 50 queries (default 50,000 x 1,536, 30 "
      "queries;\n"
      "                               lists rows/1000)\n"
      "quantized indexes side by side (--method quantized | highdim; FAISS's quantized indexes\n"
      "with IndexRefineFlat as the lower bound):\n"
      "  --case-methods hnsw,ivfflat  access methods (default both)\n"
      "  --quantizers a,b,c           quantizers, each one index (default none,sq8,binary,pq,\n"
      "                               highdim: none,halfvec,sq8,binary,pq; one\n"
      "                               the server rejects is reported with its error; halfvec:\n"
      "                               the unquantized index on embedding::halfvec(dim),\n"
      "                               pgvector's half-precision expression index)\n"
      "  --hnsw-sweep a,b,c           ef_search values (quantized: 10,20,40,80,160; highdim:\n"
      "                               20,40,80,160)\n"
      "  --ivfflat-sweep a,b,c        probes values (default 1,2,4,8,16,32)\n"
      "  --dims a,b                   highdim: dimensions, one data set each (default 3072,4096)\n"
      "  --faiss-pq                   also FAISS IndexIVFPQ + IndexRefineFlat (d/8 x 8-bit\n"
      "                               sub-quantizers, binary's size class); off by default: its\n"
      "                               training takes minutes of CPU at 1,536+ dimensions\n"
      "  --quick                      quantized: 10,000 x 1,536, 100 queries, 1 pass (a smoke\n"
      "                               run); default 100,000 x 1,536, 300 queries, 2 passes;\n"
      "                               highdim: 50,000 rows, 200 queries (quick: 5,000, 50).\n"
      "                               Synthetic defaults of\n"
      "                               both: rows / 100 centres N(0, 2^2) (--centre-sigma),\n"
      "                               noise N(0, 1) in 16 dimensions (--intrinsic-dim); lists\n"
      "                               sqrt(rows)\n");
}

std::vector<int> ParseIntList(const std::string& s, long lo = 1) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    char* end;
    long v = strtol(item.c_str(), &end, 10);
    if (*end || v < lo || v > 1000000) Fail("bad list value: " + item);
    out.push_back(int(v));
  }
  if (out.empty()) Fail("empty list: " + s);
  return out;
}

long ParseLong(const std::string& name, const char* v, long lo, long hi) {
  char* end;
  long x = strtol(v, &end, 10);
  if (*v == 0 || *end || x < lo || x > hi)
    Fail("bad value for " + name + ": " + v + " (" + std::to_string(lo) + ".." +
         std::to_string(hi) + ")");
  return x;
}

}  // namespace

Options ParseArgs(int argc, char** argv) {
  Options o;
  if (const char* d = getenv("RAGSTORE_DATA_DIR")) o.data_dir = d;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) Fail("missing value for " + a);
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      Usage();
      exit(0);
    } else if (a == "--method") {
      o.method = next();
    } else if (a == "--data") {
      o.data = next();
    } else if (a == "--data-dir") {
      o.data_dir = next();
    } else if (a == "--rows") {
      o.rows = size_t(ParseLong(a, next(), 1, 100000000));
      o.rows_given = true;
    } else if (a == "--dim") {
      o.dim = size_t(ParseLong(a, next(), 1, 16000));
      o.dim_given = true;
    } else if (a == "--queries") {
      o.queries = size_t(ParseLong(a, next(), 1, 10000000));
      o.queries_given = true;
    } else if (a == "--seed") {
      o.seed = uint64_t(ParseLong(a, next(), 0, 1L << 62));
    } else if (a == "--centre-sigma" || a == "--noise-sigma") {
      const char* v = next();
      char* end;
      double x = strtod(v, &end);
      if (*v == 0 || *end || !(x > 0) || x > 1e6) Fail("bad value for " + a + ": " + v);
      (a == "--centre-sigma" ? o.centre_sigma : o.noise_sigma) = x;
    } else if (a == "--centres") {
      o.centres = size_t(ParseLong(a, next(), 1, 100000000));
    } else if (a == "--intrinsic-dim") {
      o.intrinsic_dim = size_t(ParseLong(a, next(), 1, 16000));
    } else if (a == "--metric") {
      o.metric = next();
      o.metric_given = true;
    } else if (a == "--k") {
      o.k = size_t(ParseLong(a, next(), 1, 100));
    } else if (a == "--m") {
      o.m = int(ParseLong(a, next(), 2, 100));
    } else if (a == "--ef-construction") {
      o.ef_construction = int(ParseLong(a, next(), 4, 1000));
    } else if (a == "--lists") {
      o.lists = int(ParseLong(a, next(), 1, 32768));
      o.lists_given = true;
    } else if (a == "--sweep" || a == "--ef-search" || a == "--probes") {
      o.sweep = ParseIntList(next());
    } else if (a == "--quantizer") {
      o.quantizer = next();
    } else if (a == "--rerank") {
      o.rerank = ParseIntList(next(), 0);
    } else if (a == "--case-methods" || a == "--quantizers") {
      std::vector<std::string>& list = a == "--quantizers" ? o.quantizers : o.case_methods;
      if (a == "--quantizers") o.quantizers_given = true;
      list.clear();
      std::stringstream ss(next());
      std::string item;
      while (std::getline(ss, item, ',')) {
        bool ok = a == "--quantizers" ? item == "none" || item == "sq8" || item == "binary" ||
                                            item == "pq" || item == "halfvec"
                                      : item == "hnsw" || item == "ivfflat";
        if (!ok)
          Fail(a + ": " +
               (a == "--quantizers" ? "none, sq8, binary, pq, halfvec" : "hnsw, ivfflat"));
        list.push_back(item);
      }
      if (list.empty()) Fail(a + " is empty");
    } else if (a == "--hnsw-sweep") {
      o.hnsw_sweep = ParseIntList(next());
    } else if (a == "--ivfflat-sweep") {
      o.ivfflat_sweep = ParseIntList(next());
    } else if (a == "--dims") {
      o.dims.clear();
      for (int v : ParseIntList(next())) o.dims.push_back(size_t(v));
    } else if (a == "--maintenance-work-mem") {
      o.maintenance_work_mem = next();
    } else if (a == "--parallel-workers") {
      o.parallel_workers = int(ParseLong(a, next(), 0, 64));
    } else if (a == "--clients") {
      o.clients = int(ParseLong(a, next(), 0, 64));
    } else if (a == "--repeats") {
      o.repeats = int(ParseLong(a, next(), 1, 100));
      o.repeats_given = true;
    } else if (a == "--warmup") {
      o.warmup = size_t(ParseLong(a, next(), 0, 10000000));
      o.warmup_given = true;
    } else if (a == "--faiss-pq") {
      o.faiss_pq = true;
    } else if (a == "--no-faiss") {
      o.faiss = false;
    } else if (a == "--no-server") {
      o.server = false;
    } else if (a == "--no-plot") {
      o.plot = false;
    } else if (a == "--faiss-build-threads") {
      o.faiss_build_threads = int(ParseLong(a, next(), 1, 256));
    } else if (a == "--reload") {
      o.reload = true;
    } else if (a == "--force-index") {
      o.force_index = true;
    } else if (a == "--keep-index") {
      o.keep_index = true;
    } else if (a == "--dbname") {
      o.dbname = next();
    } else if (a == "--out") {
      o.out_dir = next();
    } else if (a == "--cache-dir") {
      o.cache_dir = next();
    } else if (a == "--note") {
      o.note = next();
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--moduli") {
      o.moduli = ParseIntList(next());
    } else if (a == "--filter-methods") {
      o.filter_methods.clear();
      std::stringstream ss(next());
      std::string item;
      while (std::getline(ss, item, ','))
        if (item == "hnsw" || item == "ivfflat")
          o.filter_methods.push_back(item);
        else
          Fail("--filter-methods: hnsw, ivfflat");
      if (o.filter_methods.empty()) Fail("--filter-methods is empty");
    } else if (a == "--filter-ef-search") {
      o.filter_ef_search = int(ParseLong(a, next(), 1, 1000));
    } else if (a == "--filter-probes") {
      o.filter_probes = int(ParseLong(a, next(), 1, 32768));
    } else if (a == "--max-scan-tuples") {
      o.max_scan_tuples = int(ParseLong(a, next(), 1, 2000000000));
    } else {
      Fail("unknown option " + a + " (--help lists them)");
    }
  }
  const bool quantized_case = o.method == "quantized" || o.method == "highdim";
  if (o.method != "hnsw" && o.method != "ivfflat" && o.method != "none" && o.method != "filtered" &&
      !quantized_case)
    Fail("--method must be hnsw, ivfflat, none, filtered, quantized or highdim");
  if (o.quantizer != "none" && o.quantizer != "sq8" && o.quantizer != "binary" &&
      o.quantizer != "pq" && o.quantizer != "halfvec")
    Fail("--quantizer must be none, sq8, binary, pq or halfvec");
  if (quantized_case) {
    // The calibrated mixture (bench/README.md, "The calibrated mixture"): centres N(0, 2^2),
    // noise N(0, 1) per coordinate in a shared 16-dimensional subspace, rows / 100 centres, so
    // that the unquantized hnsw index (m 16, ef_construction 64) at ef_search 40 finds about
    // 0.90-0.97 of the true neighbours at 1,536 dimensions and quantization errors show.
    const bool synthetic = o.data == "synthetic";
    const bool high = o.method == "highdim";
    if (!o.rows_given) o.rows = o.quick ? (high ? 5000 : 10000) : high ? 50000 : 100000;
    if (!o.dim_given) o.dim = 1536;
    if (!o.queries_given) o.queries = o.quick ? (high ? 50 : 100) : high ? 200 : 300;
    if (synthetic && o.intrinsic_dim == 0) o.intrinsic_dim = 16;
    if (synthetic && o.centre_sigma == 4.0) o.centre_sigma = 2.0;
    if (o.data == "ada002" && !o.metric_given) o.metric = "cosine";  // its only ground truth
    if (!o.repeats_given) o.repeats = o.quick ? 1 : 2;
    if (!o.warmup_given) o.warmup = o.quick ? 10 : 50;
    if (o.hnsw_sweep.empty())
      o.hnsw_sweep =
          high ? std::vector<int>{20, 40, 80, 160} : std::vector<int>{10, 20, 40, 80, 160};
    if (o.ivfflat_sweep.empty()) o.ivfflat_sweep = {1, 2, 4, 8, 16, 32};
    // highdim: beyond 2,000 dimensions the unquantized vector index is rejected, so pgvector's
    // half-precision expression index (up to 4,000 dimensions) is the unquantized comparison
    if (high && !o.quantizers_given) o.quantizers = {"none", "halfvec", "sq8", "binary", "pq"};
  }
  if (o.method == "filtered" && o.metric != "l2") Fail("--method filtered measures L2 only");
  if (o.method == "filtered") {
    // Full size: 50,000 x 1,536 (the embedding size of common text models), 30 queries; quick:
    // 20,000 x 128, 50 queries. Lists: rows / 1000, at least 10 (pgvector's advice).
    if (!o.rows_given) o.rows = o.quick ? 20000 : 50000;
    if (!o.dim_given) o.dim = o.quick ? 128 : 1536;
    if (!o.queries_given) o.queries = o.quick ? 50 : 30;
    if (!o.lists_given) o.lists = int(std::max<size_t>(10, o.rows / 1000));
    // The untimed pass that collects results and counts is also a warm-up.
    if (!o.repeats_given) o.repeats = 1;
    if (!o.warmup_given) o.warmup = 0;
  }
  if (o.metric != "l2" && o.metric != "ip" && o.metric != "cosine")
    Fail("--metric must be l2, ip or cosine");
  if ((o.method == "hnsw" || quantized_case) && o.ef_construction < 2 * o.m)
    Fail("ef_construction must be >= 2 * m");
  if (o.sweep.empty()) {
    if (o.method == "hnsw") o.sweep = {10, 20, 40, 80, 100, 200};
    if (o.method == "ivfflat") o.sweep = {1, 2, 4, 8, 16, 32};
    if (o.method == "none") o.sweep = {0};
  }
  if (o.method == "none") o.sweep = {0};
  if (o.method == "none" && !o.queries_given) o.queries = 100;
  if (!o.server && !o.faiss) Fail("--no-server and --no-faiss leave nothing to measure");
  if (o.cache_dir.empty()) o.cache_dir = o.out_dir + "/cache";
  for (char c : o.dbname)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_') Fail("--dbname: letters, digits, _");
  return o;
}

std::string SweepName(const Options& o) {
  if (o.method == "hnsw") return "ef_search";
  if (o.method == "ivfflat") return "probes";
  return "exact";
}

}  // namespace bench
}  // namespace ragstore
