// Build-time tool: turns the linked payload ELF into a payload file
// (vmm/lib/payload.h): the PT_LOAD segments flattened into one image,
// trailing zero-fill recorded as bss.
//   pack_payload IN.elf OUT.payload
#include <elf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "vmm/lib/payload.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: pack_payload IN.elf OUT.payload\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> elf((std::istreambuf_iterator<char>(in)), {});
  Elf64_Ehdr eh;
  if (elf.size() < sizeof eh) return std::fprintf(stderr, "short ELF\n"), 1;
  std::memcpy(&eh, elf.data(), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_machine != EM_X86_64)
    return std::fprintf(stderr, "not an x86-64 ELF64\n"), 1;
  uint64_t lo = ~0ull, file_hi = 0, mem_hi = 0;
  std::vector<Elf64_Phdr> loads;
  for (int i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    uint64_t off = eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize;
    if (off + sizeof ph > elf.size()) return std::fprintf(stderr, "bad phdr\n"), 1;
    std::memcpy(&ph, elf.data() + off, sizeof ph);
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_offset + ph.p_filesz > elf.size())
      return std::fprintf(stderr, "segment outside file\n"), 1;
    loads.push_back(ph);
    lo = std::min<uint64_t>(lo, ph.p_paddr);
    file_hi = std::max<uint64_t>(file_hi, ph.p_paddr + ph.p_filesz);
    mem_hi = std::max<uint64_t>(mem_hi, ph.p_paddr + ph.p_memsz);
  }
  if (loads.empty()) return std::fprintf(stderr, "no PT_LOAD\n"), 1;
  gmem::Payload p;
  p.load_gpa = lo;
  p.entry_gpa = eh.e_entry;
  p.image.assign(file_hi - lo, 0);
  for (const auto& ph : loads)
    std::memcpy(p.image.data() + (ph.p_paddr - lo), elf.data() + ph.p_offset,
                ph.p_filesz);
  p.bss_size = mem_hi - file_hi;
  std::vector<uint8_t> out = gmem::PackPayload(p);
  std::ofstream o(argv[2], std::ios::binary);
  o.write(reinterpret_cast<const char*>(out.data()),
          static_cast<std::streamsize>(out.size()));
  return o.good() ? 0 : 1;
}
