// Thin syscall bindings the TS side needs. Every fd handed out is close-on-exec: spawn
// decides explicitly which fds a child gets.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "binding.h"
#include "errno_error.h"
#include "fd.h"

namespace nlc {
namespace {

Napi::Value FdPair(Napi::Env env, const int fds[2]) {
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, Napi::Number::New(env, fds[0]));
  pair.Set(1u, Napi::Number::New(env, fds[1]));
  return pair;
}

Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return ThrowErrno(info.Env(), errno, "socketpair");
  return FdPair(info.Env(), fds);
}

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return ThrowErrno(info.Env(), errno, "pipe", "pipe2");
  return FdPair(info.Env(), fds);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fd = ToFd(info[0], "fd");
  if (!fd) return env.Undefined();
  // EINTR still closes the fd on Linux; retrying could close somebody else's.
  if (close(*fd) < 0 && errno != EINTR) return ThrowErrno(env, errno, "close");
  return env.Undefined();
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto path = ToString(info[0], "path");
  if (!path) return env.Undefined();
  auto flags = ToInt(info[1], "flags");
  if (!flags) return env.Undefined();
  int mode = 0;
  if (!info[2].IsUndefined()) {
    auto m = ToInt(info[2], "mode", 0, 07777);
    if (!m) return env.Undefined();
    mode = *m;
  }
  int fd;
  do {
    fd = open(path->c_str(), *flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);  // opening a fifo blocks and can be interrupted
  if (fd < 0) return ThrowErrno(env, errno, "open", "open", path->c_str());
  return Napi::Number::New(env, fd);
}

Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto path = ToString(info[0], "path");
  if (!path) return env.Undefined();
  auto mode = ToInt(info[1], "mode", 0, 07777);
  if (!mode) return env.Undefined();
  if (mkfifo(path->c_str(), static_cast<mode_t>(*mode)) < 0)
    return ThrowErrno(env, errno, "mkfifo", "mkfifo", path->c_str());
  return env.Undefined();
}

// Limits are bigints because RLIM_INFINITY is 2^64-1; plain integer numbers are accepted too.
std::optional<rlim_t> ToRlim(Napi::Value value, const char* what) {
  if (value.IsBigInt()) {
    bool lossless = false;
    uint64_t v = value.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) {
      ThrowRange(value.Env(), std::string(what) + " must be in [0, 2^64-1]");
      return std::nullopt;
    }
    return static_cast<rlim_t>(v);
  }
  auto v = ToInteger(value, what, 0, (1LL << 53) - 1);
  if (!v) return std::nullopt;
  return static_cast<rlim_t>(*v);
}

Napi::Value Prlimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pid = ToInt(info[0], "pid", 0);
  if (!pid) return env.Undefined();
  auto resource = ToInt(info[1], "resource", 0, RLIM_NLIMITS - 1);
  if (!resource) return env.Undefined();
  auto soft = ToRlim(info[2], "soft");
  if (!soft) return env.Undefined();
  auto hard = ToRlim(info[3], "hard");
  if (!hard) return env.Undefined();
  struct rlimit limit = {*soft, *hard};
  if (prlimit(*pid, static_cast<__rlimit_resource>(*resource), &limit, nullptr) < 0)
    return ThrowErrno(env, errno, "prlimit");
  return env.Undefined();
}

Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pid = ToInt(info[0], "pid", 0);
  if (!pid) return env.Undefined();
  auto cpus = ToIntArray(info[1], "cpus", 0, 1 << 16);
  if (!cpus) return env.Undefined();
  if (cpus->empty()) return ThrowRange(env, "cpus must not be empty");
  int count = *std::max_element(cpus->begin(), cpus->end()) + 1;
  cpu_set_t* set = CPU_ALLOC(count);
  if (!set) return ThrowErrno(env, ENOMEM, "setAffinity", "malloc");
  size_t size = CPU_ALLOC_SIZE(count);
  CPU_ZERO_S(size, set);
  for (int cpu : *cpus) CPU_SET_S(cpu, size, set);
  int r = sched_setaffinity(*pid, size, set);
  int err = errno;
  CPU_FREE(set);
  if (r < 0) return ThrowErrno(env, err, "setAffinity", "sched_setaffinity");
  return env.Undefined();
}

