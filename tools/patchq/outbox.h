// The outbox: a temporary bare repository that borrows the kernel tree's
// objects (objects/info/alternates, so the tree itself is only read) and
// holds the series as the sender mails it: the same trees, authored by the
// sender now (real dates) where the queue's project identity authored them,
// and with the sender's Signed-off-by.  git format-patch runs there.
#pragma once

#include <string>
#include <vector>

#include "tools/patchq/files.h"
#include "tools/patchq/identity.h"

namespace patchq {

class Outbox {
 public:
  // Rewrites base..HEAD of tree into the outbox's branch "series".
  Outbox(const std::string& tree, const std::string& base, const Identity& queue, const Identity& sender);
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  size_t count() const { return count_; }

  struct Format {
    std::string cover;  // subject line, blank line, body (git's branch description)
    std::string reroll;  // "" or the -v value
    std::vector<std::string> to, cc;
  };
  // git format-patch --cover-letter --thread=shallow --base=BASE
  // --from=SENDER [-v N] [--to/--cc] base..series into a directory; returns
  // the files in order (cover first).
  std::vector<fs::path> FormatPatch(const Format& f) const;

 private:
  std::string GitDir() const { return (tmp_.path() / "outbox.git").string(); }
  TempDir tmp_{"patchq-outbox"};
  std::string base_;
  Identity sender_;
  size_t count_ = 0;
};

}  // namespace patchq
