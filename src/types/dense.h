// ragstore: the machinery shared by the dense vector types (`vector`, `halfvec`), as templates
// over an element policy, so that a dense type is an instantiation plus a thin SQL layer.
//
// Layout (pgvector-compatible, byte for byte): a varlena with int32 header, int16 dim
// (1..P::kMaxDim), int16 unused (always 0), then dim elements of P::Elem. No element is NaN or
// infinite.
//
// An element policy P is a struct with:
//   using Elem = ...;                          // the stored element (float, a binary16 wrapper)
//   static constexpr const char* kTypeName;   // SQL type name, used in error messages
//   static constexpr int kMaxDim;             // maximum dimensions (16000 for both types)
//   static float ToFloat(Elem);               // exact widening
//   static Elem FromFloatUnchecked(float);    // round to nearest; overflow gives an infinity
//   static bool IsNan(Elem); static bool IsInf(Elem);
//   static void Send(StringInfo, Elem);       // binary form, network byte order
//   static constexpr DenseKind kKind;         // the binary decoder's element kind (core)
//   static InputStatus ParseText(const char*, int32 typmod, Elem*, int* dim);  // core parser
//   static InputStatus FromFloats(const float*, Elem*, int n);  // the array casts' checks
//
// Every input path (text, binary, arrays) is core/type_input.h's pure code; the templates here
// only allocate, call it and report its errors (ReportInputError).
//
// Arithmetic follows pgvector: each element is computed in float (the widened elements), then
// rounded to Elem; an infinite result is "value out of range: overflow" (22003), a product that
// rounds to zero from non-zero factors is "value out of range: underflow" (22003).
//
// The functions below raise PostgreSQL errors (ereport) directly; they hold no C++ object with
// a destructor and call no throwing code, so they need no guard (CONTRIBUTING.md).
//
// Each `...Fn` template is a complete fmgr body; a type's SQL entry points are one-liners:
//   PG_FUNCTION_INFO_V1(halfvec_add);
//   Datum halfvec_add(PG_FUNCTION_ARGS) { return dense::AddFn<HalfvecElement>(fcinfo); }
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/varbit.h"
}

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/type_input.h"

namespace ragstore {

// Raises the PostgreSQL error of a failed input status (core/type_input.h lists each kind's
// SQLSTATE and message) for type_name; lit is the text input (syntax errors quote it, text
// out-of-range errors quote the token in it), token overrides the quoted number.
[[noreturn]] void ReportInputError(const InputStatus& st, const char* type_name, const char* lit,
                                   const char* token = nullptr);

template <typename Elem>
struct DenseVector {
  int32 vl_len_;  // varlena header (do not touch directly)
  int16 dim;      // number of dimensions
  int16 unused;   // reserved, always 0
  Elem x[FLEXIBLE_ARRAY_MEMBER];
};

// Errors unless dim matches typmod (-1 means unconstrained): "expected %d dimensions, not %d"
// (22000). Never truncates or pads.
void CheckExpectedDims(int32 typmod, int dim);

namespace dense {

template <class P>
using Dense = DenseVector<typename P::Elem>;

template <class P>
inline Size DenseSize(int dim) {
  return offsetof(Dense<P>, x) + sizeof(typename P::Elem) * dim;
}

// palloc's a zeroed value of dim dimensions in CurrentMemoryContext.
template <class P>
Dense<P>* Alloc(int dim) {
  Size size = DenseSize<P>(dim);
  auto* v = static_cast<Dense<P>*>(palloc0(size));
  SET_VARSIZE(v, size);
  v->dim = static_cast<int16>(dim);
  return v;
}

// Detoasts argument n of the current call (a copy only when it was toasted or short-headed).
template <class P>
inline Dense<P>* GetArg(FunctionCallInfo fcinfo, int n) {
  return reinterpret_cast<Dense<P>*>(PG_DETOAST_DATUM(PG_GETARG_DATUM(n)));
}

// 1 <= dim <= kMaxDim: "%s must have at least 1 dimension" (22000),
// "%s cannot have more than %d dimensions" (54000).
template <class P>
void CheckDimRange(int dim) {
  if (dim < 1)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("%s must have at least 1 dimension", P::kTypeName)));
  if (dim > P::kMaxDim)
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("%s cannot have more than %d dimensions", P::kTypeName, P::kMaxDim)));
}

