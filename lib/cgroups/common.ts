/** Pieces both managers share: moving pids, listing them, destroy, stats defaults, error wrapping. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import createDebug from 'debug';
import { ConfigError, ContainerError } from '../errors';
import { CgroupError, errnoCode } from './errors';
import { readFile, sleepSync, writeFile } from './file';
import { DEFAULT_PARENT, type Placement } from './paths';
import { removeCgroup, realRemoveOps, type RemoveOps } from './remove';
import type { CgroupStats } from './types';

const debug = createDebug('node-libcontainer:cgroups');

/**
 * Move pid into dir (runc's WriteCgroupProc). EINVAL can mean the task is still being
 * created (TASK_NEW): retry a few times, as runc does.
 */
export function writeCgroupProc(dir: string, pid: number): void {
  for (let i = 0; ; i++) {
    try {
      writeFile(dir, 'cgroup.procs', String(pid));
      return;
    } catch (err) {
      if (errnoCode(err) !== 'EINVAL' || i >= 4) throw err;
      sleepSync(30);
    }
  }
}

export function readPids(dir: string, recursive: boolean): number[] {
  const pids = readFile(dir, 'cgroup.procs')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
  if (!recursive) return pids;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) pids.push(...readPids(path.join(dir, e.name), true));
  }
  return pids;
}

/**
 * dir/sub for an exec'd process, refusing a sub path that leaves dir (runc's AddPid check) or
 * that is not there: as runc's exec --cgroup, the sub-cgroup is the caller's to make (the join
 * would otherwise fail on its cgroup.procs with a bare ENOENT).
 */
export function subCgroup(dir: string, sub: string | undefined): string {
  if (!sub) return dir;
  const joined = path.join(dir, sub);
  if (joined !== dir && !joined.startsWith(`${dir}/`)) throw new ConfigError('process.subCgroupPath', `${JSON.stringify(sub)} is not a sub cgroup path: it leaves the container's cgroup`);
  if (!fs.statSync(joined, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ConfigError('process.subCgroupPath', `sub-cgroup ${JSON.stringify(sub)} does not exist: there is no directory ${joined}`);
  }
  return joined;
}

/** mkdir -p, retrying when another container's destroy removes the shared default parent meanwhile. */
export function mkdirRetrying(dir: string, make: () => void): void {
  for (let i = 0; ; i++) {
    try {
      make();
      return;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' && i < 3) continue;
      if (err instanceof ContainerError) throw err;
      throw new CgroupError(dir, `cannot create cgroup ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Remove every directory, then the default parent where it is left empty. Throws the first failure. */
export async function destroyDirs(
  dirs: string[],
  bases: string[],
  placement: Placement,
  ops: RemoveOps = realRemoveOps,
  once = false,
): Promise<void> {
  const errors: unknown[] = [];
  let pending = [...new Set(dirs)];
  if (ops.rmdirEach && pending.length > 0) {
    // The common case, empty cgroups with no tasks left: every rmdir in one threadpool job.
    const codes = await ops.rmdirEach(pending);
    pending = pending.filter((_, i) => codes[i] !== null && codes[i] !== 'ENOENT');
  }
  // What is left (sub-cgroups, tasks still exiting) goes the long way, every hierarchy at once.
  await Promise.all(pending.map((dir) => removeCgroup(dir, ops, !once).catch((err: unknown) => void errors.push(err))));
  if (once && errors.length > 0) throw errors[0];
  if (placement.isDefault) {
    await Promise.all(
      [...new Set(bases)].map(async (base) => {
        try {
          await ops.rmdir(path.join(base, DEFAULT_PARENT));
        } catch (err) {
          // Still used by other containers (EBUSY/ENOTEMPTY) or already gone: fine.
          const code = errnoCode(err);
          if (code !== 'EBUSY' && code !== 'ENOTEMPTY' && code !== 'ENOENT' && code !== 'EEXIST') debug('rmdir %s/%s: %s', base, DEFAULT_PARENT, code);
        }
      }),
    );
  }
  if (errors.length > 0) throw errors[0];
}

export function emptyStats(): CgroupStats {
  const stats: CgroupStats = {
    memory: { usage: 0, maxUsage: 0, limit: 0, swapUsage: 0, cache: 0, rss: 0, oomKills: 0, failcnt: 0, raw: {} },
    cpu: { usageTotal: 0, usageUser: 0, usageKernel: 0, perCpu: [], throttledPeriods: 0, throttledTime: 0, periods: 0 },
    pids: { current: 0, limit: null },
    io: { serviceBytes: [], serviced: [] },
    hugetlb: {},
  };
  // JSON.stringify throws on a bigint (an unlimited v1 limit is one): serialize those as
  // numbers, the nearest double (they are the kernel's "no limit" values, never counts).
  Object.defineProperty(stats, 'toJSON', { value: () => withoutBigints(stats), enumerable: false });
  return stats;
}

function withoutBigints(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(withoutBigints);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutBigints(v)]));
}

/** set() failed and was rolled back: keep validation errors as they are, wrap the rest as ERR_CGROUP. */
export function setError(err: unknown, hint?: string): Error {
  if (err instanceof ConfigError) return err;
  const p = err instanceof CgroupError ? err.path : '';
  const msg = err instanceof Error ? err.message : String(err);
  return new CgroupError(p, `cannot set cgroup resources (previous values restored): ${msg}${hint ? `; ${hint}` : ''}`, { cause: err });
}
