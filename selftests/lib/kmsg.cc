#include "selftests/lib/kmsg.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gmt {

KmsgWatch::KmsgWatch() {
  fd_.reset(open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd_.valid()) {
    error_ = std::string("/dev/kmsg: ") + strerror(errno);
    return;
  }
  if (lseek(fd_.get(), 0, SEEK_END) < 0) {
    error_ = std::string("/dev/kmsg: seek to the end: ") + strerror(errno);
    fd_.reset();
  }
}

std::vector<std::string> KmsgWatch::NewMessages() {
  std::vector<std::string> out;
  if (!fd_.valid()) return out;
  // One record per read(): "prio,seq,usec,flags;text\n" plus
  // continuation lines (" KEY=value") that are not part of the text.
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd_.get(), buf, sizeof(buf) - 1);
    if (n < 0) {
      if (errno == EPIPE) continue;  // Overwritten records: skip them.
      break;                         // EAGAIN: nothing more.
    }
    std::string rec(buf, static_cast<size_t>(n));
    size_t semi = rec.find(';');
    if (semi == std::string::npos) continue;
    size_t eol = rec.find('\n', semi);
    out.push_back(rec.substr(semi + 1, eol == std::string::npos ? std::string::npos
                                                                : eol - semi - 1));
  }
  return out;
}

std::vector<std::string> KmsgWatch::NewMessagesWith(const std::string& needle) {
  std::vector<std::string> out;
  for (std::string& m : NewMessages())
    if (m.find(needle) != std::string::npos) out.push_back(std::move(m));
  return out;
}

}  // namespace gmt
