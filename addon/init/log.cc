#include "log.h"

#include <unistd.h>

#include <cerrno>

#include "json.h"

namespace nlc::log {
namespace {

int logFd = -1;

void write(const char* level, const std::string& msg) {
  if (logFd < 0) return;
  // errno is saved because callers log between a failed syscall and fail().
  int saved = errno;
  std::string line = json::serialize(json::Value::object({{"level", level}, {"msg", msg}}));
  line += '\n';
  // One write per line: pipe writes up to PIPE_BUF are atomic, longer ones are still whole
  // lines as this process is the only writer while it runs.
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(logFd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the parent stopped reading: drop the line
    off += static_cast<size_t>(n);
  }
  errno = saved;
}

}  // namespace

void setFd(int fd) { logFd = fd; }
void debug(const std::string& msg) { write("debug", msg); }
void info(const std::string& msg) { write("info", msg); }
void warn(const std::string& msg) { write("warn", msg); }
void error(const std::string& msg) { write("error", msg); }

}  // namespace nlc::log