// The set is sized from the kernel's answer rather than CPU_SETSIZE: machines with more
// than 1024 CPUs make a fixed cpu_set_t fail with EINVAL.
Napi::Value GetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pid = ToInt(info[0], "pid", 0);
  if (!pid) return env.Undefined();
  for (int count = 1024;; count *= 2) {
    cpu_set_t* set = CPU_ALLOC(count);
    if (!set) return ThrowErrno(env, ENOMEM, "getAffinity", "malloc");
    size_t size = CPU_ALLOC_SIZE(count);
    CPU_ZERO_S(size, set);
    int r = sched_getaffinity(*pid, size, set);
    int err = errno;
    std::vector<int> cpus;
    if (r == 0)
      for (int cpu = 0; cpu < count; cpu++)
        if (CPU_ISSET_S(cpu, size, set)) cpus.push_back(cpu);
    CPU_FREE(set);
    if (r == 0) return ToJsArray(env, cpus);
    if (err != EINVAL || count >= (1 << 22)) return ThrowErrno(env, err, "getAffinity", "sched_getaffinity");
  }
}

// Readable, not O_PATH: clone3's CLONE_INTO_CGROUP and bpf's target_fd both refuse O_PATH fds.
Napi::Value OpenDirectory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto path = ToString(info[0], "path");
  if (!path) return env.Undefined();
  int fd = open(path->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, errno, "openDirectory", "open", path->c_str());
  return Napi::Number::New(env, fd);
}

// tryLock(fd): flock(LOCK_EX | LOCK_NB). true: held (until the fd is closed); false: another
// open file description holds it (in this process or another). A container's start and its
// destroy take it on the state directory, so that neither acts on what the other is changing.
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fd = ToFd(info[0], "fd");
  if (!fd) return env.Undefined();
  int rc;
  do rc = flock(*fd, LOCK_EX | LOCK_NB);
  while (rc < 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  return ThrowErrno(env, errno, "tryLock", "flock");
}

// removeAsync(files, dirs, cb): unlink each file, then rmdir each directory, in order, on one
// threadpool thread. A destroy removes a dozen paths (a cgroup directory per hierarchy, the
// state files); as one job that is one thread hand-off and one loop wake-up instead of one
// of each per path. cb(null, codes): codes[i] is null where the removal succeeded, else the
// errno name (files first, then dirs); what to do about a failure is the caller's call.
class RemoveWorker : public Napi::AsyncWorker {
 public:
  RemoveWorker(Napi::Function callback, std::vector<std::string> files, std::vector<std::string> dirs)
      : Napi::AsyncWorker(callback, "nlc:removeAsync"), files_(std::move(files)), dirs_(std::move(dirs)) {}

 protected:
  void Execute() override {
    errors_.reserve(files_.size() + dirs_.size());
    for (const std::string& file : files_) errors_.push_back(Retrying([&] { return unlink(file.c_str()); }));
    for (const std::string& dir : dirs_) errors_.push_back(Retrying([&] { return rmdir(dir.c_str()); }));
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array codes = Napi::Array::New(env, errors_.size());
    for (uint32_t i = 0; i < errors_.size(); i++) {
      codes.Set(i, errors_[i] == 0 ? env.Null() : Napi::String::New(env, ErrnoName(errors_[i])));
    }
    Callback().Call(Receiver().Value(), {env.Null(), codes});
  }

 private:
  template <typename Call>
  static int Retrying(Call call) {
    while (call() < 0) {
      if (errno != EINTR) return errno;
    }
    return 0;
  }

  std::vector<std::string> files_;
  std::vector<std::string> dirs_;
  std::vector<int> errors_;
};

Napi::Value RemoveAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto files = ToStringArray(info[0], "files");
  if (!files) return env.Undefined();
  auto dirs = ToStringArray(info[1], "dirs");
  if (!dirs) return env.Undefined();
  if (!info[2].IsFunction()) return ThrowType(env, "removeAsync: callback must be a function");
  // Deletes itself after OnOK.
  (new RemoveWorker(info[2].As<Napi::Function>(), std::move(*files), std::move(*dirs)))->Queue();
  return env.Undefined();
}

