// ragstore: the interaction log's write path in C++: ragstore.log_interaction, the row check
// behind the table's one CHECK constraint, and the dirty-day queue.
//
// Why not PL/pgSQL and an INSERT statement: PostgreSQL re-reads and re-plans every CHECK
// expression of the table once per INSERT statement, fires the rollup's statement trigger with
// its transition table, and runs the function's validation as PL/pgSQL expressions (measured
// with bench/interactions/run.sh log; figures in bench/README.md). Here:
//   * the rules live in one place (core/interaction_rules.h, pure and fuzzed; CheckRow here
//     words the errors), used by log_interaction (SQLSTATE 22023) and by the table's single
//     CHECK constraint interactions_valid (23514, for COPY and INSERT);
//   * log_interaction inserts the row itself, COPY-style: it routes the row to its partition
//     (the partition key's bounds, as the executor does), checks the partition's constraints
//     (ExecConstraints), inserts the heap tuple and its index entries, and queues the row's UTC
//     day in ragstore.usage_dirty_days (and content_late_days for late content) in the same
//     (sub)transaction -- once per day and (sub)transaction, not once per row;
//   * anything this path does not know how to honour (another INSERT trigger on the log, row
//     level security, a partition that is not a plain table, a changed column layout, no
//     INSERT privilege at table level) takes the general path instead: a plan prepared once per
//     backend (SPI_prepare + SPI_keepplan) for INSERT INTO ragstore.interactions, which fires
//     every trigger, including the statement trigger that queues the days.
// No C++ object with a destructor is used here and nothing throws: every failure is an
// ereport(ERROR) from PostgreSQL code or ours (design.md, rules 1 and 2).

extern "C" {
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_trigger_d.h"
#include "catalog/pg_type_d.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <cstring>

#include "core/interaction_rules.h"

namespace ragstore {
namespace {

constexpr const char* kSchema = "ragstore";

// The columns of ragstore.interactions, in table order (src/sql/80_interactions.sql). The fast
// path only runs when the table (and the partition) has exactly this layout.
enum Column {
  kId,
  kStartedAt,
  kFirstTokenAt,
  kFinishedAt,
  kOperation,
  kProvider,
  kRequestModel,
  kResponseModel,
  kConversationId,
  kUserId,
  kTenant,
  kInputTokens,
  kOutputTokens,
  kCacheReadInputTokens,
  kCacheCreationInputTokens,
  kReasoningOutputTokens,
  kCost,
  kFinishReasons,
  kErrorType,
  kTemperature,
  kTopP,
  kMaxTokens,
  kCacheOutcome,
  kCacheEntryId,
  kCacheDistance,
  kPrompt,
  kResponse,
  kPromptEmbedding,
  kMetadata,
  kTags,
  kNumColumns
};

struct ColumnSpec {
  const char* name;
  Oid type;  // InvalidOid: the extension's vector type (resolved at run time)
};

constexpr ColumnSpec kColumns[kNumColumns] = {
    {"id", INT8OID},
    {"started_at", TIMESTAMPTZOID},
    {"first_token_at", TIMESTAMPTZOID},
    {"finished_at", TIMESTAMPTZOID},
    {"operation", TEXTOID},
    {"provider", TEXTOID},
    {"request_model", TEXTOID},
    {"response_model", TEXTOID},
    {"conversation_id", TEXTOID},
    {"user_id", TEXTOID},
    {"tenant", TEXTOID},
    {"input_tokens", INT4OID},
    {"output_tokens", INT4OID},
    {"cache_read_input_tokens", INT4OID},
    {"cache_creation_input_tokens", INT4OID},
    {"reasoning_output_tokens", INT4OID},
    {"cost", NUMERICOID},
    {"finish_reasons", TEXTARRAYOID},
    {"error_type", TEXTOID},
    {"temperature", FLOAT8OID},
    {"top_p", FLOAT8OID},
    {"max_tokens", INT4OID},
    {"cache_outcome", TEXTOID},
    {"cache_entry_id", INT8OID},
    {"cache_distance", FLOAT8OID},
    {"prompt", TEXTOID},
    {"response", TEXTOID},
    {"prompt_embedding", InvalidOid},
    {"metadata", JSONBOID},
    {"tags", TEXTARRAYOID},
};

// ---- the rules

// Text forms for messages, as PL/pgSQL's RAISE prints them (NULL as <NULL>).
const char* TsOut(bool has, TimestampTz t) {
  return has ? DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)))
             : "<NULL>";
}
const char* IntOut(bool has, int64 v) { return has ? psprintf(INT64_FORMAT, v) : "<NULL>"; }
const char* TextOut(bool has, const char* s, size_t len, const char* if_null) {
  return has ? pnstrdup(s, len) : if_null;
}

int NumericSignOf(Numeric n) {
  static Numeric zero = nullptr;
  if (zero == nullptr) {
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    zero = int64_to_numeric(0);
    MemoryContextSwitchTo(old);
  }
  // numeric_cmp orders NaN above every number (so a NaN cost is not negative, as in SQL)
  return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(n), NumericGetDatum(zero)));
}

