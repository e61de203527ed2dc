// export: the kernel tree's commits base..HEAD -> <repo>/patches + series.
#pragma once

#include <ostream>
#include <string>

namespace patchq {

struct ExportOptions {
  std::string tree;
  std::string repo;
  bool dry_run = false;  // report what would change, write nothing
};

// The fixed Date: every exported patch carries (import makes it the author
// and committer date, so commits are the same on every machine).
inline constexpr const char* kFixedDate = "Sat, 1 Jan 2000 00:00:00 +0000";

// Rewrites the first Date: header of a format-patch mail to kFixedDate.
std::string NormalizePatchDate(const std::string& text);

// Returns the number of files that changed (or would change with dry_run).
int Export(const ExportOptions& opts, std::ostream& log);

}  // namespace patchq
