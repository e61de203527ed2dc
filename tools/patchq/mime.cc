#include "tools/patchq/mime.h"

#include <cctype>
#include <cstdio>
#include <regex>

namespace patchq {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string DecodeQ(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      out += ' ';
    } else if (s[i] == '=' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out += static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string DecodeB(const std::string& s) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : s) {
    size_t v = alphabet.find(c);
    if (v == std::string::npos) continue;  // '=' padding and junk
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

bool IsPlainAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string DecodeHeader(const std::string& value) {
  static const std::regex word(R"(=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=)");
  std::string out;
  auto begin = value.cbegin();
  bool last_was_word = false;
  for (std::sregex_iterator it(value.begin(), value.end(), word), end; it != end; ++it) {
    const std::smatch& m = *it;
    std::string between(begin, m[0].first);
    // White space between adjacent encoded words is not part of the text.
    if (!(last_was_word && between.find_first_not_of(" \t\r\n") == std::string::npos)) out += between;
    const std::string enc = m[2].str();
    out += (enc == "Q" || enc == "q") ? DecodeQ(m[3].str()) : DecodeB(m[3].str());
    begin = m[0].second;
    last_was_word = true;
  }
  out.append(begin, value.cend());
  return out;
}

std::string EncodeHeader(const std::string& text) {
  if (IsPlainAscii(text)) return text;
  const std::string prefix = "=?UTF-8?q?", suffix = "?=";
  const size_t max_payload = 75 - prefix.size() - suffix.size();
  std::string out, word;
  size_t i = 0;
  while (i < text.size()) {
    // One character: a UTF-8 lead byte and its continuation bytes.
    size_t n = 1;
    while (i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xc0) == 0x80) ++n;
    std::string enc;
    for (size_t k = i; k < i + n; ++k) {
      unsigned char c = static_cast<unsigned char>(text[k]);
      if (std::isalnum(c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/') {
        enc += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "=%02X", c);
        enc += buf;
      }
    }
    if (word.size() + enc.size() > max_payload) {
      out += (out.empty() ? "" : "\n ") + prefix + word + suffix;
      word.clear();
    }
    word += enc;
    i += n;
  }
  if (!word.empty()) out += (out.empty() ? "" : "\n ") + prefix + word + suffix;
  return out;
}

std::string EncodeMailbox(const std::string& name, const std::string& email) {
  if (name.empty()) return "<" + email + ">";
  if (!IsPlainAscii(name)) return EncodeHeader(name) + " <" + email + ">";
  if (name.find_first_of("()<>[]:;@\\,.\"") != std::string::npos) {
    std::string q = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + "\" <" + email + ">";
  }
  return name + " <" + email + ">";
}

}  // namespace patchq
