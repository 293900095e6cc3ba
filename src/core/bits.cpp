// ragstore core: popcount kernels (see bits.h).
#include "core/bits.h"

#include <immintrin.h>

#include "core/simd.h"

#include <cstring>

namespace ragstore {
namespace {

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// ---- portable: SWAR popcount ----

inline uint64_t PopcountSwar(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (x * 0x0101010101010101ULL) >> 56;
}

uint64_t HammingPortable(const uint8_t* a, const uint8_t* b, size_t n) {
  uint64_t count = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) count += PopcountSwar(Load64(a + i) ^ Load64(b + i));
  for (; i < n; i++) count += PopcountSwar(uint64_t(a[i] ^ b[i]));
  return count;
}

void JaccardPortable(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* both,
                     uint64_t* either) {
  uint64_t x = 0, y = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t va = Load64(a + i), vb = Load64(b + i);
    x += PopcountSwar(va & vb);
    y += PopcountSwar(va | vb);
  }
  for (; i < n; i++) {
    x += PopcountSwar(uint64_t(a[i] & b[i]));
    y += PopcountSwar(uint64_t(a[i] | b[i]));
  }
  *both = x;
  *either = y;
}

// ---- POPCNT ----

#define RS_POPCNT __attribute__((target("popcnt")))

RS_POPCNT uint64_t HammingPopcnt(const uint8_t* a, const uint8_t* b, size_t n) {
  uint64_t count = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) count += _mm_popcnt_u64(Load64(a + i) ^ Load64(b + i));
  for (; i < n; i++) count += _mm_popcnt_u32(uint32_t(a[i] ^ b[i]));
  return count;
}

RS_POPCNT void JaccardPopcnt(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* both,
                             uint64_t* either) {
  uint64_t x = 0, y = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t va = Load64(a + i), vb = Load64(b + i);
    x += _mm_popcnt_u64(va & vb);
    y += _mm_popcnt_u64(va | vb);
  }
  for (; i < n; i++) {
    x += _mm_popcnt_u32(uint32_t(a[i] & b[i]));
    y += _mm_popcnt_u32(uint32_t(a[i] | b[i]));
  }
  *both = x;
  *either = y;
}

// ---- AVX2: per-nibble lookup, byte counts summed with VPSADBW into 4 x 64-bit lanes ----

#define RS_AVX2POP __attribute__((target("avx2,popcnt")))

RS_AVX2POP inline __m256i ByteCounts(__m256i v) {
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                         1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256i lo = _mm256_and_si256(v, low);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  return _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
}

RS_AVX2POP inline uint64_t Sum64(__m256i v) {
  return uint64_t(_mm256_extract_epi64(v, 0)) + uint64_t(_mm256_extract_epi64(v, 1)) +
         uint64_t(_mm256_extract_epi64(v, 2)) + uint64_t(_mm256_extract_epi64(v, 3));
}

RS_AVX2POP inline __m256i LoadV(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

RS_AVX2POP uint64_t HammingAvx2(const uint8_t* a, const uint8_t* b, size_t n) {
  __m256i acc = _mm256_setzero_si256();
  const __m256i zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i counts = ByteCounts(_mm256_xor_si256(LoadV(a + i), LoadV(b + i)));
    acc = _mm256_add_epi64(acc, _mm256_sad_epu8(counts, zero));
  }
  uint64_t count = Sum64(acc);
  // Clear the upper YMM halves before the SSE-encoded tail: GCC does not always do it before
  // an out-of-line call (it did not under PGXS's flags), and the dirty state then slows every
  // later SSE instruction of the caller (25x for the hnsw graph build over bit values).
  _mm256_zeroupper();
  return count + HammingPopcnt(a + i, b + i, n - i);
}

RS_AVX2POP void JaccardAvx2(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* both,
                            uint64_t* either) {
  __m256i acc_and = _mm256_setzero_si256(), acc_or = _mm256_setzero_si256();
  const __m256i zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i va = LoadV(a + i), vb = LoadV(b + i);
    acc_and =
        _mm256_add_epi64(acc_and, _mm256_sad_epu8(ByteCounts(_mm256_and_si256(va, vb)), zero));
    acc_or = _mm256_add_epi64(acc_or, _mm256_sad_epu8(ByteCounts(_mm256_or_si256(va, vb)), zero));
  }
  uint64_t sum_and = Sum64(acc_and), sum_or = Sum64(acc_or);
  _mm256_zeroupper();  // as in HammingAvx2
  uint64_t x, y;
  JaccardPopcnt(a + i, b + i, n - i, &x, &y);
  *both = x + sum_and;
  *either = y + sum_or;
}

// ---- AVX-512 VPOPCNTDQ: 64-bit lane popcounts of 64-byte blocks, the tail through a masked
// load (zero bytes past n count nothing) ----

#define RS_AVX512POP __attribute__((target("avx512f,avx512bw,avx512vpopcntdq")))

