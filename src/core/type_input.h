// ragstore core: every input path of the vector types that takes bytes from a client, without
// PostgreSQL: the text forms of vector, halfvec and sparsevec, their binary (send/recv) forms,
// and the checks of the array casts. The SQL functions in src/types call these and turn a
// failed InputStatus into the PostgreSQL error (types/input_error.h); the fuzzers in test/fuzz
// call them directly. The rules and their order are pgvector 0.8's (vector.c, halfvec.c,
// sparsevec.c): the first rule an input breaks decides the error.
//
// Nothing here allocates or throws; callers pass output buffers of the documented capacity.
// Text parsing uses strtof / strtol, which read the C locale's decimal point (PostgreSQL sets
// LC_NUMERIC to C in every backend).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/half.h"

namespace ragstore {

constexpr int kDenseMaxDim = 16000;            // vector and halfvec
constexpr int32_t kSparseMaxDim = 1000000000;  // sparsevec dimensions
constexpr int32_t kSparseMaxNnz = 16000;       // sparsevec non-zero elements

// Why an input was rejected. Each kind is one PostgreSQL error (SQLSTATE and message, see
// types/input_error.h); `a` and `b` of InputStatus carry its numbers.
enum class InputError : uint8_t {
  kNone = 0,
  kSyntax,                // 22P02 invalid input syntax for type T: "<input>"
  kSyntaxStart,           // 22P02, detail: Vector contents must start with "[" ("{")
  kSyntaxJunk,            // 22P02, detail: Junk after closing right brace. (sparse: closing.)
  kSyntaxEnd,             // 22P02, detail: Unexpected end of input. (sparse: no "/dim")
  kOutOfRange,            // 22003 "<token>" is out of range for type T
  kNaN,                   // 22000 NaN not allowed in T
  kInfinite,              // 22000 infinite value not allowed in T
  kNoDimensions,          // 22000 T must have at least 1 dimension
  kTooManyDimensions,     // 54000 T cannot have more than <a> dimensions
  kTypmodMismatch,        // 22000 expected <a> dimensions, not <b>
  kTooManyNonZeros,       // 54000 sparsevec cannot have more than <a> non-zero elements
  kNegativeNnz,           // 22000 sparsevec cannot have negative number of elements
  kMoreElementsThanDims,  // 54000 sparsevec cannot have more elements than dimensions
  kIndexOutOfBounds,      // 22000 sparsevec index out of bounds
  kIndexNotAscending,     // 22000 sparsevec indices must be in ascending order
  kDuplicateIndex,        // 22000 sparsevec indices must not contain duplicates
  kUnusedNotZero,         // 22000 expected unused to be 0, not <a>
  kZeroValue,             // 22000 binary representation of sparsevec cannot contain zero values
  kInsufficientData,      // 08P01 insufficient data left in message
};
constexpr int kInputErrorKinds = static_cast<int>(InputError::kInsufficientData) + 1;

// The name of a kind ("syntax", "out_of_range", ...), for tests and fuzzers.
const char* InputErrorName(InputError e);

struct InputStatus {
  InputError error = InputError::kNone;
  int64_t a = 0, b = 0;    // the numbers of the message (see InputError)
  size_t token_begin = 0;  // kOutOfRange from text: the number's bytes in the input
  size_t token_len = 0;
  int64_t element = -1;  // kOutOfRange / kNaN / kInfinite from arrays: which element
  bool ok() const { return error == InputError::kNone; }
};

// ---- text

// '[1,2,3]' -> dim float32 values in out (capacity kDenseMaxDim). Whitespace (space, \t, \n,
// \r, \v, \f) is allowed around brackets, commas and numbers; each number is strtof's. typmod
// -1 accepts any dimension count. Errors in pgvector's order: kSyntaxStart, kNoDimensions
// ('[]'), kTooManyDimensions (a = 16000), kSyntax, kOutOfRange (beyond float4), kNaN,
// kInfinite, kSyntaxJunk, kTypmodMismatch (a = typmod, b = dim).
InputStatus ParseVectorText(const char* lit, int32_t typmod, float* out, int* dim);
// The same for halfvec: each number read as float32, then rounded to the nearest half (ties to
// even); a finite value that rounds beyond 65504 is kOutOfRange.
InputStatus ParseHalfvecText(const char* lit, int32_t typmod, Half* out, int* dim);

struct SparseElement {
  int32_t index;  // 0-based
  float value;    // never 0
};

// How many elements a sparsevec text can hold at most (commas + 1, pgvector's bound); the
// capacity of ParseSparsevecText's buffer is min(this, kSparseMaxNnz).
int64_t SparsevecTextCapacity(const char* lit);

// '{1:1.5,3:2}/5' -> the non-zero elements sorted by index (0-based) in out (capacity
// min(SparsevecTextCapacity(lit), kSparseMaxNnz)), their count in *nnz, the dimensions in
// *dim. Indices may come in any order; zero values are dropped. Errors in pgvector's order:
// kTooManyNonZeros (more than 16000 elements written, zeros included), kSyntaxStart, kSyntax,
// kOutOfRange (beyond float4, or a non-zero that underflows to 0), kNaN, kInfinite,
// kSyntaxEnd (no '/'), kSyntaxJunk, kNoDimensions, kTooManyDimensions (a = 1e9),
// kTypmodMismatch, kIndexOutOfBounds, kDuplicateIndex.
InputStatus ParseSparsevecText(const char* lit, int32_t typmod, SparseElement* out, int32_t* nnz,
                               int32_t* dim);

// ---- binary (network byte order; a message may hold more bytes after the value)

enum class DenseKind : uint8_t { kVector, kHalfvec };

// Bytes per element of a dense kind (4 or 2).
inline size_t DenseElementSize(DenseKind kind) { return kind == DenseKind::kVector ? 4 : 2; }

// The header: int16 dim, int16 unused. Errors: kInsufficientData (fewer than 4 bytes),
// kNoDimensions, kTooManyDimensions, kTypmodMismatch, kUnusedNotZero (a = unused). On success
// *dim is set; the elements start at byte 4.
InputStatus DecodeDenseHeader(const uint8_t* data, size_t len, int32_t typmod, int* dim);
// dim elements from data (the bytes after the header) into out (float32 for vector, Half for
// halfvec). Errors: kInsufficientData, kNaN, kInfinite (the first element that breaks one, in
// order; as pgvector, a NaN before the end of a short message is reported as NaN).
// *consumed gets the bytes read (dim * element size on success).
InputStatus DecodeDenseBody(const uint8_t* data, size_t len, DenseKind kind, int dim, void* out,
                            size_t* consumed);
// The binary form of a dense value (4 + dim * element size bytes into out).
size_t EncodeDense(DenseKind kind, const void* values, int dim, uint8_t* out);

// The sparsevec header: int32 dim, int32 nnz, int32 unused. Errors: kInsufficientData,
// kNoDimensions, kTooManyDimensions, kNegativeNnz, kTooManyNonZeros, kMoreElementsThanDims,
// kTypmodMismatch, kUnusedNotZero. The body starts at byte 12.
InputStatus DecodeSparseHeader(const uint8_t* data, size_t len, int32_t typmod, int32_t* dim,
                               int32_t* nnz);
// nnz int32 indices, then nnz float32 values. Errors: kInsufficientData, kIndexOutOfBounds,
// kIndexNotAscending, kDuplicateIndex (indices first, each as read), then kNaN, kInfinite,
// kZeroValue.
InputStatus DecodeSparseBody(const uint8_t* data, size_t len, int32_t dim, int32_t nnz,
                             int32_t* indices, float* values, size_t* consumed);
size_t EncodeSparse(int32_t dim, int32_t nnz, const int32_t* indices, const float* values,
                    uint8_t* out);

// ---- the array casts (the elements already converted to float32 by the caller)

// n elements for a type with max_dim dimensions at most: kNoDimensions, kTooManyDimensions,
// kTypmodMismatch.
InputStatus CheckArrayDims(int64_t n, int64_t max_dim, int32_t typmod);
// Every float rounded to a half; a finite float that becomes infinite is kOutOfRange with
// element = its position (the caller prints the float). NaN and infinities pass (checked next).
InputStatus FloatsToHalvesChecked(const float* in, Half* out, int n);
// The first NaN or infinite element: kNaN / kInfinite with element = its position.
InputStatus CheckFiniteFloats(const float* in, int n);
InputStatus CheckFiniteHalves(const Half* in, int n);

}  // namespace ragstore
