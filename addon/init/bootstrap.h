// The bootstrap message (docs/protocol.md) parsed into the plan the helper applies. All
// option parsing happened in TS; here every field is only type-checked.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "json.h"
#include "rootfs.h"

namespace nlc {

enum class Mode { Init, Exec };

struct NamespaceJoin {
  std::string type;  // user, ipc, uts, net, pid, mnt, cgroup, time
  std::string path;
};

struct HookPlan {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  bool inheritEnv = false;  // no "env" in the config: the process's environment, as runc's init gives it
  std::optional<double> timeout;  // seconds
};

struct CapabilityPlan {
  std::vector<int> bounding, effective, permitted, inheritable, ambient;
};

// A compiled seccomp filter (struct sock_filter records, compiled by the parent with
// libseccomp) and the seccomp(2) flags to load it with.
struct SeccompPlan {
  std::string program;
  unsigned flags = 0;
  // The profile has SCMP_ACT_NOTIFY rules: load with a listener and hand it to the parent
  // (procSeccomp), which passes it on to the profile's seccomp agent.
  bool notify = false;
};

// struct sched_attr's fields (sched_setattr(2)), times in nanoseconds.
struct SchedulerPlan {
  unsigned policy = 0;
  unsigned long long flags = 0;
  int nice = 0;
  unsigned priority = 0;
  unsigned long long runtime = 0, deadline = 0, period = 0;
};

struct ProcessPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  unsigned uid = 0, gid = 0;
  std::vector<unsigned> additionalGids;
  std::optional<unsigned> umask;
  bool noNewPrivileges = false;
  std::optional<CapabilityPlan> capabilities;  // nullopt: leave the capabilities as they are
  std::optional<int> oomScoreAdj;
  std::optional<SeccompPlan> seccomp;
  std::optional<SchedulerPlan> scheduler;
  std::optional<int> ioPriority;            // ioprio_set's value: class << 13 | level
  std::optional<unsigned long> personality;  // personality(2)'s persona
  struct MemoryPolicy {
    int mode;  // MPOL_* with its MPOL_F_* flags
    std::vector<int> nodes;
  };
  std::optional<MemoryPolicy> memoryPolicy;
  bool terminal = false;                     // a pty for stdio (console.cc)
  struct Size {
    unsigned short height, width;
  };
  std::optional<Size> consoleSize;
};

struct RlimitPlan {
  int resource;
  unsigned long long soft, hard;  // RLIM_INFINITY is 2^64-1
};

struct Bootstrap {
  Mode mode = Mode::Init;
  int extraFiles = 0;
  int logFd = -1;
  int joinPidfd = -1;
  unsigned long joinFlags = 0;
  std::vector<NamespaceJoin> join;
  unsigned long unshareFlags = 0;
  bool forkChild = false;
  // Keep PR_SET_PDEATHSIG (SIGKILL) through the program's execve: the process dies with the
  // Node thread that spawned us (the ProcessOptions' dieWithParent).
  bool dieWithParent = false;
  // The session keyring to join by name, a new one when there is none yet (runc's "_ses.<id>");
  // empty: keep the parent's (only an old parent sends none).
  std::string sessionKeyring;
  std::optional<int> oomScoreAdj;
  bool loopback = false;
  // linux.timeOffsets as /proc/self/timens_offsets lines ("monotonic SECS NANOS"), written
  // after unshare(CLONE_NEWTIME), before the fork puts the final process in the namespace.
  std::string timeOffsets;
  // cgroup v1 directories to join by writing "0" to their tasks file (the parent placed us
  // in the v2 tree with CLONE_INTO_CGROUP already).
  std::vector<std::string> cgroupJoin;
  RootfsPlan rootfs;
  std::optional<std::string> hostname, domainname;
  std::string execFifo;  // empty: do not wait on a fifo
  // procHooks round trip: the parent has hooks to run or resources to apply once the mounts
  // are made. Without it the parent applied them before sending this plan.
  bool syncHooks = true;
  bool logDebug = true;  // write debug lines to the log fd
  // procReady waits for procRun (the parent sets rlimits and affinity in between). Without
  // it the helper applies `rlimits` and resets its affinity itself, says procReady and goes
  // on: one cross-CPU round trip less per start.
  bool readyAck = true;
  std::vector<RlimitPlan> rlimits;
  // With readyAck false, the CPU affinity to take at procReady: every CPU (the kernel keeps
  // it within the cpuset), the given CPUs (execCPUAffinity.final), or unchanged.
  enum class Affinity { Reset, Set, Keep } affinity = Affinity::Reset;
  std::vector<int> affinityCpus;
  std::vector<HookPlan> createContainerHooks, startContainerHooks;
  ProcessPlan process;
};

// Parse and type-check a bootstrap message. Throws InitError (stage "bootstrap") naming the
// offending field.
Bootstrap parseBootstrap(const json::Value& message);

}  // namespace nlc
