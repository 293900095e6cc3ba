// ragstore: the descriptor table (pg/distance.h): the kernels on stored values, the per-type
// conversions and limits, one entry per (element type, metric), and the operator classes'
// support functions that return the entries.
//
// The limits are pgvector's: hnsw 2,000 dimensions for vector, 4,000 for halfvec, 64,000 bits,
// 1,000 non-zeros for sparsevec; ivfflat the same for vector, halfvec and bit (one centroid must
// fit a list page) and no sparsevec. halfvec converts exactly to float and back, so the
// in-memory builder runs on floats; bit and sparsevec values are read in place.
#include "pg/distance.h"

#include <cmath>

#include "core/bits.h"
#include "core/distance.h"
#include "core/half.h"
#include "core/list_scan.h"
#include "types/halfvec.h"
#include "types/sparsevec.h"
#include "types/vector.h"

extern "C" {
#include "access/genam.h"
#include "utils/rel.h"
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
namespace pg {
namespace {

// ---------------------------------------------------------------- vector

const Vector* V(const char* p) { return reinterpret_cast<const Vector*>(p); }
int VectorDims(const char* v) { return V(v)->dim; }
float VectorL2(const char* a, const char* b) {
  return L2SquaredDistance(V(a)->x, V(b)->x, V(a)->dim);
}
float VectorIp(const char* a, const char* b) { return -InnerProduct(V(a)->x, V(b)->x, V(a)->dim); }
float VectorL1(const char* a, const char* b) { return L1Distance(V(a)->x, V(b)->x, V(a)->dim); }

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
int VectorElementSize(int dims) { return dims * static_cast<int>(sizeof(float)); }
void VectorElementFromFloats(const float* x, int dims, char* out) {
  memcpy(out, x, sizeof(float) * dims);
}
void VectorFromFloat(const float* x, int dims, char* out) {
  auto* v = reinterpret_cast<Vector*>(out);
  SET_VARSIZE(v, VectorSize(dims));
  v->dim = static_cast<int16>(dims);
  v->unused = 0;
  memcpy(v->x, x, sizeof(float) * dims);
}

// ---------------------------------------------------------------- halfvec

const HalfVector* H(const char* p) { return reinterpret_cast<const HalfVector*>(p); }
Size HalfSize(int dims) { return offsetof(HalfVector, x) + sizeof(Half) * dims; }
int HalfDims(const char* v) { return H(v)->dim; }
int HalfElementSize(int dims) { return dims * static_cast<int>(sizeof(Half)); }
float HalfL2(const char* a, const char* b) {
  return HalfL2SquaredDistance(H(a)->x, H(b)->x, H(a)->dim);
}
float HalfIp(const char* a, const char* b) {
  return -HalfInnerProduct(H(a)->x, H(b)->x, H(a)->dim);
}
float HalfL1(const char* a, const char* b) { return HalfL1Distance(H(a)->x, H(b)->x, H(a)->dim); }

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
void HalfElementFromFloats(const float* x, int dims, char* out) {
  FloatsToHalves(x, reinterpret_cast<Half*>(out), dims);
}
void HalfElementsToFloats(const char* elements, size_t count, float* out) {
  HalvesToFloats(reinterpret_cast<const Half*>(elements), out, count);
}
void HalfFromFloat(const float* x, int dims, char* out) {
  auto* v = reinterpret_cast<HalfVector*>(out);
  SET_VARSIZE(v, HalfSize(dims));
  v->dim = static_cast<int16>(dims);
  v->unused = 0;
  FloatsToHalves(x, v->x, dims);
}

// ---------------------------------------------------------------- sparsevec

const SparseVector* S(const char* p) { return reinterpret_cast<const SparseVector*>(p); }
int SparseDims(const char* v) { return S(v)->dim; }
int SparseNnz(const char* v) { return S(v)->nnz; }
float SparseL2(const char* a, const char* b) {
  return SparseL2SquaredDistance(View(S(a)), View(S(b)));
}
float SparseIp(const char* a, const char* b) { return -SparseInnerProduct(View(S(a)), View(S(b))); }
float SparseL1(const char* a, const char* b) { return SparseL1Distance(View(S(a)), View(S(b))); }

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

// ---------------------------------------------------------------- bit

const VarBit* B(const char* p) { return reinterpret_cast<const VarBit*>(p); }
int BitDims(const char* v) { return VARBITLEN(B(v)); }
int BitElementSize(int dims) { return (dims + 7) / 8; }
float BitHamming(const char* a, const char* b) {
  return static_cast<float>(HammingBits(VARBITS(B(a)), VARBITS(B(b)), VARBITBYTES(B(a))));
}
float BitJaccard(const char* a, const char* b) {
  return static_cast<float>(JaccardDistance(VARBITS(B(a)), VARBITS(B(b)), VARBITBYTES(B(a))));
}

void BitElementFromFloats(const float* x, int dims, char* out) {
  uint8* bytes = reinterpret_cast<uint8*>(out);
  memset(bytes, 0, BitElementSize(dims));
  for (int i = 0; i < dims; i++)
    if (x[i] > 0.5f) bytes[i / 8] |= static_cast<uint8>(0x80 >> (i % 8));
}

void BitsAt(const char* value, Size* offset, Size* nbytes) {
  *offset = offsetof(VarBit, bit_dat);
  *nbytes = VARBITBYTES(B(value));
}

// ---------------------------------------------------------------- batch kernels (ivfflat)

const float* F(const char* p) { return reinterpret_cast<const float*>(p); }
const uint8_t* U8(const char* p) { return reinterpret_cast<const uint8_t*>(p); }
void BatchFloatL2(const char* q, const char* rows, size_t n, int dims, float* out) {
  BatchL2Squared(F(q), F(rows), n, dims, out);
}
void BatchFloatIp(const char* q, const char* rows, size_t n, int dims, float* out) {
  BatchNegativeInnerProduct(F(q), F(rows), n, dims, out);
}
void BatchBitHamming(const char* q, const char* rows, size_t n, int dims, float* out) {
  BatchHamming(U8(q), U8(rows), n, BitElementSize(dims), out);
}

// ---------------------------------------------------------------- the tables

// {type, name, hnsw limit, ivfflat limit, what the limits count, dims from typmod, dims, limit
//  count, dims error, normalize, layout, to_float, from_float_size, from_float, bits_at,
//  sparse_view, element_size, element_from_floats, elements_to_floats}
const ElementTypeDesc kElementTypes[] = {
    {ElementType::kVector, "vector", 2000, 2000, "dimensions", true, VectorDims, VectorDims,
     "different vector dimensions %u and %d", VectorNormalize, ElementLayout::kDenseFloat,
     VectorToFloat, VectorFromFloatSize, VectorFromFloat, nullptr, nullptr, VectorElementSize,
     VectorElementFromFloats, nullptr},
    {ElementType::kHalfvec, "halfvec", 4000, 4000, "dimensions", true, HalfDims, HalfDims,
     "different halfvec dimensions %u and %d", HalfNormalize, ElementLayout::kDenseFloat,
     HalfToFloatValues, HalfSize, HalfFromFloat, nullptr, nullptr, HalfElementSize,
     HalfElementFromFloats, HalfElementsToFloats},
    {ElementType::kBit, "bit", 64000, 64000, "dimensions", true, BitDims, BitDims,
     "different bit lengths %u and %d", nullptr, ElementLayout::kBits, nullptr, nullptr, nullptr,
     BitsAt, nullptr, BitElementSize, BitElementFromFloats, nullptr},
    {ElementType::kSparsevec, "sparsevec", 1000, 0, "non-zero elements", false, SparseDims,
     SparseNnz, "different sparsevec dimensions %u and %d", SparseNormalize, ElementLayout::kSparse,
     nullptr, nullptr, nullptr, nullptr, SparseViewOf, nullptr, nullptr, nullptr},
};

const ElementTypeDesc* E(ElementType t) { return &kElementTypes[static_cast<int>(t) - 1]; }

constexpr Metric kL2 = Metric::kL2, kIp = Metric::kInnerProduct, kCos = Metric::kCosine,
                 kL1 = Metric::kL1, kHam = Metric::kHamming, kJac = Metric::kJaccard;
constexpr ElementType kVec = ElementType::kVector, kHalf = ElementType::kHalfvec,
                      kBit = ElementType::kBit, kSparse = ElementType::kSparsevec;

// {type, metric, operator class, operator, FUNCTION 1, kernel, batch kernel, normalizes,
//  build metric, hnsw, ivfflat, quantizable, element}
const DistanceDesc kDistances[] = {
    {kVec, kL2, "vector_l2_ops", "<->", vector_l2_squared_distance, VectorL2, BatchFloatL2, false,
     kL2, true, true, true, E(kVec)},
    {kVec, kIp, "vector_ip_ops", "<#>", vector_negative_inner_product, VectorIp, BatchFloatIp,
     false, kIp, true, true, true, E(kVec)},
    {kVec, kCos, "vector_cosine_ops", "<=>", vector_negative_inner_product, VectorIp, BatchFloatIp,
     true, kIp, true, true, true, E(kVec)},
    {kVec, kL1, "vector_l1_ops", "<+>", l1_distance, VectorL1, nullptr, false, kL1, true, false,
     false, E(kVec)},
    {kHalf, kL2, "halfvec_l2_ops", "<->", halfvec_l2_squared_distance, HalfL2, BatchFloatL2, false,
     kL2, true, true, true, E(kHalf)},
    {kHalf, kIp, "halfvec_ip_ops", "<#>", halfvec_negative_inner_product, HalfIp, BatchFloatIp,
     false, kIp, true, true, true, E(kHalf)},
    {kHalf, kCos, "halfvec_cosine_ops", "<=>", halfvec_negative_inner_product, HalfIp, BatchFloatIp,
     true, kIp, true, true, true, E(kHalf)},
    {kHalf, kL1, "halfvec_l1_ops", "<+>", halfvec_l1_distance, HalfL1, nullptr, false, kL1, true,
     false, false, E(kHalf)},
    {kSparse, kL2, "sparsevec_l2_ops", "<->", sparsevec_l2_squared_distance, SparseL2, nullptr,
     false, kL2, true, false, false, E(kSparse)},
    {kSparse, kIp, "sparsevec_ip_ops", "<#>", sparsevec_negative_inner_product, SparseIp, nullptr,
     false, kIp, true, false, false, E(kSparse)},
    {kSparse, kCos, "sparsevec_cosine_ops", "<=>", sparsevec_negative_inner_product, SparseIp,
     nullptr, true, kIp, true, false, false, E(kSparse)},
    {kSparse, kL1, "sparsevec_l1_ops", "<+>", sparsevec_l1_distance, SparseL1, nullptr, false, kL1,
     true, false, false, E(kSparse)},
    {kBit, kHam, "bit_hamming_ops", "<~>", hamming_distance, BitHamming, BatchBitHamming, false,
     kHam, true, true, false, E(kBit)},
    {kBit, kJac, "bit_jaccard_ops", "<%>", jaccard_distance, BitJaccard, nullptr, false, kJac, true,
     false, false, E(kBit)},
};

// Per type: the entry for a distance function the table does not know (GenericDistance).
const DistanceDesc kGeneric[] = {
    {kVec, kL2, nullptr, nullptr, nullptr, nullptr, nullptr, false, kL2, true, false, false,
     E(kVec)},
    {kHalf, kL2, nullptr, nullptr, nullptr, nullptr, nullptr, false, kL2, true, false, false,
     E(kHalf)},
    {kBit, kHam, nullptr, nullptr, nullptr, nullptr, nullptr, false, kHam, true, false, false,
     E(kBit)},
    {kSparse, kL2, nullptr, nullptr, nullptr, nullptr, nullptr, false, kL2, true, false, false,
     E(kSparse)},
};

}  // namespace

const ElementTypeDesc& ElementDesc(ElementType type) { return *E(type); }

const DistanceDesc* DistanceTable(int* count) {
  *count = static_cast<int>(lengthof(kDistances));
  return kDistances;
}

const DistanceDesc* FindDistance(ElementType type, Metric metric) {
  for (const DistanceDesc& d : kDistances)
    if (d.type == type && d.metric == metric) return &d;
  return nullptr;
}

const DistanceDesc* FindDistanceByFunction(ElementType type, PGFunction fn, bool normalizes) {
  for (const DistanceDesc& d : kDistances)
    if (d.type == type && d.distance_fn == fn && d.normalizes == normalizes) return &d;
  return nullptr;
}

const DistanceDesc* GenericDistance(ElementType type) {
  return &kGeneric[static_cast<int>(type) - 1];
}

const DistanceDesc* OpclassDistance(Relation index, int procnum, const OpclassProcs* procs) {
  FmgrInfo* proc = index_getprocinfo(index, 1, procnum);
  const auto* entry = reinterpret_cast<const DistanceDesc*>(
      DatumGetPointer(FunctionCall1(proc, PointerGetDatum(procs))));
  if (entry == nullptr)
    elog(ERROR, "support function %d of index \"%s\" returned no distance", procnum,
         RelationGetRelationName(index));
  return entry;
}

}  // namespace pg
}  // namespace ragstore

