#include "devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "error.h"
#include "paths.h"

namespace nlc {

namespace {

constexpr const char* kStage = "devices";

// The nodes every container gets (runc's specconv AllowedDevices with a path).
const DevicePlan kDefaultDevices[] = {
    {"/dev/null", 'c', 1, 3, 0666, 0, 0},    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
    {"/dev/full", 'c', 1, 7, 0666, 0, 0},    {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
    {"/dev/random", 'c', 1, 8, 0666, 0, 0},  {"/dev/urandom", 'c', 1, 9, 0666, 0, 0},
};

// Restores the umask on scope exit: device modes must be exactly what was asked for.
class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(umask(mask)) {}
  ~UmaskGuard() { umask(old_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

 private:
  mode_t old_;
};

mode_t typeBits(const DevicePlan& dev) {
  switch (dev.type) {
    case 'c':
    case 'u':
      return S_IFCHR;
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default:
      failPlain(kStage, dev.path, std::string("unknown device type '") + dev.type + "'");
  }
}

// Port of runc's bindMountDeviceNode: an empty file as the target, the host's node bound on it.
void bindHostDevice(int parentFd, const std::string& name, const DevicePlan& dev) {
  UniqueFd created(openat(parentFd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0));
  if (!created.valid() && errno != EEXIST) fail(kStage, "openat", dev.path, "create the bind target of a device");
  created.reset();
  UniqueFd target(openat(parentFd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!target.valid()) fail(kStage, "openat", dev.path, "open the bind target of a device");
  struct stat st;
  if (fstat(target.get(), &st) < 0) fail(kStage, "fstat", dev.path, "inspect the bind target of a device");
  if (!S_ISREG(st.st_mode)) failPlain(kStage, dev.path, "the bind target of a device is not a regular file");
  if (mount(dev.path.c_str(), procFdPath(target.get()).c_str(), nullptr, MS_BIND, nullptr) < 0) {
    fail(kStage, "mount", dev.path, "bind-mount the host's device node");
  }
}

// The directory the last device went into, kept open for the next one: the default nodes all
// go into /dev, which is then resolved once instead of once per node. Only the helper runs in
// the container's mount namespace at this point, so the directory cannot be swapped meanwhile.
struct ParentDir {
  std::string path;
  UniqueFd fd;
};

// Port of runc's createDeviceNode.
void createDevice(int rootFd, const DevicePlan& dev, ParentDir& last) {
  if (dev.path.empty()) return;
  auto [parent, name] = splitParent(dev.path);
  if (name.empty()) failPlain(kStage, dev.path, "a device cannot replace the rootfs");
  if (!last.fd.valid() || last.path != parent) {
    last.fd = openOrCreateInRoot(rootFd, parent, TargetKind::Directory, kStage);
    last.path = parent;
  }
  const UniqueFd& parentFd = last.fd;
  const mode_t mode = typeBits(dev) | (dev.fileMode & 07777);
  const dev_t rdev = dev.type == 'p' ? 0 : makedev(static_cast<unsigned>(dev.major), static_cast<unsigned>(dev.minor));

  // What is already at the path stays, as runc keeps it (EEXIST is not an error there): it may
  // be a file of the image or, through a bind mount, of the host, and never ours to delete.
  if (mknodat(parentFd.get(), name.c_str(), mode, rdev) < 0) {
    if (errno == EEXIST) return;
    if (errno == EPERM) {
      bindHostDevice(parentFd.get(), name, dev);
      return;
    }
    fail(kStage, "mknodat", dev.path, "create the device node");
  }
  if (fchownat(parentFd.get(), name.c_str(), dev.uid, dev.gid, AT_SYMLINK_NOFOLLOW) < 0) {
    fail(kStage, "fchownat", dev.path, "set the owner of the device node");
  }
}

}  // namespace

void createDevices(int rootFd, const RootfsPlan& plan) {
  UmaskGuard noUmask(0);
  ParentDir last;
  if (plan.defaultDevices) {
    for (const auto& dev : kDefaultDevices) createDevice(rootFd, dev, last);
  }
  for (const auto& dev : plan.devices) createDevice(rootFd, dev, last);
}

void setupDevSymlinks(int rootFd) {
  UniqueFd devFd = openOrCreateInRoot(rootFd, "/dev", TargetKind::Directory, kStage);
  std::pair<const char*, const char*> links[] = {
      {"/proc/self/fd", "fd"},
      {"/proc/self/fd/0", "stdin"},
      {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"},
  };
  for (const auto& [target, name] : links) {
    if (symlinkat(target, devFd.get(), name) < 0 && errno != EEXIST) {
      fail(kStage, "symlinkat", std::string("/dev/") + name, "create a /dev symlink");
    }
  }
  // Checked on the host (we have not pivoted yet), as runc does.
  if (access("/proc/kcore", F_OK) == 0) {
    if (symlinkat("/proc/kcore", devFd.get(), "core") < 0 && errno != EEXIST) {
      fail(kStage, "symlinkat", "/dev/core", "create a /dev symlink");
    }
  }
  // setupPtmx: the devpts instance's ptmx, not the host's.
  if (unlinkat(devFd.get(), "ptmx", 0) < 0 && errno != ENOENT) fail(kStage, "unlinkat", "/dev/ptmx", "remove /dev/ptmx");
  if (symlinkat("pts/ptmx", devFd.get(), "ptmx") < 0) fail(kStage, "symlinkat", "/dev/ptmx", "link /dev/ptmx to pts/ptmx");
}

}  // namespace nlc
