// ragstore: the `halfvec` type's SQL-callable functions (pgvector-compatible SQL surface).
// I/O, arithmetic, comparison, aggregates and array casts are the dense templates (dense.h)
// instantiated for binary16; distances use the half kernels of core/half.h (F16C+AVX2 when the
// CPU has them), which accumulate in float32 like pgvector.
//
// Distances cannot overflow: |x| <= 65504, so even 16000 * (2 * 65504)^2 ~ 2.7e14 is far inside
// float32's range.
#include "types/halfvec.h"

#include <cmath>

#include "core/half.h"

using namespace ragstore;
using P = ragstore::HalfvecElement;

namespace {

HalfVector* Arg(FunctionCallInfo fcinfo, int n) { return dense::GetArg<P>(fcinfo, n); }

// The two arguments, with the same dimensions (22000 "different halfvec dimensions %d and %d").
void Args2(FunctionCallInfo fcinfo, HalfVector** a, HalfVector** b) {
  *a = Arg(fcinfo, 0);
  *b = Arg(fcinfo, 1);
  dense::CheckSameDims<P>((*a)->dim, (*b)->dim);
}

}  // namespace

extern "C" {

// ---- I/O and typmod

PG_FUNCTION_INFO_V1(halfvec_in);
// halfvec_in(cstring, oid, typmod int4) -> halfvec. Text form '[1,2,3]' as vector_in; each
// element read as float4 then rounded to the nearest half (ties to even). Errors: 22P02 bad
// syntax, 22003 "\"%s\" is out of range for type halfvec" (beyond float4, or above 65504 after
// rounding), 22000 NaN/Infinity/no dimension/typmod mismatch, 54000 more than 16000 dimensions.
Datum halfvec_in(PG_FUNCTION_ARGS) { return dense::InFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_out);
// halfvec_out(halfvec) -> cstring: '[x1,...,xn]', each half widened to float4 and printed as
// the shortest string that reads back to it ('[0.1]' prints 0.099975586).
Datum halfvec_out(PG_FUNCTION_ARGS) { return dense::OutFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_typmod_in);
// halfvec_typmod_in(cstring[]) -> int4: exactly one dimension count, 1..16000 (22023 otherwise).
Datum halfvec_typmod_in(PG_FUNCTION_ARGS) { return dense::TypmodInFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_recv);
// halfvec_recv(internal, oid, typmod) -> halfvec from the binary form: int16 dim, int16 unused
// (must be 0), dim binary16 values, network byte order. 22000 on NaN/Inf, bad dimensions.
Datum halfvec_recv(PG_FUNCTION_ARGS) { return dense::RecvFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_send);
// halfvec_send(halfvec) -> bytea: the binary form read by halfvec_recv.
Datum halfvec_send(PG_FUNCTION_ARGS) { return dense::SendFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec);
// halfvec(halfvec, typmod int4, explicit bool) -> halfvec: the typmod cast; 22000 "expected %d
// dimensions, not %d"; never truncates or pads.
Datum halfvec(PG_FUNCTION_ARGS) { return dense::TypmodCastFn<P>(fcinfo); }

// ---- distances (all float8; 22000 on different dimensions)

PG_FUNCTION_INFO_V1(halfvec_l2_distance);
// l2_distance(halfvec, halfvec) -> float8: Euclidean distance.
Datum halfvec_l2_distance(PG_FUNCTION_ARGS) {
  HalfVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(std::sqrt(static_cast<double>(HalfL2SquaredDistance(a->x, b->x, a->dim))));
}

PG_FUNCTION_INFO_V1(halfvec_l2_squared_distance);
// halfvec_l2_squared_distance(halfvec, halfvec) -> float8: squared Euclidean distance.
Datum halfvec_l2_squared_distance(PG_FUNCTION_ARGS) {
  HalfVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(static_cast<double>(HalfL2SquaredDistance(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(halfvec_inner_product);
// inner_product(halfvec, halfvec) -> float8: sum a_i b_i.
Datum halfvec_inner_product(PG_FUNCTION_ARGS) {
  HalfVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(static_cast<double>(HalfInnerProduct(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(halfvec_negative_inner_product);
// halfvec_negative_inner_product(halfvec, halfvec) -> float8: -(a.b), the <#> operator.
Datum halfvec_negative_inner_product(PG_FUNCTION_ARGS) {
  HalfVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(-static_cast<double>(HalfInnerProduct(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(halfvec_cosine_distance);
// cosine_distance(halfvec, halfvec) -> float8: 1 - a.b/(|a||b|) in [0, 2]; NaN if a norm is 0.
Datum halfvec_cosine_distance(PG_FUNCTION_ARGS) {
  HalfVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(HalfCosineDistance(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(halfvec_l1_distance);
// l1_distance(halfvec, halfvec) -> float8: sum |a_i - b_i|.
Datum halfvec_l1_distance(PG_FUNCTION_ARGS) {
  HalfVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(static_cast<double>(HalfL1Distance(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(halfvec_spherical_distance);
// halfvec_spherical_distance(halfvec, halfvec) -> float8: acos(a.b) / pi in [0, 1] (pgvector's
// definition, for unit vectors; the inner product is clamped to [-1, 1]).
Datum halfvec_spherical_distance(PG_FUNCTION_ARGS) {
  HalfVector *a, *b;
  Args2(fcinfo, &a, &b);
  double dp = HalfInnerProduct(a->x, b->x, a->dim);
  if (dp > 1) dp = 1;
  if (dp < -1) dp = -1;
  PG_RETURN_FLOAT8(std::acos(dp) / M_PI);
}

// ---- other functions

PG_FUNCTION_INFO_V1(halfvec_vector_dims);
// vector_dims(halfvec) -> int4.
Datum halfvec_vector_dims(PG_FUNCTION_ARGS) { return dense::DimsFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_l2_norm);
// l2_norm(halfvec) -> float8: Euclidean norm, accumulated in double.
Datum halfvec_l2_norm(PG_FUNCTION_ARGS) { return dense::NormFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_l2_normalize);
// l2_normalize(halfvec) -> halfvec: a / |a| rounded to half; a zero vector stays zero.
Datum halfvec_l2_normalize(PG_FUNCTION_ARGS) { return dense::L2NormalizeFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_binary_quantize);
// binary_quantize(halfvec) -> bit(dim): 1 where the element is > 0.
Datum halfvec_binary_quantize(PG_FUNCTION_ARGS) { return dense::BinaryQuantizeFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_subvector);
// subvector(halfvec, start int4, count int4) -> halfvec: 1-based, clipped like substring();
// 22000 "halfvec must have at least 1 dimension" when empty.
Datum halfvec_subvector(PG_FUNCTION_ARGS) { return dense::SubvectorFn<P>(fcinfo); }

// Element-wise arithmetic, computed in float32 and rounded to half: 22000 on different
// dimensions, 22003 "value out of range: overflow" beyond 65504 (and "underflow" when non-zero
// factors give 0). halfvec_add is also sum(halfvec)'s transition and combine function.
PG_FUNCTION_INFO_V1(halfvec_add);
Datum halfvec_add(PG_FUNCTION_ARGS) { return dense::AddFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_sub);
Datum halfvec_sub(PG_FUNCTION_ARGS) { return dense::SubFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_mul);
Datum halfvec_mul(PG_FUNCTION_ARGS) { return dense::MulFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_concat);
// halfvec_concat(halfvec, halfvec) -> halfvec: a || b; 54000 beyond 16000 dimensions.
Datum halfvec_concat(PG_FUNCTION_ARGS) { return dense::ConcatFn<P>(fcinfo); }

// ---- comparison (btree halfvec_ops): element by element, then by dimension, like real[].

PG_FUNCTION_INFO_V1(halfvec_cmp);
// halfvec_cmp(halfvec, halfvec) -> int4: -1, 0 or 1.
Datum halfvec_cmp(PG_FUNCTION_ARGS) { return dense::CmpFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_lt);
Datum halfvec_lt(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpLt>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_le);
Datum halfvec_le(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpLe>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_eq);
Datum halfvec_eq(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpEq>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_ne);
Datum halfvec_ne(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpNe>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_ge);
Datum halfvec_ge(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpGe>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_gt);
Datum halfvec_gt(PG_FUNCTION_ARGS) { return dense::CmpPredFn<P, dense::CmpGt>(fcinfo); }

// ---- aggregates avg(halfvec): state float8[] {n, sum_1..sum_dim}, initial '{0}'.

PG_FUNCTION_INFO_V1(halfvec_accum);
// halfvec_accum(float8[], halfvec) -> float8[]; 22000 "expected %d dimensions, not %d" when a
// row's dimensions differ from the first row's.
Datum halfvec_accum(PG_FUNCTION_ARGS) { return dense::AccumFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_combine);
// halfvec_combine(float8[], float8[]) -> float8[]: merges partial states (parallel aggregates).
Datum halfvec_combine(PG_FUNCTION_ARGS) { return dense::CombineFn<P>(fcinfo); }
PG_FUNCTION_INFO_V1(halfvec_avg);
// halfvec_avg(float8[]) -> halfvec: the mean rounded to half; NULL when no row was aggregated.
Datum halfvec_avg(PG_FUNCTION_ARGS) { return dense::AvgFn<P>(fcinfo); }

// ---- casts with arrays

PG_FUNCTION_INFO_V1(array_to_halfvec);
// array_to_halfvec(integer[] | real[] | double precision[] | numeric[], typmod int4, explicit
// bool) -> halfvec. 22000 "array must be 1-D", 22004 "array must not contain nulls", 22003
// "\"%s\" is out of range for type halfvec" (above 65504 after rounding), 22000 NaN / infinite
// values / dimensions.
Datum array_to_halfvec(PG_FUNCTION_ARGS) { return dense::FromArrayFn<P>(fcinfo); }

PG_FUNCTION_INFO_V1(halfvec_to_float4);
// halfvec_to_float4(halfvec, typmod int4, explicit bool) -> real[] (exact widening).
Datum halfvec_to_float4(PG_FUNCTION_ARGS) { return dense::ToFloat4ArrayFn<P>(fcinfo); }

}  // extern "C"
