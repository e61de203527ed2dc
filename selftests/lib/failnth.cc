#include "selftests/lib/failnth.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "selftests/lib/kvm.h"

namespace gmt {
namespace {

constexpr char kNth[] = "/proc/thread-self/fail-nth";

bool Put(const std::string& path, const char* value) {
  Fd f(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!f.ok()) return false;
  ssize_t n = write(f.get(), value, strlen(value));
  return n == static_cast<ssize_t>(strlen(value));
}

}  // namespace

std::string FailNthSetUp() {
  if (access(kNth, W_OK) != 0) return std::string(kNth) + ": " + strerror(errno);
  // By default both capabilities ignore sleeping (GFP_KERNEL) allocations,
  // failslab skips nothing else, fail_page_alloc skips order 0 and highmem.
  const std::string slab = "/sys/kernel/debug/failslab/";
  const std::string page = "/sys/kernel/debug/fail_page_alloc/";
  for (const auto& [path, value] : {
           std::pair{slab + "ignore-gfp-wait", "N"},
           std::pair{slab + "verbose", "0"},
           std::pair{page + "ignore-gfp-wait", "N"},
           std::pair{page + "ignore-gfp-highmem", "N"},
           std::pair{page + "min-order", "0"},
           std::pair{page + "verbose", "0"},
       }) {
    if (!Put(path, value)) return path + ": " + strerror(errno);
  }
  return "";
}

void FailNthArm(int nth) { Put(kNth, std::to_string(nth).c_str()); }

bool FailNthDisarm() {
  char buf[16] = {};
  Fd f(open(kNth, O_RDWR | O_CLOEXEC));
  if (!f.ok()) return false;
  ssize_t n = read(f.get(), buf, sizeof(buf) - 1);
  Put(kNth, "0");
  return n > 0 && atoi(buf) == 0;
}

}  // namespace gmt
