// The stage commands' bodies, shared by `stage pre|post`, `kexec`, `cancel` and `cycle`.
#pragma once

#include <string>
#include <vector>

#include "cli/app.h"
#include "stages/engine.h"

namespace lu::cli {

struct PreArgs {
  std::string profile = "auto";
  std::vector<std::string> devices;
  std::string kernel, initrd, append;
  std::string dma_size;  // e.g. 64K, 1G
};
void add_pre_options(CLI::App* cmd, PreArgs& a);
Result<stages::PreRequest> pre_request(const PreArgs& a);

// `hints`: tell the user what to type next (a cycle does it itself).
struct PreOutcome {
  int code = 0;
  bool skipped = false;
};
PreOutcome run_pre(const Global& g, const PreArgs& a, bool hints);
// Prints the record (KTAP) and returns the verdict's exit code.
int run_post(const Global& g, const std::string& expect_nonce);
int run_kexec(const Global& g, bool hints);
int run_cancel(const Global& g);
Status print_file(const std::string& path);

}  // namespace lu::cli
