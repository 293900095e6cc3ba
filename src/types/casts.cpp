// ragstore: the casts between `vector`, `halfvec` and `sparsevec` (pgvector's cast table):
//   vector -> halfvec, vector -> sparsevec, halfvec -> sparsevec   implicit
//   halfvec -> vector, sparsevec -> vector, sparsevec -> halfvec   assignment
// Every cast function takes (value, typmod int4, explicit bool) and checks the target typmod
// ("expected %d dimensions, not %d", 22000). Dense conversions use core/half.h's bulk paths
// (F16C when the CPU has it).
#include <cmath>

#include "core/half.h"
#include "types/dense.h"
#include "types/halfvec.h"
#include "types/sparsevec.h"
#include "types/vector.h"

using namespace ragstore;
using VP = ragstore::VectorElement;
using HP = ragstore::HalfvecElement;

namespace {

template <class P>
dense::Dense<P>* DenseArg(FunctionCallInfo fcinfo) {
  return dense::GetArg<P>(fcinfo, 0);
}

SparseVector* SparseArg(FunctionCallInfo fcinfo) {
  return reinterpret_cast<SparseVector*>(PG_DETOAST_DATUM(PG_GETARG_DATUM(0)));
}

// Floats -> halves; a finite float beyond the half range is 22003 "\"%s\" is out of range for
// type halfvec".
void ToHalvesChecked(const float* in, Half* out, size_t n) {
  FloatsToHalves(in, out, n);
  for (size_t i = 0; i < n; i++)
    if (HalfIsInf(out[i]) && !std::isinf(in[i]))
      dense::OutOfRange<HP>(float_to_shortest_decimal(in[i]));
}

// A dense vector's non-zero elements as a sparsevec (dim <= 16000, so nnz <= 16000 too).
template <class P>
SparseVector* DenseToSparse(const dense::Dense<P>* v, int32 typmod) {
  CheckExpectedDims(typmod, v->dim);
  int nnz = 0;
  for (int i = 0; i < v->dim; i++) nnz += P::ToFloat(v->x[i]) != 0.0f;
  SparseVector* r = InitSparseVector(v->dim, nnz);
  float* rx = SparseValues(r);
  for (int i = 0, j = 0; i < v->dim; i++) {
    float f = P::ToFloat(v->x[i]);
    if (f == 0.0f) continue;
    r->indices[j] = i;
    rx[j++] = f;
  }
  return r;
}

// The dimensions a sparsevec must have to become a dense type (1..16000, then the typmod).
template <class P>
void CheckDenseTarget(const SparseVector* v, int32 typmod) {
  dense::CheckDimRange<P>(v->dim);
  CheckExpectedDims(typmod, v->dim);
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(vector_to_halfvec);
// vector_to_halfvec(vector, typmod int4, explicit bool) -> halfvec: each element rounded to the
// nearest half (ties to even); 22003 "\"%s\" is out of range for type halfvec" above 65504
// after rounding; tiny values become 0.
Datum vector_to_halfvec(PG_FUNCTION_ARGS) {
  Vector* v = DenseArg<VP>(fcinfo);
  CheckExpectedDims(PG_GETARG_INT32(1), v->dim);
  HalfVector* r = dense::Alloc<HP>(v->dim);
  ToHalvesChecked(v->x, r->x, v->dim);
  PG_RETURN_POINTER(r);
}

PG_FUNCTION_INFO_V1(halfvec_to_vector);
// halfvec_to_vector(halfvec, typmod int4, explicit bool) -> vector: exact widening.
Datum halfvec_to_vector(PG_FUNCTION_ARGS) {
  HalfVector* v = DenseArg<HP>(fcinfo);
  CheckExpectedDims(PG_GETARG_INT32(1), v->dim);
  Vector* r = dense::Alloc<VP>(v->dim);
  HalvesToFloats(v->x, r->x, v->dim);
  PG_RETURN_POINTER(r);
}

PG_FUNCTION_INFO_V1(vector_to_sparsevec);
// vector_to_sparsevec(vector, typmod int4, explicit bool) -> sparsevec: the non-zero elements.
Datum vector_to_sparsevec(PG_FUNCTION_ARGS) {
  PG_RETURN_POINTER(DenseToSparse<VP>(DenseArg<VP>(fcinfo), PG_GETARG_INT32(1)));
}

PG_FUNCTION_INFO_V1(halfvec_to_sparsevec);
// halfvec_to_sparsevec(halfvec, typmod int4, explicit bool) -> sparsevec: the non-zero
// elements, widened exactly to float4.
Datum halfvec_to_sparsevec(PG_FUNCTION_ARGS) {
  PG_RETURN_POINTER(DenseToSparse<HP>(DenseArg<HP>(fcinfo), PG_GETARG_INT32(1)));
}

PG_FUNCTION_INFO_V1(sparsevec_to_vector);
// sparsevec_to_vector(sparsevec, typmod int4, explicit bool) -> vector: zeros filled in.
// 54000 "vector cannot have more than 16000 dimensions" for larger sparse vectors.
Datum sparsevec_to_vector(PG_FUNCTION_ARGS) {
  SparseVector* v = SparseArg(fcinfo);
  CheckDenseTarget<VP>(v, PG_GETARG_INT32(1));
  Vector* r = dense::Alloc<VP>(v->dim);  // zeroed
  const float* values = SparseValues(v);
  for (int i = 0; i < v->nnz; i++) r->x[v->indices[i]] = values[i];
  PG_RETURN_POINTER(r);
}

PG_FUNCTION_INFO_V1(sparsevec_to_halfvec);
// sparsevec_to_halfvec(sparsevec, typmod int4, explicit bool) -> halfvec: zeros filled in,
// values rounded to half. 54000 beyond 16000 dimensions; 22003 "\"%s\" is out of range for
// type halfvec" above 65504 after rounding.
Datum sparsevec_to_halfvec(PG_FUNCTION_ARGS) {
  SparseVector* v = SparseArg(fcinfo);
  CheckDenseTarget<HP>(v, PG_GETARG_INT32(1));
  HalfVector* r = dense::Alloc<HP>(v->dim);  // zeroed: binary16 +0 is all zero bits
  const float* values = SparseValues(v);
  for (int i = 0; i < v->nnz; i++) {
    Half h = FloatToHalf(values[i]);
    if (HalfIsInf(h)) dense::OutOfRange<HP>(float_to_shortest_decimal(values[i]));
    r->x[v->indices[i]] = h;
  }
  PG_RETURN_POINTER(r);
}

}  // extern "C"
