// Running programs without a shell: fork/exec with an argv, optional working
// directory, extra environment and stdin; stdout and stderr are captured.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace patchq {

struct RunOptions {
  std::string cwd;                           // empty: inherit
  std::map<std::string, std::string> env;    // added to / overriding ours
  std::vector<std::string> unset_env;        // removed from ours
  std::string input;                         // written to the child's stdin
  bool merge_stderr = false;                 // stderr goes into out
  bool pass_through_stderr = false;          // stderr goes to our stderr
};

struct RunResult {
  int status = -1;  // exit code, or 128+signal
  std::string out;
  std::string err;
  bool ok() const { return status == 0; }
};

// Runs argv[0] (looked up in PATH) with argv. Throws Error only when the
// program cannot be started at all; a non-zero exit is in the result.
RunResult Run(const std::vector<std::string>& argv, const RunOptions& opts = {});

// Runs and throws an Error that names the command and its stderr when it
// exits non-zero. Returns stdout.
std::string RunChecked(const std::vector<std::string>& argv, const RunOptions& opts = {});

// "git -C dir am ..." style rendering for messages (no quoting semantics).
std::string CommandLine(const std::vector<std::string>& argv);

}  // namespace patchq
