// The post stage's own journal, next to its record: which attempt ran on which boot, whether it
// had consumed LUO's copy of the state (retrieving a session is unrepeatable: closing a retrieved
// session fd FINISHes it), which sessions it FINISHed and whether it reached its verdict. A rerun
// reads it to tell "the previous post stage was interrupted" from "the kernel lost the state".
// Append-only text, one fact per line; a line is written with write() and fsync'ed where a
// power cut must not lose it (attempt, consuming, done). A process kill never loses a write().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/result.h"

namespace lu::stages {

struct JournalFacts {
  int attempts = 0;              // post stages started for this iteration
  std::string last_boot_id;      // boot of the latest attempt
  std::int64_t last_started_ns = 0;
  bool consumed = false;         // some attempt retrieved (or began to retrieve) LUO's state
  std::vector<std::string> finished;  // sessions FINISHed, in order
  bool done = false;             // an attempt wrote its verdict
  std::string verdict;           // that verdict
  std::string done_boot_id;
};

class PostJournal {
 public:
  // Opens (creating) the journal and reads what earlier attempts left.
  static Result<PostJournal> open(const std::string& path);
  // Reads without creating; empty facts when there is none.
  static JournalFacts read(const std::string& path);

  const JournalFacts& earlier() const { return earlier_; }
  Status attempt(const std::string& boot_id, std::int64_t now_ns);
  Status consuming();
  Status finished(const std::string& session);  // written, not fsync'ed: see sync()
  Status done(const std::string& verdict, const std::string& boot_id);
  Status sync() { return out_.sync(); }

 private:
  PostJournal(DurableAppender out, JournalFacts earlier) : out_(std::move(out)), earlier_(std::move(earlier)) {}
  DurableAppender out_;
  JournalFacts earlier_;
};

}  // namespace lu::stages
