// eBPF device programs for cgroup v2 (the v2 replacement of devices.allow/deny): load,
// attach, replace, detach, query. The program itself is generated on the TS side; this file
// only moves it in and out of the kernel (the syscall half of runc's
// ebpf.LoadAttachCgroupDeviceFilter). Raw bpf(2): no libbpf dependency for five commands.
#include <errno.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "binding.h"
#include "errno_error.h"
#include "fd.h"

namespace nlc {
namespace {

constexpr char kLicense[] = "Apache";
constexpr char kProgramName[] = "nlc_devices";  // shown by bpftool; at most 15 bytes
// Enough for the log of a rejected device program of a few thousand rules; the kernel
// truncates (ENOSPC) beyond it, and the start of the log still names the failure.
constexpr uint32_t kVerifierLogSize = 256 * 1024;
constexpr uint32_t kInitialQueryCapacity = 16;

long Bpf(int cmd, union bpf_attr* attr) {
  long r;
  do {
    r = syscall(SYS_bpf, cmd, attr, sizeof *attr);
  } while (r < 0 && errno == EINTR);
  return r;
}

uint64_t Ptr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

std::optional<uint32_t> ToU32(Napi::Value value, const char* what, int64_t min = 0) {
  auto v = ToInteger(value, what, min, UINT32_MAX);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

int LoadDeviceProgram(const void* insns, uint32_t count, char* log, uint32_t logSize) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = Ptr(insns);
  attr.insn_cnt = count;
  attr.license = Ptr(kLicense);
  std::memcpy(attr.prog_name, kProgramName, sizeof kProgramName);
  if (log) {
    attr.log_buf = Ptr(log);
    attr.log_size = logSize;
    attr.log_level = 1;
  }
  return static_cast<int>(Bpf(BPF_PROG_LOAD, &attr));
}

// The log is asked for only after a failed load: a log makes the verifier format every step
// of a program that loads fine, and a full buffer (ENOSPC) would fail a good program.
Napi::Value BpfLoadDeviceProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer()) return ThrowType(env, "insns must be a Buffer");
  auto insns = info[0].As<Napi::Buffer<uint8_t>>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0)
    return ThrowRange(env, "insns must hold a whole, non-zero number of 8-byte instructions");
  if (insns.Length() / sizeof(struct bpf_insn) > UINT32_MAX) return ThrowRange(env, "insns is too long");
  uint32_t count = static_cast<uint32_t>(insns.Length() / sizeof(struct bpf_insn));

  int fd = LoadDeviceProgram(insns.Data(), count, nullptr, 0);
  if (fd >= 0) return Napi::Number::New(env, fd);
  int err = errno;
  if (err != EACCES && err != EINVAL) return ThrowErrno(env, err, "bpfLoadDeviceProgram", "bpf(BPF_PROG_LOAD)");

  std::vector<char> log(kVerifierLogSize, '\0');
  UniqueFd retry(LoadDeviceProgram(insns.Data(), count, log.data(), kVerifierLogSize));
  if (retry) return Napi::Number::New(env, retry.release());  // should not happen; take it
  if (errno != ENOSPC) err = errno;
  log.back() = '\0';
  std::string text(log.data());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (!text.empty()) text = "verifier log:\n" + text;
  Napi::Error error = MakeErrnoError(env, err, "bpfLoadDeviceProgram", "bpf(BPF_PROG_LOAD)", nullptr, text);
  error.Set("verifierLog", Napi::String::New(env, text));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value BpfAttachDeviceProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto cgroupFd = ToFd(info[0], "cgroupFd");
  if (!cgroupFd) return env.Undefined();
  auto progFd = ToFd(info[1], "progFd");
  if (!progFd) return env.Undefined();
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(*cgroupFd);
  attr.attach_bpf_fd = static_cast<uint32_t>(*progFd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  // ALLOW_MULTI leaves programs attached by others (systemd, a parent runtime) in place;
  // REPLACE swaps ours in one step, so there is no moment with neither or both attached.
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (!info[2].IsUndefined() && !info[2].IsNull()) {
    auto replaceFd = ToFd(info[2], "replaceProgFd");
    if (!replaceFd) return env.Undefined();
    attr.attach_flags |= BPF_F_REPLACE;
    attr.replace_bpf_fd = static_cast<uint32_t>(*replaceFd);
  }
  if (Bpf(BPF_PROG_ATTACH, &attr) < 0) return ThrowErrno(env, errno, "bpfAttachDeviceProgram", "bpf(BPF_PROG_ATTACH)");
  return env.Undefined();
}

Napi::Value BpfDetachDeviceProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto cgroupFd = ToFd(info[0], "cgroupFd");
  if (!cgroupFd) return env.Undefined();
  auto progFd = ToFd(info[1], "progFd");
  if (!progFd) return env.Undefined();
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(*cgroupFd);
  attr.attach_bpf_fd = static_cast<uint32_t>(*progFd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (Bpf(BPF_PROG_DETACH, &attr) < 0) return ThrowErrno(env, errno, "bpfDetachDeviceProgram", "bpf(BPF_PROG_DETACH)");
  return env.Undefined();
}

// Only the programs attached to this cgroup itself (query_flags 0), not the effective set
// inherited from its ancestors: those are what a manager may replace or detach.
Napi::Value BpfQueryDevicePrograms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto cgroupFd = ToFd(info[0], "cgroupFd");
  if (!cgroupFd) return env.Undefined();
  std::vector<uint32_t> ids(kInitialQueryCapacity);
  for (;;) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.query.target_fd = static_cast<uint32_t>(*cgroupFd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = Ptr(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (Bpf(BPF_PROG_QUERY, &attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      break;
    }
    // ENOSPC: prog_cnt now holds how many there are; they may change before the retry.
    if (errno != ENOSPC || attr.query.prog_cnt <= ids.size())
      return ThrowErrno(env, errno, "bpfQueryDevicePrograms", "bpf(BPF_PROG_QUERY)");
    ids.resize(attr.query.prog_cnt + kInitialQueryCapacity);
  }
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, ids[i]));
  return out;
}

Napi::Value BpfProgramFdById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto id = ToU32(info[0], "id", 1);
  if (!id) return env.Undefined();
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_id = *id;
  // bpf(2) fds are always close-on-exec.
  long fd = Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0) return ThrowErrno(env, errno, "bpfProgramFdById", "bpf(BPF_PROG_GET_FD_BY_ID)");
  return Napi::Number::New(env, static_cast<double>(fd));
}

}  // namespace

void InitBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfLoadDeviceProgram", Napi::Function::New(env, BpfLoadDeviceProgram, "bpfLoadDeviceProgram"));
  exports.Set("bpfAttachDeviceProgram", Napi::Function::New(env, BpfAttachDeviceProgram, "bpfAttachDeviceProgram"));
  exports.Set("bpfDetachDeviceProgram", Napi::Function::New(env, BpfDetachDeviceProgram, "bpfDetachDeviceProgram"));
  exports.Set("bpfQueryDevicePrograms", Napi::Function::New(env, BpfQueryDevicePrograms, "bpfQueryDevicePrograms"));
  exports.Set("bpfProgramFdById", Napi::Function::New(env, BpfProgramFdById, "bpfProgramFdById"));
}

}  // namespace nlc
