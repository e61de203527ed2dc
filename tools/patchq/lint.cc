#include "tools/patchq/lint.h"

#include <regex>

namespace patchq {
namespace {

bool IsBlank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

bool IsTrailer(const std::string& s) {
  static const std::regex re(R"(^[A-Za-z0-9-]+: \S.*$)");
  return std::regex_match(s, re) || (s.size() > 1 && s.front() == '[' && s.back() == ']');
}

}  // namespace

bool SubjectHasPrefix(const std::string& summary) {
  static const std::regex re(R"(^[A-Za-z0-9_./-]+( [A-Za-z0-9_./-]+)*: \S.*$)");
  return std::regex_match(summary, re);
}

std::vector<std::string> LintPatch(const Patch& p, const Identity& identity) {
  std::vector<std::string> problems;
  auto at = [](int line) { return "line " + std::to_string(line) + ": "; };

  const std::string from = p.Author();
  if (from != identity.Mailbox()) {
    problems.push_back(at(p.HeaderLine("From")) + "From: '" + from + "', expected the project identity '" +
                       identity.Mailbox() + "' (IDENTITY)");
  }
  const std::string summary = p.Summary();
  if (!SubjectHasPrefix(summary)) {
    problems.push_back(at(p.HeaderLine("Subject")) + "subject '" + summary +
                       "' has no subsystem prefix (expected 'subsystem: summary', e.g. 'KVM: x86: ...')");
  }

  // Changelog: message lines other than the trailing trailer block.
  size_t end = p.message.size();
  while (end > 0 && IsBlank(p.message[end - 1])) --end;
  size_t trailers = end;
  while (trailers > 0 && !IsBlank(p.message[trailers - 1]) && IsTrailer(p.message[trailers - 1])) --trailers;
  bool has_text = false;
  for (size_t i = 0; i < trailers; ++i) {
    if (!IsBlank(p.message[i])) has_text = true;
  }
  if (!has_text) {
    problems.push_back(at(p.body_line) + "no changelog body (expected text explaining the change before the trailers)");
  }

  bool any_sob = false, our_sob = false;
  const std::string want = "Signed-off-by: " + identity.Mailbox();
  for (size_t i = 0; i < p.message.size(); ++i) {
    const std::string& l = p.message[i];
    if (l.rfind("Signed-off-by:", 0) == 0) {
      any_sob = true;
      if (l == want) our_sob = true;
    }
    if (l.rfind("From ", 0) == 0) {
      problems.push_back(at(p.body_line + static_cast<int>(i)) +
                         "message line starts with 'From ' (it splits mbox messages; reword it)");
    }
  }
  if (!any_sob) {
    problems.push_back("no Signed-off-by (expected '" + want + "')");
  } else if (!our_sob) {
    problems.push_back("no Signed-off-by from the project identity (expected '" + want + "')");
  }
  return problems;
}

}  // namespace patchq
