// gmem_bench: guest_memfd micro-benchmarks, one static binary for our 6.1
// series and for upstream (same uapi numbers), run by scripts/bench.sh in
// the QEMU harness on both kernels and, for what a default VM offers, on
// the host.  Every metric is measured afresh in each round (new VM, new
// memory); a round measures all of them in turn.  One line per metric per
// round:
//
//   METRIC <name> <unit> <value>
//   METRIC <name> <unit> n/a <reason>      the running kernel lacks the ABI
//   METRIC <name> <unit> error <what>      the measurement failed (exit 1)
//
// then a table of medians.  Metrics (S = 64 MiB, 16 MiB with --quick):
//
//   fallocate, punch_hole          MiB/s   fallocate() of a fresh S guest_memfd, then
//                                          punching all of it (default VM's guest_memfd)
//   memfd_fallocate, memfd_punch_hole MiB/s the same on a memfd: no KVM code, the control
//                                          for what the kernel's page cache contributes
//   first_touch_private            MiB/s   a vCPU fills S of private guest_memfd memory
//                                          (SW-protected VM, attributes private)
//   first_touch_shared_gmem        MiB/s   ... of shared memory in a gmem-only slot (default
//                                          VM, GUEST_MEMFD_FLAG_MMAP | INIT_SHARED)
//   first_touch_anon_4k            MiB/s   ... of anonymous memory in 4 KiB pages
//                                          (MADV_NOHUGEPAGE), default VM
//   attr_{private,shared}_<size>   ms/call KVM_SET_MEMORY_ATTRIBUTES over 64 MiB, 1 GiB and
//   ..._rate                       pages/s 4 GiB (--quick: 64 MiB) of gfns that a memslot
//                                          covers, no memory touched: all private, then all
//                                          shared
//   attr_alt4k_64M[_rate]          ms/call every other 4 KiB page of 64 MiB made private, one
//                                  pages/s call per page
//   conversion_cycle               cycles/s private -> shared -> private of 2 MiB, the
//                                          guest filling it after each conversion and the
//                                          VMM discarding the other copy (punch-hole on the
//                                          way to shared, MADV_DONTNEED on the way back)
//   conversion_cycle_<phase>       ms      one cycle's time in each phase: to_shared, punch,
//                                          fill_shared, to_private, discard, fill_private
//   first_touch_during_conversions MiB/s   a vCPU fills S of shared 4 KiB anonymous memory of
//   first_touch_slowdown_by_conv.. x       a SW-protected VM while another thread flips a
//   conversions_during_touch       calls/s 2 MiB range of the same slot between private and
//                                          shared, 500 times a second; the slowdown is the
//                                          fill's time over that of the same fill without
//                                          conversions (fresh VM): 1 when invalidations
//                                          cover only the converted gfns
//   prefault_private               MiB/s   KVM_PRE_FAULT_MEMORY over S of private memory
//   footprint_private_shared       x       pages held after the guest filled S private,
//                                          then (converted, no discard) S shared, as a
//                                          multiple of S: guest_memfd's pages counted as the
//                                          growth of the Unevictable LRU (guest_memfd mappings
//                                          are unevictable, nothing else here is; LRU batch
//                                          drained, vmstat folded) + the anonymous side's
//                                          resident pages (mincore).  Works on every kernel
//                                          but counts the whole machine: run it on a quiet one
//   footprint_private_shared_cachestat x   the same with guest_memfd's pages from
//                                          cachestat(2) on the file, exact, where the kernel
//                                          has it (6.5+ with CONFIG_CACHESTAT_SYSCALL; not 6.1,
//                                          and tinyconfig builds leave it out)
//   footprint_gmem_only[_cachestat] x      pages held by a gmem-only guest_memfd after the
//                                          guest filled S shared (its mapping maps the same
//                                          pages), as a multiple of S
//
//   inplace_cycle_<S>              cycles/s private -> shared -> private of S, the guest
//                                          filling it after each conversion, converted in
//                                          place (KVM_SET_MEMORY_ATTRIBUTES2 on a mappable
//                                          guest_memfd; kvm.gmem_in_place_conversion=1)
//   attr_cycle_<S>                 cycles/s the same with attributes + punch-hole/discard, as
//                                          conversion_cycle, in the same round
//   inplace_cycle_<S>_vs_attr      x       a cycle's time in place over its time with
//                                          attributes (attr_cycle_<S> / inplace_cycle_<S>)
//   {inplace,attr}_cycle_<S>_convert ms    per cycle: both conversions (with the punch and
//   {inplace,attr}_cycle_<S>_fill  ms      discard), and both guest fills
//   {inplace,attr}_touch_cycle_<S>[...]    the same cycles with the guest re-touching each
//                                          page (one dword per 4 KiB) instead of filling it:
//                                          the cost of conversion as the guest sees it,
//                                          without TCG's emulation of 4 KiB of stores
//   ownership_first_touch_{on,off} MiB/s   first_touch_private with kvm.sw_protected_unmap_private
//                                          on and off, alternating in one run (medians of 3)
//   ownership_first_touch_cost     x       time with ownership over time without
//   ownership_first_touch_unbatched MiB/s  the same with ownership on but one TLB flush per
//                                          page (kvm.sw_protected_prepare_ahead=0)
//   ownership_first_touch_unbatched_cost x that time over time without ownership
//   ownership_convert_{on,off}     ms      an in-place private -> shared -> private conversion
//                                          of S whose every page is in use, on and off
//   ownership_convert_cost         x       time on over time off
//   footprint_inplace              x       pages held after the guest filled S private, then
//                                          (converted in place) S shared, as a multiple of S:
//                                          mincore of the guest_memfd mapping (exact)
//
//   (fstat's st_blocks is 0 for guest_memfd on every kernel: it does not account it.)
//
//   gmem_bench [--quick] [--rounds N] [--only PREFIX[,PREFIX...]]
//
// --quick: S = 16 MiB, 2 rounds, attributes over 64 MiB only, shorter
// conversion runs.  --only: the metrics whose names start with a prefix.
// Exit 0, 1 if a measurement failed, 2 on bad usage, 4 without /dev/kvm.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/report.h"
#include "common/metric.h"
#include "selftests/lib/kvm.h"
#include "selftests/lib/ownership.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451  // x86_64, Linux 6.5
#endif

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kMiB = 1ULL << 20;
constexpr uint64_t kGiB = 1ULL << 30;
// Guest-touched memory sits below 4 GiB (the guest runs in 32-bit flat
// mode without paging); attribute ranges, which no vCPU touches, at 4 GiB.
constexpr uint64_t kDataGpa = 256 * kMiB;
constexpr uint64_t kAttrGpa = 4 * kGiB;
constexpr uint32_t kDataSlot = 1;
constexpr uint64_t kCycleSize = 2 * kMiB;
constexpr uint64_t kAltSize = 64 * kMiB;
constexpr std::chrono::microseconds kConversionPeriod{2000};  // 500 conversions/s
constexpr uint64_t kSharedGmemFlags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;

