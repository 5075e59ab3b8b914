// seccompCompile: an OCI seccomp profile, already converted by lib/spec/seccomp.ts into
// libseccomp's numbers, compiled to the classic BPF program the init helper loads with
// seccomp(2). libseccomp is loaded at run time (dlopen of libseccomp.so.2), so the addon
// builds and loads without it and only a profile needs it. The caller caches the result per
// profile: a container's start never compiles.
#include <dlfcn.h>
#include <errno.h>
#include <linux/filter.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <string>
#include <vector>

#include "args.h"
#include "binding.h"
#include "errno_error.h"
#include "fd.h"

namespace nlc {
namespace {

// libseccomp's ABI (seccomp.h of 2.x), declared here so no -dev package is needed to build.
struct ScmpArgCmp {
  unsigned int arg;
  int op;  // enum scmp_compare: NE 1, LT 2, LE 3, EQ 4, GE 5, GT 6, MASKED_EQ 7
  uint64_t datumA;
  uint64_t datumB;
};

struct Libseccomp {
  void* (*init)(uint32_t defaultAction) = nullptr;
  void (*release)(void* ctx) = nullptr;
  uint32_t (*archResolveName)(const char* name) = nullptr;
  int (*archAdd)(void* ctx, uint32_t arch) = nullptr;
  int (*syscallResolveName)(const char* name) = nullptr;
  int (*syscallResolveNameArch)(uint32_t arch, const char* name) = nullptr;
  uint32_t (*archNative)() = nullptr;
  int (*ruleAddArray)(void* ctx, uint32_t action, int syscall, unsigned int count, const ScmpArgCmp* args) = nullptr;
  int (*exportBpf)(const void* ctx, int fd) = nullptr;
  std::string error;  // why it could not be loaded, empty when loaded
};

const Libseccomp& LoadLibseccomp() {
  static const Libseccomp lib = [] {
    Libseccomp l;
    void* handle = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = dlerror();
      l.error = std::string("cannot load libseccomp.so.2 (Debian/Ubuntu: apt-get install libseccomp2): ") + (why ? why : "");
      return l;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
      if (!fn && l.error.empty()) l.error = std::string("libseccomp.so.2 has no ") + name;
    };
    sym(l.init, "seccomp_init");
    sym(l.release, "seccomp_release");
    sym(l.archResolveName, "seccomp_arch_resolve_name");
    sym(l.archAdd, "seccomp_arch_add");
    sym(l.syscallResolveName, "seccomp_syscall_resolve_name");
    sym(l.syscallResolveNameArch, "seccomp_syscall_resolve_name_arch");
    sym(l.archNative, "seccomp_arch_native");
    sym(l.ruleAddArray, "seccomp_rule_add_array");
    sym(l.exportBpf, "seccomp_export_bpf");
    return l;
  }();
  return lib;
}

class FilterContext {
 public:
  FilterContext(const Libseccomp& lib, void* ctx) : lib_(lib), ctx_(ctx) {}
  ~FilterContext() {
    if (ctx_) lib_.release(ctx_);
  }
  FilterContext(const FilterContext&) = delete;
  FilterContext& operator=(const FilterContext&) = delete;
  void* get() const { return ctx_; }

 private:
  const Libseccomp& lib_;
  void* ctx_;
};

std::optional<uint32_t> ToUint32(Napi::Value value, const std::string& what) {
  if (!value.IsNumber()) {
    ThrowType(value.Env(), what + " must be a number");
    return std::nullopt;
  }
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    ThrowType(value.Env(), what + " must be an integer from 0 to 2^32-1");
    return std::nullopt;
  }
  return static_cast<uint32_t>(d);
}

// A uint64 as a decimal string (JS numbers lose precision above 2^53).
std::optional<uint64_t> ToUint64String(Napi::Value value, const std::string& what) {
  auto s = ToString(value, what.c_str());
  if (!s) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s->c_str(), &end, 10);
  if (s->empty() || (*s)[0] == '-' || *end != '\0' || errno == ERANGE) {
    ThrowType(value.Env(), what + " must be a decimal uint64 string");
    return std::nullopt;
  }
  return static_cast<uint64_t>(v);
}

// libseccomp's architecture tokens are the kernel's AUDIT_ARCH_* values (what seccomp_data
// .arch holds), except x32's: its system calls arrive as x86_64's with bit 30 set.
constexpr uint32_t kArchX86_64 = 0xc000003e;
constexpr uint32_t kArchX32 = 0x4000003e;
constexpr uint32_t kX32SyscallBit = 0x40000000;
constexpr uint32_t kRetErrnoEnosys = 0x00050000 | ENOSYS;  // SECCOMP_RET_ERRNO | ENOSYS
constexpr size_t kMaxInstructions = 4096;                    // BPF_MAXINSNS

sock_filter Stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

