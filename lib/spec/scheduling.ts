/**
 * process.scheduler, process.ioPriority and linux.personality in the numbers the init helper
 * passes to sched_setattr(2), ioprio_set(2) and personality(2) (ports of runc's
 * setupScheduler, setupIOPriority and the personality step of its init). The helper sets the
 * first two before the process drops its privileges (a real-time class needs them), the last
 * just before the exec, as runc.
 */
import type { LinuxIOPriority, LinuxPersonality, Scheduler } from '../../types/oci';
import { ConfigError } from '../errors';

/** struct sched_attr's fields (linux/sched/types.h), times in nanoseconds. */
export interface SchedulerPlan {
  policy: number;
  flags: number;
  nice: number;
  priority: number;
  runtime: number;
  deadline: number;
  period: number;
}

const POLICIES: Record<Scheduler['policy'], number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4, // reserved, not in mainline kernels: sched_setattr refuses it (EINVAL)
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

const SCHED_FLAGS: Record<NonNullable<Scheduler['flags']>[number], number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

const IOPRIO_CLASSES: Record<LinuxIOPriority['class'], number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
const IOPRIO_CLASS_SHIFT = 13;

const PER_LINUX = 0x0000;
const PER_LINUX32 = 0x0008;

function nanoseconds(value: number | bigint | undefined, field: string): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new ConfigError(field, `${value} ns is beyond what this runtime passes on (2^53 - 1)`);
  return n;
}

export function convertScheduler(s: Scheduler | undefined, field: string): SchedulerPlan | null {
  if (!s) return null;
  return {
    policy: POLICIES[s.policy],
    flags: (s.flags ?? []).reduce((all, f) => all | SCHED_FLAGS[f], 0),
    nice: s.nice ?? 0,
    priority: s.priority ?? 0,
    runtime: nanoseconds(s.runtime, `${field}.runtime`),
    deadline: nanoseconds(s.deadline, `${field}.deadline`),
    period: nanoseconds(s.period, `${field}.period`),
  };
}

/** ioprio_set's value: the class in the top bits, the level (0-7; 0 when not given, as runc) below. */
export function convertIoPriority(p: LinuxIOPriority | undefined): number | null {
  if (!p) return null;
  return (IOPRIO_CLASSES[p.class] << IOPRIO_CLASS_SHIFT) | (p.priority ?? 0);
}

export function convertPersonality(p: LinuxPersonality | undefined, field: string): number | null {
  if (!p) return null;
  if ((p.flags ?? []).length > 0) throw new ConfigError(`${field}.flags`, 'no personality flags are supported (the runtime spec defines none yet)');
  return p.domain === 'LINUX32' ? PER_LINUX32 : PER_LINUX;
}