// A failed measurement: what was done, with errno.
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string ErrnoText(int err) {
  return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")";
}
[[noreturn]] void Fail(const std::string& what, int err) {
  throw Failure(what + ": " + ErrnoText(err));
}
// gmt's helpers return -errno.
long Check(long r, const std::string& what) {
  if (r < 0) Fail(what, static_cast<int>(-r));
  return r;
}
// libc calls return -1 and set errno.
void CheckSys(int r, const std::string& what) {
  if (r < 0) Fail(what, errno);
}

std::string Hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
std::string SizeText(uint64_t bytes) {
  if (bytes >= kGiB && bytes % kGiB == 0) return std::to_string(bytes / kGiB) + " GiB";
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}
std::string Range(uint64_t gpa, uint64_t size) { return "gpa " + Hex(gpa) + ", " + SizeText(size); }

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
double MiBps(uint64_t bytes, double s) { return static_cast<double>(bytes) / kMiB / s; }

// ---- What the running kernel offers --------------------------------------

// Each ABI a metric may need: empty if present, else why not ("error: ..."
// when the kernel offers it and it fails).
struct Caps {
  std::string kvm, gmem, sw_vm, shared_gmem, prefault, cachestat, meminfo, in_place, ownership;
};

long UnevictableKiB();
bool RefreshVmStats();

