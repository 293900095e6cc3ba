// ann_bench: the ANN benchmark driver for ragstore's hnsw and ivfflat indexes (issues 4 and 5).
//
// For one data set (fvecs/ivecs files, or the deterministic synthetic Gaussian mixture of
// src/core/synthetic.h) and one index method it:
//   1. loads the rows into the server with COPY ... FROM STDIN (FORMAT binary), reusing the table
//      when a previous run loaded the same data (fingerprint in the table's comment);
//   2. builds the index (hnsw: m, ef_construction; ivfflat: lists; "none": no index, an exact
//      scan) with maintenance_work_mem and max_parallel_maintenance_workers as given, and
//      reports the build time (wall clock, ms) and the index size (pg_relation_size, bytes);
//   3. for each sweep point (hnsw.ef_search or ivfflat.probes) measures recall@k against exact
//      ground truth, single-client queries/s with p50/p99 latency, and queries/s with N
//      concurrent clients (threads, one connection each). Queries use a prepared statement
//      (PQprepare/PQexecPrepared) with the query vector as a binary parameter and binary
//      results, so the client's text formatting is not what is measured. Each point gets a
//      warm-up, then `--repeats` timed passes; the medians are reported;
//   4. runs the same algorithm in-process with FAISS (IndexHNSWFlat, IndexIVFFlat, IndexFlat for
//      "none") on the same data with the same parameters: build time, recall, single-thread
//      queries/s and p50/p99 latency: the cost of the algorithm with no database around it;
//   5. prints a table and writes CSV and JSON under --out (bench/results/, not in git).
//
// Run it through bench/run.sh (builds, installs, starts the throwaway cluster); `--help` lists
// the options. The server is reached through libpq's PG* environment variables.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/utils/distances.h>
#include <libpq-fe.h>
#include <omp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/recall.h"
#include "core/synthetic.h"
#include "core/vecs_io.h"

namespace ragstore {
namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void Fail(const std::string& msg) { throw std::runtime_error(msg); }

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  std::string method = "hnsw";     // hnsw | ivfflat | none
  std::string data = "synthetic";  // synthetic | sift5k | mnist10k | a directory
  std::string data_dir;            // $RAGSTORE_DATA_DIR
  size_t rows = 100000;            // synthetic rows, or a cap on the file's base rows
  bool rows_given = false;
  size_t dim = 128;       // synthetic only
  size_t queries = 1000;  // number of queries (capped by the file's)
  bool queries_given = false;
  uint64_t seed = 42;         // synthetic: centres from seed, base seed+1, queries seed+2
  double centre_sigma = 4.0;  // synthetic: centres N(0, centre_sigma^2) per coordinate
  double noise_sigma = 1.0;   // synthetic: points = centre + N(0, noise_sigma^2)
  std::string metric = "l2";  // l2 | ip | cosine
  size_t k = 10;
  int m = 16;
  int ef_construction = 64;
  int lists = 316;
  std::vector<int> sweep;  // ef_search or probes values
  std::string maintenance_work_mem = "1GB";
  int parallel_workers = 2;  // max_parallel_maintenance_workers
  int clients = 2;           // concurrent clients (0: skip)
  int repeats = 3;           // timed passes per sweep point (medians reported)
  size_t warmup = 200;       // warm-up queries per sweep point
  bool faiss = true;
  bool server = true;           // false: FAISS reference only (no database)
  bool plot = true;             // recall-vs-QPS PNG with gnuplot when it is installed
  int faiss_build_threads = 0;  // 0: all cores
  bool reload = false;          // reload the table even when it looks current
  bool force_index = false;     // SET enable_seqscan = off on query connections
  bool keep_index = false;      // reuse an existing index with the same definition
  std::string dbname = "ragstore_bench";
  std::string out_dir = "bench/results";
  std::string cache_dir;  // default <out_dir>/cache
  std::string note;       // free text stored with the results
  // --method filtered: WHERE id % M = r ORDER BY ... LIMIT k, for each M of `moduli`
  std::vector<int> moduli = {100, 1000, 10000};  // selectivity 1 / M
  std::vector<std::string> filter_methods = {"hnsw", "ivfflat"};
  int filter_ef_search = 40;    // hnsw.ef_search (and FAISS efSearch, "same" row)
  int filter_probes = 10;       // ivfflat.probes (and FAISS nprobe, "same" row)
  int max_scan_tuples = 20000;  // hnsw.max_scan_tuples
  bool quick = false;           // filtered: the small size (20,000 x 128)
  bool dim_given = false, lists_given = false, repeats_given = false, warmup_given = false;
};

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
      "  --metric l2|ip|cosine        operator <->, <#>, <=> (default l2)\n"
      "  --k K                        neighbours per query, recall@K (default 10)\n"
      "  --m M --ef-construction E    hnsw options (default 16, 64)\n"
      "  --lists L                    ivfflat lists (default 316)\n"
      "  --sweep a,b,c                ef_search (default 10,20,40,80,100,200) or probes\n"
      "                               (default 1,2,4,8,16,32)\n"
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
      "                               lists rows/1000)\n");
}

std::vector<int> ParseIntList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    char* end;
    long v = strtol(item.c_str(), &end, 10);
    if (*end || v < 1 || v > 1000000) Fail("bad list value: " + item);
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
    } else if (a == "--metric") {
      o.metric = next();
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
  if (o.method != "hnsw" && o.method != "ivfflat" && o.method != "none" && o.method != "filtered")
    Fail("--method must be hnsw, ivfflat, none or filtered");
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
  if (o.method == "hnsw" && o.ef_construction < 2 * o.m) Fail("ef_construction must be >= 2 * m");
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

// ---------------------------------------------------------------------------------------------
// Data

std::string Fmt(const char* f, double v) {
  char buf[64];
  snprintf(buf, sizeof buf, f, v);
  return buf;
}

struct Dataset {
  std::string label;  // e.g. "synthetic_100000x128_s42", "sift5k"
  bool synthetic = false;
  FloatMatrix base, queries;
  IdMatrix truth;  // exact neighbours, nearest first (at least k per query)
  KnnMetric metric = KnnMetric::kL2;
};

bool FileExists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

void MakeDirs(const std::string& path) {
  std::string cur;
  std::stringstream ss(path);
  std::string part;
  if (!path.empty() && path[0] == '/') cur = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += part + "/";
    mkdir(cur.c_str(), 0755);
  }
  if (!FileExists(path)) Fail("cannot create directory " + path);
}

KnnMetric MetricOf(const std::string& m) {
  if (m == "ip") return KnnMetric::kInnerProduct;
  if (m == "cosine") return KnnMetric::kCosine;
  return KnnMetric::kL2;
}

// Exact ground truth, cached in cache_dir under a name that identifies data, queries and metric.
IdMatrix CachedTruth(const Options& o, const std::string& key, const Dataset& ds) {
  MakeDirs(o.cache_dir);
  const size_t gt_k = std::max<size_t>(o.k, 100);
  std::string path =
      o.cache_dir + "/gt_" + key + "_" + o.metric + "_k" + std::to_string(gt_k) + ".ivecs";
  if (FileExists(path)) {
    IdMatrix gt = ReadIvecs(path);
    if (gt.rows == ds.queries.rows && gt.k >= o.k) {
      fprintf(stderr, "[bench] ground truth from cache %s\n", path.c_str());
      return gt;
    }
  }
  auto t0 = Clock::now();
  IdMatrix gt = ExactKnn(ds.base, ds.queries, gt_k, ds.metric);
  fprintf(stderr, "[bench] exact ground truth (FAISS brute force + exact re-rank): %.1f s -> %s\n",
          SecondsSince(t0), path.c_str());
  WriteIvecs(path, gt);
  return gt;
}

Dataset LoadData(const Options& o) {
  Dataset ds;
  ds.metric = MetricOf(o.metric);
  if (o.data == "synthetic") {
    ds.synthetic = true;
    ds.label = "synthetic_" + std::to_string(o.rows) + "x" + std::to_string(o.dim) + "_s" +
               std::to_string(o.seed);
    if (o.centre_sigma != 4.0 || o.noise_sigma != 1.0)
      ds.label += "_c" + Fmt("%g", o.centre_sigma) + "_n" + Fmt("%g", o.noise_sigma);
    auto t0 = Clock::now();
    FloatMatrix centres =
        MakeMixtureCentres(DefaultMixtureCentres(o.rows), o.dim, o.centre_sigma, o.seed);
    ds.base = SampleMixturePoints(centres, o.rows, o.noise_sigma, o.seed + 1);
    ds.queries = SampleMixturePoints(centres, o.queries, o.noise_sigma, o.seed + 2);
    fprintf(stderr,
            "[bench] generated synthetic Gaussian mixture: %zu x %zu, %zu centres, "
            "%zu queries (%.1f s)\n",
            ds.base.rows, ds.base.dim, centres.rows, ds.queries.rows, SecondsSince(t0));
    if (o.method != "filtered")
      ds.truth = CachedTruth(o, ds.label + "_q" + std::to_string(o.queries), ds);
    return ds;
  }
  std::string dir = o.data;
  if (o.data.find('/') == std::string::npos) {
    if (o.data_dir.empty()) Fail("set RAGSTORE_DATA_DIR (or --data-dir) to find " + o.data);
    dir = o.data_dir + "/" + o.data;
  }
  ds.label = dir.substr(dir.find_last_of('/') + 1);
  ds.base = ReadFvecs(dir + "/base.fvecs");
  ds.queries = ReadFvecs(dir + "/query.fvecs");
  if (ds.queries.dim != ds.base.dim) Fail("query and base dimensions differ in " + dir);
  size_t full_rows = ds.base.rows;
  if (o.rows_given && o.rows < ds.base.rows) {
    ds.base.rows = o.rows;
    ds.base.data.resize(o.rows * ds.base.dim);
    ds.label += "_rows" + std::to_string(o.rows);
  }
  if (o.queries < ds.queries.rows) {
    ds.queries.rows = o.queries;
    ds.queries.data.resize(o.queries * ds.queries.dim);
  }
  std::string gt_file = dir + "/groundtruth_" + o.metric + ".ivecs";
  if (o.method == "filtered") return ds;  // filtered ground truth: FilteredTruth
  if (ds.base.rows == full_rows && FileExists(gt_file)) {
    ds.truth = ReadIvecs(gt_file, ds.queries.rows);
    if (ds.truth.rows != ds.queries.rows || ds.truth.k < o.k) Fail("short ground truth " + gt_file);
    fprintf(stderr, "[bench] %s: %zu x %zu, %zu queries, ground truth %s\n", ds.label.c_str(),
            ds.base.rows, ds.base.dim, ds.queries.rows, gt_file.c_str());
  } else {
    ds.truth = CachedTruth(o, ds.label + "_q" + std::to_string(ds.queries.rows), ds);
  }
  return ds;
}

