// The process's CPU and I/O scheduling and its execution domain (ports of runc's
// setupScheduler, setupIOPriority and its personality step).
#pragma once

#include "bootstrap.h"

namespace nlc {

// sched_setattr, set_mempolicy and ioprio_set: while the helper still has its privileges (a
// real-time policy or class needs CAP_SYS_NICE / CAP_SYS_ADMIN).
void applyScheduling(const ProcessPlan& process);
// personality(2), just before the exec.
void applyPersonality(const ProcessPlan& process);

}  // namespace nlc
