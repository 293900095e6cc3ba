// Fuzzes the text input of sparsevec (core ParseSparsevecText, what sparsevec_in calls), with
// and without a typmod.
// Input: byte 0 bit 0 says whether a typmod applies (then bytes 1-4 give it, 1..1e9, or small
// values more often); the rest is the text (up to its first NUL).
// Properties:
//   - accepted: 1..1e9 dimensions, the typmod holds, at most 16000 elements, indices strictly
//     increasing and below the dimension, values finite and non-zero; printed as sparsevec_out
//     prints it, it parses back to the same elements and prints the same text again;
//   - rejected: with a kind text input can give; out of range names a number in the input.
#include <cstring>
#include <string>

#include "fuzz_common.h"

using namespace ragstore;

namespace {

SparseElement g_elems[kSparseMaxNnz], g_again[kSparseMaxNnz];

std::string Print(const SparseElement* e, int32_t nnz, int32_t dim) {
  std::string out = "{";
  for (int32_t i = 0; i < nnz; i++) {
    if (i > 0) out += ',';
    out += std::to_string(static_cast<long long>(e[i].index) + 1);
    out += ':';
    fuzz::AppendFloat(&out, e[i].value);
  }
  out += "}/";
  out += std::to_string(dim);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader r{data, size};
  uint8_t mode = r.U8();
  int32_t typmod = -1;
  if (mode & 1) {
    uint32_t t = r.U32();
    typmod = (mode & 2) ? int32_t(1 + t % kSparseMaxDim) : int32_t(1 + t % 100);
  }
  size_t n;
  const uint8_t* rest = r.Rest(&n);
  std::string text(reinterpret_cast<const char*>(rest), n);
  text = text.c_str();
  if (SparsevecTextCapacity(text.c_str()) < 1) fuzz::Fail("capacity below 1");
  int32_t nnz = -1, dim = -1;
  InputStatus st = ParseSparsevecText(text.c_str(), typmod, g_elems, &nnz, &dim);
  if (st.ok()) {
    if (dim < 1 || dim > kSparseMaxDim) fuzz::Fail("accepted dim %d", dim);
    if (typmod != -1 && typmod != dim) fuzz::Fail("typmod %d, accepted dim %d", typmod, dim);
    if (nnz < 0 || nnz > kSparseMaxNnz || nnz > dim) fuzz::Fail("accepted nnz %d", nnz);
    for (int32_t i = 0; i < nnz; i++) {
      if (g_elems[i].index < 0 || g_elems[i].index >= dim) fuzz::Fail("index out of bounds");
      if (i > 0 && g_elems[i].index <= g_elems[i - 1].index) fuzz::Fail("indices not increasing");
      if (!std::isfinite(g_elems[i].value) || g_elems[i].value == 0.0f) fuzz::Fail("bad value");
    }
    std::string printed = Print(g_elems, nnz, dim);
    int32_t nnz2 = -1, dim2 = -1;
    InputStatus st2 = ParseSparsevecText(printed.c_str(), typmod, g_again, &nnz2, &dim2);
    if (!st2.ok())
      fuzz::Fail("printed form '%s' rejected (%s)", printed.c_str(), InputErrorName(st2.error));
    if (nnz2 != nnz || dim2 != dim ||
        std::memcmp(g_elems, g_again, sizeof(SparseElement) * nnz) != 0)
      fuzz::Fail("printed form '%s' reads back different elements", printed.c_str());
    if (Print(g_again, nnz2, dim2) != printed) fuzz::Fail("printing not stable");
    return 0;
  }
  using E = InputError;
  fuzz::ExpectRejection(
      st,
      {E::kSyntax, E::kSyntaxStart, E::kSyntaxJunk, E::kSyntaxEnd, E::kNaN, E::kInfinite,
       E::kNoDimensions, E::kIndexOutOfBounds, E::kDuplicateIndex, E::kTooManyDimensions,
       E::kTooManyNonZeros, E::kTypmodMismatch, E::kOutOfRange},
      typmod, kSparseMaxDim, text.size());
  if (st.error == E::kTooManyNonZeros && SparsevecTextCapacity(text.c_str()) <= kSparseMaxNnz)
    fuzz::Fail("nnz limit without cause");
  return 0;
}
