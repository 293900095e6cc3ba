// ragstore: the `sparsevec` type's SQL-callable functions (pgvector-compatible SQL surface):
// text and binary I/O, typmod, distances, norms, comparison, array casts.
//
// Only PostgreSQL errors (ereport) are raised here and no C++ object with a destructor is alive
// across them; the core kernels neither throw nor allocate, so no guard is needed.
#include "types/sparsevec.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

#include "core/sparse.h"
#include "types/dense.h"

extern "C" {
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
}

namespace ragstore {

SparseVector* InitSparseVector(int32 dim, int32 nnz) {
  Size size = SparseVectorSize(nnz);
  auto* v = static_cast<SparseVector*>(palloc0(size));
  SET_VARSIZE(v, size);
  v->dim = dim;
  v->nnz = nnz;
  return v;
}

void CheckSparseNnz(int64 nnz, int32 dim) {
  if (nnz < 0)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("sparsevec cannot have negative number of elements")));
  if (nnz > kSparsevecMaxNnz)
    ereport(ERROR,
            (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
             errmsg("sparsevec cannot have more than %d non-zero elements", kSparsevecMaxNnz)));
  if (nnz > dim)
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("sparsevec cannot have more elements than dimensions")));
}

namespace {

SparseVector* Arg(FunctionCallInfo fcinfo, int n) {
  return reinterpret_cast<SparseVector*>(PG_DETOAST_DATUM(PG_GETARG_DATUM(n)));
}

// Both arguments, with the same dimensions: "different sparsevec dimensions %d and %d" (22000).
void Args2(FunctionCallInfo fcinfo, SparseVector** a, SparseVector** b) {
  *a = Arg(fcinfo, 0);
  *b = Arg(fcinfo, 1);
  if ((*a)->dim != (*b)->dim)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("different sparsevec dimensions %d and %d", (*a)->dim, (*b)->dim)));
}

}  // namespace
}  // namespace ragstore

using namespace ragstore;

extern "C" {

// ---- I/O and typmod

PG_FUNCTION_INFO_V1(sparsevec_in);
// sparsevec_in(cstring, oid, typmod int4) -> sparsevec. Text form '{i:v,...}/dim' with 1-based
// indices in any order (printed sorted), whitespace allowed around every token, values as
// strtof, zero values dropped; '{}/5' is valid. Errors: 22P02 bad syntax, 22003 value beyond
// float4 or a non-zero that underflows to 0 ("\"1e-46\" is out of range for type sparsevec"),
// 22000 NaN / infinity / index out of bounds / duplicate index / typmod mismatch / no
// dimension, 54000 more than 1e9 dimensions or 16000 elements written (core/type_input.h's
// parser, pgvector's rules in pgvector's order).
Datum sparsevec_in(PG_FUNCTION_ARGS) {
  const char* lit = PG_GETARG_CSTRING(0);
  int32 typmod = PG_GETARG_INT32(2);
  int64 capacity = Min(SparsevecTextCapacity(lit), static_cast<int64>(kSparsevecMaxNnz));
  auto* elements = static_cast<SparseElement*>(palloc(sizeof(SparseElement) * capacity));
  int32 nnz = 0, dim = 0;
  InputStatus st = ParseSparsevecText(lit, typmod, elements, &nnz, &dim);
  if (!st.ok()) ReportInputError(st, "sparsevec", lit);
  SparseVector* v = InitSparseVector(dim, nnz);
  float* values = SparseValues(v);
  for (int i = 0; i < nnz; i++) {
    v->indices[i] = elements[i].index;
    values[i] = elements[i].value;
  }
  pfree(elements);
  PG_RETURN_POINTER(v);
}

PG_FUNCTION_INFO_V1(sparsevec_out);
// sparsevec_out(sparsevec) -> cstring: '{i:v,...}/dim', 1-based indices in increasing order,
// values as the shortest decimal strings that read back to the same float4.
Datum sparsevec_out(PG_FUNCTION_ARGS) {
  SparseVector* v = Arg(fcinfo, 0);
  const float* values = SparseValues(v);
  // per element: up to 10 digits of index, ':', a float, ','; then '{', '}', '/', 10 digits
  char* buf = static_cast<char*>(palloc(v->nnz * (10 + 1 + FLOAT_SHORTEST_DECIMAL_LEN + 1) + 16));
  char* p = buf;
  *p++ = '{';
  for (int i = 0; i < v->nnz; i++) {
    if (i > 0) *p++ = ',';
    p += pg_ltoa(v->indices[i] + 1, p);
    *p++ = ':';
    p += float_to_shortest_decimal_bufn(values[i], p);
  }
  *p++ = '}';
  *p++ = '/';
  p += pg_ltoa(v->dim, p);
  *p = '\0';
  PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(sparsevec_typmod_in);
// sparsevec_typmod_in(cstring[]) -> int4: exactly one dimension count, 1..1e9 (22023 otherwise).
Datum sparsevec_typmod_in(PG_FUNCTION_ARGS) {
  ArrayType* ta = PG_GETARG_ARRAYTYPE_P(0);
  int n;
  int32* tl = ArrayGetIntegerTypmods(ta, &n);
  if (n != 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid type modifier")));
  if (tl[0] < 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("dimensions for type sparsevec must be at least 1")));
  if (tl[0] > kSparsevecMaxDim)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("dimensions for type sparsevec cannot exceed %d", kSparsevecMaxDim)));
  PG_RETURN_INT32(tl[0]);
}

