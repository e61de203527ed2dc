#include "tools/patchq/sender.h"

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"
#include "tools/patchq/git.h"
#include "tools/patchq/subprocess.h"

namespace patchq {
namespace {

std::string SignOff(const Identity& id) { return "Signed-off-by: " + id.Mailbox(); }

std::string ReplaceLines(const std::string& message, const std::string& from, const std::string& to,
                         bool drop) {
  std::string out;
  for (const auto& l : SplitLines(message)) {
    if (l == from) {
      if (!drop) out += to + "\n";
      continue;
    }
    out += l + "\n";
  }
  return out;
}

}  // namespace

Identity SenderIdentity(const std::string& repo, const Identity& queue) {
  auto get = [&](const std::string& key) {
    // Not isolated: the sender's own (repository or global) config is the point.
    RunResult r = Run({"git", "-C", repo, "config", "--get", key});
    std::string v = Trim(r.out);
    if (!r.ok() || v.empty()) {
      throw Error("no sender identity: git config " + key +
                  " is not set (set it with git config --global " + key + " ...; the mail's From: and "
                  "Signed-off-by: are the sender's)");
    }
    return v;
  };
  Identity id;
  id.name = get("user.name");
  id.email = get("user.email");
  // Mail addresses (and, to be safe, names) compare without regard to case.
  if (AsciiLower(id.email) == AsciiLower(queue.email) || AsciiLower(id.name) == AsciiLower(queue.name)) {
    throw Error("no sender identity: git config user.name/user.email is the project identity '" +
                queue.Mailbox() + "' (IDENTITY), which cannot sign off a mail; configure your own");
  }
  return id;
}

std::string MessageForSender(const std::string& message, const Identity& queue, const Identity& sender) {
  const std::string ours = SignOff(sender);
  bool already = false;
  for (const auto& l : SplitLines(message)) already = already || l == ours;
  std::string text = ReplaceLines(message, SignOff(queue), ours, already);
  RunOptions ro = IsolatedGit();
  ro.input = text;
  return RunChecked({"git", "interpret-trailers", "--if-exists", "addIfDifferent", "--if-missing", "add",
                     "--where", "end", "--trailer", ours},
                    ro);
}

std::string MessageForQueue(const std::string& message, const Identity& queue, const Identity& sender) {
  return ReplaceLines(message, SignOff(sender), SignOff(queue), false);
}

}  // namespace patchq
