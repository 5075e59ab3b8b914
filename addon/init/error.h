// Errors inside the init helper: every failure keeps what was being done, the syscall,
// errno and the path, and travels to the parent as a procError message.
#pragma once
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace nlc {

struct InitError {
  std::string stage;    // bootstrap, namespaces, mounts, devices, pivot_root, ... (docs/protocol.md)
  std::string syscall;  // "mount", "openat2", ... or "" for logic errors
  int err = 0;          // errno, 0 for logic errors
  std::string path;     // the path involved, may be empty
  std::string message;  // what was being done
};

// Throw an InitError capturing the current errno.
[[noreturn]] inline void fail(const std::string& stage, const std::string& syscall, const std::string& path,
                              const std::string& message) {
  throw InitError{stage, syscall, errno, path, message};
}

// Throw an InitError without errno (a logic or validation error).
[[noreturn]] inline void failPlain(const std::string& stage, const std::string& path, const std::string& message) {
  throw InitError{stage, "", 0, path, message};
}

// The helper's (and its forks') only way out. libc's _exit retries exit(2) forever when
// exit_group fails, and the container's seccomp filter, loaded before our last steps, may
// refuse both: the process would spin at full CPU with its parent waiting. A fault cannot be
// refused: the kernel then kills us with SIGILL whatever the signal mask and handlers.
[[noreturn]] inline void exitNow(int code) {
  ::syscall(SYS_exit_group, code);
  __builtin_trap();
}

}  // namespace nlc