// Where the rules' fields are among a SQL function's arguments (the times are the caller's:
// log_interaction computes them). int8_counts: token counts and max_tokens are bigint
// arguments (log_interaction) rather than integer (the CHECK constraint's columns).
struct RuleArgs {
  int operation;
  int tokens[5];  // input, output, cache read, cache creation, reasoning
  int cost, temperature, top_p, max_tokens, cache_outcome, entry, distance;
  bool int8_counts;
};

// The rules' fields from the current call's arguments (times left NULL), pointing into the
// arguments. *cost: the cost argument, nullptr when NULL (CheckRow prints it).
InteractionFields RuleFieldsFromArgs(FunctionCallInfo fcinfo, const RuleArgs& a, Numeric* cost) {
  auto has = [&](int arg) { return !PG_ARGISNULL(arg); };
  auto count = [&](int arg) { return a.int8_counts ? PG_GETARG_INT64(arg) : PG_GETARG_INT32(arg); };
  auto text_field = [&](int arg, bool* has_field, const char** s, size_t* len) {
    *has_field = has(arg);
    if (*has_field) {
      const text* v = PG_GETARG_TEXT_PP(arg);
      *s = VARDATA_ANY(v);
      *len = VARSIZE_ANY_EXHDR(v);
    }
  };
  InteractionFields f;
  text_field(a.operation, &f.has_operation, &f.operation, &f.operation_len);
  for (int i = 0; i < 5; i++) {
    f.has_tokens[i] = has(a.tokens[i]);
    if (f.has_tokens[i]) f.tokens[i] = count(a.tokens[i]);
  }
  *cost = has(a.cost) ? PG_GETARG_NUMERIC(a.cost) : nullptr;
  f.has_cost = *cost != nullptr;
  if (f.has_cost) f.cost_sign = NumericSignOf(*cost);
  f.has_temperature = has(a.temperature);
  if (f.has_temperature) f.temperature = PG_GETARG_FLOAT8(a.temperature);
  f.has_top_p = has(a.top_p);
  if (f.has_top_p) f.top_p = PG_GETARG_FLOAT8(a.top_p);
  f.has_max_tokens = has(a.max_tokens);
  if (f.has_max_tokens) f.max_tokens = count(a.max_tokens);
  text_field(a.cache_outcome, &f.has_cache_outcome, &f.cache_outcome, &f.cache_outcome_len);
  f.has_entry = has(a.entry);
  if (f.has_entry) f.entry = PG_GETARG_INT64(a.entry);
  f.has_distance = has(a.distance);
  if (f.has_distance) f.distance = PG_GETARG_FLOAT8(a.distance);
  return f;
}

// Raises the first rule f breaks (core/interaction_rules.h decides which), with `sqlstate`
// (22023 from log_interaction, 23514 from the CHECK constraint) and `prefix` before the
// message; returns when f keeps every rule. cost: f's cost (nullptr: NULL), for the message.
// NULLs pass every rule but "operation" (log_interaction: an unknown operation; the table's
// column is NOT NULL anyway). Comparisons follow SQL's: NaN is above every float8 and numeric.
void CheckRow(const InteractionFields& f, Numeric cost, int sqlstate, const char* prefix,
              bool null_operation_is_error) {
  switch (FirstBrokenRule(f, null_operation_is_error)) {
    case InteractionRule::kOk:
      return;
    case InteractionRule::kStartedNotFinite:
      ereport(ERROR, (errcode(sqlstate), errmsg("%sstarted_at must be a finite time, got %s",
                                                prefix, TsOut(true, f.started))));
      break;
    case InteractionRule::kUnknownOperation:
      ereport(ERROR,
              (errcode(sqlstate),
               errmsg("%sunknown operation \"%s\"", prefix,
                      TextOut(f.has_operation, f.operation, f.operation_len, "<NULL>")),
               errhint("Use an OpenTelemetry gen_ai.operation.name: chat, text_completion, "
                       "embeddings, generate_content, execute_tool, create_agent, invoke_agent.")));
      break;
    case InteractionRule::kFinishedBeforeStarted:
      ereport(ERROR,
              (errcode(sqlstate), errmsg("%scall finished (%s) before it started (%s)", prefix,
                                         TsOut(true, f.finished), TsOut(true, f.started))));
      break;
    case InteractionRule::kFirstTokenOutsideCall:
      ereport(ERROR,
              (errcode(sqlstate), errmsg("%sfirst token (%s) outside the call (%s to %s)", prefix,
                                         TsOut(true, f.first), TsOut(true, f.started),
                                         TsOut(f.has_finished, f.finished))));
      break;
    case InteractionRule::kNegativeTokens:
      ereport(ERROR,
              (errcode(sqlstate),
               errmsg("%stoken counts must not be negative (input %s, output %s, cache read %s, "
                      "cache creation %s, reasoning %s)",
                      prefix, IntOut(f.has_tokens[0], f.tokens[0]),
                      IntOut(f.has_tokens[1], f.tokens[1]), IntOut(f.has_tokens[2], f.tokens[2]),
                      IntOut(f.has_tokens[3], f.tokens[3]), IntOut(f.has_tokens[4], f.tokens[4]))));
      break;
    case InteractionRule::kNegativeCost:
      ereport(ERROR,
              (errcode(sqlstate),
               errmsg("%scost must not be negative, got %s", prefix,
                      DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(cost))))));
      break;
    case InteractionRule::kNegativeTemperature:
      ereport(ERROR, (errcode(sqlstate), errmsg("%stemperature must not be negative, got %s",
                                                prefix, float8out_internal(f.temperature))));
      break;
    case InteractionRule::kTopPOutOfRange:
      ereport(ERROR, (errcode(sqlstate), errmsg("%stop_p must be between 0 and 1, got %s", prefix,
                                                float8out_internal(f.top_p))));
      break;
    case InteractionRule::kMaxTokensNotPositive:
      ereport(ERROR, (errcode(sqlstate), errmsg("%smax_tokens must be positive, got " INT64_FORMAT,
                                                prefix, f.max_tokens)));
      break;
    case InteractionRule::kNegativeCacheDistance:
      ereport(ERROR, (errcode(sqlstate), errmsg("%scache_distance must not be negative, got %s",
                                                prefix, float8out_internal(f.distance))));
      break;
    case InteractionRule::kUnknownCacheOutcome:
      ereport(ERROR,
              (errcode(sqlstate),
               errmsg("%sunknown cache_outcome \"%s\"", prefix,
                      TextOut(f.has_cache_outcome, f.cache_outcome, f.cache_outcome_len, "")),
               errhint("Use hit, miss or bypass (or NULL when no cache was consulted).")));
      break;
    case InteractionRule::kCacheEntryMismatch:
      ereport(ERROR,
              (errcode(sqlstate),
               errmsg("%scache_entry_id must be given exactly when cache_outcome is 'hit' "
                      "(outcome %s, entry %s)",
                      prefix,
                      TextOut(f.has_cache_outcome, f.cache_outcome, f.cache_outcome_len, "NULL"),
                      f.has_entry ? psprintf(INT64_FORMAT, f.entry) : "NULL")));
      break;
  }
}

