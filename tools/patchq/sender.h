// The sender of a series: the person whose git identity (user.name and
// user.email) goes into From: and Signed-off-by: of every mail, in place of
// the queue's project identity (IDENTITY), which never reaches a mail.
#pragma once

#include <string>

#include "tools/patchq/identity.h"

namespace patchq {

// git config user.name/user.email as seen from repo (the repository's own
// config, then the global one).  Throws an Error with a one-line reason when
// either is missing or when it is the project identity itself.
Identity SenderIdentity(const std::string& repo, const Identity& queue);

// The commit message as the sender mails it: every "Signed-off-by: QUEUE"
// becomes "Signed-off-by: SENDER" (dropped when the sender already signed
// off), and a sender's Signed-off-by is added at the end of the trailers
// when there is none (git interpret-trailers).
std::string MessageForSender(const std::string& message, const Identity& queue, const Identity& sender);

// The inverse, for a posted series taken back into the queue: every
// "Signed-off-by: SENDER" becomes "Signed-off-by: QUEUE".
std::string MessageForQueue(const std::string& message, const Identity& queue, const Identity& sender);

}  // namespace patchq