using namespace ragstore;
using namespace ragstore::pg;

extern "C" {

// The operator classes' descriptor support functions (OpclassDistance), all
// (internal) -> internal returning a const DistanceDesc*.
//
// hnsw FUNCTION 3, one per element type (the function an operator class names cannot be changed
// without dropping the class and its indexes): the entry of the class's distance function and
// norm (the OpclassProcs argument), or the type's generic entry for a distance function the
// table does not know.
#define RS_TYPE_SUPPORT(name, type)                                                          \
  PG_FUNCTION_INFO_V1(name);                                                                 \
  Datum name(PG_FUNCTION_ARGS) {                                                             \
    const auto* procs = reinterpret_cast<const OpclassProcs*>(PG_GETARG_POINTER(0));         \
    const DistanceDesc* d =                                                                  \
        procs ? FindDistanceByFunction(type, procs->distance_fn, procs->has_norm) : nullptr; \
    PG_RETURN_POINTER(d ? d : GenericDistance(type));                                        \
  }
RS_TYPE_SUPPORT(hnsw_vector_support, ElementType::kVector)
RS_TYPE_SUPPORT(hnsw_halfvec_support, ElementType::kHalfvec)
RS_TYPE_SUPPORT(hnsw_sparsevec_support, ElementType::kSparsevec)
RS_TYPE_SUPPORT(hnsw_bit_support, ElementType::kBit)

// ivfflat FUNCTION 1, one per (element type, metric): its entry.
#define RS_ENTRY_SUPPORT(name, type, metric)                       \
  PG_FUNCTION_INFO_V1(name);                                       \
  Datum name(PG_FUNCTION_ARGS) {                                   \
    static const DistanceDesc* entry = FindDistance(type, metric); \
    PG_RETURN_POINTER(entry);                                      \
  }
RS_ENTRY_SUPPORT(ivfflat_vector_l2_support, ElementType::kVector, Metric::kL2)
RS_ENTRY_SUPPORT(ivfflat_vector_ip_support, ElementType::kVector, Metric::kInnerProduct)
RS_ENTRY_SUPPORT(ivfflat_vector_cosine_support, ElementType::kVector, Metric::kCosine)
RS_ENTRY_SUPPORT(ivfflat_halfvec_l2_support, ElementType::kHalfvec, Metric::kL2)
RS_ENTRY_SUPPORT(ivfflat_halfvec_ip_support, ElementType::kHalfvec, Metric::kInnerProduct)
RS_ENTRY_SUPPORT(ivfflat_halfvec_cosine_support, ElementType::kHalfvec, Metric::kCosine)
RS_ENTRY_SUPPORT(ivfflat_bit_hamming_support, ElementType::kBit, Metric::kHamming)

}  // extern "C"
