// kernels_bench: single-thread throughput of the type kernels in src/core, each dispatch level
// against the portable one, on synthetic data (fixed seed):
//   - float32 -> binary16 and binary16 -> float32 bulk conversion (core/half.h), 16000 values
//   - halfvec distances (L2 squared, inner product, cosine, L1), 1536 dimensions
//   - vector (float32) L2 squared, inner product, cosine, L1, 1536 and 16000 dimensions
//     (core/distance.h)
//   - bit Hamming and Jaccard counts (core/bits.h), 64000 bits (the hnsw limit for bit)
//   - sq8 code distances (core/quantizer.h CodeDistances: float query to one 8-bit code, L2
//     squared and inner product), 1536 dimensions
//   - sparsevec L2 squared and inner product (core/sparse.h), 1000 non-zeros in 100,000 dims
// Each row: nanoseconds per call (median of 7 timed passes after a warm-up) and the speed-up of
// the level over the portable path; every level the CPU has (portable, AVX2, AVX-512). The machine
// is shared: expect noise of several percent. Usage: kernels_bench [--quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/bits.h"
#include "core/distance.h"
#include "core/half.h"
#include "core/quantizer.h"
#include "core/sparse.h"

namespace {

volatile double g_sink;  // keeps results alive

// Median ns per call of fn over passes of `calls` calls each.
double NsPerCall(const std::function<double()>& fn, int calls) {
  double acc = 0;
  for (int i = 0; i < calls; i++) acc += fn();  // warm-up
  std::vector<double> passes;
  for (int p = 0; p < 7; p++) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; i++) acc += fn();
    auto t1 = std::chrono::steady_clock::now();
    passes.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / calls);
  }
  g_sink = acc;
  std::sort(passes.begin(), passes.end());
  return passes[passes.size() / 2];
}

