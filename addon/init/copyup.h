// tmpcopyup: a tmpfs that starts with what the directory under it held (runc's doTmpfsCopyUp).
#pragma once
#include <string>

#include "rootfs.h"

namespace nlc {

// Mount a new tmpfs (with m's data and the per-mount flags) on the directory behind targetFd,
// after copying that directory's contents into it: files, directories, symlinks and device
// nodes with their modes, owners and times. The tmpfs is built detached (fsopen/fsmount) and
// moved into place whole, so nothing is ever visible half-copied.
void tmpfsCopyUp(const MountPlan& m, int targetFd, unsigned long flags, const std::string& data);

}  // namespace nlc