// "different %s dimensions %d and %d" (22000).
template <class P>
void CheckSameDims(int a_dim, int b_dim) {
  if (a_dim != b_dim)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("different %s dimensions %d and %d", P::kTypeName, a_dim, b_dim)));
}

// "NaN not allowed in %s", "infinite value not allowed in %s" (22000).
template <class P>
void CheckElement(typename P::Elem value) {
  if (P::IsNan(value))
    ereport(ERROR,
            (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in %s", P::kTypeName)));
  if (P::IsInf(value))
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("infinite value not allowed in %s", P::kTypeName)));
}

// "\"%s\" is out of range for type %s" (22003), as float4in words it.
template <class P>
[[noreturn]] void OutOfRange(const char* text) {
  ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                  errmsg("\"%s\" is out of range for type %s", text, P::kTypeName)));
  pg_unreachable();
}

// Rounds a finite-or-not float to Elem; a finite value that becomes infinite is out of range
// (22003, the value's shortest decimal form in the message). NaN/Inf pass through for
// CheckElement.
template <class P>
inline typename P::Elem FromFloatChecked(float value) {
  typename P::Elem e = P::FromFloatUnchecked(value);
  if (P::IsInf(e) && !std::isinf(value)) OutOfRange<P>(float_to_shortest_decimal(value));
  return e;
}

// Text input '[1,2,3]': core/type_input.h's parser (pgvector's rules and errors: 22P02 bad
// syntax, 22003 out of range, 22000 NaN, infinity, no dimension or typmod mismatch, 54000 more
// than kMaxDim dimensions).
template <class P>
Dense<P>* Parse(const char* lit, int32 typmod) {
  using Elem = typename P::Elem;
  Elem* values = static_cast<Elem*>(palloc(sizeof(Elem) * P::kMaxDim));
  int dim = 0;
  InputStatus st = P::ParseText(lit, typmod, values, &dim);
  if (!st.ok()) ReportInputError(st, P::kTypeName, lit);
  Dense<P>* v = Alloc<P>(dim);
  memcpy(v->x, values, sizeof(Elem) * dim);
  pfree(values);
  return v;
}

// Text output '[x1,...,xn]': each element widened to float and printed as the shortest
// decimal string that reads back to the same float (float4out with extra_float_digits >= 1).
// Valid JSON.
template <class P>
char* Format(const Dense<P>* v) {
  char* buf = static_cast<char*>(palloc(v->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 2));
  char* p = buf;
  *p++ = '[';
  for (int i = 0; i < v->dim; i++) {
    if (i > 0) *p++ = ',';
    p += float_to_shortest_decimal_bufn(P::ToFloat(v->x[i]), p);
  }
  *p++ = ']';
  *p = '\0';
  return buf;
}

// Binary input: int16 dim, int16 unused (must be 0: "expected unused to be 0, not %d", 22000),
// dim elements; core/type_input.h's decoder, which validates like Parse (08P01 "insufficient
// data left in message" for a short message, as pq_getmsgint).
template <class P>
Dense<P>* Recv(StringInfo buf, int32 typmod) {
  const uint8_t* data = reinterpret_cast<const uint8_t*>(buf->data + buf->cursor);
  size_t len = static_cast<size_t>(buf->len - buf->cursor);
  int dim = 0;
  InputStatus st = DecodeDenseHeader(data, len, typmod, &dim);
  if (!st.ok()) ReportInputError(st, P::kTypeName, "");
  Dense<P>* v = Alloc<P>(dim);
  size_t consumed = 0;
  st = DecodeDenseBody(data + 4, len - 4, P::kKind, dim, v->x, &consumed);
  if (!st.ok()) ReportInputError(st, P::kTypeName, "");
  buf->cursor += static_cast<int>(4 + consumed);
  return v;
}