PG_FUNCTION_INFO_V1(sparsevec_recv);
// sparsevec_recv(internal, oid, typmod) -> sparsevec from the binary form, network byte order:
// int32 dim, int32 nnz, int32 unused (must be 0), nnz int32 0-based indices, nnz float4.
// core/type_input.h's decoder: validates like sparsevec_in, and indices must already be
// strictly increasing ("sparsevec indices must be in ascending order", 22000); zero values are
// rejected ("binary representation of sparsevec cannot contain zero values", 22000); a short
// message is 08P01 "insufficient data left in message".
Datum sparsevec_recv(PG_FUNCTION_ARGS) {
  StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
  int32 typmod = PG_GETARG_INT32(2);
  const uint8_t* data = reinterpret_cast<const uint8_t*>(buf->data + buf->cursor);
  size_t len = static_cast<size_t>(buf->len - buf->cursor);
  int32 dim = 0, nnz = 0;
  InputStatus st = DecodeSparseHeader(data, len, typmod, &dim, &nnz);
  if (!st.ok()) ReportInputError(st, "sparsevec", "");
  SparseVector* v = InitSparseVector(dim, nnz);
  size_t consumed = 0;
  st = DecodeSparseBody(data + 12, len - 12, dim, nnz, v->indices, SparseValues(v), &consumed);
  if (!st.ok()) ReportInputError(st, "sparsevec", "");
  buf->cursor += static_cast<int>(12 + consumed);
  PG_RETURN_POINTER(v);
}

