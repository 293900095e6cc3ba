// ann_bench: FAISS's quantized indexes in-process, the lower bound of the quantized comparison
// (--method quantized | highdim): for hnsw IndexHNSWFlat and IndexHNSWSQ (8-bit), for ivfflat
// IndexIVFFlat, IndexIVFScalarQuantizer (8-bit) and IndexIVFPQ, the quantized ones wrapped in
// IndexRefineFlat so that their candidates are re-ranked with the full vectors (k_factor =
// rerank_candidates / k, rerank_candidates 100 when --rerank is not given: ragstore's default).
// Multithreaded build, single-thread search (MeasureFaiss).
//
// Shared work, so that one run fits a 2-core machine: IndexHNSWSQ searches the graph built for
// IndexHNSWFlat (its own build would build the same graph with distances on codes); its build
// time is the scalar quantizer's training and encoding only. The IVF indexes share one coarse
// quantizer (k-means, FAISS's Clustering, at most 64 training points per list) and one
// assignment of the rows to lists. IndexIVFPQ, only with --faiss-pq (its product-quantizer
// training is the largest CPU cost of a run): d / 8 sub-quantizers of 8 bits (d / 8 bytes per
// vector, binary's size), trained on at most 40 points per centroid (10,240 points, FAISS's minimum
// for 256 centroids without a warning).
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexRefine.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "ann_bench.h"