// ---- catalog lookups (by name on every call: cheap syscache probes, and never stale after
// DROP/CREATE EXTENSION in the same session)

Oid RagstoreRelid(const char* name) {
  Oid nsp = get_namespace_oid(kSchema, false);
  Oid relid = get_relname_relid(name, nsp);
  if (!OidIsValid(relid)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("relation \"%s.%s\" does not exist", kSchema, name)));
  }
  return relid;
}

// ---- the dirty-day queues

// The UTC day of a timestamptz, as (started_at AT TIME ZONE 'UTC')::date computes it.
DateADT UtcDay(TimestampTz t) {
  int64 d = t / USECS_PER_DAY;
  if (t < 0 && d * USECS_PER_DAY != t) d -= 1;  // floor
  return static_cast<DateADT>(d);
}

// Days already queued by this backend in the current (sub)transaction. A queue row commits or
// rolls back with the (sub)transaction that wrote it; keying the memory on the full xid of
// the current (sub)transaction means a day is queued again after a rollback to a savepoint
// and in any other (sub)transaction (a duplicate queue row is harmless: refresh_usage_daily
// takes DISTINCT days). Full xids never repeat, so the memory can never be stale.
struct QueuedDays {
  FullTransactionId fxid;
  int n;           // days remembered
  bool used[512];  // open addressing (linear probing) over days
  DateADT days[512];
};
constexpr int kQueuedDaysSlots = 512;
constexpr int kQueuedDaysMax = 384;  // beyond this load, new days are queued without remembering
QueuedDays g_dirty_days;
QueuedDays g_late_days;

bool AlreadyQueued(QueuedDays* q, FullTransactionId fxid, DateADT day) {
  if (!FullTransactionIdEquals(q->fxid, fxid)) {
    q->fxid = fxid;
    q->n = 0;
    std::memset(q->used, 0, sizeof(q->used));
  }
  uint32 h = static_cast<uint32>(day) * 2654435761u;  // Knuth's multiplicative hash
  for (int probe = 0; probe < kQueuedDaysSlots; probe++) {
    int i = static_cast<int>((h + probe) % kQueuedDaysSlots);
    if (!q->used[i]) {
      if (q->n < kQueuedDaysMax) {
        q->used[i] = true;
        q->days[i] = day;
        q->n++;
      }
      return false;
    }
    if (q->days[i] == day) return true;
  }
  return false;
}

