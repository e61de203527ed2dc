// Changelog style (Documentation/process/maintainer-kvm-x86.rst): a subject
// of at most 75 characters whose summary starts with an imperative verb, a
// body that says what the patch does before why, and a credit line naming
// the upstream commit (or posting) the patch corresponds to.
#pragma once

#include <string>
#include <vector>

#include "tools/patchq/patch.h"

namespace patchq {

inline constexpr size_t kMaxSubject = 75;

// True when word (any case) is a verb in its imperative/base form from the
// list of verbs kernel changelogs open with ("Add", "Map", "Let", ...).
bool IsImperativeVerb(const std::string& word);

// The what-first heuristic on a changelog's first sentence: its first word,
// or the first word after a lead-in of at most 8 words ending in a comma
// ("For VMs with private memory, map ..."), is an imperative verb.
// "When ... fails, the ..." or "KVM's support for ..." (background first)
// is not.
bool WhatFirst(const std::string& first_sentence);

// The changelog's first sentence: its first paragraph up to ". " or its end,
// lines joined with spaces.
std::string FirstSentence(const std::vector<std::string>& message);

// A "Link: https://git.kernel.org/..." (an upstream commit),
// "Link: https://lore.kernel.org/..." (a posting not merged yet) or
// "Based on upstream commit <12+ hex> ("subject")" line.
bool HasCreditLine(const std::vector<std::string>& message);

// A "Based on upstream commit" line in the same paragraph as a trailer
// ("Signed-off-by: ..."): b4 am moves it out of the trailer block.
bool CreditInTrailerBlock(const std::vector<std::string>& message);

// One entry per problem ("subject is 80 characters ..."); empty when clean.
std::vector<std::string> ChangelogProblems(const Patch& p);

}  // namespace patchq
