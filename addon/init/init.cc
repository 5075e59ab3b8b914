#include "init.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "error.h"
#include "exec.h"
#include "fd.h"
#include "hooks.h"
#include "identity.h"
#include "log.h"
#include "namespaces.h"
#include "console.h"
#include "rootfs.h"
#include "scheduling.h"
#include "seccomp.h"

namespace nlc {

const char* currentStage = "bootstrap";

namespace {

// Join the container's v1 cgroups before doing anything else (before any fork), as runc's
// manager.Apply does from the parent. Written here, by the process itself: moving `current`
// through the v1 `tasks` file skips the global threadgroup rwsem (and the RCU grace period
// its write lock costs), which a parent writing our pid into cgroup.procs would pay per
// hierarchy. The helper is single-threaded, so its one task is the whole process.
void joinCgroups(const std::vector<std::string>& dirs) {
  currentStage = "cgroups";
  for (const std::string& dir : dirs) {
    std::string file = dir + "/tasks";
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) fail("cgroups", "open", file, "joining the container's cgroup");
    if (::write(fd.get(), "0", 1) != 1) fail("cgroups", "write", file, "joining the container's cgroup");
  }
}

// Port of the keyring step of runc's standard and setns inits: the process leaves the Node
// process's session keyring (whose keys it must not see or add to) for the container's own,
// joined by name or made, and searchable by the container's user as runc makes it. Without
// keyrings in the kernel (ENOSYS) there is nothing to leave.
void joinSessionKeyring(const std::string& name) {
  if (name.empty()) return;
  currentStage = "keyring";
  constexpr int kJoinSessionKeyring = 1, kSetperm = 5, kDescribe = 6;
  long id = ::syscall(SYS_keyctl, kJoinSessionKeyring, name.c_str(), 0, 0, 0);
  if (id < 0) {
    if (errno == ENOSYS) return;
    fail("keyring", "keyctl", "", "joining the session keyring " + name);
  }
  char desc[512];
  long n = ::syscall(SYS_keyctl, kDescribe, id, desc, sizeof desc - 1, 0);
  if (n < 0) fail("keyring", "keyctl", "", "describing the session keyring " + name);
  desc[std::min<long>(n, sizeof desc - 1)] = '\0';
  // "type;uid;gid;perm;description": the permissions are the fourth field, in hex.
  const char* p = desc;
  for (int field = 0; field < 3 && p; ++field) {
    p = std::strchr(p, ';');
    if (p) ++p;
  }
  if (!p) failPlain("keyring", "", "unexpected description of the session keyring: " + std::string(desc));
  unsigned long perm = std::strtoul(p, nullptr, 16);
  constexpr unsigned long kUsrSearch = 0x00080000;
  if (::syscall(SYS_keyctl, kSetperm, id, perm | kUsrSearch, 0, 0) < 0)
    fail("keyring", "keyctl", "", "making the session keyring " + name + " searchable");
}

// nsexec's part, shared by both modes: cgroups, oom_score_adj, namespaces, the final process,
// its session keyring.
void enterNamespaces(Bootstrap& plan, SyncSocket& sync) {
  joinCgroups(plan.cgroupJoin);

  // First, as nsexec does: lowering the score needs CAP_SYS_RESOURCE in the host's user
  // namespace, which a joined or new user namespace would take away. Children inherit it.
  std::optional<int> oom = plan.oomScoreAdj ? plan.oomScoreAdj : plan.process.oomScoreAdj;
  if (oom) setOomScoreAdj(*oom);

  currentStage = "namespaces";
  if (plan.joinPidfd >= 0) {
    if (plan.joinFlags) joinNamespacesOf(plan.joinPidfd, plan.joinFlags);
    ::close(plan.joinPidfd);
    plan.joinPidfd = -1;
  }
  bool netSysctls = std::any_of(plan.rootfs.sysctl.begin(), plan.rootfs.sysctl.end(),
                                [](const auto& kv) { return kv.first.rfind("net.", 0) == 0; });
  joinNamespaces(plan.join, netSysctls);
  unshareNamespaces(plan.unshareFlags);
  if (!plan.timeOffsets.empty()) setTimeOffsets(plan.timeOffsets);
  // Joining or creating a pid namespace only takes effect for children.
  if (plan.forkChild || (plan.joinFlags & CLONE_NEWPID)) {
    currentStage = "fork";
    forkFinalProcess(sync);
  }
  // In the final process (forkFinalProcess returns only there).
  joinSessionKeyring(plan.sessionKeyring);
}

// Until set-up is done the helper is of use only while its parent lives: SIGKILL when the
// parent (the Node thread that spawned it) exits, even if we are busy elsewhere than on the
// sync socket (a slow mount, a pivot). runc offers this as ParentDeathSignal; here it is always
// on during set-up and off for the exec fifo wait, since a created container outlives the
// process that created it. A change of credentials clears it, so it is set again after one.
void setParentDeathSignal(bool on) {
  if (::prctl(PR_SET_PDEATHSIG, on ? SIGKILL : 0, 0, 0, 0) < 0) fail(currentStage, "prctl", "", "setting PR_SET_PDEATHSIG");
}

// The parent death signal for the program: off, so that the container outlives the Node
// process, or, with dieWithParent, on (set again: finalizeProcess's change of credentials
// cleared it). Should the parent have died just before, the signal will never come: its end of
// the sync socket is closed then, and we go no further.
void parentDeathSignalForProgram(const Bootstrap& plan, SyncSocket& sync) {
  setParentDeathSignal(plan.dieWithParent);
  if (!plan.dieWithParent) return;
  pollfd peer{sync.fd(), POLLRDHUP, 0};
  if (::poll(&peer, 1, 0) > 0 && (peer.revents & (POLLHUP | POLLRDHUP)) != 0)
    failPlain(currentStage, "", "the parent died before the program started (dieWithParent)");
}

// Closing the sync socket is the "set-up succeeded" signal to the parent.
void releaseParent(const Bootstrap& plan, SyncSocket& sync) {
  parentDeathSignalForProgram(plan, sync);
  sync.close();
}

// With nothing to wait for before the program (no exec fifo), the sync socket is not closed
// here but by the execve (it is close-on-exec): the parent's EOF then means the program has
// replaced us, and a startContainer hook or an execve that fails is reported like any other
// step instead of only as our exit status.
void releaseParentAtExec(const Bootstrap& plan, SyncSocket& sync) {
  parentDeathSignalForProgram(plan, sync);
  log::debug("init: the sync socket closes with the execve");
}

// procReady / procRun: the parent sets rlimits and saves the state in between.
void readyAndWait(SyncSocket& sync) {
  sync.send(currentStage, json::Value::object({{"type", "procReady"}}));
  sync.expect(currentStage, "procRun");
}

// What the parent does between procReady and procRun, done here when it does not wait for
// us: rlimits (prlimit from the parent in runc, for a user namespace's sake; we have none
// here, so we still hold CAP_SYS_RESOURCE) and tryResetCPUAffinity (joining a v1 cpuset
// narrowed our mask; the kernel intersects "every CPU" with the cpuset).
void readyWithoutAck(const Bootstrap& plan, SyncSocket& sync) {
  currentStage = "rlimits";
  for (const RlimitPlan& r : plan.rlimits) {
    // The system call itself: the libc wrappers disagree on the resource's type (glibc's is
    // an enum) and on whether prlimit64 exists apart from prlimit.
    struct rlimit lim{static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
    if (::syscall(SYS_prlimit64, 0, r.resource, &lim, nullptr) < 0)
      fail("rlimits", "prlimit", "", "setting rlimit " + std::to_string(r.resource));
  }
  if (plan.affinity == Bootstrap::Affinity::Reset) {
    cpu_set_t all;
    std::memset(&all, 0xff, sizeof all);
    // Best effort, as runc: a failure leaves the inherited mask.
    if (::sched_setaffinity(0, sizeof all, &all) < 0) log::debug("resetting the CPU affinity failed");
  } else if (plan.affinity == Bootstrap::Affinity::Set) {
    currentStage = "affinity";
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu : plan.affinityCpus) CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) < 0) fail("affinity", "sched_setaffinity", "", "setting execCPUAffinity.final");
  }
  sync.send(currentStage, json::Value::object({{"type", "procReady"}}));
}