// Binary output, the form Recv reads.
template <class P>
bytea* Send(const Dense<P>* v) {
  StringInfoData buf;
  pq_begintypsend(&buf);
  pq_sendint16(&buf, v->dim);
  pq_sendint16(&buf, v->unused);
  for (int i = 0; i < v->dim; i++) P::Send(&buf, v->x[i]);
  return pq_endtypsend(&buf);
}

// typmod_in(cstring[]): exactly one integer 1..kMaxDim (22023 otherwise).
template <class P>
int32 TypmodIn(ArrayType* ta) {
  int n;
  int32* tl = ArrayGetIntegerTypmods(ta, &n);
  if (n != 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid type modifier")));
  if (tl[0] < 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("dimensions for type %s must be at least 1", P::kTypeName)));
  if (tl[0] > P::kMaxDim)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("dimensions for type %s cannot exceed %d", P::kTypeName, P::kMaxDim)));
  return tl[0];
}

enum class ArithOp { kAdd, kSub, kMul };

// Element-wise a op b into out (which may alias a). 22000 on different dimensions; 22003 on
// overflow (an infinite result) and, for kMul, underflow (zero from non-zero factors): the
// first element, in order, that does either decides which (as pgvector checks them).
template <class P>
void Arith(ArithOp op, const Dense<P>* a, const Dense<P>* b, Dense<P>* out) {
  CheckSameDims<P>(a->dim, b->dim);
  enum { kFine, kOverflow, kUnderflow } first = kFine;
  for (int i = 0; i < a->dim; i++) {
    float x = P::ToFloat(a->x[i]), y = P::ToFloat(b->x[i]);
    float r = op == ArithOp::kAdd ? x + y : op == ArithOp::kSub ? x - y : x * y;
    typename P::Elem e = P::FromFloatUnchecked(r);
    if (first == kFine) {
      if (P::IsInf(e))
        first = kOverflow;
      else if (op == ArithOp::kMul && P::ToFloat(e) == 0.0f && x != 0.0f && y != 0.0f)
        first = kUnderflow;
    }
    out->x[i] = e;
  }
  if (first == kOverflow) float_overflow_error();
  if (first == kUnderflow) float_underflow_error();
}

// a || b. 54000 when the result exceeds kMaxDim dimensions.
template <class P>
Dense<P>* Concat(const Dense<P>* a, const Dense<P>* b) {
  int dim = a->dim + b->dim;
  CheckDimRange<P>(dim);
  Dense<P>* r = Alloc<P>(dim);
  memcpy(r->x, a->x, sizeof(typename P::Elem) * a->dim);
  memcpy(r->x + a->dim, b->x, sizeof(typename P::Elem) * b->dim);
  return r;
}

// subvector(a, start, count): elements start .. start+count-1, 1-based and clipped to the
// vector like substring(). 22000 "%s must have at least 1 dimension" when nothing remains.
template <class P>
Dense<P>* Subvector(const Dense<P>* a, int32 start, int32 count) {
  if (count < 1)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("%s must have at least 1 dimension", P::kTypeName)));
  // end = min(start + count, dim + 1), without overflowing int32 (count >= 1, dim >= 1).
  int64 end = static_cast<int64>(start) + count;
  if (end > a->dim + 1) end = a->dim + 1;
  if (start < 1) start = 1;
  if (start > a->dim || end <= start)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("%s must have at least 1 dimension", P::kTypeName)));
  int dim = static_cast<int>(end - start);
  Dense<P>* r = Alloc<P>(dim);
  memcpy(r->x, a->x + (start - 1), sizeof(typename P::Elem) * dim);
  return r;
}

// Euclidean norm of the widened elements, accumulated in double.
template <class P>
double Norm(const Dense<P>* a) {
  double sum = 0.0;
  for (int i = 0; i < a->dim; i++) {
    double x = P::ToFloat(a->x[i]);
    sum += x * x;
  }
  return std::sqrt(sum);
}