PG_FUNCTION_INFO_V1(sparsevec_send);
// sparsevec_send(sparsevec) -> bytea: the binary form read by sparsevec_recv.
Datum sparsevec_send(PG_FUNCTION_ARGS) {
  SparseVector* v = Arg(fcinfo, 0);
  const float* values = SparseValues(v);
  StringInfoData buf;
  pq_begintypsend(&buf);
  pq_sendint32(&buf, v->dim);
  pq_sendint32(&buf, v->nnz);
  pq_sendint32(&buf, v->unused);
  for (int i = 0; i < v->nnz; i++) pq_sendint32(&buf, v->indices[i]);
  for (int i = 0; i < v->nnz; i++) pq_sendfloat4(&buf, values[i]);
  PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(sparsevec);
// sparsevec(sparsevec, typmod int4, explicit bool) -> sparsevec: the typmod cast; 22000
// "expected %d dimensions, not %d"; never truncates or pads.
Datum sparsevec(PG_FUNCTION_ARGS) {
  SparseVector* v = Arg(fcinfo, 0);
  CheckExpectedDims(PG_GETARG_INT32(1), v->dim);
  PG_RETURN_POINTER(v);
}

// ---- distances (float8; 22000 "different sparsevec dimensions %d and %d"; merge joins over
// the sorted indices in increasing index order, float32 accumulation widened to double at the
// end, as pgvector: values near the float limit give Infinity (or NaN for cosine), never an error)

PG_FUNCTION_INFO_V1(sparsevec_l2_distance);
// l2_distance(sparsevec, sparsevec) -> float8: Euclidean distance.
Datum sparsevec_l2_distance(PG_FUNCTION_ARGS) {
  SparseVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(std::sqrt(static_cast<double>(SparseL2SquaredDistance(View(a), View(b)))));
}

PG_FUNCTION_INFO_V1(sparsevec_l2_squared_distance);
// sparsevec_l2_squared_distance(sparsevec, sparsevec) -> float8.
Datum sparsevec_l2_squared_distance(PG_FUNCTION_ARGS) {
  SparseVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(static_cast<double>(SparseL2SquaredDistance(View(a), View(b))));
}

PG_FUNCTION_INFO_V1(sparsevec_inner_product);
// inner_product(sparsevec, sparsevec) -> float8: sum a_i b_i over the common indices.
Datum sparsevec_inner_product(PG_FUNCTION_ARGS) {
  SparseVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(static_cast<double>(SparseInnerProduct(View(a), View(b))));
}

PG_FUNCTION_INFO_V1(sparsevec_negative_inner_product);
// sparsevec_negative_inner_product(sparsevec, sparsevec) -> float8: -(a.b), the <#> operator.
Datum sparsevec_negative_inner_product(PG_FUNCTION_ARGS) {
  SparseVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(-static_cast<double>(SparseInnerProduct(View(a), View(b))));
}

PG_FUNCTION_INFO_V1(sparsevec_cosine_distance);
// cosine_distance(sparsevec, sparsevec) -> float8: 1 - a.b/(|a||b|) in [0, 2]; NaN when a
// vector has no non-zero element or float32 overflows in the product and a norm.
Datum sparsevec_cosine_distance(PG_FUNCTION_ARGS) {
  SparseVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(SparseCosineDistance(View(a), View(b)));
}

PG_FUNCTION_INFO_V1(sparsevec_l1_distance);
// l1_distance(sparsevec, sparsevec) -> float8: sum |a_i - b_i|.
Datum sparsevec_l1_distance(PG_FUNCTION_ARGS) {
  SparseVector *a, *b;
  Args2(fcinfo, &a, &b);
  PG_RETURN_FLOAT8(static_cast<double>(SparseL1Distance(View(a), View(b))));
}

// ---- norms

PG_FUNCTION_INFO_V1(sparsevec_l2_norm);
// l2_norm(sparsevec) -> float8: Euclidean norm, accumulated in double.
Datum sparsevec_l2_norm(PG_FUNCTION_ARGS) { PG_RETURN_FLOAT8(SparseNorm(View(Arg(fcinfo, 0)))); }

PG_FUNCTION_INFO_V1(sparsevec_l2_normalize);
// l2_normalize(sparsevec) -> sparsevec: a / |a| (norm in double); a vector without non-zeros
// stays as it is; values that underflow to zero are dropped.
Datum sparsevec_l2_normalize(PG_FUNCTION_ARGS) {
  SparseVector* a = Arg(fcinfo, 0);
  double norm = SparseNorm(View(a));
  const float* ax = SparseValues(a);
  float* scaled = static_cast<float*>(palloc(sizeof(float) * (a->nnz + 1)));
  int nnz = 0;
  for (int i = 0; i < a->nnz; i++) {
    scaled[i] = norm > 0 ? static_cast<float>(ax[i] / norm) : ax[i];
    nnz += scaled[i] != 0.0f;
  }
  SparseVector* r = InitSparseVector(a->dim, nnz);
  float* rx = SparseValues(r);
  for (int i = 0, j = 0; i < a->nnz; i++) {
    if (scaled[i] == 0.0f) continue;
    r->indices[j] = a->indices[i];
    rx[j++] = scaled[i];
  }
  pfree(scaled);
  PG_RETURN_POINTER(r);
}

// ---- comparison (btree sparsevec_ops): the order of the equivalent dense arrays, as real[]

PG_FUNCTION_INFO_V1(sparsevec_cmp);
// sparsevec_cmp(sparsevec, sparsevec) -> int4: -1, 0 or 1.
Datum sparsevec_cmp(PG_FUNCTION_ARGS) {
  PG_RETURN_INT32(SparseCompare(View(Arg(fcinfo, 0)), View(Arg(fcinfo, 1))));
}
#define RS_SPARSE_CMP(name, op)                                                     \
  PG_FUNCTION_INFO_V1(name);                                                        \
  Datum name(PG_FUNCTION_ARGS) {                                                    \
    PG_RETURN_BOOL(SparseCompare(View(Arg(fcinfo, 0)), View(Arg(fcinfo, 1))) op 0); \
  }
RS_SPARSE_CMP(sparsevec_lt, <)
RS_SPARSE_CMP(sparsevec_le, <=)
RS_SPARSE_CMP(sparsevec_eq, ==)
RS_SPARSE_CMP(sparsevec_ne, !=)
RS_SPARSE_CMP(sparsevec_ge, >=)
RS_SPARSE_CMP(sparsevec_gt, >)
#undef RS_SPARSE_CMP

// ---- casts with arrays

PG_FUNCTION_INFO_V1(array_to_sparsevec);
// array_to_sparsevec(integer[] | real[] | double precision[] | numeric[], typmod int4,
// explicit bool) -> sparsevec: the dense array, zeros dropped. 22000 "array must be 1-D",
// 22004 "array must not contain nulls", numeric_float4's 22003 for numerics beyond float4,
// 22000 NaN / infinite (a double beyond float4 is infinite, as in pgvector) / typmod,
// dimensions 1..1e9, 54000 more than 16000 non-zero elements.
Datum array_to_sparsevec(PG_FUNCTION_ARGS) {
  ArrayType* array = PG_GETARG_ARRAYTYPE_P(0);
  int32 typmod = PG_GETARG_INT32(1);
  Oid elemtype;
  int n;
  Datum* elems = dense::ArrayDatums(array, &elemtype, &n);
  InputStatus st = CheckArrayDims(n, kSparsevecMaxDim, typmod);
  if (!st.ok()) ReportInputError(st, "sparsevec", "");
  // Convert every element, then check every element (pgvector's order of errors).
  float* values = static_cast<float*>(palloc(sizeof(float) * n));
  for (int i = 0; i < n; i++) values[i] = dense::ArrayElementToFloat(elems[i], elemtype);
  st = CheckFiniteFloats(values, n);
  if (!st.ok()) ReportInputError(st, "sparsevec", "");
  int nnz = 0;
  for (int i = 0; i < n; i++) nnz += values[i] != 0.0f;
  CheckSparseNnz(nnz, n);
  SparseVector* r = InitSparseVector(n, nnz);
  float* rx = SparseValues(r);
  for (int i = 0, j = 0; i < n; i++) {
    if (values[i] == 0.0f) continue;
    r->indices[j] = i;
    rx[j++] = values[i];
  }
  pfree(values);
  pfree(elems);
  PG_RETURN_POINTER(r);
}

}  // extern "C"
