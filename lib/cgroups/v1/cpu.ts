/** v1 cpu controller (port of runc's fs.CpuGroup): shares, CFS quota/period/burst, idle, realtime. */
import type { LinuxResources } from '../../../types/oci';
import { CgroupError, errnoCode } from '../errors';
import { intString, readCount, readKeyValues, toBig } from '../file';
import type { CpuStats } from '../types';
import { CgroupWriter } from '../writer';

const nonZero = (v: number | bigint | undefined): v is number | bigint => v !== undefined && toBig(v) !== 0n;

/**
 * Realtime period and runtime depend on each other: a period the kernel rejects (EINVAL)
 * is retried after the runtime is written. Also called before a pid is moved in, since a
 * SCHED_RR task cannot join a cgroup without RT bandwidth.
 */
export function setRtSched(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  const c = resources.cpu;
  if (!c) return;
  let pendingPeriod: string | undefined;
  if (nonZero(c.realtimePeriod)) {
    const period = intString(c.realtimePeriod);
    try {
      w.write(dir, 'cpu.rt_period_us', period);
    } catch (err) {
      if (errnoCode(err) !== 'EINVAL' || !nonZero(c.realtimeRuntime)) throw err;
      pendingPeriod = period;
    }
  }
  if (nonZero(c.realtimeRuntime)) {
    w.write(dir, 'cpu.rt_runtime_us', intString(c.realtimeRuntime));
    if (pendingPeriod !== undefined) w.write(dir, 'cpu.rt_period_us', pendingPeriod);
  }
}

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  const c = resources.cpu;
  if (!c) return;
  if (nonZero(c.shares)) {
    const shares = toBig(c.shares);
    w.write(dir, 'cpu.shares', shares.toString());
    // The kernel clamps shares silently; read back to report it.
    const got = BigInt(readCount(dir, 'cpu.shares'));
    if (shares > got) throw new CgroupError(`${dir}/cpu.shares`, `the maximum allowed cpu-shares is ${got}`);
    if (shares < got) throw new CgroupError(`${dir}/cpu.shares`, `the minimum allowed cpu-shares is ${got}`);
  }
  const hasQuota = nonZero(c.quota);
  // A smaller period or a larger burst can be refused until the new quota is in: retry after it.
  let pendingPeriod: string | undefined;
  if (nonZero(c.period)) {
    const period = intString(c.period);
    try {
      w.write(dir, 'cpu.cfs_period_us', period);
    } catch (err) {
      if (errnoCode(err) !== 'EINVAL' || !hasQuota) throw err;
      pendingPeriod = period;
    }
  }
  let pendingBurst: string | undefined;
  if (c.burst !== undefined) {
    const burst = intString(c.burst);
    try {
      w.write(dir, 'cpu.cfs_burst_us', burst);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT') {
        if (code !== 'EINVAL' || !hasQuota) throw err;
        pendingBurst = burst;
      }
    }
  }
  if (hasQuota) {
    w.write(dir, 'cpu.cfs_quota_us', intString(c.quota!));
    if (pendingPeriod !== undefined) w.write(dir, 'cpu.cfs_period_us', pendingPeriod);
    if (pendingBurst !== undefined) w.write(dir, 'cpu.cfs_burst_us', pendingBurst);
  }
  if (c.idle !== undefined) w.write(dir, 'cpu.idle', intString(c.idle));
  setRtSched(dir, resources, w);
}

/** Throttling counters from cpu.stat (throttled_time is already in ns on v1). */
export function stats(dir: string): Pick<CpuStats, 'periods' | 'throttledPeriods' | 'throttledTime'> {
  const s = readKeyValues(dir, 'cpu.stat');
  return { periods: s.nr_periods ?? 0, throttledPeriods: s.nr_throttled ?? 0, throttledTime: s.throttled_time ?? 0 };
}
