// pidfds: open, signal, steal an fd, and learn about exits without blocking the loop.
//
// Exits are watched by polling the pidfd on Node's libuv loop and reaping with
// waitid(P_PIDFD): never waitpid(-1), which would steal the exit statuses of the children
// libuv spawned itself (child_process).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "args.h"
#include "binding.h"
#include "errno_error.h"
#include "loop.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace nlc {
namespace {

struct ExitStatus {
  std::optional<int> exitCode;
  std::optional<int> signal;
};

Napi::Object ToJs(Napi::Env env, const ExitStatus& status) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("exitCode", status.exitCode ? Napi::Number::New(env, *status.exitCode) : env.Null());
  o.Set("signal", status.signal ? Napi::Number::New(env, *status.signal) : env.Null());
  return o;
}

ExitStatus FromSiginfo(const siginfo_t& info) {
  ExitStatus status;
  switch (info.si_code) {
    case CLD_EXITED:
      status.exitCode = info.si_status;
      break;
    case CLD_KILLED:
    case CLD_DUMPED:
      status.signal = info.si_status;
      break;
    default:
      break;  // stopped/continued are not reported with WEXITED only
  }
  return status;
}

// waitid(P_PIDFD, WEXITED|WNOHANG). Returns false with errno set on failure; sets `exited`
// to whether there was a status to collect.
bool ReapNoHang(int pidfd, siginfo_t* info, bool* exited) {
  for (;;) {
    info->si_pid = 0;
    if (waitid(static_cast<idtype_t>(P_PIDFD), pidfd, info, WEXITED | WNOHANG) == 0) {
      *exited = info->si_pid != 0;
      return true;
    }
    if (errno != EINTR) return false;
  }
}

// The addon stays mapped until the process ends: a reaper thread may outlive the env that
// loaded it (a worker's env dlcloses its addons when it ends).
void PinAddonInMemory() {
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info self;
    if (dladdr(reinterpret_cast<void*>(&PinAddonInMemory), &self) != 0 && self.dli_fname)
      dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  });
}

// A child whose env went away while it ran (a worker_threads Worker terminated): nobody is left
// to reap it, and a zombie in a container's pid namespace keeps its init from ever finishing
// its exit (zap_pid_ns_processes), so destroy() from another thread would wait forever. A
// thread of its own waits for it. Takes ownership of pidfd.
void ReapInBackground(int pidfd) {
  PinAddonInMemory();
  try {
    std::thread([pidfd] {
      // uv_poll made the pidfd O_NONBLOCK (waitid would say EAGAIN at once): wait in poll().
      siginfo_t info;
      bool exited = false;
      while (ReapNoHang(pidfd, &info, &exited) && !exited) {
        pollfd readable{pidfd, POLLIN, 0};
        if (poll(&readable, 1, -1) < 0 && errno != EINTR) break;
      }
      close(pidfd);
    }).detach();
  } catch (const std::system_error&) {
    close(pidfd);  // no thread to be had: the child stays a zombie until the process ends
  }
}