// A fingerprint of the base rows (order-sensitive), stored in the table's comment.
uint64_t Fingerprint(const FloatMatrix& m) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ m.rows ^ (uint64_t(m.dim) << 40);
  const uint32_t* w = reinterpret_cast<const uint32_t*>(m.data.data());
  for (size_t i = 0; i < m.data.size(); i++) h = Mix64(h ^ w[i]) + i;
  return h;
}

// ---------------------------------------------------------------------------------------------
// libpq helpers

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultCloser>;

std::vector<std::string>* g_notices = nullptr;

void NoticeProcessor(void*, const char* message) {
  fprintf(stderr, "[server] %s", message);
  if (g_notices) g_notices->push_back(message);
}

Conn Connect(const std::string& dbname) {
  std::string conninfo = "dbname=" + dbname + " application_name=ann_bench";
  Conn c(PQconnectdb(conninfo.c_str()));
  if (PQstatus(c.get()) != CONNECTION_OK)
    Fail("cannot connect (" + conninfo + ", PG* environment): " + PQerrorMessage(c.get()));
  PQsetNoticeProcessor(c.get(), NoticeProcessor, nullptr);
  return c;
}

Result Exec(PGconn* c, const std::string& sql) {
  Result r(PQexec(c, sql.c_str()));
  ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    Fail("SQL failed: " + sql + "\n  " + PQerrorMessage(c));
  return r;
}

std::string Scalar(PGconn* c, const std::string& sql) {
  Result r = Exec(c, sql);
  if (PQntuples(r.get()) < 1 || PQgetisnull(r.get(), 0, 0)) return "";
  return PQgetvalue(r.get(), 0, 0);
}

void PutBE32(std::string* buf, uint32_t v) {
  v = htonl(v);
  buf->append(reinterpret_cast<const char*>(&v), 4);
}
void PutBE16(std::string* buf, uint16_t v) {
  v = htons(v);
  buf->append(reinterpret_cast<const char*>(&v), 2);
}

// The binary form of a vector (pgvector-interface.md): int16 dim, int16 0, dim float4, all BE.
void AppendVectorBinary(std::string* buf, const float* x, size_t dim) {
  PutBE16(buf, uint16_t(dim));
  PutBE16(buf, 0);
  for (size_t j = 0; j < dim; j++) {
    uint32_t bits;
    memcpy(&bits, &x[j], 4);
    PutBE32(buf, bits);
  }
}

void EnsureDatabase(const std::string& dbname) {
  Conn c = Connect("postgres");
  if (Scalar(c.get(), "SELECT 1 FROM pg_database WHERE datname = '" + dbname + "'").empty()) {
    fprintf(stderr, "[bench] creating database %s\n", dbname.c_str());
    Exec(c.get(), "CREATE DATABASE " + dbname);
  }
}

// CREATE EXTENSION ragstore; when the installed extension lacks the access method (an older
// build), it is dropped with its tables and created again.
void EnsureExtension(PGconn* c, const std::string& method) {
  Exec(c, "CREATE EXTENSION IF NOT EXISTS ragstore");
  if (method == "none") return;
  if (Scalar(c, "SELECT 1 FROM pg_am WHERE amname = '" + method + "'").empty()) {
    fprintf(stderr, "[bench] access method %s missing: recreating the extension\n", method.c_str());
    Exec(c, "DROP EXTENSION ragstore CASCADE");
    Exec(c, "CREATE EXTENSION ragstore");
    if (Scalar(c, "SELECT 1 FROM pg_am WHERE amname = '" + method + "'").empty())
      Fail("this build of ragstore has no access method " + method +
           " (not merged yet?); --method none measures the exact scan");
  }
}

std::string TableName(const Dataset& ds) {
  std::string t = "bench_";
  for (char ch : ds.label) t += isalnum(static_cast<unsigned char>(ch)) ? char(tolower(ch)) : '_';
  return t.substr(0, 63);
}

