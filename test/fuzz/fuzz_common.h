// Shared helpers of the libFuzzer harnesses (test/fuzz/*_fuzz.cpp, built and run by
// scripts/fuzz.sh). A harness checks a property and calls Fail() when it does not hold: the
// message goes to stderr and abort() makes libFuzzer save the input as a crash.
#pragma once

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "core/type_input.h"

// PostgreSQL's shortest float4 formatting (src/common/f2s.c, from libpgcommon.a): the text
// vector_out / halfvec_out / sparsevec_out print. Returns the length written (no NUL needed).
extern "C" int float_to_shortest_decimal_bufn(float f, char* result);

namespace fuzz {

[[noreturn]] inline void Fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "property violated: ");
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
  std::abort();
}

inline void AppendFloat(std::string* out, float f) {
  char buf[32];
  int n = float_to_shortest_decimal_bufn(f, buf);
  out->append(buf, static_cast<size_t>(n));
}

// A rejection must have one of the kinds its input path can give, with consistent numbers: a
// typmod mismatch names the typmod (and a different count), too many dimensions names
// max_dim, an out-of-range number from text lies inside the input (input_len bytes).
inline void ExpectRejection(const ragstore::InputStatus& st,
                            std::initializer_list<ragstore::InputError> allowed, int32_t typmod,
                            int64_t max_dim, size_t input_len) {
  using ragstore::InputError;
  bool known = false;
  for (InputError e : allowed) known |= st.error == e;
  if (!known) Fail("this path gave error kind %s", ragstore::InputErrorName(st.error));
  if (st.error == InputError::kTypmodMismatch && (typmod == -1 || st.a != typmod || st.b == typmod))
    Fail("typmod mismatch reported as %lld / %lld with typmod %d", (long long)st.a, (long long)st.b,
         typmod);
  if (st.error == InputError::kTooManyDimensions && st.a != max_dim)
    Fail("too many dimensions names %lld", (long long)st.a);
  if (st.error == InputError::kOutOfRange &&
      (st.token_len == 0 || st.token_begin + st.token_len > input_len))
    Fail("out-of-range token outside the input");
}

// Reads bytes in order; past the end it returns zeros.
struct Reader {
  const uint8_t* data;
  size_t len;
  size_t pos = 0;
  uint8_t U8() { return pos < len ? data[pos++] : 0; }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = (v << 8) | U8();
    return v;
  }
  uint64_t U64() { return (uint64_t(U32()) << 32) | U32(); }
  const uint8_t* Rest(size_t* n) {
    *n = pos < len ? len - pos : 0;
    return data + (pos < len ? pos : len);
  }
};

}  // namespace fuzz