// Port of runc's finalizeNamespace (plus the no_new_privs step before it): runs after
// procRun, still able to report failures as procError.
void finalizeProcess(ProcessPlan& process, SyncSocket& sync) {
  if (process.noNewPrivileges) {
    currentStage = "capabilities";
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("capabilities", "prctl", "", "setting no_new_privs");
  }
  currentStage = "scheduler";
  applyScheduling(process);
  // Port of runc's order: without no_new_privs loading a filter needs CAP_SYS_ADMIN, so it
  // comes before the capabilities are dropped; with it, as late as possible (loadLateSeccomp).
  if (process.seccomp && !process.noNewPrivileges) {
    currentStage = "seccomp";
    loadSeccomp(*process.seccomp, sync);
  }
  // chdir first as root: the container user may lack search permission on a parent of a
  // cwd it owns (a chowned volume); EACCES/EPERM retry after the user change.
  currentStage = "cwd";
  bool inCwd = changeDirectory(process.cwd, false);

  currentStage = "identity";
  prepareEnv(process.env, process.uid);
  if (process.capabilities) {
    currentStage = "capabilities";
    applyBoundingSet(*process.capabilities);
    setKeepCaps(true);
  }
  currentStage = "identity";
  setupUser(process);
  setParentDeathSignal(true);

  currentStage = "cwd";
  if (!inCwd) changeDirectory(process.cwd, true);
  verifyCwd();

  if (process.capabilities) {
    currentStage = "capabilities";
    setKeepCaps(false);
    applyCapabilities(*process.capabilities);
  }
}

