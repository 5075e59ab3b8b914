#include "seccomp.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "error.h"
#include "fd.h"
#include "json.h"
#include "log.h"

namespace nlc {

void loadSeccomp(const SeccompPlan& plan, SyncSocket& sync) {
  // A copy with sock_filter's alignment, whatever the string's buffer has.
  std::vector<sock_filter> program(plan.program.size() / sizeof(sock_filter));
  std::memcpy(program.data(), plan.program.data(), program.size() * sizeof(sock_filter));
  sock_fprog prog{static_cast<unsigned short>(program.size()), program.data()};
  unsigned flags = plan.flags | (plan.notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc >= 0 && plan.notify) {
    UniqueFd listener(static_cast<int>(rc));
    sync.send("seccomp", json::Value::object({{"type", "procSeccomp"}, {"fd", json::Value(listener.get())}}));
    sync.expect("seccomp", "procSeccompDone");
    log::debug("seccomp: filter loaded, its listener passed on");
    return;
  }
  if (rc >= 0) {
    log::debug("seccomp: filter loaded");
    return;
  }
  // Kernels before 3.17 have no seccomp(2); prctl takes no flags.
  if (errno == ENOSYS && plan.flags == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0) return;
  fail("seccomp", "seccomp", "", "loading the seccomp filter (" + std::to_string(program.size()) + " instructions, flags " +
                                     std::to_string(plan.flags) + ")");
}

}  // namespace nlc
