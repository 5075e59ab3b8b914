/**
 * The cgroup manager interface (port of runc's cgroups.Manager), implemented by the v1
 * (`fs`) and v2 (`fs2`) managers; hybrid hosts use the v1 manager plus the v2 unified
 * path for process placement. Every controller file takes its cgroup directory as a
 * parameter, so unit tests run against a temp dir.
 */
import type { LinuxResources } from '../../types/oci';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export type FreezerState = 'thawed' | 'frozen' | 'freezing';

export interface MemoryStats {
  usage: number;
  maxUsage: number;
  limit: number | bigint;
  swapUsage: number;
  cache: number;
  rss: number;
  oomKills: number;
  failcnt: number;
  /** memory.stat as the kernel wrote it: a bigint where a value is beyond Number.MAX_SAFE_INTEGER (v1's unlimited hierarchical_memsw_limit). */
  raw: Record<string, number | bigint>;
}

export interface CpuStats {
  /** Total CPU time in nanoseconds. */
  usageTotal: number;
  usageUser: number;
  usageKernel: number;
  perCpu: number[];
  throttledPeriods: number;
  throttledTime: number;
  periods: number;
}

export interface PidsStats {
  current: number;
  limit: number | null;
}

export interface IoEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface IoStats {
  serviceBytes: IoEntry[];
  serviced: IoEntry[];
}

export interface HugetlbStats {
  [pageSize: string]: { usage: number; maxUsage: number; failcnt: number };
}

/**
 * `JSON.stringify(stats)` works: a bigint is written as the nearest number (a non-enumerable
 * toJSON), since bigints are only ever the kernel's values for "no limit".
 */
export interface CgroupStats {
  memory: MemoryStats;
  cpu: CpuStats;
  pids: PidsStats;
  io: IoStats;
  hugetlb: HugetlbStats;
}

export interface SetOptions {
  fresh?: boolean;
}

export interface CgroupManager {
  readonly mode: CgroupMode;
  /** Controller name -> absolute cgroup directory ('' = the unified v2 directory). */
  readonly paths: Readonly<Record<string, string>>;
  /**
   * Create the directories (idempotent). `which` limits it to the v2 directory (needed before
   * a CLONE_INTO_CGROUP) or to the v1 ones (which the helper joins later, so they can be
   * made while it is being cloned).
   */
  create(which?: 'all' | 'unified' | 'v1'): void;
  /** create(), with the directories made off the main thread where the manager can. */
  createAsync(which?: 'all' | 'unified' | 'v1'): Promise<void>;
  /** Create, then move pid into every hierarchy (runc's Apply). */
  apply(pid: number): void;
  /**
   * The v2 directory for CLONE_INTO_CGROUP (after create()), or null on v1-only setups where
   * apply(pid) must be called before the child is let go.
   */
  unifiedPath(): string | null;
  /**
   * Write resources; on failure restore what was there before and rethrow (runc's Set).
   * `fresh`: the first set of a cgroup this container just made, which its caller destroys
   * on failure, so the previous values are not read for a restore nobody needs.
   */
  set(resources: LinuxResources, opts?: SetOptions): void;
  /** Pids in the container's cgroup (cgroup.procs), or in it and all sub-cgroups. */
  getPids(recursive?: boolean): number[];
  freeze(state: 'frozen' | 'thawed'): void;
  freezerState(): FreezerState;
  stats(): CgroupStats;
  /** memory.oom_control oom_kill (v1) or memory.events oom_kill (v2); 0 when unknown. */
  oomKillCount(): number;
  /** v2 cgroup.kill when available; returns false when not supported (caller signals each pid). */
  kill(): boolean;
  /**
   * Remove the directories, retrying while they drain (EBUSY). `once`: a single rmdir attempt per directory, failing at once on
   * EBUSY (the caller then kills what is inside and destroys again) instead of retrying for
   * seconds while exiting tasks drain.
   */
  destroy(opts?: { once?: boolean }): Promise<void>;
  exists(): boolean;
  /** The directory an exec'd process joins (subCgroupPath inside the container's cgroup). */
  pathsForExec(subCgroupPath?: string): Record<string, string>;
}