// Inserts one row (day) into ragstore.<queue>, checking the caller's INSERT privilege. The
// queue tables are plain, unindexed heaps without triggers: the row goes straight to the heap
// (WAL-logged by heap_insert). Should someone have added an index, trigger, constraint or row
// security to the table, the row goes through an INSERT statement instead.
void InsertQueueRow(const char* queue, DateADT day) {
  Oid relid = RagstoreRelid(queue);
  Relation rel = table_open(relid, RowExclusiveLock);
  AclResult acl = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
  if (acl != ACLCHECK_OK) {
    aclcheck_error(acl, get_relkind_objtype(rel->rd_rel->relkind), RelationGetRelationName(rel));
  }
  TupleDesc desc = RelationGetDescr(rel);
  bool simple = rel->rd_rel->relkind == RELKIND_RELATION &&
                rel->rd_rel->relam == HEAP_TABLE_AM_OID && !rel->rd_rel->relhasindex &&
                rel->trigdesc == nullptr && !rel->rd_rel->relrowsecurity && desc->natts == 1 &&
                !TupleDescAttr(desc, 0)->attisdropped &&
                TupleDescAttr(desc, 0)->atttypid == DATEOID &&
                (desc->constr == nullptr ||
                 (desc->constr->num_check == 0 && !desc->constr->has_generated_stored));
  if (simple) {
    Datum value = DateADTGetDatum(day);
    bool isnull = false;
    HeapTuple tup = heap_form_tuple(desc, &value, &isnull);
    heap_insert(rel, tup, GetCurrentCommandId(true), 0, nullptr);
    heap_freetuple(tup);
    table_close(rel, NoLock);
    return;
  }
  table_close(rel, NoLock);
  Oid argtypes[1] = {DATEOID};
  Datum values[1] = {DateADTGetDatum(day)};
  SPI_connect();
  int rc = SPI_execute_with_args(psprintf("INSERT INTO %s.%s (day) VALUES ($1)", kSchema, queue), 1,
                                 argtypes, values, nullptr, false, 0);
  if (rc != SPI_OK_INSERT)
    elog(ERROR, "INSERT into %s.%s failed: %s", kSchema, queue, SPI_result_code_string(rc));
  SPI_finish();
}

// True when content (prompt, response, embedding) of a row that started at `started` arrives
// more than an hour late (see content_late_days and apply_retention).
bool IsLateContent(TimestampTz started) {
  return started < GetCurrentTransactionStartTimestamp() - USECS_PER_HOUR;
}

// Queues `day` in usage_dirty_days (and in content_late_days when `late_content`), unless this
// (sub)transaction already did.
void QueueDay(DateADT day, bool late_content) {
  FullTransactionId fxid = GetCurrentFullTransactionId();
  if (!AlreadyQueued(&g_dirty_days, fxid, day)) InsertQueueRow("usage_dirty_days", day);
  if (late_content && !AlreadyQueued(&g_late_days, fxid, day)) {
    InsertQueueRow("content_late_days", day);
  }
}

// Queues the UTC day of a row that started at `started`, once per (sub)transaction.
void QueueDays(TimestampTz started, bool has_content) {
  QueueDay(UtcDay(started), has_content && IsLateContent(started));
}

// Days of a statement's rows: day * 2 + late-content flag, sorted and unique.
int CompareInt64(const void* a, const void* b) {
  int64 x = *static_cast<const int64*>(a), y = *static_cast<const int64*>(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---- the fast insert path

// True when rel's columns are exactly the log's (names, types, no dropped column).
bool HasLogLayout(Relation rel, Oid vector_type) {
  TupleDesc desc = RelationGetDescr(rel);
  if (desc->natts != kNumColumns) return false;
  for (int i = 0; i < kNumColumns; i++) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    Oid want = kColumns[i].type == InvalidOid ? vector_type : kColumns[i].type;
    if (att->attisdropped || att->atttypid != want ||
        std::strcmp(NameStr(att->attname), kColumns[i].name) != 0) {
      return false;
    }
  }
  return desc->constr == nullptr || !desc->constr->has_generated_stored;
}

// True when no INSERT trigger of `rel` but the dirty-day trigger (whose work QueueDays does)
// would fire. `row_level`: the partition (only row triggers matter there).
bool OnlyKnownInsertTriggers(Relation rel) {
  TriggerDesc* td = rel->trigdesc;
  if (td == nullptr) return true;
  for (int i = 0; i < td->numtriggers; i++) {
    const Trigger& t = td->triggers[i];
    if (!TRIGGER_FOR_INSERT(t.tgtype) || t.tgenabled == TRIGGER_DISABLED) continue;
    if (TRIGGER_FOR_ROW(t.tgtype) || std::strcmp(t.tgname, "interactions_mark_dirty") != 0) {
      return false;
    }
  }
  return true;
}

// Routes a row with partition key `key_value` (started_at) to its leaf partition as the
// executor does (range bounds, else the default partition). InvalidOid when the log is not
// partitioned the way this path expects, or no partition takes the row (the general path then
// reports it).
Oid RoutePartition(Relation parent, Datum key_value) {
  if (parent->rd_rel->relkind != RELKIND_PARTITIONED_TABLE) return InvalidOid;
  PartitionKey key = RelationGetPartitionKey(parent);
  if (key == nullptr || key->strategy != PARTITION_STRATEGY_RANGE || key->partnatts != 1 ||
      key->partattrs[0] != kStartedAt + 1) {
    return InvalidOid;
  }
  PartitionDesc pd = RelationGetPartitionDesc(parent, !IsolationUsesXactSnapshot());
  if (pd->nparts == 0) return InvalidOid;
  PartitionBoundInfo bounds = pd->boundinfo;
  bool equal = false;
  int offset = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, bounds, 1,
                                             &key_value, &equal);
  int index = bounds->indexes[offset + 1];
  if (index < 0) index = bounds->default_index;
  if (index < 0 || !pd->is_leaf[index]) return InvalidOid;
  return pd->oids[index];
}

