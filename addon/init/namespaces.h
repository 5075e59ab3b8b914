// Namespaces and the process tree: the nsexec half of the helper.
#pragma once
#include <string>
#include <vector>

#include "bootstrap.h"
#include "sync.h"

namespace nlc {

// setns into each namespace by path, in runc's order (user first, so the other joins are
// made with the capabilities it grants). Every path is opened before the first setns.
// netSysctls: the plan writes net.* sysctls, so the network namespace joined must not be
// our own (the host's).
void joinNamespaces(const std::vector<NamespaceJoin>& joins, bool netSysctls);
// setns(pidfd, flags): join a running container's namespaces at once (exec mode).
void joinNamespacesOf(int pidfd, unsigned long flags);
// unshare(flags) for the namespaces the clone could not create.
void unshareNamespaces(unsigned long flags);
// The clocks of a time namespace just unshared, as timens_offsets lines (linux.timeOffsets):
// writable only while no process is in it, i.e. before the fork.
void setTimeOffsets(const std::string& lines);
// Fork the final process (CLONE_PARENT|CLONE_PIDFD: it stays the parent's direct child and
// lands in the pid namespace joined or unshared above). Returns in the final process only;
// the intermediate sends {type:"child", pid} with the pidfd and exits 0.
void forkFinalProcess(SyncSocket& sync);
// Write /proc/self/oom_score_adj.
void setOomScoreAdj(int value);
// Bring the loopback interface up (a new network namespace has it down).
void bringUpLoopback();

}  // namespace nlc
