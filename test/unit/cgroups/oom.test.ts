import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notifyOOM } from '../../../lib/cgroups/oom';
import { CgroupError } from '../../../lib/cgroups/errors';
import type { CgroupManager } from '../../../lib/cgroups/types';
import type { NativeBinding } from '../../../lib/native/types';
import { breakFile, tree } from './fixture';

const manager = (paths: Record<string, string>) => ({ paths, oomKillCount: () => 0 }) as unknown as CgroupManager;

/** A binding whose fds are numbers; `closed` lists what was closed. */
function fakeBinding(addWatch: () => number = () => 1): NativeBinding & { closed: number[] } {
  const closed: number[] = [];
  return { closed, eventfd: () => 41, inotifyInit: () => 42, inotifyAddWatch: addWatch, close: (fd: number) => void closed.push(fd) } as unknown as NativeBinding & { closed: number[] };
}

test('v1: a failed registration names the errno and the file, and closes the eventfd', () => {
  const dir = tree({ 'memory.oom_control': 'oom_kill_disable 0\n' });
  breakFile(dir, 'cgroup.event_control');
  const binding = fakeBinding();
  assert.throws(() => notifyOOM(manager({ memory: dir }), binding), (e: unknown) =>
    e instanceof CgroupError && e.path === `${dir}/cgroup.event_control` && /registering for OOM events in .*: EISDIR: illegal operation on a directory/.test(e.message));
  assert.deepEqual(binding.closed, [41]);

  const gone = `${tree()}/gone`;
  assert.throws(() => notifyOOM(manager({ memory: gone }), fakeBinding()), (e: unknown) =>
    e instanceof CgroupError && /: ENOENT: no such file or directory, open '.*\/gone\/memory\.oom_control'/.test(e.message));
});

test('v2: a failed watch names the reason, and closes the inotify fd', () => {
  const dir = tree();
  const binding = fakeBinding(() => {
    throw Object.assign(new Error(`ENOENT: no such file or directory, inotify_add_watch '${dir}/memory.events'`), { code: 'ENOENT' });
  });
  assert.throws(() => notifyOOM(manager({ '': dir }), binding), (e: unknown) =>
    e instanceof CgroupError && /watching .*memory\.events and cgroup\.events: ENOENT: no such file or directory, inotify_add_watch/.test(e.message));
  assert.deepEqual(binding.closed, [42]);
});
