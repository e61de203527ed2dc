// The project identity (IDENTITY: "name = ..." and "email = ..." lines) and
// the submitter's git identity.
#pragma once

#include <string>

namespace patchq {

struct Identity {
  std::string name;
  std::string email;
  std::string Mailbox() const { return name + " <" + email + ">"; }
  bool operator==(const Identity&) const = default;
};

Identity ParseIdentity(const std::string& text, const std::string& file);
Identity ReadIdentity(const std::string& repo);  // <repo>/IDENTITY
// git config user.name / user.email as seen from dir.
Identity GitUserIdentity(const std::string& dir);

}  // namespace patchq
