// graph_build_bench: the in-memory hnsw graph build (core/hnsw_graph.h, what CREATE INDEX runs
// for dense types) side by side with FAISS's IndexHNSWFlat on the same data, the same threads and
// the same parameters, in one process: no database, only the graph algorithm and its kernels.
//
// Data: the SYNTHETIC Gaussian mixture of core/synthetic.h (rows / 100 centres, sigma 4 / 1),
// normalised to unit length (cosine, as the hnsw vector_cosine_ops build: inner product on unit
// vectors), queries from the same centres. Reported per engine: wall and CPU time of the build
// (CPU: the process's user + system time, all threads), distance calls where known, and
// recall@10 at ef_search 40 against the exact top 10, single-threaded search.
//
// Usage: graph_build_bench [--rows N] [--dim D] [--threads T] [--m M] [--ef-construction E]
//                          [--queries Q] [--no-faiss] [--kernel portable|avx2|avx512]
// Defaults: 30000 rows, 1536 dims, 2 threads, m 16, ef_construction 64, 200 queries.
#include <faiss/IndexHNSW.h>
#include <omp.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/distance.h"
#include "core/hnsw_graph.h"
#include "core/recall.h"
#include "core/synthetic.h"

namespace {

double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Normalize(ragstore::FloatMatrix* m) {
  for (size_t i = 0; i < m->rows; i++) {
    float* x = m->Row(i);
    double s = 0;
    for (size_t j = 0; j < m->dim; j++) s += double(x[j]) * x[j];
    s = std::sqrt(s);
    if (s > 0)
      for (size_t j = 0; j < m->dim; j++) x[j] = float(x[j] / s);
  }
}

double LoadAverage() {
  double l = -1;
  if (FILE* f = fopen("/proc/loadavg", "r")) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ragstore;
  size_t rows = 30000, dim = 1536, nq = 200;
  int threads = 2, m = 16, efc = 64;
  bool faiss_too = true;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--rows")
      rows = std::strtoul(next(), nullptr, 10);
    else if (a == "--dim")
      dim = std::strtoul(next(), nullptr, 10);
    else if (a == "--threads")
      threads = std::atoi(next());
    else if (a == "--m")
      m = std::atoi(next());
    else if (a == "--ef-construction")
      efc = std::atoi(next());
    else if (a == "--queries")
      nq = std::strtoul(next(), nullptr, 10);
    else if (a == "--no-faiss")
      faiss_too = false;
    else if (a == "--kernel") {
      std::string k = next();
      KernelLevel want = k == "portable" ? KernelLevel::kPortable
                         : k == "avx2"   ? KernelLevel::kAvx2Fma
                                         : KernelLevel::kAvx512;
      SetKernelLevel(want);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 1;
    }
  }
  if (rows == 0 || dim == 0 || threads < 1 || m < 2 || efc < 1) {
    std::fprintf(stderr, "bad parameters\n");
    return 1;
  }
  FloatMatrix centres = MakeMixtureCentres(DefaultMixtureCentres(rows), dim, 4.0, 42);
  FloatMatrix base = SampleMixturePoints(centres, rows, 1.0, 43);
  FloatMatrix queries = SampleMixturePoints(centres, nq, 1.0, 44);
  Normalize(&base);
  Normalize(&queries);
  IdMatrix truth = ExactKnn(base, queries, 10, Metric::kInnerProduct);
  std::printf(
      "SYNTHETIC %zu x %zu (unit length), inner product, m %d, ef_construction %d, %d threads, "
      "kernel %s, load %.2f\n",
      rows, dim, m, efc, threads, KernelLevelName(ActiveKernelLevel()), LoadAverage());
  std::printf("%-26s %9s %9s %11s\n", "engine", "wall s", "cpu s", "recall@10");

  {
    HnswGraph g(static_cast<int64_t>(rows), m, efc, 0x5eed0000u + rows);
    DenseFloatSpace space{base.data.data(), static_cast<int>(dim), Metric::kInnerProduct};
    double w0 = WallSeconds(), c0 = CpuSeconds();
    g.Build(space, threads, nullptr);
    double w1 = WallSeconds(), c1 = CpuSeconds();
    IdMatrix got;
    got.rows = nq;
    got.k = 10;
    got.data.assign(nq * 10, -1);
    for (size_t q = 0; q < nq; q++) {
      auto r = g.Search(space, queries.Row(q), 10, 40);
      for (size_t j = 0; j < r.size(); j++) got.Row(q)[j] = static_cast<int32_t>(r[j].second);
    }
    std::printf("%-26s %9.2f %9.2f %11.4f\n", "ragstore HnswGraph", w1 - w0, c1 - c0,
                RecallAtK(got, truth, 10));
  }
  if (faiss_too) {
    omp_set_num_threads(threads);
    faiss::IndexHNSWFlat index(static_cast<int>(dim), m, faiss::METRIC_INNER_PRODUCT);
    index.hnsw.efConstruction = efc;
    double w0 = WallSeconds(), c0 = CpuSeconds();
    index.add(static_cast<faiss::Index::idx_t>(rows), base.data.data());
    double w1 = WallSeconds(), c1 = CpuSeconds();
    omp_set_num_threads(1);
    index.hnsw.efSearch = 40;
    std::vector<float> dist(nq * 10);
    std::vector<faiss::Index::idx_t> ids(nq * 10);
    index.search(static_cast<faiss::Index::idx_t>(nq), queries.data.data(), 10, dist.data(),
                 ids.data());
    IdMatrix got;
    got.rows = nq;
    got.k = 10;
    got.data.resize(nq * 10);
    for (size_t j = 0; j < nq * 10; j++) got.data[j] = static_cast<int32_t>(ids[j]);
    std::printf("%-26s %9.2f %9.2f %11.4f\n", "FAISS IndexHNSWFlat", w1 - w0, c1 - c0,
                RecallAtK(got, truth, 10));
  }
  std::printf("load at end %.2f\n", LoadAverage());
  return 0;
}
