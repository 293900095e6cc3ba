// ragstore: exact re-ranking through the ORDER BY recheck (see rerank.h).
#include "pg/rerank.h"

#include <limits>

namespace ragstore {
namespace pg {

void InitOrderByValues(IndexScanDesc scan) {
  if (scan->numberOfOrderBys <= 0) return;
  scan->xs_orderbyvals = static_cast<Datum*>(palloc0(sizeof(Datum) * scan->numberOfOrderBys));
  scan->xs_orderbynulls = static_cast<bool*>(palloc(sizeof(bool) * scan->numberOfOrderBys));
  for (int i = 0; i < scan->numberOfOrderBys; i++) scan->xs_orderbynulls[i] = true;
}

void SetRerankedResult(IndexScanDesc scan, ItemPointer tid, RerankMode mode, double bound) {
  scan->xs_heaptid = *tid;
  scan->xs_recheck = false;
  scan->xs_recheckorderby = mode == RerankMode::kBound || mode == RerankMode::kRescore;
  if (mode == RerankMode::kOff || scan->xs_orderbyvals == nullptr) return;
  double value = bound;
  if (mode == RerankMode::kRescore) value = -std::numeric_limits<double>::infinity();
  if (mode == RerankMode::kTail) value = std::numeric_limits<double>::infinity();
  scan->xs_orderbyvals[0] = Float8GetDatum(value);
  scan->xs_orderbynulls[0] = false;
}

}  // namespace pg
}  // namespace ragstore