// True when inserting the row (nulls in the log's column order) needs the executor's
// constraint check: a NULL in a NOT NULL column, or a CHECK constraint other than
// interactions_valid, whose rules the caller has checked with CheckRow.
bool NeedsConstraintCheck(TupleDesc desc, const bool* nulls) {
  TupleConstr* constr = desc->constr;
  if (constr == nullptr) return false;
  if (constr->num_check > 1 ||
      (constr->num_check == 1 && std::strcmp(constr->check[0].ccname, "interactions_valid") != 0)) {
    return true;
  }
  if (constr->has_not_null) {
    for (int c = 0; c < desc->natts; c++) {
      if (TupleDescAttr(desc, c)->attnotnull && nulls[c]) return true;
    }
  }
  return false;
}

// Inserts the row (values/nulls in the log's column order, id included) into its partition
// without an INSERT statement; false (nothing done) when the general path must be used.
bool FastInsert(Relation parent, Oid vector_type, Datum* values, bool* nulls) {
  if (parent->rd_rel->relrowsecurity || !OnlyKnownInsertTriggers(parent) ||
      !HasLogLayout(parent, vector_type) ||
      pg_class_aclcheck(RelationGetRelid(parent), GetUserId(), ACL_INSERT) != ACLCHECK_OK) {
    return false;
  }
  Oid part_oid = RoutePartition(parent, values[kStartedAt]);
  if (!OidIsValid(part_oid)) return false;
  Relation part = table_open(part_oid, RowExclusiveLock);
  if (part->rd_rel->relkind != RELKIND_RELATION || !OnlyKnownInsertTriggers(part) ||
      !HasLogLayout(part, vector_type)) {
    table_close(part, NoLock);
    return false;
  }

  EState* estate = CreateExecutorState();
  estate->es_snapshot = GetActiveSnapshot();
  ResultRelInfo* rri = makeNode(ResultRelInfo);
  InitResultRelInfo(rri, part, 0, nullptr, 0);
  CheckValidResultRel(rri, CMD_INSERT);
  ExecOpenIndices(rri, false);
  TupleTableSlot* slot =
      ExecInitExtraTupleSlot(estate, RelationGetDescr(part), table_slot_callbacks(part));
  ExecClearTuple(slot);
  std::memcpy(slot->tts_values, values, sizeof(Datum) * kNumColumns);
  std::memcpy(slot->tts_isnull, nulls, sizeof(bool) * kNumColumns);
  ExecStoreVirtualTuple(slot);
  // NOT NULL and CHECK constraints of the partition. The rules of interactions_valid were just
  // checked (CheckRow), so the executor's check runs only for a NULL in a NOT NULL column (to
  // raise its usual error) or a constraint the owner added.
  if (NeedsConstraintCheck(RelationGetDescr(part), nulls)) ExecConstraints(rri, slot, estate);
  table_tuple_insert(part, slot, GetCurrentCommandId(true), 0, nullptr);
  if (rri->ri_NumIndices > 0) ExecInsertIndexTuples(rri, slot, estate, false, false, nullptr, NIL);
  ExecCloseIndices(rri);
  ExecResetTupleTable(estate->es_tupleTable, false);
  FreeExecutorState(estate);
  table_close(part, NoLock);
  return true;
}

// ---- the general insert path: INSERT ... RETURNING id through a plan kept for the backend.

SPIPlanPtr g_insert_plan = nullptr;
Oid g_insert_plan_vector_type = InvalidOid;

int64 StatementInsert(Oid vector_type, Datum* values, bool* nulls) {
  constexpr int kParams = kNumColumns - 1;  // every column but id
  SPI_connect();
  if (g_insert_plan == nullptr || g_insert_plan_vector_type != vector_type) {
    if (g_insert_plan != nullptr) {
      SPI_freeplan(g_insert_plan);
      g_insert_plan = nullptr;
    }
    Oid types[kParams];
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql, "INSERT INTO %s.interactions AS i (", kSchema);
    for (int c = 1; c < kNumColumns; c++) {
      appendStringInfo(&sql, "%s%s", c > 1 ? ", " : "", kColumns[c].name);
      types[c - 1] = kColumns[c].type == InvalidOid ? vector_type : kColumns[c].type;
    }
    appendStringInfoString(&sql, ") VALUES (");
    for (int c = 1; c < kNumColumns; c++) appendStringInfo(&sql, "%s$%d", c > 1 ? ", " : "", c);
    appendStringInfoString(&sql, ") RETURNING i.id");
    SPIPlanPtr plan = SPI_prepare(sql.data, kParams, types);
    if (plan == nullptr) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0) elog(ERROR, "SPI_keepplan failed");
    g_insert_plan = plan;
    g_insert_plan_vector_type = vector_type;
  }
  char null_flags[kParams];
  for (int c = 1; c < kNumColumns; c++) null_flags[c - 1] = nulls[c] ? 'n' : ' ';
  // tcount 0: a count of 1 would stop the plan at the RETURNING row, before ModifyTable fires
  // the AFTER STATEMENT triggers (the dirty-day trigger among them)
  int rc = SPI_execute_plan(g_insert_plan, values + 1, null_flags, false, 0);
  if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1) {
    elog(ERROR, "INSERT into %s.interactions failed: %s", kSchema, SPI_result_code_string(rc));
  }
  bool isnull = false;
  int64 id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  SPI_finish();
  return id;
}

