#include "vmm/lib/guest_protocol.h"

#include <cstdio>
#include <cstring>

#include "vmm/lib/hypercall.h"
#include "vmm/lib/isolation.h"
#include "vmm/lib/size.h"
#include "common/uapi/kvm.h"

namespace gmem {

GuestProtocol::GuestProtocol(const RunConfig& cfg, GuestMemory& mem,
                             const BootImage& boot, RunRecord& record)
    : cfg_(cfg),
      mem_(mem),
      boot_(boot),
      record_(record),
      info_(reinterpret_cast<volatile abi::BootInfo*>(mem.host().data() +
                                                      boot.boot_info_gpa)) {}

GuestProtocol::~GuestProtocol() {
  if (!console_.empty() && cfg_.console) cfg_.console(console_);
}

void GuestProtocol::Attach(PortIoBus& bus) {
  bus.Register(abi::kPortConsole,
               [this](std::span<const uint8_t> d, uint8_t size) -> Status {
                 OnConsole(d, size);
                 return Ok{};
               });
  bus.Register(abi::kPortEvent, [this](std::span<const uint8_t> d,
                                       uint8_t size) -> Status {
    if (size != 4) return Ok{};
    uint32_t ev;
    std::memcpy(&ev, d.data(), 4);
    return OnEvent(ev);
  });
  bus.Register(abi::kPortHypercall,
               [this](std::span<const uint8_t>, uint8_t) -> Status {
                 uint64_t args[3] = {info_->hc_args[0], info_->hc_args[1],
                                     info_->hc_args[2]};
                 info_->hc_ret = GMEM_TRY(MapGpaRange(info_->hc_nr, args));
                 return Ok{};
               });
}

Status GuestProtocol::OnHypercall(const HypercallExit& exit) {
  *exit.ret = GMEM_TRY(MapGpaRange(exit.nr, exit.args));
  return Ok{};
}

Result<uint64_t> GuestProtocol::MapGpaRange(uint64_t nr, const uint64_t args[3]) {
  auto req = DecodeMapGpaRange(nr, args);
  if (!req.ok()) {
    record_.RejectedHypercall();
    return nr == KVM_HC_MAP_GPA_RANGE ? kHcEinval : kHcEnosys;
  }
  const gmem::MapGpaRange& r = req.value();
  Status cs = mem_.conversion().Convert(r.gpa, r.size, r.to_private);
  if (!cs.ok()) {
    if (cs.error().kind() == ErrorKind::kGuestFault) {  // e.g. out of range
      record_.RejectedHypercall();
      return kHcEinval;
    }
    return std::move(cs).error().Context("converting " + Hex(r.gpa) + "+" +
                                         Hex(r.size));
  }
  record_.Converted(false, r.to_private, r.size);
  return kHcOk;
}

Status GuestProtocol::OnMemoryFault(const MemoryFaultExit& f) {
  uint64_t gpa = f.gpa & ~0xfffull;
  uint64_t size = ((f.gpa + f.size + 0xfff) & ~0xfffull) - gpa;
  GMEM_TRY_CTX(mem_.conversion().Convert(gpa, size, f.to_private),
               "implicit conversion at " + Hex(f.gpa));
  record_.Converted(true, f.to_private, size);
  return Ok{};
}

void GuestProtocol::OnConsole(std::span<const uint8_t> data, uint8_t size) {
  for (size_t i = 0; i < data.size(); i += size) {
    char ch = static_cast<char>(data[i]);
    if (ch == '\n') {
      if (cfg_.console) cfg_.console(console_);
      console_.clear();
    } else if (console_.size() < 4096) {
      console_ += ch;
    }
  }
}

Status GuestProtocol::OnEvent(uint32_t ev) {
  auto now = RunRecord::Clock::now();
  switch (ev) {
    case abi::kEvHello:
      record_.Hello(now);
      break;
    case abi::kEvFillBegin:
      record_.FillBegin(now);
      break;
    case abi::kEvFillProgress:
      if (cfg_.progress)
        cfg_.progress("guest fill: " + std::to_string(info_->progress >> 20) +
                      " MiB / " + std::to_string(boot_.work_size >> 20) + " MiB");
      break;
    case abi::kEvFillEnd:
      record_.FillEnd(now, boot_.work_size);
      break;
    case abi::kEvMessage:
      OnMessage();
      break;
    case abi::kEvDone:
      record_.GuestDone();
      break;
  }
  return Ok{};
}

// The guest left a message in memory it made shared: check it, answer, and
// with private memory try to see what the host must not.
void GuestProtocol::OnMessage() {
  uint8_t* msg_area = mem_.host().data() + boot_.work_gpa + abi::kSharedMsgOff;
  const char* msg = reinterpret_cast<const char*>(msg_area);
  std::string got(msg, strnlen(msg, 256));
  char expect[128];
  std::snprintf(expect, sizeof expect, "%s%016llx", abi::kMessagePrefix,
                static_cast<unsigned long long>(info_->checksum));
  if (got == expect) {
    uint64_t ack = abi::kHostAckMagic;
    std::memcpy(msg_area + abi::kHostAckOff, &ack, 8);
  } else {
    record_.HostProblem("host read an unexpected message from shared memory");
  }
  record_.GuestMessage(std::move(got));
  if (mem_.has_private_memory()) {
    bool isolated;
    // The last page of RAM is private and holds guest data now.
    record_.Isolation(HostIsolationCheck(*mem_.gmem(), mem_.host().data(),
                                         mem_.size() - 4096, boot_.fill_seed,
                                         &isolated));
    if (!isolated) record_.HostProblem("host could read private guest memory");
  }
}

RunRecord::GuestVerdict GuestProtocol::Verdict() const {
  return {info_->verdict == abi::kPassMagic, info_->fail_step, info_->fail_detail};
}

}  // namespace gmem