// Port of runc's patchbpf: a system call numbered above every one the profile names, for
// its architecture, gets ENOSYS instead of the default action. Such a call is newer than the
// profile (clone3, openat2, faccessat2 were, once), and libc falls back to an older one on
// ENOSYS where an EPERM from the default action would fail the program. Prepended to
// libseccomp's program, which it jumps to for everything else:
//   ld [arch]
//   per architecture:  jeq ARCH, 0, skip   ld [nr]   (x86_64: jset X32_BIT, 2, 0)
//                      jgt LAST, 0, 1      ret ERRNO(ENOSYS)   ja <filter>
// x32 system calls go to the filter unchanged (runc patches those too; they are rare).
std::vector<sock_filter> EnosysStub(const std::vector<std::pair<uint32_t, uint32_t>>& lastByArch) {
  std::vector<sock_filter> stub;
  if (lastByArch.empty()) return stub;
  size_t size = 1;
  for (const auto& [arch, last] : lastByArch) size += arch == kArchX86_64 ? 6 : 5;
  stub.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, 4));
  for (const auto& [arch, last] : lastByArch) {
    const bool x86_64 = arch == kArchX86_64;
    const uint8_t block = x86_64 ? 5 : 4;  // the instructions after the jeq
    stub.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, block));
    stub.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, 0));
    if (x86_64) stub.push_back(Jump(BPF_JMP | BPF_JSET | BPF_K, kX32SyscallBit, 2, 0));
    stub.push_back(Jump(BPF_JMP | BPF_JGT | BPF_K, last, 0, 1));
    stub.push_back(Stmt(BPF_RET | BPF_K, kRetErrnoEnosys));
    stub.push_back(Stmt(BPF_JMP | BPF_JA, 0));  // its offset once the stub's size is known
  }
  for (size_t i = 0; i < stub.size(); i++) {
    if (stub[i].code == (BPF_JMP | BPF_JA)) stub[i].k = static_cast<uint32_t>(size - (i + 1));
  }
  return stub;
}

Napi::Array Strings(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (uint32_t i = 0; i < items.size(); i++) out.Set(i, Napi::String::New(env, items[i]));
  return out;
}

