// import: <repo>/series + patches -> commits on top of the tree's base tag,
// the same commits on every machine.
#pragma once

#include <ostream>
#include <string>

namespace patchq {

struct ImportOptions {
  std::string tree;
  std::string repo;
  bool force = false;  // discard uncommitted changes / an unfinished git am
};

// Returns the new HEAD sha.
std::string Import(const ImportOptions& opts, std::ostream& log);

}  // namespace patchq
