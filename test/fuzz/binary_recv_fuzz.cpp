// Fuzzes the binary input (recv) of vector, halfvec and sparsevec (core DecodeDenseHeader/Body
// and DecodeSparseHeader/Body, what vector_recv, halfvec_recv and sparsevec_recv call), with
// and without a typmod.
// Input: byte 0 picks the type (% 3: vector, halfvec, sparsevec) and whether a typmod applies
// (bit 2; then byte 1 gives it, 1..64); the rest is the message.
// Properties:
//   - accepted: the value keeps every rule of its type, and sending it (the send function's
//     encoding) gives back exactly the bytes that were read;
//   - rejected: with one of the kinds binary input can give (no text-only kind).
#include <cstring>
#include <vector>

#include "fuzz_common.h"

using namespace ragstore;

namespace {

void CheckBinaryError(const InputStatus& st, int32_t typmod, int64_t max_dim) {
  using E = InputError;
  fuzz::ExpectRejection(
      st,
      {E::kInsufficientData, E::kNoDimensions, E::kTooManyDimensions, E::kUnusedNotZero, E::kNaN,
       E::kInfinite, E::kNegativeNnz, E::kTooManyNonZeros, E::kMoreElementsThanDims,
       E::kIndexOutOfBounds, E::kIndexNotAscending, E::kDuplicateIndex, E::kZeroValue,
       E::kTypmodMismatch},
      typmod, max_dim, 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader r{data, size};
  uint8_t mode = r.U8();
  int type = mode % 3;
  int32_t typmod = (mode & 4) ? 1 + r.U8() % 64 : -1;
  size_t len;
  const uint8_t* msg = r.Rest(&len);
  std::vector<uint8_t> out;
  if (type < 2) {
    DenseKind kind = type == 0 ? DenseKind::kVector : DenseKind::kHalfvec;
    int dim = 0;
    InputStatus st = DecodeDenseHeader(msg, len, typmod, &dim);
    if (!st.ok()) return CheckBinaryError(st, typmod, type < 2 ? kDenseMaxDim : kSparseMaxDim), 0;
    if (dim < 1 || dim > kDenseMaxDim || (typmod != -1 && typmod != dim))
      fuzz::Fail("bad dim %d", dim);
    std::vector<uint8_t> values(dim * DenseElementSize(kind));
    size_t consumed = 0;
    st = DecodeDenseBody(msg + 4, len - 4, kind, dim, values.data(), &consumed);
    if (!st.ok()) return CheckBinaryError(st, typmod, type < 2 ? kDenseMaxDim : kSparseMaxDim), 0;
    if (consumed != dim * DenseElementSize(kind)) fuzz::Fail("consumed %zu bytes", consumed);
    out.resize(4 + consumed);
    if (EncodeDense(kind, values.data(), dim, out.data()) != out.size()) fuzz::Fail("encoded size");
  } else {
    int32_t dim = 0, nnz = 0;
    InputStatus st = DecodeSparseHeader(msg, len, typmod, &dim, &nnz);
    if (!st.ok()) return CheckBinaryError(st, typmod, type < 2 ? kDenseMaxDim : kSparseMaxDim), 0;
    if (nnz < 0 || nnz > kSparseMaxNnz || nnz > dim) fuzz::Fail("bad nnz %d", nnz);
    std::vector<int32_t> indices(nnz);
    std::vector<float> values(nnz);
    size_t consumed = 0;
    st = DecodeSparseBody(msg + 12, len - 12, dim, nnz, indices.data(), values.data(), &consumed);
    if (!st.ok()) return CheckBinaryError(st, typmod, type < 2 ? kDenseMaxDim : kSparseMaxDim), 0;
    for (int32_t i = 0; i < nnz; i++) {
      if (indices[i] < 0 || indices[i] >= dim || (i > 0 && indices[i] <= indices[i - 1]))
        fuzz::Fail("accepted bad indices");
      if (!std::isfinite(values[i]) || values[i] == 0.0f) fuzz::Fail("accepted a bad value");
    }
    out.resize(12 + consumed);
    if (EncodeSparse(dim, nnz, indices.data(), values.data(), out.data()) != out.size())
      fuzz::Fail("encoded size");
  }
  if (out.size() > len || std::memcmp(out.data(), msg, out.size()) != 0)
    fuzz::Fail("send(recv(bytes)) differs from the bytes read (type %d)", type);
  return 0;
}
