/** v1 cpuacct controller (port of runc's fs.CpuacctGroup): usage only, nothing to set. */
import { CgroupError } from '../errors';
import { parseCount, readCount, readFile } from '../file';
import type { CpuStats } from '../types';

const NS_PER_SEC = 1_000_000_000;
/** USER_HZ: sysconf(_SC_CLK_TCK) is 100 on every Linux architecture. */
const CLOCK_TICKS = 100;

export function stats(dir: string): Pick<CpuStats, 'usageTotal' | 'usageUser' | 'usageKernel' | 'perCpu'> {
  const where = `${dir}/cpuacct.stat`;
  const f = readFile(dir, 'cpuacct.stat').trim().split(/\s+/);
  if (f.length < 4 || f[0] !== 'user' || f[2] !== 'system') throw new CgroupError(where, `malformed ${where}: ${f.join(' ')}`);
  const ticksToNs = (t: string) => (parseCount(t, where) * NS_PER_SEC) / CLOCK_TICKS;
  const perCpuText = readFile(dir, 'cpuacct.usage_percpu').trim();
  return {
    usageTotal: readCount(dir, 'cpuacct.usage'),
    usageUser: ticksToNs(f[1]),
    usageKernel: ticksToNs(f[3]),
    perCpu: perCpuText === '' ? [] : perCpuText.split(/\s+/).map((v) => parseCount(v, `${dir}/cpuacct.usage_percpu`)),
  };
}
