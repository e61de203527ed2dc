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

// Returns the number of files that changed (or would change with dry_run).
int Export(const ExportOptions& opts, std::ostream& log);

}  // namespace patchq
