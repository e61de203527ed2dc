// Where upstream changed an errno over time, the tests accept the old one
// only on the upstream kernels that had it (the host reference kernel);
// our series must give the current one.
#pragma once

namespace gmt {

// True if the running kernel's version is at least |major|.|minor|.
bool KernelAtLeast(int major, int minor);

// The errno for binding a guest_memfd range that another memslot holds:
// -EEXIST since upstream 7.2 and in our series; upstream 6.8 to 7.1 said
// -EINVAL.
long AlreadyBoundErrno();

}  // namespace gmt
