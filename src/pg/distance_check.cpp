// ragstore: ragstore.debug_check_distances(), the self-check of the descriptor table
// (pg/distance.h) that the regression suite runs (sql/distance_table.sql). For every entry, on
// seeded random values of several dimensions (dense types 1..100 dimensions, bit 1..130 bits,
// sparsevec up to 1,000 dimensions), it compares:
//   - the entry's kernel on stored values with its SQL distance function (FUNCTION 1 of the hnsw
//     class, what a sequential scan orders by), on normalised values for cosine;
//   - for an entry ivfflat takes, its batch kernel on the working form, reached through the
//     type's element_from_floats / elements_to_floats (bit: the packed bits), with the kernel;
//     the rows of a batch are 1..7 so that the kernels' four-row blocks and their tails run;
//   - the lookups the support functions make: FindDistance and FindDistanceByFunction return the
//     entry itself, an ivfflat entry has its batch kernel and element conversions, an hnsw entry
//     its kernel.
// A distance is "off" when |kernel - reference| > 1e-4 * max(1, |reference|): the kernels sum
// float32 in other orders than the SQL functions, a wrong kernel is off by far more.
#include <cmath>

#include "pg/distance.h"
#include "pg/module.h"
#include "types/sparsevec.h"

extern "C" {
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/varbit.h"
}

