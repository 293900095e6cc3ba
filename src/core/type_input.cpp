// ragstore core: input paths of the vector types (see type_input.h).
#include "core/type_input.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ragstore {

const char* InputErrorName(InputError e) {
  switch (e) {
    case InputError::kNone:
      return "none";
    case InputError::kSyntax:
      return "syntax";
    case InputError::kSyntaxStart:
      return "syntax_start";
    case InputError::kSyntaxJunk:
      return "syntax_junk";
    case InputError::kSyntaxEnd:
      return "syntax_end";
    case InputError::kOutOfRange:
      return "out_of_range";
    case InputError::kNaN:
      return "nan";
    case InputError::kInfinite:
      return "infinite";
    case InputError::kNoDimensions:
      return "no_dimensions";
    case InputError::kTooManyDimensions:
      return "too_many_dimensions";
    case InputError::kTypmodMismatch:
      return "typmod_mismatch";
    case InputError::kTooManyNonZeros:
      return "too_many_non_zeros";
    case InputError::kNegativeNnz:
      return "negative_nnz";
    case InputError::kMoreElementsThanDims:
      return "more_elements_than_dims";
    case InputError::kIndexOutOfBounds:
      return "index_out_of_bounds";
    case InputError::kIndexNotAscending:
      return "index_not_ascending";
    case InputError::kDuplicateIndex:
      return "duplicate_index";
    case InputError::kUnusedNotZero:
      return "unused_not_zero";
    case InputError::kZeroValue:
      return "zero_value";
    case InputError::kInsufficientData:
      return "insufficient_data";
  }
  return "unknown";
}

