// Loading the container process's seccomp filter (compiled by the parent: addon/seccomp.cc).
#pragma once

#include "bootstrap.h"
#include "sync.h"

namespace nlc {

// seccomp(SECCOMP_SET_MODE_FILTER) with the plan's program and flags. Without no_new_privs
// this needs CAP_SYS_ADMIN, so the caller loads it before the capabilities are dropped then.
// With notify rules the filter gets a listener: its fd number goes to the parent as
// procSeccomp (the parent takes the fd itself with pidfd_getfd, as runc), and it is closed
// here once the parent says procSeccompDone.
void loadSeccomp(const SeccompPlan& plan, SyncSocket& sync);

}  // namespace nlc
