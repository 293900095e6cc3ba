// ragstore core: names and stored-code checks of the metric and element type enums.
#include "core/metric.h"

namespace ragstore {

const char* MetricName(Metric metric) {
  switch (metric) {
    case Metric::kL2:
      return "l2";
    case Metric::kInnerProduct:
      return "ip";
    case Metric::kCosine:
      return "cosine";
    case Metric::kHamming:
      return "hamming";
    case Metric::kL1:
      return "l1";
    case Metric::kJaccard:
      return "jaccard";
  }
  return "?";
}

const char* ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kVector:
      return "vector";
    case ElementType::kHalfvec:
      return "halfvec";
    case ElementType::kBit:
      return "bit";
    case ElementType::kSparsevec:
      return "sparsevec";
  }
  return "?";
}

bool MetricFromCode(uint32_t code, Metric* out) {
  if (code < kMinMetricCode || code > kMaxMetricCode) return false;
  *out = static_cast<Metric>(code);
  return true;
}

bool ElementTypeFromCode(uint32_t code, ElementType* out) {
  if (code < kMinElementTypeCode || code > kMaxElementTypeCode) return false;
  *out = static_cast<ElementType>(code);
  return true;
}

}  // namespace ragstore
