#include "fileio.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "fd.h"

namespace nlc {

bool readFile(const char* path, std::string& out, size_t maxBytes) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > maxBytes) {
      errno = EFBIG;
      return false;
    }
  }
}

bool writeFile(const char* path, const std::string& text) {
  UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  ssize_t n;
  do n = ::write(fd.get(), text.data(), text.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  if (static_cast<size_t>(n) != text.size()) {
    errno = EIO;
    return false;
  }
  return true;
}

bool writeAll(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace nlc
