// Phase 2 of the rootfs, after the procHooks sync: pivot_root and what runc's standard init
// does after it, in its order. Everything here runs inside the new root, so no path can reach the host's
// files by name any more; what is still guarded against is a path inside the container
// (or a procfs entry) being swapped for a symlink or over-mounted between check and use.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <linux/openat2.h>
#include <string>

#include "error.h"
#include "fd.h"
#include "paths.h"
#include "rootfs.h"

namespace nlc {
namespace {

// procfs's root directory inode number (PROC_ROOT_INO in the kernel).
constexpr ino_t kProcRootIno = 1;

unsigned long locked(unsigned long flags) { return flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC); }

// Port of runc's pivotRoot: pivot_root(".", ".") stacks the old root on top of the new one,
// so no directory has to be made in the image for it; it is then detached.
void pivotRoot(const std::string& rootfs) {
  UniqueFd oldRoot(open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!oldRoot.valid()) fail("pivot_root", "open", "/", "open the old root");
  UniqueFd newRoot(open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!newRoot.valid()) fail("pivot_root", "open", rootfs, "open the rootfs");
  if (fchdir(newRoot.get()) < 0) fail("pivot_root", "fchdir", rootfs, "enter the rootfs");
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root", "pivot_root", rootfs, "pivot_root into the rootfs");
  if (fchdir(oldRoot.get()) < 0) fail("pivot_root", "fchdir", "/", "enter the old root");
  // Slave first, so the detach below cannot propagate to the host.
  if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) fail("pivot_root", "mount", "/", "make the old root rslave");
  if (umount2(".", MNT_DETACH) < 0) fail("pivot_root", "umount2", "/", "detach the old root");
  if (chdir("/") < 0) fail("pivot_root", "chdir", "/", "enter the new root");
}

