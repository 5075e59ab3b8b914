// Thin syscall bindings the TS side needs. Every fd handed out is close-on-exec: spawn
// decides explicitly which fds a child gets.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
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

// What a directory made by mkdirAsync gets before anything joins it (see FreshSetup below).
struct DirSetup {
  std::vector<std::string> copy;  // files each directory made here takes from its parent
  std::string expectFile;         // the writes go ahead only if this file reads exactly expectText
  std::string expectText;
  std::vector<std::pair<std::string, std::vector<std::string>>> writes;
  std::string readBack;           // read after the writes
};

struct SetupResult {
  bool copied = false;
  bool haveRead = false, wrote = false, haveAfter = false;
  std::string read, after;
  std::string error;  // "<errno name> <what> <path>", empty on success
};

// The whole of a small kernel file (cgroupfs, procfs: their sizes say nothing), or errno.
int ReadSmallFile(const std::string& path, std::string& out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  out.clear();
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return err;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return 0;
}

// One open, one write(2) per value: the kernel parses each write as one value.
int WriteValues(const std::string& path, const std::vector<std::string>& values, size_t& failed) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  for (failed = 0; failed < values.size(); failed++) {
    const std::string& v = values[failed];
    ssize_t n;
    do n = write(fd, v.data(), v.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      close(fd);
      return err;
    }
  }
  close(fd);
  return 0;
}

