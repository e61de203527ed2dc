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
constexpr char kMakeItFail[] = "/proc/thread-self/make-it-fail";

bool Put(const std::string& path, const char* value) {
  UniqueFd f(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!f.valid()) return false;
  ssize_t n = write(f.get(), value, strlen(value));
  return n == static_cast<ssize_t>(strlen(value));
}

// The thread's make-it-fail, opened while allocations still succeed: once
// every allocation fails, opening it would fail too.  One per thread.
int MakeItFailFd() {
  thread_local UniqueFd fd(open(kMakeItFail, O_WRONLY | O_CLOEXEC));
  return fd.get();
}

bool WriteFd(int fd, const char* value) {
  return fd >= 0 && write(fd, value, strlen(value)) == static_cast<ssize_t>(strlen(value));
}

thread_local bool persistent_armed = false;

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
           // The persistent mode: every allocation of a task with
           // make-it-fail set fails once fail-nth has fired.  Other tasks
           // are filtered out.
           std::pair{slab + "task-filter", "Y"},
           std::pair{slab + "probability", "100"},
           std::pair{slab + "interval", "1"},
           std::pair{slab + "times", "-1"},
           std::pair{slab + "space", "0"},
           std::pair{page + "task-filter", "Y"},
           std::pair{page + "probability", "100"},
           std::pair{page + "interval", "1"},
           std::pair{page + "times", "-1"},
           std::pair{page + "space", "0"},
       }) {
    if (!Put(path, value)) return path + ": " + strerror(errno);
  }
  if (MakeItFailFd() < 0) return std::string(kMakeItFail) + ": " + strerror(errno);
  return "";
}

void FailNthArm(int nth, FailMode mode) {
  Put(kNth, std::to_string(nth).c_str());
  // While fail-nth counts down, the capabilities' other settings are not
  // consulted, so the first nth - 1 allocations still succeed.
  persistent_armed = mode == FailMode::kPersistent && WriteFd(MakeItFailFd(), "1");
}

bool FailNthDisarm() {
  if (persistent_armed) {
    WriteFd(MakeItFailFd(), "0");
    persistent_armed = false;
  }
  char buf[16] = {};
  UniqueFd f(open(kNth, O_RDWR | O_CLOEXEC));
  if (!f.valid()) return false;
  ssize_t n = read(f.get(), buf, sizeof(buf) - 1);
  Put(kNth, "0");
  return n > 0 && atoi(buf) == 0;
}

}  // namespace gmt
