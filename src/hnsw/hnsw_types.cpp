// ragstore hnsw: support function 3 of the operator classes, one per element type. Each returns
// a pointer to a static HnswTypeInfo (hnsw.h): hnsw's size limit for the type (pgvector's:
// 2,000 dimensions for vector, 4,000 for halfvec, 64,000 bits, 1,000 non-zeros for sparsevec),
// the fast kernel matching the opclass's distance support function (identified by its C entry
// point), cosine normalisation, and for dense float types the float conversion that lets the
// in-memory builder run (halfvec converts exactly to float and back); bit and sparsevec values
// are read in place by the in-memory builder (bits_at, sparse_view).
#include "hnsw/hnsw.h"

#include <cmath>

#include "core/bits.h"
#include "core/distance.h"
#include "core/half.h"
#include "core/sparse.h"
#include "types/halfvec.h"
#include "types/sparsevec.h"
#include "types/vector.h"

extern "C" {
#include "utils/varbit.h"

Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
Datum l1_distance(PG_FUNCTION_ARGS);
Datum halfvec_l2_squared_distance(PG_FUNCTION_ARGS);
Datum halfvec_negative_inner_product(PG_FUNCTION_ARGS);
Datum halfvec_l1_distance(PG_FUNCTION_ARGS);
Datum sparsevec_l2_squared_distance(PG_FUNCTION_ARGS);
Datum sparsevec_negative_inner_product(PG_FUNCTION_ARGS);
Datum sparsevec_l1_distance(PG_FUNCTION_ARGS);
Datum hamming_distance(PG_FUNCTION_ARGS);
Datum jaccard_distance(PG_FUNCTION_ARGS);
}

