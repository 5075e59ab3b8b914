/**
 * Removing a cgroup directory (port of runc's cgroups.RemovePath and rmdir): sub-cgroups
 * first, then the directory itself, retrying while the kernel still counts exiting tasks
 * (EBUSY) with a doubling delay, about 5 s in all. A directory already gone is fine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RemoveEach } from '../native/binding';
import { CgroupError, errnoCode } from './errors';

export interface RemoveOps {
  rmdir(dir: string): void | Promise<void>;
  /** Sub-directory names of dir. */
  subdirs(dir: string): string[];
  sleep(ms: number): Promise<void>;
  /**
   * Optional: rmdir every directory in one go (one threadpool job, see binding.removeAsync);
   * the errno name per directory, null where it was removed. Those that fail go the long way.
   */
  rmdirEach?(dirs: string[]): Promise<(string | null)[]>;
}

export const realRemoveOps: RemoveOps = {
  // On the threadpool: a cgroup rmdir waits for cgroup_mutex, which clones, joins and mkdirs
  // of other containers hold too; the event loop need not wait with it.
  rmdir: (dir) => fs.promises.rmdir(dir),
  subdirs: (dir) => fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name),
  sleep: (ms) => sleep(ms),
};

/** Delays between EBUSY retries: 1, 2, 4, ... 2048 ms (about 4 s), then 1 s more. */
export const RETRY_DELAYS_MS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 1000];

async function rmdirRetrying(dir: string, ops: RemoveOps, retry: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await ops.rmdir(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code === 'EINTR') continue;
      if (code === 'EBUSY' && retry && attempt < RETRY_DELAYS_MS.length) {
        await ops.sleep(RETRY_DELAYS_MS[attempt]);
        continue;
      }
      throw new CgroupError(dir, `cannot remove cgroup ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }
}

export async function removeCgroup(dir: string, ops: RemoveOps = realRemoveOps, retry = true): Promise<void> {
  // Fast path: an empty cgroup with no tasks goes at once.
  try {
    await ops.rmdir(dir);
    return;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
  }
  let children: string[];
  try {
    children = ops.subdirs(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw new CgroupError(dir, `cannot list cgroup ${dir}: ${(err as Error).message}`, { cause: err });
  }
  for (const child of children) await removeCgroup(path.join(dir, child), ops, retry);
  await rmdirRetrying(dir, ops, retry);
}

/** realRemoveOps plus the binding's one-job rmdir, where the binding has it. */
export function removeOpsFor(removeEach: RemoveEach | undefined): RemoveOps {
  if (!removeEach) return realRemoveOps;
  return { ...realRemoveOps, rmdirEach: (dirs) => removeEach([], dirs) };
}
