#include "paths.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <deque>
#include <vector>

#include "error.h"

namespace nlc {

namespace {

// Linux's own limit on symlinks followed in one lookup.
constexpr int kMaxSymlinks = 40;

std::deque<std::string> splitComponents(const std::string& path) { return splitNonEmpty<std::deque<std::string>>(path, '/'); }

bool onlyTrivialLeft(const std::deque<std::string>& parts) {
  for (const auto& p : parts) {
    if (p != ".") return false;
  }
  return true;
}

[[noreturn]] void failWith(int err, const char* stage, const char* syscall, const std::string& path,
                           const std::string& message) {
  errno = err;
  fail(stage, syscall, path, message);
}

unsigned long flagsFromStatvfs(const struct statvfs& st, bool withAtime) {
  unsigned long flags = 0;
  if (st.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (withAtime) {
    if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  }
  return flags;
}

// The target of the symlink behind an O_PATH|O_NOFOLLOW fd.
std::string readSymlink(int linkFd, const char* stage, const std::string& path) {
  char target[PATH_MAX];
  ssize_t n = readlinkat(linkFd, "", target, sizeof target - 1);
  if (n < 0) fail(stage, "readlinkat", path, "read a symlink inside the rootfs");
  return std::string(target, static_cast<size_t>(n));
}

// Create name in dirFd (an empty 0644 file or a 0755 directory); losing a race for the name
// is fine, the caller looks it up again either way.
void createEntry(int dirFd, const std::string& name, bool file, const char* stage, const std::string& path) {
  if (file) {
    UniqueFd created(openat(dirFd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!created.valid() && errno != EEXIST) fail(stage, "openat", path, "create the mount target file");
  } else if (mkdirat(dirFd, name.c_str(), 0755) < 0 && errno != EEXIST) {
    fail(stage, "mkdirat", path, "create a directory inside the rootfs");
  }
}

}  // namespace

UniqueFd openInRoot(int rootFd, const std::string& path, int flags, unsigned long long extraResolve) {
  struct open_how how = {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extraResolve;
  const char* name = path.empty() ? "." : path.c_str();
  // openat2 with RESOLVE_IN_ROOT answers EAGAIN when a concurrent rename could have let
  // ".." escape; the lookup is simply retried.
  for (int attempt = 0; attempt < 128; ++attempt) {
    long fd = syscall(SYS_openat2, rootFd, name, &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != EAGAIN) break;
  }
  return UniqueFd();
}

UniqueFd openOrCreateInRoot(int rootFd, const std::string& path, TargetKind kind, const char* stage) {
  UniqueFd found = openInRoot(rootFd, path, O_PATH);
  if (found.valid()) return found;
  if (errno != ENOENT) fail(stage, "openat2", path, "resolve the path inside the rootfs");

  // Walk it ourselves. `dirs` holds the fds of the real directories from the root down to
  // the current one (never a symlink), so ".." is a pop and can never climb above the root.
  std::vector<UniqueFd> dirs;
  auto current = [&]() { return dirs.empty() ? rootFd : dirs.back().get(); };
  std::deque<std::string> todo = splitComponents(path);
  int symlinks = 0;
  int steps = 0;
  while (!todo.empty()) {
    if (++steps > 4096) failWith(ELOOP, stage, "openat", path, "too many steps resolving the path");
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      if (!dirs.empty()) dirs.pop_back();
      continue;
    }
    const bool last = onlyTrivialLeft(todo);

    UniqueFd next(openat(current(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (next.valid()) {
      struct stat st;
      if (fstat(next.get(), &st) < 0) fail(stage, "fstat", path, "inspect a path component");
      if (S_ISLNK(st.st_mode)) {
        if (++symlinks > kMaxSymlinks) failWith(ELOOP, stage, "readlinkat", path, "too many symlinks");
        std::string link = readSymlink(next.get(), stage, path);
        // An absolute target restarts at the rootfs, never at the host's "/".
        if (!link.empty() && link[0] == '/') dirs.clear();
        auto linkParts = splitComponents(link);
        todo.insert(todo.begin(), linkParts.begin(), linkParts.end());
        continue;
      }
      if (!last && !S_ISDIR(st.st_mode)) failWith(ENOTDIR, stage, "openat", path, "a path component is not a directory");
      dirs.push_back(std::move(next));
      continue;
    }
    if (errno != ENOENT) fail(stage, "openat", path, "resolve a path component inside the rootfs");

    createEntry(current(), name, last && kind == TargetKind::File, stage, path);
    // Look the new entry up again: if something else won a race for the name, it is
    // judged like any existing entry.
    todo.push_front(std::move(name));
  }
  if (dirs.empty()) {
    UniqueFd root(openat(rootFd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) fail(stage, "openat", path, "reopen the rootfs");
    return root;
  }
  return std::move(dirs.back());
}

// The mount API's system calls themselves: glibc has wrappers only since 2.36, musl none.
// The flags' values are the kernel's (linux/mount.h, which clashes with glibc's sys/mount.h).
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

bool bindMountFd(int sourceFd, int targetFd, bool recursive) {
  const unsigned treeFlags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  UniqueFd tree(static_cast<int>(syscall(SYS_open_tree, sourceFd, "", treeFlags)));
  if (!tree.valid()) return false;
  return moveMountFd(tree.get(), targetFd);
}

bool moveMountFd(int mountFd, int targetFd) {
  return syscall(SYS_move_mount, mountFd, "", targetFd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0;
}

std::string procFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string fdPath(int fd) {
  char buf[PATH_MAX];
  ssize_t n = readlink(procFdPath(fd).c_str(), buf, sizeof buf - 1);
  if (n < 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

unsigned long existingMountFlags(const std::string& path, bool withAtime) {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) < 0) return 0;
  return flagsFromStatvfs(st, withAtime);
}

unsigned long existingMountFlags(int fd, bool withAtime) {
  struct statvfs st;
  if (fstatvfs(fd, &st) < 0) return 0;
  return flagsFromStatvfs(st, withAtime);
}

std::string cleanPath(const std::string& path) {
  std::vector<std::string> out;
  for (auto& part : splitComponents(path)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(std::move(part));
  }
  std::string result;
  for (const auto& part : out) result += "/" + part;
  return result.empty() ? "/" : result;
}

std::pair<std::string, std::string> splitParent(const std::string& path) {
  std::string clean = cleanPath(path);
  size_t slash = clean.rfind('/');
  return {slash == 0 ? "/" : clean.substr(0, slash), clean.substr(slash + 1)};
}

}  // namespace nlc
