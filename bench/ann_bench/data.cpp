// ann_bench: data sets (fvecs/ivecs files or the synthetic mixture) and exact ground truth.
#include "ann_bench.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/synthetic.h"

namespace ragstore {
namespace bench {

namespace {

Metric MetricOf(const std::string& m) {
  if (m == "ip") return Metric::kInnerProduct;
  if (m == "cosine") return Metric::kCosine;
  return Metric::kL2;
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

}  // namespace

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
    const size_t n_centres = o.centres ? o.centres : DefaultMixtureCentres(o.rows);
    if (o.centres) ds.label += "_k" + std::to_string(o.centres);
    FloatMatrix centres = MakeMixtureCentres(n_centres, o.dim, o.centre_sigma, o.seed);
    if (o.intrinsic_dim) {
      // The basis rows scaled so that the noise keeps noise_sigma^2 per coordinate.
      ds.label += "_i" + std::to_string(o.intrinsic_dim);
      FloatMatrix basis = MakeMixtureCentres(
          o.intrinsic_dim, o.dim, o.noise_sigma / std::sqrt(double(o.intrinsic_dim)), o.seed + 3);
      ds.base = SampleMixturePointsInSubspace(centres, basis, o.rows, o.seed + 1);
      ds.queries = SampleMixturePointsInSubspace(centres, basis, o.queries, o.seed + 2);
    } else {
      ds.base = SampleMixturePoints(centres, o.rows, o.noise_sigma, o.seed + 1);
      ds.queries = SampleMixturePoints(centres, o.queries, o.noise_sigma, o.seed + 2);
    }
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
  // A set without query.fvecs (ada002) is queried with its own rows, against the shipped
  // groundtruth_<metric>_selfquery.ivecs.
  const bool self_query = !FileExists(dir + "/query.fvecs") &&
                          FileExists(dir + "/groundtruth_" + o.metric + "_selfquery.ivecs");
  ds.queries = ReadFvecs(dir + (self_query ? "/base.fvecs" : "/query.fvecs"));
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
  std::string gt_file =
      dir + "/groundtruth_" + o.metric + (self_query ? "_selfquery" : "") + ".ivecs";
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

std::string DataDescription(const Options& o, const Dataset& ds) {
  if (!ds.synthetic)
    return ds.label + " " + std::to_string(ds.base.rows) + " x " + std::to_string(ds.base.dim) +
           " (real data)";
  return "SYNTHETIC Gaussian mixture " + std::to_string(ds.base.rows) + " x " +
         std::to_string(ds.base.dim) + " (" +
         std::to_string(o.centres ? o.centres : DefaultMixtureCentres(ds.base.rows)) +
         " centres N(0," + Fmt("%g", o.centre_sigma) + "^2), noise N(0," +
         Fmt("%g", o.noise_sigma) + "^2)" +
         (o.intrinsic_dim ? " in " + std::to_string(o.intrinsic_dim) + " dimensions" : "") +
         ", seed " + std::to_string(o.seed) + ")";
}

uint64_t Fingerprint(const FloatMatrix& m) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ m.rows ^ (uint64_t(m.dim) << 40);
  const uint32_t* w = reinterpret_cast<const uint32_t*>(m.data.data());
  for (size_t i = 0; i < m.data.size(); i++) h = Mix64(h ^ w[i]) + i;
  return h;
}

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

}  // namespace bench
}  // namespace ragstore
