#include "log.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "fileio.h"
#include "json.h"

namespace nlc::log {
namespace {

int logFd = -1;
bool debugOn = true;

void write(const char* level, const std::string& msg) {
  if (logFd < 0) return;
  // errno is saved because callers log between a failed syscall and fail().
  int saved = errno;
  // "t": CLOCK_MONOTONIC in ns, the clock of Node's process.hrtime, so the parent can line
  // up the helper's stages with its own spans (bench/lib/profile.js).
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long t = static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
  std::string line = json::serialize(json::Value::object({{"level", level}, {"t", t}, {"msg", msg}}));
  line += '\n';
  // Pipe writes up to PIPE_BUF are atomic, longer ones are still whole lines as this process
  // is the only writer while it runs. A parent that stopped reading loses the line (EPIPE).
  (void)writeAll(logFd, line);
  errno = saved;
}

}  // namespace

void setFd(int fd) { logFd = fd; }
void setDebug(bool on) { debugOn = on; }
// Skipped when nobody reads them (the parent's debug output is off): each line is a write
// here and a wake-up of the parent's event loop.
void debug(const std::string& msg) {
  if (debugOn) write("debug", msg);
}
void info(const std::string& msg) { write("info", msg); }
void warn(const std::string& msg) { write("warn", msg); }
void error(const std::string& msg) { write("error", msg); }

}  // namespace nlc::log