// Loads base rows (id = 0-based row number) with binary COPY unless the table already holds
// them. Returns the load time in seconds (0 when reused).
double LoadTable(PGconn* c, const std::string& table, const Dataset& ds, bool reload) {
  char fp[64];
  snprintf(fp, sizeof fp, "%016llx", static_cast<unsigned long long>(Fingerprint(ds.base)));
  std::string comment = "ann_bench " + ds.label + " rows=" + std::to_string(ds.base.rows) +
                        " dim=" + std::to_string(ds.base.dim) + " fp=" + fp;
  std::string have = Scalar(c, "SELECT obj_description(to_regclass('" + table + "'), 'pg_class')");
  // DROP EXTENSION ... CASCADE (an older build, see EnsureExtension) drops the vector column
  // but keeps the table and its comment: check the column too.
  bool has_column = !Scalar(c, "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('" + table +
                                   "') AND attname = 'embedding' AND NOT attisdropped")
                         .empty();
  if (!reload && have == comment && has_column) {
    fprintf(stderr, "[bench] table %s already loaded (%s)\n", table.c_str(), comment.c_str());
    return 0;
  }
  auto t0 = Clock::now();
  Exec(c, "DROP TABLE IF EXISTS " + table);
  Exec(c, "CREATE TABLE " + table + " (id int4 NOT NULL, embedding vector(" +
              std::to_string(ds.base.dim) + ") NOT NULL) WITH (autovacuum_enabled = off)");
  {
    std::string copy = "COPY " + table + " (id, embedding) FROM STDIN WITH (FORMAT binary)";
    Result r(PQexec(c, copy.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN)
      Fail("SQL failed: " + copy + "\n  " + PQerrorMessage(c));
  }
  std::string buf;
  buf.append("PGCOPY\n\377\r\n\0", 11);
  PutBE32(&buf, 0);  // flags
  PutBE32(&buf, 0);  // header extension length
  const size_t dim = ds.base.dim;
  for (size_t i = 0; i < ds.base.rows; i++) {
    PutBE16(&buf, 2);
    PutBE32(&buf, 4);
    PutBE32(&buf, uint32_t(i));
    PutBE32(&buf, uint32_t(4 + 4 * dim));
    AppendVectorBinary(&buf, ds.base.Row(i), dim);
    if (buf.size() > (1 << 20) || i + 1 == ds.base.rows) {
      if (i + 1 == ds.base.rows) PutBE16(&buf, 0xffff);  // trailer
      if (PQputCopyData(c, buf.data(), int(buf.size())) != 1)
        Fail(std::string("COPY failed: ") + PQerrorMessage(c));
      buf.clear();
    }
  }
  if (PQputCopyEnd(c, nullptr) != 1) Fail(std::string("COPY end failed: ") + PQerrorMessage(c));
  for (;;) {
    Result r(PQgetResult(c));
    if (!r) break;
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
      Fail(std::string("COPY failed: ") + PQerrorMessage(c));
  }
  Exec(c, "VACUUM (ANALYZE) " + table);
  Exec(c, "COMMENT ON TABLE " + table + " IS '" + comment + "'");
  double s = SecondsSince(t0);
  fprintf(stderr, "[bench] loaded %zu rows into %s with binary COPY in %.1f s\n", ds.base.rows,
          table.c_str(), s);
  return s;
}

const char* OpClass(const std::string& metric) {
  if (metric == "ip") return "vector_ip_ops";
  if (metric == "cosine") return "vector_cosine_ops";
  return "vector_l2_ops";
}
const char* Operator(const std::string& metric) {
  if (metric == "ip") return "<#>";
  if (metric == "cosine") return "<=>";
  return "<->";
}

// True when index exists and was built with o's access method, operator class and options
// (--keep-index).
bool IndexMatches(PGconn* c, const Options& o, const std::string& index) {
  std::string def = Scalar(c,
                           "SELECT pg_get_indexdef(c.oid) || ' ' || "
                           "coalesce(array_to_string(c.reloptions, ','), '') FROM pg_class c "
                           "WHERE c.relname = '" +
                               index + "'");
  if (def.empty()) return false;
  std::string want = "USING " + o.method + " (embedding " + OpClass(o.metric) + ")";
  std::string opts =
      o.method == "hnsw"
          ? "m=" + std::to_string(o.m) + ",ef_construction=" + std::to_string(o.ef_construction)
          : "lists=" + std::to_string(o.lists);
  bool ok = def.find(want) != std::string::npos && def.size() >= opts.size() &&
            def.compare(def.size() - opts.size(), opts.size(), opts) == 0;
  if (!ok) fprintf(stderr, "[bench] existing index differs (%s): rebuilding\n", def.c_str());
  return ok;
}

struct BuildResult {
  double seconds = 0;
  double cpu_seconds = -1;  // the backend's CPU time (all its threads) during CREATE INDEX
  long long index_bytes = 0;
  long long table_bytes = 0;
  std::string sql;
};

double ProcessCpuSeconds(int pid);

BuildResult BuildIndex(PGconn* c, const Options& o, const std::string& table,
                       const std::string& index) {
  BuildResult b;
  b.table_bytes = atoll(Scalar(c, "SELECT pg_relation_size('" + table + "')").c_str());
  if (o.method == "none") return b;
  Exec(c, "SET maintenance_work_mem = '" + o.maintenance_work_mem + "'");
  Exec(c, "SET max_parallel_maintenance_workers = " + std::to_string(o.parallel_workers));
  Exec(c, "CHECKPOINT");
  std::string with = o.method == "hnsw"
                         ? "m = " + std::to_string(o.m) +
                               ", ef_construction = " + std::to_string(o.ef_construction)
                         : "lists = " + std::to_string(o.lists);
  b.sql = "CREATE INDEX " + index + " ON " + table + " USING " + o.method + " (embedding " +
          OpClass(o.metric) + ") WITH (" + with + ")";
  fprintf(stderr, "[bench] %s (maintenance_work_mem %s, %d parallel workers)\n", b.sql.c_str(),
          o.maintenance_work_mem.c_str(), o.parallel_workers);
  int backend = PQbackendPID(c);
  double cpu0 = ProcessCpuSeconds(backend);
  auto t0 = Clock::now();
  Exec(c, b.sql);
  b.seconds = SecondsSince(t0);
  double cpu1 = ProcessCpuSeconds(backend);
  if (cpu0 >= 0 && cpu1 >= 0) b.cpu_seconds = cpu1 - cpu0;
  b.index_bytes = atoll(Scalar(c, "SELECT pg_relation_size('" + index + "')").c_str());
  fprintf(stderr, "[bench] built in %.2f s (backend CPU %.2f s), index %.1f MB\n", b.seconds,
          b.cpu_seconds, b.index_bytes / 1048576.0);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Measurements

struct PassStats {
  double qps = 0, p50_ms = 0, p99_ms = 0;
  double cpu_ms = -1;  // mean CPU time per query of the searching process/thread (-1: unknown)
};

// CPU seconds (user + system) used so far by process pid, from /proc/<pid>/stat (fields 14
// and 15, in clock ticks); -1 when unreadable (a server on another host). Used for the
// server's backend: CPU time is far less disturbed than wall time by other jobs on a shared
// machine, though its resolution is one tick (10 ms), so it is only read around whole passes.
double ProcessCpuSeconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!f || !std::getline(f, line)) return -1;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::stringstream ss(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && ss >> field; i++) {
    if (i == 14) utime = strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = strtoull(field.c_str(), nullptr, 10);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

double ThreadCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

struct PointResult {
  int value = 0;  // ef_search / probes (0 for an exact scan)
  double recall = 0;
  PassStats single;  // medians over repeats
  double qps_concurrent = 0;
  std::string plan;  // first line of the plan (server only)
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(p * double(v.size())));  // nearest rank
  return v[std::min(v.size() - 1, rank > 0 ? rank - 1 : 0)];
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

PassStats MedianOf(const std::vector<PassStats>& passes) {
  std::vector<double> q, a, b, c;
  for (const auto& p : passes) {
    q.push_back(p.qps);
    a.push_back(p.p50_ms);
    b.push_back(p.p99_ms);
    if (p.cpu_ms >= 0) c.push_back(p.cpu_ms);
  }
  return {Median(q), Median(a), Median(b), c.empty() ? -1 : Median(c)};
}

// The first k int4 ids of a binary result into out (-1 padded).
void ReadIds(const PGresult* r, size_t k, int32_t* out) {
  int n = PQntuples(r);
  for (size_t j = 0; j < k; j++) {
    if (int(j) < n && PQgetlength(r, int(j), 0) == 4) {
      uint32_t be;
      memcpy(&be, PQgetvalue(r, int(j), 0), 4);
      out[j] = int32_t(ntohl(be));
    } else {
      out[j] = -1;
    }
  }
}

// One query connection: settings, the prepared statement, and a binary query runner.
class QueryClient {
 public:
  QueryClient(const Options& o, const std::string& table, const Dataset& ds)
      : conn_(Connect(o.dbname)), k_(o.k), dim_(ds.base.dim) {
    Exec(conn_.get(), "SET jit = off");
    if (o.force_index) Exec(conn_.get(), "SET enable_seqscan = off");
    vector_oid_ = Oid(atol(Scalar(conn_.get(), "SELECT 'vector'::regtype::oid").c_str()));
    sql_ = "SELECT id FROM " + table + " ORDER BY embedding " + Operator(o.metric) + " $1 LIMIT " +
           std::to_string(o.k);
    Result r(PQprepare(conn_.get(), "ann_query", sql_.c_str(), 1, &vector_oid_));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
      Fail("PQprepare failed: " + sql_ + "\n  " + PQerrorMessage(conn_.get()));
  }

  int BackendPid() const { return PQbackendPID(conn_.get()); }

  void Set(const std::string& name, int value) {
    if (!name.empty()) Exec(conn_.get(), "SET " + name + " = " + std::to_string(value));
  }

  // Runs query q; writes up to k ids into out (-1 padded). Throws on a server error.
  void Run(const float* q, int32_t* out) {
    param_.clear();
    AppendVectorBinary(&param_, q, dim_);
    const char* values[1] = {param_.data()};
    int lengths[1] = {int(param_.size())};
    int formats[1] = {1};
    Result r(PQexecPrepared(conn_.get(), "ann_query", 1, values, lengths, formats, 1));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      Fail(std::string("query failed: ") + PQerrorMessage(conn_.get()));
    ReadIds(r.get(), k_, out);
  }

  // The plan the server picks for query q (first line, e.g. "Limit", then the scan node).
  std::string Plan(const float* q) {
    param_.clear();
    AppendVectorBinary(&param_, q, dim_);
    const char* values[1] = {param_.data()};
    int lengths[1] = {int(param_.size())};
    int formats[1] = {1};
    std::string sql = "EXPLAIN (COSTS OFF) " + sql_;
    Result r(PQexecParams(conn_.get(), sql.c_str(), 1, &vector_oid_, values, lengths, formats, 0));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      Fail(std::string("EXPLAIN failed: ") + PQerrorMessage(conn_.get()));
    std::string plan;
    for (int i = 0; i < PQntuples(r.get()); i++) {
      std::string line = PQgetvalue(r.get(), i, 0);
      size_t s = line.find_first_not_of(" ->");
      if (s != std::string::npos) line = line.substr(s);
      if (line.rfind("Sort Key", 0) == 0 || line.rfind("Order By", 0) == 0) continue;
      if (!plan.empty()) plan += " / ";
      plan += line;
    }
    return plan;
  }

 private:
  Conn conn_;
  size_t k_, dim_;
  Oid vector_oid_ = 0;
  std::string sql_, param_;
};

// A search engine under test: sets the sweep parameter and answers one query at a time.
struct Engine {
  std::function<void(int)> set;
  std::function<void(const float*, int32_t*)> search;
  std::function<double()> cpu_seconds;  // CPU used so far by whatever runs the search, or -1
};

// Warm-up, then `repeats` timed passes over all queries (one at a time); fills results from
// the first pass. Returns the median pass.
PassStats TimeSingle(Engine& e, const Dataset& ds, const Options& o, IdMatrix* results) {
  results->rows = ds.queries.rows;
  results->k = o.k;
  results->data.assign(results->rows * o.k, -1);
  std::vector<int32_t> scratch(o.k);
  for (size_t i = 0; i < std::min(o.warmup, ds.queries.rows); i++)
    e.search(ds.queries.Row(i), scratch.data());
  std::vector<PassStats> passes;
  std::vector<double> lat(ds.queries.rows);
  for (int rep = 0; rep < o.repeats; rep++) {
    double cpu0 = e.cpu_seconds();
    auto t_pass = Clock::now();
    for (size_t i = 0; i < ds.queries.rows; i++) {
      auto t0 = Clock::now();
      e.search(ds.queries.Row(i), rep == 0 ? results->Row(i) : scratch.data());
      lat[i] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
    double wall = SecondsSince(t_pass);
    double cpu1 = e.cpu_seconds();
    double cpu_ms = cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) * 1e3 / double(ds.queries.rows) : -1;
    passes.push_back(
        {double(ds.queries.rows) / wall, Percentile(lat, 0.50), Percentile(lat, 0.99), cpu_ms});
  }
  return MedianOf(passes);
}

// Throughput with n clients (one connection and thread each), queries dealt round-robin;
// median queries/s over repeats.
double TimeConcurrent(std::vector<std::unique_ptr<QueryClient>>& clients, const Dataset& ds,
                      const Options& o) {
  std::vector<double> qps;
  for (int rep = 0; rep < o.repeats; rep++) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::string> errors(clients.size());
    std::vector<std::thread> threads;
    for (size_t t = 0; t < clients.size(); t++) {
      threads.emplace_back([&, t]() {
        std::vector<int32_t> out(o.k);
        ready++;
        while (!go.load()) std::this_thread::yield();
        try {
          for (size_t i = t; i < ds.queries.rows; i += clients.size())
            clients[t]->Run(ds.queries.Row(i), out.data());
        } catch (const std::exception& ex) {
          errors[t] = ex.what();
        }
      });
    }
    while (ready.load() < int(clients.size())) std::this_thread::yield();
    auto t0 = Clock::now();
    go = true;
    for (auto& th : threads) th.join();
    double wall = SecondsSince(t0);
    for (auto& err : errors)
      if (!err.empty()) Fail(err);
    qps.push_back(double(ds.queries.rows) / wall);
  }
  return Median(qps);
}

struct EngineRun {
  std::string engine;  // "ragstore" or "faiss"
  double build_s = 0;
  double build_cpu_s = -1;  // CPU time of the build, all threads (-1: unknown)
  long long index_bytes = 0;
  std::string build_note;
  std::vector<PointResult> points;
};

std::string SweepName(const Options& o) {
  if (o.method == "hnsw") return "ef_search";
  if (o.method == "ivfflat") return "probes";
  return "exact";
}

EngineRun RunServer(const Options& o, const Dataset& ds, std::vector<std::string>* notices) {
  EngineRun run;
  run.engine = "ragstore";
  EnsureDatabase(o.dbname);
  Conn admin = Connect(o.dbname);
  Exec(admin.get(), "SET client_min_messages = warning");  // no "skipping" chatter
  EnsureExtension(admin.get(), o.method);
  std::string table = TableName(ds);
  std::string index = table.substr(0, 50) + "_ann_idx";
  LoadTable(admin.get(), table, ds, o.reload);
  BuildResult b;
  if (o.keep_index && o.method != "none" && IndexMatches(admin.get(), o, index)) {
    // Search-only iteration: the index of an earlier run (same method, opclass and options;
    // a reloaded table dropped it). The build columns then describe no build.
    b.index_bytes = atoll(Scalar(admin.get(), "SELECT pg_relation_size('" + index + "')").c_str());
    b.sql = "reused existing index " + index + " (--keep-index): " +
            Scalar(admin.get(), "SELECT pg_get_indexdef('" + index + "'::regclass)");
    fprintf(stderr, "[bench] %s\n", b.sql.c_str());
  } else {
    Exec(admin.get(), "DROP INDEX IF EXISTS " + index);
    Exec(admin.get(), "RESET client_min_messages");  // the build's NOTICEs are reported
    g_notices = notices;
    b = BuildIndex(admin.get(), o, table, index);
    g_notices = nullptr;
  }
  run.build_s = b.seconds;
  run.build_cpu_s = b.cpu_seconds;
  run.index_bytes = b.index_bytes;
  run.build_note =
      b.sql.empty()
          ? "no index (exact scan)"
          : b.sql + "; maintenance_work_mem=" + o.maintenance_work_mem +
                ", max_parallel_maintenance_workers=" + std::to_string(o.parallel_workers);

  const std::string guc = o.method == "hnsw"      ? "hnsw.ef_search"
                          : o.method == "ivfflat" ? "ivfflat.probes"
                                                  : "";
  QueryClient single(o, table, ds);
  std::vector<std::unique_ptr<QueryClient>> many;
  for (int i = 0; i < o.clients; i++) many.push_back(std::make_unique<QueryClient>(o, table, ds));

  for (int v : o.sweep) {
    PointResult p;
    p.value = v;
    single.Set(guc, v);
    for (auto& c : many) c->Set(guc, v);
    p.plan = single.Plan(ds.queries.Row(0));
    bool uses_index = p.plan.find(index) != std::string::npos;
    if (o.method != "none" && !uses_index)
      fprintf(stderr, "[bench] WARNING: the plan does not use %s: %s\n", index.c_str(),
              p.plan.c_str());
    const int backend = single.BackendPid();
    Engine e{[](int) {}, [&](const float* q, int32_t* out) { single.Run(q, out); },
             [backend]() { return ProcessCpuSeconds(backend); }};
    IdMatrix res;
    p.single = TimeSingle(e, ds, o, &res);
    p.recall = RecallAtK(res, ds.truth, o.k);
    if (!many.empty()) p.qps_concurrent = TimeConcurrent(many, ds, o);
    fprintf(stderr,
            "[bench] ragstore %s=%d recall@%zu %.4f qps %.0f p50 %.3f ms p99 %.3f ms "
            "cpu %.3f ms/q qps(%d clients) %.0f\n",
            SweepName(o).c_str(), v, o.k, p.recall, p.single.qps, p.single.p50_ms, p.single.p99_ms,
            p.single.cpu_ms, o.clients, p.qps_concurrent);
    run.points.push_back(p);
  }
  return run;
}

EngineRun RunFaiss(const Options& o, const Dataset& ds) {
  EngineRun run;
  run.engine = "faiss";
  const int d = int(ds.base.dim);
  const bool cosine = ds.metric == KnnMetric::kCosine;
  const faiss::MetricType mt =
      ds.metric == KnnMetric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
  // Cosine: FAISS searches normalized vectors by inner product (same order as cosine distance).
  FloatMatrix base_n, queries_n;
  const FloatMatrix* base = &ds.base;
  Dataset qds;  // the queries FAISS sees
  qds.base.dim = ds.base.dim;
  qds.queries = ds.queries;
  if (cosine) {
    base_n = ds.base;
    faiss::fvec_renorm_L2(size_t(d), base_n.rows, base_n.data.data());
    faiss::fvec_renorm_L2(size_t(d), qds.queries.rows, qds.queries.data.data());
    base = &base_n;
  }
  int build_threads = o.faiss_build_threads > 0 ? o.faiss_build_threads : omp_get_num_procs();
  omp_set_num_threads(build_threads);

  std::unique_ptr<faiss::Index> quantizer;
  std::unique_ptr<faiss::Index> index;
  std::function<void(int)> set;
  auto t0 = Clock::now();
  timespec cpu0;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
  if (o.method == "hnsw") {
    auto* h = new faiss::IndexHNSWFlat(d, o.m, mt);
    index.reset(h);
    h->hnsw.efConstruction = o.ef_construction;
    h->add(faiss::Index::idx_t(base->rows), base->data.data());
    set = [h](int v) { h->hnsw.efSearch = v; };
    run.build_note = "IndexHNSWFlat M=" + std::to_string(o.m) +
                     " efConstruction=" + std::to_string(o.ef_construction);
  } else if (o.method == "ivfflat") {
    quantizer.reset(new faiss::IndexFlat(d, mt));
    auto* ivf = new faiss::IndexIVFFlat(quantizer.get(), size_t(d), size_t(o.lists), mt);
    index.reset(ivf);
    ivf->train(faiss::Index::idx_t(base->rows), base->data.data());
    ivf->add(faiss::Index::idx_t(base->rows), base->data.data());
    set = [ivf](int v) { ivf->nprobe = size_t(v); };
    run.build_note = "IndexIVFFlat nlist=" + std::to_string(o.lists) +
                     " (k-means: FAISS defaults, 10 iterations, <= 256 points per centroid)";
  } else {
    index.reset(new faiss::IndexFlat(d, mt));
    index->add(faiss::Index::idx_t(base->rows), base->data.data());
    set = [](int) {};
    run.build_note = "IndexFlat (exact)";
  }
  run.build_s = SecondsSince(t0);
  timespec cpu1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
  run.build_cpu_s = double(cpu1.tv_sec - cpu0.tv_sec) + double(cpu1.tv_nsec - cpu0.tv_nsec) * 1e-9;
  run.build_note += ", " + std::to_string(build_threads) + " threads";
  fprintf(stderr, "[bench] faiss %s built in %.2f s\n", run.build_note.c_str(), run.build_s);

  omp_set_num_threads(1);  // single-thread search: one query at a time, like one backend
  std::vector<float> dist(o.k);
  std::vector<faiss::Index::idx_t> ids(o.k);
  faiss::Index* idx = index.get();
  Engine e{set,
           [&](const float* q, int32_t* out) {
             idx->search(1, q, faiss::Index::idx_t(o.k), dist.data(), ids.data());
             for (size_t j = 0; j < o.k; j++) out[j] = int32_t(ids[j]);
           },
           []() { return ThreadCpuSeconds(); }};
  for (int v : o.sweep) {
    PointResult p;
    p.value = v;
    set(v);
    IdMatrix res;
    p.single = TimeSingle(e, qds, o, &res);
    p.recall = RecallAtK(res, ds.truth, o.k);
    fprintf(stderr,
            "[bench] faiss %s=%d recall@%zu %.4f qps %.0f p50 %.3f ms p99 %.3f ms "
            "cpu %.3f ms/q\n",
            SweepName(o).c_str(), v, o.k, p.recall, p.single.qps, p.single.p50_ms, p.single.p99_ms,
            p.single.cpu_ms);
    run.points.push_back(p);
  }
  omp_set_num_threads(omp_get_num_procs());
  return run;
}

// ---------------------------------------------------------------------------------------------
// Output

const char* kCaveat =
    "Measured on a shared 2-core machine while other engineers compile and test: expect "
    "10-30% noise between runs; compare figures from the same run. Medians of the repeated "
    "passes are reported; builds are single runs.";

std::string LoadAvg() {
  double l[3];
  if (getloadavg(l, 3) != 3) return "?";
  char buf[64];
  snprintf(buf, sizeof buf, "%.2f %.2f %.2f", l[0], l[1], l[2]);
  return buf;
}

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\')
      o += '\\', o += c;
    else if (c == '\n')
      o += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20)
      o += ' ';
    else
      o += c;
  }
  return o;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

