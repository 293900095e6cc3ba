// ann_bench --method quantized | highdim: every quantizer of hnsw and ivfflat side by side in one
// run, with FAISS's quantized indexes in-process as the lower bound.
//
// One data set (the synthetic mixture, or a real set with --data), loaded once; for each access
// method and each quantizer (reloption `quantizer`, 'none' the unquantized index) it builds the
// index (build time, backend CPU, pg_relation_size) and measures every sweep point (recall@k,
// queries/s with 1 and --clients clients, p50/p99, backend CPU per query; with --rerank also per
// rerank_candidates value) through RunServer. A quantizer the server rejects (not built into
// this version, or a dimension limit) is reported with the server's error and skipped. FAISS:
// RunFaissQuantized (faiss_quantized.cpp). The output is one table per method, the issue's
// targets checked against the measured points, one CSV and one recall-vs-queries/s plot per
// method with every curve. highdim: the same for each of --dims (default 3,072 and 4,096).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

#include "ann_bench.h"

namespace ragstore {
namespace bench {

namespace {

// One index (ragstore or FAISS) of one method in the comparison.
struct Entry {
  std::string method;      // hnsw | ivfflat
  std::string quantizer;   // none | sq8 | binary | pq (FAISS: the code kind)
  EngineRun run;           // engine "ragstore" or "faiss <Index...>"
  std::string error;       // not measured: why
  std::string load_after;  // load average when it finished
};

std::string Label(const Entry& e) {
  if (e.run.engine == "ragstore") return "ragstore " + e.method + " " + e.quantizer;
  return e.run.engine;
}

// The point with the most single-client queries/s among those with recall >= r (null if none).
const PointResult* FastestAt(const EngineRun& run, double r) {
  const PointResult* best = nullptr;
  for (const auto& p : run.points)
    if (p.recall >= r && (!best || p.single.qps > best->single.qps)) best = &p;
  return best;
}

std::string PointName(const std::string& method, const PointResult& p) {
  std::string s = (method == "hnsw" ? "ef_search " : "probes ") + std::to_string(p.value);
  if (p.rerank >= 0) s += ", rerank " + std::to_string(p.rerank);
  return s;
}

// The unquantized index a quantized one is compared with: the 'none' index of method, or where
// the server rejects it (beyond 2,000 dimensions) the halfvec expression index, pgvector users'
// unquantized index up to 4,000 dimensions. Null when neither was measured.
const Entry* Reference(const std::vector<Entry>& es, const std::string& method) {
  for (const char* q : {"none", "halfvec"})
    for (const auto& e : es)
      if (e.run.engine == "ragstore" && e.method == method && e.quantizer == q && e.error.empty())
        return &e;
  return nullptr;
}

void PrintEntries(const Options& o, const std::string& method, const std::vector<Entry>& es) {
  const Entry* none = Reference(es, method);
  printf("\n-- %s --\n", method.c_str());
  printf("%-34s %9s %9s %9s %7s\n", "index", "build s", "build cpu", "size MB", "size x");
  for (const auto& e : es) {
    if (!e.error.empty()) {
      printf("%-34s not measured: %s\n", Label(e).c_str(), e.error.c_str());
      continue;
    }
    double ratio = none && none->run.index_bytes > 0 && e.run.engine == "ragstore"
                       ? double(e.run.index_bytes) / double(none->run.index_bytes)
                       : 0;
    printf("%-34s %9.1f %9.1f %9s %7s   (load after: %s)\n", Label(e).c_str(), e.run.build_s,
           e.run.build_cpu_s,
           e.run.index_bytes > 0 ? Fmt("%.1f", e.run.index_bytes / 1048576.0).c_str() : "-",
           ratio > 0 ? Fmt("%.3f", ratio).c_str() : "-", e.load_after.c_str());
  }
  printf("\n%-34s %-10s %6s %7s %8s %8s %8s %8s %8s\n", "index",
         method == "hnsw" ? "ef_search" : "probes", "rerank", "recall", "qps",
         ("qps " + std::to_string(o.clients) + "cl").c_str(), "p50 ms", "p99 ms", "cpu ms");
  for (const auto& e : es) {
    for (const auto& p : e.run.points)
      printf(
          "%-34s %-10d %6s %7.4f %8.0f %8s %8.3f %8.3f %8.3f\n", Label(e).c_str(), p.value,
          p.rerank >= 0 ? std::to_string(p.rerank).c_str() : "-", p.recall, p.single.qps,
          e.run.engine == "ragstore" && o.clients > 0 ? Fmt("%.0f", p.qps_concurrent).c_str() : "-",
          p.single.p50_ms, p.single.p99_ms, p.single.cpu_ms);
  }
}

// The issue's targets at recall@k >= 0.95, from the measured points.
void PrintTargets(const std::vector<Entry>& es) {
  auto find = [&](const std::string& engine_prefix, const std::string& method,
                  const std::string& q) -> const Entry* {
    for (const auto& e : es)
      if (e.error.empty() && e.method == method && e.quantizer == q &&
          e.run.engine.rfind(engine_prefix, 0) == 0)
        return &e;
    return nullptr;
  };
  const double r = 0.95;
  printf("\n-- targets (recall@10 >= %.2f) --\n", r);
  const Entry* none = Reference(es, "hnsw");
  const Entry* sq8 = find("ragstore", "hnsw", "sq8");
  if (none && sq8) {
    if (none->quantizer != "none")
      printf("(unquantized: the %s expression index; the vector index is rejected)\n",
             none->quantizer.c_str());
    double size = double(sq8->run.index_bytes) / double(std::max(1LL, none->run.index_bytes));
    printf("hnsw sq8 size <= 0.35x unquantized: %.3fx (%.1f / %.1f MB): %s\n", size,
           sq8->run.index_bytes / 1048576.0, none->run.index_bytes / 1048576.0,
           size <= 0.35 ? "met" : "NOT met");
    const PointResult* a = FastestAt(none->run, r);
    const PointResult* b = FastestAt(sq8->run, r);
    if (a && b)
      printf(
          "hnsw sq8 queries/s >= 2x unquantized: %.2fx (%s: %.0f/s at recall %.4f; "
          "unquantized %s: %.0f/s at %.4f): %s\n",
          b->single.qps / a->single.qps, PointName("hnsw", *b).c_str(), b->single.qps, b->recall,
          PointName("hnsw", *a).c_str(), a->single.qps, a->recall,
          b->single.qps >= 2 * a->single.qps ? "met" : "NOT met");
    else
      printf("hnsw sq8 queries/s >= 2x unquantized: n/a (%s reaches no recall >= %.2f)\n",
             a ? "sq8" : "the unquantized index", r);
    printf("hnsw sq8 build no slower than unquantized: %.1f s vs %.1f s (CPU %.1f vs %.1f s): %s\n",
           sq8->run.build_s, none->run.build_s, sq8->run.build_cpu_s, none->run.build_cpu_s,
           sq8->run.build_s <= none->run.build_s ? "met" : "NOT met");
  } else {
    printf("hnsw sq8 against unquantized: n/a (%s not measured)\n", none ? "sq8" : "unquantized");
  }
  // Latency within 2x of FAISS at equal recall: the lowest p50 reaching recall r on each side.
  const std::pair<const char*, const char*> pairs[] = {{"none", "faiss IndexHNSWFlat"},
                                                       {"sq8", "faiss IndexHNSWSQ"},
                                                       {"none", "faiss IndexIVFFlat"},
                                                       {"sq8", "faiss IndexIVFScalarQuantizer"},
                                                       {"binary", ""},
                                                       {"pq", "faiss IndexIVFPQ"}};
  for (const auto& method : {"hnsw", "ivfflat"}) {
    for (const auto& pr : pairs) {
      const Entry* ours = find("ragstore", method, pr.first);
      const Entry* theirs = pr.second[0] ? find(pr.second, method, pr.first) : nullptr;
      if (!ours || !theirs) continue;
      auto lowest = [&](const EngineRun& run) {
        const PointResult* best = nullptr;
        for (const auto& p : run.points)
          if (p.recall >= r && (!best || p.single.p50_ms < best->single.p50_ms)) best = &p;
        return best;
      };
      const PointResult* a = lowest(ours->run);
      const PointResult* b = lowest(theirs->run);
      if (a && b)
        printf(
            "%s %s p50 within 2x of %s: %.2fx (%.3f ms at %s, recall %.4f; FAISS %.3f ms "
            "at %s, recall %.4f; CPU %.3f vs %.3f ms): %s\n",
            method, pr.first, theirs->run.engine.c_str(), a->single.p50_ms / b->single.p50_ms,
            a->single.p50_ms, PointName(method, *a).c_str(), a->recall, b->single.p50_ms,
            PointName(method, *b).c_str(), b->recall, a->single.cpu_ms, b->single.cpu_ms,
            a->single.p50_ms <= 2 * b->single.p50_ms ? "met" : "NOT met");
      else
        printf("%s %s p50 against %s: n/a (recall %.2f not reached by %s)\n", method, pr.first,
               theirs->run.engine.c_str(), r, a ? "FAISS" : "ragstore");
      // The same by CPU per query (the lowest reaching recall r), which load disturbs less.
      auto cheapest = [&](const EngineRun& run) {
        const PointResult* best = nullptr;
        for (const auto& p : run.points)
          if (p.recall >= r && p.single.cpu_ms > 0 &&
              (!best || p.single.cpu_ms < best->single.cpu_ms))
            best = &p;
        return best;
      };
      a = cheapest(ours->run);
      b = cheapest(theirs->run);
      if (a && b)
        printf("  by CPU per query: %.2fx (%.3f ms at %s; FAISS %.3f ms at %s): %s\n",
               a->single.cpu_ms / b->single.cpu_ms, a->single.cpu_ms, PointName(method, *a).c_str(),
               b->single.cpu_ms, PointName(method, *b).c_str(),
               a->single.cpu_ms <= 2 * b->single.cpu_ms ? "met" : "NOT met");
    }
  }
}

void WriteCsv(const Options& o, const Dataset& ds, const std::string& path,
              const std::vector<Entry>& es, const std::string& load_start) {
  std::ofstream f(path);
  f << "# ann_bench --method " << o.method << "; " << (ds.synthetic ? "SYNTHETIC data; " : "")
    << "shared machine: compare rows of the same run\n";
  f << "data,rows,dim,queries,metric,method,engine,quantizer,build_s,build_cpu_s,index_bytes,"
       "param,value,rerank,recall,qps_1,qps_clients,clients,p50_ms,p99_ms,cpu_ms,load_start,"
       "load_after,error\n";
  for (const auto& e : es) {
    auto head = [&]() {
      f << ds.label << "," << ds.base.rows << "," << ds.base.dim << "," << ds.queries.rows << ","
        << o.metric << "," << e.method << "," << e.run.engine << "," << e.quantizer << ","
        << Fmt("%.2f", e.run.build_s) << "," << Fmt("%.2f", e.run.build_cpu_s) << ","
        << e.run.index_bytes << "," << (e.method == "hnsw" ? "ef_search" : "probes") << ",";
    };
    if (e.run.points.empty()) {
      head();
      f << ",,,,,,,,,\"" << load_start << "\",\"" << e.load_after << "\",\"" << e.error << "\"\n";
    }
    for (const auto& p : e.run.points) {
      head();
      f << p.value << "," << p.rerank << "," << Fmt("%.4f", p.recall) << ","
        << Fmt("%.1f", p.single.qps) << "," << Fmt("%.1f", p.qps_concurrent) << ","
        << (e.run.engine == "ragstore" ? o.clients : 0) << "," << Fmt("%.4f", p.single.p50_ms)
        << "," << Fmt("%.4f", p.single.p99_ms) << "," << Fmt("%.4f", p.single.cpu_ms) << ",\""
        << load_start << "\",\"" << e.load_after << "\",\n";
    }
  }
  fprintf(stderr, "[bench] wrote %s\n", path.c_str());
}

// <stem>_<method>.dat/.gp/.png: recall@k against queries/s, one curve per measured index.
void PlotMethod(const Options& o, const std::string& stem, const std::string& title,
                const std::string& method, const std::vector<Entry>& es) {
  std::string s = stem + "_" + method;
  std::string base = s.substr(s.find_last_of('/') + 1);
  std::vector<std::string> titles;
  {
    std::ofstream f(s + ".dat");
    for (const auto& e : es) {
      if (!e.error.empty() || e.run.points.empty()) continue;
      f << "# " << Label(e) << "\n";
      for (const auto& p : e.run.points)
        f << Fmt("%.4f", p.recall) << " " << Fmt("%.1f", p.single.qps) << " " << p.value << " "
          << Fmt("%.1f", p.single.cpu_ms > 0 ? 1000.0 / p.single.cpu_ms : 0.0) << "\n";
      f << "\n\n";
      titles.push_back(Label(e) + (e.run.engine == "ragstore" ? ", 1 client" : ", 1 thread"));
    }
  }
  if (titles.empty()) return;
  // Two plots: queries/s (wall clock), and queries per CPU-second of the searching process
  // (1000 / cpu ms), which a loaded machine disturbs far less.
  for (int cpu = 0; cpu < 2; cpu++) {
    const std::string name = base + (cpu ? "_cpu" : "");
    std::ofstream f(s + (cpu ? "_cpu" : "") + ".gp");
    f << "set terminal pngcairo size 1000,700 font 'sans,10' noenhanced\n";
    f << "set output '" << name << ".png'\n";
    f << "set title \"" << method << ", " << title
      << "\\nlabels: " << (method == "hnsw" ? "ef_search" : "probes")
      << "; compare curves of this run only\"\n";
    f << "set xlabel 'recall@" << o.k << "'\nset ylabel '"
      << (cpu ? "queries per CPU-second (1000 / cpu ms per query), log" : "queries/s, log")
      << "'\nset logscale y\n";
    f << "set grid\nset key below\nplot ";
    const std::string col = cpu ? "4" : "2";
    for (size_t i = 0; i < titles.size(); i++) {
      bool faiss = titles[i].rfind("faiss", 0) == 0;
      f << (i ? ", \\\n     " : "") << "'" << base << ".dat' index " << i << " using 1:" << col
        << " with linespoints lw 2" << (faiss ? " dt 2" : "") << " title '" << titles[i] << "'";
      if (!faiss)
        f << ", '' index " << i << " using 1:" << col << ":3 with labels offset 0,0.8 notitle";
    }
    f << "\n";
  }
  if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
    fprintf(stderr, "[bench] gnuplot not installed: wrote %s.gp and .dat, no PNG\n", s.c_str());
    return;
  }
  std::string dir = s.substr(0, s.find_last_of('/'));
  std::string cmd =
      "cd '" + dir + "' && gnuplot '" + base + ".gp' && gnuplot '" + base + "_cpu.gp'";
  if (system(cmd.c_str()) == 0) fprintf(stderr, "[bench] plot: %s.png\n", s.c_str());
}

// Runs every method and quantizer on one data set; returns the entries in print order.
std::vector<Entry> RunAll(const Options& o, const Dataset& ds) {
  std::vector<Entry> es;
  std::vector<std::string> notices;
  for (const auto& method : o.case_methods) {
    Options om = o;
    om.method = method;
    om.sweep = method == "hnsw" ? o.hnsw_sweep : o.ivfflat_sweep;
    if (o.server) {
      for (const auto& q : o.quantizers) {
        Entry e;
        e.method = method;
        e.quantizer = q;
        om.quantizer = q;
        Options oq = om;
        if (q == "none" || q == "halfvec") oq.rerank.clear();  // no re-ranking without codes
        try {
          e.run = RunServer(oq, ds, &notices);
        } catch (const std::exception& ex) {
          e.run.engine = "ragstore";
          e.error = ex.what();
          size_t nl = e.error.find('\n');
          if (nl != std::string::npos) e.error = e.error.substr(nl + 1);
          while (!e.error.empty() && (e.error.back() == '\n' || e.error.back() == ' '))
            e.error.pop_back();
          while (!e.error.empty() && e.error.front() == ' ') e.error.erase(0, 1);
          fprintf(stderr, "[bench] ragstore %s quantizer %s not measured: %s\n", method.c_str(),
                  q.c_str(), e.error.c_str());
        }
        e.load_after = LoadAvg();
        es.push_back(e);
      }
    }
    if (o.faiss) {
      for (auto& fr : RunFaissQuantized(om, ds)) {
        Entry e;
        e.method = method;
        e.quantizer = fr.quantizer;
        e.run = fr.run;
        e.load_after = LoadAvg();
        es.push_back(e);
      }
    }
  }
  return es;
}

}  // namespace

int RunQuantized(const Options& o, const std::string& timestamp) {
  std::vector<size_t> dims = o.method == "highdim" ? o.dims : std::vector<size_t>{o.dim};
  for (size_t dim : dims) {
    Options od = o;
    od.dim = dim;
    const std::string load_start = LoadAvg();
    Dataset ds = LoadData(od);
    if (!o.lists_given) od.lists = std::max(1, int(std::lround(std::sqrt(double(ds.base.rows)))));
    const std::string desc = DataDescription(od, ds);
    std::vector<Entry> es = RunAll(od, ds);
    const std::string load_end = LoadAvg();
    printf("\n== ann_bench --method %s on %s ==\n", o.method.c_str(), desc.c_str());
    printf(
        "k=%zu, %zu queries, metric %s, %d timed passes per point (medians), warm-up %zu, "
        "%d clients; hnsw m=%d ef_construction=%d; ivfflat lists=%d; maintenance_work_mem=%s, "
        "max_parallel_maintenance_workers=%d; load avg %s -> %s\n",
        o.k, ds.queries.rows, o.metric.c_str(), o.repeats, std::min(o.warmup, ds.queries.rows),
        o.clients, o.m, o.ef_construction, od.lists, o.maintenance_work_mem.c_str(),
        o.parallel_workers, load_start.c_str(), load_end.c_str());
    for (const auto& method : o.case_methods) {
      std::vector<Entry> mine;
      for (const auto& e : es)
        if (e.method == method) mine.push_back(e);
      PrintEntries(od, method, mine);
    }
    PrintTargets(es);
    printf(
        "\nqps: 1 client (ragstore) or 1 thread (FAISS, in-process, the lower bound); "
        "cpu ms: server backend or FAISS thread CPU per query. size x: index size / the "
        "unquantized index's.\nNOTE: %sMeasured on a shared 2-core machine: compare rows "
        "of this run only.\n",
        ds.synthetic ? "data is SYNTHETIC (Gaussian mixture). " : "");
    fflush(stdout);
    MakeDirs(o.out_dir);
    std::string stem = o.out_dir + "/" + o.method + "_" + ds.label + "_" + timestamp;
    WriteCsv(od, ds, stem + ".csv", es, load_start);
    if (o.plot)
      for (const auto& method : o.case_methods) {
        std::vector<Entry> mine;
        for (const auto& e : es)
          if (e.method == method) mine.push_back(e);
        PlotMethod(od, stem, desc, method, mine);
      }
  }
  return 0;
}

}  // namespace bench
}  // namespace ragstore