// With no_new_privs: just before the parent is released and the program exec'd, so that as
// few of our own system calls as possible have to pass the container's filter.
void loadLateSeccomp(const ProcessPlan& process, SyncSocket& sync) {
  if (!process.seccomp || !process.noNewPrivileges) return;
  currentStage = "seccomp";
  loadSeccomp(*process.seccomp, sync);
  currentStage = "exec";
}

// process.terminal: the pty, before procReady (the parent expects procConsole first).
void openTerminalIfAsked(const ProcessPlan& process, SyncSocket& sync, bool onDevConsole) {
  if (!process.terminal) return;
  currentStage = "console";
  setupConsole(process, sync, onDevConsole);
}

// The last steps of both modes: the execution domain, then the user's program.
[[noreturn]] void execUserProgram(const Bootstrap& plan, const std::string& path) {
  currentStage = "personality";
  applyPersonality(plan.process);
  currentStage = "exec";
  execProcess(path, plan.process.args, plan.process.env, 3 + plan.extraFiles);
}

std::string stateFromHooksDone(const SyncMessage& done, bool needed) {
  const json::Value* state = done.body.find("state");
  if (!state || state->isNull()) {
    if (needed) failPlain("hooks", "", "procHooksDone carries no state for the container's hooks");
    return "{}";
  }
  return json::serialize(*state);
}

// The same state with another status: runc runs createContainer hooks while the container is
// "creating" and startContainer hooks once it is "created" (linuxStandardInit.Init).
std::string stateWithStatus(const std::string& state, const char* status) {
  json::Value value = json::parse(state);
  if (!value.isObject()) return state;
  value.set("status", json::Value(status));
  return json::serialize(value);
}

void setNames(const Bootstrap& plan) {
  currentStage = "hostname";
  if (plan.hostname && ::sethostname(plan.hostname->data(), plan.hostname->size()) < 0)
    fail("hostname", "sethostname", "", "setting the hostname to \"" + *plan.hostname + "\"");
  if (plan.domainname && ::setdomainname(plan.domainname->data(), plan.domainname->size()) < 0)
    fail("hostname", "setdomainname", "", "setting the domain name to \"" + *plan.domainname + "\"");
}

// The exec fifo's writing end from its "0" on, until the program's execve closes it (it is
// close-on-exec, and the kernel closes those before the process becomes dumpable again): the
// parent's exec() reads on to "1" (the program is being exec'd) or "E" (a failure), and EOF.
int execFifoWriter = -1;

void writeAllToExecFifo(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(execFifoWriter, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EPIPE: the parent stopped reading (SIGPIPE is ignored here)
    done += static_cast<size_t>(n);
  }
}

// Wait until exec() opens the fifo for reading, then say so (port of the tail of
// linuxStandardInit.Init). Through /proc/self/fd because the path is outside the new root.
void waitOnExecFifo(UniqueFd& fifo) {
  currentStage = "fifo";
  std::string path = "/proc/self/fd/" + std::to_string(fifo.get());
  UniqueFd writer(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!writer.valid()) fail("fifo", "open", path, "opening the exec fifo for writing");
  if (::write(writer.get(), "0", 1) != 1) fail("fifo", "write", path, "writing to the exec fifo");
  execFifoWriter = writer.release();
  // Close the O_PATH fd before exec: the kernel resets dumpable only after the fd table is
  // unshared, and a container must not reach the host's fifo through it.
  fifo.reset();
}

}  // namespace

void reportOnExecFifo(const std::string& procErrorJson) {
  if (execFifoWriter >= 0) writeAllToExecFifo("E" + procErrorJson);
}

