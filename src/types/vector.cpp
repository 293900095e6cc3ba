// ragstore: the `vector` type: I/O, typmod, distances (pgvector-compatible SQL surface).
#include "types/vector.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/distance.h"

extern "C" {
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

namespace ragstore {

Vector* InitVector(int dim) {
  Size size = VectorSize(dim);
  Vector* v = static_cast<Vector*>(palloc0(size));
  SET_VARSIZE(v, size);
  v->dim = static_cast<int16>(dim);
  return v;
}

void CheckSameDims(int a_dim, int b_dim) {
  if (a_dim != b_dim)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("different vector dimensions %d and %d", a_dim, b_dim)));
}

void CheckExpectedDims(int32 typmod, int dim) {
  if (typmod != -1 && typmod != dim)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("expected %d dimensions, not %d", typmod, dim)));
}

namespace {

void CheckDimRange(int dim) {
  if (dim < 1)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("vector must have at least 1 dimension")));
  if (dim > kVectorMaxDim)
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("vector cannot have more than %d dimensions", kVectorMaxDim)));
}

void CheckElement(float value) {
  if (std::isnan(value))
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in vector")));
  if (std::isinf(value))
    ereport(ERROR,
            (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in vector")));
}

inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

[[noreturn]] void InvalidSyntax(const char* lit) {
  ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                  errmsg("invalid input syntax for type vector: \"%s\"", lit)));
  pg_unreachable();
}

}  // namespace

}  // namespace ragstore

using namespace ragstore;

extern "C" {

PG_FUNCTION_INFO_V1(vector_in);
// vector_in(cstring, oid, typmod int4) -> vector. Text form '[1,2,3]'; whitespace allowed
// around brackets, commas and numbers; each element as strtof. Errors: 22P02 bad syntax,
// 22003 out of float4 range, 22000 NaN/Infinity/no dimension/typmod mismatch, 54000 > 16000 dims.
Datum vector_in(PG_FUNCTION_ARGS) {
  char* lit = PG_GETARG_CSTRING(0);
  int32 typmod = PG_GETARG_INT32(2);
  float* values = static_cast<float*>(palloc(sizeof(float) * kVectorMaxDim));
  int dim = 0;
  char* p = lit;

  while (IsSpace(*p)) p++;
  if (*p != '[') InvalidSyntax(lit);
  p++;
  while (IsSpace(*p)) p++;
  if (*p == ']') {
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("vector must have at least 1 dimension")));
  }
  for (;;) {
    if (dim == kVectorMaxDim)
      ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                      errmsg("vector cannot have more than %d dimensions", kVectorMaxDim)));
    while (IsSpace(*p)) p++;
    if (*p == '\0' || *p == ',' || *p == ']') InvalidSyntax(lit);
    char* end;
    errno = 0;
    float value = strtof(p, &end);
    if (end == p) InvalidSyntax(lit);
    if (errno == ERANGE && std::isinf(value))
      ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                      errmsg("\"%s\" is out of range for type vector", pnstrdup(p, end - p))));
    CheckElement(value);
    values[dim++] = value;
    p = end;
    while (IsSpace(*p)) p++;
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p == ']') {
      p++;
      break;
    }
    InvalidSyntax(lit);
  }
  while (IsSpace(*p)) p++;
  if (*p != '\0')
    ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                    errmsg("invalid input syntax for type vector: \"%s\"", lit),
                    errdetail("Junk after closing right brace.")));
  CheckExpectedDims(typmod, dim);
  Vector* v = InitVector(dim);
  memcpy(v->x, values, sizeof(float) * dim);
  pfree(values);
  PG_RETURN_VECTOR_P(v);
}

PG_FUNCTION_INFO_V1(vector_out);
// vector_out(vector) -> cstring: '[x1,...,xn]' with each element the shortest decimal string
// that reads back to the same float4 (PostgreSQL's float4out with extra_float_digits >= 1).
// The result is valid JSON.
Datum vector_out(PG_FUNCTION_ARGS) {
  Vector* v = PG_GETARG_VECTOR_P(0);
  char* buf = static_cast<char*>(palloc(v->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 2));
  char* p = buf;
  *p++ = '[';
  for (int i = 0; i < v->dim; i++) {
    if (i > 0) *p++ = ',';
    p += float_to_shortest_decimal_bufn(v->x[i], p);
  }
  *p++ = ']';
  *p = '\0';
  PG_FREE_IF_COPY(v, 0);
  PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(vector_typmod_in);
// vector_typmod_in(cstring[]) -> int4: exactly one dimension count, 1..16000 (22023 otherwise).
Datum vector_typmod_in(PG_FUNCTION_ARGS) {
  ArrayType* ta = PG_GETARG_ARRAYTYPE_P(0);
  int n;
  int32* tl = ArrayGetIntegerTypmods(ta, &n);
  if (n != 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid type modifier")));
  if (tl[0] < 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("dimensions for type vector must be at least 1")));
  if (tl[0] > kVectorMaxDim)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("dimensions for type vector cannot exceed %d", kVectorMaxDim)));
  PG_RETURN_INT32(tl[0]);
}