Caps Probe() {
  Caps c;
  gmt::UniqueFd kvm = gmt::OpenKvm();
  if (!kvm.valid()) {
    c.kvm = "/dev/kvm: " + ErrnoText(errno);
    c.gmem = c.sw_vm = c.shared_gmem = c.prefault = c.kvm;
  } else {
    if (gmt::CheckExtension(kvm.get(), KVM_CAP_GUEST_MEMFD) <= 0)
      c.gmem = "no KVM_CAP_GUEST_MEMFD (cap 234)";
    long types = gmt::CheckExtension(kvm.get(), KVM_CAP_VM_TYPES);
    if (!c.gmem.empty()) {
      c.sw_vm = c.shared_gmem = c.prefault = c.gmem;
    } else if (!gmt::VmTypeSupported(kvm.get(), KVM_X86_SW_PROTECTED_VM)) {
      c.sw_vm = "no KVM_X86_SW_PROTECTED_VM (KVM_CAP_VM_TYPES = " +
                (types < 0 ? ErrnoText(static_cast<int>(-types)) : Hex(types)) + ")";
    } else {
      gmt::UniqueFd vm(static_cast<int>(gmt::Ioctl(
          kvm.get(), KVM_CREATE_VM, static_cast<unsigned long>(KVM_X86_SW_PROTECTED_VM))));
      if (!vm.valid()) {
        c.sw_vm = "error: KVM_CREATE_VM(KVM_X86_SW_PROTECTED_VM), a type KVM_CAP_VM_TYPES lists: " +
                  ErrnoText(errno);
      } else if (!(gmt::CheckExtension(vm.get(), KVM_CAP_MEMORY_ATTRIBUTES) &
                   KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
        c.sw_vm = "SW-protected VM without KVM_MEMORY_ATTRIBUTE_PRIVATE";
      }
      if (c.sw_vm.empty() && gmt::CheckExtension(vm.get(), KVM_CAP_PRE_FAULT_MEMORY) <= 0)
        c.prefault = "no KVM_CAP_PRE_FAULT_MEMORY (cap 236) on a SW-protected VM";
    }
    if (!c.sw_vm.empty() && c.prefault.empty()) c.prefault = c.sw_vm;
    if (c.gmem.empty()) {
      gmt::UniqueFd vm(static_cast<int>(
          gmt::Ioctl(kvm.get(), KVM_CREATE_VM, static_cast<unsigned long>(KVM_X86_DEFAULT_VM))));
      long flags = vm.valid() ? gmt::CheckExtension(vm.get(), KVM_CAP_GUEST_MEMFD_FLAGS) : -errno;
      if (flags < 0 || (static_cast<uint64_t>(flags) & kSharedGmemFlags) != kSharedGmemFlags)
        c.shared_gmem =
            "no GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED on a default VM "
            "(KVM_CAP_GUEST_MEMFD_FLAGS, cap 244 = " +
            (flags < 0 ? ErrnoText(static_cast<int>(-flags)) : Hex(flags)) + ")";
    }
  }
  // cachestat(2) on fd -1: EBADF where the syscall exists.
  if (syscall(__NR_cachestat, -1, nullptr, nullptr, 0) < 0 && errno == ENOSYS)
    c.cachestat =
        "no cachestat(2) (Linux 6.5+, CONFIG_CACHESTAT_SYSCALL; tinyconfig leaves it out), and "
        "guest_memfd does not account st_blocks";
  if (!c.sw_vm.empty())
    c.in_place = c.sw_vm;
  else if (gmt::CheckExtension(kvm.get(), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES) !=
           static_cast<long>(KVM_MEMORY_ATTRIBUTE_PRIVATE))
    c.in_place =
        "no in-place conversion (KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES, cap 250; our series "
        "with kvm.gmem_in_place_conversion=1)";
  if (!c.in_place.empty())
    c.ownership = c.in_place;
  else if (int r = gmt::SwOwnership(); r < 0)
    c.ownership = "no software ownership of SW-protected VMs' private memory "
                  "(kvm.sw_protected_unmap_private: " + ErrnoText(-r) + ")";
  if (UnevictableKiB() < 0)
    c.meminfo = "no Unevictable line in /proc/meminfo";
  else if (!RefreshVmStats())
    c.meminfo = "/proc/sys/vm/stat_refresh: " + ErrnoText(errno) + " (exact LRU counts need root)";
  return c;
}

// ---- Building blocks -----------------------------------------------------

class Vm {
 public:
  explicit Vm(unsigned type) : vm_(type) {
    if (!vm_.ok())
      throw Failure("creating a " + std::string(type ? "SW-protected" : "default") +
                    " VM with a vCPU: " + vm_.error());
  }
  int fd() const { return vm_.vm(); }
  gmt::TestVm& test_vm() { return vm_; }

 private:
  gmt::TestVm vm_;
};

gmt::UniqueFd Gmem(const Vm& vm, uint64_t size, uint64_t flags) {
  long r = gmt::CreateGuestMemfd(vm.fd(), size, flags);
  Check(r, "KVM_CREATE_GUEST_MEMFD(" + SizeText(size) + ", flags " + Hex(flags) + ")");
  return gmt::UniqueFd(static_cast<int>(r));
}

gmt::Mapping Map(uint64_t size, int flags, int fd, const std::string& what) {
  gmt::Mapping m = gmt::Mapping::Map(size, PROT_READ | PROT_WRITE, flags, fd, 0);
  if (!m.valid()) Fail("mmap " + what + " (" + SizeText(size) + ")", errno);
  return m;
}
// Anonymous memory that only a guest may touch: reserved, not accounted,
// and aligned to 2 MiB as a VMM aligns guest RAM, so that it can be backed
// by transparent hugepages on every kernel (6.7+ aligns such mappings by
// itself, 6.1 does not: unaligned, the two kernels would be measured with
// different page sizes).
gmt::Mapping Anon(uint64_t size) {
  gmt::Mapping m = gmt::Mapping::MapAnonAligned(size, 2 * kMiB, PROT_READ | PROT_WRITE,
                                                MAP_PRIVATE | MAP_NORESERVE);
  if (!m.valid()) Fail("mmap anonymous memory (" + SizeText(size) + ")", errno);
  return m;
}

void Slot(const Vm& vm, uint64_t gpa, uint64_t size, const gmt::Mapping* hva,
          const gmt::UniqueFd* gmem) {
  gmt::Region2 r;
  r.slot = kDataSlot;
  r.flags = gmem ? KVM_MEM_GUEST_MEMFD : 0;
  r.gpa = gpa;
  r.size = size;
  r.hva = hva ? reinterpret_cast<uint64_t>(hva->data()) : 0;
  r.gmem_fd = gmem ? gmem->get() : -1;
  Check(gmt::SetRegion2(vm.fd(), r),
        "KVM_SET_USER_MEMORY_REGION2(" + Range(gpa, size) + (gmem ? ", guest_memfd" : "") + ")");
}

void Attributes(const Vm& vm, uint64_t gpa, uint64_t size, bool priv) {
  Check(gmt::SetAttributes(vm.fd(), gpa, size, priv ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0),
        std::string("KVM_SET_MEMORY_ATTRIBUTES(") + Range(gpa, size) +
            (priv ? ", private)" : ", shared)"));
}

void Fallocate(const gmt::UniqueFd& fd, int mode, uint64_t off, uint64_t len,
               const char* what = "guest_memfd") {
  CheckSys(fallocate(fd.get(), mode, static_cast<off_t>(off), static_cast<off_t>(len)),
           std::string("fallocate(") + what + ", " +
               (mode & FALLOC_FL_PUNCH_HOLE ? "PUNCH_HOLE" : "KEEP_SIZE") + ", " + Hex(off) + ", " +
               SizeText(len) + ")");
}

// The vCPU writes |size| bytes at |gpa| (rep stosl).
// A one-shot SIGALRM to the calling thread only (other threads of a metric
// keep running), so that a KVM_RUN that never returns comes back with
// EINTR: a vCPU that went astray under QEMU's nested SVM spins in the
// guest without an exit, and a benchmark must report it, not hang.
class VcpuDeadline {
 public:
  explicit VcpuDeadline(int seconds) {
    struct sigaction sa = {};
    sa.sa_handler = [](int) {};
    sigaction(SIGALRM, &sa, nullptr);  // no SA_RESTART: KVM_RUN returns EINTR
    sigevent ev = {};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGALRM;
    ev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
    armed_ = timer_create(CLOCK_MONOTONIC, &ev, &timer_) == 0;
    itimerspec when = {};
    when.it_value.tv_sec = seconds;
    if (armed_) timer_settime(timer_, 0, &when, nullptr);
  }
  ~VcpuDeadline() {
    if (armed_) timer_delete(timer_);
  }
  VcpuDeadline(const VcpuDeadline&) = delete;
  VcpuDeadline& operator=(const VcpuDeadline&) = delete;

 private:
  timer_t timer_{};
  bool armed_ = false;
};

void GuestFill(Vm& vm, uint64_t gpa, uint64_t size, uint32_t value) {
  const uint32_t dwords = static_cast<uint32_t>(size / 4);
  gmt::CommandResult res;
  {
    VcpuDeadline deadline(300);
    res = vm.test_vm().Command(gmt::kOpFill, {static_cast<uint32_t>(gpa), dwords, value, 1});
  }
  if (res.ok && res.value == dwords) return;
  std::string what = "guest fill of " + Range(gpa, size) + ": ";
  if (res.err == EINTR) {
    kvm_regs regs = {};
    bool known = ioctl(vm.test_vm().vcpu(), KVM_GET_REGS, &regs) == 0;
    what += "no answer within 300 s, the vCPU at rip " + (known ? Hex(regs.rip) : "?") +
            (known && !gmt::GuestRipInCode(regs.rip) ? " (outside the guest's code)" : "") +
            ": ";
  }
  if (res.ok) {
    what += "the guest answered " + std::to_string(res.value) + " dwords";
  } else {
    what += res.what;
    if (res.exit_reason == KVM_EXIT_MEMORY_FAULT) {
      gmem_memory_fault_exit f = gmem_read_memory_fault(vm.test_vm().run());
      what += " (KVM_EXIT_MEMORY_FAULT at " + Hex(f.gpa) + ", flags " + Hex(f.flags) + ")";
    }
  }
  throw Failure(what);
}

// The guest writes |value| to the first dword of each page of [gpa, gpa +
// size): it touches every page, so every missing mapping costs a fault,
// without emulating 4 KiB of stores per page.
void GuestTouch(Vm& vm, uint64_t gpa, uint64_t size, uint32_t value) {
  const uint32_t pages = static_cast<uint32_t>(size / 4096);
  gmt::CommandResult res;
  {
    VcpuDeadline deadline(300);
    res = vm.test_vm().Command(gmt::kOpTouch, {static_cast<uint32_t>(gpa), pages, value});
  }
  if (res.ok && res.value == pages) return;
  throw Failure("guest touch of " + Range(gpa, size) + ": " +
                (res.ok ? "the guest answered " + std::to_string(res.value) + " pages" : res.what));
}

// Pages of |fd| in its page cache (cachestat(2)).
uint64_t CachedPages(const gmt::UniqueFd& fd) {
  struct {
    uint64_t off, len;
  } range = {0, 0};  // len 0: to the end of the file
  struct {
    uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
  } cs = {};
  CheckSys(static_cast<int>(syscall(__NR_cachestat, fd.get(), &range, &cs, 0)),
           "cachestat(guest_memfd)");
  return cs.nr_cache;
}

// The Unevictable line of /proc/meminfo in KiB, or -1.
long UnevictableKiB() {
  FILE* f = std::fopen("/proc/meminfo", "re");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "Unevictable: %ld kB", &kib) == 1) break;
    kib = -1;
  }
  std::fclose(f);
  return kib;
}
// Folds every CPU's pending vmstat deltas into the global counters that
// /proc/meminfo shows (otherwise off by up to the stat threshold per CPU).
bool RefreshVmStats() {
  int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, "1\n", 2) == 2;
  close(fd);
  return ok;
}
long UnevictablePagesNow() {
  if (!RefreshVmStats()) Fail("writing /proc/sys/vm/stat_refresh", errno);
  long kib = UnevictableKiB();
  if (kib < 0) throw Failure("reading Unevictable from /proc/meminfo: " + ErrnoText(errno));
  return kib / 4;
}

