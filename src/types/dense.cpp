// ragstore: the non-template parts of the dense vector machinery (see dense.h).
#include "types/dense.h"

namespace ragstore {

void CheckExpectedDims(int32 typmod, int dim) {
  if (typmod != -1 && typmod != dim)
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("expected %d dimensions, not %d", typmod, dim)));
}

}  // namespace ragstore
