/** v1 freezer (port of runc's fs.FreezerGroup Set/GetState). */
import * as fs from 'node:fs';
import createDebug from 'debug';
import { CgroupError, errnoCode } from '../errors';
import { readFile, readFileIfExists, sleepSync, writeFile } from '../file';
import type { FreezerState } from '../types';

const debug = createDebug('node-libcontainer:cgroups');

/**
 * A v1 cgroup can stay in FREEZING while tasks keep forking, so runc writes FROZEN again and
 * again, thawing briefly every 50 tries; on failure it thaws, since a half-frozen container
 * is the worst outcome. Bounded: 1000 tries plus 20 short sleeps.
 */
export function freeze(dir: string, state: 'frozen' | 'thawed'): void {
  if (state === 'thawed') {
    writeFile(dir, 'freezer.state', 'THAWED');
    return;
  }
  try {
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        writeFile(dir, 'freezer.state', 'THAWED');
        sleepSync(10);
      }
      writeFile(dir, 'freezer.state', 'FROZEN');
      if (i % 25 === 24) sleepSync(1);
      const now = readFile(dir, 'freezer.state').trim();
      if (now === 'FROZEN') {
        if (i > 1) debug('%s frozen after %d retries', dir, i);
        return;
      }
      if (now !== 'FREEZING') throw new CgroupError(`${dir}/freezer.state`, `unexpected freezer state ${JSON.stringify(now)} while freezing`);
    }
    throw new CgroupError(`${dir}/freezer.state`, 'unable to freeze: the cgroup stayed in FREEZING');
  } catch (err) {
    try {
      writeFile(dir, 'freezer.state', 'THAWED');
    } catch (thawErr) {
      debug('thawing %s after a failed freeze: %s', dir, (thawErr as Error).message);
    }
    throw err;
  }
}

/** FROZEN through an ancestor only (freezer.self_freezing 0) counts as thawed, as in runc. */
export function state(dir: string): FreezerState {
  // No cgroup yet (every start asks, before it makes one): no failed open, whose exception
  // costs some 30 µs.
  if (!fs.existsSync(dir)) return 'thawed';
  for (let i = 0; ; i++) {
    let text: string | undefined;
    try {
      text = readFileIfExists(dir, 'freezer.state');
    } catch (err) {
      if (errnoCode(err) === 'ENODEV') return 'thawed';
      throw err;
    }
    if (text === undefined) return 'thawed';
    const s = text.trim();
    if (s === 'THAWED') return 'thawed';
    if (s === 'FROZEN') {
      const self = readFileIfExists(dir, 'freezer.self_freezing');
      return self === undefined || self.trim() === '1' ? 'frozen' : 'thawed';
    }
    if (s !== 'FREEZING') throw new CgroupError(`${dir}/freezer.state`, `unknown freezer state ${JSON.stringify(s)}`);
    // runc waits for a stable state; we wait a little, then report the transition.
    if (i >= 50) return 'freezing';
    sleepSync(1);
  }
}
