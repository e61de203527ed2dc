#include "tools/patchq/git.h"

#include "tools/patchq/error.h"

namespace patchq {

RunOptions IsolatedGit(RunOptions opts) {
  opts.env["GIT_CONFIG_NOSYSTEM"] = "1";
  opts.env["GIT_CONFIG_GLOBAL"] = "/dev/null";
  opts.env["LC_ALL"] = "C";
  opts.unset_env.push_back("GIT_DIR");
  opts.unset_env.push_back("GIT_WORK_TREE");
  opts.unset_env.push_back("GIT_INDEX_FILE");
  return opts;
}

static std::vector<std::string> GitArgv(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git", "-C", dir, "-c", "core.hooksPath=/dev/null"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string Git(const std::string& dir, const std::vector<std::string>& args, const RunOptions& opts) {
  return RunChecked(GitArgv(dir, args), opts);
}

RunResult GitTry(const std::string& dir, const std::vector<std::string>& args, const RunOptions& opts) {
  return Run(GitArgv(dir, args), opts);
}

std::string StripNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string BaseCommit(const std::string& tree) {
  RunResult r = GitTry(tree, {"rev-parse", "-q", "--verify", "refs/tags/base^{commit}"});
  if (!r.ok()) {
    throw Error(tree, 0, "no 'base' tag (expected a kernel git tree whose first commit is tagged base; "
                         "scripts/base-tree.sh makes one)");
  }
  return StripNewline(r.out);
}

std::string GitTopLevel(const std::string& dir) {
  RunResult r = GitTry(dir, {"rev-parse", "--show-toplevel"});
  if (!r.ok()) throw Error(dir, 0, "not inside a git repository (pass --repo DIR)");
  return StripNewline(r.out);
}

}  // namespace patchq