RS_AVX512POP inline __mmask64 ByteMask(size_t left) {
  return left >= 64 ? ~__mmask64(0) : (__mmask64(1) << left) - 1;
}

RS_AVX512POP uint64_t HammingAvx512(const uint8_t* a, const uint8_t* b, size_t n) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(a + i),
                                                                       _mm512_loadu_si512(b + i))));
    acc1 = _mm512_add_epi64(acc1,
                            _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(a + i + 64),
                                                                 _mm512_loadu_si512(b + i + 64))));
  }
  for (; i < n; i += 64) {
    __mmask64 k = ByteMask(n - i);
    acc0 = _mm512_add_epi64(
        acc0, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_maskz_loadu_epi8(k, a + i),
                                                   _mm512_maskz_loadu_epi8(k, b + i))));
  }
  return (simd::HorizontalSum512(_mm512_add_epi64(acc0, acc1)));
}

RS_AVX512POP void JaccardAvx512(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* both,
                                uint64_t* either) {
  __m512i acc_and = _mm512_setzero_si512(), acc_or = _mm512_setzero_si512();
  for (size_t i = 0; i < n; i += 64) {
    __mmask64 k = ByteMask(n - i);
    __m512i va = _mm512_maskz_loadu_epi8(k, a + i), vb = _mm512_maskz_loadu_epi8(k, b + i);
    acc_and = _mm512_add_epi64(acc_and, _mm512_popcnt_epi64(_mm512_and_si512(va, vb)));
    acc_or = _mm512_add_epi64(acc_or, _mm512_popcnt_epi64(_mm512_or_si512(va, vb)));
  }
  *both = (simd::HorizontalSum512(acc_and));
  *either = (simd::HorizontalSum512(acc_or));
}

struct BitKernelTable {
  uint64_t (*hamming)(const uint8_t*, const uint8_t*, size_t);
  void (*jaccard)(const uint8_t*, const uint8_t*, size_t, uint64_t*, uint64_t*);
};

constexpr BitKernelTable kTables[] = {{HammingPortable, JaccardPortable},
                                      {HammingPopcnt, JaccardPopcnt},
                                      {HammingAvx2, JaccardAvx2},
                                      {HammingAvx512, JaccardAvx512}};

BitKernelLevel BestLevel(BitKernelLevel wanted) {
  __builtin_cpu_init();
  bool popcnt = __builtin_cpu_supports("popcnt");
  bool avx2 = popcnt && __builtin_cpu_supports("avx2");
  bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vpopcntdq");
  if (wanted == BitKernelLevel::kAvx512 && !avx512) wanted = BitKernelLevel::kAvx2;
  if (wanted == BitKernelLevel::kAvx2 && !avx2) wanted = BitKernelLevel::kPopcnt;
  if (wanted == BitKernelLevel::kPopcnt && !popcnt) wanted = BitKernelLevel::kPortable;
  return wanted;
}

BitKernelLevel g_level = BestLevel(BitKernelLevel::kAvx512);
const BitKernelTable* g_table = &kTables[static_cast<int>(g_level)];

}  // namespace

BitKernelLevel SetBitKernelLevel(BitKernelLevel level) {
  g_level = BestLevel(level);
  g_table = &kTables[static_cast<int>(g_level)];
  return g_level;
}

const char* BitKernelLevelName(BitKernelLevel level) {
  switch (level) {
    case BitKernelLevel::kAvx512:
      return "avx512_vpopcntdq";
    case BitKernelLevel::kAvx2:
      return "avx2";
    case BitKernelLevel::kPopcnt:
      return "popcnt";
    case BitKernelLevel::kPortable:
      break;
  }
  return "portable";
}

uint64_t HammingBits(const uint8_t* a, const uint8_t* b, size_t n) {
  return g_table->hamming(a, b, n);
}

void JaccardCounts(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* both, uint64_t* either) {
  g_table->jaccard(a, b, n, both, either);
}

double JaccardDistance(const uint8_t* a, const uint8_t* b, size_t n) {
  uint64_t both, either;
  JaccardCounts(a, b, n, &both, &either);
  if (both == 0) return 1.0;
  return 1.0 - static_cast<double>(both) / static_cast<double>(either);
}

namespace reference {
uint64_t HammingBits(const uint8_t* a, const uint8_t* b, size_t n) {
  uint64_t count = 0;
  for (size_t i = 0; i < n; i++)
    for (int bit = 0; bit < 8; bit++) count += ((a[i] >> bit) & 1) != ((b[i] >> bit) & 1);
  return count;
}
void JaccardCounts(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* both, uint64_t* either) {
  uint64_t x = 0, y = 0;
  for (size_t i = 0; i < n; i++)
    for (int bit = 0; bit < 8; bit++) {
      int ba = (a[i] >> bit) & 1, bb = (b[i] >> bit) & 1;
      x += ba & bb;
      y += ba | bb;
    }
  *both = x;
  *either = y;
}
}  // namespace reference

}  // namespace ragstore