bool isNullDevice(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

// The container's /dev/null, never a symlink and never anything but the null device: an
// image (or a container sharing this rootfs) may have replaced it (CVE-2025-31133).
UniqueFd openVerifiedDevNull(int flags, const char* stage) {
  UniqueFd fd(open("/dev/null", flags | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) fail(stage, "open", "/dev/null", "open the container's /dev/null");
  if (!isNullDevice(fd.get())) failPlain(stage, "/dev/null", "/dev/null is not the null device (1:3)");
  return fd;
}

// Port of runc's reOpenDevNull: stdio left on the host's /dev/null is moved to the
// container's, so nothing keeps a file of the old root open. Skipped when the container has
// no usable /dev/null: stdio must never be swapped for some other file the image names so.
void reopenDevNull() {
  UniqueFd null(open("/dev/null", O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (!null.valid() || !isNullDevice(null.get())) return;
  struct stat nullSt;
  if (fstat(null.get(), &nullSt) < 0) fail("pivot_root", "fstat", "/dev/null", "inspect /dev/null");
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st;
    if (fstat(fd, &st) < 0) continue;
    if (S_ISCHR(st.st_mode) && st.st_rdev == nullSt.st_rdev && dup3(null.get(), fd, 0) < 0) {
      fail("pivot_root", "dup3", "/dev/null", "reopen stdio on the container's /dev/null");
    }
  }
}

// runc's remountReadonly: tmpfs mounts and /dev were mounted writable (delayReadonly); a
// busy filesystem is retried a few times as runc does.
void remountDelayedReadonly(const MountPlan& m) {
  const std::string dest = cleanPath(m.destination);
  unsigned long flags = (m.flags & ~MS_REC) | MS_REMOUNT | MS_RDONLY;
  for (int attempt = 0;; ++attempt) {
    if (mount(nullptr, dest.c_str(), nullptr, flags, nullptr) == 0) return;
    if (errno != EBUSY || attempt >= 4) break;
    usleep(100 * 1000);
  }
  fail("mounts", "mount", dest, "remount read-only after setting it up");
}

// runc's setReadonly.
void makeRootReadonly() {
  const unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  if (mount(nullptr, "/", nullptr, flags, nullptr) == 0) return;
  if (mount(nullptr, "/", nullptr, flags | existingMountFlags("/", true), nullptr) < 0) {
    fail("readonly_paths", "mount", "/", "remount the root read-only");
  }
}

// The container's /proc, which must be the root of a procfs: sysctl values are written
// below it and must reach the kernel, not a file an image or a mount put there.
UniqueFd openProcRoot(const char* stage) {
  UniqueFd fd(open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) fail(stage, "open", "/proc", "open the container's /proc");
  struct statfs sfs;
  struct stat st;
  if (fstatfs(fd.get(), &sfs) < 0 || fstat(fd.get(), &st) < 0) fail(stage, "fstatfs", "/proc", "inspect /proc");
  if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != kProcRootIno) failPlain(stage, "/proc", "/proc is not the root of a proc filesystem");
  return fd;
}

// Port of runc's writeSystemProperty. The file is opened below /proc without crossing a mount
// or following any symlink (RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS): a file bind-mounted over a
// sysctl (the lxcfs-style mounts allowed on /proc/sys/kernel/ns_last_pid, or a racing mount
// in a shared mount namespace) would otherwise redirect a privileged write to whatever procfs
// file was bound there, e.g. the host-wide kernel.core_pattern.
// The key is in the dot form, where a "/" stands for a "." inside a component (sysctl.d(5):
// "net.ipv4.conf.lo/0.forwarding" is net/ipv4/conf/lo.0/forwarding).
void writeSysctl(int procFd, const std::string& key, const std::string& value) {
  std::string rel = "sys/";
  std::string component;
  auto addComponent = [&](bool last) {
    if (component.empty() || component == "." || component == "..") failPlain("sysctl", key, "invalid sysctl key");
    rel += component;
    if (!last) rel += '/';
    component.clear();
  };
  for (char c : key) {
    if (c == '.') addComponent(false);
    else component += c == '/' ? '.' : c;
  }
  addComponent(true);
  const std::string path = "/proc/" + rel;
  UniqueFd fd = openInRoot(procFd, rel, O_WRONLY | O_NOFOLLOW, RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS);
  if (!fd.valid()) fail("sysctl", "openat2", path, errno == EXDEV ? "the sysctl file is covered by a mount" : "open the sysctl file");
  if (write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    fail("sysctl", "write", path, "write the sysctl value");
  }
}

// Port of runc's readonlyPath, on the object the path names inside the container (symlinks
// followed only inside it, never through a /proc magic link): bound onto itself, then the
// new mount on top is remounted read-only.
void readonlyPath(int rootFd, const std::string& path, bool haveProc) {
  UniqueFd target = openInRoot(rootFd, path, O_PATH);
  if (!target.valid()) {
    if (errno == ENOENT) return;
    fail("readonly_paths", "openat2", path, "resolve the read-only path");
  }
  if (!bindMountFd(target.get(), target.get(), true)) fail("readonly_paths", "move_mount", path, "bind the path onto itself");
  UniqueFd mounted = openInRoot(rootFd, path, O_PATH);
  if (!mounted.valid()) fail("readonly_paths", "openat2", path, "reopen the read-only path");
  const std::string where = haveProc ? procFdPath(mounted.get()) : path;
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked(existingMountFlags(mounted.get(), false));
  if (mount(nullptr, where.c_str(), nullptr, flags, nullptr) < 0) fail("readonly_paths", "mount", path, "remount read-only");
}

// Port of runc's maskPath, with the later hardening: the /dev/null bound over a file is the
// verified null device, bound by fd (CVE-2025-31133), and the target is resolved once.
void maskPath(int rootFd, const std::string& path, int devNull, bool haveProc) {
  UniqueFd target = openInRoot(rootFd, path, O_PATH);
  if (!target.valid()) {
    if (errno == ENOENT) return;
    fail("masked_paths", "openat2", path, "resolve the masked path");
  }
  struct stat st;
  if (fstat(target.get(), &st) < 0) fail("masked_paths", "fstat", path, "inspect the masked path");
  if (S_ISDIR(st.st_mode)) {
    const std::string where = haveProc ? procFdPath(target.get()) : path;
    if (mount("tmpfs", where.c_str(), "tmpfs", MS_RDONLY, nullptr) < 0) {
      fail("masked_paths", "mount", path, "mount a read-only tmpfs over the directory");
    }
    return;
  }
  if (!bindMountFd(devNull, target.get(), false)) fail("masked_paths", "move_mount", path, "bind /dev/null over the file");
}

// Whether the container's /proc can name fds (it may have no /proc at all).
bool haveProcSelfFd() { return access("/proc/self/fd", F_OK) == 0; }

// Port of the end of runc's prepareRootfs: a missing working directory is made (0755, as
// root), inside the new root now, so no path can lead out of it; before a read-only root
// is remounted so.
void makeWorkingDirectory(const std::string& cwd) {
  std::string prefix;
  size_t pos = 0;
  while (pos < cwd.size()) {
    size_t next = cwd.find('/', pos + 1);
    if (next == std::string::npos) next = cwd.size();
    prefix = cwd.substr(0, next);
    pos = next;
    if (prefix == "/" || prefix.back() == '/') continue;
    if (::mkdir(prefix.c_str(), 0755) < 0 && errno != EEXIST) fail("cwd", "mkdir", prefix, "creating the working directory " + cwd);
  }
}

}  // namespace

void pivotIntoRootfs(const RootfsPlan& plan, const std::string& cwd) {
  pivotRoot(plan.rootfs);
  reopenDevNull();
  makeWorkingDirectory(cwd);
}

// runc's finalizeRootfs.
void finalizeRootfs(const RootfsPlan& plan) {
  for (const auto& m : plan.mounts) {
    if (!m.isBind && (m.flags & MS_RDONLY) && (m.type == "tmpfs" || cleanPath(m.destination) == "/dev")) {
      remountDelayedReadonly(m);
    }
  }
  if (plan.readonlyRoot) makeRootReadonly();
}

void restrictKernelViews(const RootfsPlan& plan) {
  if (!plan.sysctl.empty()) {
    UniqueFd proc = openProcRoot("sysctl");
    for (const auto& [key, value] : plan.sysctl) writeSysctl(proc.get(), key, value);
  }
  if (plan.readonlyPaths.empty() && plan.maskedPaths.empty()) return;
  UniqueFd rootFd(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootFd.valid()) fail("readonly_paths", "open", "/", "open the root");
  const bool haveProc = haveProcSelfFd();
  for (const auto& path : plan.readonlyPaths) readonlyPath(rootFd.get(), path, haveProc);
  if (plan.maskedPaths.empty()) return;
  UniqueFd devNull = openVerifiedDevNull(O_PATH, "masked_paths");
  for (const auto& path : plan.maskedPaths) maskPath(rootFd.get(), path, devNull.get(), haveProc);
}

}  // namespace nlc
