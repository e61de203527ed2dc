// Recipients from the kernel tree's scripts/get_maintainer.pl: maintainers
// (and supporters, odd fixers) go to To:, reviewers and lists to Cc:; and
// adding them to a message git format-patch wrote.
#pragma once

#include <string>
#include <vector>

namespace patchq {

struct Recipients {
  std::vector<std::string> to, cc;  // "Name <email>" or "list@host", in order, no duplicates
  void Add(const Recipients& other);  // merges; an address in To: is not repeated in Cc:
};

// Parses get_maintainer.pl's default output ("Name <email> (role:SECTION)").
Recipients ParseGetMaintainer(const std::string& output);

// perl SCRIPT --no-git --no-git-fallback PATCH, run in tree (offline: it
// reads only the tree's MAINTAINERS); HOME is an empty directory so no
// ~/.get_maintainer.conf changes the answer.
Recipients GetMaintainer(const std::string& tree, const std::string& script, const std::string& patch_file);

// The message with the recipients merged into its To:/Cc: headers (created
// after Subject: when absent); addresses already there are not repeated.
std::string AddRecipients(const std::string& message, const Recipients& r);

}  // namespace patchq
