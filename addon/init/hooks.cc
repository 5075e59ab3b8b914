#include "hooks.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "error.h"
#include "exec.h"
#include "fd.h"
#include "fileio.h"
#include "log.h"

namespace nlc {
namespace {

// Enough of a hook's output to explain its failure.
constexpr size_t kMaxOutput = 32 * 1024;
// How long the processes a failed hook left behind may take to die after SIGKILL.
constexpr int64_t kCleanupMs = 5000;

int64_t nowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// While hooks run the helper is a child subreaper: whatever a hook leaves behind (a
// daemonised grandchild, a background job) becomes our child, to be killed with the hook on
// failure and reaped in any case, never a zombie inherited by the user's program. Cleared
// afterwards: the flag would otherwise survive the final execve.
class SubreaperScope {
 public:
  SubreaperScope() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
  ~SubreaperScope() { ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0); }
  SubreaperScope(const SubreaperScope&) = delete;
  SubreaperScope& operator=(const SubreaperScope&) = delete;
};

// A memfd holding the state: the hook can read it at its own pace and never blocks us.
UniqueFd stateFile(const std::string& what, const std::string& stateJson) {
  UniqueFd fd(::memfd_create("nlc-hook-state", MFD_CLOEXEC));
  if (!fd.valid()) fail("hooks", "memfd_create", "", "preparing the state for the " + what);
  if (!writeAll(fd.get(), stateJson)) fail("hooks", "write", "", "preparing the state for the " + what);
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) fail("hooks", "lseek", "", "preparing the state for the " + what);
  return fd;
}

struct HookChild {
  pid_t pid = -1;  // also the hook's process group
  UniqueFd pidfd;
  UniqueFd output;  // read end of the hook's stdout + stderr
};

// Runs in the fork-like child until execve.
[[noreturn]] void execHookChild(const HookPlan& hook, pid_t helper, int stdinFd, int outputFd, CStrings& argv,
                                CStrings& envp, const char* cwd) {
  // Its own process group, so a timeout can kill everything it started; and it dies with
  // the helper (the parent SIGKILLs the helper when the start fails).
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::getppid() != helper) exitNow(127);
  ::signal(SIGPIPE, SIG_DFL);
  if (::dup2(stdinFd, 0) < 0 || ::dup2(outputFd, 1) < 0 || ::dup2(outputFd, 2) < 0) exitNow(127);
  // The hook gets stdio only: never the sync socket, log pipe or the process's extra files.
  markPrivateFdsCloexec(3);
  if (cwd != nullptr && ::chdir(cwd) < 0) {
    dprintf(2, "cannot change to the directory %s: %s", cwd, std::strerror(errno));
    exitNow(127);
  }
  ::execve(hook.path.c_str(), argv.data(), envp.data());
  // The parent reports this text as the hook's output.
  dprintf(2, "cannot execute %s: %s", hook.path.c_str(), std::strerror(errno));
  exitNow(127);
}

HookChild startHook(const HookPlan& hook, const std::string& what, const std::string& stateJson,
                    const std::vector<std::string>& processEnv, const std::string& cwd) {
  CStrings argv(hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args),
      envp(hook.inheritEnv ? processEnv : hook.env);
  UniqueFd input = stateFile(what, stateJson);
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) < 0) fail("hooks", "pipe2", "", "capturing the output of the " + what);
  UniqueFd outRead(pipeFds[0]), outWrite(pipeFds[1]);

  const pid_t helper = ::getpid();
  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) fail("hooks", "clone3", hook.path, "starting the " + what);
  if (pid == 0) execHookChild(hook, helper, input.get(), outWrite.get(), argv, envp, cwd.empty() ? nullptr : cwd.c_str());
  // Also set here, so that a kill of the group cannot race the child's own setpgid.
  ::setpgid(static_cast<pid_t>(pid), static_cast<pid_t>(pid));
  log::debug("running " + what + ", pid " + std::to_string(pid));
  return HookChild{static_cast<pid_t>(pid), UniqueFd(pidfd), std::move(outRead)};
}

void appendOutput(std::string& output, const char* buf, ssize_t n) {
  if (n > 0 && output.size() < kMaxOutput) output.append(buf, std::min<size_t>(static_cast<size_t>(n), kMaxOutput - output.size()));
}

enum class HookEnd { Exited, TimedOut, ParentGone };

