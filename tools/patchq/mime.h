// RFC 2047 encoded words in mail headers, as git format-patch writes them for
// non-ASCII names and subjects (UTF-8, Q or B encoding).
#pragma once

#include <string>

namespace patchq {

// Decodes =?charset?Q|B?...?= words (white space between two encoded words
// is dropped); other text is kept. Bytes are passed through unconverted.
std::string DecodeHeader(const std::string& value);

// Plain ASCII stays as it is; anything else becomes UTF-8 Q encoded words of
// at most 75 characters, folded with "\n ".
std::string EncodeHeader(const std::string& text);

// "Name <email>" for a From:/To: header: the name quoted when it has
// specials, encoded when it is not ASCII.
std::string EncodeMailbox(const std::string& name, const std::string& email);

}  // namespace patchq
