#include "sync.h"

#include <sys/socket.h>

#include <cstring>

#include "error.h"

namespace nlc {
namespace {

// More than the protocol ever attaches; extra fds beyond this are truncated by the kernel
// (MSG_CTRUNC), which is reported as an error.
constexpr size_t kMaxFds = 16;

}  // namespace

void SyncSocket::send(const std::string& stage, const json::Value& message, const std::vector<int>& fds) {
  std::string data = json::serialize(message);
  iovec iov{data.data(), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    if (n >= 0) return;
    if (errno == EINTR) continue;
    const json::Value* type = message.find("type");
    fail(stage, "sendmsg", "", "sending " + (type && type->isString() ? type->asString() : "a message") + " to the parent");
  }
}

SyncMessage SyncSocket::recv(const std::string& stage, const std::string& waitingFor) {
  const std::string doing = "waiting for " + waitingFor + " from the parent";
  // Size the buffer to the datagram: MSG_TRUNC makes the peek return its real length.
  ssize_t size;
  for (;;) {
    char probe;
    size = ::recv(fd_.get(), &probe, 1, MSG_PEEK | MSG_TRUNC);
    if (size >= 0 || errno != EINTR) break;
  }
  if (size < 0) fail(stage, "recv", "", doing);
  if (size == 0) {
    errno = 0;
    failPlain(stage, "", "the parent closed the sync socket while " + doing);
  }

  std::string data(static_cast<size_t>(size), '\0');
  iovec iov{data.data(), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  for (;;) {
    n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0 || errno != EINTR) break;
  }
  if (n < 0) fail(stage, "recvmsg", "", doing);

  SyncMessage out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.emplace_back(fd);
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) failPlain(stage, "", "message from the parent was truncated while " + doing);
  data.resize(static_cast<size_t>(n));

  try {
    out.body = json::parse(data);
  } catch (const json::ParseError& e) {
    failPlain(stage, "", std::string("bad message from the parent while ") + doing + ": " + e.what());
  }
  const json::Value* type = out.body.find("type");
  if (!type || !type->isString()) failPlain(stage, "", "message from the parent without a \"type\" while " + doing);
  out.type = type->asString();
  return out;
}

SyncMessage SyncSocket::expect(const std::string& stage, const std::string& type) {
  SyncMessage m = recv(stage, type);
  if (m.type == type) return m;
  if (m.type == "procError") {
    const json::Value* message = m.body.find("message");
    throw ParentAbort{message && message->isString() ? message->asString() : "the parent failed"};
  }
  failPlain(stage, "", "unexpected message " + m.type + ", expected " + type);
}

}  // namespace nlc