// Keeps the thread on the CPU it runs on while alive, so that the pages the
// guest faults in wait in one CPU's LRU batch, which SettleLru() empties.
class PinToCpu {
 public:
  PinToCpu() {
    if (sched_getaffinity(0, sizeof old_, &old_) < 0) Fail("sched_getaffinity", errno);
    int cpu = sched_getcpu();
    if (cpu < 0) Fail("sched_getcpu", errno);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) < 0) Fail("sched_setaffinity", errno);
  }
  ~PinToCpu() { sched_setaffinity(0, sizeof old_, &old_); }
  PinToCpu(const PinToCpu&) = delete;
  PinToCpu& operator=(const PinToCpu&) = delete;

 private:
  cpu_set_t old_;
};

// New pages reach the LRU lists (and the Unevictable count) through a
// per-CPU batch of up to 15 (6.1) or 31 (6.12) folios; munmap() drains this
// CPU's batch first (unmap_region/vms_clear_ptes: lru_add_drain()).  On the
// host's 6.18 that alone still left up to ~30 pages uncounted at times,
// which a short wait then always settled: so wait too.  Not timed.
void SettleLru() {
  { gmt::Mapping m = Map(kPage, MAP_PRIVATE | MAP_ANONYMOUS, -1, "LRU drain page"); }
  usleep(200 * 1000);
}

// Resident pages of a mapping (mincore).
uint64_t ResidentPages(const gmt::Mapping& m) {
  std::vector<unsigned char> vec(m.size() / kPage);
  CheckSys(mincore(m.data(), m.size(), vec.data()), "mincore(anonymous memory)");
  return static_cast<uint64_t>(
      std::count_if(vec.begin(), vec.end(), [](unsigned char c) { return c & 1; }));
}

// ---- Measurements --------------------------------------------------------

struct Options {
  bool quick = false;
  int rounds = 5;
  uint64_t size = 64 * kMiB;
  std::vector<uint64_t> attr_sizes = {64 * kMiB, kGiB, 4 * kGiB};
  double cycle_seconds = 1.0;
  std::vector<std::string> only;
};

// What one benchmark produced: a value or the reason there is none, per name.
struct Values {
  std::map<std::string, double> value;
  std::map<std::string, std::string> na;
};

void GmemFile(const Options& o, Values& v) {
  Vm vm(KVM_X86_DEFAULT_VM);
  gmt::UniqueFd gmem = Gmem(vm, o.size, 0);
  auto t0 = Clock::now();
  Fallocate(gmem, FALLOC_FL_KEEP_SIZE, 0, o.size);
  v.value["fallocate"] = MiBps(o.size, Seconds(t0));
  t0 = Clock::now();
  Fallocate(gmem, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, o.size);
  v.value["punch_hole"] = MiBps(o.size, Seconds(t0));

  // The same on a memfd (shmem): no KVM code at all, so the ratio between
  // kernels here is what their page cache and page allocator contribute.
  gmt::UniqueFd memfd(static_cast<int>(syscall(SYS_memfd_create, "gmem_bench", 0u)));
  if (!memfd.valid()) {
    v.na["memfd_fallocate"] = v.na["memfd_punch_hole"] =
        std::string("memfd_create: ") + strerror(errno);
    return;
  }
  CheckSys(ftruncate(memfd.get(), static_cast<off_t>(o.size)), "ftruncate(memfd)");
  t0 = Clock::now();
  Fallocate(memfd, FALLOC_FL_KEEP_SIZE, 0, o.size, "memfd");
  v.value["memfd_fallocate"] = MiBps(o.size, Seconds(t0));
  t0 = Clock::now();
  Fallocate(memfd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, o.size, "memfd");
  v.value["memfd_punch_hole"] = MiBps(o.size, Seconds(t0));
}

enum class Touch { kPrivate, kSharedGmem, kAnon4K };

double FirstTouch(const Options& o, Touch kind) {
  const uint64_t size = o.size;
  Vm vm(kind == Touch::kPrivate ? KVM_X86_SW_PROTECTED_VM : KVM_X86_DEFAULT_VM);
  gmt::UniqueFd gmem;
  gmt::Mapping map;
  switch (kind) {
    case Touch::kPrivate:
      gmem = Gmem(vm, size, 0);
      map = Anon(size);  // the shared side, never touched
      Slot(vm, kDataGpa, size, &map, &gmem);
      Attributes(vm, kDataGpa, size, true);
      break;
    case Touch::kSharedGmem:
      gmem = Gmem(vm, size, kSharedGmemFlags);
      map = Map(size, MAP_SHARED, gmem.get(), "guest_memfd");
      Slot(vm, kDataGpa, size, &map, &gmem);
      break;
    case Touch::kAnon4K:
      map = Anon(size);
      CheckSys(madvise(map.data(), size, MADV_NOHUGEPAGE), "madvise(MADV_NOHUGEPAGE)");
      Slot(vm, kDataGpa, size, &map, nullptr);
      break;
  }
  auto t0 = Clock::now();
  GuestFill(vm, kDataGpa, size, 0x5a5a5a5a);
  return MiBps(size, Seconds(t0));
}

// A SW-protected VM with one guest_memfd slot of |size| at |gpa| and an
// untouched anonymous shared side.
struct PrivateVm {
  PrivateVm(uint64_t gpa, uint64_t size)
      : vm(KVM_X86_SW_PROTECTED_VM), gmem(Gmem(vm, size, 0)), shared(Anon(size)) {
    Slot(vm, gpa, size, &shared, &gmem);
  }
  Vm vm;
  gmt::UniqueFd gmem;
  gmt::Mapping shared;
};

