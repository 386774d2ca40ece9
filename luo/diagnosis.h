// errno -> one sentence of diagnosis for every LUO operation (reference/luo.md's table).
#pragma once

#include <string>

#include "base/error.h"

namespace lu::luo {

enum class Op { kOpen, kCreateSession, kRetrieveSession, kPreserveFd, kRetrieveFd, kFinish, kGetName };

// Builds the Error for a failed LUO call: kind, op name, errno and the hint.
Error diagnose(Op op, int err, std::string op_name, std::string subject);

}  // namespace lu::luo
