/** v2 freezer: cgroup.freeze, confirmed through cgroup.events (port of runc's fs2 setFreezer/getFreezer). */
import * as fs from 'node:fs';
import createDebug from 'debug';
import { CgroupError } from '../errors';
import { readFileIfExists, readKeyValues, sleepSync, writeFile } from '../file';
import type { FreezerState } from '../types';

const debug = createDebug('node-libcontainer:cgroups');

/** Freezing completes when every task has stopped; bounded as in runc (10 s). */
export const FREEZE_TIMEOUT_MS = 10_000;

function frozen(dir: string): boolean {
  return readKeyValues(dir, 'cgroup.events').frozen === 1;
}

export function freeze(dir: string, want: 'frozen' | 'thawed', timeoutMs = FREEZE_TIMEOUT_MS): void {
  if (readFileIfExists(dir, 'cgroup.freeze') === undefined) {
    if (want === 'thawed') return;
    throw new CgroupError(`${dir}/cgroup.freeze`, 'the cgroup v2 freezer is not supported by this kernel (5.2+)');
  }
  writeFile(dir, 'cgroup.freeze', want === 'frozen' ? '1' : '0');
  if (want === 'thawed') return;
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; !frozen(dir); delay = Math.min(delay * 2, 10)) {
    if (Date.now() >= deadline) {
      // Do not leave the container half frozen.
      try {
        writeFile(dir, 'cgroup.freeze', '0');
      } catch (err) {
        debug('thawing %s after a freeze timeout: %s', dir, (err as Error).message);
      }
      throw new CgroupError(`${dir}/cgroup.events`, `timed out after ${timeoutMs} ms waiting for the cgroup to freeze`);
    }
    sleepSync(delay);
  }
}

export function state(dir: string): FreezerState {
  // No cgroup yet (every start asks, before it makes one): no failed open and its exception.
  if (!fs.existsSync(dir)) return 'thawed';
  const text = readFileIfExists(dir, 'cgroup.freeze');
  if (text === undefined || text.trim() === '0') return 'thawed';
  for (let i = 0; i < 20; i++) {
    if (frozen(dir)) return 'frozen';
    sleepSync(1);
  }
  return 'freezing';
}
