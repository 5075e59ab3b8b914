#include "exec.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "error.h"
#include "log.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace nlc {
namespace {

// strconv.Quote, enough for file names: quotes, backslashes and control bytes escaped.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Go's findExecutable (lp_unix.go): 0 when file is an executable regular file for the
// current (already switched) user, else the errno.
int findExecutable(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) < 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (::faccessat(AT_FDCWD, file.c_str(), X_OK, AT_EACCESS) == 0) return 0;
  if (errno != ENOSYS && errno != EPERM) return errno;
  return (st.st_mode & 0111) ? 0 : EACCES;
}

std::string envValue(const std::vector<std::string>& env, const std::string& name) {
  std::string prefix = name + "=", value;
  // The last one wins, as when runc's init puts the env in place with os.Setenv.
  for (const auto& e : env)
    if (e.rfind(prefix, 0) == 0) value = e.substr(prefix.size());
  return value;
}

}  // namespace

bool changeDirectory(const std::string& cwd, bool lastTry) {
  if (::chdir(cwd.c_str()) == 0) return true;
  if (!lastTry && (errno == EACCES || errno == EPERM)) return false;
  fail("cwd", "chdir", cwd, "changing to the working directory " + cwd);
}

void verifyCwd() {
  // The raw syscall, as glibc's getcwd hides "(unreachable)" behind ENOENT.
  char buf[PATH_MAX + 1];
  long n = ::syscall(SYS_getcwd, buf, sizeof buf);
  if (n < 0) {
    if (errno == ENOENT)
      failPlain("cwd", "", "the working directory is outside of the container's root: possible container breakout detected");
    fail("cwd", "getcwd", "", "verifying that the working directory is inside the container");
  }
  if (buf[0] != '/' || std::strncmp(buf, "(unreachable)", 13) == 0)
    failPlain("cwd", buf, "the working directory is outside of the container's root: possible container breakout detected");
}

std::string lookPath(const std::string& file, const std::vector<std::string>& env) {
  if (file.find('/') != std::string::npos) {
    int err = findExecutable(file);
    if (err == 0) return file;
    errno = err;
    throw InitError{"exec", "stat", err, file, "exec: " + quote(file) + ": " + std::strerror(err)};
  }
  if (!file.empty()) {
    std::string path = envValue(env, "PATH");
    size_t start = 0;
    while (!path.empty() && start <= path.size()) {
      size_t colon = path.find(':', start);
      std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (dir.empty()) dir = ".";  // shell semantics; runc accepts Go's ErrDot result
      std::string candidate = dir + "/" + file;
      if (findExecutable(candidate) == 0) return candidate;
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  throw InitError{"exec", "", ENOENT, file, "exec: " + quote(file) + ": executable file not found in $PATH"};
}

CStrings::CStrings(std::vector<std::string> strings) : strings_(std::move(strings)) {
  for (auto& s : strings_) pointers_.push_back(s.data());
  pointers_.push_back(nullptr);
}

bool markPrivateFdsCloexec(int first) {
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0u, CLOSE_RANGE_CLOEXEC) == 0) return true;
  // Refused (a seccomp profile older than close_range, whose default refuses what it does not
  // name: the filter is loaded by now) or not there (before 5.11): one fd at a time, from the
  // list in /proc/self/fd, with the calls runc's UnsafeCloseFrom makes (openat, getdents64)
  // and fcntl.
  int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  bool ok = true;
  alignas(8) char buf[4096];
  for (;;) {
    long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n < 0) ok = false;
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
      unsigned short reclen;
      std::memcpy(&reclen, buf + off + 16, sizeof reclen);
      const char* name = buf + off + 19;
      off += reclen;
      char* end = nullptr;
      long fd = std::strtol(name, &end, 10);
      if (end == name || *end != '\0' || fd < first || fd == dir || fd > INT_MAX) continue;
      if (::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) ok = false;
    }
  }
  ::close(dir);
  return ok;
}

void execProcess(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env,
                 int firstPrivateFd) {
  CStrings argv(args), envp(env);
  if (!markPrivateFdsCloexec(firstPrivateFd)) fail("exec", "close_range", "", "marking the helper's descriptors close-on-exec");
  // The helper ignores SIGPIPE for its own writes, and an ignored disposition survives
  // execve; the addon cleared the mask before exec'ing us, and it is cleared again here so
  // that nothing the helper might block reaches the program.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::execve(path.c_str(), argv.data(), envp.data());
  int err = errno;
  ::signal(SIGPIPE, SIG_IGN);
  errno = err;
  fail("exec", "execve", path, "executing " + path);
}

}  // namespace nlc
