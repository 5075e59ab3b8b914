#include "copyup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "error.h"
#include "fd.h"
#include "mount_api.h"
#include "paths.h"

namespace nlc {

namespace {

constexpr const char* kStage = "mounts";

std::string what(const MountPlan& m, const std::string& step) {
  return "tmpcopyup of " + m.destination + ": " + step;
}

// MS_* flags of the mount as fsmount's MOUNT_ATTR_* (the per-mount ones; a read-only tmpfs
// is remounted so later, like any tmpfs, once what goes in it is made).
unsigned mountAttrs(const MountPlan& m, unsigned long flags) {
  unsigned attrs = 0;
  if (flags & MS_NOSUID) attrs |= kAttrNosuid;
  if (flags & MS_NODEV) attrs |= kAttrNodev;
  if (flags & MS_NOEXEC) attrs |= kAttrNoexec;
  if (flags & MS_NOATIME) attrs |= kAttrNoatime;
  if (flags & MS_STRICTATIME) attrs |= kAttrStrictatime;
  if (flags & MS_NODIRATIME) attrs |= kAttrNodiratime;
#ifdef MS_NOSYMFOLLOW
  if (flags & MS_NOSYMFOLLOW) attrs |= kAttrNosymfollow;
#endif
  const unsigned long handled = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_STRICTATIME | MS_NODIRATIME | MS_RELATIME |
                                MS_RDONLY | MS_REC
#ifdef MS_NOSYMFOLLOW
                                | MS_NOSYMFOLLOW
#endif
      ;
  if (flags & ~handled) failPlain(kStage, m.destination, what(m, "a mount flag other than ro, nosuid, nodev, noexec and the atime ones"));
  return attrs;
}

void copyMeta(int dirFd, const char* name, const struct stat& st, const std::string& path, bool symlink) {
  if (::fchownat(dirFd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) fail(kStage, "fchownat", path, "tmpcopyup: keep the owner");
  if (!symlink && ::fchmodat(dirFd, name, st.st_mode & 07777, 0) < 0) fail(kStage, "fchmodat", path, "tmpcopyup: keep the mode");
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dirFd, name, times, AT_SYMLINK_NOFOLLOW) < 0) fail(kStage, "utimensat", path, "tmpcopyup: keep the times");
}

void copyFile(int srcDir, int dstDir, const char* name, const struct stat& st, const std::string& path) {
  UniqueFd in(::openat(srcDir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in.valid()) fail(kStage, "openat", path, "tmpcopyup: open a file to copy");
  UniqueFd out(::openat(dstDir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) fail(kStage, "openat", path, "tmpcopyup: create the copy");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::sendfile(out.get(), in.get(), nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(kStage, "sendfile", path, "tmpcopyup: copy a file");
    if (n == 0) break;  // it shrank meanwhile
    left -= n;
  }
}

// Everything under srcDir into dstDir; both are directory fds, every name is looked up
// without following symlinks (the image's own symlinks are copied as symlinks).
void copyTree(int srcDir, int dstDir, const std::string& path) {
  int listFd = ::openat(srcDir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listFd < 0) fail(kStage, "openat", path, "tmpcopyup: open a directory to copy");
  DIR* dir = ::fdopendir(listFd);
  if (!dir) {
    ::close(listFd);
    fail(kStage, "fdopendir", path, "tmpcopyup: list a directory to copy");
  }
  struct DirCloser {
    DIR* d;
    ~DirCloser() { ::closedir(d); }
  } closer{dir};
  while (struct dirent* e = ::readdir(dir)) {
    const char* name = e->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    std::string child = path + "/" + name;
    struct stat st;
    if (::fstatat(srcDir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) fail(kStage, "fstatat", child, "tmpcopyup: inspect an entry");
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dstDir, name, 0700) < 0) fail(kStage, "mkdirat", child, "tmpcopyup: make a directory");
      UniqueFd from(::openat(srcDir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd to(::openat(dstDir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!from.valid() || !to.valid()) fail(kStage, "openat", child, "tmpcopyup: open a directory");
      copyTree(from.get(), to.get(), child);
      copyMeta(dstDir, name, st, child, false);
    } else if (S_ISREG(st.st_mode)) {
      copyFile(srcDir, dstDir, name, st, child);
      copyMeta(dstDir, name, st, child, false);
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      ssize_t n = ::readlinkat(srcDir, name, target.data(), target.size());
      if (n < 0) fail(kStage, "readlinkat", child, "tmpcopyup: read a symlink");
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), dstDir, name) < 0) fail(kStage, "symlinkat", child, "tmpcopyup: copy a symlink");
      copyMeta(dstDir, name, st, child, true);
    } else {
      // Device nodes, fifos, sockets: the same node.
      if (::mknodat(dstDir, name, st.st_mode, st.st_rdev) < 0) fail(kStage, "mknodat", child, "tmpcopyup: copy a special file");
      copyMeta(dstDir, name, st, child, false);
    }
  }
}

}  // namespace

void tmpfsCopyUp(const MountPlan& m, int targetFd, unsigned long flags, const std::string& data) {
  UniqueFd fs(static_cast<int>(::syscall(SYS_fsopen, "tmpfs", kFsopenCloexec)));
  if (!fs.valid()) fail(kStage, "fsopen", m.destination, what(m, "create a tmpfs"));
  // The source mount(8) and mountinfo show, as for any other mount.
  if (!m.source.empty() && ::syscall(SYS_fsconfig, fs.get(), kFsconfigSetString, "source", m.source.c_str(), 0) < 0)
    fail(kStage, "fsconfig", m.destination, what(m, "name the source " + m.source));
  size_t start = 0;
  while (start <= data.size() && !data.empty()) {
    size_t comma = data.find(',', start);
    std::string option = data.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!option.empty()) {
      size_t eq = option.find('=');
      long rc = eq == std::string::npos
                    ? ::syscall(SYS_fsconfig, fs.get(), kFsconfigSetFlag, option.c_str(), nullptr, 0)
                    : ::syscall(SYS_fsconfig, fs.get(), kFsconfigSetString, option.substr(0, eq).c_str(), option.substr(eq + 1).c_str(), 0);
      if (rc < 0) fail(kStage, "fsconfig", m.destination, what(m, "the tmpfs option " + option));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (::syscall(SYS_fsconfig, fs.get(), kFsconfigCmdCreate, nullptr, nullptr, 0) < 0)
    fail(kStage, "fsconfig", m.destination, what(m, "create the tmpfs (data " + data + ")"));
  UniqueFd mnt(static_cast<int>(::syscall(SYS_fsmount, fs.get(), kFsmountCloexec, mountAttrs(m, flags))));
  if (!mnt.valid()) fail(kStage, "fsmount", m.destination, what(m, "mount the tmpfs"));

  copyTree(targetFd, mnt.get(), m.destination);

  if (!moveMountFd(mnt.get(), targetFd))
    fail(kStage, "move_mount", m.destination, what(m, "move the filled tmpfs into place"));
}

}  // namespace nlc
