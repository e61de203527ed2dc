// mbox: the series as the sender posts it, made by git format-patch in an
// outbox (outbox.h): a cover letter "[PATCH vN 0/M]" (subject and body from
// the cover file, "Changes since vN-1" from a file, git's shortlog and
// diffstat, base-commit: and change-id:) and the patches threaded under it,
// From: and Signed-off-by: of the sender (sender.h), real dates, git's
// Message-Ids; optionally To:/Cc: per patch from get_maintainer.pl.
#pragma once

#include <string>
#include <vector>

namespace patchq {

struct MboxOptions {
  std::string tree;   // the kernel tree: one commit per patch on the base tag
  std::string repo;   // IDENTITY, series (# change-id:), the sender's git config
  std::string reroll;  // "" (no version in the subjects) or a number >= 1: git's -v
  std::string cover_file;    // subject line, blank line, body; "" = REPO/patches/cover.txt
  std::string changes_file;  // "" = REPO/patches/changes-vN.txt when it exists
  std::vector<std::string> to, cc;
  bool recipients_auto = false;  // get_maintainer.pl per patch
  std::string get_maintainer;    // "" = TREE/scripts/get_maintainer.pl
};

// The whole mbox text.  Warnings (e.g. no changes file for v2+) go to log.
std::string Mbox(const MboxOptions& opts, std::ostream& log);

// A reroll count as git means it: a whole number from 1 to 999; anything else
// throws an Error saying so (never an out-of-range exception).
int ParseRerollCount(const std::string& text);

}  // namespace patchq
