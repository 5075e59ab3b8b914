// Path resolution inside the container's rootfs that never leaves it, whatever symlinks
// the image (or a racing process sharing its mounts) puts in the way. Everything works on
// O_PATH descriptors; a mount is then made on /proc/self/fd/N of the resolved target so a
// symlink swapped in after the check cannot redirect it.
#pragma once
#include <sys/types.h>

#include <string>
#include <utility>

#include "fd.h"

namespace nlc {

// openat2(dirFd, path, {flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extraResolve}):
// absolute paths and ".." are clamped at dirFd, symlinks are followed inside it.
// Returns an invalid fd with errno set on failure.
UniqueFd openInRoot(int rootFd, const std::string& path, int flags, unsigned long long extraResolve = 0);

enum class TargetKind { Directory, File };

// Port of securejoin's MkdirAllInRoot as runc uses it: resolve `path` inside rootFd and
// create what is missing, one component at a time on the resolved parent's fd (directories
// 0755; with TargetKind::File the last component is an empty 0644 file). Dangling symlinks
// are followed inside the rootfs, as securejoin does. Returns an O_PATH fd of the target.
// Throws InitError with `stage` on failure.
UniqueFd openOrCreateInRoot(int rootFd, const std::string& path, TargetKind kind, const char* stage);

// Bind-mount the object behind sourceFd onto the object behind targetFd (open_tree with
// OPEN_TREE_CLONE, then move_mount; AT_RECURSIVE when recursive). Neither side is looked up
// by name again, so neither can be swapped for a symlink in between, and no /proc is needed.
// false with errno set on failure.
bool bindMountFd(int sourceFd, int targetFd, bool recursive);

// Attach a detached mount (from open_tree or fsmount) onto the object behind targetFd.
// false with errno set on failure.
bool moveMountFd(int mountFd, int targetFd);

// "/proc/self/fd/N": a name for the exact object behind fd, usable as a mount target or source.
std::string procFdPath(int fd);

// The path the kernel reports for fd (readlink of /proc/self/fd/N), "" on failure.
std::string fdPath(int fd);

// The per-mount flags (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC and, when wanted, the
// atime flags) that the mount at path or fd already has: a remount inside a user namespace
// must keep the ones its creator locked or it fails with EPERM. 0 when it cannot be read.
unsigned long existingMountFlags(const std::string& path, bool withAtime);
unsigned long existingMountFlags(int fd, bool withAtime);

// Lexically clean an absolute container path ("/a//b/../c/" -> "/a/c"); ".." stops at "/".
std::string cleanPath(const std::string& path);
// The cleaned path's parent and last component: ("/a/b", "c"); ("/", "") for "/".
std::pair<std::string, std::string> splitParent(const std::string& path);

// The non-empty pieces of s between sep characters ("a//b/" -> "a", "b"), into a vector or a
// deque: path components (sep '/'), or the fields and options of a procfs line.
template <typename Pieces>
Pieces splitNonEmpty(const std::string& s, char sep) {
  Pieces out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.emplace_back(s, start, end - start);
    start = end + 1;
  }
  return out;
}

}  // namespace nlc
