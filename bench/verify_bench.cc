// Destination-data verification throughput (vfio::first_mismatch) against this machine's plain
// memcmp bandwidth on the same 64 MiB buffers. Prints the ratio; the goal is >= 0.8.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "vfio/verify.h"

namespace {

constexpr std::size_t kSize = 64u << 20;

struct Buffers {
  std::vector<std::uint8_t> a, b;
  Buffers() : a(kSize), b(kSize) {
    for (std::size_t i = 0; i < kSize; ++i) a[i] = static_cast<std::uint8_t>(i * 2654435761u >> 13);
    b = a;  // equal: the common, full-scan case
  }
};

Buffers& buffers() {
  static Buffers b;
  return b;
}

void BM_Memcmp(benchmark::State& state) {
  auto& buf = buffers();
  for (auto _ : state) benchmark::DoNotOptimize(std::memcmp(buf.a.data(), buf.b.data(), kSize));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kSize));
}

void BM_FirstMismatch(benchmark::State& state) {
  auto& buf = buffers();
  for (auto _ : state) benchmark::DoNotOptimize(lu::vfio::first_mismatch(buf.a, buf.b));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kSize));
}

BENCHMARK(BM_Memcmp)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_FirstMismatch)->Unit(benchmark::kMillisecond)->MinTime(1.0);

// Collects bytes/second of both runs to print the ratio after the table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      auto it = run.counters.find("bytes_per_second");
      if (it == run.counters.end()) continue;
      if (run.benchmark_name().rfind("BM_Memcmp", 0) == 0) memcmp_ = it->second;
      if (run.benchmark_name().rfind("BM_FirstMismatch", 0) == 0) verify_ = it->second;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    if (memcmp_ > 0 && verify_ > 0)
      std::printf("verify/memcmp throughput ratio: %.3f (verify %.2f GB/s, memcmp %.2f GB/s; goal >= 0.8)\n",
                  verify_ / memcmp_, verify_ / 1e9, memcmp_ / 1e9);
  }

 private:
  double memcmp_ = 0, verify_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
