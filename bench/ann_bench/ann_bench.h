// ann_bench: what the driver's files share (bench/README.md, "What the driver does").
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
// Files, one concern each:
//   options.cpp         command line (Options, --help)
//   data.cpp            data sets: files or synthetic, ground truth (plain and filtered)
//   measure.cpp         timing passes, CPU time, medians and percentiles, filtered recall
//   sql_client.cpp      the server side through libpq: load, build, prepared queries, sweeps
//   faiss_baseline.cpp  the in-process FAISS reference runs
//   report.cpp          the printed table, CSV, JSON and the gnuplot recall-vs-QPS plot
//   quantized.cpp       --method quantized | highdim: every quantizer side by side, targets
//   faiss_quantized.cpp FAISS's quantized indexes with IndexRefineFlat for that comparison
//   main.cpp            main: runs the parts in order
// Run it through bench/run.sh (builds, installs, starts the throwaway cluster); `--help` lists
// the options. The server is reached through libpq's PG* environment variables.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/recall.h"
#include "core/vecs_io.h"

namespace faiss {
struct Index;
}

namespace ragstore {
namespace bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] inline void Fail(const std::string& msg) { throw std::runtime_error(msg); }

// ---- options (options.cpp)

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
  size_t centres = 0;         // synthetic: mixture centres (0: DefaultMixtureCentres(rows))
  size_t intrinsic_dim = 0;   // synthetic: noise in a shared subspace of this dimension (0: all)
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
  // the index's reloption quantizer ('none': no WITH option, the unquantized index; 'halfvec':
  // no option either, the index is on embedding::halfvec(dim), see IndexedExpr)
  std::string quantizer = "none";
  std::vector<int> rerank;  // hnsw/ivfflat.rerank_candidates values per sweep point (empty: unset)
  // --method quantized | highdim (quantized.cpp): methods and quantizers side by side
  std::vector<std::string> case_methods = {"hnsw", "ivfflat"};
  std::vector<std::string> quantizers = {"none", "sq8", "binary", "pq"};
  std::vector<int> hnsw_sweep, ivfflat_sweep;  // ef_search and probes values of the case
  std::vector<size_t> dims = {3072, 4096};     // highdim: one data set per dimension
  // FAISS IndexIVFPQ + IndexRefineFlat in the quantized comparison (off by default: its
  // product-quantizer training dominates a run's CPU; --faiss-pq turns it on)
  bool faiss_pq = false;
  bool dim_given = false, lists_given = false, repeats_given = false, warmup_given = false;
  bool metric_given = false, quantizers_given = false;
};

// Parses the command line (exits after --help; throws on a bad option).
Options ParseArgs(int argc, char** argv);
// "ef_search", "probes" or "exact": the name of the swept parameter.
std::string SweepName(const Options& o);

// ---- data (data.cpp)

struct Dataset {
  std::string label;  // e.g. "synthetic_100000x128_s42", "sift5k"
  bool synthetic = false;
  FloatMatrix base, queries;
  IdMatrix truth;  // exact neighbours, nearest first (at least k per query)
  Metric metric = Metric::kL2;
};

bool FileExists(const std::string& p);
// mkdir -p; throws when path does not exist afterwards.
void MakeDirs(const std::string& path);
// The data set of o (files under RAGSTORE_DATA_DIR or synthetic) with its exact ground truth
// (the shipped file, else computed and cached; none for --method filtered).
Dataset LoadData(const Options& o);
// The data set as printed and plotted, e.g. "SYNTHETIC Gaussian mixture 100000 x 1536 (...)".
std::string DataDescription(const Options& o, const Dataset& ds);
// A fingerprint of the base rows (order-sensitive), stored in the table's comment.
uint64_t Fingerprint(const FloatMatrix& m);

// ---- measurements (measure.cpp)

struct PassStats {
  double qps = 0, p50_ms = 0, p99_ms = 0;
  double cpu_ms = -1;  // mean CPU time per query of the searching process/thread (-1: unknown)
};

struct PointResult {
  int value = 0;    // ef_search / probes (0 for an exact scan)
  int rerank = -1;  // rerank_candidates (ragstore) or k * k_factor (FAISS); -1: not set
  double recall = 0;
  PassStats single;  // medians over repeats
  double qps_concurrent = 0;
  std::string plan;  // first line of the plan (server only)
};

// A search engine under test: sets the sweep parameter and answers one query at a time.
struct Engine {
  std::function<void(int)> set;
  std::function<void(const float*, int32_t*)> search;
  std::function<double()> cpu_seconds;  // CPU used so far by whatever runs the search, or -1
};

struct EngineRun {
  std::string engine;  // "ragstore" or "faiss"
  double build_s = 0;
  double build_cpu_s = -1;  // CPU time of the build, all threads (-1: unknown)
  long long index_bytes = 0;
  std::string build_note;
  std::vector<PointResult> points;
};

// CPU seconds used so far by process pid (-1 when unreadable) and by the calling thread.
double ProcessCpuSeconds(int pid);
double ThreadCpuSeconds();
double Median(std::vector<double> v);
// Warm-up, then `repeats` timed passes over all queries (one at a time); fills results from
// the first pass. Returns the median pass.
PassStats TimeSingle(Engine& e, const Dataset& ds, const Options& o, IdMatrix* results);

// ---- the engines: ragstore through libpq (sql_client.cpp), FAISS in-process (faiss_baseline.cpp)

