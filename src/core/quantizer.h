// ragstore core: per-index vector quantizers shared by the hnsw and ivfflat access methods
// (reloption `quantizer`), and the lower bound of the exact distance used for exact re-ranking.
//
// A quantizer is plain data: its kind, the dimensions and a flat array of trained float
// parameters (no object with a destructor), so index code can keep it in palloc'd memory.
// Every function here is pure C++; FAISS-backed ones may throw faiss::FaissException or
// ragstore::Error (call them through GuardedCall); the distance kernels never throw or allocate.
//
// Kinds:
//   sq8     FAISS ScalarQuantizer QT_8bit: one byte per dimension, per-dimension range
//           [vmin_j, vmin_j + vdiff_j] trained by FAISS (RS_minmax: the sample's minimum and
//           maximum); value c decodes to vmin_j + (c + 0.5) / 255 * vdiff_j, values outside the
//           range clamp. Parameters: vmin (dims floats), then vdiff (dims floats), FAISS's
//           `trained` layout. Training, encoding and decoding call FAISS; the distance from a
//           float query to codes is our AVX2 or AVX-512 kernel (the level of core/distance.h)
//           (Debian's FAISS is built without its SIMD scalar-quantizer kernels), checked against
//           FAISS's decoding in the unit tests.
//   binary  1 bit per dimension: bit j is set when x_j > t_j, where the threshold t_j is the
//           sample's per-dimension mean. A set bit decodes to hi_j (the sample's mean of the
//           values above t_j), a clear one to lo_j (the mean of the values at or below it), so
//           decoding gives the centroid of each half-space per dimension. Parameters: t, lo, hi
//           (3 * dims floats). Distances are asymmetric: the float query against the decoded
//           code (not Hamming distance between two codes), through a per-query table of 256
//           partial sums per code byte. Bit j is bit (j % 8), least significant first, of byte
//           j / 8.
//
// Distances on codes (CodeDistances) are those to the decoded vector x^: squared L2
// ||q - x^||^2, or the negative inner product -<q, x^> (cosine: the caller passes L2-normalised
// vectors and uses the inner product).
//
// Exact re-ranking (ExactDistanceLowerBound): with e = ||x - x^|| stored per vector (the
// reconstruction error, computed at encoding), the triangle and Cauchy-Schwarz inequalities give
// lower bounds of the exact distance in the SQL operator's units:
//   L2 (<->)            ||q - x|| >= ||q - x^|| - e
//   inner product (<#>) -<q, x>  >= -<q, x^> - ||q|| e
//   cosine (<=>)        1 - <q, x> >= 1 - <q, x^> - ||q|| e   (q, x unit vectors, ||q|| in {0, 1})
// less a margin for float32 rounding in both computations (LowerBoundMargin), so that the bound
// never exceeds the value the SQL operator computes in float32.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/metric.h"