namespace ragstore {
namespace bench {

namespace {

bool Wants(const Options& o, const std::string& q) {
  return std::find(o.quantizers.begin(), o.quantizers.end(), q) != o.quantizers.end();
}

double ProcessCpu() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

}  // namespace

std::vector<FaissQuantizedRun> RunFaissQuantized(const Options& o, const Dataset& ds) {
  std::vector<FaissQuantizedRun> out;
  const int d = int(ds.base.dim);
  const size_t n = ds.base.rows;
  const faiss::MetricType mt =
      ds.metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
  FloatMatrix base_n;
  const FloatMatrix* base = &ds.base;
  FloatMatrix queries = ds.queries;
  if (ds.metric == Metric::kCosine) {
    base_n = ds.base;
    faiss::fvec_renorm_L2(size_t(d), base_n.rows, base_n.data.data());
    faiss::fvec_renorm_L2(size_t(d), queries.rows, queries.data.data());
    base = &base_n;
  }
  const float* x = base->data.data();
  const int threads = o.faiss_build_threads > 0 ? o.faiss_build_threads : omp_get_num_procs();
  const std::vector<int> reranks = o.rerank.empty() ? std::vector<int>{100} : o.rerank;
  auto k_factor = [&](int rerank) { return std::max(1.0f, float(rerank) / float(o.k)); };
  const std::string th = ", " + std::to_string(threads) + " threads";

  // Builds with `build`, then measures; set(v, rerank) applies a sweep point.
  auto run = [&](const std::string& quantizer, const std::string& engine, faiss::Index* index,
                 double build_s, double build_cpu_s, const std::string& note,
                 const std::function<void(int, int)>& set, bool refined) {
    FaissQuantizedRun r;
    r.quantizer = quantizer;
    r.run.engine = "faiss " + engine;
    r.run.build_s = build_s;
    r.run.build_cpu_s = build_cpu_s;
    r.run.build_note = note + th;
    fprintf(stderr, "[bench] faiss %s: %s, built in %.1f s\n", engine.c_str(), note.c_str(),
            build_s);
    MeasureFaiss(o, ds, queries, index, set, refined ? reranks : std::vector<int>{}, &r.run);
    out.push_back(std::move(r));
  };

  omp_set_num_threads(threads);
  if (o.method == "hnsw") {
    if (!Wants(o, "none") && !Wants(o, "sq8")) return out;
    auto t0 = Clock::now();
    double c0 = ProcessCpu();
    faiss::IndexHNSWFlat flat(d, o.m, mt);
    flat.hnsw.efConstruction = o.ef_construction;
    flat.add(faiss::Index::idx_t(n), x);
    double flat_s = SecondsSince(t0), flat_cpu = ProcessCpu() - c0;
    omp_set_num_threads(threads);
    if (Wants(o, "none"))
      run(
          "none", "IndexHNSWFlat", &flat, flat_s, flat_cpu,
          "M=" + std::to_string(o.m) + " efConstruction=" + std::to_string(o.ef_construction),
          [&](int v, int) { flat.hnsw.efSearch = v; }, false);
    if (Wants(o, "sq8")) {
      omp_set_num_threads(threads);
      t0 = Clock::now();
      c0 = ProcessCpu();
      faiss::IndexHNSWSQ sq(d, faiss::ScalarQuantizer::QT_8bit, o.m, mt);
      sq.storage->train(faiss::Index::idx_t(n), x);
      sq.storage->add(faiss::Index::idx_t(n), x);
      sq.hnsw = flat.hnsw;  // the same graph, searched with distances on 8-bit codes
      sq.ntotal = sq.storage->ntotal;
      sq.is_trained = true;
      faiss::IndexRefineFlat refine(&sq, x);
      run(
          "sq8", "IndexHNSWSQ+IndexRefineFlat", &refine, SecondsSince(t0), ProcessCpu() - c0,
          "QT_8bit on IndexHNSWFlat's graph (build: SQ training and encoding only), "
          "IndexRefineFlat k_factor = rerank / k",
          [&](int v, int rr) {
            sq.hnsw.efSearch = v;
            refine.k_factor = k_factor(rr);
          },
          true);
    }
  } else if (o.method == "ivfflat") {
    auto t0 = Clock::now();
    double c0 = ProcessCpu();
    faiss::IndexFlat coarse(d, mt);
    faiss::ClusteringParameters cp;
    cp.max_points_per_centroid = 64;
    faiss::Clustering clus(d, size_t(o.lists), cp);
    if (mt == faiss::METRIC_INNER_PRODUCT) clus.spherical = true;
    clus.train(faiss::Index::idx_t(n), x, coarse);
    std::vector<faiss::Index::idx_t> lists(n);
    coarse.assign(faiss::Index::idx_t(n), x, lists.data());
    const double shared_s = SecondsSince(t0), shared_cpu = ProcessCpu() - c0;
    const std::string shared =
        "nlist=" + std::to_string(o.lists) +
        " (shared k-means, <= 64 points per list, and assignment: " + Fmt("%.1f", shared_s) +
        " s of the build)";
    auto build = [&](faiss::IndexIVF* ivf) {
      ivf->train(faiss::Index::idx_t(n), x);  // the coarse quantizer is trained: codes only
      ivf->add_core(faiss::Index::idx_t(n), x, nullptr, lists.data());
    };
    if (Wants(o, "none")) {
      omp_set_num_threads(threads);
      t0 = Clock::now();
      c0 = ProcessCpu();
      faiss::IndexIVFFlat ivf(&coarse, size_t(d), size_t(o.lists), mt);
      build(&ivf);
      run(
          "none", "IndexIVFFlat", &ivf, shared_s + SecondsSince(t0), shared_cpu + ProcessCpu() - c0,
          shared, [&](int v, int) { ivf.nprobe = size_t(v); }, false);
    }
    if (Wants(o, "sq8")) {
      omp_set_num_threads(threads);
      t0 = Clock::now();
      c0 = ProcessCpu();
      faiss::IndexIVFScalarQuantizer ivf(&coarse, size_t(d), size_t(o.lists),
                                         faiss::ScalarQuantizer::QT_8bit, mt, true);
      build(&ivf);
      faiss::IndexRefineFlat refine(&ivf, x);
      run(
          "sq8", "IndexIVFScalarQuantizer+IndexRefineFlat", &refine, shared_s + SecondsSince(t0),
          shared_cpu + ProcessCpu() - c0,
          shared + ", QT_8bit residuals, IndexRefineFlat k_factor = rerank / k",
          [&](int v, int rr) {
            ivf.nprobe = size_t(v);
            refine.k_factor = k_factor(rr);
          },
          true);
    }
    if (o.faiss_pq && (Wants(o, "pq") || Wants(o, "binary")) && d % 8 == 0) {
      omp_set_num_threads(threads);
      t0 = Clock::now();
      c0 = ProcessCpu();
      faiss::IndexIVFPQ ivf(&coarse, size_t(d), size_t(o.lists), size_t(d / 8), 8, mt);
      ivf.pq.cp.max_points_per_centroid = 40;
      build(&ivf);
      faiss::IndexRefineFlat refine(&ivf, x);
      run(
          "pq", "IndexIVFPQ+IndexRefineFlat", &refine, shared_s + SecondsSince(t0),
          shared_cpu + ProcessCpu() - c0,
          shared + ", " + std::to_string(d / 8) +
              " x 8-bit sub-quantizers on residuals (<= 40 training points per centroid), "
              "IndexRefineFlat k_factor = rerank / k",
          [&](int v, int rr) {
            ivf.nprobe = size_t(v);
            refine.k_factor = k_factor(rr);
          },
          true);
    }
  }
  omp_set_num_threads(omp_get_num_procs());
  return out;
}

}  // namespace bench
}  // namespace ragstore
