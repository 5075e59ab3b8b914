// Rootfs set-up inside the container's mount namespace: the plan (filled from the
// bootstrap message by bootstrap.cc) and the two phases around the procHooks sync.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nlc {

struct MountPlan {
  std::string source;
  std::string destination;  // absolute path inside the rootfs
  std::string type;
  unsigned long flags = 0;  // MS_* for mount(2)
  std::string data;
  std::vector<unsigned long> propagation;  // applied after the mount, in order
  unsigned long remountFlags = 0;          // bind mounts: != 0 -> MS_BIND|MS_REMOUNT|remountFlags
  bool isBind = false;
  bool isFile = false;  // bind of a non-directory source: the target is an empty file
  bool copyUp = false;  // tmpcopyup: the tmpfs starts with a copy of what the directory held
  // MOUNT_ATTR_* set and cleared on the whole mount tree with mount_setattr(AT_RECURSIVE)
  // once it is mounted (rro, rnosuid, ...).
  uint64_t recAttrSet = 0, recAttrClr = 0;
};

struct DevicePlan {
  std::string path;  // absolute path inside the container
  char type = 'c';   // c, b, u, p
  long major = 0, minor = 0;
  unsigned fileMode = 0666;
  unsigned uid = 0, gid = 0;
};

struct RootfsPlan {
  std::string rootfs;                    // absolute host path
  unsigned long rootPropagation = 0;     // flags for "/" (default MS_SLAVE|MS_REC, set by TS)
  bool readonlyRoot = false;
  std::vector<MountPlan> mounts;
  bool defaultDevices = false;
  std::vector<DevicePlan> devices;
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  std::map<std::string, std::string> sysctl;  // written after pivot_root, under /proc/sys
};

// Phase 1 (before procHooks): make "/" rootPropagation, bind the rootfs onto itself, do every
// mount (destinations resolved inside the rootfs, never following symlinks out of it),
// create devices and /dev symlinks. Throws InitError.
void mountRootfs(const RootfsPlan& plan);

// Phase 2 (after procHooksDone and createContainer hooks, finalize.cc): pivot_root into the
// rootfs and detach the old root, move stdio to the container's /dev/null, make the working
// directory. Throws InitError.
void pivotIntoRootfs(const RootfsPlan& plan, const std::string& cwd);

// Then (after the console is set up, which needs a writable /dev, as in runc's standard
// init): remount the delayed read-only mounts (/dev, tmpfs) and the root. Throws InitError.
void finalizeRootfs(const RootfsPlan& plan);

// After the hostname, as in runc's standard init: sysctl, then read-only and masked paths,
// each resolved inside the new root. Throws InitError.
void restrictKernelViews(const RootfsPlan& plan);

}  // namespace nlc
