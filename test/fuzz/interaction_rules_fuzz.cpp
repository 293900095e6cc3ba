// Fuzzes log_interaction's validation (core FirstBrokenRule, which log_interaction and the
// interaction log's CHECK constraint call) on arbitrary fields.
// Input: the fields' presence flags and values, read in order (times drawn near each other
// often, and at +-infinity; doubles from raw bits, so NaN and infinities occur; operation and
// cache outcome from a short list of valid and near-valid words or raw bytes).
// Properties: the rule reported is the first one broken, as an independent evaluation of every
// rule (written here from the documented list, not from the code) finds it; kOk exactly when
// no rule is broken; a NULL operation is an error only when asked.
#include <climits>
#include <cstring>
#include <string>

#include "core/interaction_rules.h"
#include "fuzz_common.h"

using namespace ragstore;

namespace {

const char* const kWords[] = {"chat",
                              "text_completion",
                              "embeddings",
                              "generate_content",
                              "execute_tool",
                              "create_agent",
                              "invoke_agent",
                              "hit",
                              "miss",
                              "bypass",
                              "Chat",
                              "chat ",
                              "",
                              "hi",
                              "hitt",
                              "embedding"};

int64_t Time(fuzz::Reader& r, int64_t base) {
  uint8_t how = r.U8();
  if (how % 16 == 0) return INT64_MIN;
  if (how % 16 == 1) return INT64_MAX;
  if (how % 2) return base + static_cast<int64_t>(static_cast<int16_t>(r.U32()));
  return static_cast<int64_t>(r.U64());
}

double Double(fuzz::Reader& r) {
  uint8_t how = r.U8();
  if (how % 4 == 0) return (static_cast<int>(r.U8()) - 64) / 64.0;  // around 0..1
  uint64_t bits = r.U64();
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

std::string Word(fuzz::Reader& r) {
  uint8_t how = r.U8();
  if (how < 200) return kWords[how % (sizeof(kWords) / sizeof(kWords[0]))];
  std::string s;
  for (int i = 0, n = r.U8() % 8; i < n; i++) s += static_cast<char>(r.U8());
  return s;
}

bool Lt(double a, double b) {  // SQL's float8 <: NaN above everything
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader r{data, size};
  uint32_t flags = r.U32();
  auto has = [&](int bit) { return (flags >> bit) & 1; };
  InteractionFields f;
  int64_t base = static_cast<int64_t>(r.U64() >> 8);
  f.has_started = has(0);
  f.started = Time(r, base);
  f.has_first = has(1);
  f.first = Time(r, base);
  f.has_finished = has(2);
  f.finished = Time(r, base);
  std::string op = Word(r), outcome = Word(r);
  f.has_operation = has(3);
  f.operation = op.data();
  f.operation_len = op.size();
  for (int i = 0; i < 5; i++) {
    f.has_tokens[i] = has(4 + i);
    f.tokens[i] = static_cast<int64_t>(r.U64()) >> (r.U8() % 64);
  }
  f.has_cost = has(9);
  f.cost_sign = static_cast<int>(r.U8() % 3) - 1;
  f.has_temperature = has(10);
  f.temperature = Double(r);
  f.has_top_p = has(11);
  f.top_p = Double(r);
  f.has_max_tokens = has(12);
  f.max_tokens = static_cast<int64_t>(r.U64()) >> (r.U8() % 64);
  f.has_cache_outcome = has(13);
  f.cache_outcome = outcome.data();
  f.cache_outcome_len = outcome.size();
  f.has_entry = has(14);
  f.entry = static_cast<int64_t>(r.U64());
  f.has_distance = has(15);
  f.distance = Double(r);
  bool null_op_error = has(16);

  // every rule, evaluated on its own (the documented order: interaction_rules.h)
  bool ops_known = op == "chat" || op == "text_completion" || op == "embeddings" ||
                   op == "generate_content" || op == "execute_tool" || op == "create_agent" ||
                   op == "invoke_agent";
  bool outcome_known = outcome == "hit" || outcome == "miss" || outcome == "bypass";
  bool broken[kInteractionRules] = {};
  broken[1] = f.has_started && (f.started == INT64_MIN || f.started == INT64_MAX);
  broken[2] = f.has_operation ? !ops_known : null_op_error;
  broken[3] = f.has_started && f.has_finished && f.finished < f.started;
  broken[4] = f.has_started && f.has_first &&
              (f.first < f.started || (f.has_finished && f.first > f.finished));
  for (int i = 0; i < 5; i++) broken[5] |= f.has_tokens[i] && f.tokens[i] < 0;
  broken[6] = f.has_cost && f.cost_sign < 0;
  broken[7] = f.has_temperature && Lt(f.temperature, 0.0);
  broken[8] = f.has_top_p && (Lt(f.top_p, 0.0) || Lt(1.0, f.top_p));
  broken[9] = f.has_max_tokens && f.max_tokens <= 0;
  broken[10] = f.has_distance && Lt(f.distance, 0.0);
  broken[11] = f.has_cache_outcome && !outcome_known;
  broken[12] = f.has_cache_outcome ? ((outcome == "hit") != f.has_entry) : f.has_entry;
  int want = 0;
  for (int i = 1; i < kInteractionRules && want == 0; i++)
    if (broken[i]) want = i;

  InteractionRule got = FirstBrokenRule(f, null_op_error);
  if (static_cast<int>(got) != want)
    fuzz::Fail("FirstBrokenRule says %s, the rules say %s", InteractionRuleName(got),
               InteractionRuleName(static_cast<InteractionRule>(want)));
  if (IsKnownOperation(op.data(), op.size()) != ops_known) fuzz::Fail("operation '%s'", op.c_str());
  if (IsKnownCacheOutcome(outcome.data(), outcome.size()) != outcome_known)
    fuzz::Fail("cache outcome '%s'", outcome.c_str());
  return 0;
}