// a / |a| (norm in double); a zero vector stays zero. 22003 on overflow.
template <class P>
Dense<P>* L2Normalize(const Dense<P>* a) {
  Dense<P>* r = Alloc<P>(a->dim);
  double norm = Norm<P>(a);
  if (norm > 0) {
    bool overflow = false;
    for (int i = 0; i < a->dim; i++) {
      r->x[i] = P::FromFloatUnchecked(static_cast<float>(P::ToFloat(a->x[i]) / norm));
      overflow |= P::IsInf(r->x[i]);
    }
    if (overflow) float_overflow_error();
  }
  return r;
}

// bit(dim): bit i (first bit = element 1) is 1 where element i > 0.
template <class P>
VarBit* BinaryQuantize(const Dense<P>* a) {
  int len = VARBITTOTALLEN(a->dim);
  VarBit* r = static_cast<VarBit*>(palloc0(len));
  SET_VARSIZE(r, len);
  VARBITLEN(r) = a->dim;
  bits8* bits = VARBITS(r);
  for (int i = 0; i < a->dim; i++)
    if (P::ToFloat(a->x[i]) > 0) bits[i / 8] |= static_cast<bits8>(0x80 >> (i % 8));
  return r;
}

// -1, 0, 1: element by element, then the shorter first (the order of the equivalent real[]).
template <class P>
int Compare(const Dense<P>* a, const Dense<P>* b) {
  int dim = a->dim < b->dim ? a->dim : b->dim;
  for (int i = 0; i < dim; i++) {
    float x = P::ToFloat(a->x[i]), y = P::ToFloat(b->x[i]);
    if (x < y) return -1;
    if (x > y) return 1;
  }
  if (a->dim < b->dim) return -1;
  if (a->dim > b->dim) return 1;
  return 0;
}

// ---- aggregates: the state is float8[] {n, sum_1, ..., sum_dim}; the initial state is '{0}'.

// Checks the shape of a state array; returns its values. XX000 if it is not one of ours.
inline float8* StateValues(ArrayType* state, const char* type_name, const char* caller) {
  if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] < 1 || ARR_HASNULL(state) ||
      ARR_ELEMTYPE(state) != FLOAT8OID)
    elog(ERROR, "%s_%s: expected state array", type_name, caller);
  return reinterpret_cast<float8*>(ARR_DATA_PTR(state));
}

inline int StateDims(ArrayType* state) { return ARR_DIMS(state)[0] - 1; }

// A new state array of dim + 1 values (uninitialised).
inline ArrayType* NewState(int dim) {
  int nelems = dim + 1;
  Size nbytes = ARR_OVERHEAD_NONULLS(1) + sizeof(float8) * nelems;
  ArrayType* r = static_cast<ArrayType*>(palloc0(nbytes));
  SET_VARSIZE(r, nbytes);
  r->ndim = 1;
  r->dataoffset = 0;
  r->elemtype = FLOAT8OID;
  ARR_DIMS(r)[0] = nelems;
  ARR_LBOUND(r)[0] = 1;
  return r;
}

// accum(state float8[], value) -> float8[]: adds value to the running sums. A state without
// sums ('{0}', the initial state) takes the value's dimensions; any other state's length must
// match the value: "expected %d dimensions, not %d" (22000), as pgvector; an
// infinite sum is 22003. Inside an aggregate the state is updated in place (it is ours).
template <class P>
Datum AccumFn(PG_FUNCTION_ARGS) {
  ArrayType* state = PG_GETARG_ARRAYTYPE_P(0);
  const Dense<P>* v = GetArg<P>(fcinfo, 1);
  float8* values = StateValues(state, P::kTypeName, "accum");
  float8 n = values[0] + 1.0;
  if (StateDims(state) == 0) {
    ArrayType* r = NewState(v->dim);
    float8* rv = reinterpret_cast<float8*>(ARR_DATA_PTR(r));
    rv[0] = n;
    for (int i = 0; i < v->dim; i++) rv[i + 1] = P::ToFloat(v->x[i]);
    PG_RETURN_ARRAYTYPE_P(r);
  }
  CheckExpectedDims(StateDims(state), v->dim);
  ArrayType* r = state;
  if (!AggCheckCallContext(fcinfo, nullptr)) r = NewState(v->dim);
  float8* rv = reinterpret_cast<float8*>(ARR_DATA_PTR(r));
  bool overflow = false;
  for (int i = 0; i < v->dim; i++) {
    rv[i + 1] = values[i + 1] + P::ToFloat(v->x[i]);
    overflow |= std::isinf(rv[i + 1]);
  }
  if (overflow) float_overflow_error();
  rv[0] = n;
  PG_RETURN_ARRAYTYPE_P(r);
}