void runInit(Bootstrap& plan, SyncSocket& sync) {
  enterNamespaces(plan, sync);

  if (plan.loopback) {
    currentStage = "namespaces";
    bringUpLoopback();
  }

  // The fifo lives in the state directory on the host: open it while the host's paths
  // are still reachable.
  UniqueFd fifo;
  if (!plan.execFifo.empty()) {
    currentStage = "fifo";
    fifo.reset(::open(plan.execFifo.c_str(), O_PATH | O_CLOEXEC));
    if (!fifo.valid()) fail("fifo", "open", plan.execFifo, "opening the exec fifo");
  }

  log::debug("stage: namespaces done");
  currentStage = "mounts";
  mountRootfs(plan.rootfs);
  log::debug("stage: mounts done");

  // procHooks: the parent applies cgroup resources and runs prestart + createRuntime.
  currentStage = "hooks";
  std::string state = "{}";
  if (plan.syncHooks) {
    sync.send("hooks", json::Value::object({{"type", "procHooks"}}));
    SyncMessage done = sync.expect("hooks", "procHooksDone");
    bool haveHooks = !plan.createContainerHooks.empty() || !plan.startContainerHooks.empty();
    state = stateFromHooksDone(done, haveHooks);
    // runHooks watches the sync socket itself: a parent that dies then still leaves us alive
    // long enough to kill the hook's whole process group, which SIGKILL would not.
    setParentDeathSignal(false);
    // runc's init runs them from the rootfs (its working directory), with the process's env.
    runHooks("createContainer", plan.createContainerHooks, state, sync.fd(), plan.process.env, plan.rootfs.rootfs);
    setParentDeathSignal(true);
  } else if (!plan.createContainerHooks.empty() || !plan.startContainerHooks.empty()) {
    failPlain("hooks", "", "the plan has container hooks but no procHooks step to get their state");
  }

  log::debug("stage: hooks done");
  currentStage = "pivot_root";
  pivotIntoRootfs(plan.rootfs, plan.process.cwd);
  // As runc's standard init: the console before the rootfs is finalized, so that a /dev
  // mounted read-only can still get its /dev/console (runc #3248).
  openTerminalIfAsked(plan.process, sync, true);
  currentStage = "pivot_root";
  finalizeRootfs(plan.rootfs);
  log::debug("stage: pivot_root and rootfs finalized");
  // Where runc sets it, at the end of the rootfs finalization: startContainer hooks already
  // run with the process's umask.
  ::umask(static_cast<mode_t>(plan.process.umask.value_or(022)));
  setNames(plan);
  currentStage = "sysctl";
  restrictKernelViews(plan.rootfs);

  log::debug("stage: names and sysctl done");
  if (plan.readyAck) readyAndWait(sync);
  else readyWithoutAck(plan, sync);
  log::debug("stage: procRun received");
  finalizeProcess(plan.process, sync);
  log::debug("stage: identity and capabilities done");

  currentStage = "exec";
  std::string path = lookPath(plan.process.args[0], plan.process.env);
  loadLateSeccomp(plan.process, sync);
  if (fifo.valid()) {
    log::debug("init: closing the sync socket to signal that set-up succeeded");
    releaseParent(plan, sync);
    waitOnExecFifo(fifo);
    log::debug("stage: exec fifo released");
  } else {
    releaseParentAtExec(plan, sync);
  }
  currentStage = "hooks";
  // In the process's cwd, with its env as finalizeProcess left it (HOME set), as runc's init.
  if (!plan.startContainerHooks.empty())
    runHooks("startContainer", plan.startContainerHooks, stateWithStatus(state, "created"), -1, plan.process.env, "");

  // exec() (poststart hooks, then its return) goes on once this is read and the execve has
  // closed the fifo: the program is started by then, as the runtime spec wants.
  if (execFifoWriter >= 0) writeAllToExecFifo("1");
  execUserProgram(plan, path);
}

void runExec(Bootstrap& plan, SyncSocket& sync) {
  enterNamespaces(plan, sync);
  openTerminalIfAsked(plan.process, sync, false);
  if (plan.readyAck) readyAndWait(sync);
  else readyWithoutAck(plan, sync);
  finalizeProcess(plan.process, sync);

  currentStage = "exec";
  std::string path = lookPath(plan.process.args[0], plan.process.env);
  loadLateSeccomp(plan.process, sync);
  releaseParentAtExec(plan, sync);
  if (plan.process.umask) ::umask(static_cast<mode_t>(*plan.process.umask));
  execUserProgram(plan, path);
}

void hardenHelper() {
  // A process already in the container (a joined namespace, a concurrent exec) must not
  // ptrace us nor open our fds (sync socket, log pipe, the host's exec fifo) through
  // /proc/<pid>/fd while we work for the host: port of nsexec's PR_SET_DUMPABLE 0. The
  // execve of the user's program makes it dumpable again.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail("bootstrap", "prctl", "", "setting the helper non-dumpable");
  setParentDeathSignal(true);
}

}  // namespace nlc
