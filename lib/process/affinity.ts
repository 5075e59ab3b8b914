/**
 * CPU affinity of container processes: port of tryResetCPUAffinity, startWithCPUAffinity
 * and setFinalCPUAffinity (runc 1.3 process_linux.go), and of the 1.2-rc isolated-CPU
 * transition (isolatedCPUAffinityTransition / getEligibleCPU). Pure, so unit-testable; the
 * caller does the sched_setaffinity calls.
 */
import * as fs from 'node:fs';
import { ConfigError, outOfRange } from '../errors';

/** The annotation that asks for the nohz_full transition (runc 1.2-rc). */
export const ISOLATED_TRANSITION_ANNOTATION = 'org.opencontainers.runc.exec.isolated-cpu-affinity-transition';

/**
 * Every CPU number a cpu_set can name: sched_setaffinity clamps this to the CPUs that
 * exist and masks out those not in the task's cpuset, so it resets to "all the cpuset
 * allows" without parsing cpuset.cpus.effective (runc's tryResetCPUAffinity trick).
 */
export const ALL_CPUS: readonly number[] = Array.from({ length: 1024 }, (_, i) => i);

/** "0-3,7" -> [0, 1, 2, 3, 7]. Throws RangeError on garbage. */
export function parseCpuList(list: string): number[] {
  const out = new Set<number>();
  const text = list.trim();
  if (text === '') return [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw outOfRange(`invalid CPU list ${JSON.stringify(list)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= 8192) throw outOfRange(`invalid CPU range ${JSON.stringify(part)} in ${JSON.stringify(list)}`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

export interface ExecCpuAffinity {
  initial?: string;
  final?: string;
}

export interface AffinityPlan {
  /** CPUs for the clone itself (the child inherits them), or null. */
  initial: number[] | null;
  /** After the process joined its cgroup: CPUs to set, 'reset' (all of the cpuset), or null (leave). */
  final: number[] | 'reset' | null;
}

/**
 * What to do for a process, from `process.execCPUAffinity` (field named in errors), the
 * container's cpuset and annotations (the isolated-CPU transition applies to exec'd
 * processes joining a cpuset), and the host's nohz_full list.
 */
export function planAffinity(
  affinity: ExecCpuAffinity | undefined,
  field: string,
  transition?: { cpusetCpus: string; annotations: Record<string, string>; isolated: string },
): AffinityPlan {
  const parse = (v: string | undefined, name: string): number[] | null => {
    if (v === undefined) return null;
    try {
      const cpus = parseCpuList(v);
      if (cpus.length === 0) throw outOfRange('empty CPU list');
      return cpus;
    } catch (err) {
      throw new ConfigError(`${field}.${name}`, (err as Error).message);
    }
  };
  const initial = parse(affinity?.initial, 'initial');
  const final = parse(affinity?.final, 'final');
  if (initial || final) return { initial, final };
  if (transition) {
    const t = isolatedTransition(transition.cpusetCpus, transition.annotations, transition.isolated);
    if (t.cpu >= 0) return { initial: [t.cpu], final: t.definitive ? null : 'reset' };
  }
  // Neither configured: never let the process inherit our own (maybe narrow) affinity.
  return { initial: null, final: 'reset' };
}

/** Port of isolatedCPUAffinityTransition: {cpu: -1} when no transition applies. */
export function isolatedTransition(
  cpusetCpus: string,
  annotations: Record<string, string>,
  isolated: string,
): { cpu: number; definitive: boolean } {
  const value = annotations[ISOLATED_TRANSITION_ANNOTATION];
  if (value === undefined || value === '') return { cpu: -1, definitive: false };
  if (value !== 'temporary' && value !== 'definitive') {
    throw new ConfigError(`annotations.${ISOLATED_TRANSITION_ANNOTATION}`, `unknown transition value ${JSON.stringify(value)} (temporary or definitive)`);
  }
  const cpu = eligibleCpu(cpusetCpus, isolated);
  return { cpu, definitive: cpu >= 0 && value === 'definitive' };
}

/**
 * Port of getEligibleCPU: the first CPU of the cpuset when all of it is isolated; the first
 * housekeeping CPU when mixed; -1 when no cpuset CPU is isolated (or either list is empty).
 */
export function eligibleCpu(cpusetList: string, isolatedList: string): number {
  const trimmed = isolatedList.trim();
  if (!cpusetList.trim() || !trimmed || trimmed === '(null)') return -1;
  const cpuset = parseCpuList(cpusetList);
  const isolated = new Set(parseCpuList(trimmed));
  if (!cpuset.some((c) => isolated.has(c))) return -1;
  const housekeeping = cpuset.find((c) => !isolated.has(c));
  return housekeeping ?? cpuset[0];
}

/** nohz_full from the kernel command line, else from sysfs (runc's order); '' when none. */
export function hostIsolatedCpus(read: (p: string) => string = (p) => fs.readFileSync(p, 'utf8')): string {
  try {
    const m = /(?:^|\s)nohz_full=(\S+)/.exec(read('/proc/cmdline'));
    if (m) return m[1];
  } catch {
    // not readable: fall through to sysfs
  }
  try {
    const v = read('/sys/devices/system/cpu/nohz_full').trim();
    return v === '(null)' ? '' : v;
  } catch {
    return '';
  }
}
