// spawn and sealExecutable: start a child of the Node process without ever forking it.
//
// The child shares the parent's memory (CLONE_VM) and the parent thread sleeps until the child
// has exec'd or died (CLONE_VFORK), so no page tables are copied (design.md: 1-2 ms instead of
// 11 ms from a large Node process). The price: between clone and exec the child runs on
// Node's memory with Node's other threads still running, so it may only make async-signal-safe
// syscalls on data the parent prepared (the plan below) and must never return into the
// parent's stack frames.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "binding.h"
#include "errno_error.h"
#include "fd.h"
#include "init/mount_api.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace nlc {
namespace {

constexpr unsigned long kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID |
                                          CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME;

// Roomy on purpose: a first call through a lazily bound PLT entry runs the dynamic linker's
// resolver on this stack, which saves the full vector register state.
constexpr size_t kChildStackSize = 256 * 1024;

// Everything the child needs, built by the parent before the clone. The child writes only
// `err`/`failedSyscall` and `scratch`; the parent reads them once clone has returned, which
// with CLONE_VFORK is after the child exec'd or exited.
struct ChildPlan {
  int execFd;
  char* const* argv;
  char* const* envp;
  const int* sources;  // sources[i] becomes fd i
  int* scratch;        // high copies of the sources, one per slot
  int count;
  int highBase;  // above every source and every target, so the copies collide with nothing
  const unsigned long* cpuMask;
  size_t cpuMaskBytes;
  int err;
  const char* failedSyscall;
};

[[noreturn]] void ChildFail(ChildPlan* plan, const char* syscall) {
  plan->err = errno;
  plan->failedSyscall = syscall;
  _exit(127);
}

// Runs in the child, on its own stack: raw syscalls and glibc's thin syscall wrappers only.
int ChildMain(void* arg) {
  auto* plan = static_cast<ChildPlan*>(arg);

  // Node's handlers must never run here (they would run on Node's memory), and ignored
  // signals (Node ignores SIGPIPE) must not leak into the program.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);  // glibc refuses its internal signals: harmless
  }

  // Place fds: first copy every source above everything, so that moving slot i into place
  // can never clobber a source still needed by a later slot.
  // A bad execFd is reported as execveat's failure: that is the call it was meant for.
  int execFd = fcntl(plan->execFd, F_DUPFD_CLOEXEC, plan->highBase);
  if (execFd < 0) ChildFail(plan, "execveat");
  for (int i = 0; i < plan->count; i++) {
    plan->scratch[i] = fcntl(plan->sources[i], F_DUPFD_CLOEXEC, plan->highBase);
    if (plan->scratch[i] < 0) ChildFail(plan, "fcntl");
  }
  for (int i = 0; i < plan->count; i++) {
    // dup3 without O_CLOEXEC: the target survives exec. scratch[i] > i always.
    if (dup3(plan->scratch[i], i, 0) < 0) ChildFail(plan, "dup3");
  }
  // Everything above the passed fds (Node's own fds, our scratch copies) closes on exec.
  if (syscall(SYS_close_range, plan->count, ~0U, CLOSE_RANGE_CLOEXEC) < 0) ChildFail(plan, "close_range");

  if (plan->cpuMask && syscall(SYS_sched_setaffinity, 0, plan->cpuMaskBytes, plan->cpuMask) < 0)
    ChildFail(plan, "sched_setaffinity");

  sigset_t empty;
  sigemptyset(&empty);
  if (sigprocmask(SIG_SETMASK, &empty, nullptr) < 0) ChildFail(plan, "sigprocmask");

  syscall(SYS_execveat, execFd, "", plan->argv, plan->envp, AT_EMPTY_PATH);
  ChildFail(plan, "execveat");
}

// clone3 has no glibc wrapper that runs a function on a new stack, and a CLONE_VM child must
// not return through syscall(): it would return on the parent's stack and corrupt it. This
// trampoline makes the syscall and, in the child, calls fn(arg) on the new stack and exits
// with its result. Returns the child's pid or -errno in the parent.
struct Clone3Args {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t childTid;
  uint64_t parentTid;
  uint64_t exitSignal;
  uint64_t stack;
  uint64_t stackSize;
  uint64_t tls;
  uint64_t setTid;
  uint64_t setTidSize;
  uint64_t cgroup;
};

}  // namespace
}  // namespace nlc

