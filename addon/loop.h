// Watching fds on Node's own libuv loop: no threads, no threadpool, nothing that blocks.
#pragma once

#include <napi.h>
#include <uv.h>

#include <initializer_list>
#include <utility>

namespace nlc {

inline uv_loop_t* LoopOf(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  return loop;
}

// A uv_poll_t owned by a C++ object. The handle lives in a heap block freed by libuv's close
// callback, because uv_close completes on a later loop turn, possibly after the owner (a GC'd
// ObjectWrap) is gone. An async cleanup hook holds the env open until that close callback
// has run: a worker's env dlcloses the addon when it ends, and a close callback left pending
// then would jump into unmapped code.
class PollHandle {
 public:
  using Callback = void (*)(void* owner, int status, int events);

  PollHandle() = default;
  ~PollHandle() { Stop(); }
  PollHandle(const PollHandle&) = delete;
  PollHandle& operator=(const PollHandle&) = delete;

  // Returns 0 or a negative uv error (a -errno on Unix). Note: uv_poll_init makes fd O_NONBLOCK.
  int Start(Napi::Env env, int fd, int events, Callback cb, void* owner) {
    Stop();
    auto* state = new State{};
    int r = uv_poll_init(LoopOf(env), &state->poll, fd);
    if (r != 0) {
      delete state;  // uv_poll_init registers nothing when it fails
      return r;
    }
    state->poll.data = state;
    state->self = this;
    if (napi_add_async_cleanup_hook(env, &PollHandle::OnEnvCleanup, state, &state->hook) != napi_ok)
      state->hook = nullptr;
    cb_ = cb;
    owner_ = owner;
    state_ = state;
    r = uv_poll_start(&state->poll, events, &PollHandle::OnEvent);
    if (r != 0) Stop();
    return r;
  }

  // After Stop the fd is out of epoll, so the owner may close it at once.
  void Stop() {
    if (!state_) return;
    Close(std::exchange(state_, nullptr));
  }

  bool active() const { return state_ != nullptr; }
  void Ref() {
    if (state_) uv_ref(reinterpret_cast<uv_handle_t*>(&state_->poll));
  }
  void Unref() {
    if (state_) uv_unref(reinterpret_cast<uv_handle_t*>(&state_->poll));
  }

 private:
  struct State {
    uv_poll_t poll;
    PollHandle* self;  // null once closing
    napi_async_cleanup_hook_handle hook;
  };

  static void Close(State* state) {
    state->self = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&state->poll), [](uv_handle_t* h) {
      auto* state = static_cast<State*>(h->data);
      if (state->hook) napi_remove_async_cleanup_hook(state->hook);
      delete state;
    });
  }

  static void OnEvent(uv_poll_t* handle, int status, int events) {
    auto* state = static_cast<State*>(handle->data);
    if (state->self) state->self->cb_(state->self->owner_, status, events);
  }

  // The env is going away with the handle still open: close it; the close callback tells
  // Node we are done. A handle already closing needs nothing more.
  static void OnEnvCleanup(napi_async_cleanup_hook_handle, void* arg) {
    auto* state = static_cast<State*>(arg);
    if (!state->self) return;
    state->self->state_ = nullptr;
    Close(state);
  }

  State* state_ = nullptr;
  Callback cb_ = nullptr;
  void* owner_ = nullptr;
};

// Calls fn from a libuv callback the way Node calls its own: through MakeCallback (so
// microtasks run and async_hooks see the context), and a throw becomes an uncaught exception
// instead of being left pending on the env.
inline void CallFromLoop(Napi::Env env, Napi::Function fn, napi_async_context context,
                         std::initializer_list<napi_value> args) {
  fn.MakeCallback(env.Global(), args, context);
  if (env.IsExceptionPending()) {
    Napi::Error error = env.GetAndClearPendingException();
    napi_fatal_exception(env, error.Value());
  }
}

}  // namespace nlc