// version() of the server.
std::string ServerVersion();
// Loads the table, builds (or with --keep-index reuses) the index and measures every sweep
// point; the build's NOTICEs are appended to notices.
EngineRun RunServer(const Options& o, const Dataset& ds, std::vector<std::string>* notices);
// The same algorithm and parameters with FAISS: multithreaded build, single-thread search.
EngineRun RunFaiss(const Options& o, const Dataset& ds);
// Measures every point of o.sweep (times each of reranks, when given) of a built FAISS index on
// one thread with TimeSingle: set(value, rerank) applies a point; queries are those FAISS
// searches (normalised for cosine), recall is against ds.truth. Appends to run->points.
void MeasureFaiss(const Options& o, const Dataset& ds, const FloatMatrix& queries,
                  faiss::Index* index, const std::function<void(int, int)>& set,
                  const std::vector<int>& reranks, EngineRun* run);

// ---- quantized indexes side by side (--method quantized | highdim)

// One FAISS index of the comparison and the quantizer it stands beside ("none", "sq8", "pq").
struct FaissQuantizedRun {
  std::string quantizer;
  EngineRun run;
};
// FAISS's unquantized and quantized indexes for o.method (faiss_quantized.cpp says which).
std::vector<FaissQuantizedRun> RunFaissQuantized(const Options& o, const Dataset& ds);
// The whole case: data, every method x quantizer, FAISS, tables, targets, CSV, plots.
int RunQuantized(const Options& o, const std::string& timestamp);

// ---- filtered search (--method filtered)
//
// Query q keeps the rows WHERE id % M = q % M (selectivity 1/M; each query its own subset, ids
// are uncorrelated with the synthetic vectors) and asks for the k nearest of them by L2.
// ragstore: the hnsw and ivfflat indexes with iterative scans (relaxed_order), the index forced
// (enable_seqscan = off); FAISS: IndexHNSWFlat / IndexIVFFlat searched with an IDSelectorBitmap
// in SearchParametersHNSW / SearchParametersIVF, once with ragstore's parameters and once with
// efSearch / nprobe scaled to the selectivity (FAISS has no iterative scan), and an exact
// search of the selected rows (IndexFlat with the same selector).

// truths[i][q]: the exact filtered top k of query q under modulus o.moduli[i].
using FilteredTruths = std::vector<std::vector<std::vector<int32_t>>>;

struct FilteredPoint {
  std::string engine;  // "ragstore hnsw", "faiss ivf (scaled)", ...
  std::string params;  // e.g. "ef_search=40 relaxed_order max_scan_tuples=20000"
  int modulus = 0;
  double recall = 0, qps = 0, cpu_ms = -1;
  double visited = 0;  // per query: ragstore rows the index returned (idx_tup_read), FAISS ndis
  double rows = 0;     // per query: rows returned (<= k)
  std::string plan;
};

// A filtered search engine: run(query index, modulus, out) and a counter of work done.
struct FilteredEngine {
  std::function<void(size_t, int, int32_t*)> run;
  std::function<double()> cpu_seconds;
};

// Exact filtered top k for every query and modulus M: rows with id % M == q % M, by double
// precision L2, ties by lower id; fewer than k when fewer rows pass.
std::vector<std::vector<int32_t>> FilteredTruth(const Dataset& ds, int modulus, size_t k);
// Mean over queries of |returned ∩ truth| / |truth| (queries with an empty truth skipped).
double FilteredRecall(const IdMatrix& got, const std::vector<std::vector<int32_t>>& truth);
// Mean rows returned per query (ids >= 0).
double RowsPerQuery(const IdMatrix& got);
// Warm-up, then `repeats` timed passes over the queries; fills p.qps and p.cpu_ms (medians).
void TimeFiltered(FilteredEngine& e, const Options& o, size_t nq, int modulus, FilteredPoint* p);
void RunFilteredServer(const Options& o, const Dataset& ds, const FilteredTruths& truths,
                       std::vector<FilteredPoint>* points, std::vector<std::string>* builds);
void RunFilteredFaiss(const Options& o, const Dataset& ds, const FilteredTruths& truths,
                      std::vector<FilteredPoint>* points, std::vector<std::string>* builds);

// ---- output (report.cpp)

struct Report {
  Options o;
  std::string timestamp, data_desc, load_start, load_end, server_version;
  std::vector<std::string> notices;
  const Dataset* ds = nullptr;
  EngineRun server, faiss;
  bool have_server = false, have_faiss = false;
};

std::string Fmt(const char* f, double v);
// The 1, 5 and 15 minute load averages, "?" when unknown.
std::string LoadAvg();
void PrintTable(const Report& r);
// <out>/<method>_<data>_<timestamp>.csv and .json.
void WriteFiles(const Report& r);
// Recall-vs-QPS plot: <stem>.dat and <stem>.gp, rendered to <stem>.png when gnuplot is on PATH.
void Plot(const Report& r);
// The filtered run's table and <out>/filtered_<data>_<timestamp>.csv.
void ReportFiltered(const Options& o, const Dataset& ds, const std::string& data_desc,
                    const std::string& timestamp, const std::string& load_start,
                    const std::string& load_end, const std::vector<FilteredPoint>& points,
                    const std::vector<std::string>& builds);

}  // namespace bench
}  // namespace ragstore
