// ann_bench: the in-process FAISS reference (IndexHNSWFlat, IndexIVFFlat, IndexFlat; the
// filtered mode with IDSelectorBitmap): multithreaded build, single-thread search.
#include "ann_bench.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

namespace ragstore {
namespace bench {

EngineRun RunFaiss(const Options& o, const Dataset& ds) {
  EngineRun run;
  run.engine = "faiss";
  const int d = int(ds.base.dim);
  const bool cosine = ds.metric == Metric::kCosine;
  const faiss::MetricType mt =
      ds.metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
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

  MeasureFaiss(
      o, ds, qds.queries, index.get(), [&](int v, int) { set(v); }, {}, &run);
  return run;
}

void MeasureFaiss(const Options& o, const Dataset& ds, const FloatMatrix& queries,
                  faiss::Index* index, const std::function<void(int, int)>& set,
                  const std::vector<int>& reranks, EngineRun* run) {
  Dataset qds;  // TimeSingle reads the queries (and the dimension) from a Dataset
  qds.base.dim = queries.dim;
  qds.queries = queries;
  omp_set_num_threads(1);  // single-thread search: one query at a time, like one backend
  std::vector<float> dist(o.k);
  std::vector<faiss::Index::idx_t> ids(o.k);
  Engine e{[](int) {},
           [&](const float* q, int32_t* out) {
             index->search(1, q, faiss::Index::idx_t(o.k), dist.data(), ids.data());
             for (size_t j = 0; j < o.k; j++) out[j] = int32_t(ids[j]);
           },
           []() { return ThreadCpuSeconds(); }};
  for (int v : o.sweep) {
    for (int rr : reranks.empty() ? std::vector<int>{-1} : reranks) {
      PointResult p;
      p.value = v;
      p.rerank = rr;
      set(v, rr);
      IdMatrix res;
      p.single = TimeSingle(e, qds, o, &res);
      p.recall = RecallAtK(res, ds.truth, o.k);
      fprintf(stderr,
              "[bench] %s %s=%d rerank %d recall@%zu %.4f qps %.0f p50 %.3f ms p99 %.3f ms "
              "cpu %.3f ms/q\n",
              run->engine.c_str(), SweepName(o).c_str(), v, rr, o.k, p.recall, p.single.qps,
              p.single.p50_ms, p.single.p99_ms, p.single.cpu_ms);
      run->points.push_back(p);
    }
  }
  omp_set_num_threads(omp_get_num_procs());
}

void RunFilteredFaiss(const Options& o, const Dataset& ds, const FilteredTruths& truths,
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

}  // namespace bench
}  // namespace ragstore
