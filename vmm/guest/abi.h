/* The contract between the VMM and the guest payload: memory layout, the
 * boot-info block, the I/O ports and the events.  Plain C types only; the
 * freestanding payload includes it too. */
#pragma once

#include <stdint.h>

namespace gmem::abi {

/* Guest-physical layout (identity-mapped, 2 MiB pages). */
constexpr uint64_t kGdtGpa = 0x1000;
constexpr uint64_t kBootInfoGpa = 0x2000;
constexpr uint64_t kPageTableGpa = 0x10000;  /* PML4, PDPT, then PDs */
constexpr uint64_t kPageTableEnd = 0x80000;  /* room for 110 PDs */
constexpr uint64_t kStackTop = 0x100000;     /* grows down to kPageTableEnd */
constexpr uint64_t kPayloadGpa = 0x100000;   /* payload linked here */
constexpr uint64_t kPayloadMax = 0x100000;   /* at most 1 MiB */
constexpr uint64_t kBootRegionEnd = 0x400000; /* boot stays shared */
constexpr uint64_t kWorkGpa = kBootRegionEnd; /* self-check workload RAM */

/* Inside the work region (offsets from kWorkGpa). */
constexpr uint64_t kSharedMsgOff = 0;          /* converted to shared */
constexpr uint64_t kSharedMsgSize = 0x10000;   /* 16 pages */
constexpr uint64_t kRoundTripOff = 0x100000;   /* shared and back */
constexpr uint64_t kRoundTripSize = 0x40000;   /* 64 pages */
constexpr uint64_t kImplicitOff = 0x180000;    /* touched as private */
constexpr uint64_t kImplicitSize = 0x10000;    /* 16 pages */

constexpr uint64_t kMinRam = 8ull << 20;
constexpr uint64_t kRamAlign = 2ull << 20;

/* I/O ports. */
constexpr uint16_t kPortEvent = 0x510;   /* out32: event code */
constexpr uint16_t kPortConsole = 0x511; /* out8: console byte */
constexpr uint16_t kPortHypercall = 0x512; /* out32: mailbox hypercall */

enum Event : uint32_t {
  kEvHello = 1,        /* first guest instruction */
  kEvFillBegin = 2,
  kEvFillProgress = 3, /* boot_info.progress = bytes done */
  kEvFillEnd = 4,
  kEvMessage = 5,      /* message in shared memory, host answers */
  kEvImplicit = 6,     /* implicit-conversion touch done */
  kEvDone = 7,         /* verdict in boot_info */
};

enum Mode : uint32_t { kModeDefault = 0, kModeSwProtected = 1, kModeSnp = 2, kModeTdx = 3 };

/* Confidential guests (payload_snp, payload_tdx) cannot let the host read
 * the boot-info block (it is private), so their verdict travels otherwise:
 * TDX: out32 to kPortVerdict (TDG.VP.VMCALL<Instruction.IO>), 0 = passed,
 * else the failing Step.  SNP: the GHCB MSR protocol's termination request
 * with reason set kSnpTermSet and the Step (0 = passed) as reason code. */
constexpr uint16_t kPortVerdict = 0x513;
/* TDX: the MRTD of the guest's own TDREPORT (TDG.MR.REPORT), 48 out8s
 * before the verdict, so the VMM can print it next to what it expected. */
constexpr uint16_t kPortMeasurement = 0x514;
constexpr uint32_t kSnpTermSet = 0xa;

enum Step : uint32_t {
  kStepNone = 0,
  kStepBootInfo = 1,
  kStepFill = 2,
  kStepToShared = 3,
  kStepHostAck = 4,
  kStepRoundTrip = 5,
  kStepImplicit = 6,
  kStepToPrivate = 7,
};

/* BootInfo.flags */
constexpr uint32_t kFlagHypercallExits = 1; /* MAP_GPA_RANGE is serviced */
/* Issue hypercalls through the boot-info mailbox and kPortHypercall instead
 * of VMCALL/VMMCALL: for hosts whose KVM cannot deliver the instruction
 * (PVM, where the guest runs deprivileged and the instruction is emulated
 * without ever reaching userspace). */
constexpr uint32_t kFlagHypercallPort = 2;

/* The fill pattern: splitmix64 of the page address; every word of a page
 * holds the same value, so the host can recognise (or fail to see) guest
 * data at any page. */
constexpr uint64_t FillPattern(uint64_t addr, uint64_t seed) {
  uint64_t z = addr + seed + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr uint64_t kBootMagic = 0x4f464e49544f4f42ull; /* "BOOTINFO" */
constexpr uint64_t kPassMagic = 0x5353415021ull;       /* verdict pass */
constexpr uint64_t kHostAckMagic = 0x4b43412d54534f48ull; /* "HOST-ACK" */
constexpr uint64_t kHostAckOff = 0x800; /* in the shared message range */
constexpr char kMessagePrefix[] = "guest_memfd guest says hello; checksum=";

struct BootInfo {
  /* Written by the VMM. */
  uint64_t magic;
  uint32_t version;
  uint32_t mode;
  uint64_t ram_size;
  uint64_t work_gpa;
  uint64_t work_size;
  uint64_t fill_seed;
  uint32_t bench_only; /* fill and report, skip conversions */
  uint32_t flags;      /* kFlag* */
  /* Written by the guest. */
  uint64_t verdict;     /* kPassMagic when the self-check passed */
  uint32_t fail_step;   /* Step */
  uint32_t hc_failures;
  uint64_t fail_detail;
  uint64_t checksum;
  uint64_t progress;
  uint64_t host_ack;    /* the ack the guest read back from shared memory */
  /* Hypercall mailbox (kFlagHypercallPort): the guest writes nr and args,
   * writes any value to kPortHypercall, and reads ret. */
  uint64_t hc_nr;
  uint64_t hc_args[3];
  uint64_t hc_ret;
};
static_assert(sizeof(BootInfo) == 144, "BootInfo layout is ABI");

}  // namespace gmem::abi
