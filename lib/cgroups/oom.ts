/**
 * OOM notification (port of runc's notify_linux.go / notify_v2_linux.go): v1 registers an
 * eventfd for memory.oom_control through cgroup.event_control; v2 watches memory.events with
 * inotify. Both are polled on the libuv loop; nothing blocks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NativeBinding, WatchHandle } from '../native/types';
import type { CgroupManager } from './types';
import { CgroupError } from './errors';

const IN_MODIFY = 0x2;
const IN_DELETE_SELF = 0x400;
const IN_IGNORED = 0x8000;
/** How long a v1 OOM event waits for its kill to be counted: 20 x 10 ms. */
const V1_SETTLE_TRIES = 20;
const V1_SETTLE_DELAY_MS = 10;

interface Source {
  /**
   * Called when the fd is readable: drain it; return 'event', 'gone' (cgroup removed or left
   * without processes), 'last' (an event, then gone) or 'none'.
   */
  drain(): 'event' | 'gone' | 'last' | 'none';
  fd: number;
  close(): void;
}

/** Why a registration failed: Node's and the binding's errors name the errno and the path. */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function v1Source(binding: NativeBinding, memoryDir: string): Source {
  const efd = binding.eventfd();
  let ocfd = -1;
  try {
    ocfd = fs.openSync(path.join(memoryDir, 'memory.oom_control'), 'r');
    fs.writeFileSync(path.join(memoryDir, 'cgroup.event_control'), `${efd} ${ocfd}`);
  } catch (err) {
    binding.close(efd);
    if (ocfd >= 0) fs.closeSync(ocfd);
    throw new CgroupError(path.join(memoryDir, 'cgroup.event_control'), `registering for OOM events in ${memoryDir}: ${reason(err)}`, { cause: err });
  }
  const buf = Buffer.alloc(8);
  return {
    fd: efd,
    drain() {
      try {
        fs.readSync(efd, buf);
      } catch {
        return 'none';
      }
      // The eventfd also fires when the cgroup is removed (runc checks the same way).
      return fs.existsSync(path.join(memoryDir, 'cgroup.event_control')) ? 'event' : 'gone';
    },
    close() {
      binding.close(efd);
      fs.closeSync(ocfd);
    },
  };
}

/** cgroup.events says the cgroup has no process left (runc's notify_v2 ends there too). */
function unpopulated(dir: string): boolean {
  try {
    return /^populated 0$/m.test(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return true; // gone
  }
}

function v2Source(binding: NativeBinding, dir: string): Source {
  const ifd = binding.inotifyInit();
  let eventsWd = -1;
  try {
    binding.inotifyAddWatch(ifd, path.join(dir, 'memory.events'), IN_MODIFY | IN_DELETE_SELF);
    eventsWd = binding.inotifyAddWatch(ifd, path.join(dir, 'cgroup.events'), IN_MODIFY);
  } catch (err) {
    binding.close(ifd);
    throw new CgroupError(path.join(dir, 'memory.events'), `watching ${dir}/memory.events and cgroup.events: ${reason(err)}`, { cause: err });
  }
  const buf = Buffer.alloc(4096);
  return {
    fd: ifd,
    drain() {
      let n: number;
      try {
        n = fs.readSync(ifd, buf);
      } catch {
        return 'none';
      }
      let result: 'event' | 'gone' | 'none' = 'none';
      let populationChanged = false;
      for (let off = 0; off + 16 <= n; off += 16 + buf.readUInt32LE(off + 12)) {
        const wd = buf.readInt32LE(off);
        const mask = buf.readUInt32LE(off + 4);
        if (mask & (IN_DELETE_SELF | IN_IGNORED)) return 'gone';
        if (!(mask & IN_MODIFY)) continue;
        if (wd === eventsWd) populationChanged = true;
        else result = 'event';
      }
      // An OOM kill that emptied the cgroup is still reported (the caller reads the count
      // once more); after that there is nothing left to run out of memory.
      if (populationChanged && unpopulated(dir)) return 'last';
      return result;
    },
    close() {
      binding.close(ifd);
    },
  };
}

/**
 * Yields the cgroup's OOM-kill count each time it goes up; ends when the cgroup is removed,
 * when (v2) it has no process left, or when the signal aborts.
 */
export function notifyOOM(manager: CgroupManager, binding: NativeBinding, signal?: AbortSignal): AsyncIterableIterator<number> {
  const memoryDir = manager.paths.memory;
  const unified = manager.paths[''];
  // Read before any fd is opened: a throw here must not leak the source.
  let last = manager.oomKillCount();
  const source = memoryDir ? v1Source(binding, memoryDir) : unified ? v2Source(binding, unified) : null;
  if (!source) throw new CgroupError('', 'the container has no memory cgroup to watch');
  const queue: number[] = [];
  let waiting: ((r: IteratorResult<number>) => void) | null = null;
  let done = false;
  let watch: WatchHandle | null = null;

  const finish = (): void => {
    if (done) return;
    done = true;
    watch?.cancel();
    source.close();
    signal?.removeEventListener('abort', finish);
    if (waiting) {
      const w = waiting;
      waiting = null;
      w({ value: undefined, done: true });
    }
  };
  const push = (value: number): void => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w({ value, done: false });
    } else {
      queue.push(value);
    }
  };

  const readCount = (): number | null => {
    try {
      return manager.oomKillCount();
    } catch {
      finish();
      return null;
    }
  };
  // v1's eventfd fires when the cgroup runs out of memory, before the OOM killer has chosen
  // and counted its victim: wait a little for oom_kill to go up. If it does not (the OOM
  // killer is disabled), the event is still one, reported with the unchanged count.
  // Events arriving meanwhile are folded into the one being settled.
  let settling = false;
  const settleV1 = (attempt: number): void => {
    if (done) return;
    const count = readCount();
    if (count === null) return;
    if (count === last && attempt < V1_SETTLE_TRIES) {
      setTimeout(() => settleV1(attempt + 1), V1_SETTLE_DELAY_MS);
      return;
    }
    settling = false;
    push(count);
    last = Math.max(last, count);
  };

  watch = binding.watchReadable(source.fd, () => {
    const what = source.drain();
    if (what === 'gone') return finish();
    if (what !== 'event' && what !== 'last') return;
    if (memoryDir) {
      if (!settling) {
        settling = true;
        settleV1(0);
      }
      return;
    }
    const count = readCount();
    if (count === null) return;
    // v2 memory.events changes for other reasons too (high, max): report OOM kills only.
    if (count > last) push(count);
    last = Math.max(last, count);
    if (what === 'last') finish();
  });
  if (signal?.aborted) finish();
  else signal?.addEventListener('abort', finish);

  const iterator: AsyncIterableIterator<number> = {
    next() {
      if (queue.length) return Promise.resolve({ value: queue.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
