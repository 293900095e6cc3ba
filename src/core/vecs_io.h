// ragstore core: the TEXMEX vector file formats (.fvecs, .ivecs) used by ANN benchmarks and by
// the data in $RAGSTORE_DATA_DIR (see ../shared/data/README.md).
//
// .fvecs: for each vector, an int32 dimension d (little-endian), then d float32 values.
// .ivecs: for each row, an int32 count k, then k int32 values (ids, 0-based).
// Every row of a file must have the same d (or k). Shared by the benchmark driver (bench/) and
// the unit tests; the TAP tests have the Perl equivalent in test/perl/RagstoreTest.pm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ragstore {

// A dense row-major matrix of rows x dim float32 values (one vector per row).
struct FloatMatrix {
  size_t rows = 0;
  size_t dim = 0;
  std::vector<float> data;  // rows * dim values
  const float* Row(size_t i) const { return data.data() + i * dim; }
  float* Row(size_t i) { return data.data() + i * dim; }
};

// A dense row-major matrix of rows x k int32 values (ids of each query's neighbours).
struct IdMatrix {
  size_t rows = 0;
  size_t k = 0;
  std::vector<int32_t> data;  // rows * k values
  const int32_t* Row(size_t i) const { return data.data() + i * k; }
  int32_t* Row(size_t i) { return data.data() + i * k; }
};

// Reads at most max_rows vectors (0: all) from an .fvecs file.
// Throws Error(kDataException) when the file cannot be opened, is truncated, has a dimension
// outside 1..1,000,000 or rows of different dimensions; a file with no rows gives rows = 0.
FloatMatrix ReadFvecs(const std::string& path, size_t max_rows = 0);

// Reads at most max_rows rows (0: all) from an .ivecs file; the same errors as ReadFvecs
// (a count k of 0 is allowed only if every row has it).
IdMatrix ReadIvecs(const std::string& path, size_t max_rows = 0);

// Writes m as .ivecs (little-endian hosts only, as the readers). The file is written to path +
// ".tmp" and renamed, so a reader never sees half a file.
// Throws Error(kInternal) on an I/O error.
void WriteIvecs(const std::string& path, const IdMatrix& m);

}  // namespace ragstore
