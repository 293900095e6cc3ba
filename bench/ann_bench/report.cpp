// ann_bench: the printed tables, CSV and JSON files, and the gnuplot recall-vs-QPS plot.
#include "ann_bench.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace ragstore {
namespace bench {

namespace {

const char* kCaveat =
    "Measured on a shared 2-core machine while other engineers compile and test: expect "
    "10-30% noise between runs; compare figures from the same run. Medians of the repeated "
    "passes are reported; builds are single runs.";

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

}  // namespace

std::string Fmt(const char* f, double v) {
  char buf[64];
  snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string LoadAvg() {
  double l[3];
  if (getloadavg(l, 3) != 3) return "?";
  char buf[64];
  snprintf(buf, sizeof buf, "%.2f %.2f %.2f", l[0], l[1], l[2]);
  return buf;
}

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
  // One line per server point (sweep value, times each --rerank value), FAISS's point of the
  // same sweep value beside it.
  const size_t lines = r.have_server ? r.server.points.size() : r.faiss.points.size();
  for (size_t i = 0; i < lines; i++) {
    const PointResult* sp = r.have_server ? &r.server.points[i] : nullptr;
    const int value = sp ? sp->value : r.faiss.points[i].value;
    const PointResult* fp = nullptr;
    for (size_t j = 0; r.have_faiss && !fp && j < r.faiss.points.size(); j++)
      if (r.faiss.points[j].value == value) fp = &r.faiss.points[j];
    std::string line = o.method == "none" ? std::string("exact") : std::to_string(value);
    if (sp && sp->rerank >= 0) line += "/" + std::to_string(sp->rerank);
    char buf[512];
    snprintf(buf, sizeof buf, "%-9s |", line.c_str());
    std::string s = buf;
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

void ReportFiltered(const Options& o, const Dataset& ds, const std::string& data_desc,
                    const std::string& timestamp, const std::string& load_start,
                    const std::string& load_end, const std::vector<FilteredPoint>& points,
                    const std::vector<std::string>& builds) {
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
}

}  // namespace bench
}  // namespace ragstore