extern "C" long nlc_clone3_vm(nlc::Clone3Args* args, size_t size, int (*fn)(void*), void* arg);

#if defined(__x86_64__)
// The kernel preserves every register but rax, rcx and r11 across syscall, in both parent and
// child, so fn and arg ride in r8/r9. The new stack's top is 16-byte aligned, as a call needs.
asm(R"(
  .text
  .globl nlc_clone3_vm
  .type nlc_clone3_vm, @function
nlc_clone3_vm:
  mov %rdx, %r8
  mov %rcx, %r9
  mov $435, %eax
  syscall
  test %rax, %rax
  jz 1f
  ret
1:
  xor %ebp, %ebp
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax
  syscall
  hlt
  .size nlc_clone3_vm, .-nlc_clone3_vm
)");
#define NLC_HAVE_CLONE3_VM 1
#elif defined(__aarch64__)
// Untested on real hardware: the same trampoline for arm64 (x9/x10 survive svc).
asm(R"(
  .text
  .globl nlc_clone3_vm
  .type nlc_clone3_vm, %function
nlc_clone3_vm:
  mov x9, x2
  mov x10, x3
  mov x8, #435
  svc #0
  cbz x0, 1f
  ret
1:
  mov x29, xzr
  mov x30, xzr
  mov x0, x10
  blr x9
  mov x8, #93
  svc #0
  brk #0
  .size nlc_clone3_vm, .-nlc_clone3_vm
)");
#define NLC_HAVE_CLONE3_VM 1
#endif

namespace nlc {
namespace {

// A nul-terminated char* array over strings that outlive it.
std::vector<char*> CStringArray(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

class ChildStack {
 public:
  ChildStack() {
    void* p = mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : p;
  }
  ~ChildStack() {
    if (base_) munmap(base_, kChildStackSize);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  void* base() const { return base_; }
  void* top() const { return static_cast<char*>(base_) + kChildStackSize; }

 private:
  void* base_ = nullptr;
};

// Blocks every signal (glibc's internal ones too, hence the raw syscall) for the lifetime of
// the object: the child starts with this mask, so no handler can run in it before it has
// reset them all.
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    uint64_t all = ~0ULL;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old_, sizeof old_);
  }
  ~AllSignalsBlocked() { syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old_, nullptr, sizeof old_); }
  AllSignalsBlocked(const AllSignalsBlocked&) = delete;
  AllSignalsBlocked& operator=(const AllSignalsBlocked&) = delete;

 private:
  uint64_t old_ = 0;
};

void ReapQuietly(int pidfd) {
  siginfo_t info;
  while (waitid(static_cast<idtype_t>(P_PIDFD), pidfd, &info, WEXITED) < 0 && errno == EINTR) {
  }
}

// spawn's options as plain C++ data, parsed on the JS thread so that the clone can run on
// any thread. The fds are the caller's: neither spawn nor spawnAsync closes them.
struct SpawnRequest {
  int execFd = -1;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  unsigned long cloneFlags = 0;
  std::vector<int> fds;
  std::optional<int> cgroupFd;
  std::vector<unsigned long> cpuMask;  // empty: no sched_setaffinity
  std::string recordPath;              // empty: no record written
};