namespace ragstore {

enum class QuantizerKind : uint8_t { kNone = 0, kSq8 = 1, kBinary = 2 };

// Metrics (core/metric.h): the distance on codes computes Metric::kL2 (squared) or
// kInnerProduct (negated; cosine indexes encode unit vectors and use it too); a lower bound
// (LowerBoundMargin, ExactDistanceLowerBound) is for the SQL operator's kL2, kInnerProduct or
// kCosine. Any other metric is not quantized (the access methods check it first).

const char* QuantizerName(QuantizerKind kind);

// Bytes of one code of `dims` dimensions: sq8 dims, binary ceil(dims / 8); 0 for kNone.
size_t QuantizerCodeSize(QuantizerKind kind, size_t dims);
// Number of float parameters: sq8 2 * dims, binary 3 * dims; 0 for kNone.
size_t QuantizerParamCount(QuantizerKind kind, size_t dims);

// Trains on n sample vectors (x: n * dims floats, row-major); params: QuantizerParamCount floats,
// written. n may be 0 (an empty table): sq8 then takes the range [-1, 1] per dimension, binary
// threshold 0 with lo/hi -+1/sqrt(dims) (unit vectors). A dimension whose sample range is empty
// gets a tiny positive range (sq8) or lo = hi = t (binary), so encoding never divides by zero.
// Throws Error (kInvalidParameter) for kNone or dims == 0.
void TrainQuantizer(QuantizerKind kind, size_t dims, const float* x, size_t n, float* params);

// Encodes n vectors (n * dims floats) into n codes (n * QuantizerCodeSize bytes).
void EncodeVectors(QuantizerKind kind, size_t dims, const float* params, const float* x, size_t n,
                   uint8_t* codes);
// Decodes n codes into n * dims floats.
void DecodeVectors(QuantizerKind kind, size_t dims, const float* params, const uint8_t* codes,
                   size_t n, float* x);

// Per-vector facts stored beside a code for re-ranking: the reconstruction error ||x - x^||
// (rounded up) and the norm ||x||.
struct CodeAux {
  float error;
  float norm;
};

// Encodes n vectors as entries of `stride` bytes each: a CodeAux (unaligned, memcpy), then the
// code. stride >= sizeof(CodeAux) + QuantizerCodeSize. Uses FAISS for sq8 (EncodeVectors).
void EncodeEntries(QuantizerKind kind, size_t dims, const float* params, const float* x, size_t n,
                   uint8_t* entries, size_t stride);
inline const uint8_t* EntryCode(const uint8_t* entry) { return entry + sizeof(CodeAux); }

// Per-query state for CodeDistances: QueryStateFloats floats, filled by PrepareQuery from the
// float query q (dims floats). sq8: L2 2 * dims, inner product 3 * dims; binary:
// 256 * QuantizerCodeSize (the partial-sum table).
size_t QueryStateFloats(QuantizerKind kind, size_t dims, Metric metric);
void PrepareQuery(QuantizerKind kind, size_t dims, const float* params, Metric metric,
                  const float* q, float* state);

// out[i] = the distance from the prepared query to the decoded code of entry i (squared L2 or
// negative inner product), where code i starts at codes + i * stride. No allocation.
void CodeDistances(QuantizerKind kind, size_t dims, Metric metric, const float* state,
                   const uint8_t* codes, size_t n, size_t stride, float* out);

// The rounding margin of ExactDistanceLowerBound: float32 summation of n terms in sequence errs
// by at most n * 2^-24 of the sum of the terms' magnitudes (first order); the SQL operator and
// the code distance each sum `dims` terms, so the bound gives up
// 4 * dims * 2^-24 * (the magnitude of the distance's terms) + 1e-5 * (||q|| + ||x|| + e) + 1e-6
// (the last two for the rounding of the per-query state and tiny values).
double LowerBoundMargin(Metric metric, size_t dims, double code_distance, const CodeAux& aux,
                        double query_norm);

// A lower bound of the exact distance in the SQL operator's units (see the top of this file),
// from the code distance (squared L2 for kL2, negative inner product otherwise), the entry's
// CodeAux, the query's norm and the dimensions, less LowerBoundMargin. Never NaN: -infinity
// when the inputs give none.
double ExactDistanceLowerBound(Metric metric, size_t dims, float code_distance, const CodeAux& aux,
                               float query_norm);

// Serialised parameters (for index pages; the bytes may span several pages):
//   uint32 magic 'RSQZ', uint8 kind, 3 bytes zero, uint32 dims, uint32 parameter count,
//   then the float parameters (little-endian, as the machine stores them).
size_t SerializedQuantizerSize(QuantizerKind kind, size_t dims);
void SerializeQuantizer(QuantizerKind kind, size_t dims, const float* params, uint8_t* out);
// Checks and reads serialised parameters; *params points into `data` (not copied; may be
// unaligned: copy before use where alignment matters). Throws Error (kDataException) when the
// bytes are not a quantizer of a known kind with a consistent size.
void ParseQuantizer(const uint8_t* data, size_t len, QuantizerKind* kind, size_t* dims,
                    const uint8_t** params);

}  // namespace ragstore
