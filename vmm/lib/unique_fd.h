// Owning file descriptor and owning mmap() mapping: the project's one
// definition, common/fd.h, under the VMM's names.
#pragma once

#include "common/fd.h"

namespace gmem {

using UniqueFd = common::UniqueFd;
using Mapping = common::Mapping;

}  // namespace gmem