// setWinsize(fd, rows, cols): TIOCSWINSZ on a pty master (a container's terminal); the
// kernel sends SIGWINCH to the terminal's foreground process group.
Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fd = ToFd(info[0], "fd");
  if (!fd) return env.Undefined();
  auto rows = ToInt(info[1], "rows", 0, 65535);
  if (!rows) return env.Undefined();
  auto cols = ToInt(info[2], "cols", 0, 65535);
  if (!cols) return env.Undefined();
  winsize size{};
  size.ws_row = static_cast<unsigned short>(*rows);
  size.ws_col = static_cast<unsigned short>(*cols);
  if (ioctl(*fd, TIOCSWINSZ, &size) < 0) return ThrowErrno(env, errno, "setWinsize", "ioctl");
  return env.Undefined();
}

// clearOnlcr(fd): the terminal behind fd (a pty master: Linux applies termios calls on a
// master to its slave) no longer turns "\n" into "\r\n", as runc's foreground console
// (console.ClearONLCR) has it: the host's own terminal adds the "\r" when it shows the output,
// and output sent to a file is the program's bytes.
Napi::Value ClearOnlcr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fd = ToFd(info[0], "fd");
  if (!fd) return env.Undefined();
  termios t{};
  if (tcgetattr(*fd, &t) < 0) return ThrowErrno(env, errno, "clearOnlcr", "tcgetattr");
  t.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
  if (tcsetattr(*fd, TCSANOW, &t) < 0) return ThrowErrno(env, errno, "clearOnlcr", "tcsetattr");
  return env.Undefined();
}

// sendFdToUnixSocket(path, data, fd): connect to the stream socket at path, send data with fd
// attached (SCM_RIGHTS) in one sendmsg, and close: how runc hands a seccomp listener to the
// profile's agent (listenerPath). Synchronous: a local connect and one small message.
Napi::Value SendFdToUnixSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto path = ToString(info[0], "path");
  if (!path) return env.Undefined();
  if (!info[1].IsBuffer()) return ThrowType(env, "sendFdToUnixSocket: data must be a Buffer");
  auto data = info[1].As<Napi::Buffer<char>>();
  auto fd = ToFd(info[2], "fd");
  if (!fd) return env.Undefined();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path->empty() || path->size() >= sizeof addr.sun_path || path->find('\0') != std::string::npos)
    return ThrowType(env, "sendFdToUnixSocket: path must be 1 to " + std::to_string(sizeof addr.sun_path - 1) + " bytes without NUL");
  std::memcpy(addr.sun_path, path->data(), path->size());
  UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return ThrowErrno(env, errno, "sendFdToUnixSocket", "socket");
  int rc;
  do rc = connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return ThrowErrno(env, errno, "sendFdToUnixSocket", "connect", path->c_str());
  iovec iov{data.Data(), data.Length()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &*fd, sizeof(int));
  ssize_t sent;
  do sent = sendmsg(sock.get(), &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return ThrowErrno(env, errno, "sendFdToUnixSocket", "sendmsg", path->c_str());
  if (static_cast<size_t>(sent) != data.Length()) return ThrowErrno(env, EMSGSIZE, "sendFdToUnixSocket", "sendmsg", path->c_str());
  return env.Undefined();
}

}  // namespace

void InitSys(Napi::Env env, Napi::Object exports) {
  exports.Set("sendFdToUnixSocket", Napi::Function::New(env, SendFdToUnixSocket, "sendFdToUnixSocket"));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize, "setWinsize"));
  exports.Set("clearOnlcr", Napi::Function::New(env, ClearOnlcr, "clearOnlcr"));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("tryLock", Napi::Function::New(env, TryLock, "tryLock"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
  exports.Set("prlimit", Napi::Function::New(env, Prlimit, "prlimit"));
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity, "setAffinity"));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity, "getAffinity"));
  exports.Set("openDirectory", Napi::Function::New(env, OpenDirectory, "openDirectory"));
  exports.Set("removeAsync", Napi::Function::New(env, RemoveAsync, "removeAsync"));
}

}  // namespace nlc
