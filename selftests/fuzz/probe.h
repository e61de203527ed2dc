// What the kernel under test offers, for the model (Env), or why the fuzzer
// cannot run on it.
#pragma once

#include <string>

#include "selftests/fuzz/model.h"

namespace fuzz {

// Fills |env| from /dev/kvm's capabilities and the CPU.  Returns "" if
// the fuzzer can run here, else the reason to skip.
std::string ProbeKernel(Env* env);

}  // namespace fuzz