// ---------------------------------------------------------------------------------------------
// Filtered search (--method filtered)
//
// Query q keeps the rows WHERE id % M = q % M (selectivity 1/M; each query its own subset, ids
// are uncorrelated with the synthetic vectors) and asks for the k nearest of them by L2.
// ragstore: the hnsw and ivfflat indexes with iterative scans (relaxed_order), the index forced
// (enable_seqscan = off); FAISS: IndexHNSWFlat / IndexIVFFlat searched with an IDSelectorBitmap
// in SearchParametersHNSW / SearchParametersIVF, once with ragstore's parameters and once with
// efSearch / nprobe scaled to the selectivity (FAISS has no iterative scan), and an exact
// search of the selected rows (IndexFlat with the same selector).

// Exact filtered top k for every query and modulus M: rows with id % M == q % M, by double
// precision L2, ties by lower id; fewer than k when fewer rows pass.
std::vector<std::vector<int32_t>> FilteredTruth(const Dataset& ds, int modulus, size_t k) {
  std::vector<std::vector<int32_t>> truth(ds.queries.rows);
  const size_t dim = ds.base.dim;
#pragma omp parallel for schedule(dynamic)
  for (size_t q = 0; q < ds.queries.rows; q++) {
    std::vector<std::pair<double, int32_t>> cand;
    const float* x = ds.queries.Row(q);
    for (size_t id = q % modulus; id < ds.base.rows; id += size_t(modulus)) {
      const float* y = ds.base.Row(id);
      double d = 0;
      for (size_t j = 0; j < dim; j++) d += (double(x[j]) - y[j]) * (double(x[j]) - y[j]);
      cand.push_back({d, int32_t(id)});
    }
    size_t n = std::min(k, cand.size());
    std::partial_sort(cand.begin(), cand.begin() + n, cand.end());
    for (size_t i = 0; i < n; i++) truth[q].push_back(cand[i].second);
  }
  return truth;
}

