// OCI hooks the helper runs inside the container's namespaces (createContainer,
// startContainer); the parent runs the others.
#pragma once
#include <string>
#include <vector>

#include "bootstrap.h"

namespace nlc {

// Run each hook in order with the OCI state JSON on its stdin. A non-zero exit, a signal or
// a timeout throws InitError (stage "hooks") naming the hook and carrying its output; so does
// the parent hanging up parentFd (the sync socket, -1 once closed) while a hook runs. A hook
// that fails takes its process group with it; whatever a hook leaves behind is reaped.
// Where runc's init runs them: a hook without "env" gets processEnv (runc's init environment
// is the process's by then), and runs in cwd when it is not empty (else in the helper's).
void runHooks(const std::string& kind, const std::vector<HookPlan>& hooks, const std::string& stateJson, int parentFd,
              const std::vector<std::string>& processEnv, const std::string& cwd);

}  // namespace nlc