// int64 -> int4 for a column stored as integer: 22003 above 2^31-1, as the integer cast says.
Datum Int4Column(int64 v) {
  if (v < PG_INT32_MIN || v > PG_INT32_MAX) {
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("integer out of range")));
  }
  return Int32GetDatum(static_cast<int32>(v));
}

// started + ms milliseconds, computed as started + ms * interval '1 millisecond' (same rounding
// and the same range errors as the SQL expression).
TimestampTz PlusMilliseconds(TimestampTz started, double ms) {
  Interval one_ms;
  one_ms.time = 1000;
  one_ms.day = 0;
  one_ms.month = 0;
  Datum span = DirectFunctionCall2(interval_mul, IntervalPGetDatum(&one_ms), Float8GetDatum(ms));
  return DatumGetTimestampTz(
      DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(started), span));
}

// ---- ragstore.log_interaction, step by step

// The arguments of ragstore.log_interaction, in order (src/sql/80_interactions.sql).
enum LogArg {
  aRequestModel,
  aOperation,
  aProvider,
  aResponseModel,
  aStartedAt,
  aFinishedAt,
  aFirstTokenAt,
  aDurationMs,
  aTtftMs,
  aConversationId,
  aUserId,
  aTenant,
  aInputTokens,
  aOutputTokens,
  aCacheReadInputTokens,
  aCacheCreationInputTokens,
  aReasoningOutputTokens,
  aCost,
  aFinishReasons,
  aErrorType,
  aTemperature,
  aTopP,
  aMaxTokens,
  aCacheOutcome,
  aCacheEntryId,
  aCacheDistance,
  aPrompt,
  aResponse,
  aPromptEmbedding,
  aMetadata,
  aTags,
  kNumLogArgs
};

constexpr RuleArgs kLogRuleArgs = {aOperation,
                                   {aInputTokens, aOutputTokens, aCacheReadInputTokens,
                                    aCacheCreationInputTokens, aReasoningOutputTokens},
                                   aCost,
                                   aTemperature,
                                   aTopP,
                                   aMaxTokens,
                                   aCacheOutcome,
                                   aCacheEntryId,
                                   aCacheDistance,
                                   true};

// The call's times into f: started_at (default: the transaction's start), finished_at and
// first_token_at, each given as a time or as milliseconds after started_at (duration_ms,
// time_to_first_token_ms). 22023 when both forms of one are given.
void ResolveTimes(FunctionCallInfo fcinfo, InteractionFields* f) {
  auto has = [&](int a) { return !PG_ARGISNULL(a); };
  f->has_started = true;
  f->started =
      has(aStartedAt) ? PG_GETARG_TIMESTAMPTZ(aStartedAt) : GetCurrentTransactionStartTimestamp();
  f->has_finished = has(aFinishedAt);
  if (f->has_finished) f->finished = PG_GETARG_TIMESTAMPTZ(aFinishedAt);
  f->has_first = has(aFirstTokenAt);
  if (f->has_first) f->first = PG_GETARG_TIMESTAMPTZ(aFirstTokenAt);
  if (has(aDurationMs)) {
    if (f->has_finished) {
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("give finished_at or duration_ms, not both")));
    }
    f->finished = PlusMilliseconds(f->started, PG_GETARG_FLOAT8(aDurationMs));
    f->has_finished = true;
  }
  if (has(aTtftMs)) {
    if (f->has_first) {
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("give first_token_at or time_to_first_token_ms, not both")));
    }
    f->first = PlusMilliseconds(f->started, PG_GETARG_FLOAT8(aTtftMs));
    f->has_first = true;
  }
}

