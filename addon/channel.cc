// openChannel: a SOCK_SEQPACKET socket watched on the libuv loop. One datagram is one
// message; fds travel as SCM_RIGHTS. This is the parent's end of the init and sync sockets
// (docs/protocol.md).
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "args.h"
#include "binding.h"
#include "errno_error.h"
#include "fd.h"
#include "loop.h"

namespace nlc {
namespace {

constexpr int kMaxFdsPerMessage = 253;  // SCM_MAX_FD
// Messages handled per readable event before yielding to the loop (epoll is level-triggered,
// so the rest come on the next turn).
constexpr int kMaxMessagesPerTurn = 64;
// send() waits this long for room in the socket buffer before giving up with EAGAIN.
constexpr int kSendTimeoutMs = 10'000;

bool PeerHungUp(int fd) {
  struct pollfd p = {fd, POLLRDHUP, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

class Channel : public Napi::ObjectWrap<Channel> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeChannel",
                       {InstanceMethod<&Channel::Send>("send"), InstanceMethod<&Channel::Close>("close"),
                        InstanceMethod<&Channel::RefJs>("ref"), InstanceMethod<&Channel::UnrefJs>("unref")});
  }

  // new NativeChannel(fd, onMessage), only ever called by openChannel. Takes ownership of fd,
  // even when it fails.
  explicit Channel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Channel>(info) {
    Napi::Env env = info.Env();
    auto fd = ToFd(info[0], "fd");
    if (!fd) return;
    fd_.reset(*fd);
    if (!info[1].IsFunction()) {
      ThrowType(env, "onMessage must be a function");
      return;
    }
    int r = poll_.Start(env, fd_.get(), UV_READABLE, &Channel::OnEvent, this);
    if (r < 0) {
      ThrowErrno(env, -r, "openChannel", "uv_poll_start");
      return;
    }
    onMessage_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "nlc.NativeChannel", info.This().As<Napi::Object>());
    Ref();  // alive while open, even if JS drops the channel object
  }

 private:
  enum class ReadResult { kMessage, kAgain, kEnd };

  static void OnEvent(void* owner, int status, int /*events*/) { static_cast<Channel*>(owner)->OnReadable(status); }

  void OnReadable(int status) {
    Napi::Env env = Env();
    if (status < 0) return End();
    for (int i = 0; i < kMaxMessagesPerTurn && fd_; i++) {
      Napi::HandleScope scope(env);
      Napi::Value data;
      std::vector<int> fds;
      ReadResult r = ReadOne(&data, &fds);
      if (r == ReadResult::kAgain) return;
      if (r == ReadResult::kEnd) return End();
      // onMessage may close the channel; the loop condition sees it.
      CallFromLoop(env, onMessage_.Value(), *context_, {data, ToJsArray(env, fds)});
    }
  }

  ReadResult ReadOne(Napi::Value* data, std::vector<int>* fds) {
    Napi::Env env = Env();
    ssize_t size;
    // Size the datagram first: init messages can be tens of KB.
    do {
      size = recv(fd_.get(), nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    } while (size < 0 && errno == EINTR);
    if (size < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? ReadResult::kAgain : ReadResult::kEnd;

    Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(size));
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    struct iovec iov = {buffer.Data(), static_cast<size_t>(size)};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
      n = recvmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? ReadResult::kAgain : ReadResult::kEnd;

    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* p = CMSG_DATA(c);
      for (size_t k = 0; k < count; k++) {
        int fd;
        std::memcpy(&fd, p + k * sizeof(int), sizeof fd);
        fds->push_back(fd);
      }
    }
    // A zero-length read is either an empty datagram or the peer's close; only the latter
    // leaves the socket hung up.
    if (n == 0 && fds->empty() && PeerHungUp(fd_.get())) return ReadResult::kEnd;
    *data = static_cast<size_t>(n) == buffer.Length() ? buffer : Napi::Buffer<uint8_t>::Copy(env, buffer.Data(), n);
    return ReadResult::kMessage;
  }

  // EOF or a socket error: close, then tell JS once with onMessage(null, []).
  void End() {
    if (!fd_) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Function cb = onMessage_.Value();
    std::unique_ptr<Napi::AsyncContext> context = std::move(context_);
    Shutdown();
    CallFromLoop(env, cb, *context, {env.Null(), Napi::Array::New(env, 0)});
  }

  void Shutdown() {
    if (!fd_) return;
    poll_.Stop();  // out of epoll before the fd number can be reused
    fd_.reset();
    onMessage_.Reset();
    context_.reset();
    Unref();  // last: the wrapper may be collected from now on
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) return ThrowType(env, "send: data must be a Buffer");
    auto view = info[0].As<Napi::TypedArray>();
    auto* bytes = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    size_t length = view.ByteLength();
    std::vector<int> fds;
    if (!info[1].IsUndefined() && !info[1].IsNull()) {
      auto parsed = ToIntArray(info[1], "fds", 0, INT32_MAX);
      if (!parsed) return env.Undefined();
      fds = std::move(*parsed);
      if (fds.size() > kMaxFdsPerMessage) return ThrowRange(env, "send: at most 253 fds per message");
    }
    if (!fd_) return ThrowErrno(env, EBADF, "send", "sendmsg");

    struct iovec iov = {bytes, length};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    if (!fds.empty()) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }

    // The socket is non-blocking (uv_poll made it so). Messages are small and the peer reads
    // promptly, so a full buffer is rare: wait for room synchronously, with a bound.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kSendTimeoutMs);
    bool grown = false;
    for (;;) {
      if (sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) return env.Undefined();
      if (errno == EINTR) continue;
      // A datagram must fit the send buffer whole (net.core.wmem_default, about 208 KiB): a
      // plan carrying a large environment or argument list does not. Grow this socket's
      // buffer to fit it, once; past wmem_max only with CAP_NET_ADMIN (SO_SNDBUFFORCE).
      if (errno == EMSGSIZE && !grown && GrowSendBuffer(length)) {
        grown = true;
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) return ThrowErrno(env, errno, "send", "sendmsg");
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return ThrowErrno(env, EAGAIN, "send", "sendmsg");
      struct pollfd p = {fd_.get(), POLLOUT, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
        return ThrowErrno(env, errno, "send", "poll");
    }
  }

  // The kernel doubles the value it is given and refuses a datagram longer than the buffer
  // less 32 bytes: room for `length` plus the bookkeeping of one more small message.
  bool GrowSendBuffer(size_t length) {
    if (length > static_cast<size_t>(INT32_MAX / 2) - 65536) return false;
    int size = static_cast<int>(length) + 65536;
    if (setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) == 0) return true;
    return setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size) == 0;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
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

  UniqueFd fd_;
  PollHandle poll_;
  Napi::FunctionReference onMessage_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

Napi::Value OpenChannel(const Napi::CallbackInfo& info) {
  return GetAddonData(info.Env())->channel.New({info[0], info[1]});
}

}  // namespace

void InitChannel(Napi::Env env, Napi::Object exports, AddonData* data) {
  data->channel = Napi::Persistent(Channel::Define(env));
  exports.Set("openChannel", Napi::Function::New(env, OpenChannel, "openChannel"));
}

}  // namespace nlc