// seccompCompile({defaultAction, architectures: [name], rules: [{syscall, action, args:
// [[index, op, a, b]]}]}) -> {filter: Buffer (struct sock_filter[]), unknownSyscalls,
// unknownArchitectures}. A syscall or architecture libseccomp does not know is left out and
// reported (runc does the same for syscalls); any other refusal throws, naming the rule.
Napi::Value SeccompCompile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return ThrowType(env, "seccompCompile: the profile must be an object");
  Napi::Object profile = info[0].As<Napi::Object>();
  const Libseccomp& lib = LoadLibseccomp();
  if (!lib.error.empty()) {
    Napi::Error e = Napi::Error::New(env, "seccompCompile: " + lib.error);
    e.Set("code", Napi::String::New(env, "ERR_NO_LIBSECCOMP"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto defaultAction = ToUint32(profile.Get("defaultAction"), "seccompCompile: defaultAction");
  if (!defaultAction) return env.Undefined();
  auto archs = ToStringArray(profile.Get("architectures"), "seccompCompile: architectures");
  if (!archs) return env.Undefined();
  Napi::Value rulesValue = profile.Get("rules");
  if (!rulesValue.IsArray()) return ThrowType(env, "seccompCompile: rules must be an array");
  Napi::Array rules = rulesValue.As<Napi::Array>();

  // enosys: every syscall name of the profile (rules of the default's action included), whose
  // largest number per architecture bounds the ENOSYS stub; absent: no stub.
  std::optional<std::vector<std::string>> enosysNames;
  if (Napi::Value v = profile.Get("enosys"); !v.IsUndefined()) {
    enosysNames = ToStringArray(v, "seccompCompile: enosys");
    if (!enosysNames) return env.Undefined();
  }

  FilterContext ctx(lib, lib.init(*defaultAction));
  if (!ctx.get()) return ThrowType(env, "seccompCompile: libseccomp refused the default action");
  std::vector<std::string> unknownArchs, unknownSyscalls;
  std::vector<uint32_t> tokens{lib.archNative()};  // seccomp_init's
  for (const std::string& name : *archs) {
    uint32_t token = lib.archResolveName(name.c_str());
    if (token == 0) {
      unknownArchs.push_back(name);
      continue;
    }
    if (std::find(tokens.begin(), tokens.end(), token) == tokens.end()) tokens.push_back(token);
    int rc = lib.archAdd(ctx.get(), token);
    if (rc < 0 && rc != -EEXIST) return ThrowErrno(env, -rc, "seccompCompile", "seccomp_arch_add", name.c_str());
  }
  for (uint32_t i = 0; i < rules.Length(); i++) {
    std::string where = "seccompCompile: rules[" + std::to_string(i) + "]";
    Napi::Value ruleValue = rules.Get(i);
    if (!ruleValue.IsObject()) return ThrowType(env, where + " must be an object");
    Napi::Object rule = ruleValue.As<Napi::Object>();
    auto syscall = ToString(rule.Get("syscall"), (where + ".syscall").c_str());
    if (!syscall) return env.Undefined();
    auto action = ToUint32(rule.Get("action"), where + ".action");
    if (!action) return env.Undefined();
    Napi::Value argsValue = rule.Get("args");
    if (!argsValue.IsArray()) return ThrowType(env, where + ".args must be an array");
    Napi::Array argList = argsValue.As<Napi::Array>();
    std::vector<ScmpArgCmp> args;
    for (uint32_t k = 0; k < argList.Length(); k++) {
      std::string at = where + ".args[" + std::to_string(k) + "]";
      Napi::Value a = argList.Get(k);
      if (!a.IsArray() || a.As<Napi::Array>().Length() != 4) return ThrowType(env, at + " must be [index, op, value, valueTwo]");
      Napi::Array cmp = a.As<Napi::Array>();
      // One conversion at a time: each throws, and N-API allows one pending exception.
      auto index = ToUint32(cmp.Get(0u), at + "[0]");
      if (!index) return env.Undefined();
      auto op = ToUint32(cmp.Get(1u), at + "[1]");
      if (!op) return env.Undefined();
      if (*index > 5 || *op < 1 || *op > 7) return ThrowType(env, at + ": index must be 0-5 and op 1-7");
      auto va = ToUint64String(cmp.Get(2u), at + "[2]");
      if (!va) return env.Undefined();
      auto vb = ToUint64String(cmp.Get(3u), at + "[3]");
      if (!vb) return env.Undefined();
      args.push_back({*index, static_cast<int>(*op), *va, *vb});
    }
    int nr = lib.syscallResolveName(syscall->c_str());
    if (nr == -1) {  // __NR_SCMP_ERROR: not a syscall libseccomp knows
      unknownSyscalls.push_back(*syscall);
      continue;
    }
    int rc = lib.ruleAddArray(ctx.get(), *action, nr, static_cast<unsigned>(args.size()), args.data());
    if (rc < 0) {
      Napi::Error e = MakeErrnoError(env, -rc, "seccompCompile", "seccomp_rule_add", syscall->c_str());
      e.Set("rule", Napi::Number::New(env, i));
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  UniqueFd out(memfd_create("nlc-seccomp-bpf", MFD_CLOEXEC));
  if (!out.valid()) return ThrowErrno(env, errno, "seccompCompile", "memfd_create");
  if (int rc = lib.exportBpf(ctx.get(), out.get()); rc < 0) return ThrowErrno(env, -rc, "seccompCompile", "seccomp_export_bpf");
  off_t size = lseek(out.get(), 0, SEEK_END);
  if (size < 0) return ThrowErrno(env, errno, "seccompCompile", "lseek");
  std::vector<char> program(static_cast<size_t>(size));
  for (size_t done = 0; done < program.size();) {
    ssize_t n = pread(out.get(), program.data() + done, program.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ThrowErrno(env, n < 0 ? errno : EIO, "seccompCompile", "pread");
    done += static_cast<size_t>(n);
  }
  std::vector<sock_filter> stub;
  if (enosysNames) {
    std::vector<std::pair<uint32_t, uint32_t>> lastByArch;
    for (uint32_t token : tokens) {
      if (token == kArchX32) continue;
      int last = -1;
      for (const std::string& name : *enosysNames) last = std::max(last, lib.syscallResolveNameArch(token, name.c_str()));
      if (last >= 0) lastByArch.emplace_back(token, static_cast<uint32_t>(last));
    }
    stub = EnosysStub(lastByArch);
  }
  const size_t stubBytes = stub.size() * sizeof(sock_filter);
  if ((stubBytes + program.size()) / sizeof(sock_filter) > kMaxInstructions) {
    return ThrowRange(env, "seccompCompile: the program has more than 4096 instructions (" +
                               std::to_string((stubBytes + program.size()) / sizeof(sock_filter)) + ")");
  }
  Napi::Buffer<char> filter = Napi::Buffer<char>::New(env, stubBytes + program.size());
  if (stubBytes) std::memcpy(filter.Data(), stub.data(), stubBytes);
  std::memcpy(filter.Data() + stubBytes, program.data(), program.size());
  Napi::Object result = Napi::Object::New(env);
  result.Set("filter", filter);
  result.Set("stubInstructions", Napi::Number::New(env, static_cast<double>(stub.size())));
  result.Set("unknownSyscalls", Strings(env, unknownSyscalls));
  result.Set("unknownArchitectures", Strings(env, unknownArchs));
  return result;
}

}  // namespace

void InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("seccompCompile", Napi::Function::New(env, SeccompCompile, "seccompCompile"));
}

}  // namespace nlc
