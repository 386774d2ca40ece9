// Memfds of known content in one session; after the kexec each is retrieved by token and its
// content compared by digest and size.
#include <random>

#include "base/digest.h"
#include "base/memfd.h"
#include "stages/scenarios/scenarios.h"

namespace lu::stages {
namespace {

// Sizes chosen to cross page boundaries and to end mid-page.
constexpr std::size_t kSizes[] = {1, 4096, 65536 + 17, 1u << 20};

class MemfdScenario final : public Scenario {
 public:
  std::string name() const override { return "memfd"; }
  std::vector<CheckInfo> checks() const override {
    return {{"memfd.retrieved", "every preserved memfd is retrieved by its token after the kexec"},
            {"memfd.content", "every retrieved memfd has the size and content digest recorded before the kexec"}};
  }

  Status pre(PreContext& ctx) override {
    if (!ctx.luo_available()) return {};  // profile none: nothing to preserve, the checks XFAIL
    auto* session = LU_TRY(ctx.create_session(name(), "0"));
    std::uint64_t token = 1;
    for (std::size_t size : kSizes) {
      std::vector<std::uint8_t> bytes(size);
      fill_pattern(bytes, std::hash<std::string>{}(ctx.state().nonce) + token);
      auto memfd = LU_TRY(create_memfd("lu-test-memfd", bytes));
      LU_TRY_VOID(session->preserve_fd(memfd.get(), token));
      ctx.record_file(*session, {token, "memfd", "pattern-" + std::to_string(size), size, digest64(bytes)});
      // The holder keeps a copy so `lu-test debug flip-memfd-byte` can damage it on purpose.
      ctx.keep_alive(std::move(memfd).into<AnyFdTag>(), "memfd " + session->name() + " token " + std::to_string(token));
      ++token;
    }
    return {};
  }

  void post(PostContext& ctx) override {
    const state::SessionRecord* record = nullptr;
    for (auto& s : ctx.state().sessions)
      if (s.scenario == name()) record = &s;
    if (!record) {
      std::string why = "no memfd session was armed (LUO unavailable in the pre stage)";
      ctx.report(ctx.judge()("memfd.retrieved", Capability::kSessions, false, why));
      ctx.report(ctx.judge()("memfd.content", Capability::kSessions, false, why));
      return;
    }
    auto session = ctx.session(record->name);
    std::size_t retrieved = 0, intact = 0;
    std::string retrieve_problem, content_problem;
    for (auto& file : record->files) {
      if (!session) break;
      auto fd = (*session)->retrieve_fd(file.token);
      if (!fd) {
        if (retrieve_problem.empty()) retrieve_problem = fd.error().message();
        continue;
      }
      ++retrieved;
      auto bytes = read_whole_fd(fd->get());
      if (!bytes) {
        if (content_problem.empty()) content_problem = bytes.error().message();
        continue;
      }
      auto digest = digest64(*bytes);
      if (bytes->size() == file.size && digest == file.digest) {
        ++intact;
      } else if (content_problem.empty()) {
        content_problem = "token " + std::to_string(file.token) + " (" + file.label + "): size " +
                          std::to_string(bytes->size()) + " digest " + hex64(digest) + ", expected size " +
                          std::to_string(file.size) + " digest " + hex64(file.digest);
      }
    }
    if (!session) retrieve_problem = session.error().message();
    std::string count = std::to_string(record->files.size());
    auto r1 = ctx.judge()("memfd.retrieved", Capability::kSessions, retrieved == record->files.size(),
                    retrieve_problem);
    r1.facts.push_back({"retrieved", std::to_string(retrieved) + "/" + count});
    ctx.report(std::move(r1));
    auto r2 = ctx.judge()("memfd.content", Capability::kSessions,
                    retrieved == record->files.size() && intact == retrieved,
                    content_problem.empty() && retrieved != record->files.size() ? "not every memfd was retrieved"
                                                                                : content_problem);
    r2.facts.push_back({"intact", std::to_string(intact) + "/" + count});
    ctx.report(std::move(r2));
  }
};

}  // namespace

void fill_pattern(std::span<std::uint8_t> out, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < out.size(); i += 8) {
    std::uint64_t v = rng();
    for (std::size_t j = 0; j < 8 && i + j < out.size(); ++j) out[i + j] = static_cast<std::uint8_t>(v >> (8 * j));
  }
}

std::unique_ptr<Scenario> make_memfd_scenario() { return std::make_unique<MemfdScenario>(); }

}  // namespace lu::stages
