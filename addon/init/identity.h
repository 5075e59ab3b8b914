// The process's user and capabilities (the identity half of runc's finalizeNamespace).
#pragma once
#include <string>
#include <vector>

#include "bootstrap.h"

namespace nlc {

// Set HOME from the container's /etc/passwd entry for uid when the env has none (runc's
// setupUser: "/" when there is no entry). Reads the file, so call it before dropping root.
void addHomeToEnv(std::vector<std::string>& env, unsigned uid);
// setgroups, setresgid, setresuid (port of runc's setupUser), after handing stdio to the user.
void setupUser(const ProcessPlan& process);

// Drop every capability not listed from the bounding set (needs CAP_SETPCAP, else skipped).
void applyBoundingSet(const CapabilityPlan& caps);
// capset effective/permitted/inheritable, then reset and raise the ambient set.
void applyCapabilities(const CapabilityPlan& caps);
// PR_SET_KEEPCAPS around the uid change.
void setKeepCaps(bool keep);

}  // namespace nlc