void Row(const char* kernel, const char* level, double ns, double portable_ns) {
  std::printf("%-34s %-16s %12.1f %9.2fx\n", kernel, level, ns, portable_ns / ns);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ragstore;
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int scale = quick ? 1 : 10;
  std::mt19937 rng(12345);
  std::normal_distribution<float> normal(0.0f, 1.0f);

  std::printf("%-34s %-16s %12s %10s\n", "kernel", "level", "ns/call", "speed-up");

  // ---- half conversion and halfvec distances
  std::vector<float> f16000(16000);
  for (auto& x : f16000) x = normal(rng);
  std::vector<Half> h16000(16000);
  std::vector<float> back(16000);
  const size_t d = 1536;
  std::vector<Half> ha(d), hb(d);
  std::vector<float> fa(d), fb(d);
  for (size_t i = 0; i < d; i++) {
    fa[i] = normal(rng);
    fb[i] = normal(rng);
    ha[i] = FloatToHalf(fa[i]);
    hb[i] = FloatToHalf(fb[i]);
  }
  struct HalfCase {
    const char* name;
    std::function<double()> fn;
    int calls;
  };
  std::vector<HalfCase> half_cases = {
      {"floats->halves (16000)",
       [&] {
         FloatsToHalves(f16000.data(), h16000.data(), 16000);
         return double(h16000[7]);
       },
       200 * scale},
      {"halves->floats (16000)",
       [&] {
         HalvesToFloats(h16000.data(), back.data(), 16000);
         return double(back[7]);
       },
       200 * scale},
      {"halfvec l2 squared (1536)",
       [&] { return double(HalfL2SquaredDistance(ha.data(), hb.data(), d)); }, 2000 * scale},
      {"halfvec inner product (1536)",
       [&] { return double(HalfInnerProduct(ha.data(), hb.data(), d)); }, 2000 * scale},
      {"halfvec cosine (1536)", [&] { return HalfCosineDistance(ha.data(), hb.data(), d); },
       2000 * scale},
      {"halfvec l1 (1536)", [&] { return double(HalfL1Distance(ha.data(), hb.data(), d)); },
       2000 * scale},
  };
  for (auto& c : half_cases) {
    SetHalfKernelLevel(HalfKernelLevel::kPortable);
    double portable = NsPerCall(c.fn, c.calls);
    Row(c.name, "portable", portable, portable);
    for (HalfKernelLevel level : {HalfKernelLevel::kF16cAvx2, HalfKernelLevel::kAvx512})
      if (SetHalfKernelLevel(level) == level)
        Row(c.name, HalfKernelLevelName(level), NsPerCall(c.fn, c.calls), portable);
  }

  // ---- float32 vector distances (the hnsw build's kernels), 1536 dimensions (ada-002, an
  // element cached in L1/L2) and 16000 (the quantized indexes' limit)
  for (size_t n : {size_t(1536), size_t(16000)}) {
    std::vector<float> xa(n), xb(n);
    for (size_t i = 0; i < n; i++) xa[i] = normal(rng), xb[i] = normal(rng);
    int calls = (n == 1536 ? 2000 : 200) * scale;
    std::string dims = " (" + std::to_string(n) + ")";
    struct FloatCase {
      std::string name;
      std::function<double()> fn;
    };
    std::vector<FloatCase> cases = {
        {"vector l2 squared" + dims,
         [&] { return double(L2SquaredDistance(xa.data(), xb.data(), n)); }},
        {"vector inner product" + dims,
         [&] { return double(InnerProduct(xa.data(), xb.data(), n)); }},
        {"vector cosine" + dims, [&] { return CosineDistance(xa.data(), xb.data(), n); }},
        {"vector l1" + dims, [&] { return double(L1Distance(xa.data(), xb.data(), n)); }},
    };
    for (auto& c : cases) {
      SetKernelLevel(KernelLevel::kPortable);
      double portable = NsPerCall(c.fn, calls);
      Row(c.name.c_str(), "portable", portable, portable);
      for (KernelLevel level : {KernelLevel::kAvx2Fma, KernelLevel::kAvx512})
        if (SetKernelLevel(level) == level)
          Row(c.name.c_str(), KernelLevelName(level), NsPerCall(c.fn, calls), portable);
    }
  }

  // ---- sq8 code distances (the quantized hnsw search's kernel), 1536 dimensions
  {
    const size_t n = 1536;
    std::vector<float> x(64 * n), q(n);
    for (auto& v : x) v = normal(rng);
    for (auto& v : q) v = normal(rng);
    std::vector<float> params(QuantizerParamCount(QuantizerKind::kSq8, n));
    TrainQuantizer(QuantizerKind::kSq8, n, x.data(), 64, params.data());
    std::vector<uint8_t> code(n);
    EncodeVectors(QuantizerKind::kSq8, n, params.data(), x.data(), 1, code.data());
    for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
      std::vector<float> state(QueryStateFloats(QuantizerKind::kSq8, n, metric));
      PrepareQuery(QuantizerKind::kSq8, n, params.data(), metric, q.data(), state.data());
      auto fn = [&] {
        float out;
        CodeDistances(QuantizerKind::kSq8, n, metric, state.data(), code.data(), 1, n, &out);
        return double(out);
      };
      const char* name =
          metric == Metric::kL2 ? "sq8 code l2 squared (1536)" : "sq8 code inner product (1536)";
      SetKernelLevel(KernelLevel::kPortable);
      double portable = NsPerCall(fn, 2000 * scale);
      Row(name, "portable", portable, portable);
      for (KernelLevel level : {KernelLevel::kAvx2Fma, KernelLevel::kAvx512})
        if (SetKernelLevel(level) == level)
          Row(name, KernelLevelName(level), NsPerCall(fn, 2000 * scale), portable);
    }
  }

  // ---- bit distances
  {
    const size_t bytes = 64000 / 8;
    std::vector<uint8_t> a(bytes), b(bytes);
    for (size_t i = 0; i < bytes; i++) {
      a[i] = uint8_t(rng());
      b[i] = uint8_t(rng());
    }
    auto ham = [&] { return double(HammingBits(a.data(), b.data(), bytes)); };
    auto jac = [&] { return JaccardDistance(a.data(), b.data(), bytes); };
    for (auto& [name, fn] : std::vector<std::pair<const char*, std::function<double()>>>{
             {"bit hamming (64000 bits)", ham}, {"bit jaccard (64000 bits)", jac}}) {
      SetBitKernelLevel(BitKernelLevel::kPortable);
      double portable = NsPerCall(fn, 500 * scale);
      Row(name, "portable", portable, portable);
      for (BitKernelLevel level :
           {BitKernelLevel::kPopcnt, BitKernelLevel::kAvx2, BitKernelLevel::kAvx512})
        if (SetBitKernelLevel(level) == level)
          Row(name, BitKernelLevelName(level), NsPerCall(fn, 500 * scale), portable);
    }
  }

  // ---- sparse merge joins
  {
    const int32_t dim = 100000, nnz = 1000;
    auto make = [&](std::vector<int32_t>* idx, std::vector<float>* val) {
      std::uniform_int_distribution<int32_t> pos(0, dim - 1);
      std::vector<int32_t> all;
      while (int32_t(all.size()) < nnz) {
        all.push_back(pos(rng));
        std::sort(all.begin(), all.end());
        all.erase(std::unique(all.begin(), all.end()), all.end());
      }
      *idx = all;
      val->resize(nnz);
      for (auto& v : *val) v = normal(rng);
    };
    std::vector<int32_t> ia, ib;
    std::vector<float> va, vb;
    make(&ia, &va);
    make(&ib, &vb);
    SparseView a{ia.data(), va.data(), nnz, dim}, b{ib.data(), vb.data(), nnz, dim};
    double l2 = NsPerCall([&] { return double(SparseL2SquaredDistance(a, b)); }, 2000 * scale);
    Row("sparsevec l2 squared (1000 nnz)", "merge join", l2, l2);
    double ip = NsPerCall([&] { return double(SparseInnerProduct(a, b)); }, 2000 * scale);
    Row("sparsevec inner product (1000 nnz)", "merge join", ip, ip);
  }
  return 0;
}