namespace ragstore {
namespace pg {
namespace {

constexpr double kTolerance = 1e-4;
constexpr int kQueries = 3;
constexpr int kMaxRows = 7;

// splitmix64: reproducible values for a fixed seed.
struct Rng {
  uint64 state;
  uint64 Next() {
    uint64 z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // A value in [-2, 2), exactly representable as a half (multiples of 1/64).
  float Value() { return static_cast<float>(static_cast<int>(Next() % 256) - 128) / 64.0f; }
};

// A random value of type t: `dims` dimensions (bit: bits; sparsevec: about a tenth of the
// dimensions non-zero, at least one). palloc'd.
char* RandomValue(const ElementTypeDesc* t, int dims, Rng* rng) {
  if (t->layout == ElementLayout::kDenseFloat) {
    float* x = static_cast<float*>(palloc(sizeof(float) * dims));
    for (int i = 0; i < dims; i++) x[i] = rng->Value();
    char* v = static_cast<char*>(palloc0(t->from_float_size(dims)));
    t->from_float(x, dims, v);
    pfree(x);
    return v;
  }
  if (t->layout == ElementLayout::kBits) {
    VarBit* b = static_cast<VarBit*>(palloc0(VARBITTOTALLEN(dims)));
    SET_VARSIZE(b, VARBITTOTALLEN(dims));
    VARBITLEN(b) = dims;
    for (int i = 0; i < static_cast<int>(VARBITBYTES(b)); i++)
      VARBITS(b)[i] = static_cast<bits8>(rng->Next());
    if (dims % 8 != 0) VARBITS(b)[VARBITBYTES(b) - 1] &= static_cast<bits8>(0xFF << (8 - dims % 8));
    return reinterpret_cast<char*>(b);
  }
  int nnz = 0;
  int32* idx = static_cast<int32*>(palloc(sizeof(int32) * dims));
  for (int i = 0; i < dims; i++)
    if (rng->Next() % 10 == 0 || (i == dims - 1 && nnz == 0)) idx[nnz++] = i;
  SparseVector* s = InitSparseVector(dims, nnz);
  for (int i = 0; i < nnz; i++) {
    float x = rng->Value();
    s->indices[i] = idx[i];
    SparseValues(s)[i] = x != 0.0f ? x : 1.0f;
  }
  pfree(idx);
  return reinterpret_cast<char*>(s);
}

// A value as the entry stores it (normalised for cosine), or nullptr (a zero vector).
char* StoredValue(const DistanceDesc* d, int dims, Rng* rng) {
  char* v = RandomValue(d->element, dims, rng);
  return d->normalizes ? d->element->normalize(v) : v;
}

bool Off(double got, double want) {
  return std::fabs(got - want) > kTolerance * std::max(1.0, std::fabs(want));
}

// ivfflat's working form of value v (WorkSize bytes into `work`), through the stored element.
void WorkForm(const DistanceDesc* d, const char* v, int dims, char* element, char* work) {
  const ElementTypeDesc* t = d->element;
  if (t->layout == ElementLayout::kBits) {
    Size offset, nbytes;
    t->bits_at(v, &offset, &nbytes);
    memcpy(element, v + offset, t->element_size(dims));
  } else {
    float* x = static_cast<float*>(palloc(sizeof(float) * dims));
    t->to_float(v, x);
    t->element_from_floats(x, dims, element);
    pfree(x);
  }
  if (t->elements_to_floats)
    t->elements_to_floats(element, dims, reinterpret_cast<float*>(work));
  else
    memcpy(work, element, t->element_size(dims));
}

// bit: element_from_floats of the bits as 0/1 floats gives the bits back (k-means centroids).
bool BitsRoundTrip(const ElementTypeDesc* t, const char* v, int dims) {
  Size offset, nbytes;
  t->bits_at(v, &offset, &nbytes);
  const uint8* bits = reinterpret_cast<const uint8*>(v + offset);
  float* x = static_cast<float*>(palloc(sizeof(float) * dims));
  for (int i = 0; i < dims; i++) x[i] = (bits[i / 8] & (0x80 >> (i % 8))) ? 1.0f : 0.0f;
  char* element = static_cast<char*>(palloc(t->element_size(dims)));
  t->element_from_floats(x, dims, element);
  bool same = memcmp(element, bits, t->element_size(dims)) == 0;
  pfree(x);
  pfree(element);
  return same;
}

struct EntryResult {
  int pairs = 0;
  int kernel_off = 0;
  int batch_off = 0;
};

// Compares the entry's kernel with its SQL function, and its batch kernel with its kernel, for
// kQueries queries and 1..kMaxRows rows of `dims` dimensions.
void CheckDims(const DistanceDesc* d, int dims, Rng* rng, EntryResult* r) {
  const ElementTypeDesc* t = d->element;
  const bool batch = d->batch != nullptr;
  // the working form (ivfflat entries only: a type ivfflat does not take has no element)
  int work_size = !batch                                    ? 1
                  : t->layout == ElementLayout::kDenseFloat ? dims * static_cast<int>(sizeof(float))
                                                            : t->element_size(dims);
  char* rows = static_cast<char*>(palloc(static_cast<Size>(work_size) * kMaxRows));
  char* query_work = static_cast<char*>(palloc(work_size));
  char* element = static_cast<char*>(palloc(batch ? t->element_size(dims) : 1));
  float out[kMaxRows];
  for (int q = 0; q < kQueries; q++) {
    char* a = StoredValue(d, dims, rng);
    if (a == nullptr) continue;
    int n = 1 + static_cast<int>(rng->Next() % kMaxRows);
    char* b[kMaxRows];
    for (int i = 0; i < n; i++) {
      b[i] = StoredValue(d, dims, rng);
      if (b[i] == nullptr) b[i] = a;
      double sql = DatumGetFloat8(
          DirectFunctionCall2(d->distance_fn, PointerGetDatum(a), PointerGetDatum(b[i])));
      r->pairs++;
      if (Off(d->kernel(a, b[i]), sql)) r->kernel_off++;
      if (batch) WorkForm(d, b[i], dims, element, rows + static_cast<Size>(i) * work_size);
    }
    if (!batch) continue;
    WorkForm(d, a, dims, element, query_work);
    d->batch(query_work, rows, n, dims, out);
    for (int i = 0; i < n; i++)
      if (Off(out[i], d->kernel(a, b[i]))) r->batch_off++;
    if (t->layout == ElementLayout::kBits && !BitsRoundTrip(t, a, dims)) r->batch_off++;
  }
  pfree(rows);
  pfree(query_work);
  pfree(element);
}

// The support functions' lookups find the entry, and it has what each access method calls.
bool LookupsOk(const DistanceDesc* d) {
  const ElementTypeDesc* t = d->element;
  if (FindDistance(d->type, d->metric) != d ||
      FindDistanceByFunction(d->type, d->distance_fn, d->normalizes) != d || t->type != d->type)
    return false;
  if (d->hnsw && d->kernel == nullptr) return false;
  if (d->normalizes && t->normalize == nullptr) return false;
  if (d->ivfflat && (d->batch == nullptr || t->ivfflat_max_dims == 0 ||
                     t->element_size == nullptr || t->element_from_floats == nullptr))
    return false;
  return true;
}

}  // namespace
}  // namespace pg
}  // namespace ragstore

using namespace ragstore;
using namespace ragstore::pg;

extern "C" {

PG_FUNCTION_INFO_V1(ragstore_debug_check_distances);
// ragstore.debug_check_distances(seed bigint) -> setof (opclass text, pairs int, kernel_off int,
// batch_off int, lookups_ok bool): debug-only (ragstore.debug_functions must be on). One row per
// descriptor entry, in table order: the pairs of values compared, how many of them the kernel
// computes off its SQL function, how many the batch kernel computes off the kernel (NULL when
// ivfflat does not take the entry), and whether the support functions' lookups find the entry.
Datum ragstore_debug_check_distances(PG_FUNCTION_ARGS) {
  RequireDebugFunctions();
  Rng rng{static_cast<uint64>(PG_GETARG_INT64(0))};
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  static const int kDenseDims[] = {1, 3, 8, 9, 31, 64, 100};
  static const int kBitDims[] = {1, 7, 8, 9, 63, 64, 65, 130};
  static const int kSparseDims[] = {1, 5, 40, 1000};
  int count = 0;
  const DistanceDesc* table = DistanceTable(&count);
  for (int e = 0; e < count; e++) {
    const DistanceDesc* d = &table[e];
    EntryResult r;
    const int* dims = kDenseDims;
    int ndims = lengthof(kDenseDims);
    if (d->element->layout == ElementLayout::kBits) {
      dims = kBitDims;
      ndims = lengthof(kBitDims);
    } else if (d->element->layout == ElementLayout::kSparse) {
      dims = kSparseDims;
      ndims = lengthof(kSparseDims);
    }
    if (d->kernel != nullptr)
      for (int i = 0; i < ndims; i++) CheckDims(d, dims[i], &rng, &r);
    Datum values[5] = {CStringGetTextDatum(d->opclass), Int32GetDatum(r.pairs),
                       Int32GetDatum(r.kernel_off), Int32GetDatum(r.batch_off),
                       BoolGetDatum(LookupsOk(d))};
    bool nulls[5] = {false, false, false, d->batch == nullptr, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

}  // extern "C"
