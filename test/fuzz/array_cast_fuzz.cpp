// Fuzzes the array casts (integer[] / real[] / double precision[] -> vector, halfvec,
// sparsevec): the element conversion array_to_vector & co. do (C conversions to float4, as
// pgvector), then core's checks (CheckArrayDims, FloatsToHalvesChecked, CheckFinite*), with and
// without a typmod.
// Input: byte 0: target (% 3), source element type ((>> 2) % 3: int4, float4, float8), typmod
// flag (bit 4; then byte 1 gives it, 1..64); the rest: the elements' raw bytes.
// Properties: the result is what an independent element-by-element reading of the rules gives
// (the dimension checks first; for halfvec the first finite element beyond the half range is
// out of range; then the first NaN, then infinity, in element order); an accepted value holds
// the converted elements exactly (halves: the rounded ones), all finite.
#include <cstring>
#include <vector>

#include "fuzz_common.h"

using namespace ragstore;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader r{data, size};
  uint8_t mode = r.U8();
  int target = mode % 3;         // 0 vector, 1 halfvec, 2 sparsevec
  int source = (mode >> 2) % 3;  // 0 int4, 1 float4, 2 float8
  int32_t typmod = (mode & 16) ? 1 + r.U8() % 64 : -1;
  size_t len;
  const uint8_t* rest = r.Rest(&len);
  size_t width = source == 2 ? 8 : 4;
  int n = static_cast<int>(len / width);
  std::vector<float> f(n);
  for (int i = 0; i < n; i++) {
    uint64_t bits = 0;
    std::memcpy(&bits, rest + i * width, width);
    if (source == 0) {
      int32_t v;
      std::memcpy(&v, &bits, 4);
      f[i] = static_cast<float>(v);
    } else if (source == 1) {
      float v;
      std::memcpy(&v, &bits, 4);
      f[i] = v;
    } else {
      double v;
      std::memcpy(&v, &bits, 8);
      f[i] = static_cast<float>(v);  // beyond float4: an infinity, as in C (IEC 60559)
    }
  }
  int64_t max_dim = target == 2 ? kSparseMaxDim : kDenseMaxDim;

  // the oracle
  InputError want = InputError::kNone;
  int64_t want_element = -1;
  if (n < 1)
    want = InputError::kNoDimensions;
  else if (n > max_dim)
    want = InputError::kTooManyDimensions;
  else if (typmod != -1 && typmod != n)
    want = InputError::kTypmodMismatch;
  std::vector<float> widened(f);  // the elements as the type stores them, widened
  if (want == InputError::kNone && target == 1) {
    for (int i = 0; i < n; i++) {
      widened[i] = HalfToFloat(FloatToHalf(f[i]));
      if (std::isfinite(f[i]) && std::isinf(widened[i]) && want == InputError::kNone) {
        want = InputError::kOutOfRange;
        want_element = i;
      }
    }
  }
  if (want == InputError::kNone) {
    for (int i = 0; i < n && want == InputError::kNone; i++) {
      if (std::isnan(widened[i]))
        want = InputError::kNaN, want_element = i;
      else if (std::isinf(widened[i]))
        want = InputError::kInfinite, want_element = i;
    }
  }

  // the code under test
  InputStatus st = CheckArrayDims(n, max_dim, typmod);
  std::vector<Half> halves(n);
  if (st.ok()) {
    if (target == 1) {
      st = FloatsToHalvesChecked(f.data(), halves.data(), n);
      if (st.ok()) st = CheckFiniteHalves(halves.data(), n);
    } else {
      st = CheckFiniteFloats(f.data(), n);
    }
  }
  if (st.error != want)
    fuzz::Fail("got %s, the rules say %s", InputErrorName(st.error), InputErrorName(want));
  if (want_element >= 0 && st.element != want_element)
    fuzz::Fail("error at element %lld, the rules say %lld", (long long)st.element,
               (long long)want_element);
  if (st.ok() && target == 1) {
    for (int i = 0; i < n; i++) {
      float h = HalfToFloat(halves[i]);
      if (std::memcmp(&h, &widened[i], 4) != 0) fuzz::Fail("half %d is not the rounded element", i);
    }
  }
  return 0;
}