// combine(state1, state2) -> state: merges two partial states (parallel aggregation).
// "expected %d dimensions, not %d" (22000) when both saw rows of different dimensions.
template <class P>
Datum CombineFn(PG_FUNCTION_ARGS) {
  ArrayType* s1 = PG_GETARG_ARRAYTYPE_P(0);
  ArrayType* s2 = PG_GETARG_ARRAYTYPE_P(1);
  float8* v1 = StateValues(s1, P::kTypeName, "combine");
  float8* v2 = StateValues(s2, P::kTypeName, "combine");
  if (v1[0] == 0.0 || v2[0] == 0.0) {
    ArrayType* src = v1[0] == 0.0 ? s2 : s1;
    int dim = StateDims(src);
    ArrayType* r = NewState(dim);
    memcpy(ARR_DATA_PTR(r), ARR_DATA_PTR(src), sizeof(float8) * (dim + 1));
    PG_RETURN_ARRAYTYPE_P(r);
  }
  int dim = StateDims(s1);
  CheckExpectedDims(dim, StateDims(s2));
  ArrayType* r = AggCheckCallContext(fcinfo, nullptr) ? s1 : NewState(dim);
  float8* rv = reinterpret_cast<float8*>(ARR_DATA_PTR(r));
  bool overflow = false;
  for (int i = 1; i <= dim; i++) {
    rv[i] = v1[i] + v2[i];
    overflow |= std::isinf(rv[i]);
  }
  if (overflow) float_overflow_error();
  rv[0] = v1[0] + v2[0];
  PG_RETURN_ARRAYTYPE_P(r);
}

// avg final function: sums / n rounded to float, then to Elem (as a cast: out of range for
// halfvec, "infinite value not allowed" for vector); NULL when no row was aggregated.
template <class P>
Datum AvgFn(PG_FUNCTION_ARGS) {
  ArrayType* state = PG_GETARG_ARRAYTYPE_P(0);
  float8* values = StateValues(state, P::kTypeName, "avg");
  float8 n = values[0];
  if (n == 0.0) PG_RETURN_NULL();
  int dim = StateDims(state);
  CheckDimRange<P>(dim);
  Dense<P>* r = Alloc<P>(dim);
  for (int i = 0; i < dim; i++) {
    r->x[i] = FromFloatChecked<P>(static_cast<float>(values[i + 1] / n));
    CheckElement<P>(r->x[i]);
  }
  PG_RETURN_POINTER(r);
}

// ---- arrays

// The elements of a one-dimensional array without NULLs (the array casts). Errors: "array must
// be 1-D" (22000), "array must not contain nulls" (22004). *n gets the element count.
inline Datum* ArrayDatums(ArrayType* array, Oid* elemtype, int* n) {
  if (ARR_NDIM(array) > 1)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));
  if (ARR_HASNULL(array) && array_contains_nulls(array))
    ereport(ERROR,
            (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("array must not contain nulls")));
  *elemtype = ARR_ELEMTYPE(array);
  int16 typlen;
  bool typbyval;
  char typalign;
  get_typlenbyvalalign(*elemtype, &typlen, &typbyval, &typalign);
  Datum* elems;
  deconstruct_array(array, *elemtype, typlen, typbyval, typalign, &elems, nullptr, n);
  return elems;
}

