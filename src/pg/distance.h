// ragstore: the descriptor table of distances, one entry per (element type, metric), and one
// descriptor per element type, shared by hnsw, ivfflat and their scans. Both access methods get
// their operator class's entry from the same kind of support function (OpclassDistance): a C
// function (internal) -> internal returning a `const DistanceDesc*`.
//
// Adding a distance to an existing type: the kernel in src/core (distance.h, half.h, bits.h,
// sparse.h), one entry in kDistances (distance.cpp), one operator class per access method
// (src/sql/60_hnsw.sql, 70_ivfflat.sql); see CONTRIBUTING.md.
#pragma once

#include "core/metric.h"
#include "core/sparse.h"

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/relcache.h"
}

namespace ragstore {
namespace pg {

// How a type's values are laid out for the in-memory hnsw builder and ivfflat's elements:
// dense floats (to_float / from_float), packed bits read in place (bits_at), or sparse
// index/value lists read in place (sparse_view).
enum class ElementLayout { kDenseFloat = 0, kBits = 1, kSparse = 2 };

// A distance between two values given as pointers to uncompressed varlenas of the same type and
// dimensions. Smaller is closer (inner product is negated, as the SQL support functions).
using StoredKernel = float (*)(const char* a, const char* b);

// The same distance from one query to n rows, on ivfflat's working form (ElementTypeDesc, "the
// working form"): out[i] = d(query, row i) for i < n, the rows contiguous. A dense type's rows are
// dims float32 each; bit's rows are the dims bits packed, (dims + 7) / 8 bytes each. Smaller is
// closer. Called once per page or centroid array, so the choice of kernel is made once per batch.
using BatchKernel = void (*)(const char* query, const char* rows, size_t n, int dims, float* out);

// One element type (vector, halfvec, sparsevec, bit).
struct ElementTypeDesc {
  ElementType type;
  const char* name;
  int hnsw_max_dims;                      // hnsw's (pgvector's) limit, of limit_what
  int ivfflat_max_dims;                   // ivfflat's limit; 0: not indexed by ivfflat
  const char* limit_what;                 // "dimensions" or "non-zero elements"
  bool dims_from_typmod;                  // an index needs the column's declared dimensions
  int (*dims)(const char* value);         // dimensions of a value
  int (*limit_count)(const char* value);  // what the limits count (dims, or nnz)
  const char* dims_error;                 // format (index dims, query dims) of a mismatch
  // palloc'd unit-norm copy of value, or nullptr when its norm is zero (cosine); nullptr for a
  // type without cosine (bit).
  char* (*normalize)(const char* value);
  ElementLayout layout;
  // kDenseFloat: writes the dims floats of value / the varlena size / builds a value.
  void (*to_float)(const char* value, float* out);
  Size (*from_float_size)(int dims);
  void (*from_float)(const float* x, int dims, char* out);
  // kBits: offset of the packed bits inside a value and their byte count.
  void (*bits_at)(const char* value, Size* offset, Size* nbytes);
  // kSparse: the index/value lists of a value (pointers into it).
  SparseView (*sparse_view)(const char* value);
  // ivfflat's stored element: the value's array without its header (dense: the type's numbers,
  // bit: the packed bits), element_size(dims) bytes. Its working form, what the batch kernels
  // read, is dims float32 for a dense type and the element itself for bit.
  int (*element_size)(int dims);
  // ivfflat: the stored element of dims float32 values (vector copies them, halfvec rounds them
  // to halves, bit sets the bits whose value is > 0.5: a k-means centroid of 0/1 samples).
  void (*element_from_floats)(const float* x, int dims, char* out);
  // ivfflat: `count` stored numbers (n elements of dims: count = n * dims) as float32 for the
  // batch kernels, or nullptr when the stored element is already the working form (vector, bit).
  void (*elements_to_floats)(const char* elements, size_t count, float* out);
};

// One (element type, metric): an operator class of each access method that takes it.
struct DistanceDesc {
  ElementType type;
  Metric metric;
  const char* opclass;       // operator class name (both access methods), e.g. "vector_l2_ops"
  const char* sql_operator;  // "<->", "<#>", "<=>", "<+>", "<~>", "<%>"
  // The C entry point of the SQL function hnsw's FUNCTION 1 names (the index's order): how a
  // type-level support function finds the entry (FindDistanceByFunction).
  PGFunction distance_fn;
  // The index's order on stored (normalised, for cosine) values: squared L2, negative inner
  // product, L1, Hamming, Jaccard. nullptr only in the generic entries (GenericDistance).
  StoredKernel kernel;
  // The kernel over a batch of rows in ivfflat's working form, or nullptr when ivfflat does not
  // take the distance (ivfflat == false).
  BatchKernel batch;
  bool normalizes;      // cosine: values are normalised first, zero vectors not indexed
  Metric build_metric;  // what the kernel computes (cosine: kInnerProduct on unit vectors): the
                        // in-memory builder's space, k-means, the quantizers' code distance
  bool hnsw;            // hnsw has an operator class for it
  bool ivfflat;         // ivfflat has an operator class for it
  bool quantizable;     // the quantizer option (sq8, binary) applies
  const ElementTypeDesc* element;
};

const ElementTypeDesc& ElementDesc(ElementType type);
// The whole table (*count entries), for its self-check (ragstore.debug_check_distances).
const DistanceDesc* DistanceTable(int* count);
// The entry of (type, metric), or nullptr when ragstore has no such distance.
const DistanceDesc* FindDistance(ElementType type, Metric metric);
// The entry of `type` whose distance_fn is fn and that normalises or not (cosine and inner
// product order by the same function), or nullptr.
const DistanceDesc* FindDistanceByFunction(ElementType type, PGFunction fn, bool normalizes);
// The entry a type-level support function returns for a distance function that is not in the
// table (an operator class of the user's): kernel == nullptr, so the access method calls the
// class's distance function through fmgr; metric and build_metric are meaningless then.
const DistanceDesc* GenericDistance(ElementType type);

// The operator-class protocol shared by hnsw (FUNCTION 3) and ivfflat (FUNCTION 1): the support
// function is called with a pointer to the class's other support functions (an entry per
// (type, metric) ignores it; a type-level one, hnsw's, finds its entry by them) and returns
// the class's entry. Errors: XX000 when the function returns nothing.
struct OpclassProcs {
  PGFunction distance_fn;  // entry point of the class's distance function, or nullptr
  bool has_norm;           // the class has a norm function (cosine: values are normalised)
};
const DistanceDesc* OpclassDistance(Relation index, int procnum, const OpclassProcs* procs);

}  // namespace pg
}  // namespace ragstore
