/** v2 cpu controller (port of runc's fs2 setCPU/statCpu). */
import type { LinuxResources } from '../../../types/oci';
import { errnoCode } from '../errors';
import { intString, readKeyValues, toBig } from '../file';
import type { CpuStats } from '../types';
import { CgroupWriter } from '../writer';

/**
 * v1 shares [2, 262144] to v2 weight [1, 10000] (runc's ConvertCPUSharesToCgroupV2Value): a
 * quadratic fit in log2 space mapping 2 -> 1, 1024 -> 100 (both defaults) and 262144 -> 10000.
 */
export function convertSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return Math.ceil(10 ** exponent);
}

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  const c = resources.cpu;
  if (!c) return;
  const shares = c.shares === undefined ? 0 : Number(c.shares);
  const quota = toBig(c.quota ?? 0);
  const period = toBig(c.period ?? 0);
  // The kernel refuses a weight while the group is idle: the weight goes in before the group
  // becomes idle (runc's order), and after it stops being idle.
  const idle = c.idle === undefined ? undefined : intString(c.idle);
  const weight = shares !== 0 ? String(convertSharesToWeight(shares)) : undefined;
  if (idle !== undefined && idle === '0') w.write(dir, 'cpu.idle', idle);
  if (weight !== undefined) w.write(dir, 'cpu.weight', weight);
  if (idle !== undefined && idle !== '0') w.write(dir, 'cpu.idle', idle);
  let pendingBurst: string | undefined;
  if (c.burst !== undefined) {
    const burst = intString(c.burst);
    try {
      w.write(dir, 'cpu.max.burst', burst);
    } catch (err) {
      // A burst above the old quota is refused until the new quota is in.
      if (errnoCode(err) !== 'EINVAL' || quota === 0n) throw err;
      pendingBurst = burst;
    }
  }
  if (quota !== 0n || period !== 0n) {
    const q = quota > 0n ? quota.toString() : 'max';
    w.write(dir, 'cpu.max', `${q} ${period === 0n ? 100000 : period}`);
    if (pendingBurst !== undefined) w.write(dir, 'cpu.max.burst', pendingBurst);
  }
}

/** cpu.stat in usec, reported in ns; there is no per-CPU usage on v2. */
export function stats(dir: string): CpuStats {
  const s = readKeyValues(dir, 'cpu.stat');
  return {
    usageTotal: (s.usage_usec ?? 0) * 1000,
    usageUser: (s.user_usec ?? 0) * 1000,
    usageKernel: (s.system_usec ?? 0) * 1000,
    perCpu: [],
    periods: s.nr_periods ?? 0,
    throttledPeriods: s.nr_throttled ?? 0,
    throttledTime: (s.throttled_usec ?? 0) * 1000,
  };
}
