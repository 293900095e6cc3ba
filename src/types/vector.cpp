// ragstore: the `vector` type's SQL-callable functions (pgvector-compatible SQL surface).
// I/O, arithmetic, comparison, aggregates and arrays are the dense templates (dense.h)
// instantiated for float32; distances use the kernels of core/distance.h.
#include "types/vector.h"

#include <cmath>

#include "core/distance.h"

using namespace ragstore;
using P = ragstore::VectorElement;

extern "C" {

// ---- I/O and typmod

PG_FUNCTION_INFO_V1(vector_in);
// vector_in(cstring, oid, typmod int4) -> vector. Text form '[1,2,3]'; whitespace allowed
// around brackets, commas and numbers; each element as strtof. Errors: 22P02 bad syntax,
// 22003 out of float4 range, 22000 NaN/Infinity/no dimension/typmod mismatch, 54000 > 16000 dims.
Datum vector_in(PG_FUNCTION_ARGS) { return dense::InFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(vector_out);
// vector_out(vector) -> cstring: '[x1,...,xn]' with each element the shortest decimal string
// that reads back to the same float4 (PostgreSQL's float4out with extra_float_digits >= 1).
// The result is valid JSON.
Datum vector_out(PG_FUNCTION_ARGS) { return dense::OutFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(vector_typmod_in);
// vector_typmod_in(cstring[]) -> int4: exactly one dimension count, 1..16000 (22023 otherwise).
Datum vector_typmod_in(PG_FUNCTION_ARGS) { return dense::TypmodInFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(vector_recv);
// vector_recv(internal, oid, typmod) -> vector from the binary form: int16 dim, int16 unused
// (must be 0, else 22000), dim float4, network byte order. Validates like vector_in.
Datum vector_recv(PG_FUNCTION_ARGS) { return dense::RecvFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(vector_send);
// vector_send(vector) -> bytea in the binary form read by vector_recv.
Datum vector_send(PG_FUNCTION_ARGS) { return dense::SendFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(vector);
// vector(vector, typmod int4, explicit bool) -> vector: the typmod cast; checks dimensions
// ("expected %d dimensions, not %d", 22000), never truncates or pads.
Datum vector(PG_FUNCTION_ARGS) { return dense::TypmodCastFn<P>(fcinfo); }

// ---- distances (22000 "different vector dimensions %d and %d" on mismatched dimensions)
//
// The float32 kernels of core/distance.h, as pgvector computes them: each sum accumulates in
// float32 and is widened to double only at the end, so elements near the float limit give what
// pgvector gives (l2_distance('[3e38]', '[-3e38]') is Infinity, cosine_distance('[3e38]',
// '[3e38]') is NaN). Never an error.

namespace {

double L2Squared(const Vector* a, const Vector* b) { return L2SquaredDistance(a->x, b->x, a->dim); }

double Dot(const Vector* a, const Vector* b) { return InnerProduct(a->x, b->x, a->dim); }

double L1(const Vector* a, const Vector* b) { return L1Distance(a->x, b->x, a->dim); }

double Cosine(const Vector* a, const Vector* b) { return CosineDistance(a->x, b->x, a->dim); }

}  // namespace

PG_FUNCTION_INFO_V1(l2_distance);
// l2_distance(vector, vector) -> float8: Euclidean distance.
Datum l2_distance(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(std::sqrt(L2Squared(a, b)));
}

PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
// vector_l2_squared_distance(vector, vector) -> float8: squared Euclidean distance (index support).
Datum vector_l2_squared_distance(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(L2Squared(a, b));
}

PG_FUNCTION_INFO_V1(inner_product);
// inner_product(vector, vector) -> float8: sum a_i b_i.
Datum inner_product(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(Dot(a, b));
}

PG_FUNCTION_INFO_V1(vector_negative_inner_product);
// vector_negative_inner_product(vector, vector) -> float8: -(a.b), the `<#>` operator.
Datum vector_negative_inner_product(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(-Dot(a, b));
}

PG_FUNCTION_INFO_V1(cosine_distance);
// cosine_distance(vector, vector) -> float8: 1 - a.b/(|a||b|) in [0, 2]; NaN if a norm is 0
// or float32 overflows in the product and a norm (as pgvector).
Datum cosine_distance(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(Cosine(a, b));
}

PG_FUNCTION_INFO_V1(l1_distance);
// l1_distance(vector, vector) -> float8: sum |a_i - b_i|.
Datum l1_distance(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(L1(a, b));
}

PG_FUNCTION_INFO_V1(vector_spherical_distance);
// vector_spherical_distance(vector, vector) -> float8: acos(a.b) / pi in [0, 1], the angle
// between two unit vectors as a fraction of pi (pgvector's definition; the inner product is
// clamped to [-1, 1] so rounding never gives NaN). Meaningful for normalized inputs only.
Datum vector_spherical_distance(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  double dp = Dot(a, b);
  if (dp > 1) dp = 1;
  if (dp < -1) dp = -1;
  PG_RETURN_FLOAT8(std::acos(dp) / M_PI);
}

// ---- other functions

PG_FUNCTION_INFO_V1(vector_dims);
// vector_dims(vector) -> int4: the number of dimensions.
Datum vector_dims(PG_FUNCTION_ARGS) { return dense::DimsFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(vector_norm);
// vector_norm(vector) -> float8: Euclidean norm, accumulated in double.
Datum vector_norm(PG_FUNCTION_ARGS) { return dense::NormFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(l2_normalize);
// l2_normalize(vector) -> vector: a / |a| (norm in double); a zero vector stays zero.
// 22003 on overflow.
Datum l2_normalize(PG_FUNCTION_ARGS) { return dense::L2NormalizeFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(binary_quantize);
// binary_quantize(vector) -> bit(dim): 1 where the element is > 0. '[1,0,-1]' gives B'100'.
Datum binary_quantize(PG_FUNCTION_ARGS) { return dense::BinaryQuantizeFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(subvector);
// subvector(vector, start int4, count int4) -> vector: elements start..start+count-1, 1-based
// and clipped like substring(); 22000 "vector must have at least 1 dimension" when empty.
Datum subvector(PG_FUNCTION_ARGS) { return dense::SubvectorFn<P>(fcinfo); }

// Element-wise arithmetic: 22000 on different dimensions, 22003 "value out of range:
// overflow" (and for *, "underflow" when non-zero factors give 0). vector_add is also sum()'s
// transition and combine function.
PG_FUNCTION_INFO_V1(vector_add);
Datum vector_add(PG_FUNCTION_ARGS) { return dense::AddFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_sub);
Datum vector_sub(PG_FUNCTION_ARGS) { return dense::SubFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_mul);
Datum vector_mul(PG_FUNCTION_ARGS) { return dense::MulFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(vector_concat);
// vector_concat(vector, vector) -> vector: a || b; 54000 beyond 16000 dimensions.
Datum vector_concat(PG_FUNCTION_ARGS) { return dense::ConcatFn<P>(fcinfo); }

// ---- comparison (btree vector_ops): element by element, then by dimension, like real[].

PG_FUNCTION_INFO_V1(vector_cmp);
// vector_cmp(vector, vector) -> int4: -1, 0 or 1.
Datum vector_cmp(PG_FUNCTION_ARGS) { return dense::CmpFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_lt);
Datum vector_lt(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpLt>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_le);
Datum vector_le(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpLe>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_eq);
Datum vector_eq(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpEq>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_ne);
Datum vector_ne(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpNe>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_ge);
Datum vector_ge(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpGe>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_gt);
Datum vector_gt(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpGt>(fcinfo); }

// ---- aggregates avg(vector): state float8[] {n, sum_1..sum_dim}, initial '{0}'.

PG_FUNCTION_INFO_V1(vector_accum);
// vector_accum(float8[], vector) -> float8[]; 22000 "expected %d dimensions, not %d" when a
// row's dimensions differ from the first row's; 22003 on overflow.
Datum vector_accum(PG_FUNCTION_ARGS) { return dense::AccumFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_combine);
// vector_combine(float8[], float8[]) -> float8[]: merges partial states (parallel aggregates).
Datum vector_combine(PG_FUNCTION_ARGS) { return dense::CombineFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(vector_avg);
// vector_avg(float8[]) -> vector: the mean; NULL when no row was aggregated.
Datum vector_avg(PG_FUNCTION_ARGS) { return dense::AvgFn<P>(fcinfo); }

// ---- casts with arrays

PG_FUNCTION_INFO_V1(array_to_vector);
// array_to_vector(integer[] | real[] | double precision[] | numeric[], typmod int4, explicit
// bool) -> vector. 22000 "array must be 1-D", 22004 "array must not contain nulls", 22003
// "\"%s\" is out of range for type vector", 22000 NaN / infinite / dimensions.
Datum array_to_vector(PG_FUNCTION_ARGS) { return dense::FromArrayFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(vector_to_float4);
// vector_to_float4(vector, typmod int4, explicit bool) -> real[] (one-dimensional).
Datum vector_to_float4(PG_FUNCTION_ARGS) { return dense::ToFloat4ArrayFn<P>(fcinfo); }

}  // extern "C"
