// The project identity (IDENTITY: "name = ..." and "email = ..." lines): the
// queue's one author and signer.  The sender's identity is in sender.h.
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

}  // namespace patchq