PG_FUNCTION_INFO_V1(vector_recv);
// vector_recv(internal, oid, typmod) -> vector from the binary form: int16 dim, int16 unused
// (must be 0), dim float4, network byte order. Validates like vector_in.
Datum vector_recv(PG_FUNCTION_ARGS) {
  StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
  int32 typmod = PG_GETARG_INT32(2);
  int16 dim = pq_getmsgint(buf, sizeof(int16));
  int16 unused = pq_getmsgint(buf, sizeof(int16));
  CheckDimRange(dim);
  CheckExpectedDims(typmod, dim);
  if (unused != 0)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("expected unused to be 0, not %d", unused)));
  Vector* v = InitVector(dim);
  for (int i = 0; i < dim; i++) {
    v->x[i] = pq_getmsgfloat4(buf);
    CheckElement(v->x[i]);
  }
  PG_RETURN_VECTOR_P(v);
}

PG_FUNCTION_INFO_V1(vector_send);
// vector_send(vector) -> bytea in the binary form read by vector_recv.
Datum vector_send(PG_FUNCTION_ARGS) {
  Vector* v = PG_GETARG_VECTOR_P(0);
  StringInfoData buf;
  pq_begintypsend(&buf);
  pq_sendint(&buf, v->dim, sizeof(int16));
  pq_sendint(&buf, v->unused, sizeof(int16));
  for (int i = 0; i < v->dim; i++) pq_sendfloat4(&buf, v->x[i]);
  PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(vector);
// vector(vector, typmod int4, explicit bool) -> vector: the typmod cast; checks dimensions
// ("expected %d dimensions, not %d", 22000), never truncates or pads.
Datum vector(PG_FUNCTION_ARGS) {
  Vector* v = PG_GETARG_VECTOR_P(0);
  CheckExpectedDims(PG_GETARG_INT32(1), v->dim);
  PG_RETURN_VECTOR_P(v);
}

PG_FUNCTION_INFO_V1(l2_distance);
// l2_distance(vector, vector) -> float8: Euclidean distance. 22000 on different dimensions.
Datum l2_distance(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(std::sqrt(static_cast<double>(L2SquaredDistance(a->x, b->x, a->dim))));
}

PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
// vector_l2_squared_distance(vector, vector) -> float8: squared Euclidean distance (index support).
Datum vector_l2_squared_distance(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(static_cast<double>(L2SquaredDistance(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(inner_product);
// inner_product(vector, vector) -> float8: sum a_i b_i. 22000 on different dimensions.
Datum inner_product(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(static_cast<double>(InnerProduct(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(vector_negative_inner_product);
// vector_negative_inner_product(vector, vector) -> float8: -(a.b), the `<#>` operator.
Datum vector_negative_inner_product(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(-static_cast<double>(InnerProduct(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(cosine_distance);
// cosine_distance(vector, vector) -> float8: 1 - a.b/(|a||b|) in [0, 2]; NaN if a norm is 0.
Datum cosine_distance(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(CosineDistance(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(l1_distance);
// l1_distance(vector, vector) -> float8: sum |a_i - b_i|.
Datum l1_distance(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  Vector* b = PG_GETARG_VECTOR_P(1);
  CheckSameDims(a->dim, b->dim);
  PG_RETURN_FLOAT8(static_cast<double>(L1Distance(a->x, b->x, a->dim)));
}

PG_FUNCTION_INFO_V1(vector_dims);
// vector_dims(vector) -> int4: the number of dimensions.
Datum vector_dims(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  PG_RETURN_INT32(a->dim);
}

PG_FUNCTION_INFO_V1(vector_norm);
// vector_norm(vector) -> float8: Euclidean norm, accumulated in double.
Datum vector_norm(PG_FUNCTION_ARGS) {
  Vector* a = PG_GETARG_VECTOR_P(0);
  double sum = 0.0;
  for (int i = 0; i < a->dim; i++) sum += static_cast<double>(a->x[i]) * a->x[i];
  PG_RETURN_FLOAT8(std::sqrt(sum));
}

}  // extern "C"
