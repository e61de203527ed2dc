#include "tools/patchq/rangediff.h"

#include "tools/patchq/error.h"
#include "tools/patchq/git.h"

namespace patchq {

std::string SeriesRange(const std::string& tree, const std::string& version) {
  const RunOptions iso = IsolatedGit();
  if (version.empty() || version[0] == '-') throw Error("range-diff: '" + version + "' is not a revision or range");
  if (version.find("..") != std::string::npos) {
    const size_t dots = version.find("..");
    for (const std::string& end : {version.substr(0, dots), version.substr(dots + 2)}) {
      if (end.empty() || !GitTry(tree, {"rev-parse", "-q", "--verify", end + "^{commit}"}, iso).ok()) {
        throw Error(tree, 0, "range-diff: '" + version + "': '" + end + "' is not a commit in the tree");
      }
    }
    return version;
  }
  if (!GitTry(tree, {"rev-parse", "-q", "--verify", version + "^{commit}"}, iso).ok()) {
    throw Error(tree, 0, "range-diff: '" + version + "' is not a commit in the tree (a tag, branch or sha; or A..B)");
  }
  const std::string base = BaseCommit(tree);
  if (!GitTry(tree, {"merge-base", "--is-ancestor", base, version}, iso).ok()) {
    throw Error(tree, 0, "range-diff: '" + version + "' does not descend from the base tag; give its range as BASE..TIP");
  }
  return base + ".." + version;
}

std::string RangeDiff(const std::string& tree, const std::string& old_version, const std::string& new_version) {
  const std::string a = SeriesRange(tree, old_version), b = SeriesRange(tree, new_version);
  return Git(tree, {"range-diff", "--no-color", a, b}, IsolatedGit());
}

}  // namespace patchq
