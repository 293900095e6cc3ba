// ragstore: ragstore.cache_lookup (the semantic cache) in C++.
//
// Why not PL/pgSQL: the query must carry the literal dimension (so the planner can match the
// partial hnsw index of that dimension, WHERE dims = d), and PL/pgSQL's EXECUTE parses and
// plans such a query on every call, a large part of a lookup's time. Here the same query is
// prepared once per backend for each dimension and scope shape (tenant NULL or not, user NULL or
// not) with SPI_prepare_cursor and CURSOR_OPT_GENERIC_PLAN, kept with SPI_keepplan: later lookups
// only execute it. The literal dimension stays in the query text, so the generic plan still proves
// the partial index's predicate; the plan cache re-plans it by itself when an index is created or
// dropped. The query only reads (SPI read_only, the caller's snapshot): lookups run on replicas. No
// C++ object with a destructor is used and nothing throws (design.md, rules 1 and 2).

extern "C" {
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
}

#include "types/vector.h"

namespace ragstore {
namespace {

// One prepared lookup query per dimension and scope shape.
struct LookupPlan {
  int dims;
  bool tenant_null;
  bool user_null;
  Oid vector_type;
  SPIPlanPtr plan;
};

constexpr int kMaxPlans = 32;  // distinct (dims, scope shape) in one backend; oldest replaced
LookupPlan g_plans[kMaxPlans];
int g_num_plans = 0;
int g_next_victim = 0;

// The schema of the vector type (the extension's schema, @extschema@ in the SQL files).
char* TypeSchema(Oid type) {
  HeapTuple tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
  if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for type %u", type);
  Oid nsp = reinterpret_cast<Form_pg_type>(GETSTRUCT(tup))->typnamespace;
  ReleaseSysCache(tup);
  return get_namespace_name(nsp);
}

// The prepared query for (dims, scope shape); prepares and keeps it on first use. Must be
// called inside SPI_connect.
SPIPlanPtr PlanFor(int dims, bool tenant_null, bool user_null, Oid vector_type) {
  for (int i = 0; i < g_num_plans; i++) {
    const LookupPlan& p = g_plans[i];
    if (p.dims == dims && p.tenant_null == tenant_null && p.user_null == user_null &&
        p.vector_type == vector_type) {
      return p.plan;
    }
  }
  const char* ext = quote_identifier(TypeSchema(vector_type));
  // The nearest entry is taken first and the threshold applied after, so an index scan stops
  // at one row instead of walking the index looking for one within the threshold.
  char* sql = psprintf(
      "SELECT n.id, n.response, n.distance FROM ("
      " SELECT c.id, c.response,"
      "  c.embedding::%1$s.vector(%2$d) OPERATOR(%1$s.<=>) $1::%1$s.vector(%2$d) AS distance"
      " FROM ragstore.cache_entries c"
      " WHERE c.dims = %2$d AND c.model = $2 AND %3$s AND %4$s AND c.expires_at > now()"
      " ORDER BY c.embedding::%1$s.vector(%2$d) OPERATOR(%1$s.<=>) $1::%1$s.vector(%2$d)"
      " LIMIT 1) n"
      " WHERE n.distance <= $5",
      ext, dims, tenant_null ? "c.tenant IS NULL" : "c.tenant = $3",
      user_null ? "c.user_id IS NULL" : "c.user_id = $4");
  Oid types[5] = {vector_type, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID};
  SPIPlanPtr plan = SPI_prepare_cursor(sql, 5, types, CURSOR_OPT_GENERIC_PLAN);
  if (plan == nullptr) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
  if (SPI_keepplan(plan) != 0) elog(ERROR, "SPI_keepplan failed");
  int slot;
  if (g_num_plans < kMaxPlans) {
    slot = g_num_plans++;
  } else {
    slot = g_next_victim;
    g_next_victim = (g_next_victim + 1) % kMaxPlans;
    SPI_freeplan(g_plans[slot].plan);
  }
  g_plans[slot] = {dims, tenant_null, user_null, vector_type, plan};
  return plan;
}

bool IsZeroVector(const Vector* v) {
  for (int i = 0; i < v->dim; i++) {
    if (v->x[i] != 0.0f) return false;
  }
  return true;
}

}  // namespace
}  // namespace ragstore

using namespace ragstore;

extern "C" {

PG_FUNCTION_INFO_V1(ragstore_cache_lookup);
// ragstore.cache_lookup(embedding vector, model text, tenant text, user_id text, max_distance
// float8) -> SETOF (entry_id bigint, response text, distance float8), at most one row: the
// unexpired entry of the same model, scope (tenant and user_id, NULL matching NULL) and
// dimension nearest to `embedding` by cosine distance, if that distance is <= max_distance
// (0..2); no row otherwise. Read-only. With an hnsw index for the dimension the search is
// approximate (an entry may be missed, a wrong one is never returned); without it, exact.
// Errors: 22004 NULL embedding or model, 22023 zero vector or max_distance outside [0, 2].
Datum ragstore_cache_lookup(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("embedding must not be NULL")));
  }
  if (PG_ARGISNULL(1)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("model must not be NULL")));
  }
  Datum embedding = PG_GETARG_DATUM(0);
  Vector* v = DatumGetVector(embedding);
  if (IsZeroVector(v)) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("embedding has zero norm: cosine distance is undefined")));
  }
  double max_distance = PG_ARGISNULL(4) ? 0 : PG_GETARG_FLOAT8(4);
  if (PG_ARGISNULL(4) || float8_lt(max_distance, 0.0) || float8_gt(max_distance, 2.0)) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("max_distance must be between 0 and 2 (cosine distance), got %s",
                           PG_ARGISNULL(4) ? "NULL" : float8out_internal(max_distance))));
  }
  bool tenant_null = PG_ARGISNULL(2), user_null = PG_ARGISNULL(3);
  Oid vector_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
  if (!OidIsValid(vector_type)) elog(ERROR, "ragstore.cache_lookup: unknown argument type");

  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  SPI_connect();
  SPIPlanPtr plan = PlanFor(v->dim, tenant_null, user_null, vector_type);
  Datum params[5] = {PointerGetDatum(v), PG_GETARG_DATUM(1),
                     tenant_null ? Datum(0) : PG_GETARG_DATUM(2),
                     user_null ? Datum(0) : PG_GETARG_DATUM(3), Float8GetDatum(max_distance)};
  char nulls[5] = {' ', ' ', tenant_null ? 'n' : ' ', user_null ? 'n' : ' ', ' '};
  int rc = SPI_execute_plan(plan, params, nulls, true, 1);
  if (rc != SPI_OK_SELECT) elog(ERROR, "cache lookup failed: %s", SPI_result_code_string(rc));
  if (SPI_processed == 1) {
    Datum values[3];
    bool isnull[3];
    for (int c = 0; c < 3; c++) {
      values[c] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c + 1, &isnull[c]);
    }
    // copies the row into the result's tuplestore (its own memory context) before SPI_finish
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
  }
  SPI_finish();
  return Datum(0);
}

}  // extern "C"
