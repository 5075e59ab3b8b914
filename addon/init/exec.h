// The last steps before the user's program runs: working directory, PATH lookup, exec.
#pragma once
#include <string>
#include <vector>

namespace nlc {

// chdir(cwd). Returns false (without failing) on EACCES/EPERM so the caller can retry as the
// container user, as runc does.
bool changeDirectory(const std::string& cwd, bool lastTry);
// The cwd must be inside the container's root (CVE-2024-21626): a leaked host directory
// fd used as cwd shows up as "(unreachable)..." in getcwd. Port of runc's verifyCwd.
void verifyCwd();
// Resolve args[0] like Go's exec.LookPath with the process env's PATH. Throws InitError
// (stage "exec") with Go's message: exec: "NAME": executable file not found in $PATH.
std::string lookPath(const std::string& file, const std::vector<std::string>& env);
// Mark every fd >= firstPrivateFd close-on-exec, reset the signal state the helper changed,
// execve. Only returns by throwing.
[[noreturn]] void execProcess(const std::string& path, const std::vector<std::string>& args,
                              const std::vector<std::string>& env, int firstPrivateFd);

// close_range(first, ~0, CLOSE_RANGE_CLOEXEC): nothing of the helper's (sync socket, log
// pipe, pidfds, fifo) may survive an execve (CVE-2024-21626). false with errno on failure.
bool markPrivateFdsCloexec(int first);

// An argv or envp for execve: owns its strings and a NULL-terminated array of pointers into
// them. Neither copied nor moved, as a move could relocate short strings' characters.
class CStrings {
 public:
  explicit CStrings(std::vector<std::string> strings);
  CStrings(const CStrings&) = delete;
  CStrings& operator=(const CStrings&) = delete;
  char* const* data() const { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

}  // namespace nlc