// Mean over queries of |returned ∩ truth| / |truth| (queries with an empty truth skipped).
double FilteredRecall(const IdMatrix& got, const std::vector<std::vector<int32_t>>& truth) {
  double sum = 0;
  size_t n = 0;
  for (size_t q = 0; q < truth.size(); q++) {
    if (truth[q].empty()) continue;
    size_t hits = 0;
    for (int32_t id : truth[q])
      for (size_t j = 0; j < got.k; j++)
        if (got.Row(q)[j] == id) {
          hits++;
          break;
        }
    sum += double(hits) / double(truth[q].size());
    n++;
  }
  return n ? sum / double(n) : 0;
}

struct FilteredPoint {
  std::string engine;  // "ragstore hnsw", "faiss ivf (scaled)", ...
  std::string params;  // e.g. "ef_search=40 relaxed_order max_scan_tuples=20000"
  int modulus = 0;
  double recall = 0, qps = 0, cpu_ms = -1;
  double visited = 0;  // per query: ragstore rows the index returned (idx_tup_read), FAISS ndis
  double rows = 0;     // per query: rows returned (<= k)
  std::string plan;
};

// One query connection for WHERE id % $2 = $3 ORDER BY embedding <-> $1 LIMIT k.
class FilteredClient {
 public:
  FilteredClient(const Options& o, const std::string& table, const std::string& index, size_t dim,
                 const std::vector<std::string>& settings)
      : conn_(Connect(o.dbname)), k_(o.k), dim_(dim), index_(index) {
    Exec(conn_.get(), "SET jit = off");
    Exec(conn_.get(), "SET enable_seqscan = off");  // measure the index, whatever the plan
    for (const auto& s : settings) Exec(conn_.get(), s);
    Oid types[3] = {Oid(atol(Scalar(conn_.get(), "SELECT 'vector'::regtype::oid").c_str())), 23,
                    23};
    sql_ = "SELECT id FROM " + table + " WHERE id % $2 = $3 ORDER BY embedding <-> $1 LIMIT " +
           std::to_string(k_);
    Result r(PQprepare(conn_.get(), "filtered", sql_.c_str(), 3, types));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
      Fail("PQprepare failed: " + sql_ + "\n  " + PQerrorMessage(conn_.get()));
    types_[0] = types[0];
  }
  int BackendPid() const { return PQbackendPID(conn_.get()); }
  PGconn* conn() { return conn_.get(); }

  void Run(const float* q, int modulus, int residue, int32_t* out) {
    Result r = Execute("", q, modulus, residue);
    ReadIds(r.get(), k_, out);
  }
  std::string Plan(const float* q, int modulus) {
    Result r = Execute("EXPLAIN (COSTS OFF) ", q, modulus, 0);
    std::string plan;
    for (int i = 0; i < PQntuples(r.get()); i++) {
      std::string line = PQgetvalue(r.get(), i, 0);
      size_t b = line.find_first_not_of(" ->");
      if (b != std::string::npos) line = line.substr(b);
      if (line.rfind("Order By", 0) == 0) continue;
      plan += (plan.empty() ? "" : " / ") + line;
    }
    return plan;
  }
  // Rows the index has returned in this backend's current transaction (idx_tup_read).
  double TuplesReturned() {
    return atof(
        Scalar(conn_.get(), "SELECT pg_stat_get_xact_tuples_returned('" + index_ + "'::regclass)")
            .c_str());
  }

 private:
  Result Execute(const std::string& prefix, const float* q, int modulus, int residue) {
    param_.clear();
    AppendVectorBinary(&param_, q, dim_);
    std::string m = std::to_string(modulus), rr = std::to_string(residue);
    const char* values[3] = {param_.data(), m.c_str(), rr.c_str()};
    int lengths[3] = {int(param_.size()), 0, 0};
    int formats[3] = {1, 0, 0};
    PGresult* res = prefix.empty() ? PQexecPrepared(conn_.get(), "filtered", 3, values, lengths,
                                                    formats, prefix.empty() ? 1 : 0)
                                   : PQexecParams(conn_.get(), (prefix + sql_).c_str(), 3, types_,
                                                  values, lengths, formats, 0);
    Result r(res);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      Fail(std::string("filtered query failed: ") + PQerrorMessage(conn_.get()));
    return r;
  }
  Conn conn_;
  size_t k_, dim_;
  std::string index_, sql_, param_;
  Oid types_[3] = {0, 23, 23};
};

// A filtered search engine: run(query index, modulus, out) and a counter of work done.
struct FilteredEngine {
  std::function<void(size_t, int, int32_t*)> run;
  std::function<double()> cpu_seconds;
};

// Warm-up, then `repeats` timed passes over the queries; fills p.qps and p.cpu_ms (medians).
void TimeFiltered(FilteredEngine& e, const Options& o, size_t nq, int modulus, FilteredPoint* p) {
  std::vector<int32_t> out(o.k);
  for (size_t i = 0; i < std::min<size_t>(o.warmup, nq); i++) e.run(i, modulus, out.data());
  std::vector<double> qps, cpu;
  for (int rep = 0; rep < o.repeats; rep++) {
    double c0 = e.cpu_seconds();
    auto t0 = Clock::now();
    for (size_t i = 0; i < nq; i++) e.run(i, modulus, out.data());
    double wall = SecondsSince(t0);
    double c1 = e.cpu_seconds();
    qps.push_back(double(nq) / wall);
    if (c0 >= 0 && c1 >= 0) cpu.push_back((c1 - c0) * 1e3 / double(nq));
  }
  p->qps = Median(qps);
  p->cpu_ms = cpu.empty() ? -1 : Median(cpu);
}

double RowsPerQuery(const IdMatrix& got) {
  size_t n = 0;
  for (int32_t id : got.data) n += id >= 0;
  return got.rows ? double(n) / double(got.rows) : 0;
}