// Wait for the hook to exit, collecting its output, until the deadline (-1: none) or until
// the parent hangs up the sync socket (parentFd, -1: not watched): a parent that gave up must
// not leave us waiting on a hook that never ends.
HookEnd waitForHook(HookChild& child, int64_t deadline, int parentFd, std::string& output, const std::string& what) {
  for (;;) {
    pollfd fds[3] = {{child.pidfd.get(), POLLIN, 0}, {parentFd, 0, 0}, {child.output.get(), POLLIN, 0}};
    int wait = -1;
    if (deadline >= 0) {
      int64_t left = deadline - nowMs();
      if (left <= 0) return HookEnd::TimedOut;
      wait = static_cast<int>(left);
    }
    int n = ::poll(fds, child.output.valid() ? 3 : 2, wait);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("hooks", "poll", "", "waiting for the " + what);
    if (fds[0].revents & POLLIN) return HookEnd::Exited;
    if (fds[1].revents & (POLLHUP | POLLERR)) return HookEnd::ParentGone;
    if (child.output.valid() && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[4096];
      ssize_t r = ::read(child.output.get(), buf, sizeof buf);
      if (r > 0) appendOutput(output, buf, r);
      else if (r == 0 || errno != EINTR) child.output.reset();
    }
  }
}

// Pick up what the hook wrote just before exiting; a daemon it left behind may hold the pipe
// open, so never wait for EOF.
void drainOutput(HookChild& child, std::string& output) {
  if (!child.output.valid()) return;
  ::fcntl(child.output.get(), F_SETFL, O_NONBLOCK);
  char buf[4096];
  ssize_t r;
  while (output.size() < kMaxOutput && (r = ::read(child.output.get(), buf, sizeof buf)) > 0) appendOutput(output, buf, r);
}

siginfo_t reapHook(const HookChild& child, const std::string& what) {
  siginfo_t info{};
  int rc;
  do rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(child.pidfd.get()), &info, WEXITED);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) fail("hooks", "waitid", "", "reaping the " + what);
  return info;
}

// Kill the hook's process group (and, when the helper is pid 1 of the container's pid
// namespace, everything else in it: nothing but the hooks' processes lives there yet), then
// reap what was killed. Thanks to SubreaperScope every one of them is, or becomes, our child.
void killLeftovers(pid_t group) {
  ::kill(-group, SIGKILL);
  const bool namespaceInit = ::getpid() == 1;
  if (namespaceInit) ::kill(-1, SIGKILL);
  const int64_t deadline = nowMs() + kCleanupMs;
  for (;;) {
    pid_t p = ::waitpid(namespaceInit ? -1 : -group, nullptr, WNOHANG);
    if (p > 0 || (p < 0 && errno == EINTR)) continue;
    if (p < 0 || nowMs() > deadline) return;  // ECHILD: all gone
    ::usleep(2000);
  }
}

// Reap the zombies of processes a successful hook left behind; live daemons stay.
void reapExited() {
  for (;;) {
    pid_t p = ::waitpid(-1, nullptr, WNOHANG);
    if (p > 0 || (p < 0 && errno == EINTR)) continue;
    return;
  }
}

void runHook(const std::string& kind, size_t index, const HookPlan& hook, const std::string& stateJson, int parentFd,
             const std::vector<std::string>& processEnv, const std::string& cwd) {
  const std::string what = kind + " hook #" + std::to_string(index) + " (" + hook.path + ")";
  HookChild child = startHook(hook, what, stateJson, processEnv, cwd);
  const int64_t deadline = hook.timeout ? nowMs() + static_cast<int64_t>(std::ceil(*hook.timeout * 1000)) : -1;
  std::string output;
  HookEnd end = waitForHook(child, deadline, parentFd, output, what);
  if (end != HookEnd::Exited) ::kill(-child.pid, SIGKILL);
  drainOutput(child, output);
  siginfo_t info = reapHook(child, what);
  const bool failed = end != HookEnd::Exited || info.si_code != CLD_EXITED || info.si_status != 0;
  if (failed) killLeftovers(child.pid);
  else reapExited();

  std::string suffix = output.empty() ? "" : ", output: " + output;
  if (end == HookEnd::ParentGone) failPlain("hooks", hook.path, "the parent closed the sync socket while the " + what + " ran");
  if (end == HookEnd::TimedOut) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", *hook.timeout);
    failPlain("hooks", hook.path, what + " timed out after " + secs + "s" + suffix);
  }
  if (info.si_code == CLD_EXITED && info.si_status != 0)
    failPlain("hooks", hook.path, what + " failed: exit status " + std::to_string(info.si_status) + suffix);
  if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
    // With the signal's description as runc reports it ("signal: bad system call").
    std::string description = ::strsignal(info.si_status);
    if (!description.empty()) description[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(description[0])));
    failPlain("hooks", hook.path, what + " was killed by signal " + std::to_string(info.si_status) + " (" + description + ")" + suffix);
  }
}

}  // namespace

void runHooks(const std::string& kind, const std::vector<HookPlan>& hooks, const std::string& stateJson, int parentFd,
              const std::vector<std::string>& processEnv, const std::string& cwd) {
  if (hooks.empty()) return;
  SubreaperScope subreaper;
  for (size_t i = 0; i < hooks.size(); ++i) runHook(kind, i, hooks[i], stateJson, parentFd, processEnv, cwd);
}

}  // namespace nlc
