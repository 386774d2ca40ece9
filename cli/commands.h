// One function per lu-test command; main.cc only wires them to CLI11.
#pragma once

#include <string>

#include "cli/app.h"

namespace lu::cli {

struct PreArgs {
  std::string profile = "auto";
  std::vector<std::string> devices;
  std::string kernel, initrd, append;
};

int cmd_probe(const Global& g);
int cmd_stage_pre(const Global& g, const PreArgs& a);
int cmd_kexec(const Global& g);
int cmd_stage_post(const Global& g, const std::string& expect_nonce);
int cmd_status(const Global& g);
int cmd_cancel(const Global& g);
int cmd_state_show(const Global& g, const std::string& file);
int cmd_list(const Global& g);
int cmd_report(const Global& g, const std::string& ktap, const std::string& junit);
int cmd_cycle(Global g, const PreArgs& a, bool keep);
int cmd_debug_flip_memfd_byte(const Global& g);
int cmd_sim_start(const Global& g);
int cmd_sim_stop(const Global& g);
int cmd_sim_fault(const Global& g);
int cmd_sim_kexec(const Global& g);
int cmd_sim_serve(const Global& g, int idle_exit, int ready_fd);

}  // namespace lu::cli