// Throws the TypeError/RangeError and returns nullopt on bad input.
std::optional<SpawnRequest> ParseSpawnOptions(Napi::Value value, const char* operation) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) {
    ThrowType(env, std::string(operation) + ": options must be an object");
    return std::nullopt;
  }
  Napi::Object options = value.As<Napi::Object>();
  SpawnRequest request;

  auto execFd = ToFd(options.Get("execFd"), "options.execFd");
  if (!execFd) return std::nullopt;
  request.execFd = *execFd;
  auto argv = ToStringArray(options.Get("argv"), "options.argv");
  if (!argv) return std::nullopt;
  if (argv->empty()) {
    ThrowType(env, "options.argv must not be empty");
    return std::nullopt;
  }
  request.argv = std::move(*argv);
  auto envStrings = ToStringArray(options.Get("env"), "options.env");
  if (!envStrings) return std::nullopt;
  request.env = std::move(*envStrings);
  auto cloneFlags = ToInteger(options.Get("cloneFlags"), "options.cloneFlags", 0, UINT32_MAX);
  if (!cloneFlags) return std::nullopt;
  request.cloneFlags = static_cast<unsigned long>(*cloneFlags);
  if (request.cloneFlags & ~kNamespaceFlags) {
    ThrowRange(env, "options.cloneFlags may only hold CLONE_NEW* bits");
    return std::nullopt;
  }
  auto fds = ToIntArray(options.Get("fds"), "options.fds", -1, INT32_MAX);
  if (!fds) return std::nullopt;
  request.fds = std::move(*fds);

  Napi::Value cgroupValue = options.Get("cgroupFd");
  if (!cgroupValue.IsUndefined() && !cgroupValue.IsNull()) {
    request.cgroupFd = ToFd(cgroupValue, "options.cgroupFd");
    if (!request.cgroupFd) return std::nullopt;
  }
  // Without a cgroupFd the clone is clone(2), whose flags hold the exit signal in their low
  // byte: CLONE_NEWTIME (0x80) would be taken as a signal number there. Only clone3 has it.
  if (!request.cgroupFd && (request.cloneFlags & CLONE_NEWTIME)) {
    ThrowRange(env, "options.cloneFlags: CLONE_NEWTIME needs clone3 (options.cgroupFd)");
    return std::nullopt;
  }

  Napi::Value recordValue = options.Get("recordPath");
  if (!recordValue.IsUndefined() && !recordValue.IsNull()) {
    auto recordPath = ToString(recordValue, "options.recordPath");
    if (!recordPath) return std::nullopt;
    request.recordPath = std::move(*recordPath);
  }

  Napi::Value affinityValue = options.Get("cpuAffinity");
  if (!affinityValue.IsUndefined() && !affinityValue.IsNull()) {
    auto cpus = ToIntArray(affinityValue, "options.cpuAffinity", 0, 1 << 16);
    if (!cpus) return std::nullopt;
    if (cpus->empty()) {
      ThrowRange(env, "options.cpuAffinity must not be empty");
      return std::nullopt;
    }
    constexpr int kBits = 8 * sizeof(unsigned long);
    request.cpuMask.assign(*std::max_element(cpus->begin(), cpus->end()) / kBits + 1, 0);
    for (int cpu : *cpus) request.cpuMask[cpu / kBits] |= 1UL << (cpu % kBits);
  }
  return request;
}

// What a spawn came to: a child (pid, pidfd) or an errno with the failing syscall.
// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), which tells this
// process from a later one with a reused pid. Empty on any failure: the caller reads it itself.
std::string StartTime(long pid) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  char buf[1024];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  // comm (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const char* p = std::strrchr(buf, ')');
  if (!p || p[1] != ' ') return "";
  p += 2;  // at field 3
  for (int field = 3; field < 22; field++) {
    p = std::strchr(p, ' ');
    if (!p) return "";
    p++;
  }
  size_t len = std::strcspn(p, " \n");
  return len > 0 ? std::string(p, len) : "";
}

struct SpawnOutcome {
  long pid = -1;
  int pidfd = -1;
  std::string startTime;  // field 22 of /proc/<pid>/stat; empty if it could not be read
  int err = 0;
  const char* syscall = nullptr;  // static strings only: read on the JS thread later
  const char* path = nullptr;
  bool recorded = false;  // request.recordPath written
};

// One clone of a child that execs request.execFd. Makes no N-API call, so it may run on a
// threadpool thread. Everything the child reads (plan, arrays, stack, /dev/null) is a member,
// and Run returns only once the child has exec'd or died (CLONE_VFORK), so the object must
// simply outlive Run.
class SpawnJob {
 public:
  explicit SpawnJob(SpawnRequest request) : request_(std::move(request)) {}
  SpawnJob(const SpawnJob&) = delete;
  SpawnJob& operator=(const SpawnJob&) = delete;

