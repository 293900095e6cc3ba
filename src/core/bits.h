// ragstore core: popcount kernels for the distances on PostgreSQL's `bit` type
// (hamming_distance, jaccard_distance and the <~> / <%> operators).
//
// Inputs are two byte arrays of the same length (the packed bits of a bit(n) value; bits past n
// in the last byte are zero, as PostgreSQL guarantees). Four implementations, chosen once when
// the library is loaded (CPUID) and forceable for tests:
//   kPortable  64-bit SWAR popcount (Hacker's Delight, section 5-1)
//   kPopcnt    the POPCNT instruction on 64-bit words
//   kAvx2      AVX2 nibble lookup with VPSHUFB + VPSADBW on 32-byte blocks (W. Mula, D. Lemire,
//              N. Kurz, "Faster Population Counts Using AVX2 Instructions", 2016), POPCNT tail
//   kAvx512    VPOPCNTQ (AVX512_VPOPCNTDQ) on 64-byte blocks, the tail through a masked load
// All return exact counts. Kernels never throw and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ragstore {

enum class BitKernelLevel { kPortable = 0, kPopcnt = 1, kAvx2 = 2, kAvx512 = 3 };

// Forces a level; a level the CPU lacks falls back to the best lower one. Returns the level set.
BitKernelLevel SetBitKernelLevel(BitKernelLevel level);
const char* BitKernelLevelName(BitKernelLevel level);

// Number of set bits in a XOR b (the Hamming distance), over n bytes.
uint64_t HammingBits(const uint8_t* a, const uint8_t* b, size_t n);
// Counts for the Jaccard distance: *both = |a AND b|, *either = |a OR b|, over n bytes.
void JaccardCounts(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* both, uint64_t* either);
// 1 - |a AND b| / |a OR b|; 1 when a AND b is empty (including two all-zero inputs, as pgvector).
double JaccardDistance(const uint8_t* a, const uint8_t* b, size_t n);

namespace reference {
uint64_t HammingBits(const uint8_t* a, const uint8_t* b, size_t n);  // bit by bit
void JaccardCounts(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* both, uint64_t* either);
}  // namespace reference

}  // namespace ragstore