void AttributesOver(uint64_t size, Values& v) {
  PrivateVm p(kAttrGpa, size);
  const double pages = static_cast<double>(size / kPage);
  const std::string tag = common::MetricSizeTag(size);
  for (bool priv : {true, false}) {
    auto t0 = Clock::now();
    Attributes(p.vm, kAttrGpa, size, priv);
    double s = Seconds(t0);
    std::string name = std::string("attr_") + (priv ? "private_" : "shared_") + tag;
    v.value[name] = s * 1e3;
    v.value[name + "_rate"] = pages / s;
  }
}

void AttributesAlternating(Values& v) {
  PrivateVm p(kAttrGpa, kAltSize);
  const uint64_t calls = kAltSize / (2 * kPage);
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < calls; i++) Attributes(p.vm, kAttrGpa + 2 * i * kPage, kPage, true);
  double s = Seconds(t0);
  v.value["attr_alt4k_64M"] = s * 1e3 / static_cast<double>(calls);
  v.value["attr_alt4k_64M_rate"] = static_cast<double>(calls) / s;
}

void ConversionCycle(const Options& o, Values& v) {
  PrivateVm p(kDataGpa, kCycleSize);
  Attributes(p.vm, kDataGpa, kCycleSize, true);
  GuestFill(p.vm, kDataGpa, kCycleSize, 1);  // not timed: the private copy exists
  // Where a cycle's time goes, phase by phase (each one's total, in ms per
  // cycle), so that a difference between kernels can be placed.
  enum Phase { kToShared, kPunch, kFillShared, kToPrivate, kDiscard, kFillPrivate, kPhases };
  static constexpr const char* kPhaseNames[kPhases] = {
      "to_shared", "punch", "fill_shared", "to_private", "discard", "fill_private"};
  double spent[kPhases] = {};
  auto timed = [&spent](Phase ph, auto&& fn) {
    auto t = Clock::now();
    fn();
    spent[ph] += Seconds(t);
  };
  int cycles = 0;
  auto t0 = Clock::now();
  do {
    timed(kToShared, [&] { Attributes(p.vm, kDataGpa, kCycleSize, false); });
    timed(kPunch, [&] {
      Fallocate(p.gmem, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, kCycleSize);
    });
    timed(kFillShared, [&] { GuestFill(p.vm, kDataGpa, kCycleSize, 2); });
    timed(kToPrivate, [&] { Attributes(p.vm, kDataGpa, kCycleSize, true); });
    timed(kDiscard, [&] {
      CheckSys(madvise(p.shared.data(), kCycleSize, MADV_DONTNEED), "madvise(MADV_DONTNEED)");
    });
    timed(kFillPrivate, [&] { GuestFill(p.vm, kDataGpa, kCycleSize, 3); });
    cycles++;
  } while (cycles < 3 || Seconds(t0) < o.cycle_seconds);
  v.value["conversion_cycle"] = cycles / Seconds(t0);
  for (int ph = 0; ph < kPhases; ph++)
    v.value[std::string("conversion_cycle_") + kPhaseNames[ph]] = spent[ph] * 1e3 / cycles;
}

// A SW-protected VM whose slot is a mappable guest_memfd that converts in
// place: the only copy of the slot's memory.
struct InPlaceVm {
  InPlaceVm(uint64_t gpa, uint64_t size)
      : vm(KVM_X86_SW_PROTECTED_VM),
        gmem(Gmem(vm, size, kSharedGmemFlags)),
        map(Map(size, MAP_SHARED, gmem.get(), "guest_memfd")) {
    Slot(vm, gpa, size, &map, &gmem);
  }
  void Convert(uint64_t off, uint64_t size, bool priv) {
    Check(gmt::SetAttributes2(gmem.get(), off, size, priv ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0),
          std::string("KVM_SET_MEMORY_ATTRIBUTES2(") + (priv ? "private, " : "shared, ") +
              SizeText(size) + ")");
  }
  Vm vm;
  gmt::UniqueFd gmem;
  gmt::Mapping map;
};

// Cycles per second of private -> shared -> private over |size|, the guest
// filling the memory after each conversion: in place, or with the VM's
// attributes and discarding the side that is left.  Both start with the
// private side filled, untimed.
struct CycleTimes {
  double per_second = 0;
  double convert_ms = 0;  // per cycle, both conversions (and discards)
  double fill_ms = 0;     // per cycle, both fills
};

// Runs private -> shared -> private cycles over the slot at kDataGpa of
// |vm|, the guest refilling the memory after each conversion; |convert|
// makes all of it private or shared, with whatever discarding that takes.
// With |touch|, the guest writes one dword per page instead of filling it.
template <typename Convert>
CycleTimes Cycles(const Options& o, Vm& vm, uint64_t size, bool touch, Convert&& convert) {
  auto refill = [&](uint32_t value) {
    if (touch)
      GuestTouch(vm, kDataGpa, size, value);
    else
      GuestFill(vm, kDataGpa, size, value);
  };
  convert(true);
  refill(1);  // not timed: the private side exists
  CycleTimes t;
  int cycles = 0;
  auto t0 = Clock::now();
  do {
    for (bool priv : {false, true}) {
      auto c0 = Clock::now();
      convert(priv);
      auto f0 = Clock::now();
      refill(priv ? 3 : 2);
      t.convert_ms += std::chrono::duration<double>(f0 - c0).count();
      t.fill_ms += Seconds(f0);
    }
    cycles++;
  } while (cycles < 2 || Seconds(t0) < o.cycle_seconds);
  t.per_second = cycles / Seconds(t0);
  t.convert_ms *= 1e3 / cycles;
  t.fill_ms *= 1e3 / cycles;
  return t;
}

CycleTimes InPlaceCycles(const Options& o, uint64_t size, bool touch) {
  InPlaceVm p(kDataGpa, size);
  return Cycles(o, p.vm, size, touch, [&](bool priv) { p.Convert(0, size, priv); });
}

CycleTimes AttributeCycles(const Options& o, uint64_t size, bool touch) {
  PrivateVm p(kDataGpa, size);
  return Cycles(o, p.vm, size, touch, [&](bool priv) {
    Attributes(p.vm, kDataGpa, size, priv);
    if (priv)
      CheckSys(madvise(p.shared.data(), size, MADV_DONTNEED), "madvise(MADV_DONTNEED)");
    else
      Fallocate(p.gmem, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, size);
  });
}