namespace ragstore {
namespace hnsw {
namespace {

// ---------------------------------------------------------------- vector

const Vector* V(const char* p) { return reinterpret_cast<const Vector*>(p); }
int VectorDims(const char* v) { return V(v)->dim; }
float VectorL2(const char* a, const char* b) {
  return L2SquaredDistance(V(a)->x, V(b)->x, V(a)->dim);
}
float VectorIp(const char* a, const char* b) { return -InnerProduct(V(a)->x, V(b)->x, V(a)->dim); }
float VectorL1(const char* a, const char* b) { return L1Distance(V(a)->x, V(b)->x, V(a)->dim); }

void VectorKernelFor(PGFunction fn, HnswKernel* kernel, Metric* metric) {
  if (fn == vector_l2_squared_distance)
    *kernel = VectorL2, *metric = Metric::kL2;
  else if (fn == vector_negative_inner_product)
    *kernel = VectorIp, *metric = Metric::kInnerProduct;
  else if (fn == l1_distance)
    *kernel = VectorL1, *metric = Metric::kL1;
}

char* VectorNormalize(const char* value) {
  const Vector* v = V(value);
  double norm = 0.0;
  for (int i = 0; i < v->dim; i++) norm += static_cast<double>(v->x[i]) * v->x[i];
  norm = std::sqrt(norm);
  if (norm == 0.0 || !std::isfinite(norm)) return nullptr;
  Vector* out = InitVector(v->dim);
  for (int i = 0; i < v->dim; i++) out->x[i] = static_cast<float>(v->x[i] / norm);
  return reinterpret_cast<char*>(out);
}

void VectorToFloat(const char* value, float* out) {
  memcpy(out, V(value)->x, sizeof(float) * V(value)->dim);
}
Size VectorFromFloatSize(int dims) { return VectorSize(dims); }
void VectorFromFloat(const float* x, int dims, char* out) {
  auto* v = reinterpret_cast<Vector*>(out);
  SET_VARSIZE(v, VectorSize(dims));
  v->dim = static_cast<int16>(dims);
  v->unused = 0;
  memcpy(v->x, x, sizeof(float) * dims);
}

const HnswTypeInfo kVectorInfo = {
    "vector",
    2000,
    "dimensions",
    true,
    VectorDims,
    VectorDims,
    "different vector dimensions %u and %d",
    VectorKernelFor,
    VectorNormalize,
    VectorToFloat,
    VectorFromFloatSize,
    VectorFromFloat,
    HnswElementKind::kDenseFloat,
    nullptr,
    nullptr,
};

// ---------------------------------------------------------------- halfvec

const HalfVector* H(const char* p) { return reinterpret_cast<const HalfVector*>(p); }
Size HalfSize(int dims) { return offsetof(HalfVector, x) + sizeof(Half) * dims; }
int HalfDims(const char* v) { return H(v)->dim; }
float HalfL2(const char* a, const char* b) {
  return HalfL2SquaredDistance(H(a)->x, H(b)->x, H(a)->dim);
}
float HalfIp(const char* a, const char* b) {
  return -HalfInnerProduct(H(a)->x, H(b)->x, H(a)->dim);
}
float HalfL1(const char* a, const char* b) { return HalfL1Distance(H(a)->x, H(b)->x, H(a)->dim); }

void HalfKernelFor(PGFunction fn, HnswKernel* kernel, Metric* metric) {
  if (fn == halfvec_l2_squared_distance)
    *kernel = HalfL2, *metric = Metric::kL2;
  else if (fn == halfvec_negative_inner_product)
    *kernel = HalfIp, *metric = Metric::kInnerProduct;
  else if (fn == halfvec_l1_distance)
    *kernel = HalfL1, *metric = Metric::kL1;
}

char* HalfNormalize(const char* value) {
  const HalfVector* v = H(value);
  double norm = 0.0;
  for (int i = 0; i < v->dim; i++) {
    double x = HalfToFloat(v->x[i]);
    norm += x * x;
  }
  norm = std::sqrt(norm);
  if (norm == 0.0 || !std::isfinite(norm)) return nullptr;
  auto* out = static_cast<HalfVector*>(palloc0(HalfSize(v->dim)));
  SET_VARSIZE(out, HalfSize(v->dim));
  out->dim = v->dim;
  for (int i = 0; i < v->dim; i++)
    out->x[i] = FloatToHalf(static_cast<float>(HalfToFloat(v->x[i]) / norm));
  return reinterpret_cast<char*>(out);
}

void HalfToFloatValues(const char* value, float* out) {
  HalvesToFloats(H(value)->x, out, H(value)->dim);
}
void HalfFromFloat(const float* x, int dims, char* out) {
  auto* v = reinterpret_cast<HalfVector*>(out);
  SET_VARSIZE(v, HalfSize(dims));
  v->dim = static_cast<int16>(dims);
  v->unused = 0;
  FloatsToHalves(x, v->x, dims);
}

const HnswTypeInfo kHalfvecInfo = {
    "halfvec",
    4000,
    "dimensions",
    true,
    HalfDims,
    HalfDims,
    "different halfvec dimensions %u and %d",
    HalfKernelFor,
    HalfNormalize,
    HalfToFloatValues,
    HalfSize,
    HalfFromFloat,
    HnswElementKind::kDenseFloat,
    nullptr,
    nullptr,
};

// ---------------------------------------------------------------- sparsevec

const SparseVector* S(const char* p) { return reinterpret_cast<const SparseVector*>(p); }
int SparseDims(const char* v) { return S(v)->dim; }
int SparseNnz(const char* v) { return S(v)->nnz; }
float SparseL2(const char* a, const char* b) {
  return SparseL2SquaredDistance(View(S(a)), View(S(b)));
}
float SparseIp(const char* a, const char* b) { return -SparseInnerProduct(View(S(a)), View(S(b))); }
float SparseL1(const char* a, const char* b) { return SparseL1Distance(View(S(a)), View(S(b))); }

// The in-memory builder's SparseSpace computes these same kernels (core/hnsw_graph.h).
void SparseKernelFor(PGFunction fn, HnswKernel* kernel, Metric* metric) {
  if (fn == sparsevec_l2_squared_distance)
    *kernel = SparseL2, *metric = Metric::kL2;
  else if (fn == sparsevec_negative_inner_product)
    *kernel = SparseIp, *metric = Metric::kInnerProduct;
  else if (fn == sparsevec_l1_distance)
    *kernel = SparseL1, *metric = Metric::kL1;
}

SparseView SparseViewOf(const char* value) { return View(S(value)); }

char* SparseNormalize(const char* value) {
  const SparseVector* v = S(value);
  const float* x = SparseValues(v);
  double norm = 0.0;
  for (int i = 0; i < v->nnz; i++) norm += static_cast<double>(x[i]) * x[i];
  norm = std::sqrt(norm);
  if (norm == 0.0 || !std::isfinite(norm)) return nullptr;
  Size size = SparseVectorSize(v->nnz);
  auto* out = static_cast<SparseVector*>(palloc(size));
  memcpy(out, v, size);
  float* y = SparseValues(out);
  for (int i = 0; i < v->nnz; i++) y[i] = static_cast<float>(x[i] / norm);
  return reinterpret_cast<char*>(out);
}

const HnswTypeInfo kSparsevecInfo = {
    "sparsevec",
    1000,
    "non-zero elements",
    false,
    SparseDims,
    SparseNnz,
    "different sparsevec dimensions %u and %d",
    SparseKernelFor,
    SparseNormalize,
    nullptr,
    nullptr,
    nullptr,
    HnswElementKind::kSparse,
    nullptr,
    SparseViewOf,
};

// ---------------------------------------------------------------- bit

const VarBit* B(const char* p) { return reinterpret_cast<const VarBit*>(p); }
int BitDims(const char* v) { return VARBITLEN(B(v)); }
float BitHamming(const char* a, const char* b) {
  return static_cast<float>(HammingBits(VARBITS(B(a)), VARBITS(B(b)), VARBITBYTES(B(a))));
}
float BitJaccard(const char* a, const char* b) {
  return static_cast<float>(JaccardDistance(VARBITS(B(a)), VARBITS(B(b)), VARBITBYTES(B(a))));
}

// The in-memory builder's BitSpace computes these same kernels (core/hnsw_graph.h).
void BitKernelFor(PGFunction fn, HnswKernel* kernel, Metric* metric) {
  if (fn == hamming_distance)
    *kernel = BitHamming, *metric = Metric::kHamming;
  else if (fn == jaccard_distance)
    *kernel = BitJaccard, *metric = Metric::kJaccard;
}

void BitsAt(const char* value, Size* offset, Size* nbytes) {
  *offset = offsetof(VarBit, bit_dat);
  *nbytes = VARBITBYTES(B(value));
}

const HnswTypeInfo kBitInfo = {
    "bit",
    64000,
    "dimensions",
    true,
    BitDims,
    BitDims,
    "different bit lengths %u and %d",
    BitKernelFor,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    HnswElementKind::kBits,
    BitsAt,
    nullptr,
};

}  // namespace
}  // namespace hnsw
}  // namespace ragstore

