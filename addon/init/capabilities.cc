#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "error.h"
#include "fileio.h"
#include "identity.h"
#include "log.h"

namespace nlc {
namespace {

int lastCap() {
  static int cached = -1;
  if (cached >= 0) return cached;
  std::string text;
  const char* path = "/proc/sys/kernel/cap_last_cap";
  if (!readFile(path, text, 64)) fail("capabilities", "open", path, "reading the last capability number");
  int value = std::atoi(text.c_str());
  if (text.empty() || value <= 0 || value > 63) failPlain("capabilities", path, "unexpected content \"" + text + "\"");
  cached = value;
  return cached;
}

// The capabilities the kernel knows, as a bit set; unknown ones are dropped with a warning
// (runc does the same so that a config written for a newer kernel still runs).
uint64_t toMask(const std::vector<int>& caps, const char* set) {
  uint64_t mask = 0;
  for (int c : caps) {
    if (c > lastCap()) {
      log::warn(std::string("ignoring unknown or unavailable capability ") + std::to_string(c) + " in the " + set + " set");
      continue;
    }
    mask |= uint64_t{1} << c;
  }
  return mask;
}

struct CapState {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
};

CapState capget() {
  CapState s;
  if (::syscall(SYS_capget, &s.header, s.data) < 0) fail("capabilities", "capget", "", "reading the current capabilities");
  return s;
}

}  // namespace

void applyBoundingSet(const CapabilityPlan& caps) {
  uint64_t keep = toMask(caps.bounding, "bounding");
  // Without CAP_SETPCAP the bounding set cannot shrink; runc (via gocapability) skips it too.
  CapState current = capget();
  if (!(current.data[0].effective & (1u << CAP_SETPCAP))) {
    log::debug("no CAP_SETPCAP: leaving the bounding set alone");
    return;
  }
  for (int c = 0; c <= lastCap(); ++c) {
    if (keep & (uint64_t{1} << c)) continue;
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
      if (errno == EINVAL) continue;  // not supported by this kernel
      fail("capabilities", "prctl", "", "dropping capability " + std::to_string(c) + " from the bounding set");
    }
  }
}

void applyCapabilities(const CapabilityPlan& caps) {
  uint64_t effective = toMask(caps.effective, "effective");
  uint64_t permitted = toMask(caps.permitted, "permitted");
  uint64_t inheritable = toMask(caps.inheritable, "inheritable");
  CapState s;
  s.data[0].effective = static_cast<uint32_t>(effective);
  s.data[1].effective = static_cast<uint32_t>(effective >> 32);
  s.data[0].permitted = static_cast<uint32_t>(permitted);
  s.data[1].permitted = static_cast<uint32_t>(permitted >> 32);
  s.data[0].inheritable = static_cast<uint32_t>(inheritable);
  s.data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
  if (::syscall(SYS_capset, &s.header, s.data) < 0) fail("capabilities", "capset", "", "setting the effective, permitted and inheritable capabilities");

  // Ambient failures are warnings, as in runc's ApplyCaps (a cap missing from permitted or
  // inheritable cannot be ambient, and old kernels have no ambient set).
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
    if (errno != EINVAL) log::warn(std::string("cannot clear the ambient capabilities: ") + std::strerror(errno));
    return;
  }
  uint64_t ambient = toMask(caps.ambient, "ambient");
  // One line for all failures: each line is a wake-up of the parent.
  std::string failed;
  for (int c = 0; c <= lastCap(); ++c) {
    if (!(ambient & (uint64_t{1} << c))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      failed += (failed.empty() ? "" : ", ") + std::to_string(c) + " (" + std::strerror(errno) + ")";
  }
  if (!failed.empty()) log::warn("cannot raise ambient capabilities (not in permitted and inheritable?): " + failed);
}

void setKeepCaps(bool keep) {
  if (::prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0)
    fail("capabilities", "prctl", "", keep ? "setting PR_SET_KEEPCAPS" : "clearing PR_SET_KEEPCAPS");
}

}  // namespace nlc
