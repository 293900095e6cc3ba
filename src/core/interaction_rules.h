// ragstore core: the rules every row of the interaction log keeps (log_interaction's
// validation and the table's CHECK constraint), without PostgreSQL. src/interactions/log.cpp
// turns the broken rule into its error message (22023 from log_interaction, 23514 from the
// constraint); test/fuzz/fuzz_interaction_rules.cpp checks the rules on arbitrary fields.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ragstore {

// The fields the rules look at. Times are PostgreSQL timestamptz values (microseconds since
// 2000-01-01 UTC; INT64_MIN and INT64_MAX are -infinity and infinity). Token counts and
// max_tokens are int64 (log_interaction takes bigint). Text fields are (pointer, length) and
// not NUL-terminated; a has_* flag false means SQL NULL.
struct InteractionFields {
  bool has_started = false, has_first = false, has_finished = false;
  int64_t started = 0, first = 0, finished = 0;
  bool has_operation = false;
  const char* operation = nullptr;
  size_t operation_len = 0;
  bool has_tokens[5] = {false, false, false, false, false};
  int64_t tokens[5] = {0, 0, 0, 0, 0};  // input, output, cache read, cache creation, reasoning
  bool has_cost = false;
  int cost_sign = 0;  // -1, 0, 1 (a NaN cost is above every number, as numeric_cmp: 1)
  bool has_temperature = false, has_top_p = false, has_max_tokens = false;
  double temperature = 0, top_p = 0;
  int64_t max_tokens = 0;
  bool has_cache_outcome = false;
  const char* cache_outcome = nullptr;
  size_t cache_outcome_len = 0;
  bool has_entry = false, has_distance = false;
  int64_t entry = 0;
  double distance = 0;
};

// The rules, in the order they are checked; the first one broken is reported.
enum class InteractionRule : uint8_t {
  kOk = 0,
  kStartedNotFinite,       // started_at must be a finite time
  kUnknownOperation,       // operation not an OpenTelemetry gen_ai.operation.name we accept
  kFinishedBeforeStarted,  // finished_at < started_at
  kFirstTokenOutsideCall,  // first_token_at before started_at or after finished_at
  kNegativeTokens,         // a token count < 0
  kNegativeCost,           // cost < 0
  kNegativeTemperature,    // temperature < 0 (NaN is above every float8, as in SQL)
  kTopPOutOfRange,         // top_p outside [0, 1] (NaN is outside)
  kMaxTokensNotPositive,   // max_tokens <= 0
  kNegativeCacheDistance,  // cache_distance < 0
  kUnknownCacheOutcome,    // cache_outcome not hit, miss or bypass
  kCacheEntryMismatch,     // cache_entry_id given exactly when cache_outcome is 'hit'
};
constexpr int kInteractionRules = static_cast<int>(InteractionRule::kCacheEntryMismatch) + 1;

const char* InteractionRuleName(InteractionRule r);

// The operation names accepted (chat, text_completion, embeddings, generate_content,
// execute_tool, create_agent, invoke_agent) and the cache outcomes (hit, miss, bypass).
bool IsKnownOperation(const char* s, size_t len);
bool IsKnownCacheOutcome(const char* s, size_t len);

// The first rule f breaks, or kOk. NULLs pass every rule except the operation when
// null_operation_is_error (log_interaction: a NULL operation is unknown).
InteractionRule FirstBrokenRule(const InteractionFields& f, bool null_operation_is_error);

}  // namespace ragstore
