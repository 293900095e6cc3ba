// ragstore core: the interaction log's rules (see interaction_rules.h).
#include "core/interaction_rules.h"

#include <climits>
#include <cmath>
#include <cstring>

namespace ragstore {

namespace {

constexpr const char* kOperations[] = {
    "chat",         "text_completion", "embeddings",  "generate_content",
    "execute_tool", "create_agent",    "invoke_agent"};
constexpr const char* kCacheOutcomes[] = {"hit", "miss", "bypass"};

bool Equals(const char* s, size_t len, const char* word) {
  return len == std::strlen(word) && std::memcmp(s, word, len) == 0;
}

template <size_t N>
bool OneOf(const char* s, size_t len, const char* const (&words)[N]) {
  for (const char* w : words)
    if (Equals(s, len, w)) return true;
  return false;
}

// PostgreSQL's float8 comparisons: NaN equals NaN and is above every other value.
bool Float8Lt(double a, double b) { return !std::isnan(a) && (std::isnan(b) || a < b); }
bool Float8Gt(double a, double b) { return !std::isnan(b) && (std::isnan(a) || a > b); }

bool TimeIsFinite(int64_t t) { return t != INT64_MIN && t != INT64_MAX; }

}  // namespace

const char* InteractionRuleName(InteractionRule r) {
  switch (r) {
    case InteractionRule::kOk:
      return "ok";
    case InteractionRule::kStartedNotFinite:
      return "started_not_finite";
    case InteractionRule::kUnknownOperation:
      return "unknown_operation";
    case InteractionRule::kFinishedBeforeStarted:
      return "finished_before_started";
    case InteractionRule::kFirstTokenOutsideCall:
      return "first_token_outside_call";
    case InteractionRule::kNegativeTokens:
      return "negative_tokens";
    case InteractionRule::kNegativeCost:
      return "negative_cost";
    case InteractionRule::kNegativeTemperature:
      return "negative_temperature";
    case InteractionRule::kTopPOutOfRange:
      return "top_p_out_of_range";
    case InteractionRule::kMaxTokensNotPositive:
      return "max_tokens_not_positive";
    case InteractionRule::kNegativeCacheDistance:
      return "negative_cache_distance";
    case InteractionRule::kUnknownCacheOutcome:
      return "unknown_cache_outcome";
    case InteractionRule::kCacheEntryMismatch:
      return "cache_entry_mismatch";
  }
  return "unknown";
}

bool IsKnownOperation(const char* s, size_t len) { return OneOf(s, len, kOperations); }
bool IsKnownCacheOutcome(const char* s, size_t len) { return OneOf(s, len, kCacheOutcomes); }

InteractionRule FirstBrokenRule(const InteractionFields& f, bool null_operation_is_error) {
  if (f.has_started && !TimeIsFinite(f.started)) return InteractionRule::kStartedNotFinite;
  if (f.has_operation ? !IsKnownOperation(f.operation, f.operation_len) : null_operation_is_error)
    return InteractionRule::kUnknownOperation;
  if (f.has_finished && f.has_started && f.finished < f.started)
    return InteractionRule::kFinishedBeforeStarted;
  if (f.has_first && f.has_started &&
      (f.first < f.started || (f.has_finished && f.first > f.finished)))
    return InteractionRule::kFirstTokenOutsideCall;
  for (int i = 0; i < 5; i++)
    if (f.has_tokens[i] && f.tokens[i] < 0) return InteractionRule::kNegativeTokens;
  if (f.has_cost && f.cost_sign < 0) return InteractionRule::kNegativeCost;
  if (f.has_temperature && Float8Lt(f.temperature, 0.0))
    return InteractionRule::kNegativeTemperature;
  if (f.has_top_p && (Float8Lt(f.top_p, 0.0) || Float8Gt(f.top_p, 1.0)))
    return InteractionRule::kTopPOutOfRange;
  if (f.has_max_tokens && f.max_tokens <= 0) return InteractionRule::kMaxTokensNotPositive;
  if (f.has_distance && Float8Lt(f.distance, 0.0)) return InteractionRule::kNegativeCacheDistance;
  if (f.has_cache_outcome && !IsKnownCacheOutcome(f.cache_outcome, f.cache_outcome_len))
    return InteractionRule::kUnknownCacheOutcome;
  bool is_hit = f.has_cache_outcome && Equals(f.cache_outcome, f.cache_outcome_len, "hit");
  bool entry_ok = !f.has_cache_outcome ? !f.has_entry : is_hit == f.has_entry;
  if (!entry_ok) return InteractionRule::kCacheEntryMismatch;
  return InteractionRule::kOk;
}

}  // namespace ragstore
