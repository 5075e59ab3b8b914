#include "hooks.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "error.h"
#include "fd.h"
#include "log.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace nlc {
namespace {

// Enough of a hook's output to explain its failure.
constexpr size_t kMaxOutput = 32 * 1024;

int64_t nowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

std::vector<char*> cStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// A memfd holding the state: the hook can read it at its own pace and never blocks us.
UniqueFd stateFile(const std::string& what, const std::string& stateJson) {
  UniqueFd fd(::memfd_create("nlc-hook-state", MFD_CLOEXEC));
  if (!fd.valid()) fail("hooks", "memfd_create", "", "preparing the state for the " + what);
  size_t off = 0;
  while (off < stateJson.size()) {
    ssize_t n = ::write(fd.get(), stateJson.data() + off, stateJson.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("hooks", "write", "", "preparing the state for the " + what);
    off += static_cast<size_t>(n);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) fail("hooks", "lseek", "", "preparing the state for the " + what);
  return fd;
}

[[noreturn]] void execHookChild(const HookPlan& hook, int stdinFd, int outputFd, std::vector<char*>& argv,
                                std::vector<char*>& envp) {
  ::signal(SIGPIPE, SIG_DFL);
  if (::dup2(stdinFd, 0) < 0 || ::dup2(outputFd, 1) < 0 || ::dup2(outputFd, 2) < 0) ::_exit(127);
  // The hook gets stdio only: never the sync socket, log pipe or the process's extra files.
  ::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  ::execve(hook.path.c_str(), argv.data(), envp.data());
  // The parent reports this text as the hook's output.
  dprintf(2, "cannot execute %s: %s", hook.path.c_str(), std::strerror(errno));
  ::_exit(127);
}

void runHook(const std::string& kind, size_t index, const HookPlan& hook, const std::string& stateJson) {
  const std::string what = kind + " hook #" + std::to_string(index) + " (" + hook.path + ")";
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<std::string> env = hook.env;
  std::vector<char*> argv = cStrings(args), envp = cStrings(env);

  UniqueFd input = stateFile(what, stateJson);
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) < 0) fail("hooks", "pipe2", "", "capturing the output of the " + what);
  UniqueFd outRead(pipeFds[0]), outWrite(pipeFds[1]);

  int pidfdRaw = -1;
  clone_args args_{};
  args_.flags = CLONE_PIDFD;
  args_.pidfd = reinterpret_cast<uint64_t>(&pidfdRaw);
  args_.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args_, sizeof args_);
  if (pid < 0) fail("hooks", "clone3", hook.path, "starting the " + what);
  if (pid == 0) execHookChild(hook, input.get(), outWrite.get(), argv, envp);
  UniqueFd pidfd(pidfdRaw);
  outWrite.reset();
  log::debug("running " + what + ", pid " + std::to_string(pid));

  int64_t deadline = hook.timeout ? nowMs() + static_cast<int64_t>(std::ceil(*hook.timeout * 1000)) : -1;
  std::string output;
  bool exited = false, timedOut = false;
  while (!exited) {
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {outRead.get(), POLLIN, 0}};
    int nfds = outRead.valid() ? 2 : 1;
    int wait = -1;
    if (deadline >= 0) {
      int64_t left = deadline - nowMs();
      if (left <= 0) {
        timedOut = true;
        break;
      }
      wait = static_cast<int>(left);
    }
    int n = ::poll(fds, nfds, wait);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("hooks", "poll", hook.path, "waiting for the " + what);
    if (nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[4096];
      ssize_t r = ::read(outRead.get(), buf, sizeof buf);
      if (r > 0) {
        if (output.size() < kMaxOutput) output.append(buf, static_cast<size_t>(std::min<size_t>(r, kMaxOutput - output.size())));
      } else if (r == 0 || errno != EINTR) {
        outRead.reset();
      }
    }
    if (fds[0].revents & POLLIN) exited = true;
  }

  if (timedOut) {
    ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
  } else if (outRead.valid()) {
    // Pick up what the hook wrote just before exiting; a daemon it left behind may hold the
    // pipe open, so never wait for EOF.
    ::fcntl(outRead.get(), F_SETFL, O_NONBLOCK);
    char buf[4096];
    ssize_t r;
    while (output.size() < kMaxOutput && (r = ::read(outRead.get(), buf, sizeof buf)) > 0)
      output.append(buf, static_cast<size_t>(std::min<size_t>(r, kMaxOutput - output.size())));
  }

  siginfo_t info{};
  int rc;
  do rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd.get()), &info, WEXITED);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) fail("hooks", "waitid", hook.path, "reaping the " + what);

  std::string suffix = output.empty() ? "" : ", output: " + output;
  if (timedOut) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", *hook.timeout);
    failPlain("hooks", hook.path, what + " timed out after " + secs + "s" + suffix);
  }
  if (info.si_code == CLD_EXITED && info.si_status != 0)
    failPlain("hooks", hook.path, what + " failed: exit status " + std::to_string(info.si_status) + suffix);
  if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED)
    failPlain("hooks", hook.path, what + " was killed by signal " + std::to_string(info.si_status) + suffix);
}

}  // namespace

void runHooks(const std::string& kind, const std::vector<HookPlan>& hooks, const std::string& stateJson) {
  for (size_t i = 0; i < hooks.size(); ++i) runHook(kind, i, hooks[i], stateJson);
}

}  // namespace nlc