using namespace ragstore::hnsw;

extern "C" {

PG_FUNCTION_INFO_V1(hnsw_vector_support);
// hnsw_vector_support(internal) -> internal: the vector type's HnswTypeInfo.
Datum hnsw_vector_support(PG_FUNCTION_ARGS) { PG_RETURN_POINTER(&kVectorInfo); }

PG_FUNCTION_INFO_V1(hnsw_halfvec_support);
// hnsw_halfvec_support(internal) -> internal: the halfvec type's HnswTypeInfo.
Datum hnsw_halfvec_support(PG_FUNCTION_ARGS) { PG_RETURN_POINTER(&kHalfvecInfo); }

PG_FUNCTION_INFO_V1(hnsw_sparsevec_support);
// hnsw_sparsevec_support(internal) -> internal: the sparsevec type's HnswTypeInfo.
Datum hnsw_sparsevec_support(PG_FUNCTION_ARGS) { PG_RETURN_POINTER(&kSparsevecInfo); }

PG_FUNCTION_INFO_V1(hnsw_bit_support);
// hnsw_bit_support(internal) -> internal: the bit type's HnswTypeInfo.
Datum hnsw_bit_support(PG_FUNCTION_ARGS) { PG_RETURN_POINTER(&kBitInfo); }

}  // extern "C"