// One array element (integer, real, double precision or numeric) as float4, as pgvector
// converts it: integers and doubles by a plain C conversion (a double beyond float4's range
// becomes an infinity, left for the caller's element check: "infinite value not allowed in
// ..."), numerics by PostgreSQL's numeric_float4 (whose errors are real's: "\"%s\" is out of
// range for type real", 22003). 22000 "unsupported array type" for any other element type.
inline float ArrayElementToFloat(Datum elem, Oid elemtype) {
  switch (elemtype) {
    case INT4OID:
      return static_cast<float>(DatumGetInt32(elem));
    case FLOAT4OID:
      return DatumGetFloat4(elem);
    case FLOAT8OID:
      return static_cast<float>(DatumGetFloat8(elem));
    case NUMERICOID:
      return DatumGetFloat4(DirectFunctionCall1(numeric_float4, elem));
    default:
      ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("unsupported array type")));
  }
  pg_unreachable();
}

// integer[], real[], double precision[], numeric[] -> the type (the assignment casts).
// Errors, in pgvector's order: "array must be 1-D" (22000), "array must not contain nulls"
// (22004), dimensions (core CheckArrayDims); then every element converted (numeric_float4's
// errors; for halfvec a finite value beyond the half range is "\"%s\" is out of range for type
// halfvec", 22003); then every element checked: "NaN not allowed in %s", "infinite value not
// allowed in %s" (22000).
template <class P>
Dense<P>* FromArray(ArrayType* array, int32 typmod) {
  Oid elemtype;
  int n;
  Datum* elems = ArrayDatums(array, &elemtype, &n);
  InputStatus st = CheckArrayDims(n, P::kMaxDim, typmod);
  if (!st.ok()) ReportInputError(st, P::kTypeName, "");
  float* floats = static_cast<float*>(palloc(sizeof(float) * n));
  for (int i = 0; i < n; i++) floats[i] = ArrayElementToFloat(elems[i], elemtype);
  pfree(elems);
  Dense<P>* r = Alloc<P>(n);
  st = P::FromFloats(floats, r->x, n);
  if (!st.ok())
    ReportInputError(st, P::kTypeName, "", float_to_shortest_decimal(floats[st.element]));
  pfree(floats);
  return r;
}

// The type -> real[] (one-dimensional, lower bound 1).
template <class P>
ArrayType* ToFloat4Array(const Dense<P>* v) {
  Datum* datums = static_cast<Datum*>(palloc(sizeof(Datum) * v->dim));
  for (int i = 0; i < v->dim; i++) datums[i] = Float4GetDatum(P::ToFloat(v->x[i]));
  ArrayType* r = construct_array(datums, v->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
  pfree(datums);
  return r;
}

// ---- complete fmgr bodies (argument order as the SQL signatures in the catalog listing)

// in(cstring, oid, typmod int4)
template <class P>
Datum InFn(PG_FUNCTION_ARGS) {
  PG_RETURN_POINTER(Parse<P>(PG_GETARG_CSTRING(0), PG_GETARG_INT32(2)));
}
// out(value) -> cstring
template <class P>
Datum OutFn(PG_FUNCTION_ARGS) {
  PG_RETURN_CSTRING(Format<P>(GetArg<P>(fcinfo, 0)));
}
// recv(internal, oid, typmod int4)
template <class P>
Datum RecvFn(PG_FUNCTION_ARGS) {
  PG_RETURN_POINTER(
      Recv<P>(reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0)), PG_GETARG_INT32(2)));
}
// send(value) -> bytea
template <class P>
Datum SendFn(PG_FUNCTION_ARGS) {
  PG_RETURN_BYTEA_P(Send<P>(GetArg<P>(fcinfo, 0)));
}
// typmod_in(cstring[]) -> int4
template <class P>
Datum TypmodInFn(PG_FUNCTION_ARGS) {
  PG_RETURN_INT32(TypmodIn<P>(PG_GETARG_ARRAYTYPE_P(0)));
}
// type(value, typmod int4, explicit bool): the typmod cast; checks dimensions.
template <class P>
Datum TypmodCastFn(PG_FUNCTION_ARGS) {
  Dense<P>* v = GetArg<P>(fcinfo, 0);
  CheckExpectedDims(PG_GETARG_INT32(1), v->dim);
  PG_RETURN_POINTER(v);
}

