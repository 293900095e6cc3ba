// ann_bench: timed passes, CPU time, medians and percentiles, filtered recall.
#include "ann_bench.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>

namespace ragstore {
namespace bench {

namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(p * double(v.size())));  // nearest rank
  return v[std::min(v.size() - 1, rank > 0 ? rank - 1 : 0)];
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

}  // namespace

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

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

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

double RowsPerQuery(const IdMatrix& got) {
  size_t n = 0;
  for (int32_t id : got.data) n += id >= 0;
  return got.rows ? double(n) / double(got.rows) : 0;
}

}  // namespace bench
}  // namespace ragstore
