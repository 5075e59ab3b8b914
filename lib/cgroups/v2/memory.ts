/** v2 memory controller (port of runc's fs2 setMemory/statMemory). Swappiness and disableOOMKiller have no v2 file. */
import { outOfRange } from '../../errors';
import type { LinuxResources } from '../../../types/oci';
import { CgroupError, errnoCode } from '../errors';
import { MAX_U64, asCount, readCount, readExactKeyValues, readFileIfExists, readKeyValues, readUint, toBig } from '../file';
import type { MemoryStats } from '../types';
import { CgroupWriter } from '../writer';

/** 0 = unset, -1 = "max". */
function v2Value(v: bigint): string {
  return v === -1n ? 'max' : v.toString();
}

/**
 * OCI swap is memory+swap (the v1 memsw semantics); v2's memory.swap.max is swap alone
 * (runc's ConvertMemorySwapToCgroupV2Value). Returns undefined for "leave unset".
 */
export function convertMemorySwapToV2(swap: bigint, memory: bigint): bigint | undefined {
  if (memory === -1n && swap === 0n) return -1n; // unlimited memory, swap unspecified: both unlimited
  if (swap === -1n) return -1n;
  if (swap === 0n) return undefined;
  if (memory === -1n) return swap;
  if (memory === 0n) throw outOfRange('unable to set a swap limit without a memory limit');
  if (memory < 0n) throw outOfRange(`invalid memory limit ${memory}`);
  if (swap < memory) throw outOfRange('memory+swap limit must be >= memory limit');
  return swap - memory;
}

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  const m = resources.memory;
  if (!m) return;
  const limit = toBig(m.limit ?? 0);
  const swapTotal = toBig(m.swap ?? 0);
  const reservation = toBig(m.reservation ?? 0);
  if (limit === 0n && swapTotal === 0n && reservation === 0n) return;
  if (m.checkBeforeUpdate) {
    const usage = readFileIfExists(dir, 'memory.current');
    if (usage !== undefined) {
      const u = BigInt(usage.trim());
      if (swapTotal > 0n && swapTotal <= u) throw new CgroupError(`${dir}/memory.current`, `rejecting memory+swap limit ${swapTotal} <= usage ${u}`);
      if (limit > 0n && limit <= u) throw new CgroupError(`${dir}/memory.current`, `rejecting memory limit ${limit} <= usage ${u}`);
    }
  }
  let swap: bigint | undefined;
  try {
    swap = convertMemorySwapToV2(swapTotal, limit);
  } catch (err) {
    throw new CgroupError(`${dir}/memory.swap.max`, (err as Error).message, { cause: err });
  }
  if (swap !== undefined) {
    const value = v2Value(swap);
    try {
      w.write(dir, 'memory.swap.max', value);
    } catch (err) {
      // No swap accounting: fine as long as nothing but "max" or "0" was asked.
      if (!(errnoCode(err) === 'ENOENT' && (value === 'max' || value === '0'))) throw err;
    }
  }
  if (limit !== 0n) w.write(dir, 'memory.max', v2Value(limit));
  if (reservation !== 0n) w.write(dir, 'memory.low', v2Value(reservation));
}

export function oomKillCount(dir: string): number {
  return readKeyValues(dir, 'memory.events').oom_kill ?? 0;
}

export function stats(dir: string): MemoryStats {
  const raw = readExactKeyValues(dir, 'memory.stat');
  const events = readKeyValues(dir, 'memory.events');
  const usage = readCount(dir, 'memory.current');
  const peak = readFileIfExists(dir, 'memory.peak');
  const swap = readFileIfExists(dir, 'memory.swap.current');
  const limit = readUint(dir, 'memory.max');
  return {
    usage,
    maxUsage: peak === undefined ? 0 : readCount(dir, 'memory.peak'),
    limit: limit === MAX_U64 ? MAX_U64 : limit,
    // As runc: memory+swap, the v1 memsw meaning.
    swapUsage: usage + (swap === undefined ? 0 : readCount(dir, 'memory.swap.current')),
    cache: asCount(raw.file),
    rss: asCount(raw.anon),
    oomKills: events.oom_kill ?? 0,
    failcnt: events.max ?? 0,
    raw,
  };
}