  SpawnOutcome Run() {
    SpawnOutcome out;
    if (!Prepare(out)) return out;
    Clone(out);
    // The child has exec'd or exited: it reads none of our memory any more. Freed here so that
    // spawnAsync's JS thread is left with no munmap or close to do.
    stack_.reset();
    devNull_.reset();
    if (out.pid >= 0 && plan_.err != 0) {
      // The child reported before _exit(127); it is our child and must be reaped now.
      ReapQuietly(out.pidfd);
      close(out.pidfd);
      out = SpawnOutcome{};
      out.err = plan_.err;
      out.syscall = plan_.failedSyscall;
    } else if (out.pid >= 0) {
      // Read here, off the JS thread. The child cannot be gone yet: only JS reaps it, after this.
      out.startTime = StartTime(out.pid);
      if (!request_.recordPath.empty() && !out.startTime.empty()) out.recorded = WriteRecord(out);
    }
    return out;
  }

 private:
  // The child as {"initPid":N,"initStartTime":"T"} in a new file at request.recordPath, at
  // once: the child may go on to run a container's program before the JS thread hears of this
  // spawn, and if the Node process dies in between, the file is how it is found again. One
  // write of a new file: a reader that finds it torn takes it as absent.
  bool WriteRecord(const SpawnOutcome& out) {
    UniqueFd fd(open(request_.recordPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) return false;
    std::string text = "{\"initPid\":" + std::to_string(out.pid) + ",\"initStartTime\":\"" + out.startTime + "\"}";
    if (write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size())) return true;
    // Not written (a full filesystem): the file goes, so that the JS side's own attempt fails
    // with that errno rather than with EEXIST on this empty file.
    unlink(request_.recordPath.c_str());
    return false;
  }

  bool Fail(SpawnOutcome& out, const char* syscall, const char* path = nullptr) {
    out.err = errno;
    out.syscall = syscall;
    out.path = path;
    return false;
  }

  bool Prepare(SpawnOutcome& out) {
    // /dev/null for -1 slots is opened here rather than in the child: a path lookup is more
    // than the child should do, and an error is easier to report from here.
    if (std::find(request_.fds.begin(), request_.fds.end(), -1) != request_.fds.end()) {
      devNull_.reset(open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY));
      if (!devNull_) return Fail(out, "open", "/dev/null");
    }
    sources_ = request_.fds;
    for (int& fd : sources_)
      if (fd == -1) fd = devNull_.get();

    int highBase = std::max({static_cast<int>(sources_.size()), request_.execFd, devNull_.get()});
    for (int fd : sources_) highBase = std::max(highBase, fd);
    highBase += 1;

    argv_ = CStringArray(request_.argv);
    envp_ = CStringArray(request_.env);
    scratch_.assign(sources_.size(), -1);

    plan_ = ChildPlan{};
    plan_.execFd = request_.execFd;
    plan_.argv = argv_.data();
    plan_.envp = envp_.data();
    plan_.sources = sources_.data();
    plan_.scratch = scratch_.data();
    plan_.count = static_cast<int>(sources_.size());
    plan_.highBase = highBase;
    plan_.cpuMask = request_.cpuMask.empty() ? nullptr : request_.cpuMask.data();
    plan_.cpuMaskBytes = request_.cpuMask.size() * sizeof(unsigned long);

    stack_.emplace();
    if (!stack_->base()) return Fail(out, "mmap");
    return true;
  }

  void Clone(SpawnOutcome& out) {
    int pidfd = -1;
    AllSignalsBlocked blocked;
    if (request_.cgroupFd) {
      out.syscall = "clone3";
#ifdef NLC_HAVE_CLONE3_VM
      Clone3Args args{};
      args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_INTO_CGROUP | static_cast<uint64_t>(request_.cloneFlags);
      args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
      args.exitSignal = SIGCHLD;
      args.stack = reinterpret_cast<uintptr_t>(stack_->base());
      args.stackSize = kChildStackSize;
      args.cgroup = static_cast<uint64_t>(*request_.cgroupFd);
      long pid = nlc_clone3_vm(&args, sizeof args, ChildMain, &plan_);
      if (pid < 0) {
        out.err = static_cast<int>(-pid);
        return;
      }
      out.pid = pid;
#else
      out.err = ENOSYS;
      return;
#endif
    } else {
      out.syscall = "clone";
      long pid = clone(ChildMain, stack_->top(),
                       CLONE_VM | CLONE_VFORK | CLONE_PIDFD | static_cast<int>(request_.cloneFlags) | SIGCHLD, &plan_,
                       &pidfd);
      if (pid < 0) {
        out.err = errno;
        return;
      }
      out.pid = pid;
    }
    out.syscall = nullptr;
    out.pidfd = pidfd;
  }

  SpawnRequest request_;
  UniqueFd devNull_;
  std::vector<int> sources_;
  std::vector<int> scratch_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
  std::optional<ChildStack> stack_;  // mapped by Run, on the thread that clones
  ChildPlan plan_{};
};

