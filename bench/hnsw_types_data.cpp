// hnsw_types_data: deterministic synthetic rows for the hnsw build benchmarks of the bit and
// sparsevec operator classes (bench/README.md, "hnsw builds of bit and sparsevec columns"),
// written as COPY text on stdout, one row per line: id <TAB> bit string <TAB> sparsevec text.
//
//   hnsw_types_data ROWS DIM NNZ [SEED]     e.g. hnsw_types_data 100000 1024 64
//
// Every row is a row of the Gaussian mixture of src/core/synthetic.h (ROWS/100 centres in DIM
// dimensions, centre sigma 4, noise sigma 1; SEED, default 1), turned into
//   bit(DIM)        its binary quantisation (bit j set when coordinate j > 0), as
//                   binary_quantize(vector) gives it;
//   sparsevec(DIM)  its NNZ coordinates of largest magnitude, with their absolute values
//                   (positive weights, as term-weight embeddings have).
// Rows of one cluster share most bits and most non-zero positions, so both columns have the
// cluster structure ANN indexes are built for. The data is synthetic: say so with any figure.
// Exit status 2 on bad arguments.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "core/synthetic.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s ROWS DIM NNZ [SEED]\n", argv[0]);
    return 2;
  }
  long rows = std::atol(argv[1]);
  long dim = std::atol(argv[2]);
  long nnz = std::atol(argv[3]);
  unsigned long long seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;
  if (rows < 1 || dim < 1 || nnz < 1 || nnz > dim) {
    std::fprintf(stderr, "ROWS, DIM and NNZ must be positive, NNZ <= DIM\n");
    return 2;
  }
  using namespace ragstore;
  FloatMatrix centres = MakeMixtureCentres(DefaultMixtureCentres(rows), dim, 4.0, seed);
  FloatMatrix x = SampleMixturePoints(centres, rows, 1.0, seed + 1);
  std::vector<int> order(dim);
  std::string line;
  for (long i = 0; i < rows; i++) {
    const float* r = x.Row(i);
    line = std::to_string(i + 1);
    line += '\t';
    for (long j = 0; j < dim; j++) line += r[j] > 0 ? '1' : '0';
    line += "\t{";
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + nnz, order.end(),
                      [r](int a, int b) { return std::fabs(r[a]) > std::fabs(r[b]); });
    std::sort(order.begin(), order.begin() + nnz);
    char buf[48];
    for (long k = 0; k < nnz; k++) {
      std::snprintf(buf, sizeof buf, "%s%d:%.4g", k ? "," : "", order[k] + 1,
                    std::fabs(r[order[k]]));
      line += buf;
    }
    std::snprintf(buf, sizeof buf, "}/%ld\n", dim);
    line += buf;
    std::fputs(line.c_str(), stdout);
  }
  return 0;
}