void RunFilteredServer(const Options& o, const Dataset& ds,
                       const std::vector<std::vector<std::vector<int32_t>>>& truths,
                       std::vector<FilteredPoint>* points, std::vector<std::string>* builds) {
  EnsureDatabase(o.dbname);
  Conn admin = Connect(o.dbname);
  Exec(admin.get(), "SET client_min_messages = warning");
  for (const auto& method : o.filter_methods) EnsureExtension(admin.get(), method);
  Exec(admin.get(), "RESET client_min_messages");
  std::string table = TableName(ds);
  LoadTable(admin.get(), table, ds, o.reload);
  for (const auto& method : o.filter_methods) {
    Options om = o;
    om.method = method;
    std::string index = table.substr(0, 50) + "_ann_idx";
    BuildResult b;
    if (o.keep_index && IndexMatches(admin.get(), om, index)) {
      b.sql = "reused " + index;
    } else {
      Exec(admin.get(), "DROP INDEX IF EXISTS " + index);
      b = BuildIndex(admin.get(), om, table, index);
    }
    builds->push_back(method + ": " + b.sql + " (" + Fmt("%.1f", b.seconds) + " s, " +
                      Fmt("%.1f", b.index_bytes / 1048576.0) + " MB)");
    std::vector<std::string> settings;
    std::string params;
    if (method == "hnsw") {
      settings = {"SET hnsw.ef_search = " + std::to_string(o.filter_ef_search),
                  "SET hnsw.iterative_scan = relaxed_order",
                  "SET hnsw.max_scan_tuples = " + std::to_string(o.max_scan_tuples)};
      params = "ef_search=" + std::to_string(o.filter_ef_search) +
               " relaxed_order max_scan_tuples=" + std::to_string(o.max_scan_tuples);
    } else {
      settings = {"SET ivfflat.probes = " + std::to_string(o.filter_probes),
                  "SET ivfflat.iterative_scan = relaxed_order"};
      params = "lists=" + std::to_string(o.lists) + " probes=" + std::to_string(o.filter_probes) +
               " relaxed_order max_probes=all";
    }
    FilteredClient client(o, table, index, ds.base.dim, settings);
    const int backend = client.BackendPid();
    for (size_t mi = 0; mi < o.moduli.size(); mi++) {
      const int modulus = o.moduli[mi];
      FilteredPoint p;
      p.engine = "ragstore " + method;
      p.params = params;
      p.modulus = modulus;
      p.plan = client.Plan(ds.queries.Row(0), modulus);
      if (p.plan.find(index) == std::string::npos)
        fprintf(stderr, "[bench] WARNING: the plan does not use %s: %s\n", index.c_str(),
                p.plan.c_str());
      // Results and rows returned by the index, in one transaction (pending statistics are
      // not flushed inside a transaction block, so the differences are exact).
      IdMatrix got;
      got.rows = ds.queries.rows;
      got.k = o.k;
      got.data.assign(got.rows * o.k, -1);
      Exec(client.conn(), "BEGIN");
      double before = client.TuplesReturned();
      for (size_t q = 0; q < ds.queries.rows; q++)
        client.Run(ds.queries.Row(q), modulus, int(q % modulus), got.Row(q));
      p.visited = (client.TuplesReturned() - before) / double(ds.queries.rows);
      Exec(client.conn(), "COMMIT");
      p.recall = FilteredRecall(got, truths[mi]);
      p.rows = RowsPerQuery(got);
      FilteredEngine e{
          [&](size_t q, int m, int32_t* out) { client.Run(ds.queries.Row(q), m, int(q % m), out); },
          [backend]() { return ProcessCpuSeconds(backend); }};
      TimeFiltered(e, o, ds.queries.rows, modulus, &p);
      fprintf(stderr,
              "[bench] %s 1/%d: recall %.4f rows %.1f qps %.1f cpu %.2f ms/q index rows %.0f/q\n",
              p.engine.c_str(), modulus, p.recall, p.rows, p.qps, p.cpu_ms, p.visited);
      points->push_back(p);
    }
    Exec(admin.get(), "DROP INDEX IF EXISTS " + index);
  }
}

void RunFilteredFaiss(const Options& o, const Dataset& ds,
                      const std::vector<std::vector<std::vector<int32_t>>>& truths,
                      std::vector<FilteredPoint>* points, std::vector<std::string>* builds) {
  const int d = int(ds.base.dim);
  const size_t n = ds.base.rows;
  int threads = o.faiss_build_threads > 0 ? o.faiss_build_threads : omp_get_num_procs();
  // One bitmap per (modulus, residue) in use.
  auto bitmap = [&](int modulus, int residue) {
    std::vector<uint8_t> bits((n + 7) / 8, 0);
    for (size_t id = size_t(residue); id < n; id += size_t(modulus))
      bits[id >> 3] |= uint8_t(1u << (id & 7));
    return bits;
  };
  std::vector<std::string> methods = o.filter_methods;
  methods.push_back("flat");
  for (const auto& method : methods) {
    omp_set_num_threads(threads);
    std::unique_ptr<faiss::Index> quantizer, index;
    auto t0 = Clock::now();
    if (method == "flat") {
      index.reset(new faiss::IndexFlat(d, faiss::METRIC_L2));
      index->add(faiss::Index::idx_t(n), ds.base.data.data());
    } else if (method == "hnsw") {
      auto* h = new faiss::IndexHNSWFlat(d, o.m, faiss::METRIC_L2);
      index.reset(h);
      h->hnsw.efConstruction = o.ef_construction;
      h->add(faiss::Index::idx_t(n), ds.base.data.data());
    } else {
      quantizer.reset(new faiss::IndexFlat(d, faiss::METRIC_L2));
      auto* ivf =
          new faiss::IndexIVFFlat(quantizer.get(), size_t(d), size_t(o.lists), faiss::METRIC_L2);
      index.reset(ivf);
      ivf->train(faiss::Index::idx_t(n), ds.base.data.data());
      ivf->add(faiss::Index::idx_t(n), ds.base.data.data());
    }
    if (method != "flat")
      builds->push_back("faiss " + method + ": " + Fmt("%.1f", SecondsSince(t0)) + " s, " +
                        std::to_string(threads) + " threads");
    omp_set_num_threads(1);
    for (size_t mi = 0; mi < o.moduli.size(); mi++) {
      const int modulus = o.moduli[mi];
      std::vector<std::vector<uint8_t>> maps;
      std::vector<std::unique_ptr<faiss::IDSelectorBitmap>> sels;
      size_t residues = std::min<size_t>(size_t(modulus), ds.queries.rows);
      for (size_t r = 0; r < residues; r++) maps.push_back(bitmap(modulus, int(r)));
      for (size_t r = 0; r < residues; r++)
        sels.push_back(std::make_unique<faiss::IDSelectorBitmap>(maps[r].size(), maps[r].data()));
      const double sel = 1.0 / modulus;
      for (int scaled = 0; scaled < (method == "flat" ? 1 : 2); scaled++) {
        FilteredPoint p;
        p.engine = "faiss " + method + (scaled ? " (scaled)" : "");
        p.modulus = modulus;
        faiss::SearchParametersHNSW hp;
        faiss::SearchParametersIVF ip;
        faiss::SearchParameters fp;
        faiss::SearchParameters* sp;
        if (method == "flat") {
          p.params = "exact, IDSelectorBitmap";
          sp = &fp;
        } else if (method == "hnsw") {
          // scaled: a search wide enough to meet about 2k rows that pass the filter
          // (capped at 10,000: beyond that the exact search below is the better lower bound)
          hp.efSearch = scaled ? int(std::min<double>(std::min<double>(double(n), 10000.0),
                                                      std::max(double(o.filter_ef_search),
                                                               std::ceil(2.0 * o.k / sel))))
                               : o.filter_ef_search;
          static_cast<faiss::IndexHNSW*>(index.get())->hnsw.efSearch = hp.efSearch;
          p.params = "efSearch=" + std::to_string(hp.efSearch) + " IDSelectorBitmap";
          sp = &hp;
        } else {
          // scaled: enough lists to hold about 2k rows that pass the filter
          double per_list = double(n) / o.lists * sel;
          ip.nprobe = scaled ? size_t(std::min<double>(
                                   o.lists, std::max<double>(o.filter_probes,
                                                             std::ceil(2.0 * o.k / per_list))))
                             : size_t(o.filter_probes);
          p.params = "nprobe=" + std::to_string(ip.nprobe) + " IDSelectorBitmap";
          sp = &ip;
        }
        std::vector<float> dist(o.k);
        std::vector<faiss::Index::idx_t> ids(o.k);
        faiss::Index* idx = index.get();
        auto run = [&](size_t q, int m, int32_t* out) {
          sp->sel = sels[q % std::min<size_t>(size_t(m), sels.size())].get();
          idx->search(1, ds.queries.Row(q), faiss::Index::idx_t(o.k), dist.data(), ids.data(), sp);
          for (size_t j = 0; j < o.k; j++) out[j] = int32_t(ids[j]);
        };
        IdMatrix got;
        got.rows = ds.queries.rows;
        got.k = o.k;
        got.data.assign(got.rows * o.k, -1);
        faiss::hnsw_stats.reset();
        faiss::indexIVF_stats.reset();
        for (size_t q = 0; q < ds.queries.rows; q++) run(q, modulus, got.Row(q));
        p.visited = method == "flat" ? double(n) / modulus  // one distance per selected row
                                     : double(method == "hnsw" ? faiss::hnsw_stats.ndis
                                                               : faiss::indexIVF_stats.ndis) /
                                           double(ds.queries.rows);
        p.recall = FilteredRecall(got, truths[mi]);
        p.rows = RowsPerQuery(got);
        FilteredEngine e{run, []() { return ThreadCpuSeconds(); }};
        TimeFiltered(e, o, ds.queries.rows, modulus, &p);
        fprintf(stderr,
                "[bench] %s 1/%d: recall %.4f rows %.1f qps %.1f cpu %.3f ms/q distances %.0f/q\n",
                p.engine.c_str(), modulus, p.recall, p.rows, p.qps, p.cpu_ms, p.visited);
        points->push_back(p);
      }
    }
  }
  omp_set_num_threads(omp_get_num_procs());
}

