/** v1 memory controller (port of runc's fs.MemoryGroup). Kernel memory limits are ignored, as in runc. */
import type { LinuxResources } from '../../../types/oci';
import { CgroupError, errnoCode } from '../errors';
import { asCount, fileExists, intString, readCount, readExactKeyValues, readFileIfExists, readKeyValues, readUint, toBig } from '../file';
import type { MemoryStats } from '../types';
import { CgroupWriter } from '../writer';

const LIMIT = 'memory.limit_in_bytes';
const SWAP_LIMIT = 'memory.memsw.limit_in_bytes';

function setLimit(w: CgroupWriter, dir: string, value: bigint): void {
  try {
    w.write(dir, LIMIT, value.toString());
  } catch (err) {
    if (errnoCode(err) !== 'EBUSY') throw err;
    // EBUSY: the new limit is below what the cgroup uses now.
    const usage = readUint(dir, 'memory.usage_in_bytes');
    const peak = readUint(dir, 'memory.max_usage_in_bytes');
    throw new CgroupError(`${dir}/${LIMIT}`, `unable to set memory limit to ${value} (current usage: ${usage}, peak usage: ${peak})`, { cause: err });
  }
}

/** runc's setMemoryAndSwap: the kernel wants memsw >= limit at every step, so the order depends on the direction. */
function setMemoryAndSwap(w: CgroupWriter, dir: string, limit: bigint, swapIn: bigint): void {
  let swap = swapIn;
  // Unlimited memory with swap unspecified means unlimited swap too (when the kernel accounts swap).
  if (limit === -1n && swap === 0n && fileExists(dir, SWAP_LIMIT)) swap = -1n;
  if (limit !== 0n && swap !== 0n) {
    const current = toBig(readUint(dir, LIMIT));
    if (swap === -1n || current < swap) {
      w.write(dir, SWAP_LIMIT, swap.toString());
      setLimit(w, dir, limit);
      return;
    }
  }
  if (limit !== 0n) setLimit(w, dir, limit);
  if (swap !== 0n) w.write(dir, SWAP_LIMIT, swap.toString());
}

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  const m = resources.memory;
  if (!m) return;
  setMemoryAndSwap(w, dir, toBig(m.limit ?? 0), toBig(m.swap ?? 0));
  if (m.reservation !== undefined && toBig(m.reservation) !== 0n) w.write(dir, 'memory.soft_limit_in_bytes', intString(m.reservation));
  if (m.disableOOMKiller === true) w.write(dir, 'memory.oom_control', '1');
  if (m.swappiness !== undefined && toBig(m.swappiness) !== -1n) {
    const s = toBig(m.swappiness);
    if (s < 0n || s > 100n) throw new CgroupError(`${dir}/memory.swappiness`, `invalid memory swappiness ${s} (valid range is 0-100)`);
    w.write(dir, 'memory.swappiness', s.toString());
  }
}

export function oomKillCount(dir: string): number {
  return readKeyValues(dir, 'memory.oom_control').oom_kill ?? 0;
}

export function stats(dir: string): MemoryStats {
  const raw = readExactKeyValues(dir, 'memory.stat');
  const hasSwap = readFileIfExists(dir, 'memory.memsw.usage_in_bytes') !== undefined;
  return {
    usage: readCount(dir, 'memory.usage_in_bytes'),
    maxUsage: readCount(dir, 'memory.max_usage_in_bytes'),
    limit: readUint(dir, LIMIT),
    swapUsage: hasSwap ? readCount(dir, 'memory.memsw.usage_in_bytes') : 0,
    cache: asCount(raw.cache),
    rss: asCount(raw.rss),
    oomKills: oomKillCount(dir),
    failcnt: readCount(dir, 'memory.failcnt'),
    raw,
  };
}
