#include "tools/patchq/changelog.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>

#include "tools/patchq/files.h"
#include "tools/patchq/lint.h"

namespace patchq {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::string> Words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  std::string x;
  while (in >> x) w.push_back(x);
  return w;
}

}  // namespace

bool IsImperativeVerb(const std::string& word) {
  static const std::set<std::string> verbs = {
      "account", "add", "adjust", "allocate", "allow", "annotate", "apply", "assert", "avoid", "back", "bail",
      "bind", "block", "bound", "break", "bring", "build", "bump", "cache", "call", "cap", "carry", "change",
      "check", "clean", "clear", "close", "collect", "combine", "compute", "consolidate", "convert", "copy",
      "count", "cover", "create", "declare", "defer", "define", "delete", "deny", "deprecate", "describe",
      "destroy", "detect", "disable", "disallow", "document", "drop", "dump", "emulate", "enable", "enforce",
      "ensure", "enumerate", "exercise", "exit", "expand", "explain", "export", "expose", "extend", "extract",
      "factor", "fail", "fault", "fill", "fix", "flush", "fold", "forbid", "force", "forward", "free", "gate", "generalize",
      "get", "give", "grab", "greet", "guard", "handle", "hide", "hold", "hook", "honor", "honour", "ignore", "implement",
      "import", "include", "initialize", "inline", "inject", "install", "introduce", "invalidate", "isolate",
      "keep", "kill", "launch", "let", "limit", "load", "lock", "look", "make", "map", "mark", "mask", "merge",
      "migrate", "mirror", "move", "name", "nuke", "open", "opt", "pass", "pin", "plumb", "poison", "populate",
      "pre-fault", "prefault", "prepare", "preserve", "prevent", "print", "process", "promote", "propagate",
      "protect", "provide", "prune", "punch", "purge", "push", "put", "query", "race", "read", "reclaim", "record",
      "reduce", "refactor", "refuse", "register", "reject", "release", "reload", "remove", "rename", "reorder",
      "replace", "report", "require", "reserve", "reset", "resolve", "restore", "restrict", "retry", "return",
      "reuse", "revert", "rework", "run", "save", "say", "scan", "select", "separate", "serialize", "set", "share",
      "shrink", "signal", "simplify", "skip", "sort", "split", "start", "stop", "store", "stress", "stub", "support",
      "switch", "take", "teach", "tell", "test", "tighten", "track", "translate", "treat", "trigger", "trim",
      "truncate", "tweak", "unbind", "unexport", "unify", "unlock", "unmap", "unpin", "unregister", "update",
      "use", "validate", "verify", "walk", "warn", "wire", "wrap", "write", "zap", "zero"};
  std::string w = Lower(word);
  while (!w.empty() && !std::isalnum(static_cast<unsigned char>(w.back())) && w.back() != '-') w.pop_back();
  return verbs.count(w) > 0;
}

bool WhatFirst(const std::string& first_sentence) {
  const std::vector<std::string> w = Words(first_sentence);
  if (w.empty()) return false;
  if (IsImperativeVerb(w[0])) return true;
  // A short lead-in: "On x86, add ...", "For VMs with private memory, map ...".
  for (size_t i = 0; i < w.size() && i < 8; ++i) {
    if (w[i].back() == ',') return i + 1 < w.size() && IsImperativeVerb(w[i + 1]);
  }
  return false;
}

std::string FirstSentence(const std::vector<std::string>& message) {
  std::string text;
  size_t i = 0;
  while (i < message.size() && Trim(message[i]).empty()) ++i;
  for (; i < message.size() && !Trim(message[i]).empty(); ++i) text += (text.empty() ? "" : " ") + Trim(message[i]);
  // ". " ends the sentence unless it ends an abbreviation like "e.g." or "i.e.".
  for (size_t pos = text.find(". "); pos != std::string::npos; pos = text.find(". ", pos + 1)) {
    const std::string before = text.substr(0, pos + 1);
    if (before.size() >= 4 && (before.ends_with("e.g.") || before.ends_with("i.e.") || before.ends_with("etc."))) {
      continue;
    }
    return text.substr(0, pos + 1);
  }
  return text;
}

bool HasCreditLine(const std::vector<std::string>& message) {
  static const std::regex link(R"(^Link: https://(git|lore)\.kernel\.org/\S+$)");
  static const std::regex based(R"(^Based on upstream commits? [0-9a-f]{12,40} \(".+)");
  // A patch of our own says so, in so many words, instead.
  static const std::regex none(R"(^(This has no|No) upstream counterpart\b)");
  return std::any_of(message.begin(), message.end(), [](const std::string& l) {
    return std::regex_match(l, link) || std::regex_search(l, based) || std::regex_search(l, none);
  });
}

bool CreditInTrailerBlock(const std::vector<std::string>& message) {
  static const std::regex based(R"(^Based on upstream commits? )");
  static const std::regex trailer(R"(^[A-Za-z0-9-]+: \S)");
  for (size_t i = 0; i < message.size(); ++i) {
    if (!std::regex_search(message[i], based)) continue;
    size_t b = i, e = i;  // the paragraph around line i
    while (b > 0 && !Trim(message[b - 1]).empty()) --b;
    while (e + 1 < message.size() && !Trim(message[e + 1]).empty()) ++e;
    for (size_t j = b; j <= e; ++j) {
      if (j != i && std::regex_search(message[j], trailer)) return true;
    }
  }
  return false;
}

std::vector<std::string> ChangelogProblems(const Patch& p) {
  std::vector<std::string> problems;
  const std::string summary = p.Summary();
  if (summary.size() > kMaxSubject) {
    problems.push_back("subject is " + std::to_string(summary.size()) + " characters (at most " +
                       std::to_string(kMaxSubject) + ")");
  }
  // The summary after "scope: scope: " starts with an imperative verb.
  static const std::regex scopes(R"(^([A-Za-z0-9_./-]+( [A-Za-z0-9_./-]+)*: )+)");
  const std::string what = std::regex_replace(summary, scopes, "", std::regex_constants::format_first_only);
  const std::vector<std::string> sw = Words(what);
  if (SubjectHasPrefix(summary) && (sw.empty() || !IsImperativeVerb(sw[0]))) {
    problems.push_back("subject summary '" + what + "' does not start with an imperative verb");
  }
  const std::string first = FirstSentence(p.message);
  if (!WhatFirst(first)) {
    std::string shown = first.size() > 60 ? first.substr(0, 57) + "..." : first;
    problems.push_back("changelog does not start with what the patch does (first sentence '" + shown +
                       "' should open with an imperative verb, e.g. 'Add ...')");
  }
  if (!HasCreditLine(p.message)) {
    problems.push_back("no credit line (expected 'Based on upstream commit <12 hex> (\"subject\")' or "
                       "'Link: https://git.kernel.org/...' / 'Link: https://lore.kernel.org/...')");
  } else if (CreditInTrailerBlock(p.message)) {
    problems.push_back("'Based on upstream commit' line among the trailers (give it a paragraph of its own: "
                       "b4 am would split it from them, and the round trip would not be byte-identical)");
  }
  return problems;
}

}  // namespace patchq
