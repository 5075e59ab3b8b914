// Kernel notifications the cgroup managers wait for (OOM events: an eventfd registered with
// cgroup.event_control on v1, inotify on memory.events on v2) and a generic watcher that
// calls JS each time such an fd is readable, on Node's own loop.
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>

#include <memory>

#include "args.h"
#include "binding.h"
#include "errno_error.h"
#include "loop.h"

namespace nlc {
namespace {

Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return ThrowErrno(info.Env(), errno, "eventfd");
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value InotifyInit(const Napi::CallbackInfo& info) {
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return ThrowErrno(info.Env(), errno, "inotifyInit", "inotify_init1");
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value InotifyAddWatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fd = ToFd(info[0], "fd");
  if (!fd) return env.Undefined();
  auto path = ToString(info[1], "path");
  if (!path) return env.Undefined();
  auto mask = ToInteger(info[2], "mask", 1, UINT32_MAX);
  if (!mask) return env.Undefined();
  int wd = inotify_add_watch(*fd, path->c_str(), static_cast<uint32_t>(*mask));
  if (wd < 0) return ThrowErrno(env, errno, "inotifyAddWatch", "inotify_add_watch", path->c_str());
  return Napi::Number::New(env, wd);
}

// Level-triggered (libuv polls with epoll without EPOLLET): cb runs on every loop turn on
// which the fd is readable, so the callback must drain it. If polling itself fails (the fd
// was closed under the watcher), cb gets that error once and the watch ends.
class ReadableWatcher : public Napi::ObjectWrap<ReadableWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ReadableWatch",
                       {InstanceMethod<&ReadableWatcher::Cancel>("cancel"),
                        InstanceMethod<&ReadableWatcher::RefJs>("ref"),
                        InstanceMethod<&ReadableWatcher::UnrefJs>("unref")});
  }

  // new ReadableWatch(fd, cb), only ever called by watchReadable. Does not own fd.
  explicit ReadableWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ReadableWatcher>(info) {
    Napi::Env env = info.Env();
    auto fd = ToFd(info[0], "fd");
    if (!fd) return;
    if (!info[1].IsFunction()) {
      ThrowType(env, "cb must be a function");
      return;
    }
    int r = poll_.Start(env, *fd, UV_READABLE, &ReadableWatcher::OnEvent, this);
    if (r < 0) {
      ThrowErrno(env, -r, "watchReadable", "uv_poll_start");
      return;
    }
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "nlc.ReadableWatch", info.This().As<Napi::Object>());
    Ref();  // alive while watching, whether or not JS keeps the handle
  }

 private:
  static void OnEvent(void* owner, int status, int /*events*/) {
    static_cast<ReadableWatcher*>(owner)->OnReadable(status);
  }

  void OnReadable(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    // Held on the stack: the callback may cancel (dropping our reference) and the wrapper
    // must outlive this call.
    [[maybe_unused]] Napi::Object self = Value();
    Napi::Function cb = callback_.Value();
    if (status < 0) {
      std::unique_ptr<Napi::AsyncContext> context = std::move(context_);
      Finish();
      CallFromLoop(env, cb, *context, {MakeErrnoError(env, -status, "watchReadable", "uv_poll").Value()});
      return;
    }
    // The callback may cancel; the async context it runs in is destroyed after it returns.
    inCallback_ = true;
    CallFromLoop(env, cb, *context_, {});
    inCallback_ = false;
    if (!poll_.active()) context_.reset();
  }

  void Finish() {
    if (!poll_.active()) return;
    poll_.Stop();
    callback_.Reset();
    if (!inCallback_) context_.reset();
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

  PollHandle poll_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  bool inCallback_ = false;
};

Napi::Value WatchReadable(const Napi::CallbackInfo& info) {
  return GetAddonData(info.Env())->readableWatcher.New({info[0], info[1]});
}

}  // namespace

void InitNotify(Napi::Env env, Napi::Object exports, AddonData* data) {
  data->readableWatcher = Napi::Persistent(ReadableWatcher::Define(env));
  exports.Set("eventfd", Napi::Function::New(env, Eventfd, "eventfd"));
  exports.Set("inotifyInit", Napi::Function::New(env, InotifyInit, "inotifyInit"));
  exports.Set("inotifyAddWatch", Napi::Function::New(env, InotifyAddWatch, "inotifyAddWatch"));
  exports.Set("watchReadable", Napi::Function::New(env, WatchReadable, "watchReadable"));
}

}  // namespace nlc