int RunFiltered(const Options& o, const Dataset& ds, const std::string& data_desc,
                const std::string& timestamp) {
  const std::string load_start = LoadAvg();
  std::vector<std::vector<std::vector<int32_t>>> truths;
  for (int m : o.moduli) truths.push_back(FilteredTruth(ds, m, o.k));
  std::vector<FilteredPoint> points;
  std::vector<std::string> builds;
  if (o.server) RunFilteredServer(o, ds, truths, &points, &builds);
  if (o.faiss) RunFilteredFaiss(o, ds, truths, &points, &builds);
  const std::string load_end = LoadAvg();

  printf("\n== ann_bench filtered: %s ==\n", data_desc.c_str());
  printf(
      "WHERE id %% M = r ORDER BY embedding <-> q LIMIT %zu, %zu queries, %d timed passes "
      "(medians), load avg %s -> %s\n",
      o.k, ds.queries.rows, o.repeats, load_start.c_str(), load_end.c_str());
  for (const auto& b : builds) printf("build %s\n", b.c_str());
  printf("\n%-11s | %-24s | %-48s | %7s %6s %8s %8s %10s\n", "selectivity", "engine", "parameters",
         "recall", "rows", "qps", "cpu ms", "visited/q");
  printf("%s\n", std::string(130, '-').c_str());
  for (int m : o.moduli)
    for (const auto& p : points)
      if (p.modulus == m)
        printf("%-11s | %-24s | %-48s | %7.4f %6.1f %8.1f %8.3f %10s\n",
               (Fmt("%g", 100.0 / m) + "%").c_str(), p.engine.c_str(), p.params.c_str(), p.recall,
               p.rows, p.qps, p.cpu_ms, p.visited > 0 ? Fmt("%.0f", p.visited).c_str() : "n/a");
  printf(
      "\nrecall: of the exact filtered top %zu (fewer when fewer rows pass); rows: rows returned "
      "per query; visited/q: ragstore, rows the index handed to the executor's filter "
      "(idx_tup_read); FAISS, distances computed (ndis; n/a: FAISS keeps no count there). cpu ms: "
      "server backend or FAISS thread CPU per query. FAISS (scaled): efSearch / nprobe "
      "raised so that about 2 x %zu rows that pass the filter are met (FAISS has no iterative "
      "scan; efSearch at most 10,000); faiss flat: exact search of the selected rows.\n",
      o.k, o.k);
  if (!points.empty() && !points.front().plan.empty())
    printf("plan: %s\n", points.front().plan.c_str());
  printf("NOTE: %s%s\n", ds.synthetic ? "data is SYNTHETIC (Gaussian mixture). " : "", kCaveat);

  MakeDirs(o.out_dir);
  std::string path = o.out_dir + "/filtered_" + ds.label + "_" + timestamp + ".csv";
  std::ofstream f(path);
  f << "# " << kCaveat << "\n";
  f << "timestamp,data,rows,dim,queries,k,selectivity,engine,params,recall,rows_per_query,qps,cpu_"
       "ms,"
       "visited_per_query,load_avg_start,load_avg_end,plan\n";
  for (const auto& p : points)
    f << timestamp << "," << ds.label << "," << ds.base.rows << "," << ds.base.dim << ","
      << ds.queries.rows << "," << o.k << "," << Fmt("%g", 1.0 / p.modulus) << "," << p.engine
      << "," << CsvField(p.params) << "," << Fmt("%.4f", p.recall) << "," << Fmt("%.2f", p.rows)
      << "," << Fmt("%.1f", p.qps) << "," << Fmt("%.4f", p.cpu_ms) << "," << Fmt("%.1f", p.visited)
      << "," << CsvField(load_start) << "," << CsvField(load_end) << "," << CsvField(p.plan)
      << "\n";
  fprintf(stderr, "[bench] wrote %s\n", path.c_str());
  return 0;
}

struct Report {
  Options o;
  std::string timestamp, data_desc, load_start, load_end, server_version;
  std::vector<std::string> notices;
  const Dataset* ds = nullptr;
  EngineRun server, faiss;
  bool have_server = false, have_faiss = false;
};

void PrintTable(const Report& r) {
  const Options& o = r.o;
  printf("\n== ann_bench: %s on %s ==\n", o.method.c_str(), r.data_desc.c_str());
  printf(
      "k=%zu, %zu queries, metric %s, %d timed passes per point (medians), warm-up %zu, "
      "load avg %s -> %s\n",
      o.k, r.ds->queries.rows, o.metric.c_str(), o.repeats, std::min(o.warmup, r.ds->queries.rows),
      r.load_start.c_str(), r.load_end.c_str());
  if (r.have_server)
    printf("build ragstore: %.2f s, CPU %.2f s, index %.1f MB  (%s)\n", r.server.build_s,
           r.server.build_cpu_s, r.server.index_bytes / 1048576.0, r.server.build_note.c_str());
  if (r.have_faiss)
    printf("build faiss:    %.2f s, CPU %.2f s  (%s)\n", r.faiss.build_s, r.faiss.build_cpu_s,
           r.faiss.build_note.c_str());
  printf("\n%-9s | %-7s %7s %7s %7s %7s %8s | %-7s %7s %7s %7s %7s | %6s %6s %6s\n",
         SweepName(o).c_str(), "recall", "qps", "p50 ms", "p99 ms", "cpu ms",
         ("qps " + std::to_string(o.clients) + "cl").c_str(), "F.recal", "F.qps", "F.p50", "F.p99",
         "F.cpu", "p50 x", "qps x", "cpu x");
  printf("%s\n", std::string(134, '-').c_str());
  for (size_t i = 0; i < o.sweep.size(); i++) {
    std::string line = (o.method == "none" ? std::string("exact") : std::to_string(o.sweep[i]));
    char buf[512];
    snprintf(buf, sizeof buf, "%-9s |", line.c_str());
    std::string s = buf;
    const PointResult* sp = r.have_server ? &r.server.points[i] : nullptr;
    const PointResult* fp = r.have_faiss ? &r.faiss.points[i] : nullptr;
    if (sp) {
      snprintf(buf, sizeof buf, " %-7.4f %7.0f %7.3f %7.3f %7.3f %8.0f |", sp->recall,
               sp->single.qps, sp->single.p50_ms, sp->single.p99_ms, sp->single.cpu_ms,
               sp->qps_concurrent);
    } else {
      snprintf(buf, sizeof buf, " %-7s %7s %7s %7s %7s %8s |", "-", "-", "-", "-", "-", "-");
    }
    s += buf;
    if (fp) {
      snprintf(buf, sizeof buf, " %-7.4f %7.0f %7.3f %7.3f %7.3f |", fp->recall, fp->single.qps,
               fp->single.p50_ms, fp->single.p99_ms, fp->single.cpu_ms);
    } else {
      snprintf(buf, sizeof buf, " %-7s %7s %7s %7s %7s |", "-", "-", "-", "-", "-");
    }
    s += buf;
    if (sp && fp && fp->single.p50_ms > 0 && sp->single.qps > 0) {
      snprintf(buf, sizeof buf, " %6.2f %6.2f", sp->single.p50_ms / fp->single.p50_ms,
               fp->single.qps / sp->single.qps);
      s += buf;
      if (sp->single.cpu_ms >= 0 && fp->single.cpu_ms > 0) {
        snprintf(buf, sizeof buf, " %6.2f", sp->single.cpu_ms / fp->single.cpu_ms);
        s += buf;
      }
    }
    printf("%s\n", s.c_str());
  }
  printf(
      "\nF.* = FAISS in-process, one thread, same data and parameters (lower bound). "
      "p50 x = server p50 / FAISS p50; qps x = FAISS qps / server qps (1.00 = no overhead).\n"
      "cpu ms = mean CPU time per query of the server backend (/proc, 10 ms ticks over a pass) "
      "or of FAISS's thread; cpu x = server / FAISS. CPU time is much less disturbed by other "
      "jobs than wall time: trust it over qps when the load average is high (backend only: "
      "parallel workers of a parallel seq scan are not counted).\n");
  if (r.have_server && !r.server.points.empty())
    printf("plan: %s\n", r.server.points.back().plan.c_str());
  printf("NOTE: %s%s\n", r.ds->synthetic ? "data is SYNTHETIC (Gaussian mixture). " : "", kCaveat);
}

