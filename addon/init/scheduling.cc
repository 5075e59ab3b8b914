#include "scheduling.h"

#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "error.h"

namespace nlc {
namespace {

// struct sched_attr of linux/sched/types.h, SCHED_ATTR_SIZE_VER0 (no utilization clamps).
struct SchedAttr {
  uint32_t size;
  uint32_t policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime;
  uint64_t deadline;
  uint64_t period;
};
static_assert(sizeof(SchedAttr) == 48);

constexpr int kIoprioWhoProcess = 1;

}  // namespace

void applyScheduling(const ProcessPlan& process) {
  if (process.scheduler) {
    const SchedulerPlan& s = *process.scheduler;
    SchedAttr attr{sizeof(SchedAttr), s.policy, s.flags, s.nice, s.priority, s.runtime, s.deadline, s.period};
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
      fail("scheduler", "sched_setattr", "", "setting scheduling policy " + std::to_string(s.policy) + " (process.scheduler)");
  }
  if (process.memoryPolicy) {
    // A mask of MAX_NUMNODES (1024) bits; maxnode counts one more than the bits used.
    unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {};
    int highest = -1;
    for (int node : process.memoryPolicy->nodes) {
      mask[node / (8 * sizeof(unsigned long))] |= 1UL << (node % (8 * sizeof(unsigned long)));
      if (node > highest) highest = node;
    }
    unsigned long maxnode = highest < 0 ? 0 : static_cast<unsigned long>(highest) + 2;
    if (::syscall(SYS_set_mempolicy, process.memoryPolicy->mode, highest < 0 ? nullptr : mask, maxnode) < 0)
      fail("memory_policy", "set_mempolicy", "", "setting the NUMA memory policy (linux.memoryPolicy)");
  }
  if (process.ioPriority && ::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, *process.ioPriority) < 0)
    fail("ioprio", "ioprio_set", "", "setting I/O priority class " + std::to_string(*process.ioPriority >> 13) + " (process.ioPriority)");
}

void applyPersonality(const ProcessPlan& process) {
  if (process.personality && ::personality(*process.personality) < 0)
    fail("personality", "personality", "", "setting execution domain " + std::to_string(*process.personality) + " (linux.personality)");
}

}  // namespace nlc