// The row in the table's column order (id left NULL: InsertRow draws it): the arguments with
// f's times; token counts and max_tokens narrowed to integer (22003 above 2^31-1); metadata
// '{}' and tags '{}' when NULL.
void BuildRow(FunctionCallInfo fcinfo, const InteractionFields& f, Datum* values, bool* nulls) {
  auto has = [&](int a) { return !PG_ARGISNULL(a); };
  for (int c = 0; c < kNumColumns; c++) {
    values[c] = 0;
    nulls[c] = true;
  }
  auto set = [&](int c, Datum v) {
    values[c] = v;
    nulls[c] = false;
  };
  auto copy_arg = [&](int c, int a) {
    if (has(a)) set(c, PG_GETARG_DATUM(a));
  };
  set(kStartedAt, TimestampTzGetDatum(f.started));
  if (f.has_first) set(kFirstTokenAt, TimestampTzGetDatum(f.first));
  if (f.has_finished) set(kFinishedAt, TimestampTzGetDatum(f.finished));
  copy_arg(kOperation, aOperation);
  copy_arg(kProvider, aProvider);
  copy_arg(kRequestModel, aRequestModel);
  copy_arg(kResponseModel, aResponseModel);
  copy_arg(kConversationId, aConversationId);
  copy_arg(kUserId, aUserId);
  copy_arg(kTenant, aTenant);
  for (int i = 0; i < 5; i++) {
    if (f.has_tokens[i]) set(kInputTokens + i, Int4Column(f.tokens[i]));
  }
  copy_arg(kCost, aCost);
  copy_arg(kFinishReasons, aFinishReasons);
  copy_arg(kErrorType, aErrorType);
  copy_arg(kTemperature, aTemperature);
  copy_arg(kTopP, aTopP);
  if (f.has_max_tokens) set(kMaxTokens, Int4Column(f.max_tokens));
  copy_arg(kCacheOutcome, aCacheOutcome);
  copy_arg(kCacheEntryId, aCacheEntryId);
  copy_arg(kCacheDistance, aCacheDistance);
  copy_arg(kPrompt, aPrompt);
  copy_arg(kResponse, aResponse);
  copy_arg(kPromptEmbedding, aPromptEmbedding);
  set(kMetadata, has(aMetadata) ? PG_GETARG_DATUM(aMetadata)
                                : DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
  set(kTags, has(aTags) ? PG_GETARG_DATUM(aTags) : PointerGetDatum(construct_empty_array(TEXTOID)));
}

// Inserts the row built by BuildRow and returns its id: the id is drawn first, as the column
// default would (nextval checks the sequence privilege), then the fast path inserts the row and
// queues its day; when it cannot, the general path's INSERT (whose column default draws the
// id) fires the statement trigger that queues the day.
int64 InsertRow(FunctionCallInfo fcinfo, Datum* values, bool* nulls) {
  Oid vector_type = get_fn_expr_argtype(fcinfo->flinfo, aPromptEmbedding);
  Relation parent = table_open(RagstoreRelid("interactions"), RowExclusiveLock);
  values[kId] = Int64GetDatum(nextval_internal(RagstoreRelid("interactions_id_seq"), true));
  nulls[kId] = false;
  bool done = FastInsert(parent, vector_type, values, nulls);
  table_close(parent, NoLock);
  if (!done) return StatementInsert(vector_type, values, nulls);
  bool has_content = !nulls[kPrompt] || !nulls[kResponse] || !nulls[kPromptEmbedding];
  QueueDays(DatumGetTimestampTz(values[kStartedAt]), has_content);
  return DatumGetInt64(values[kId]);
}

}  // namespace
}  // namespace ragstore

using namespace ragstore;

