// import: <repo>/series + patches -> commits on top of the tree's base tag,
// the same commits on every machine.  Or, with an mbox (a posted series, e.g.
// b4 am's output), its patches with the sender's identity given back to the
// queue's project identity, so that export then gives the queue's bytes.
#pragma once

#include <ostream>
#include <string>

namespace patchq {

struct ImportOptions {
  std::string tree;
  std::string repo;
  bool force = false;  // discard uncommitted changes / an unfinished git am
  std::string mbox;    // non-empty: apply this mbox's patches instead of the series
  std::string sender;  // "Name <email>" who posted it; "" = git config of repo
};

// Returns the new HEAD sha.
std::string Import(const ImportOptions& opts, std::ostream& log);

}  // namespace patchq
