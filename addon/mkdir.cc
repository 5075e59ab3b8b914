// mkdirAsync: the v1 cgroup directories of a container made on a threadpool thread, each
// given what it needs before anything joins it (see MkdirWorker).
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "binding.h"
#include "errno_error.h"

namespace nlc {
namespace {

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
bool IsFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find_first_of(std::string("/\0", 2)) == std::string::npos;
}

std::optional<std::string> ToFileName(Napi::Value value, const std::string& what) {
  auto name = ToString(value, what.c_str());
  if (!name) return std::nullopt;
  if (!IsFileName(*name)) {
    ThrowType(value.Env(), what + " must be a file name (no '/')");
    return std::nullopt;
  }
  return name;
}

// [file, second]: the file name checked, the second element for the caller to convert.
std::optional<std::pair<std::string, Napi::Value>> ToFileAnd(Napi::Value value, const std::string& what, const char* shape) {
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 2) {
    ThrowType(value.Env(), what + " must be " + shape);
    return std::nullopt;
  }
  auto pair = value.As<Napi::Array>();
  auto file = ToFileName(pair.Get(0u), what + "[0]");
  if (!file) return std::nullopt;
  return std::make_pair(std::move(*file), pair.Get(1u));
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
      if (!IsFileName((*files)[k])) {
        ThrowType(env, what + ".copy[" + std::to_string(k) + "] must be a file name (no '/')");
        return std::nullopt;
      }
    }
    setup.copy = std::move(*files);
  }
  if (Napi::Value expect = o.Get("expect"); !expect.IsUndefined()) {
    auto pair = ToFileAnd(expect, what + ".expect", "[file, text]");
    if (!pair) return std::nullopt;
    auto text = ToString(pair->second, (what + ".expect[1]").c_str());
    if (!text) return std::nullopt;
    setup.expectFile = std::move(pair->first);
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
      auto pair = ToFileAnd(list.Get(k), where, "[file, values]");
      if (!pair) return std::nullopt;
      auto values = ToStringArray(pair->second, (where + "[1]").c_str());
      if (!values) return std::nullopt;
      setup.writes.emplace_back(std::move(pair->first), std::move(*values));
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

}  // namespace

void InitMkdir(Napi::Env env, Napi::Object exports) {
  exports.Set("mkdirAsync", Napi::Function::New(env, MkdirAsync, "mkdirAsync"));
}

}  // namespace nlc