extern "C" {

PG_FUNCTION_INFO_V1(ragstore_log_interaction);
// ragstore.log_interaction(request_model text, operation text, provider text, response_model
// text, started_at timestamptz, finished_at timestamptz, first_token_at timestamptz,
// duration_ms float8, time_to_first_token_ms float8, conversation_id text, user_id text, tenant
// text, input_tokens int8, output_tokens int8, cache_read_input_tokens int8,
// cache_creation_input_tokens int8, reasoning_output_tokens int8, cost numeric, finish_reasons
// text[], error_type text, temperature float8, top_p float8, max_tokens int8, cache_outcome text,
// cache_entry_id int8, cache_distance float8, prompt text, response text, prompt_embedding
// vector, metadata jsonb, tags text[]) -> bigint: logs one call, returns its id (defaults and
// documentation in src/sql/80_interactions.sql). Times: started_at defaults to now() (the
// transaction's start); duration_ms / time_to_first_token_ms are milliseconds after it.
// Errors: 22004 NULL request_model; 22023 for a broken rule (CheckRow), both finished_at and
// duration_ms, both first_token_at and time_to_first_token_ms; 22003 for a token count or
// max_tokens above 2^31-1; 25006 in a read-only transaction; 42501 without the privileges of
// ragstore_writer.
Datum ragstore_log_interaction(PG_FUNCTION_ARGS) {
  if (PG_NARGS() != kNumLogArgs) {
    elog(ERROR, "ragstore.log_interaction: expected %d arguments", kNumLogArgs);
  }
  if (PG_ARGISNULL(aRequestModel)) {
    ereport(ERROR,
            (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("request_model must not be NULL")));
  }
  Numeric cost;
  InteractionFields f = RuleFieldsFromArgs(fcinfo, kLogRuleArgs, &cost);
  ResolveTimes(fcinfo, &f);
  CheckRow(f, cost, ERRCODE_INVALID_PARAMETER_VALUE, "", true);

  PreventCommandIfReadOnly("INSERT");
  PreventCommandIfParallelMode("INSERT");
  Datum values[kNumColumns];
  bool nulls[kNumColumns];
  BuildRow(fcinfo, f, values, nulls);
  PG_RETURN_INT64(InsertRow(fcinfo, values, nulls));
}

PG_FUNCTION_INFO_V1(ragstore_interactions_mark_dirty);
// ragstore._interactions_mark_dirty() -> trigger: AFTER INSERT ... REFERENCING NEW TABLE FOR
// EACH STATEMENT on ragstore.interactions (INSERT and COPY; log_interaction queues its rows
// itself). Queues every distinct UTC day of the statement's rows in usage_dirty_days, and the
// days of rows whose content came more than an hour late in content_late_days, in the
// inserting (sub)transaction, skipping days this (sub)transaction already queued. Errors:
// 39P01 (trigger_protocol_violated) when fired any other way.
Datum ragstore_interactions_mark_dirty(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("ragstore._interactions_mark_dirty must be called as a trigger")));
  }
  TriggerData* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) ||
      !TRIGGER_FIRED_BY_INSERT(td->tg_event) || td->tg_newtable == nullptr) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("ragstore._interactions_mark_dirty must be fired AFTER INSERT FOR EACH "
                           "STATEMENT with a NEW TABLE")));
  }
  TupleDesc desc = RelationGetDescr(td->tg_relation);
  const char* names[4] = {"started_at", "prompt", "response", "prompt_embedding"};
  int attnums[4];
  for (int i = 0; i < 4; i++) {
    attnums[i] = SPI_fnumber(desc, names[i]);
    if (attnums[i] <= 0) elog(ERROR, "ragstore.interactions has no column %s", names[i]);
  }
  // the statement's distinct (day, late content) pairs first: a COPY of many rows spanning many
  // days writes one queue row per day, whatever the order of its rows
  int capacity = 64, n = 0;
  int64* keys = static_cast<int64*>(palloc(sizeof(int64) * capacity));
  Tuplestorestate* rows = td->tg_newtable;
  TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
  tuplestore_rescan(rows);
  int64 last = PG_INT64_MIN;
  while (tuplestore_gettupleslot(rows, true, false, slot)) {
    bool isnull = false;
    Datum started = slot_getattr(slot, attnums[0], &isnull);
    if (isnull) continue;
    TimestampTz t = DatumGetTimestampTz(started);
    bool content = !slot_attisnull(slot, attnums[1]) || !slot_attisnull(slot, attnums[2]) ||
                   !slot_attisnull(slot, attnums[3]);
    int64 key = static_cast<int64>(UtcDay(t)) * 2 + ((content && IsLateContent(t)) ? 1 : 0);
    if (key == last) continue;  // runs of one day (the usual COPY) cost nothing
    last = key;
    if (n == capacity) {
      capacity *= 2;
      keys = static_cast<int64*>(repalloc(keys, sizeof(int64) * capacity));
    }
    keys[n++] = key;
  }
  ExecDropSingleTupleTableSlot(slot);
  tuplestore_rescan(rows);
  if (n > 1) qsort(keys, n, sizeof(int64), CompareInt64);
  for (int i = 0; i < n; i++) {
    if (i > 0 && keys[i] == keys[i - 1]) continue;
    int64 day2 = keys[i] >= 0 ? keys[i] / 2 : -((-keys[i] + 1) / 2);  // floor(key / 2)
    QueueDay(static_cast<DateADT>(day2), (keys[i] - day2 * 2) == 1);
  }
  pfree(keys);
  return PointerGetDatum(nullptr);
}

PG_FUNCTION_INFO_V1(ragstore_interaction_row_check);
// ragstore._interaction_row_check(started_at timestamptz, first_token_at timestamptz,
// finished_at timestamptz, operation text, input_tokens int4, output_tokens int4,
// cache_read_input_tokens int4, cache_creation_input_tokens int4, reasoning_output_tokens int4,
// cost numeric, temperature float8, top_p float8, max_tokens int4, cache_outcome text,
// cache_entry_id int8, cache_distance float8) -> boolean: the table's CHECK constraint
// interactions_valid. Returns true for a row that keeps every rule of CheckRow (NULLs pass),
// else raises 23514 (check_violation) naming the broken rule -- the same rules and messages as
// log_interaction's 22023 errors. Immutable (the messages print times in the session's
// TimeZone, the verdict does not depend on it).
Datum ragstore_interaction_row_check(PG_FUNCTION_ARGS) {
  if (PG_NARGS() != 16) elog(ERROR, "ragstore._interaction_row_check: expected 16 arguments");
  constexpr RuleArgs kArgs = {3, {4, 5, 6, 7, 8}, 9, 10, 11, 12, 13, 14, 15, false};
  Numeric cost;
  InteractionFields f = RuleFieldsFromArgs(fcinfo, kArgs, &cost);
  f.has_started = !PG_ARGISNULL(0);
  if (f.has_started) f.started = PG_GETARG_TIMESTAMPTZ(0);
  f.has_first = !PG_ARGISNULL(1);
  if (f.has_first) f.first = PG_GETARG_TIMESTAMPTZ(1);
  f.has_finished = !PG_ARGISNULL(2);
  if (f.has_finished) f.finished = PG_GETARG_TIMESTAMPTZ(2);
  CheckRow(f, cost, ERRCODE_CHECK_VIOLATION, "ragstore.interactions: ", false);
  PG_RETURN_BOOL(true);
}

}  // extern "C"