// spawn's result object; from here on the pidfd is JS's to close.
Napi::Value OutcomeResult(Napi::Env env, const SpawnOutcome& out) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, static_cast<double>(out.pid)));
  result.Set("pidfd", Napi::Number::New(env, out.pidfd));
  if (!out.startTime.empty()) result.Set("startTime", Napi::String::New(env, out.startTime));
  result.Set("recorded", Napi::Boolean::New(env, out.recorded));
  return result;
}

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto request = ParseSpawnOptions(info[0], "spawn");
  if (!request) return env.Undefined();
  SpawnJob job(std::move(*request));
  SpawnOutcome out = job.Run();
  if (out.err != 0) return ThrowErrno(env, out.err, "spawn", out.syscall, out.path);
  return OutcomeResult(env, out);
}

// spawnAsync: the same clone on a libuv threadpool thread, so that creating namespaces and
// the exec (1-2 ms) no longer stall the JS thread. The threadpool thread becomes the child's
// parent for PR_SET_PDEATHSIG; libuv keeps its threads until the process exits, so that is
// no weaker than the JS thread.
class SpawnWorker : public Napi::AsyncWorker {
 public:
  SpawnWorker(Napi::Function callback, SpawnRequest request)
      : Napi::AsyncWorker(callback, "nlc:spawnAsync"), job_(std::move(request)) {}

 protected:
  void Execute() override { out_ = job_.Run(); }

  void OnOK() override {
    Napi::Env env = Env();
    if (out_.err != 0) {
      Callback().Call(Receiver().Value(), {MakeErrnoError(env, out_.err, "spawnAsync", out_.syscall, out_.path).Value()});
      return;
    }
    Callback().Call(Receiver().Value(), {env.Null(), OutcomeResult(env, out_)});
  }

 private:
  SpawnJob job_;
  SpawnOutcome out_;
};

Napi::Value SpawnAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto request = ParseSpawnOptions(info[0], "spawnAsync");
  if (!request) return env.Undefined();
  if (!info[1].IsFunction()) return ThrowType(env, "spawnAsync: callback must be a function");
  // Deletes itself after OnOK.
  (new SpawnWorker(info[1].As<Napi::Function>(), std::move(*request)))->Queue();
  return env.Undefined();
}

