// What the running kernel can preserve, read from its own description of itself: whether
// /dev/liveupdate opens, and which live-update handlers its configuration built in.
#pragma once

#include <string>

#include "machine/machine.h"

namespace lu {

// `config_text` is the kernel's .config (from /proc/config.gz or /boot/config-RELEASE), empty
// when neither exists; `luo_problem` is empty when /dev/liveupdate opened.
Capabilities capabilities_from_config(const std::string& config_text, std::string luo_problem);

// /proc/config.gz (gzip) or /boot/config-RELEASE (plain); empty when neither can be read.
std::string read_kernel_config(const std::string& proc_root, const std::string& boot_root,
                               const std::string& release);

}  // namespace lu
