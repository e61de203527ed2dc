// Host first touch of guest memory: write one byte to every 4 KiB page of
// a fresh mapping and report the throughput, for a shared guest_memfd
// (GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED) and for anonymous
// memory (private in 4 KiB pages, private as the kernel's THP setting has it,
// and shared), on the same kernel.  Rounds interleave the
// backings (A B C A B C ...); the medians and the ratio gmem/anonymous are
// printed as a Markdown table.
//
//   first_touch [--size BYTES] [--rounds N]
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "selftests/lib/kvm.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kPage = 4096;

struct Backing {
  const char* name;
  // Returns the mapping, or MAP_FAILED; |fd| is closed by the caller.
  void* (*map)(int vm, uint64_t size, int* fd);
};

void* MapGmem(int vm, uint64_t size, int* fd) {
  *fd = static_cast<int>(gmt::CreateGuestMemfd(
      vm, size, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED));
  if (*fd < 0) return MAP_FAILED;
  return mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
}
void* MapAnon(int, uint64_t size, int*) {
  return mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
// Anonymous memory in 4 KiB pages: with THP "always" (our kernels) a
// private anonymous mapping is otherwise faulted in 2 MiB at a time, which
// guest_memfd (4 KiB folios) is not compared against.
void* MapAnon4K(int, uint64_t size, int*) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED && madvise(p, size, MADV_NOHUGEPAGE) != 0) {
    munmap(p, size);
    return MAP_FAILED;
  }
  return p;
}
void* MapShmem(int, uint64_t size, int*) {
  return mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

double TouchMiBps(const Backing& b, int vm, uint64_t size) {
  int fd = -1;
  auto* p = static_cast<volatile uint8_t*>(b.map(vm, size, &fd));
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "first_touch: mapping %s: %s\n", b.name, strerror(errno));
    std::exit(1);
  }
  auto t0 = Clock::now();
  for (uint64_t off = 0; off < size; off += kPage) p[off] = 1;
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  munmap(const_cast<uint8_t*>(p), size);
  if (fd >= 0) close(fd);
  return size / 1048576.0 / s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t size = 64ULL << 20;
  int rounds = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--size")) size = strtoull(argv[i + 1], nullptr, 0);
    else if (!strcmp(argv[i], "--rounds")) rounds = atoi(argv[i + 1]);
  }
  gmt::TestVm vm(KVM_X86_DEFAULT_VM);
  if (!vm.ok()) {
    std::fprintf(stderr, "first_touch: %s\n", vm.error().c_str());
    return 4;
  }
  const Backing backings[] = {{"guest_memfd (shared)", MapGmem},
                              {"anonymous (private, 4 KiB: MADV_NOHUGEPAGE)", MapAnon4K},
                              {"anonymous (private, THP as configured)", MapAnon},
                              {"anonymous (shared)", MapShmem}};
  constexpr int kBackings = static_cast<int>(std::size(backings));
  std::vector<double> mibps[kBackings];
  for (int r = 0; r < rounds; r++) {
    for (int b = 0; b < kBackings; b++)
      mibps[b].push_back(TouchMiBps(backings[b], vm.vm(), size));
    std::fprintf(stderr, "first_touch: round %d/%d\n", r + 1, rounds);
  }
  std::printf("host first touch, %llu MiB, one write per 4 KiB, median of %d interleaved rounds\n\n",
              static_cast<unsigned long long>(size >> 20), rounds);
  std::printf("| backing | MiB/s (median) | min | max | gmem / this |\n|---|---|---|---|---|\n");
  const double gmem = Median(mibps[0]);
  for (int b = 0; b < kBackings; b++) {
    auto [lo, hi] = std::minmax_element(mibps[b].begin(), mibps[b].end());
    std::printf("| %s | %.0f | %.0f | %.0f | %.2fx |\n", backings[b].name, Median(mibps[b]), *lo,
                *hi, gmem / Median(mibps[b]));
  }
  return 0;
}
