// ann_bench: the server side through libpq: database, extension, binary COPY load, index
// build, prepared binary queries, the sweeps of RunServer and RunFilteredServer.
#include "ann_bench.h"

#include <arpa/inet.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

namespace ragstore {
namespace bench {

namespace {

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

// What the index is built on and the query orders by: the column, or for the pseudo-quantizer
// "halfvec" the column cast to halfvec(dim), pgvector's half-precision expression index (an
// unquantized index of 2 bytes per dimension, up to 4,000 dimensions) with its operator class.
// Written as pg_get_indexdef prints it, so that --keep-index recognises the index.
std::string IndexedExpr(const Options& o, size_t dim) {
  if (o.quantizer != "halfvec") return "embedding";
  return "((embedding)::halfvec(" + std::to_string(dim) + "))";
}

std::string IndexOpClass(const Options& o) {
  std::string c = OpClass(o.metric);
  if (o.quantizer == "halfvec") c.replace(0, 6, "halfvec");
  return c;
}

// The index's key, as CREATE INDEX takes it and pg_get_indexdef prints it: the indexed
// expression of `table` (IndexedExpr; the column's dimensions read from its first row only for
// "halfvec") and its operator class.
std::string IndexKey(PGconn* c, const Options& o, const std::string& table) {
  size_t dim = 0;
  if (o.quantizer == "halfvec")
    dim =
        size_t(atol(Scalar(c, "SELECT vector_dims(embedding) FROM " + table + " LIMIT 1").c_str()));
  return IndexedExpr(o, dim) + " " + IndexOpClass(o);
}

// The reloption value of o.quantizer ("none" and the pseudo-quantizer "halfvec": no option).
bool HasQuantizerOption(const Options& o) {
  return o.quantizer != "none" && o.quantizer != "halfvec";
}

const char* Operator(const std::string& metric) {
  if (metric == "ip") return "<#>";
  if (metric == "cosine") return "<=>";
  return "<->";
}

// True when index exists and was built with o's access method, operator class and options
// (--keep-index).
bool IndexMatches(PGconn* c, const Options& o, const std::string& table, const std::string& index) {
  std::string def = Scalar(c,
                           "SELECT pg_get_indexdef(c.oid) || ' ' || "
                           "coalesce(array_to_string(c.reloptions, ','), '') FROM pg_class c "
                           "WHERE c.relname = '" +
                               index + "'");
  if (def.empty()) return false;
  std::string want = "USING " + o.method + " (" + IndexKey(c, o, table) + ")";
  std::string opts =
      o.method == "hnsw"
          ? "m=" + std::to_string(o.m) + ",ef_construction=" + std::to_string(o.ef_construction)
          : "lists=" + std::to_string(o.lists);
  if (HasQuantizerOption(o)) opts += ",quantizer=" + o.quantizer;
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

BuildResult BuildIndex(PGconn* c, const Options& o, const std::string& table,
                       const std::string& index) {
  BuildResult b;
  b.table_bytes = atoll(Scalar(c, "SELECT pg_relation_size('" + table + "')").c_str());
  if (o.method == "none") return b;
  Exec(c, "SET maintenance_work_mem = '" + o.maintenance_work_mem + "'");
  Exec(c, "SET max_parallel_maintenance_workers = " + std::to_string(o.parallel_workers));
  // Vectors of 512+ dimensions are stored out of line (TOAST), so the table's main fork is small
  // and PostgreSQL's plan_create_index_workers grants no workers below
  // min_parallel_table_scan_size (8 MB: about 160,000 rows of 1,536 dimensions), for pgvector as
  // for ragstore. The table's parallel_workers setting overrides that size rule (README,
  // "Operations"), so the build uses the threads --parallel-workers asks for.
  Exec(c, "ALTER TABLE " + table +
              " SET (parallel_workers = " + std::to_string(o.parallel_workers) + ")");
  Exec(c, "CHECKPOINT");
  std::string with = o.method == "hnsw"
                         ? "m = " + std::to_string(o.m) +
                               ", ef_construction = " + std::to_string(o.ef_construction)
                         : "lists = " + std::to_string(o.lists);
  if (HasQuantizerOption(o)) with += ", quantizer = '" + o.quantizer + "'";
  b.sql = "CREATE INDEX " + index + " ON " + table + " USING " + o.method + " (" +
          IndexKey(c, o, table) + ") WITH (" + with + ")";
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
    // halfvec: the expression index's own ORDER BY (column and query cast to halfvec(dim))
    const std::string query =
        o.quantizer == "halfvec" ? "$1::halfvec(" + std::to_string(dim_) + ")" : "$1";
    sql_ = "SELECT id FROM " + table + " ORDER BY " + IndexedExpr(o, dim_) + " " +
           Operator(o.metric) + " " + query + " LIMIT " + std::to_string(o.k);
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

}  // namespace

std::string ServerVersion() {
  Conn c = Connect("postgres");
  return Scalar(c.get(), "SELECT version()");
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
  if (o.keep_index && o.method != "none" && IndexMatches(admin.get(), o, table, index)) {
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

  // Each sweep point once per --rerank value (once, the setting left alone, without it).
  const std::string rerank_guc = o.method + ".rerank_candidates";
  std::vector<std::pair<int, int>> points;
  for (int v : o.sweep)
    for (int rr : o.rerank.empty() ? std::vector<int>{-1} : o.rerank) points.push_back({v, rr});
  for (const auto& [v, rr] : points) {
    PointResult p;
    p.value = v;
    p.rerank = rr;
    single.Set(guc, v);
    for (auto& c : many) c->Set(guc, v);
    if (rr >= 0) {
      single.Set(rerank_guc, rr);
      for (auto& c : many) c->Set(rerank_guc, rr);
    }
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
            "[bench] ragstore %s=%d rerank %d recall@%zu %.4f qps %.0f p50 %.3f ms p99 %.3f ms "
            "cpu %.3f ms/q qps(%d clients) %.0f\n",
            SweepName(o).c_str(), v, rr, o.k, p.recall, p.single.qps, p.single.p50_ms,
            p.single.p99_ms, p.single.cpu_ms, o.clients, p.qps_concurrent);
    run.points.push_back(p);
  }
  return run;
}

void RunFilteredServer(const Options& o, const Dataset& ds, const FilteredTruths& truths,
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
    if (o.keep_index && IndexMatches(admin.get(), om, table, index)) {
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

}  // namespace bench
}  // namespace ragstore
