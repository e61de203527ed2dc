#include "selftests/lib/abi_version.h"

#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>

namespace gmt {

bool KernelAtLeast(int major, int minor) {
  utsname u;
  int ma = 0, mi = 0;
  if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

long AlreadyBoundErrno() {
  return (KernelAtLeast(6, 8) && !KernelAtLeast(7, 2)) ? -EINVAL : -EEXIST;
}

}  // namespace gmt
