// ragstore core: the one list of distance metrics and element types, shared by the kernels, the
// in-memory hnsw builder, the quantizers, exact ground truth and both index access methods. The
// per-(element type, metric) facts (kernel, normalisation, operator class, which access methods
// and quantizers take it) are the descriptor table of src/pg/distance.h.
//
// The numeric values are stored on disk: an ivfflat meta page holds the element type and the
// metric of its operator class (src/ivf/ivf_page.h, IvfMetaData.kind / .metric) with these
// values, so they never change; a new metric or type takes the next free value.
#pragma once

#include <cstdint>

namespace ragstore {

// Distances as the SQL operators compute them; the kernels return "smaller is closer" (inner
// product negated, cosine as 1 - cos, or as negated inner product on unit vectors).
enum class Metric : uint8_t {
  kL2 = 1,            // <->  (kernels: squared L2, the SQL operator's square root is monotone)
  kInnerProduct = 2,  // <#>  negative inner product
  kCosine = 3,        // <=>  1 - cos(a, b)
  kHamming = 4,       // <~>  bits that differ
  kL1 = 5,            // <+>  taxicab distance
  kJaccard = 6,       // <%>  1 - |a AND b| / |a OR b|
};
constexpr int kMinMetricCode = 1, kMaxMetricCode = 6;

// The element types of the indexed column.
enum class ElementType : uint8_t {
  kVector = 1,     // float4 array
  kHalfvec = 2,    // IEEE binary16 array
  kBit = 3,        // packed bits (PostgreSQL's bit(n))
  kSparsevec = 4,  // sorted (index, float4) pairs
};
constexpr int kMinElementTypeCode = 1, kMaxElementTypeCode = 4;

// Lower-case names as in operator class names ("l2", "ip", "cosine", "hamming", "l1",
// "jaccard"; "vector", "halfvec", "bit", "sparsevec"); "?" for a value outside the enum.
const char* MetricName(Metric metric);
const char* ElementTypeName(ElementType type);

// A stored code (e.g. an ivfflat meta page field) read back as the enum: false when the code is
// not one of the enum's values (a damaged page), *out untouched then.
bool MetricFromCode(uint32_t code, Metric* out);
bool ElementTypeFromCode(uint32_t code, ElementType* out);

}  // namespace ragstore
