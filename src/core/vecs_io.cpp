// ragstore core: .fvecs / .ivecs readers and writers (see vecs_io.h).
#include "core/vecs_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace ragstore {
namespace {

static_assert(sizeof(float) == 4 && sizeof(int32_t) == 4, "TEXMEX formats are 32-bit");

constexpr int32_t kMaxFileDim = 1000000;

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) fclose(f);
  }
};
using File = std::unique_ptr<FILE, FileCloser>;

// Reads rows of (int32 count, count 4-byte values) into out; returns (rows, width).
template <typename T>
void ReadVecs(const std::string& path, size_t max_rows, bool allow_zero_width, size_t* rows,
              size_t* width, std::vector<T>* out) {
  File f(fopen(path.c_str(), "rb"));
  if (!f) throw Error(ErrorKind::kDataException, "cannot open " + path + ": " + strerror(errno));
  *rows = 0;
  *width = 0;
  out->clear();
  for (;;) {
    if (max_rows != 0 && *rows == max_rows) break;
    int32_t d;
    size_t got = fread(&d, 1, sizeof d, f.get());
    if (got == 0 && feof(f.get())) break;
    if (got != sizeof d) throw Error(ErrorKind::kDataException, path + ": truncated row header");
    if (d < (allow_zero_width ? 0 : 1) || d > kMaxFileDim)
      throw Error(ErrorKind::kDataException, path + ": row " + std::to_string(*rows) +
                                                 " has invalid width " + std::to_string(d));
    if (*rows == 0) {
      *width = size_t(d);
    } else if (size_t(d) != *width) {
      throw Error(ErrorKind::kDataException, path + ": row " + std::to_string(*rows) +
                                                 " has width " + std::to_string(d) + ", expected " +
                                                 std::to_string(*width));
    }
    size_t old = out->size();
    out->resize(old + *width);
    if (*width != 0 && fread(out->data() + old, sizeof(T), *width, f.get()) != *width)
      throw Error(ErrorKind::kDataException, path + ": truncated in row " + std::to_string(*rows));
    ++*rows;
  }
  if (ferror(f.get())) throw Error(ErrorKind::kDataException, path + ": read error");
}

template <typename T>
void WriteVecs(const std::string& path, size_t rows, size_t width, const T* data) {
  std::string tmp = path + ".tmp";
  File f(fopen(tmp.c_str(), "wb"));
  if (!f) throw Error(ErrorKind::kInternal, "cannot create " + tmp + ": " + strerror(errno));
  int32_t d = int32_t(width);
  for (size_t i = 0; i < rows; i++) {
    if (fwrite(&d, sizeof d, 1, f.get()) != 1 ||
        (width != 0 && fwrite(data + i * width, sizeof(T), width, f.get()) != width))
      throw Error(ErrorKind::kInternal, "cannot write " + tmp + ": " + strerror(errno));
  }
  if (fclose(f.release()) != 0)
    throw Error(ErrorKind::kInternal, "cannot write " + tmp + ": " + strerror(errno));
  if (rename(tmp.c_str(), path.c_str()) != 0)
    throw Error(ErrorKind::kInternal, "cannot rename " + tmp + ": " + strerror(errno));
}

}  // namespace

FloatMatrix ReadFvecs(const std::string& path, size_t max_rows) {
  FloatMatrix m;
  ReadVecs(path, max_rows, false, &m.rows, &m.dim, &m.data);
  return m;
}

IdMatrix ReadIvecs(const std::string& path, size_t max_rows) {
  IdMatrix m;
  ReadVecs(path, max_rows, true, &m.rows, &m.k, &m.data);
  return m;
}

void WriteIvecs(const std::string& path, const IdMatrix& m) {
  WriteVecs(path, m.rows, m.k, m.data.data());
}

}  // namespace ragstore
