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
  const available = controllerList(dir, 'cgroup.controllers');
  if (available.length === 0) return;
  if (holdsProcesses(dir)) {
    // cgroup v2's no-internal-processes rule: a cgroup with processes of its own (Node's own,
    // under a systemd service) refuses every domain controller (EBUSY) but takes the threaded
    // ones (cpu, cpuset, pids), which would make it a threaded domain and every new child
    // "domain invalid", where no process can go (clone3 and cgroup.procs: EOPNOTSUPP). Leave
    // it as it is: the container's cgroup gets no controllers from here.
    const enabled = new Set(controllerList(dir, 'cgroup.subtree_control'));
    for (const c of available) if (!enabled.has(c)) result.refused.push({ dir, controller: c, code: 'EBUSY' });
    debug('not enabling controllers in %s: it holds processes', dir);
    return;
  }
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

/** The controller names listed in dir's cgroup.controllers or cgroup.subtree_control (none when it is missing). */
export function controllerList(dir: string, file: 'cgroup.controllers' | 'cgroup.subtree_control'): string[] {
  return (readFileIfExists(dir, file) ?? '').trim().split(/\s+/).filter((c) => c !== '');
}

/**
 * Whether dir has processes of its own; never for the root cgroup (no cgroup.type), which the
 * rule exempts. cgroup.procs first: the usual directory has none, and one read settles it.
 */
function holdsProcesses(dir: string): boolean {
  if ((readFileIfExists(dir, 'cgroup.procs') ?? '').trim() === '') return false;
  return readFileIfExists(dir, 'cgroup.type') !== undefined;
}
