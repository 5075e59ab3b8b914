/**
 * process.scheduler, process.ioPriority, linux.memoryPolicy and linux.personality in the
 * numbers the init helper passes to sched_setattr(2), ioprio_set(2), set_mempolicy(2) and
 * personality(2) (ports of runc's setupScheduler, setupIOPriority, setupMemoryPolicy and the
 * personality step of its init). The helper sets the first three before the process drops
 * its privileges (a real-time class needs them), the last just before the exec, as runc.
 */
import type { LinuxIOPriority, LinuxMemoryPolicy, LinuxPersonality, Scheduler } from '../../types/oci';
import { parseCpuList } from '../process/affinity';
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

/** set_mempolicy's mode (with its flags) and the NUMA nodes of its mask. */
export interface MemoryPolicyPlan {
  mode: number;
  nodes: number[];
}

const MPOL_MODES: Record<NonNullable<LinuxMemoryPolicy['mode']>, number> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};

const MPOL_FLAGS: Record<NonNullable<LinuxMemoryPolicy['flags']>[number], number> = {
  MPOL_F_STATIC_NODES: 1 << 15,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_NUMA_BALANCING: 1 << 13,
};

/** The kernel's node mask is at most MAX_NUMNODES (1024 on x86_64) bits. */
const MAX_NODE = 1023;

/** The rules set_mempolicy(2) applies, checked here so the error names the field. */
export function convertMemoryPolicy(p: LinuxMemoryPolicy | undefined, field: string): MemoryPolicyPlan | null {
  if (!p) return null;
  if (!p.mode) throw new ConfigError(`${field}.mode`, 'is required');
  let nodes: number[];
  try {
    nodes = parseCpuList(p.nodes ?? '');
  } catch {
    throw new ConfigError(`${field}.nodes`, `must be a node list like "0-1,3", got ${JSON.stringify(p.nodes)}`);
  }
  if (nodes.some((n) => n > MAX_NODE)) throw new ConfigError(`${field}.nodes`, `node numbers go up to ${MAX_NODE}`);
  const flags = p.flags ?? [];
  if (p.mode === 'MPOL_DEFAULT' || p.mode === 'MPOL_LOCAL') {
    if (nodes.length > 0) throw new ConfigError(`${field}.nodes`, `must be empty with ${p.mode}`);
    if (flags.length > 0) throw new ConfigError(`${field}.flags`, `must be empty with ${p.mode}`);
  } else if (p.mode !== 'MPOL_PREFERRED' && nodes.length === 0) {
    throw new ConfigError(`${field}.nodes`, `must name at least one node with ${p.mode}`);
  }
  if (flags.includes('MPOL_F_STATIC_NODES') && flags.includes('MPOL_F_RELATIVE_NODES')) {
    throw new ConfigError(`${field}.flags`, 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other');
  }
  if (flags.includes('MPOL_F_NUMA_BALANCING') && p.mode !== 'MPOL_BIND' && p.mode !== 'MPOL_PREFERRED_MANY') {
    throw new ConfigError(`${field}.flags`, 'MPOL_F_NUMA_BALANCING only goes with MPOL_BIND or MPOL_PREFERRED_MANY');
  }
  return { mode: flags.reduce((m, f) => m | MPOL_FLAGS[f], MPOL_MODES[p.mode]), nodes };
}
