// Fuzzes the text input of vector and halfvec (core ParseVectorText / ParseHalfvecText, what
// vector_in and halfvec_in call), with and without a typmod.
// Input: byte 0 picks the type (bit 0: halfvec) and whether a typmod applies (bit 1; then byte 1
// gives it, 1..64); the rest is the text (up to its first NUL).
// Properties:
//   - accepted: 1..16000 dimensions, the typmod holds, every element finite; printed as
//     vector_out prints it (PostgreSQL's shortest float4 text) it parses back to the same bytes,
//     and prints the same text again;
//   - rejected: with one of the kinds text input can give (no binary or sparse-only kind); an
//     out-of-range error names a non-empty number inside the input; a typmod mismatch names
//     the typmod.
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_common.h"

using namespace ragstore;

namespace {

float g_values[kDenseMaxDim], g_again[kDenseMaxDim];

template <typename T>
InputStatus Parse(bool half, const char* s, int32_t typmod, T* out, int* dim) {
  if constexpr (sizeof(T) == sizeof(float))
    return ParseVectorText(s, typmod, out, dim);
  else
    return ParseHalfvecText(s, typmod, out, dim);
}

template <typename T>
std::string Print(const T* v, int dim) {
  std::string out = "[";
  for (int i = 0; i < dim; i++) {
    if (i > 0) out += ',';
    if constexpr (sizeof(T) == sizeof(float))
      fuzz::AppendFloat(&out, v[i]);
    else
      fuzz::AppendFloat(&out, HalfToFloat(v[i]));
  }
  out += ']';
  return out;
}

template <typename T>
void Check(const std::string& text, int32_t typmod) {
  T* values = reinterpret_cast<T*>(g_values);
  T* again = reinterpret_cast<T*>(g_again);
  int dim = -1;
  InputStatus st = Parse<T>(sizeof(T) == 2, text.c_str(), typmod, values, &dim);
  if (st.ok()) {
    if (dim < 1 || dim > kDenseMaxDim) fuzz::Fail("accepted %d dimensions", dim);
    if (typmod != -1 && typmod != dim) fuzz::Fail("typmod %d, accepted %d dims", typmod, dim);
    for (int i = 0; i < dim; i++) {
      float f;
      if constexpr (sizeof(T) == sizeof(float))
        f = values[i];
      else
        f = HalfToFloat(values[i]);
      if (!std::isfinite(f)) fuzz::Fail("accepted a non-finite element at %d", i);
    }
    std::string printed = Print(values, dim);
    int dim2 = -1;
    InputStatus st2 = Parse<T>(sizeof(T) == 2, printed.c_str(), typmod, again, &dim2);
    if (!st2.ok())
      fuzz::Fail("printed form '%s' rejected (%s)", printed.c_str(), InputErrorName(st2.error));
    if (dim2 != dim || std::memcmp(values, again, sizeof(T) * dim) != 0)
      fuzz::Fail("printed form '%s' reads back different bytes", printed.c_str());
    if (Print(again, dim2) != printed)
      fuzz::Fail("printing is not stable for '%s'", printed.c_str());
    return;
  }
  using E = InputError;
  fuzz::ExpectRejection(
      st,
      {E::kSyntax, E::kSyntaxStart, E::kSyntaxJunk, E::kNaN, E::kInfinite, E::kNoDimensions,
       E::kTooManyDimensions, E::kTypmodMismatch, E::kOutOfRange},
      typmod, kDenseMaxDim, text.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader r{data, size};
  uint8_t mode = r.U8();
  bool half = mode & 1;
  int32_t typmod = (mode & 2) ? 1 + r.U8() % 64 : -1;
  size_t n;
  const uint8_t* rest = r.Rest(&n);
  std::string text(reinterpret_cast<const char*>(rest), n);
  text = text.c_str();  // up to the first NUL, as a cstring argument
  if (half)
    Check<Half>(text, typmod);
  else
    Check<float>(text, typmod);
  return 0;
}
