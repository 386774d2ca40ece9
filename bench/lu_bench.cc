// Numbers for the core: state save+load, and a whole LUO cycle with the kernel selftests'
// stress sizes (2000 sessions, 500 memfds) on the simulated machine.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>

#include "base/memfd.h"
#include "sim/client.h"
#include "state/codec.h"
#include "state/store.h"

namespace {

using namespace lu;

state::RunState sized_state(int sessions) {
  state::RunState s;
  s.run_id = "0123456789abcdef";
  s.nonce = "feedfacecafebeef";
  for (int i = 0; i < sessions; ++i)
    s.sessions.push_back({"lut.01234567.1.memfd." + std::to_string(i), "memfd", {{1, "memfd", "pattern", 4096, 42}}});
  return s;
}

void BM_StateEncodeDecode(benchmark::State& st) {
  auto s = sized_state(static_cast<int>(st.range(0)));
  std::size_t bytes = 0;
  for (auto _ : st) {
    auto encoded = state::encode(s);
    bytes = encoded.size();
    auto decoded = state::decode(encoded, "bench");
    benchmark::DoNotOptimize(decoded);
  }
  st.counters["state_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_StateEncodeDecode)->Arg(10)->Arg(2000);

void BM_StateFileSaveLoad(benchmark::State& st) {
  char dir[] = "/tmp/lu-bench-XXXXXX";
  ::mkdtemp(dir);
  state::FileStore store(std::string(dir) + "/state.bin");
  auto s = sized_state(static_cast<int>(st.range(0)));
  for (auto _ : st) {
    if (!store.save(s)) st.SkipWithError("save failed");
    auto loaded = store.load();
    benchmark::DoNotOptimize(loaded);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StateFileSaveLoad)->Arg(10)->Arg(2000)->Unit(benchmark::kMicrosecond);

// One LUO cycle through the simulator process: create + preserve, kexec, retrieve + finish.
void BM_SimLuoCycle(benchmark::State& st) {
  const int sessions = static_cast<int>(st.range(0)), files = static_cast<int>(st.range(1));
  double pre_s = 0, kexec_s = 0, post_s = 0;
  for (auto _ : st) {
    char dir[] = "/tmp/lu-bench-XXXXXX";
    ::mkdtemp(dir);
    sim::SimOptions o{dir, sim::KernelProfile::kMemfd, {}, true, 60, LU_TEST_BINARY};
    auto machine = sim::connect(o);
    if (!machine) return st.SkipWithError(machine.error().message().c_str());
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<luo::Session>> held;
    {
      auto dev = (*machine)->luo().open();
      if (!dev) return st.SkipWithError(dev.error().message().c_str());
      std::vector<std::uint8_t> content(4096, 0x5a);
      for (int i = 0; i < sessions; ++i) {
        auto s = (*dev)->create_session("bench." + std::to_string(i));
        if (!s) return st.SkipWithError(s.error().message().c_str());
        if (i < files) {
          auto m = create_memfd("bench", content);
          if (!(*s)->preserve_fd(m->get(), 1)) return st.SkipWithError("preserve failed");
        }
        held.push_back(std::move(*s));
      }
    }
    (void)(*machine)->kexec().load({"bzImage", "", "bench"});
    auto t1 = std::chrono::steady_clock::now();
    if (!(*machine)->kexec().execute()) return st.SkipWithError("kexec failed");
    held.clear();
    o.autostart = false;
    auto after = sim::connect(o);
    if (!after) return st.SkipWithError(after.error().message().c_str());
    auto t2 = std::chrono::steady_clock::now();
    {
      auto dev = (*after)->luo().open();
      if (!dev) return st.SkipWithError(dev.error().message().c_str());
      for (int i = 0; i < sessions; ++i) {
        auto s = (*dev)->retrieve_session("bench." + std::to_string(i));
        if (!s) return st.SkipWithError(s.error().message().c_str());
        if (i < files && !(*s)->retrieve_fd(1)) return st.SkipWithError("retrieve_fd failed");
        if (!(*s)->finish()) return st.SkipWithError("finish failed");
      }
    }
    auto t3 = std::chrono::steady_clock::now();
    pre_s += std::chrono::duration<double>(t1 - t0).count();
    kexec_s += std::chrono::duration<double>(t2 - t1).count();
    post_s += std::chrono::duration<double>(t3 - t2).count();
    (void)sim::stop(dir);
    std::filesystem::remove_all(dir);
  }
  st.counters["pre_s"] = benchmark::Counter(pre_s, benchmark::Counter::kAvgIterations);
  st.counters["kexec_s"] = benchmark::Counter(kexec_s, benchmark::Counter::kAvgIterations);
  st.counters["post_s"] = benchmark::Counter(post_s, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_SimLuoCycle)->Args({2000, 500})->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