class ExitWatcher : public Napi::ObjectWrap<ExitWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ExitWatch",
                       {InstanceMethod<&ExitWatcher::Cancel>("cancel"), InstanceMethod<&ExitWatcher::RefJs>("ref"),
                        InstanceMethod<&ExitWatcher::UnrefJs>("unref")});
  }

  // new ExitWatch(pidfd, reap, cb), only ever called by watchExit.
  explicit ExitWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ExitWatcher>(info) {
    Napi::Env env = info.Env();
    auto pidfd = ToFd(info[0], "pidfd");
    if (!pidfd) return;
    if (!info[1].IsBoolean()) {
      ThrowType(env, "reap must be a boolean");
      return;
    }
    if (!info[2].IsFunction()) {
      ThrowType(env, "cb must be a function");
      return;
    }
    pidfd_ = *pidfd;
    reap_ = info[1].As<Napi::Boolean>().Value();
    int r = poll_.Start(env, pidfd_, UV_READABLE, &ExitWatcher::OnEvent, this);
    if (r < 0) {
      ThrowErrno(env, -r, "watchExit", "uv_poll_start");
      return;
    }
    callback_ = Napi::Persistent(info[2].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "nlc.ExitWatch", info.This().As<Napi::Object>());
    if (reap_ && napi_add_env_cleanup_hook(env, &ExitWatcher::OnEnvGone, this) == napi_ok) cleanupHook_ = env;
    Ref();  // alive for as long as it watches, whether or not JS keeps the handle
  }

  ~ExitWatcher() override { RemoveCleanupHook(); }

 private:
  // The env ends (a worker terminated) while this child runs: hand it to a reaper thread.
  static void OnEnvGone(void* arg) {
    auto* self = static_cast<ExitWatcher*>(arg);
    self->cleanupHook_ = nullptr;  // registered only while watching: Finish() removes it
    int fd = fcntl(self->pidfd_, F_DUPFD_CLOEXEC, 0);
    if (fd >= 0) ReapInBackground(fd);
  }

  void RemoveCleanupHook() {
    if (cleanupHook_) napi_remove_env_cleanup_hook(cleanupHook_, &ExitWatcher::OnEnvGone, this);
    cleanupHook_ = nullptr;
  }

  static void OnEvent(void* owner, int status, int /*events*/) {
    static_cast<ExitWatcher*>(owner)->OnExit(status);
  }

  void OnExit(int pollStatus) {
    ExitStatus status;
    if (pollStatus == 0 && reap_) {
      siginfo_t info;
      bool exited = false;
      if (ReapNoHang(pidfd_, &info, &exited)) {
        if (!exited) return;  // spurious wakeup: keep polling
        status = FromSiginfo(info);
      }
      // else: somebody reaped it first (tryReap): report an unknown status
    }
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Function cb = callback_.Value();
    std::unique_ptr<Napi::AsyncContext> context = std::move(context_);
    Finish();
    CallFromLoop(env, cb, *context, {ToJs(env, status)});
  }

  void Finish() {
    if (!poll_.active()) return;
    RemoveCleanupHook();
    poll_.Stop();
    callback_.Reset();
    context_.reset();
    Unref();  // last: the wrapper may be collected from now on
  }

  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    Finish();
    return info.Env().Undefined();
  }
  Napi::Value RefJs(const Napi::CallbackInfo& info) {
    poll_.Ref();
    return info.Env().Undefined();
  }
  Napi::Value UnrefJs(const Napi::CallbackInfo& info) {
    poll_.Unref();
    return info.Env().Undefined();
  }

  int pidfd_ = -1;
  bool reap_ = false;
  napi_env cleanupHook_ = nullptr;  // where OnEnvGone is registered, while it is
  PollHandle poll_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  return GetAddonData(info.Env())->exitWatcher.New({info[0], info[1], info[2]});
}

Napi::Value TryReap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pidfd = ToFd(info[0], "pidfd");
  if (!pidfd) return env.Undefined();
  siginfo_t si;
  bool exited = false;
  if (!ReapNoHang(*pidfd, &si, &exited)) return ThrowErrno(env, errno, "tryReap", "waitid");
  if (!exited) return env.Null();
  return ToJs(env, FromSiginfo(si));
}

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pid = ToInt(info[0], "pid", 1);
  if (!pid) return env.Undefined();
  // pidfds are always close-on-exec.
  long fd = syscall(SYS_pidfd_open, *pid, 0);
  if (fd < 0) return ThrowErrno(env, errno, "pidfdOpen", "pidfd_open");
  return Napi::Number::New(env, static_cast<double>(fd));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pidfd = ToFd(info[0], "pidfd");
  if (!pidfd) return env.Undefined();
  auto sig = ToInt(info[1], "signal", 0, 64);
  if (!sig) return env.Undefined();
  if (syscall(SYS_pidfd_send_signal, *pidfd, *sig, nullptr, 0) < 0)
    return ThrowErrno(env, errno, "pidfdSendSignal", "pidfd_send_signal");
  return env.Undefined();
}

Napi::Value PidfdGetfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pidfd = ToFd(info[0], "pidfd");
  if (!pidfd) return env.Undefined();
  auto target = ToFd(info[1], "targetFd");
  if (!target) return env.Undefined();
  // The new fd is always close-on-exec.
  long fd = syscall(SYS_pidfd_getfd, *pidfd, *target, 0);
  if (fd < 0) return ThrowErrno(env, errno, "pidfdGetfd", "pidfd_getfd");
  return Napi::Number::New(env, static_cast<double>(fd));
}

}  // namespace

void InitPidfd(Napi::Env env, Napi::Object exports, AddonData* data) {
  data->exitWatcher = Napi::Persistent(ExitWatcher::Define(env));
  exports.Set("watchExit", Napi::Function::New(env, WatchExit, "watchExit"));
  exports.Set("tryReap", Napi::Function::New(env, TryReap, "tryReap"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("pidfdGetfd", Napi::Function::New(env, PidfdGetfd, "pidfdGetfd"));
}

}  // namespace nlc
