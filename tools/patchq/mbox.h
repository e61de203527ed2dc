// mbox: the series as one mbox that b4 am accepts: a cover letter
// "[PATCH vN 0/M]" and "[PATCH vN k/M]" patches replying to it, Message-Ids
// and dates derived from content only, From: the submitter's git identity
// (with an in-body From: when the patch author differs).
#pragma once

#include <string>
#include <vector>

namespace patchq {

struct MboxOptions {
  std::string tree;   // for the base tag (base-commit:)
  std::string repo;
  int version = 1;
  std::string cover_file;  // first line: subject; after a blank line: body
  std::vector<std::string> to, cc;
};

// The whole mbox text.
std::string Mbox(const MboxOptions& opts);

// 128-bit content hash as 32 hex digits (two FNV-1a 64 passes).
std::string ContentHash(const std::string& data);

// Diffstat of several patches as ` path | N +++--` lines and a summary line.
std::string Diffstat(const std::vector<std::string>& patch_files);

}  // namespace patchq
