#include "vmm/lib/conversion.h"

#include <sys/mman.h>

#include <chrono>
#include <thread>

#include "vmm/lib/guest_memfd.h"
#include "vmm/lib/vm.h"
#include "common/uapi/kvm.h"

namespace gmem {

uint64_t PageStates::Set(uint64_t gpa, uint64_t size, bool is_private) {
  uint64_t changed = 0;
  for (uint64_t p = gpa >> 12; p < (gpa + size) >> 12; p++) {
    if (private_[p] != is_private) changed++;
    private_[p] = is_private;
  }
  return changed;
}

uint64_t PageStates::CountPrivate() const {
  uint64_t n = 0;
  for (bool b : private_) n += b;
  return n;
}

namespace {

Status CheckRange(const PageStates& st, uint64_t gpa, uint64_t size) {
  if ((gpa | size) & 0xfff || size == 0 || !st.Contains(gpa, size))
    return Error::Msg("conversion of a range outside guest RAM",
                      ErrorKind::kGuestFault);
  return Ok{};
}

class SharedOnly : public ConversionBackend {
 public:
  using ConversionBackend::ConversionBackend;
  const char* name() const override {
    return "shared-only (default VM: requests recorded, memory stays shared)";
  }
  Status Convert(uint64_t gpa, uint64_t size, bool) override {
    return CheckRange(states_, gpa, size);
  }
};

class AttributesPunch : public ConversionBackend {
 public:
  AttributesPunch(const Vm& vm, const GuestMemfd& gmem, uint8_t* shared,
                  uint64_t ram)
      : ConversionBackend(ram), vm_(vm), gmem_(gmem), shared_(shared) {}
  const char* name() const override {
    return "attributes+punch-hole (KVM_SET_MEMORY_ATTRIBUTES, fallocate)";
  }
  Status Convert(uint64_t gpa, uint64_t size, bool to_private) override {
    GMEM_TRY(CheckRange(states_, gpa, size));
    GMEM_TRY(vm_.SetMemoryAttributes(
        gpa, size, to_private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0));
    if (to_private) {
      // The shared copy is dead now; give its pages back.
      if (::madvise(shared_ + gpa, size, MADV_DONTNEED) < 0)
        return Error::Sys("madvise(MADV_DONTNEED)", errno);
    } else {
      // Memslot offset 0 == GPA 0, so the file offset is the GPA.
      GMEM_TRY(gmem_.PunchHole(gpa, size));
    }
    states_.Set(gpa, size, to_private);
    return Ok{};
  }

 private:
  const Vm& vm_;
  const GuestMemfd& gmem_;
  uint8_t* shared_;
};

// One copy of each page: guest_memfd converts the range itself.
class InPlace : public ConversionBackend {
 public:
  InPlace(const GuestMemfd& gmem, uint64_t ram) : ConversionBackend(ram), gmem_(gmem) {}
  const char* name() const override {
    return "in-place (KVM_SET_MEMORY_ATTRIBUTES2 on guest_memfd)";
  }
  Status Convert(uint64_t gpa, uint64_t size, bool to_private) override {
    GMEM_TRY(CheckRange(states_, gpa, size));
    // EAGAIN: a page is referenced from elsewhere.  Such references can be
    // the kernel's own and brief (migration, compaction), so try again a
    // few times before reporting the page.
    for (int attempt = 0;; attempt++) {
      Status st = gmem_.SetAttributes(gpa, size,
                                      to_private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0);
      if (st.ok()) break;
      if (st.error().err() != EAGAIN || attempt == kRetries) return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    states_.Set(gpa, size, to_private);
    return Ok{};
  }

 private:
  static constexpr int kRetries = 50;
  const GuestMemfd& gmem_;
};

}  // namespace

std::unique_ptr<ConversionBackend> MakeInPlaceBackend(const GuestMemfd& gmem,
                                                      uint64_t ram_size) {
  return std::make_unique<InPlace>(gmem, ram_size);
}

std::unique_ptr<ConversionBackend> MakeSharedOnlyBackend(uint64_t ram_size) {
  return std::make_unique<SharedOnly>(ram_size);
}

std::unique_ptr<ConversionBackend> MakeAttributesPunchBackend(
    const Vm& vm, const GuestMemfd& gmem, uint8_t* host_shared,
    uint64_t ram_size) {
  return std::make_unique<AttributesPunch>(vm, gmem, host_shared, ram_size);
}

}  // namespace gmem
