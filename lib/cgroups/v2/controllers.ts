/**
 * Enabling v2 controllers for the container's cgroup (port of runc's fs2 CreateCgroupPath):
 * every directory from our base down to the container's parent must list the controllers in
 * its cgroup.subtree_control, or the container's cgroup has no memory.max, pids.max, ...
 */
import * as fs from 'node:fs';
import createDebug from 'debug';
import { errnoCode } from '../errors';
import { readFileIfExists, writeFile } from '../file';
import { dirsBetween } from '../paths';

const debug = createDebug('node-libcontainer:cgroups');

export interface EnableResult {
  /** Controllers a directory refused (EBUSY: it has processes of its own; ENOTSUP/EOPNOTSUPP: threaded, ...). */
  refused: Array<{ dir: string; controller: string; code: string }>;
}

/** Write "+c" for every controller available in dir; on failure, each one separately. */
export function enableControllers(dir: string, result: EnableResult): void {
  const available = (readFileIfExists(dir, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter((c) => c !== '');
  if (available.length === 0) return;
  try {
    writeFile(dir, 'cgroup.subtree_control', available.map((c) => `+${c}`).join(' '));
    return;
  } catch {
    // One refusal fails the whole write: fall through to one at a time.
  }
  for (const c of available) {
    try {
      writeFile(dir, 'cgroup.subtree_control', `+${c}`);
    } catch (err) {
      const code = errnoCode(err) ?? 'unknown';
      result.refused.push({ dir, controller: c, code });
      debug('cannot enable %s in %s/cgroup.subtree_control: %s', c, dir, code);
    }
  }
}

/**
 * mkdir each directory below base down to dir, enabling controllers in base and every
 * directory above dir. Returns the directories it created (top first) and the refusals.
 */
export function createPath(base: string, dir: string): { created: string[]; result: EnableResult } {
  const result: EnableResult = { refused: [] };
  const created: string[] = [];
  const chain = [base, ...dirsBetween(base, dir)];
  chain.forEach((d, i) => {
    if (i > 0) {
      try {
        fs.mkdirSync(d, { mode: 0o755 });
        created.push(d);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
    }
    if (i < chain.length - 1) enableControllers(d, result);
  });
  return { created, result };
}
