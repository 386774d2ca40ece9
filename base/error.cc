#include "base/error.h"

#include <cstring>

namespace lu {

std::string Error::message() const {
  std::string out = op;
  if (!subject.empty()) out += "(" + subject + ")";
  out += ": ";
  if (err != 0) {
    out += std::strerror(err);
    out += " (errno " + std::to_string(err) + ")";
  } else {
    out += error_kind_name(kind);
  }
  if (!hint.empty()) out += ". " + hint;
  return out;
}

Error make_error(ErrorKind kind, std::string op, std::string subject, std::string hint, int err) {
  return Error{kind, std::move(op), err, std::move(subject), std::move(hint)};
}

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kSystem: return "system error";
    case ErrorKind::kInvalidInput: return "invalid input";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kUnavailable: return "capability unavailable";
    case ErrorKind::kBusy: return "busy";
    case ErrorKind::kCorruptState: return "corrupt state";
    case ErrorKind::kIncompatibleState: return "incompatible state version";
    case ErrorKind::kNoState: return "no armed state";
    case ErrorKind::kStageMismatch: return "stage mismatch";
    case ErrorKind::kRefused: return "refused";
    case ErrorKind::kKexecRefused: return "kexec refused";
    case ErrorKind::kNotBound: return "device not bound to vfio-pci";
    case ErrorKind::kTimeout: return "timed out";
    case ErrorKind::kAlreadyDone: return "already done";
    case ErrorKind::kInternal: return "internal error";
  }
  return "unknown error";
}

}  // namespace lu
