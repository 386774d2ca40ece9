// KTAP v1, streamed and crash-safe: the pre stage writes the header and plan and fsyncs before
// the kexec; the post stage appends the results to the same file.
#pragma once

#include <string>

#include "base/files.h"
#include "stages/outcome.h"

namespace lu::stages {

std::string ktap_line(std::uint32_t number, const CheckResult& result);

class KtapStream {
 public:
  static Result<KtapStream> create(const std::string& path);    // truncates: a new run
  static Result<KtapStream> resume(const std::string& path);    // appends: the post stage
  Status header(std::size_t planned);
  Status diagnostic(const std::string& text);  // "# text"
  Status result(std::uint32_t number, const CheckResult& result);
  Status sync() { return out_.sync(); }
  const std::string& path() const { return out_.path(); }

 private:
  explicit KtapStream(DurableAppender out) : out_(std::move(out)) {}
  DurableAppender out_;
};

}  // namespace lu::stages
