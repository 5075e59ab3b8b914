// The process's user and capabilities: the identity half of finalizeNamespace in init.cc.
#pragma once
#include <string>
#include <vector>

#include "bootstrap.h"

namespace nlc {

// The env as runc's init leaves it: one entry per name (the last value wins), and HOME from
// the container's /etc/passwd entry for uid when unset or empty ("/" without an entry).
// Reads the file, so call it before dropping root.
void prepareEnv(std::vector<std::string>& env, unsigned uid);
// setgroups, setresgid, setresuid (port of runc's setupUser), after handing stdio to the user.
void setupUser(const ProcessPlan& process);

// Drop every capability not listed from the bounding set (needs CAP_SETPCAP, else skipped).
void applyBoundingSet(const CapabilityPlan& caps);
// capset effective/permitted/inheritable, then reset and raise the ambient set.
void applyCapabilities(const CapabilityPlan& caps);
// PR_SET_KEEPCAPS around the uid change.
void setKeepCaps(bool keep);

}  // namespace nlc