// add / sub / mul(a, b). Also the transition and combine function of sum(): inside an
// aggregate, argument 0 is the state and is updated in place.
template <class P>
Datum ArithFn(PG_FUNCTION_ARGS, ArithOp op) {
  Dense<P>* a = GetArg<P>(fcinfo, 0);
  Dense<P>* b = GetArg<P>(fcinfo, 1);
  CheckSameDims<P>(a->dim, b->dim);
  Dense<P>* r = AggCheckCallContext(fcinfo, nullptr) ? a : Alloc<P>(a->dim);
  Arith<P>(op, a, b, r);
  PG_RETURN_POINTER(r);
}
template <class P>
Datum AddFn(PG_FUNCTION_ARGS) {
  return ArithFn<P>(fcinfo, ArithOp::kAdd);
}
template <class P>
Datum SubFn(PG_FUNCTION_ARGS) {
  return ArithFn<P>(fcinfo, ArithOp::kSub);
}
template <class P>
Datum MulFn(PG_FUNCTION_ARGS) {
  return ArithFn<P>(fcinfo, ArithOp::kMul);
}

template <class P>
Datum ConcatFn(PG_FUNCTION_ARGS) {
  PG_RETURN_POINTER(Concat<P>(GetArg<P>(fcinfo, 0), GetArg<P>(fcinfo, 1)));
}
// subvector(value, start int4, count int4)
template <class P>
Datum SubvectorFn(PG_FUNCTION_ARGS) {
  PG_RETURN_POINTER(Subvector<P>(GetArg<P>(fcinfo, 0), PG_GETARG_INT32(1), PG_GETARG_INT32(2)));
}
template <class P>
Datum L2NormalizeFn(PG_FUNCTION_ARGS) {
  PG_RETURN_POINTER(L2Normalize<P>(GetArg<P>(fcinfo, 0)));
}
template <class P>
Datum NormFn(PG_FUNCTION_ARGS) {
  PG_RETURN_FLOAT8(Norm<P>(GetArg<P>(fcinfo, 0)));
}
template <class P>
Datum DimsFn(PG_FUNCTION_ARGS) {
  PG_RETURN_INT32(GetArg<P>(fcinfo, 0)->dim);
}
template <class P>
Datum BinaryQuantizeFn(PG_FUNCTION_ARGS) {
  PG_RETURN_VARBIT_P(BinaryQuantize<P>(GetArg<P>(fcinfo, 0)));
}
template <class P>
Datum CmpFn(PG_FUNCTION_ARGS) {
  PG_RETURN_INT32(Compare<P>(GetArg<P>(fcinfo, 0), GetArg<P>(fcinfo, 1)));
}
// lt/le/eq/ne/ge/gt: Pred is a lambda-free functor on the Compare result.
template <class P, bool (*Pred)(int)>
Datum CmpPredFn(PG_FUNCTION_ARGS) {
  PG_RETURN_BOOL(Pred(Compare<P>(GetArg<P>(fcinfo, 0), GetArg<P>(fcinfo, 1))));
}
inline bool CmpLt(int c) { return c < 0; }
inline bool CmpLe(int c) { return c <= 0; }
inline bool CmpEq(int c) { return c == 0; }
inline bool CmpNe(int c) { return c != 0; }
inline bool CmpGe(int c) { return c >= 0; }
inline bool CmpGt(int c) { return c > 0; }

// array_to_<type>(anyarray, typmod int4, explicit bool)
template <class P>
Datum FromArrayFn(PG_FUNCTION_ARGS) {
  PG_RETURN_POINTER(FromArray<P>(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_INT32(1)));
}
// <type>_to_float4(value, typmod int4, explicit bool) -> real[]
template <class P>
Datum ToFloat4ArrayFn(PG_FUNCTION_ARGS) {
  PG_RETURN_ARRAYTYPE_P(ToFloat4Array<P>(GetArg<P>(fcinfo, 0)));
}

}  // namespace dense
}  // namespace ragstore
