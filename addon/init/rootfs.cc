// Phase 1 of the rootfs, before pivot_root: port of runc's prepareRootfs and mountToRootfs.
// Phase 2 (after pivot_root) is in finalize.cc.
#include "rootfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "copyup.h"
#include "devices.h"
#include "error.h"
#include "fd.h"
#include "fileio.h"
#include "paths.h"

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

namespace nlc {

namespace {

constexpr const char* kMounts = "mounts";

std::vector<std::string> split(const std::string& s, char sep) { return splitNonEmpty<std::vector<std::string>>(s, sep); }

bool hasAtimeFlag(unsigned long flags) { return (flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)) != 0; }

std::string mountError(const MountPlan& m, const std::string& what) {
  // The data too: a filesystem's options ("size=banana") are what it refuses most often.
  return what + " (" + m.type + " " + m.source + " on " + m.destination + (m.data.empty() ? "" : ", data " + m.data) + ")";
}

UniqueFd openRootfs(const std::string& rootfs, const char* stage) {
  UniqueFd fd(open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) fail(stage, "open", rootfs, "open the rootfs");
  return fd;
}

// The path below the rootfs that fd really is, from the kernel ("/proc", "/"), or "" when
// fd is not below the rootfs at all.
std::string pathBelowRootfs(const std::string& realRootfs, int fd) {
  std::string p = fdPath(fd);
  if (p == realRootfs) return "/";
  if (realRootfs == "/") return p;
  if (p.size() > realRootfs.size() && p.compare(0, realRootfs.size(), realRootfs) == 0 && p[realRootfs.size()] == '/') {
    return p.substr(realRootfs.size());
  }
  return "";
}

bool isPathOrBelow(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// Port of runc's checkProcMount: nothing may be mounted inside /proc except a fresh procfs
// (or a bind of one) on /proc itself and the few files lxcfs emulates.
void checkProcMount(const MountPlan& m, const std::string& dest) {
  if (!isPathOrBelow(dest, "/proc")) return;
  if (dest == "/proc") {
    if (!m.isBind && m.type == "proc") return;
    if (m.isBind) {
      struct statfs st;
      if (statfs(m.source.c_str(), &st) < 0) fail(kMounts, "statfs", m.source, "inspect the source of a mount on /proc");
      if (st.f_type == PROC_SUPER_MAGIC) return;
    }
    failPlain(kMounts, m.destination, "only a proc filesystem can be mounted on /proc");
  }
  static const char* const allowed[] = {
      "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
      "/proc/swaps",   "/proc/uptime",    "/proc/loadavg", "/proc/slabinfo",
      "/proc/sys/kernel/ns_last_pid",     "/proc/sys/crypto/fips_enabled",
  };
  for (const char* ok : allowed) {
    if (dest == ok) return;
  }
  failPlain(kMounts, m.destination, "mounts inside /proc are not allowed");
}

// Port of runc's rootfsParentMountPrivate: pivot_root refuses a shared parent mount, and a
// shared parent would also carry our rootfs bind mount back to the host. EINVAL means
// "not a mount point": climb until one is found.
void makeRootfsParentPrivate(const std::string& rootfs) {
  std::string path = cleanPath(rootfs);
  for (;;) {
    if (mount(nullptr, path.c_str(), nullptr, MS_PRIVATE, nullptr) == 0) return;
    if (errno != EINVAL || path == "/") break;
    size_t slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  fail(kMounts, "mount", path, "make the rootfs's parent mount private");
}

// The cgroup v1 hierarchies mounted on the host under /sys/fs/cgroup: (directory name,
// superblock options naming the controllers, e.g. "cpu" or "name=systemd").
struct CgroupHierarchy {
  std::string dir;
  std::string options;
  std::string mountRoot;  // mountinfo's root field: relative to our cgroup namespace's root
  bool v2 = false;
};

// The lines of a small procfs file ("" and no lines when it cannot be read).
std::vector<std::string> fileLines(const char* path) {
  std::string text;
  if (!readFile(path, text)) text.clear();
  return split(text, '\n');
}

std::vector<CgroupHierarchy> hostCgroupHierarchies() {
  std::vector<CgroupHierarchy> out;
  const std::string prefix = "/sys/fs/cgroup/";
  for (const std::string& line : fileLines("/proc/self/mountinfo")) {
    // id parent major:minor root mountpoint opts [optional...] - fstype source superopts
    const std::vector<std::string> fields = split(line, ' ');
    if (fields.size() < 6) continue;
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") dash++;
    if (dash + 3 >= fields.size()) continue;
    const std::string& root = fields[3];
    const std::string& mountPoint = fields[4];
    const std::string& fstype = fields[dash + 1];
    const std::string& superOpts = fields[dash + 3];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    if (mountPoint.compare(0, prefix.size(), prefix) != 0) continue;
    std::string dir = mountPoint.substr(prefix.size());
    if (dir.empty() || dir.find('/') != std::string::npos) continue;
    CgroupHierarchy h{dir, "", root, fstype == "cgroup2"};
    for (const std::string& opt : split(superOpts, ',')) {
      if (opt == "rw" || opt == "ro") continue;
      if (opt.compare(0, 5, "name=") == 0 || opt.find('=') == std::string::npos) {
        if (!h.options.empty()) h.options += ",";
        h.options += opt;
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

// Our cgroup path in hierarchy h, from /proc/self/cgroup (the "0::" line for v2; for v1 the
// line whose controllers are all among h's mount options). Empty when not found: binding
// the hierarchy's root instead would show the host's whole tree.
std::string ownCgroupPath(const CgroupHierarchy& h) {
  const auto options = split(h.options, ',');
  for (const std::string& line : fileLines("/proc/self/cgroup")) {
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const auto ctrls = split(line.substr(a + 1, b - a - 1), ',');
    bool match;
    if (h.v2) {
      match = line.compare(0, a, "0") == 0 && ctrls.empty();
    } else {
      match = !ctrls.empty();
      for (const auto& c : ctrls) match = match && std::find(options.begin(), options.end(), c) != options.end();
    }
    if (match) return line.substr(b + 1);
  }
  return "";
}

class MountRunner {
 public:
  MountRunner(const std::string& rootfs, int rootFd) : rootFd_(rootFd), realRootfs_(fdPath(rootFd)) {
    if (realRootfs_.empty()) fail(kMounts, "readlink", rootfs, "find the rootfs's real path");
  }

  void run(const MountPlan& m) {
    if (m.type == "cgroup") {
      mountCgroup(m);
      return;
    }
    if (m.type == "proc" || m.type == "sysfs") refuseSymlinkOrFile(m);
    std::string data = m.data;
    if (!m.isBind && m.type == "tmpfs") data = tmpfsData(m);

    UniqueFd target = openOrCreateInRoot(rootFd_, m.destination, m.isFile ? TargetKind::File : TargetKind::Directory, kMounts);
    std::string dest = pathBelowRootfs(realRootfs_, target.get());
    if (dest.empty()) failPlain(kMounts, m.destination, "the mount target resolved outside the rootfs");
    checkProcMount(m, dest);
    if (m.isBind) checkBindTarget(m, target.get());

    if (m.isBind) {
      mountOn(m, target.get(), m.source.c_str(), nullptr, MS_BIND | (m.flags & MS_REC), nullptr, "bind mount");
      if (m.remountFlags != 0) remountBind(m);
    } else {
      unsigned long flags = m.flags;
      // runc's mountPropagate: a read-only tmpfs or /dev stays writable until the devices
      // and files inside are made; finalize() remounts it read-only.
      if (delayReadonly(m)) flags &= ~MS_RDONLY;
      if (m.copyUp) tmpfsCopyUp(m, target.get(), flags, data);
      else mountOn(m, target.get(), m.source.c_str(), m.type.c_str(), flags, data.c_str(), "mount");
    }
    applyPropagation(m);
    applyRecursiveAttrs(m);
  }

 private:
  // runc's setRecAttr: rro and friends, on the mount and every mount below it.
  void applyRecursiveAttrs(const MountPlan& m) {
    if (m.recAttrSet == 0 && m.recAttrClr == 0) return;
    UniqueFd target = reopen(m);
    struct {
      uint64_t attr_set, attr_clr, propagation, userns_fd;
    } attr{m.recAttrSet, m.recAttrClr, 0, 0};
    if (syscall(SYS_mount_setattr, target.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
      fail(kMounts, "mount_setattr", m.destination, mountError(m, "set recursive mount attributes"));
    }
  }

  // Mount onto the exact object behind targetFd, whatever its path has become.
  void mountOn(const MountPlan& m, int targetFd, const char* source, const char* type, unsigned long flags,
               const char* data, const char* what) {
    if (mount(source, procFdPath(targetFd).c_str(), type, flags, data && *data ? data : nullptr) < 0) {
      fail(kMounts, "mount", m.destination, mountError(m, what));
    }
  }

  // The target has to be looked up again after a mount: the old fd still names the
  // directory underneath, not the new mount on top of it.
  UniqueFd reopen(const MountPlan& m) {
    UniqueFd fd = openInRoot(rootFd_, m.destination, O_PATH);
    if (!fd.valid()) fail(kMounts, "openat2", m.destination, mountError(m, "reopen the mount target"));
    return fd;
  }

  // runc's remount: the kernel ignores ro, nosuid, ... on the bind itself. Inside a user
  // namespace flags locked on the source mount must be repeated or the kernel says EPERM.
  void remountBind(const MountPlan& m) {
    UniqueFd target = reopen(m);
    unsigned long flags = MS_BIND | MS_REMOUNT | m.remountFlags;
    if (mount(nullptr, procFdPath(target.get()).c_str(), nullptr, flags, nullptr) == 0) return;
    if (errno != EPERM) fail(kMounts, "mount", m.destination, mountError(m, "remount the bind mount"));
    flags |= existingMountFlags(m.source, !hasAtimeFlag(flags));
    if (mount(nullptr, procFdPath(target.get()).c_str(), nullptr, flags, nullptr) < 0) {
      fail(kMounts, "mount", m.destination, mountError(m, "remount the bind mount keeping the source's locked flags"));
    }
  }

  void applyPropagation(const MountPlan& m) {
    if (m.propagation.empty()) return;
    UniqueFd target = reopen(m);
    for (unsigned long p : m.propagation) {
      if (mount(nullptr, procFdPath(target.get()).c_str(), nullptr, p, nullptr) < 0) {
        fail(kMounts, "mount", m.destination, mountError(m, "set mount propagation"));
      }
    }
  }

  // runc refuses to mount proc or sysfs through a symlink or onto a non-directory: those
  // have been the way into host-side writes before (CVE-2019-19921 and friends).
  void refuseSymlinkOrFile(const MountPlan& m) {
    auto [parent, name] = splitParent(m.destination);
    if (name.empty()) failPlain(kMounts, m.destination, "cannot mount " + m.type + " on the rootfs itself");
    UniqueFd parentFd = openInRoot(rootFd_, parent, O_PATH);
    if (!parentFd.valid()) {
      if (errno == ENOENT) return;  // created as directories below
      fail(kMounts, "openat2", m.destination, mountError(m, "resolve the target's parent"));
    }
    struct stat st;
    if (fstatat(parentFd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) return;
      fail(kMounts, "fstatat", m.destination, mountError(m, "inspect the target"));
    }
    if (!S_ISDIR(st.st_mode)) failPlain(kMounts, m.destination, m.type + " must be mounted on ordinary directory");
  }

  void checkBindTarget(const MountPlan& m, int targetFd) {
    struct stat st;
    if (fstat(targetFd, &st) < 0) fail(kMounts, "fstat", m.destination, mountError(m, "inspect the target"));
    if (m.isFile && S_ISDIR(st.st_mode)) failPlain(kMounts, m.destination, "cannot bind a file onto a directory");
    if (!m.isFile && !S_ISDIR(st.st_mode)) failPlain(kMounts, m.destination, "cannot bind a directory onto a file");
  }

  static bool delayReadonly(const MountPlan& m) { return m.type == "tmpfs" || cleanPath(m.destination) == "/dev"; }

  // runc keeps the mode of an existing directory that a tmpfs is mounted on (explicit
  // options still win: they come later in the string).
  std::string tmpfsData(const MountPlan& m) {
    UniqueFd existing = openInRoot(rootFd_, m.destination, O_PATH);
    if (!existing.valid()) return m.data;
    struct stat st;
    if (fstat(existing.get(), &st) < 0 || !S_ISDIR(st.st_mode)) return m.data;
    char mode[16];
    snprintf(mode, sizeof mode, "mode=%04o", static_cast<unsigned>(st.st_mode & 07777));
    return m.data.empty() ? std::string(mode) : std::string(mode) + "," + m.data;
  }

  // A "cgroup" mount: cgroup2 on a unified host; on a v1 or hybrid host runc's
  // mountCgroupV1, i.e. a tmpfs with one directory per hierarchy showing only our own cgroup.
  void mountCgroup(const MountPlan& m) {
    struct statfs st;
    if (statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) {
      MountPlan v2 = m;
      v2.type = "cgroup2";
      v2.source = "cgroup2";
      v2.data.clear();
      run(v2);
      return;
    }
    const unsigned long base = m.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME | MS_NOATIME | MS_STRICTATIME);
    MountPlan root = m;
    root.type = "tmpfs";
    root.source = "tmpfs";
    root.data = "mode=755";
    root.flags = base;
    root.propagation.clear();
    run(root);
    for (const auto& h : hostCgroupHierarchies()) mountCgroupV1Hierarchy(m, h, base | (m.flags & MS_RDONLY));
    if (m.flags & MS_RDONLY) {
      MountPlan ro = root;
      ro.isBind = true;
      ro.source = realRootfs_ + cleanPath(m.destination);
      ro.remountFlags = base | MS_RDONLY;
      remountBind(ro);
    }
    applyPropagation(m);
  }

  // One directory of runc's mountCgroupV1 tmpfs: hierarchy h showing only our own cgroup.
  void mountCgroupV1Hierarchy(const MountPlan& m, const CgroupHierarchy& h, unsigned long flags) {
    MountPlan sub;
    sub.destination = cleanPath(m.destination + "/" + h.dir);
    const std::string own = ownCgroupPath(h);
    if (own.empty()) failPlain(kMounts, sub.destination, "cannot find our cgroup in the host's " + h.dir + " hierarchy");
    std::string below;  // our cgroup, relative to the root of the host's mount of h
    if (h.mountRoot == "/") {
      below = own;
    } else if (own == h.mountRoot || own.compare(0, h.mountRoot.size() + 1, h.mountRoot + "/") == 0) {
      below = own.size() == h.mountRoot.size() ? "/" : own.substr(h.mountRoot.size());
    }
    if (!below.empty()) {
      // Without a cgroup namespace of our own a fresh mount would show the host's whole
      // tree: bind just our cgroup from the host's mount.
      sub.type = "bind";
      sub.isBind = true;
      sub.source = cleanPath("/sys/fs/cgroup/" + h.dir + "/" + below);
      sub.flags = MS_BIND | MS_REC | flags;
      sub.remountFlags = flags;
      run(sub);
      return;
    }
    // The host's mount starts above our cgroup namespace's root ("/../.."): we are in a
    // namespace of our own, and a fresh mount shows exactly its root (runc mounts fresh when
    // the container has a cgroup namespace).
    sub.type = h.v2 ? "cgroup2" : "cgroup";
    sub.source = sub.type;
    sub.flags = flags;
    sub.data = h.v2 ? "" : h.options;
    UniqueFd target = openOrCreateInRoot(rootFd_, sub.destination, TargetKind::Directory, kMounts);
    mountOn(sub, target.get(), sub.source.c_str(), sub.type.c_str(), sub.flags, sub.data.c_str(), "mount");
  }

  int rootFd_;
  std::string realRootfs_;
};

}  // namespace

void mountRootfs(const RootfsPlan& plan) {
  if (plan.rootfs.empty() || plan.rootfs[0] != '/') failPlain(kMounts, plan.rootfs, "the rootfs must be an absolute path");
  const unsigned long rootFlags = plan.rootPropagation != 0 ? plan.rootPropagation : MS_SLAVE | MS_REC;
  if (mount(nullptr, "/", nullptr, rootFlags, nullptr) < 0) fail(kMounts, "mount", "/", "set the propagation of /");
  makeRootfsParentPrivate(plan.rootfs);
  if (mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    fail(kMounts, "mount", plan.rootfs, "bind the rootfs onto itself");
  }
  // Opened after the bind, so every lookup below happens in the rootfs's own mount.
  UniqueFd rootFd = openRootfs(plan.rootfs, kMounts);
  MountRunner runner(plan.rootfs, rootFd.get());
  for (const auto& m : plan.mounts) runner.run(m);
  createDevices(rootFd.get(), plan);
  if (plan.defaultDevices) setupDevSymlinks(rootFd.get());
}

}  // namespace nlc