// |kind| is "cycle" (the guest fills every page) or "touch_cycle" (one
// dword per page).
void InPlaceCycle(const Options& o, Values& v, bool touch) {
  const std::string kind = touch ? "touch_cycle_" : "cycle_";
  const std::string tag = common::MetricSizeTag(o.size);
  const CycleTimes in_place = InPlaceCycles(o, o.size, touch);
  const CycleTimes attr = AttributeCycles(o, o.size, touch);
  v.value["inplace_" + kind + tag] = in_place.per_second;
  v.value["inplace_" + kind + tag + "_convert"] = in_place.convert_ms;
  v.value["inplace_" + kind + tag + "_fill"] = in_place.fill_ms;
  v.value["attr_" + kind + tag] = attr.per_second;
  v.value["attr_" + kind + tag + "_convert"] = attr.convert_ms;
  v.value["attr_" + kind + tag + "_fill"] = attr.fill_ms;
  // A cycle's time in place over its time with attributes: lower is better,
  // as for every "x" metric.
  v.value["inplace_" + kind + tag + "_vs_attr"] = attr.per_second / in_place.per_second;
}

// Software ownership (kvm.sw_protected_unmap_private) on and off, side by
// side in the same run, alternating, kOwnershipPairs times each: a vCPU's
// first touch of S of private memory (each page taken from the direct map
// when prepared), and an in-place private -> shared -> private conversion
// of S in use (each page given back and taken again).  Medians.
constexpr int kOwnershipPairs = 3;

void Ownership(const Options& o, Values& v) {
  std::vector<double> touch[2], convert[2], unbatched;
  for (int i = 0; i < kOwnershipPairs; i++) {
    {
      gmt::SwOwnershipScope scope(true);
      gmt::PrepareAheadScope ahead(0);
      if (ahead.ok()) unbatched.push_back(FirstTouch(o, Touch::kPrivate));
    }
    for (bool on : {true, false}) {
      gmt::SwOwnershipScope scope(on);
      if (gmt::SwOwnership() != static_cast<int>(on))
        throw Failure("cannot turn kvm.sw_protected_unmap_private " + std::string(on ? "on" : "off"));
      touch[on].push_back(FirstTouch(o, Touch::kPrivate));
      InPlaceVm p(kDataGpa, o.size);
      p.Convert(0, o.size, true);
      GuestTouch(p.vm, kDataGpa, o.size, 1);  // every page in use, private
      auto t0 = Clock::now();
      p.Convert(0, o.size, false);
      p.Convert(0, o.size, true);
      convert[on].push_back(Seconds(t0) * 1e3);
    }
  }
  auto median = [](std::vector<double> x) {
    std::sort(x.begin(), x.end());
    return x[x.size() / 2];
  };
  v.value["ownership_first_touch_on"] = median(touch[1]);
  v.value["ownership_first_touch_off"] = median(touch[0]);
  v.value["ownership_first_touch_cost"] = median(touch[0]) / median(touch[1]);
  if (!unbatched.empty()) {
    v.value["ownership_first_touch_unbatched"] = median(unbatched);
    v.value["ownership_first_touch_unbatched_cost"] = median(touch[0]) / median(unbatched);
  } else {
    for (const char* m : {"ownership_first_touch_unbatched", "ownership_first_touch_unbatched_cost"})
      v.na[m] = "no kvm.sw_protected_prepare_ahead (ownership flushes per page)";
  }
  v.value["ownership_convert_on"] = median(convert[1]);
  v.value["ownership_convert_off"] = median(convert[0]);
  v.value["ownership_convert_cost"] = median(convert[1]) / median(convert[0]);
}

void FootprintInPlace(const Options& o, Values& v) {
  const uint64_t size = o.size;
  InPlaceVm p(kDataGpa, size);
  p.Convert(0, size, true);
  GuestFill(p.vm, kDataGpa, size, 1);
  p.Convert(0, size, false);
  GuestFill(p.vm, kDataGpa, size, 2);
  // The file's pages, private or shared, mapped or not.
  v.value["footprint_inplace"] =
      static_cast<double>(ResidentPages(p.map)) / static_cast<double>(size / kPage);
}

// A vCPU first-touches S of shared memory (4 KiB anonymous pages) of a
// SW-protected VM while another thread converts a 2 MiB range elsewhere in
// the same memslot between private and shared as fast as it can.  Faults
// must not wait for conversions of gfns they do not touch; the ratio to the
// same fill without conversions, in a fresh VM of the same round, shows it.
void FirstTouchDuringConversions(const Options& o, Values& v) {
  const uint64_t size = o.size, busy = kDataGpa + size;
  double quiet_s;
  {
    PrivateVm q(kDataGpa, size + kCycleSize);
    CheckSys(madvise(q.shared.data(), size, MADV_NOHUGEPAGE), "madvise(MADV_NOHUGEPAGE)");
    auto t0 = Clock::now();
    GuestFill(q.vm, kDataGpa, size, 1);
    quiet_s = Seconds(t0);
  }
  PrivateVm p(kDataGpa, size + kCycleSize);
  CheckSys(madvise(p.shared.data(), size, MADV_NOHUGEPAGE), "madvise(MADV_NOHUGEPAGE)");
  std::atomic<bool> stop{false};
  std::atomic<bool> started{false};
  uint64_t conversions = 0;
  std::string error;
  std::thread converter([&] {
    try {
      // A fixed pace, the same on every kernel, well below what either
      // sustains: what is measured is the conversions' effect on faults
      // elsewhere, not how much mmu_lock time a faster converter takes.
      auto next = Clock::now();
      for (bool priv = true; !stop.load(std::memory_order_relaxed); priv = !priv) {
        Attributes(p.vm, busy, kCycleSize, priv);
        conversions++;
        started.store(true, std::memory_order_relaxed);
        next += kConversionPeriod;
        std::this_thread::sleep_until(next);
      }
    } catch (const std::exception& e) {
      error = e.what();
      started.store(true);
    }
  });
  while (!started.load()) sched_yield();
  auto t0 = Clock::now();
  std::optional<Failure> fill_error;
  try {
    GuestFill(p.vm, kDataGpa, size, 2);
  } catch (const Failure& f) {
    fill_error = f;
  }
  const double s = Seconds(t0);
  stop = true;
  converter.join();
  if (fill_error) throw *fill_error;
  if (!error.empty()) throw Failure("converter thread: " + error);
  v.value["first_touch_during_conversions"] = MiBps(size, s);
  v.value["first_touch_slowdown_by_conversions"] = s / quiet_s;
  v.value["conversions_during_touch"] = static_cast<double>(conversions) / s;
}