bool CopyFile(int from, int to, off_t size) {
  off_t done = 0;
  while (done < size) {
    ssize_t n = sendfile(to, from, nullptr, static_cast<size_t>(size - done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) break;  // the file shrank while we copied: seal what we have
    done += n;
  }
  return true;
}

// The copy on a tmpfs of its own that is mounted nowhere and made read-only once the copy is
// in it: the returned O_RDONLY fd is then the only way to it. Like a sealed memfd its content
// cannot change, and unlike one its mode, owner and writability cannot either: chmod, chown
// and an O_RDWR open all fail with EROFS, even for a container's root that got hold of the
// file through /proc/PID/exe while the helper ran as its program (exec of a script whose
// interpreter is /proc/self/exe). A memfd lives on the kernel's internal shmem mount, which is
// writable: there, chmod 0 or a writer held open (ETXTBSY) made every later start fail.
// (runc 1.2's exeseal makes its copy unwritable the same way, with an overlayfs.)
// Returns the fd, or -errno with *syscall naming the call that failed.
int CopyToReadOnlyTmpfs(int source, off_t size, const char** syscall) {
  UniqueFd fs(static_cast<int>(::syscall(SYS_fsopen, "tmpfs", kFsopenCloexec)));
  if (!fs) return *syscall = "fsopen", -errno;
  if (::syscall(SYS_fsconfig, fs.get(), kFsconfigSetString, "mode", "0555", 0) < 0 ||
      ::syscall(SYS_fsconfig, fs.get(), kFsconfigSetString, "nr_inodes", "4", 0) < 0 ||
      ::syscall(SYS_fsconfig, fs.get(), kFsconfigCmdCreate, nullptr, nullptr, 0) < 0)
    return *syscall = "fsconfig", -errno;
  UniqueFd mnt(static_cast<int>(::syscall(SYS_fsmount, fs.get(), kFsmountCloexec, kAttrNosuid | kAttrNodev)));
  if (!mnt) return *syscall = "fsmount", -errno;
  {
    UniqueFd copy(openat(mnt.get(), "nlc-init", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0555));
    if (!copy) return *syscall = "openat", -errno;
    if (!CopyFile(source, copy.get(), size)) return *syscall = "sendfile", -errno;
  }  // the writer is closed before the superblock goes read-only (a writer left open: EBUSY)
  // Read-only for the whole superblock, whatever mount reaches it.
  if (::syscall(SYS_fsconfig, fs.get(), kFsconfigSetFlag, "ro", nullptr, 0) < 0 ||
      ::syscall(SYS_fsconfig, fs.get(), kFsconfigCmdReconfigure, nullptr, nullptr, 0) < 0)
    return *syscall = "fsconfig", -errno;
  int fd = openat(mnt.get(), "nlc-init", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return *syscall = "openat", -errno;
  return fd;  // holds the mount (and so the tmpfs) for as long as it is open
}

// The fallback where the mount API is refused (no CAP_SYS_ADMIN, a seccomp profile, a kernel
// before 5.2): a memfd, sealed, re-opened read-only with the writable fd closed.
int CopyToSealedMemfd(int source, off_t size, const char** syscall) {
  // MFD_EXEC asks for an executable memfd where vm.memfd_noexec would make it NOEXEC; older
  // kernels don't know the flag (EINVAL), and there every memfd is executable anyway.
  UniqueFd memfd(memfd_create("nlc-sealed-exe", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (!memfd && errno == EINVAL) memfd.reset(memfd_create("nlc-sealed-exe", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return *syscall = "memfd_create", -errno;
  if (!CopyFile(source, memfd.get(), size)) return *syscall = "sendfile", -errno;
  if (fchmod(memfd.get(), 0555) < 0) return *syscall = "fchmod", -errno;
  if (fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    return *syscall = "fcntl(F_ADD_SEALS)", -errno;
  // Exec refuses a file with any writable fd open (ETXTBSY), so hand out a read-only
  // re-open and drop the writable one.
  std::string self = "/proc/self/fd/" + std::to_string(memfd.get());
  int fd = open(self.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return *syscall = "open", -errno;
  return fd;
}

// Port of runc's cloned-binary logic (CVE-2019-5736): the container can never write to what
// we exec, because what we exec is a read-only copy. sealExecutable(path, kind?) -> {fd, kind}.
Napi::Value SealExecutable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto path = ToString(info[0], "path");
  if (!path) return env.Undefined();

  UniqueFd source(open(path->c_str(), O_RDONLY | O_CLOEXEC));
  if (!source) return ThrowErrno(env, errno, "sealExecutable", "open", path->c_str());
  struct stat st;
  if (fstat(source.get(), &st) < 0) return ThrowErrno(env, errno, "sealExecutable", "fstat", path->c_str());

  // The kind asked for: 'memfd' skips the tmpfs; none (or 'tmpfs') falls back to a memfd
  // where the tmpfs cannot be made.
  std::string wanted = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  if (!wanted.empty() && wanted != "tmpfs" && wanted != "memfd")
    return ThrowType(env, "sealExecutable: kind must be 'tmpfs' or 'memfd'");
  const char* syscall = "";
  const char* kind = "memfd";
  int fd = -1;
  if (wanted != "memfd") {
    fd = CopyToReadOnlyTmpfs(source.get(), st.st_size, &syscall);
    if (fd >= 0) kind = "tmpfs";
  }
  if (fd < 0 && wanted != "tmpfs") fd = CopyToSealedMemfd(source.get(), st.st_size, &syscall);
  if (fd < 0) return ThrowErrno(env, -fd, "sealExecutable", syscall, path->c_str());
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("kind", Napi::String::New(env, kind));
  return out;
}

}  // namespace

void InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("spawnAsync", Napi::Function::New(env, SpawnAsync, "spawnAsync"));
  exports.Set("sealExecutable", Napi::Function::New(env, SealExecutable, "sealExecutable"));
}

}  // namespace nlc
