// Loading the container process's seccomp filter (compiled by the parent: addon/seccomp.cc).
#pragma once

#include "bootstrap.h"

namespace nlc {

// seccomp(SECCOMP_SET_MODE_FILTER) with the plan's program and flags. Without no_new_privs
// this needs CAP_SYS_ADMIN, so the caller loads it before the capabilities are dropped then.
void loadSeccomp(const SeccompPlan& plan);

}  // namespace nlc