void Prefault(const Options& o, Values& v) {
  PrivateVm p(kDataGpa, o.size);
  Attributes(p.vm, kDataGpa, o.size, true);
  kvm_pre_fault_memory pf = {};
  pf.gpa = kDataGpa;
  pf.size = o.size;
  auto t0 = Clock::now();
  for (int calls = 0; pf.size; calls++) {
    long r = gmt::Ioctl(p.vm.test_vm().vcpu(), KVM_PRE_FAULT_MEMORY, &pf);
    if (r < 0 && r != -EINTR && r != -EAGAIN)
      Check(r, "KVM_PRE_FAULT_MEMORY(" + Range(pf.gpa, pf.size) + ")");
    if (calls > 1000000) throw Failure("KVM_PRE_FAULT_MEMORY makes no progress at " + Hex(pf.gpa));
  }
  v.value["prefault_private"] = MiBps(o.size, Seconds(t0));
}

void FootprintPrivateShared(const Options& o, const Caps& caps, Values& v) {
  const uint64_t size = o.size;
  PrivateVm p(kDataGpa, size);
  PinToCpu pin;
  SettleLru();
  const long lru0 = caps.meminfo.empty() ? UnevictablePagesNow() : 0;
  Attributes(p.vm, kDataGpa, size, true);
  GuestFill(p.vm, kDataGpa, size, 1);
  Attributes(p.vm, kDataGpa, size, false);
  GuestFill(p.vm, kDataGpa, size, 2);
  SettleLru();
  const double ram = static_cast<double>(size / kPage);
  const uint64_t anon = ResidentPages(p.shared);
  if (caps.cachestat.empty())
    v.value["footprint_private_shared_cachestat"] =
        static_cast<double>(CachedPages(p.gmem) + anon) / ram;
  else
    v.na["footprint_private_shared_cachestat"] = caps.cachestat;
  if (caps.meminfo.empty())
    v.value["footprint_private_shared"] =
        static_cast<double>(UnevictablePagesNow() - lru0 + static_cast<long>(anon)) / ram;
  else
    v.na["footprint_private_shared"] = caps.meminfo;
}

void FootprintGmemOnly(const Options& o, const Caps& caps, Values& v) {
  const uint64_t size = o.size;
  Vm vm(KVM_X86_DEFAULT_VM);
  gmt::UniqueFd gmem = Gmem(vm, size, kSharedGmemFlags);
  gmt::Mapping map = Map(size, MAP_SHARED, gmem.get(), "guest_memfd");
  Slot(vm, kDataGpa, size, &map, &gmem);
  PinToCpu pin;
  SettleLru();
  const long lru0 = caps.meminfo.empty() ? UnevictablePagesNow() : 0;
  GuestFill(vm, kDataGpa, size, 1);
  SettleLru();
  // The mapping maps guest_memfd's own pages: nothing to add.
  const double ram = static_cast<double>(size / kPage);
  if (caps.cachestat.empty())
    v.value["footprint_gmem_only_cachestat"] = static_cast<double>(CachedPages(gmem)) / ram;
  else
    v.na["footprint_gmem_only_cachestat"] = caps.cachestat;
  if (caps.meminfo.empty())
    v.value["footprint_gmem_only"] = static_cast<double>(UnevictablePagesNow() - lru0) / ram;
  else
    v.na["footprint_gmem_only"] = caps.meminfo;
}

// ---- Driver --------------------------------------------------------------

struct Output {
  std::string name, unit;
};

struct Bench {
  std::vector<Output> outputs;
  std::string unavailable;  // why the kernel cannot run it, or empty
  std::function<void(Values&)> run;
};

std::vector<Bench> Benches(const Options& o, const Caps& c) {
  std::vector<Bench> b;
  b.push_back({{{"fallocate", "MiB/s"},
                {"punch_hole", "MiB/s"},
                {"memfd_fallocate", "MiB/s"},
                {"memfd_punch_hole", "MiB/s"}},
               c.gmem, [&o](Values& v) {
                 GmemFile(o, v);
               }});
  b.push_back({{{"first_touch_private", "MiB/s"}}, c.sw_vm, [&o](Values& v) {
                 v.value["first_touch_private"] = FirstTouch(o, Touch::kPrivate);
               }});
  b.push_back({{{"first_touch_shared_gmem", "MiB/s"}}, c.shared_gmem, [&o](Values& v) {
                 v.value["first_touch_shared_gmem"] = FirstTouch(o, Touch::kSharedGmem);
               }});
  b.push_back({{{"first_touch_anon_4k", "MiB/s"}}, c.kvm, [&o](Values& v) {
                 v.value["first_touch_anon_4k"] = FirstTouch(o, Touch::kAnon4K);
               }});
  for (uint64_t size : o.attr_sizes) {
    std::vector<Output> outs;
    for (const char* kind : {"private", "shared"}) {
      std::string name = std::string("attr_") + kind + "_" + common::MetricSizeTag(size);
      outs.push_back({name, "ms/call"});
      outs.push_back({name + "_rate", "pages/s"});
    }
    b.push_back({outs, c.sw_vm, [size](Values& v) { AttributesOver(size, v); }});
  }
  b.push_back({{{"attr_alt4k_64M", "ms/call"}, {"attr_alt4k_64M_rate", "pages/s"}},
               c.sw_vm,
               [](Values& v) { AttributesAlternating(v); }});
  b.push_back(
      {{{"conversion_cycle", "cycles/s"},
        {"conversion_cycle_to_shared", "ms"},
        {"conversion_cycle_punch", "ms"},
        {"conversion_cycle_fill_shared", "ms"},
        {"conversion_cycle_to_private", "ms"},
        {"conversion_cycle_discard", "ms"},
        {"conversion_cycle_fill_private", "ms"}},
       c.sw_vm, [&o](Values& v) { ConversionCycle(o, v); }});
  for (bool touch : {false, true}) {
    const std::string kind = touch ? "touch_cycle_" : "cycle_";
    const std::string tag = common::MetricSizeTag(o.size);
    b.push_back({{{"inplace_" + kind + tag, "cycles/s"},
                  {"inplace_" + kind + tag + "_convert", "ms"},
                  {"inplace_" + kind + tag + "_fill", "ms"},
                  {"attr_" + kind + tag, "cycles/s"},
                  {"attr_" + kind + tag + "_convert", "ms"},
                  {"attr_" + kind + tag + "_fill", "ms"},
                  {"inplace_" + kind + tag + "_vs_attr", "x"}},
                 c.in_place,
                 [&o, touch](Values& v) { InPlaceCycle(o, v, touch); }});
  }
  b.push_back({{{"ownership_first_touch_on", "MiB/s"},
                {"ownership_first_touch_off", "MiB/s"},
                {"ownership_first_touch_cost", "x"},
                {"ownership_first_touch_unbatched", "MiB/s"},
                {"ownership_first_touch_unbatched_cost", "x"},
                {"ownership_convert_on", "ms"},
                {"ownership_convert_off", "ms"},
                {"ownership_convert_cost", "x"}},
               c.ownership, [&o](Values& v) { Ownership(o, v); }});
  b.push_back({{{"footprint_inplace", "x"}}, c.in_place,
               [&o](Values& v) { FootprintInPlace(o, v); }});
  b.push_back({{{"first_touch_during_conversions", "MiB/s"},
                {"first_touch_slowdown_by_conversions", "x"},
                {"conversions_during_touch", "calls/s"}},
               c.sw_vm,
               [&o](Values& v) { FirstTouchDuringConversions(o, v); }});
  b.push_back({{{"prefault_private", "MiB/s"}}, c.prefault, [&o](Values& v) { Prefault(o, v); }});
  b.push_back({{{"footprint_private_shared", "x"}, {"footprint_private_shared_cachestat", "x"}},
               c.sw_vm,
               [&o, &c](Values& v) { FootprintPrivateShared(o, c, v); }});
  b.push_back({{{"footprint_gmem_only", "x"}, {"footprint_gmem_only_cachestat", "x"}},
               c.shared_gmem,
               [&o, &c](Values& v) { FootprintGmemOnly(o, c, v); }});
  return b;
}