namespace {

InputStatus Fail(InputError e, int64_t a = 0, int64_t b = 0) {
  InputStatus s;
  s.error = e;
  s.a = a;
  s.b = b;
  return s;
}

InputStatus OutOfRangeToken(const char* lit, const char* begin, const char* end) {
  InputStatus s = Fail(InputError::kOutOfRange);
  s.token_begin = static_cast<size_t>(begin - lit);
  s.token_len = static_cast<size_t>(end - begin);
  return s;
}

InputStatus Element(InputError e, int64_t i) {
  InputStatus s = Fail(e);
  s.element = i;
  return s;
}

// pgvector's whitespace set (array_isspace's): space, \t, \n, \r, \v, \f.
inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

inline const char* SkipSpace(const char* p) {
  while (IsSpace(*p)) p++;
  return p;
}

// One dense element from text: strtof, then the element type's range and finiteness rules.
// Returns false with *st set on an error.
struct FloatElem {
  static bool Convert(float value, float* out) {
    *out = value;
    return true;
  }
  static bool IsNan(float v) { return std::isnan(v); }
  static bool IsInf(float v) { return std::isinf(v); }
};
struct HalfElem {
  // false when a finite value rounds to an infinite half
  static bool Convert(float value, Half* out) {
    *out = FloatToHalf(value);
    return !(HalfIsInf(*out) && !std::isinf(value));
  }
  static bool IsNan(Half v) { return HalfIsNan(v); }
  static bool IsInf(Half v) { return HalfIsInf(v); }
};

template <class E, typename T>
InputStatus ParseDense(const char* lit, int32_t typmod, T* out, int* dim_out) {
  int dim = 0;
  const char* p = SkipSpace(lit);
  if (*p != '[') return Fail(InputError::kSyntaxStart);
  p = SkipSpace(p + 1);
  if (*p == ']') return Fail(InputError::kNoDimensions);
  for (;;) {
    if (dim == kDenseMaxDim) return Fail(InputError::kTooManyDimensions, kDenseMaxDim);
    p = SkipSpace(p);
    if (*p == '\0') return Fail(InputError::kSyntax);
    char* end;
    errno = 0;
    float value = strtof(p, &end);
    if (end == p) return Fail(InputError::kSyntax);
    bool range_error = errno == ERANGE && std::isinf(value);
    T e;
    if (!E::Convert(value, &e) || range_error) return OutOfRangeToken(lit, p, end);
    if (E::IsNan(e)) return Fail(InputError::kNaN);
    if (E::IsInf(e)) return Fail(InputError::kInfinite);
    out[dim++] = e;
    p = SkipSpace(end);
    if (*p == ',') {
      p++;
    } else if (*p == ']') {
      p++;
      break;
    } else {
      return Fail(InputError::kSyntax);
    }
  }
  p = SkipSpace(p);
  if (*p != '\0') return Fail(InputError::kSyntaxJunk);
  if (typmod != -1 && typmod != dim) return Fail(InputError::kTypmodMismatch, typmod, dim);
  *dim_out = dim;
  return InputStatus();
}

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t Be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline void PutBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void PutBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline float FloatFromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline uint32_t BitsFromFloat(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

}  // namespace

InputStatus ParseVectorText(const char* lit, int32_t typmod, float* out, int* dim) {
  return ParseDense<FloatElem>(lit, typmod, out, dim);
}

InputStatus ParseHalfvecText(const char* lit, int32_t typmod, Half* out, int* dim) {
  return ParseDense<HalfElem>(lit, typmod, out, dim);
}

int64_t SparsevecTextCapacity(const char* lit) {
  int64_t n = 1;
  for (const char* c = lit; *c; c++) n += (*c == ',');
  return n;
}

InputStatus ParseSparsevecText(const char* lit, int32_t typmod, SparseElement* out,
                               int32_t* nnz_out, int32_t* dim_out) {
  int64_t capacity = SparsevecTextCapacity(lit);
  if (capacity > kSparseMaxNnz) return Fail(InputError::kTooManyNonZeros, kSparseMaxNnz);
  int32_t nnz = 0;
  const char* p = SkipSpace(lit);
  if (*p != '{') return Fail(InputError::kSyntaxStart);
  p = SkipSpace(p + 1);
  if (*p == '}') {
    p++;
  } else {
    for (;;) {
      // cannot happen (an element needs a comma before the next), kept as pgvector keeps it
      if (nnz == capacity) return Fail(InputError::kSyntax);
      p = SkipSpace(p);
      if (*p == '\0') return Fail(InputError::kSyntax);
      char* end;
      long index = strtol(p, &end, 10);
      if (end == p) return Fail(InputError::kSyntax);
      // kept in int range so that the bounds check reports it (pgvector's clamp)
      if (index > INT_MAX)
        index = INT_MAX;
      else if (index < INT_MIN + 1L)
        index = INT_MIN + 1L;
      p = SkipSpace(end);
      if (*p != ':') return Fail(InputError::kSyntax);
      p = SkipSpace(p + 1);
      errno = 0;
      float value = strtof(p, &end);
      if (end == p) return Fail(InputError::kSyntax);
      // as float4in: overflow, or a non-zero that underflows to zero
      if (errno == ERANGE && (value == 0.0f || std::isinf(value)))
        return OutOfRangeToken(lit, p, end);
      if (std::isnan(value)) return Fail(InputError::kNaN);
      if (std::isinf(value)) return Fail(InputError::kInfinite);
      if (value != 0.0f) {
        out[nnz].index = static_cast<int32_t>(index - 1);
        out[nnz].value = value;
        nnz++;
      }
      p = SkipSpace(end);
      if (*p == ',') {
        p++;
      } else if (*p == '}') {
        p++;
        break;
      } else {
        return Fail(InputError::kSyntax);
      }
    }
  }
  p = SkipSpace(p);
  if (*p != '/') return Fail(InputError::kSyntaxEnd);
  p = SkipSpace(p + 1);
  char* end;
  long dim = strtol(p, &end, 10);
  if (end == p) return Fail(InputError::kSyntax);
  if (dim > INT_MAX)
    dim = INT_MAX;
  else if (dim < INT_MIN)
    dim = INT_MIN;
  p = SkipSpace(end);
  if (*p != '\0') return Fail(InputError::kSyntaxJunk);
  if (dim < 1) return Fail(InputError::kNoDimensions);
  if (dim > kSparseMaxDim) return Fail(InputError::kTooManyDimensions, kSparseMaxDim);
  if (typmod != -1 && typmod != dim) return Fail(InputError::kTypmodMismatch, typmod, dim);
  std::sort(out, out + nnz,
            [](const SparseElement& x, const SparseElement& y) { return x.index < y.index; });
  for (int32_t i = 0; i < nnz; i++) {
    if (out[i].index < 0 || out[i].index >= dim) return Fail(InputError::kIndexOutOfBounds);
    if (i > 0 && out[i].index == out[i - 1].index) return Fail(InputError::kDuplicateIndex);
  }
  *nnz_out = nnz;
  *dim_out = static_cast<int32_t>(dim);
  return InputStatus();
}

// ---- binary

InputStatus DecodeDenseHeader(const uint8_t* data, size_t len, int32_t typmod, int* dim_out) {
  if (len < 4) return Fail(InputError::kInsufficientData);
  int16_t dim = static_cast<int16_t>(Be16(data));
  int16_t unused = static_cast<int16_t>(Be16(data + 2));
  if (dim < 1) return Fail(InputError::kNoDimensions);
  if (dim > kDenseMaxDim) return Fail(InputError::kTooManyDimensions, kDenseMaxDim);
  if (typmod != -1 && typmod != dim) return Fail(InputError::kTypmodMismatch, typmod, dim);
  if (unused != 0) return Fail(InputError::kUnusedNotZero, unused);
  *dim_out = dim;
  return InputStatus();
}

InputStatus DecodeDenseBody(const uint8_t* data, size_t len, DenseKind kind, int dim, void* out,
                            size_t* consumed) {
  size_t size = DenseElementSize(kind);
  size_t pos = 0;
  for (int i = 0; i < dim; i++, pos += size) {
    *consumed = pos;
    if (len - pos < size) return Fail(InputError::kInsufficientData);
    if (kind == DenseKind::kVector) {
      float v = FloatFromBits(Be32(data + pos));
      static_cast<float*>(out)[i] = v;
      if (std::isnan(v)) return Element(InputError::kNaN, i);
      if (std::isinf(v)) return Element(InputError::kInfinite, i);
    } else {
      Half h = Be16(data + pos);
      static_cast<Half*>(out)[i] = h;
      if (HalfIsNan(h)) return Element(InputError::kNaN, i);
      if (HalfIsInf(h)) return Element(InputError::kInfinite, i);
    }
  }
  *consumed = pos;
  return InputStatus();
}

size_t EncodeDense(DenseKind kind, const void* values, int dim, uint8_t* out) {
  PutBe16(out, static_cast<uint16_t>(dim));
  PutBe16(out + 2, 0);
  size_t pos = 4;
  for (int i = 0; i < dim; i++) {
    if (kind == DenseKind::kVector) {
      PutBe32(out + pos, BitsFromFloat(static_cast<const float*>(values)[i]));
      pos += 4;
    } else {
      PutBe16(out + pos, static_cast<const Half*>(values)[i]);
      pos += 2;
    }
  }
  return pos;
}

InputStatus DecodeSparseHeader(const uint8_t* data, size_t len, int32_t typmod, int32_t* dim_out,
                               int32_t* nnz_out) {
  if (len < 12) return Fail(InputError::kInsufficientData);
  int32_t dim = static_cast<int32_t>(Be32(data));
  int32_t nnz = static_cast<int32_t>(Be32(data + 4));
  int32_t unused = static_cast<int32_t>(Be32(data + 8));
  if (dim < 1) return Fail(InputError::kNoDimensions);
  if (dim > kSparseMaxDim) return Fail(InputError::kTooManyDimensions, kSparseMaxDim);
  if (nnz < 0) return Fail(InputError::kNegativeNnz);
  if (nnz > kSparseMaxNnz) return Fail(InputError::kTooManyNonZeros, kSparseMaxNnz);
  if (nnz > dim) return Fail(InputError::kMoreElementsThanDims);
  if (typmod != -1 && typmod != dim) return Fail(InputError::kTypmodMismatch, typmod, dim);
  if (unused != 0) return Fail(InputError::kUnusedNotZero, unused);
  *dim_out = dim;
  *nnz_out = nnz;
  return InputStatus();
}

InputStatus DecodeSparseBody(const uint8_t* data, size_t len, int32_t dim, int32_t nnz,
                             int32_t* indices, float* values, size_t* consumed) {
  size_t pos = 0;
  for (int32_t i = 0; i < nnz; i++, pos += 4) {
    *consumed = pos;
    if (len - pos < 4) return Fail(InputError::kInsufficientData);
    int32_t index = static_cast<int32_t>(Be32(data + pos));
    indices[i] = index;
    if (index < 0 || index >= dim) return Fail(InputError::kIndexOutOfBounds);
    if (i > 0 && index < indices[i - 1]) return Fail(InputError::kIndexNotAscending);
    if (i > 0 && index == indices[i - 1]) return Fail(InputError::kDuplicateIndex);
  }
  for (int32_t i = 0; i < nnz; i++, pos += 4) {
    *consumed = pos;
    if (len - pos < 4) return Fail(InputError::kInsufficientData);
    float v = FloatFromBits(Be32(data + pos));
    values[i] = v;
    if (std::isnan(v)) return Element(InputError::kNaN, i);
    if (std::isinf(v)) return Element(InputError::kInfinite, i);
    if (v == 0.0f) return Element(InputError::kZeroValue, i);
  }
  *consumed = pos;
  return InputStatus();
}

size_t EncodeSparse(int32_t dim, int32_t nnz, const int32_t* indices, const float* values,
                    uint8_t* out) {
  PutBe32(out, static_cast<uint32_t>(dim));
  PutBe32(out + 4, static_cast<uint32_t>(nnz));
  PutBe32(out + 8, 0);
  size_t pos = 12;
  for (int32_t i = 0; i < nnz; i++, pos += 4) PutBe32(out + pos, static_cast<uint32_t>(indices[i]));
  for (int32_t i = 0; i < nnz; i++, pos += 4) PutBe32(out + pos, BitsFromFloat(values[i]));
  return pos;
}

// ---- arrays

InputStatus CheckArrayDims(int64_t n, int64_t max_dim, int32_t typmod) {
  if (n < 1) return Fail(InputError::kNoDimensions);
  if (n > max_dim) return Fail(InputError::kTooManyDimensions, max_dim);
  if (typmod != -1 && typmod != n) return Fail(InputError::kTypmodMismatch, typmod, n);
  return InputStatus();
}

InputStatus FloatsToHalvesChecked(const float* in, Half* out, int n) {
  FloatsToHalves(in, out, static_cast<size_t>(n));
  for (int i = 0; i < n; i++)
    if (HalfIsInf(out[i]) && !std::isinf(in[i])) return Element(InputError::kOutOfRange, i);
  return InputStatus();
}

InputStatus CheckFiniteFloats(const float* in, int n) {
  for (int i = 0; i < n; i++) {
    if (std::isnan(in[i])) return Element(InputError::kNaN, i);
    if (std::isinf(in[i])) return Element(InputError::kInfinite, i);
  }
  return InputStatus();
}

InputStatus CheckFiniteHalves(const Half* in, int n) {
  for (int i = 0; i < n; i++) {
    if (HalfIsNan(in[i])) return Element(InputError::kNaN, i);
    if (HalfIsInf(in[i])) return Element(InputError::kInfinite, i);
  }
  return InputStatus();
}

}  // namespace ragstore
