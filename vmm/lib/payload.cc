#include "vmm/lib/payload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "vmm/lib/unique_fd.h"

namespace gmem {

uint32_t Fnv1a32(std::span<const uint8_t> bytes) {
  uint32_t h = 0x811c9dc5u;
  for (uint8_t b : bytes) h = (h ^ b) * 0x01000193u;
  return h;
}

std::vector<uint8_t> PackPayload(const Payload& p) {
  PayloadHeader h{};
  std::memcpy(h.magic, kPayloadMagic, 8);
  h.version = 1;
  h.header_size = sizeof h;
  h.load_gpa = p.load_gpa;
  h.entry_gpa = p.entry_gpa;
  h.image_size = p.image.size();
  h.bss_size = static_cast<uint32_t>(p.bss_size);
  h.checksum = Fnv1a32(p.image);
  std::vector<uint8_t> out(sizeof h + p.image.size());
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + sizeof h, p.image.data(), p.image.size());
  return out;
}

Result<Payload> ParsePayload(std::span<const uint8_t> file, uint64_t min_gpa,
                             uint64_t max_gpa) {
  auto bad = [](const std::string& why) {
    return Error::Msg("corrupt payload: " + why, ErrorKind::kInvalidArgument,
                      "rebuild it with bazel build //vmm:payload");
  };
  PayloadHeader h;
  if (file.size() < sizeof h) return bad("shorter than its header");
  std::memcpy(&h, file.data(), sizeof h);
  if (std::memcmp(h.magic, kPayloadMagic, 8) != 0) return bad("bad magic");
  if (h.version != 1) return bad("unknown version " + std::to_string(h.version));
  if (h.header_size != sizeof h) return bad("bad header size");
  if (h.image_size == 0 || h.image_size != file.size() - sizeof h)
    return bad("image size " + std::to_string(h.image_size) +
               " does not match the file (" +
               std::to_string(file.size() - sizeof h) + " bytes)");
  uint64_t end = h.load_gpa + h.image_size + h.bss_size;
  if (h.load_gpa < min_gpa || end < h.load_gpa || end > max_gpa)
    return bad("does not fit its load window");
  if (h.entry_gpa < h.load_gpa || h.entry_gpa >= h.load_gpa + h.image_size)
    return bad("entry point outside the image");
  auto image = file.subspan(sizeof h);
  if (Fnv1a32(image) != h.checksum) return bad("checksum mismatch");
  Payload p;
  p.load_gpa = h.load_gpa;
  p.entry_gpa = h.entry_gpa;
  p.bss_size = h.bss_size;
  p.image.assign(image.begin(), image.end());
  return p;
}

Result<std::vector<uint8_t>> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return Error::Sys("open " + path, errno, "", ErrorKind::kInvalidArgument);
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return Error::Sys("stat " + path, errno);
  if (!S_ISREG(st.st_mode) || st.st_size > (64 << 20))
    return Error::Msg(path + ": not a regular file of at most 64 MiB",
                      ErrorKind::kInvalidArgument);
  std::vector<uint8_t> buf(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t r = ::read(fd.get(), buf.data() + got, buf.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Error::Sys("read " + path, errno, "", ErrorKind::kInvalidArgument);
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  buf.resize(got);
  return buf;
}

Status LoadPayload(std::span<uint8_t> mem, const Payload& p) {
  uint64_t end = p.load_gpa + p.image.size() + p.bss_size;
  if (end > mem.size() || end < p.load_gpa)
    return Error::Msg("payload does not fit in guest memory", ErrorKind::kInvalidArgument);
  std::memcpy(mem.data() + p.load_gpa, p.image.data(), p.image.size());
  std::memset(mem.data() + p.load_gpa + p.image.size(), 0, p.bss_size);
  return Ok{};
}

}  // namespace gmem