std::string TrimmedSpace(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// mkdirAsync(dirs, mode, cb[, setups]): make each directory and the missing ones above it
// (mkdir -p), in order, on one threadpool thread. A v1 cgroup mkdir is expensive (the kernel
// makes every controller file, and the memory controller's per-CPU state) and a container
// makes one per hierarchy: done here, the event loop goes on while the helper is being cloned.
// cb(null, results): results[i] = [errno name or null, the directories made for dirs[i], top
// first, and, where setups[i] was given, what its setup did]. A parent that vanishes between
// our mkdirs (another container's destroy removing a shared parent) is made again, a few times.
//
// setups[i] (optional) is applied only when dirs[i] was made by this job, so nothing but the
// caller's container can be using it: {copy: files each directory made here takes from its
// parent, top first (the v1 cpuset's cpus and mems); expect: [file, text] that must match
// before the writes; writes: [file, values][] (the v1 device rules); readBack: a file read
// after them (devices.list, for the caller to verify)}. The caller decided every value; the
// job only saves it the main thread's file I/O, and redoes any step the result says was not
// done, so a failure here is reported, never fatal.
class MkdirWorker : public Napi::AsyncWorker {
 public:
  MkdirWorker(Napi::Function callback, std::vector<std::string> dirs, mode_t mode, std::vector<std::optional<DirSetup>> setups)
      : Napi::AsyncWorker(callback, "nlc:mkdirAsync"), dirs_(std::move(dirs)), mode_(mode), setups_(std::move(setups)) {}

 protected:
  void Execute() override {
    results_.resize(dirs_.size());
    for (size_t i = 0; i < dirs_.size(); i++) {
      Result& r = results_[i];
      r.error = MakeAll(dirs_[i], r.created, 0);
      if (i < setups_.size() && setups_[i]) {
        r.setup.emplace();
        bool fresh = r.error == 0 && !r.created.empty() && r.created.back() == dirs_[i];
        if (fresh) FreshSetup(*setups_[i], r.created, *r.setup);
        else r.setup->error = "EEXIST not made by this job " + dirs_[i];
      }
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array out = Napi::Array::New(env, results_.size());
    for (uint32_t i = 0; i < results_.size(); i++) {
      const Result& r = results_[i];
      Napi::Array created = Napi::Array::New(env, r.created.size());
      for (uint32_t k = 0; k < r.created.size(); k++) created.Set(k, Napi::String::New(env, r.created[k]));
      Napi::Array entry = Napi::Array::New(env, r.setup ? 3 : 2);
      entry.Set(0u, r.error == 0 ? env.Null() : Napi::String::New(env, ErrnoName(r.error)));
      entry.Set(1u, created);
      if (r.setup) {
        const SetupResult& s = *r.setup;
        Napi::Object o = Napi::Object::New(env);
        o.Set("copied", s.copied);
        o.Set("wrote", s.wrote);
        if (s.haveRead) o.Set("read", s.read);
        if (s.haveAfter) o.Set("after", s.after);
        if (!s.error.empty()) o.Set("error", s.error);
        entry.Set(2u, o);
      }
      out.Set(i, entry);
    }
    Callback().Call(Receiver().Value(), {env.Null(), out});
  }

 private:
  struct Result {
    int error = 0;
    std::vector<std::string> created;
    std::optional<SetupResult> setup;
  };

  static std::string Failure(int err, const char* what, const std::string& path) {
    return ErrnoName(err) + " " + what + " " + path;
  }

  // Stops at the first failure and says where; what was done before it stays done.
  static void FreshSetup(const DirSetup& setup, const std::vector<std::string>& created, SetupResult& result) {
    for (const std::string& dir : created) {
      std::string parent = dir.substr(0, dir.find_last_of('/'));
      for (const std::string& file : setup.copy) {
        std::string value;
        if (int err = ReadSmallFile(parent + "/" + file, value)) return void(result.error = Failure(err, "read", parent + "/" + file));
        value = TrimmedSpace(value);
        // An empty parent (a cpuset nobody filled) needs the walk up that the caller does.
        if (value.empty()) return void(result.error = "ENODATA empty " + parent + "/" + file);
        size_t failed;
        if (int err = WriteValues(dir + "/" + file, {value}, failed)) return void(result.error = Failure(err, "write", dir + "/" + file));
      }
    }
    result.copied = true;
    const std::string& dir = created.back();
    if (!setup.expectFile.empty()) {
      if (int err = ReadSmallFile(dir + "/" + setup.expectFile, result.read)) return void(result.error = Failure(err, "read", dir + "/" + setup.expectFile));
      result.haveRead = true;
      if (result.read != setup.expectText) return;
    }
    for (const auto& [file, values] : setup.writes) {
      size_t failed = 0;
      if (int err = WriteValues(dir + "/" + file, values, failed)) return void(result.error = Failure(err, "write", dir + "/" + file));
    }
    result.wrote = !setup.writes.empty();
    if (!setup.readBack.empty()) {
      if (int err = ReadSmallFile(dir + "/" + setup.readBack, result.after)) return void(result.error = Failure(err, "read", dir + "/" + setup.readBack));
      result.haveAfter = true;
    }
  }

  // 0, or the errno of the mkdir that failed. EEXIST is success only for a directory.
  int MakeAll(const std::string& dir, std::vector<std::string>& created, int depth) {
    if (depth > 64) return ELOOP;
    for (int attempt = 0; attempt < 4;) {
      if (mkdir(dir.c_str(), mode_) == 0) {
        created.push_back(dir);
        return 0;
      }
      int err = errno;
      if (err == EINTR) continue;
      attempt++;
      if (err == EEXIST) {
        struct stat st;
        if (stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
        if (errno == ENOENT) continue;  // removed meanwhile: make it again
        return errno;
      }
      if (err != ENOENT) return err;
      size_t slash = dir.find_last_of('/');
      if (slash == std::string::npos || slash == 0) return ENOENT;
      int parent = MakeAll(dir.substr(0, slash), created, depth + 1);
      if (parent != 0) return parent;
    }
    return ENOENT;
  }

  std::vector<std::string> dirs_;
  mode_t mode_;
  std::vector<std::optional<DirSetup>> setups_;
  std::vector<Result> results_;
};

// A file name inside the directory: no slash, no NUL, not . or ..
std::optional<std::string> ToFileName(Napi::Value value, const std::string& what) {
  auto name = ToString(value, what.c_str());
  if (!name) return std::nullopt;
  if (name->empty() || *name == "." || *name == ".." || name->find_first_of(std::string("/\0", 2)) != std::string::npos) {
    ThrowType(value.Env(), what + " must be a file name (no '/')");
    return std::nullopt;
  }
  return name;
}

std::optional<DirSetup> ToDirSetup(Napi::Value value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || value.IsArray()) {
    ThrowType(env, what + " must be an object, null or undefined");
    return std::nullopt;
  }
  Napi::Object o = value.As<Napi::Object>();
  DirSetup setup;
  if (Napi::Value copy = o.Get("copy"); !copy.IsUndefined()) {
    auto files = ToStringArray(copy, (what + ".copy").c_str());
    if (!files) return std::nullopt;
    for (size_t k = 0; k < files->size(); k++) {
      if (!ToFileName(Napi::String::New(env, (*files)[k]), what + ".copy[" + std::to_string(k) + "]")) return std::nullopt;
    }
    setup.copy = std::move(*files);
  }
  if (Napi::Value expect = o.Get("expect"); !expect.IsUndefined()) {
    if (!expect.IsArray() || expect.As<Napi::Array>().Length() != 2) {
      ThrowType(env, what + ".expect must be [file, text]");
      return std::nullopt;
    }
    auto file = ToFileName(expect.As<Napi::Array>().Get(0u), what + ".expect[0]");
    if (!file) return std::nullopt;
    auto text = ToString(expect.As<Napi::Array>().Get(1u), (what + ".expect[1]").c_str());
    if (!text) return std::nullopt;
    setup.expectFile = std::move(*file);
    setup.expectText = std::move(*text);
  }
  if (Napi::Value writes = o.Get("writes"); !writes.IsUndefined()) {
    if (!writes.IsArray()) {
      ThrowType(env, what + ".writes must be an array of [file, values]");
      return std::nullopt;
    }
    auto list = writes.As<Napi::Array>();
    for (uint32_t k = 0; k < list.Length(); k++) {
      std::string where = what + ".writes[" + std::to_string(k) + "]";
      Napi::Value item = list.Get(k);
      if (!item.IsArray() || item.As<Napi::Array>().Length() != 2) {
        ThrowType(env, where + " must be [file, values]");
        return std::nullopt;
      }
      auto file = ToFileName(item.As<Napi::Array>().Get(0u), where + "[0]");
      if (!file) return std::nullopt;
      auto values = ToStringArray(item.As<Napi::Array>().Get(1u), (where + "[1]").c_str());
      if (!values) return std::nullopt;
      setup.writes.emplace_back(std::move(*file), std::move(*values));
    }
  }
  if (Napi::Value readBack = o.Get("readBack"); !readBack.IsUndefined()) {
    auto file = ToFileName(readBack, what + ".readBack");
    if (!file) return std::nullopt;
    setup.readBack = std::move(*file);
  }
  return setup;
}

Napi::Value MkdirAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto dirs = ToStringArray(info[0], "dirs");
  if (!dirs) return env.Undefined();
  for (size_t i = 0; i < dirs->size(); i++) {
    if ((*dirs)[i].empty() || (*dirs)[i][0] != '/') return ThrowType(env, "mkdirAsync: dirs[" + std::to_string(i) + "] must be an absolute path");
  }
  auto mode = ToInt(info[1], "mode", 0, 07777);
  if (!mode) return env.Undefined();
  if (!info[2].IsFunction()) return ThrowType(env, "mkdirAsync: callback must be a function");
  std::vector<std::optional<DirSetup>> setups;
  if (!info[3].IsUndefined()) {
    if (!info[3].IsArray() || info[3].As<Napi::Array>().Length() != dirs->size()) return ThrowType(env, "mkdirAsync: setups must be an array with one entry per directory");
    auto list = info[3].As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value item = list.Get(i);
      if (item.IsNull() || item.IsUndefined()) {
        setups.emplace_back();
        continue;
      }
      auto setup = ToDirSetup(item, "setups[" + std::to_string(i) + "]");
      if (!setup) return env.Undefined();
      setups.emplace_back(std::move(*setup));
    }
  }
  // Deletes itself after OnOK.
  (new MkdirWorker(info[2].As<Napi::Function>(), std::move(*dirs), static_cast<mode_t>(*mode), std::move(setups)))->Queue();
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
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
  exports.Set("prlimit", Napi::Function::New(env, Prlimit, "prlimit"));
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity, "setAffinity"));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity, "getAffinity"));
  exports.Set("openDirectory", Napi::Function::New(env, OpenDirectory, "openDirectory"));
  exports.Set("removeAsync", Napi::Function::New(env, RemoveAsync, "removeAsync"));
  exports.Set("mkdirAsync", Napi::Function::New(env, MkdirAsync, "mkdirAsync"));
}

}  // namespace nlc
