// Unit tests of core/metric.h: the numeric codes of the metrics and element types are stored in
// ivfflat meta pages (IvfMetaData.kind / .metric), so an index built by an earlier ragstore must
// read back as the same metric and type. These pin the codes and the checked conversion.
#include "core/metric.h"

#include <gtest/gtest.h>

#include <string>

namespace ragstore {
namespace {

TEST(MetricTest, StoredCodesNeverChange) {
  // The codes ivfflat has written since its first on-disk version (kind 1..3, metric 1..4).
  EXPECT_EQ(static_cast<int>(Metric::kL2), 1);
  EXPECT_EQ(static_cast<int>(Metric::kInnerProduct), 2);
  EXPECT_EQ(static_cast<int>(Metric::kCosine), 3);
  EXPECT_EQ(static_cast<int>(Metric::kHamming), 4);
  EXPECT_EQ(static_cast<int>(Metric::kL1), 5);
  EXPECT_EQ(static_cast<int>(Metric::kJaccard), 6);
  EXPECT_EQ(static_cast<int>(ElementType::kVector), 1);
  EXPECT_EQ(static_cast<int>(ElementType::kHalfvec), 2);
  EXPECT_EQ(static_cast<int>(ElementType::kBit), 3);
  EXPECT_EQ(static_cast<int>(ElementType::kSparsevec), 4);
}

TEST(MetricTest, CodesRoundTripAndNamesMatchOperatorClasses) {
  const char* metric_names[] = {"l2", "ip", "cosine", "hamming", "l1", "jaccard"};
  for (int code = kMinMetricCode; code <= kMaxMetricCode; code++) {
    Metric m = Metric::kJaccard;
    ASSERT_TRUE(MetricFromCode(static_cast<uint32_t>(code), &m)) << code;
    EXPECT_EQ(static_cast<int>(m), code);
    EXPECT_EQ(std::string(MetricName(m)), metric_names[code - kMinMetricCode]);
  }
  const char* type_names[] = {"vector", "halfvec", "bit", "sparsevec"};
  for (int code = kMinElementTypeCode; code <= kMaxElementTypeCode; code++) {
    ElementType t = ElementType::kSparsevec;
    ASSERT_TRUE(ElementTypeFromCode(static_cast<uint32_t>(code), &t)) << code;
    EXPECT_EQ(static_cast<int>(t), code);
    EXPECT_EQ(std::string(ElementTypeName(t)), type_names[code - kMinElementTypeCode]);
  }
}

TEST(MetricTest, CodesOutsideTheEnumsAreRejected) {
  // A damaged meta page must not turn into an enum value no switch handles.
  for (uint32_t code : {0u, 7u, 255u, 256u, 65535u, 0xFFFFFFFFu}) {
    Metric m = Metric::kCosine;
    EXPECT_FALSE(MetricFromCode(code, &m)) << code;
    EXPECT_EQ(m, Metric::kCosine) << "left untouched";
  }
  for (uint32_t code : {0u, 5u, 65535u}) {
    ElementType t = ElementType::kBit;
    EXPECT_FALSE(ElementTypeFromCode(code, &t)) << code;
    EXPECT_EQ(t, ElementType::kBit);
  }
  EXPECT_STREQ(MetricName(static_cast<Metric>(0)), "?");
  EXPECT_STREQ(ElementTypeName(static_cast<ElementType>(9)), "?");
}

}  // namespace
}  // namespace ragstore
