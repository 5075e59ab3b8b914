// The last steps before the user's program runs: working directory, PATH lookup, exec.
#pragma once
#include <string>
#include <vector>

namespace nlc {

// chdir(cwd). Returns false (without failing) on EACCES/EPERM so the caller can retry as the
// container user, like runc's finalizeNamespace.
bool changeDirectory(const std::string& cwd, bool lastTry);
// The cwd must be inside the container's root (CVE-2024-21626): a leaked host directory
// fd used as cwd shows up as "(unreachable)..." in getcwd. Port of runc's verifyCwd.
void verifyCwd();
// Resolve args[0] like Go's exec.LookPath with the process env's PATH. Throws InitError
// (stage "exec") with Go's message: exec: "NAME": executable file not found in $PATH.
std::string lookPath(const std::string& file, const std::vector<std::string>& env);
// umask, mark every fd >= firstPrivateFd close-on-exec, execve. Only returns by throwing.
[[noreturn]] void execProcess(const std::string& path, const std::vector<std::string>& args,
                              const std::vector<std::string>& env, int umaskValue, int firstPrivateFd);

}  // namespace nlc
