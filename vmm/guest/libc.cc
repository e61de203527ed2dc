// The two library calls the compiler may emit even in freestanding code,
// for every guest payload (guest.cc, snp.cc, tdx.cc).
extern "C" void* memset(void* d, int c, unsigned long n) {
  auto* p = static_cast<unsigned char*>(d);
  while (n--) *p++ = static_cast<unsigned char>(c);
  return d;
}

extern "C" void* memcpy(void* d, const void* s, unsigned long n) {
  auto* p = static_cast<unsigned char*>(d);
  auto* q = static_cast<const unsigned char*>(s);
  while (n--) *p++ = *q++;
  return d;
}
