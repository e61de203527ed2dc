// Module lifetime of guest_memfd: the KVM vendor module (kvm_amd or
// kvm_intel), which owns guest_memfd's filesystem, stays loaded while any
// guest_memfd memory exists, and unloads and loads again once it is gone.
//
// Needs a kernel whose vendor module is modular (scripts/kernel-build.sh
// --variant modules) and the module's file in $GMT_KVM_MODULE, from which
// the test loads it (again).  Skips by name elsewhere, unless
// GMT_REQUIRE_MODULE is set, which makes that a failure.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "selftests/lib/kvm.h"
#include "selftests/lib/skip.h"

namespace gmt {
namespace {

constexpr uint64_t kPage = 4096;

// "kvm_amd" for ".../kvm-amd.ko".
std::string ModuleName(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  base = base.substr(0, base.find('.'));
  for (char& c : base) {
    if (c == '-') c = '_';
  }
  return base;
}

// The module's reference count, -1 if it is not loaded.
long Refcount(const std::string& name) {
  std::ifstream f("/sys/module/" + name + "/refcnt");
  long n = -1;
  if (!(f >> n)) return -1;
  return n;
}

// Waits up to 10 s for the count to drop to |want| (inodes are freed
// after an RCU grace period).
long WaitRefcount(const std::string& name, long want) {
  long n = Refcount(name);
  for (int i = 0; i < 1000 && n != want; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = Refcount(name);
  }
  return n;
}

int LoadModule(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  long r = syscall(SYS_finit_module, fd, "", 0);
  int err = errno;
  close(fd);
  return r ? -err : 0;
}

int UnloadModule(const std::string& name) {
  return syscall(SYS_delete_module, name.c_str(), O_NONBLOCK) ? -errno : 0;
}

// One VM and one guest_memfd of it, mapped if the kernel allows; then the
// VM and /dev/kvm are closed, so that only the guest_memfd (and its
// mapping) keep anything alive.
struct GmemOnly {
  UniqueFd gmem;
  Mapping map;
  std::string error;
  GmemOnly() {
    UniqueFd kvm = OpenKvm();
    if (!kvm.valid()) {
      error = std::string("/dev/kvm: ") + strerror(errno);
      return;
    }
    UniqueFd vm(static_cast<int>(ioctl(kvm.get(), KVM_CREATE_VM, 0)));
    if (!vm.valid()) {
      error = std::string("KVM_CREATE_VM: ") + strerror(errno);
      return;
    }
    uint64_t flags = static_cast<uint64_t>(CheckExtension(vm.get(), KVM_CAP_GUEST_MEMFD_FLAGS));
    flags &= GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
    long fd = CreateGuestMemfd(vm.get(), 4 * kPage, flags);
    if (fd < 0) {
      error = std::string("KVM_CREATE_GUEST_MEMFD: ") + strerror(static_cast<int>(-fd));
      return;
    }
    gmem.reset(static_cast<int>(fd));
    if (flags & GUEST_MEMFD_FLAG_INIT_SHARED) {
      map = Mapping::Map(4 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, gmem.get(), 0);
      if (!map.valid()) {
        error = std::string("mmap: ") + strerror(errno);
        return;
      }
      std::memset(map.data(), 0x42, 4 * kPage);
    }
  }
};

class ModuleLifetime : public testing::Test {
 protected:
  void SetUp() override {
    const char* path = getenv("GMT_KVM_MODULE");
    if (!path || !*path) {
      if (getenv("GMT_REQUIRE_MODULE")) {
        FAIL() << "GMT_REQUIRE_MODULE is set without GMT_KVM_MODULE";
      }
      GTEST_SKIP() << "GMT_KVM_MODULE does not name the KVM vendor module";
    }
    path_ = path;
    name_ = ModuleName(path_);
    if (Refcount(name_) < 0) {
      ASSERT_EQ(LoadModule(path_), 0) << "loading " << path_;
    }
    base_ = WaitRefcount(name_, 0);
    ASSERT_EQ(base_, 0) << name_ << " is in use before the test";
  }
  std::string path_, name_;
  long base_ = -1;
};

TEST_F(ModuleLifetime, GuestMemfdPinsTheModuleUntilItsMemoryIsGone) {
  {
    GmemOnly g;
    ASSERT_TRUE(g.error.empty()) << g.error;
    EXPECT_GT(Refcount(name_), base_) << "guest_memfd memory must pin " << name_;
    EXPECT_EQ(UnloadModule(name_), -EWOULDBLOCK) << "unloaded under an open guest_memfd";
    // The mapping alone keeps the file, its inode and the module.
    UniqueFd closed = std::move(g.gmem);
    closed.reset();
    if (g.map.valid()) {
      EXPECT_EQ(g.map.data()[kPage], 0x42);
      EXPECT_EQ(UnloadModule(name_), -EWOULDBLOCK) << "unloaded under a guest_memfd mapping";
    }
  }
  EXPECT_EQ(WaitRefcount(name_, base_), base_) << "a reference outlived all guest_memfd memory";
  ASSERT_EQ(UnloadModule(name_), 0) << name_ << " cannot be unloaded";
  EXPECT_EQ(Refcount(name_), -1);
  // guest_memfd's filesystem comes back with the module.
  ASSERT_EQ(LoadModule(path_), 0) << "reloading " << path_;
  {
    GmemOnly g;
    ASSERT_TRUE(g.error.empty()) << g.error;
  }
  EXPECT_EQ(WaitRefcount(name_, base_), base_);
  ASSERT_EQ(UnloadModule(name_), 0);
  ASSERT_EQ(LoadModule(path_), 0);
}

TEST_F(ModuleLifetime, UnloadsRightAfterLoading) {
  // Nothing but guest memory may pin the module: not guest_memfd's own
  // filesystem (its root inode), which exists from the moment KVM loads.
  ASSERT_EQ(UnloadModule(name_), 0) << name_ << " is pinned by nothing the test made";
  ASSERT_EQ(LoadModule(path_), 0);
}

}  // namespace
}  // namespace gmt
