#include "namespaces.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "error.h"
#include "fd.h"
#include "fileio.h"
#include "log.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nlc {
namespace {

struct NamespaceKind {
  const char* type;
  int flag;
};

// configs.NamespaceTypes() order in runc.
constexpr NamespaceKind kOrder[] = {
    {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET},
    {"pid", CLONE_NEWPID},   {"mnt", CLONE_NEWNS},  {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

size_t rankOf(const std::string& type) {
  for (size_t i = 0; i < std::size(kOrder); ++i)
    if (type == kOrder[i].type) return i;
  failPlain("bootstrap", "", "unknown namespace type \"" + type + "\"");
}

// Whether the namespace fd is our own network namespace: the one we were cloned in, the
// parent's (the host's, to the container).
bool isOwnNetns(int fd) {
  struct stat joined, own;
  if (::fstat(fd, &joined) < 0) fail("namespaces", "fstat", "", "checking the network namespace to join");
  if (::stat("/proc/self/ns/net", &own) < 0) fail("namespaces", "stat", "/proc/self/ns/net", "checking the network namespace to join");
  return joined.st_dev == own.st_dev && joined.st_ino == own.st_ino;
}

std::string describeFlags(unsigned long flags) {
  std::string out;
  for (const auto& k : kOrder)
    if (flags & k.flag) out += (out.empty() ? "" : ",") + std::string(k.type);
  return out.empty() ? "none" : out;
}

}  // namespace

void joinNamespaces(const std::vector<NamespaceJoin>& joins, bool netSysctls) {
  std::vector<NamespaceJoin> ordered = joins;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const NamespaceJoin& a, const NamespaceJoin& b) { return rankOf(a.type) < rankOf(b.type); });
  // Open all first (port of nsexec's join_namespaces): after joining the mount namespace the
  // other paths would resolve in the container's /proc.
  std::vector<UniqueFd> fds;
  for (const auto& j : ordered) {
    int fd = ::open(j.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("namespaces", "open", j.path, "opening the " + j.type + " namespace to join");
    fds.emplace_back(fd);
    // runc's validator refuses net.* sysctls in the host's network namespace; checked on the
    // namespace as opened, the one we join (the parent checked the path at create).
    if (netSysctls && j.type == "net" && isOwnNetns(fd))
      failPlain("namespaces", j.path, "net.* sysctls are not allowed in the host's network namespace, which this path is");
  }
  for (size_t i = 0; i < ordered.size(); ++i) {
    if (::setns(fds[i].get(), kOrder[rankOf(ordered[i].type)].flag) < 0)
      fail("namespaces", "setns", ordered[i].path, "joining the " + ordered[i].type + " namespace");
    log::debug("joined " + ordered[i].type + " namespace " + ordered[i].path);
  }
}

void joinNamespacesOf(int pidfd, unsigned long flags) {
  if (::setns(pidfd, static_cast<int>(flags)) < 0)
    fail("namespaces", "setns", "", "joining the container's namespaces (" + describeFlags(flags) + ") through its pidfd");
  log::debug("joined the container's namespaces: " + describeFlags(flags));
}

void unshareNamespaces(unsigned long flags) {
  if (flags == 0) return;
  if (::unshare(static_cast<int>(flags)) < 0) fail("namespaces", "unshare", "", "creating namespaces (" + describeFlags(flags) + ")");
  log::debug("unshared namespaces: " + describeFlags(flags));
}

// Port of nsexec's update_timens_offsets.
void setTimeOffsets(const std::string& lines) {
  UniqueFd f(::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC));
  if (!f.valid()) fail("namespaces", "open", "/proc/self/timens_offsets", "setting the time namespace's clock offsets");
  if (::write(f.get(), lines.data(), lines.size()) != static_cast<ssize_t>(lines.size()))
    fail("namespaces", "write", "/proc/self/timens_offsets", "setting the time namespace's clock offsets (linux.timeOffsets)");
}

void forkFinalProcess(SyncSocket& sync) {
  // The final process holds off until the intermediate has sent "child", so the parent
  // always learns the final pid before any message from the final process.
  int gate[2];
  if (::pipe2(gate, O_CLOEXEC) < 0) fail("fork", "pipe2", "", "creating the fork gate");
  UniqueFd gateRead(gate[0]), gateWrite(gate[1]);

  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_PARENT | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  // clone3 refuses an exit_signal with CLONE_PARENT: the child inherits ours (SIGCHLD).
  args.exit_signal = 0;
  // No CLONE_VM: a fork-like clone returns normally on both sides (the helper is small and
  // single-threaded, so copying its page tables is cheap).
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) fail("fork", "clone3", "", "forking the container process into its pid namespace");

  if (pid == 0) {
    // Final process.
    gateWrite.reset();
    char go = 0;
    ssize_t n;
    do n = ::read(gateRead.get(), &go, 1);
    while (n < 0 && errno == EINTR);
    // EOF without the byte: the intermediate failed and reported it; leave quietly.
    if (n != 1) exitNow(1);
    // A clone does not inherit the parent death signal; ours is the Node process now.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    return;
  }

  // Intermediate.
  UniqueFd childPidfd(pidfd);
  gateRead.reset();
  try {
    sync.send("fork", json::Value::object({{"type", "child"}, {"pid", pid}}), {childPidfd.get()});
  } catch (...) {
    ::syscall(SYS_pidfd_send_signal, childPidfd.get(), SIGKILL, nullptr, 0);
    throw;
  }
  char go = 1;
  if (::write(gateWrite.get(), &go, 1) != 1) fail("fork", "write", "", "releasing the container process");
  log::debug("forked the container process, pid " + std::to_string(pid));
  exitNow(0);
}

void setOomScoreAdj(int value) {
  const char* path = "/proc/self/oom_score_adj";
  if (!writeFile(path, std::to_string(value))) fail("bootstrap", "write", path, "setting oom_score_adj to " + std::to_string(value));
}

}  // namespace nlc