void WriteFiles(const Report& r) {
  const Options& o = r.o;
  MakeDirs(o.out_dir);
  std::string stem = o.out_dir + "/" + o.method + "_" + r.ds->label + "_" + r.timestamp;
  // CSV: one row per engine and sweep point.
  {
    std::ofstream f(stem + ".csv");
    f << "# " << kCaveat << (r.ds->synthetic ? " Data: synthetic." : "") << "\n";
    f << "timestamp,engine,method,data,synthetic,rows,dim,queries,k,metric,m,ef_construction,"
         "lists,maintenance_work_mem,parallel_workers,build_s,index_bytes,sweep,value,recall,"
         "qps_1,p50_ms,p99_ms,cpu_ms,clients,qps_clients,repeats,load_avg_start,load_avg_end,"
         "plan\n";
    auto rows = [&](const EngineRun& e, bool server) {
      for (const auto& p : e.points) {
        f << r.timestamp << "," << e.engine << "," << o.method << "," << r.ds->label << ","
          << (r.ds->synthetic ? "yes" : "no") << "," << r.ds->base.rows << "," << r.ds->base.dim
          << "," << r.ds->queries.rows << "," << o.k << "," << o.metric << "," << o.m << ","
          << o.ef_construction << "," << o.lists << "," << o.maintenance_work_mem << ","
          << o.parallel_workers << "," << Fmt("%.3f", e.build_s) << "," << e.index_bytes << ","
          << SweepName(o) << "," << p.value << "," << Fmt("%.4f", p.recall) << ","
          << Fmt("%.1f", p.single.qps) << "," << Fmt("%.4f", p.single.p50_ms) << ","
          << Fmt("%.4f", p.single.p99_ms) << "," << Fmt("%.4f", p.single.cpu_ms) << ","
          << (server ? o.clients : 0) << "," << Fmt("%.1f", server ? p.qps_concurrent : 0.0) << ","
          << o.repeats << "," << CsvField(r.load_start) << "," << CsvField(r.load_end) << ","
          << CsvField(p.plan) << "\n";
      }
    };
    if (r.have_server) rows(r.server, true);
    if (r.have_faiss) rows(r.faiss, false);
  }
  // JSON: the whole run.
  {
    std::ofstream f(stem + ".json");
    f << "{\n  \"caveat\": \"" << JsonEscape(kCaveat) << "\",\n";
    f << "  \"timestamp\": \"" << r.timestamp << "\",\n";
    f << "  \"method\": \"" << o.method << "\",\n";
    f << "  \"data\": {\"label\": \"" << JsonEscape(r.ds->label)
      << "\", \"synthetic\": " << (r.ds->synthetic ? "true" : "false") << ", \"description\": \""
      << JsonEscape(r.data_desc) << "\", \"rows\": " << r.ds->base.rows
      << ", \"dim\": " << r.ds->base.dim << ", \"queries\": " << r.ds->queries.rows << "},\n";
    f << "  \"params\": {\"k\": " << o.k << ", \"metric\": \"" << o.metric << "\", \"m\": " << o.m
      << ", \"ef_construction\": " << o.ef_construction << ", \"lists\": " << o.lists
      << ", \"maintenance_work_mem\": \"" << o.maintenance_work_mem
      << "\", \"max_parallel_maintenance_workers\": " << o.parallel_workers
      << ", \"clients\": " << o.clients << ", \"repeats\": " << o.repeats
      << ", \"warmup\": " << o.warmup << "},\n";
    f << "  \"machine\": {\"cores\": " << omp_get_num_procs() << ", \"load_avg_start\": \""
      << r.load_start << "\", \"load_avg_end\": \"" << r.load_end << "\", \"server\": \""
      << JsonEscape(r.server_version) << "\"},\n";
    f << "  \"note\": \"" << JsonEscape(o.note) << "\",\n  \"server_notices\": [";
    for (size_t i = 0; i < r.notices.size(); i++)
      f << (i ? ", " : "") << "\"" << JsonEscape(r.notices[i]) << "\"";
    f << "],\n  \"engines\": [";
    bool first = true;
    auto eng = [&](const EngineRun& e, bool server) {
      f << (first ? "" : ",") << "\n    {\"engine\": \"" << e.engine
        << "\", \"build_s\": " << Fmt("%.3f", e.build_s) << ", \"index_bytes\": " << e.index_bytes
        << ", \"build\": \"" << JsonEscape(e.build_note) << "\", \"points\": [";
      first = false;
      for (size_t i = 0; i < e.points.size(); i++) {
        const auto& p = e.points[i];
        f << (i ? "," : "") << "\n      {\"" << SweepName(o) << "\": " << p.value
          << ", \"recall\": " << Fmt("%.4f", p.recall) << ", \"qps\": " << Fmt("%.1f", p.single.qps)
          << ", \"p50_ms\": " << Fmt("%.4f", p.single.p50_ms)
          << ", \"p99_ms\": " << Fmt("%.4f", p.single.p99_ms)
          << ", \"cpu_ms\": " << Fmt("%.4f", p.single.cpu_ms);
        if (server)
          f << ", \"qps_" << o.clients << "_clients\": " << Fmt("%.1f", p.qps_concurrent)
            << ", \"plan\": \"" << JsonEscape(p.plan) << "\"";
        f << "}";
      }
      f << "]}";
    };
    if (r.have_server) eng(r.server, true);
    if (r.have_faiss) eng(r.faiss, false);
    f << "\n  ]\n}\n";
  }
  fprintf(stderr, "[bench] wrote %s.csv and %s.json\n", stem.c_str(), stem.c_str());
}

// Recall-vs-QPS plot: <stem>.dat and <stem>.gp, rendered to <stem>.png when gnuplot is on PATH.
void Plot(const Report& r) {
  const Options& o = r.o;
  std::string stem = o.out_dir + "/" + o.method + "_" + r.ds->label + "_" + r.timestamp;
  {
    std::ofstream f(stem + ".dat");
    auto block = [&](const EngineRun& e, bool concurrent) {
      f << "# " << e.engine << (concurrent ? " concurrent" : "") << "\n";
      for (const auto& p : e.points)
        f << Fmt("%.4f", p.recall) << " "
          << Fmt("%.1f", concurrent ? p.qps_concurrent : p.single.qps) << " " << p.value << "\n";
      f << "\n\n";
    };
    // Blocks (gnuplot "index"): 0 ragstore 1 client, 1 ragstore N clients, 2 FAISS.
    if (r.have_server)
      block(r.server, false);
    else
      f << "# none\n0 0 0\n\n\n";
    if (r.have_server && o.clients > 0)
      block(r.server, true);
    else
      f << "# none\n0 0 0\n\n\n";
    if (r.have_faiss)
      block(r.faiss, false);
    else
      f << "# none\n0 0 0\n\n\n";
  }
  std::string base = stem.substr(stem.find_last_of('/') + 1);
  {
    std::ofstream f(stem + ".gp");
    f << "# Draws " << base << ".png: recall@" << o.k << " vs queries/s. gnuplot " << base
      << ".gp (in " << o.out_dir << ")\n";
    f << "set terminal pngcairo size 900,600 font 'sans,10' noenhanced\n";
    f << "set output '" << base << ".png'\n";
    f << "set title \"" << o.method << " on " << JsonEscape(r.data_desc) << ", k=" << o.k << "\\n"
      << (o.method == "hnsw" ? "m=" + std::to_string(o.m) + " ef_construction=" +
                                   std::to_string(o.ef_construction) + ", labels: ef_search"
                             : "lists=" + std::to_string(o.lists) + ", labels: probes")
      << "; shared 2-core machine, expect noise\"\n";
    f << "set xlabel 'recall@" << o.k << "'\nset ylabel 'queries/s (log)'\nset logscale y\n";
    f << "set grid\nset key bottom left\n";
    f << "plot ";
    std::vector<std::string> parts;
    if (r.have_server) {
      parts.push_back("'" + base +
                      ".dat' index 0 using 1:2 with linespoints lw 2 title 'ragstore, 1 client'");
      parts.push_back("'' index 0 using 1:2:3 with labels offset 0,1 notitle");
      if (o.clients > 0)
        parts.push_back("'' index 1 using 1:2 with linespoints lw 2 title 'ragstore, " +
                        std::to_string(o.clients) + " clients'");
    }
    if (r.have_faiss) {
      parts.push_back("'" + base +
                      ".dat' index 2 using 1:2 with linespoints lw 2 dt 2 title "
                      "'FAISS in-process, 1 thread'");
      parts.push_back("'' index 2 using 1:2:3 with labels offset 0,-1 notitle");
    }
    for (size_t i = 0; i < parts.size(); i++) f << (i ? ", \\\n     " : "") << parts[i];
    f << "\n";
  }
  if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
    fprintf(stderr, "[bench] gnuplot not installed: wrote %s.gp and .dat, no PNG\n", stem.c_str());
    return;
  }
  std::string cmd = "cd '" + o.out_dir + "' && gnuplot '" + base + ".gp'";
  if (system(cmd.c_str()) == 0)
    fprintf(stderr, "[bench] plot: %s.png\n", stem.c_str());
  else
    fprintf(stderr, "[bench] gnuplot failed on %s.gp\n", stem.c_str());
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
  Dataset ds = LoadData(o);
  r.ds = &ds;
  r.data_desc = ds.synthetic
                    ? "SYNTHETIC Gaussian mixture " + std::to_string(ds.base.rows) + " x " +
                          std::to_string(ds.base.dim) + " (" +
                          std::to_string(DefaultMixtureCentres(ds.base.rows)) + " centres N(0," +
                          Fmt("%g", o.centre_sigma) + "^2), noise N(0," + Fmt("%g", o.noise_sigma) +
                          "^2), seed " + std::to_string(o.seed) + ")"
                    : ds.label + " " + std::to_string(ds.base.rows) + " x " +
                          std::to_string(ds.base.dim) + " (real data)";
  if (o.method == "filtered") return RunFiltered(o, ds, r.data_desc, r.timestamp);
  if (o.server) {
    {
      Conn c = Connect("postgres");
      r.server_version = Scalar(c.get(), "SELECT version()");
    }
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