bool Selected(const Bench& b, const Options& o) {
  if (o.only.empty()) return true;
  for (const auto& out : b.outputs)
    for (const auto& p : o.only)
      if (out.name.starts_with(p)) return true;
  return false;
}

// Every round's value (or n/a / error text) per metric, for the summary.
struct Record {
  std::string unit;
  std::vector<std::string> values;
};

void Emit(std::map<std::string, Record>& rec, const Output& out, const std::string& value) {
  std::printf("METRIC %s %s %s\n", out.name.c_str(), out.unit.c_str(), value.c_str());
  std::fflush(stdout);
  rec[out.name].unit = out.unit;
  rec[out.name].values.push_back(value);
}

std::string Number(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

int Usage() {
  std::fprintf(stderr, "usage: gmem_bench [--quick] [--rounds N] [--only PREFIX[,PREFIX...]]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  int rounds = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--rounds" && i + 1 < argc) {
      char* end = nullptr;
      long n = std::strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > 1000) return Usage();
      rounds = static_cast<int>(n);
    } else if (a == "--only" && i + 1 < argc) {
      std::string list = argv[++i];
      for (size_t b = 0; b <= list.size();) {
        size_t e = std::min(list.find(',', b), list.size());
        if (e > b) o.only.push_back(list.substr(b, e - b));
        b = e + 1;
      }
    } else {
      return Usage();
    }
  }
  if (o.quick) {
    o.rounds = 2;
    o.size = 16 * kMiB;
    o.attr_sizes = {64 * kMiB};
    o.cycle_seconds = 0.25;
  }
  if (rounds) o.rounds = rounds;

  const Caps caps = Probe();
  utsname u = {};
  uname(&u);
  std::printf("# gmem_bench: kernel %s, %d round(s), %s%s\n", u.release, o.rounds,
              SizeText(o.size).c_str(), o.quick ? ", quick" : "");
  const std::pair<const char*, const std::string*> abis[] = {
      {"guest_memfd", &caps.gmem},
      {"SW-protected VMs", &caps.sw_vm},
      {"shared guest_memfd", &caps.shared_gmem},
      {"pre-fault", &caps.prefault},
      {"cachestat", &caps.cachestat},
      {"exact Unevictable LRU count", &caps.meminfo}};
  for (const auto& [what, why] : abis)
    std::printf("# %s: %s\n", what, why->empty() ? "yes" : why->c_str());
  std::fflush(stdout);

  const std::vector<Bench> benches = Benches(o, caps);
  std::map<std::string, Record> rec;
  std::vector<Output> order;
  for (const auto& b : benches)
    if (Selected(b, o)) order.insert(order.end(), b.outputs.begin(), b.outputs.end());
  bool failed = false;
  for (int r = 1; r <= o.rounds; r++) {
    std::fprintf(stderr, "gmem_bench: round %d/%d\n", r, o.rounds);
    for (const auto& b : benches) {
      if (!Selected(b, o)) continue;
      if (b.unavailable.starts_with("error: ")) {
        std::fprintf(stderr, "gmem_bench: %s: %s\n", b.outputs[0].name.c_str(),
                     b.unavailable.c_str());
        for (const auto& out : b.outputs) Emit(rec, out, "error " + b.unavailable.substr(7));
        failed = true;
        continue;
      }
      if (!b.unavailable.empty()) {
        for (const auto& out : b.outputs) Emit(rec, out, "n/a " + b.unavailable);
        continue;
      }
      Values v;
      std::string error;
      try {
        b.run(v);
      } catch (const Failure& e) {
        error = e.what();
      } catch (const std::exception& e) {  // e.g. bad_alloc
        error = std::string("exception: ") + e.what();
      }
      for (const auto& out : b.outputs) {
        if (auto it = v.value.find(out.name); it != v.value.end()) {
          Emit(rec, out, Number(it->second));
        } else if (auto na = v.na.find(out.name); na != v.na.end()) {
          Emit(rec, out, "n/a " + na->second);
        } else {
          std::string what = error.empty() ? "not measured (a bug in gmem_bench)" : error;
          std::fprintf(stderr, "gmem_bench: %s: %s\n", out.name.c_str(), what.c_str());
          Emit(rec, out, "error " + what);
          failed = true;
        }
      }
    }
  }

  std::printf("\nguest_memfd benchmark on %s: median of %d round(s) (min-max)\n\n", u.release,
              o.rounds);
  std::printf("%-36s %-8s %12s %25s\n", "metric", "unit", "median", "min-max");
  for (const auto& out : order) {
    const Record& r = rec[out.name];
    bench::Stats s = bench::Summarize(r.values);
    if (s.n == 0) {
      std::printf("%-36s %-8s %s\n", out.name.c_str(), r.unit.c_str(), s.note.c_str());
      continue;
    }
    std::string spread = bench::FormatValue(s.min) + "-" + bench::FormatValue(s.max);
    if (s.n < static_cast<int>(r.values.size()))
      spread += " (" + std::to_string(s.n) + " of " + std::to_string(r.values.size()) + ")";
    std::printf("%-36s %-8s %12s %25s\n", out.name.c_str(), r.unit.c_str(),
                bench::FormatValue(s.median).c_str(), spread.c_str());
  }
  if (!caps.kvm.empty()) return 4;
  return failed ? 1 : 0;
}
