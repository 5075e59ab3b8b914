// nlc-init: the container init helper (our `runc init` + nsexec). argv[1] is the sync
// socket's fd number; everything else arrives in the bootstrap message (docs/protocol.md).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "bootstrap.h"
#include "error.h"
#include "init.h"
#include "log.h"
#include "sync.h"

namespace {

using nlc::InitError;

// Keep our own descriptors out of anything we start before the final close_range (hooks).
void setCloexec(int fd) {
  if (fd < 0) return;
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// Report a failure the way the protocol says: procError while the sync socket is open, and
// always a log line (after the socket is closed the log is the only channel left).
[[noreturn]] void reportAndExit(nlc::SyncSocket& sync, const InitError& e) {
  std::string text = e.stage + ": " + e.message;
  if (!e.path.empty() && e.message.find(e.path) == std::string::npos) text += " (" + e.path + ")";
  if (!e.syscall.empty()) text += " (" + e.syscall + (e.err ? std::string(": ") + std::strerror(e.err) : "") + ")";
  nlc::log::error(text);
  nlc::json::Value report = nlc::json::Value::object({{"type", "procError"},
                                                       {"stage", e.stage},
                                                       {"syscall", e.syscall},
                                                       {"errno", e.err},
                                                       {"path", e.path},
                                                       {"message", e.message}});
  if (sync.open()) {
    try {
      sync.send(e.stage, report);
    } catch (...) {
      // The parent is gone; the log line and our exit status are all that is left.
    }
  } else {
    nlc::reportOnExecFifo(nlc::json::serialize(report));
  }
  nlc::exitNow(1);
}

int parseFd(const char* text) {
  if (!text || !*text) return -1;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno || *end || v < 0 || v > 1 << 20) return -1;
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  int syncFd = argc == 2 ? parseFd(argv[1]) : -1;
  if (syncFd < 0 || ::fcntl(syncFd, F_GETFD) < 0) {
    static const char usage[] = "nlc-init: usage: nlc-init <sync socket fd> (started by node-libcontainer only)\n";
    (void)!::write(2, usage, sizeof usage - 1);
    return 2;
  }
  // A parent that went away must surface as EPIPE on the socket or log pipe, not kill us
  // before we could report. Reset to the default before any exec.
  ::signal(SIGPIPE, SIG_IGN);
  setCloexec(syncFd);
  nlc::SyncSocket sync(syncFd);

  try {
    nlc::hardenHelper();
    nlc::SyncMessage message = sync.expect("bootstrap", "bootstrap");
    nlc::Bootstrap plan = nlc::parseBootstrap(message.body);
    setCloexec(plan.logFd);
    setCloexec(plan.joinPidfd);
    nlc::log::setFd(plan.logFd);
    nlc::log::setDebug(plan.logDebug);
    nlc::log::debug(std::string("nlc-init: ") + (plan.mode == nlc::Mode::Init ? "init" : "exec") + " mode");
    if (plan.mode == nlc::Mode::Init) nlc::runInit(plan, sync);
    nlc::runExec(plan, sync);
  } catch (const InitError& e) {
    reportAndExit(sync, e);
  } catch (const nlc::ParentAbort& abort) {
    nlc::log::debug("the parent failed (" + abort.message + "): exiting");
    nlc::exitNow(1);
  } catch (const std::exception& e) {
    reportAndExit(sync, InitError{nlc::currentStage, "", 0, "", std::string("internal error: ") + e.what()});
  }
}
