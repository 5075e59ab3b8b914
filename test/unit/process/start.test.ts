// startProcess against a fake binding: what the parent does with helper messages it does not
// expect (fds closed, a refused child killed and reaped) and that a start always settles.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../lib/errors';
import type { ExitStatus, NativeBinding } from '../../../lib/native/types';
import { startProcess, type StartRequest } from '../../../lib/process/start';

const SIGKILL = 9;

interface Fake {
  binding: NativeBinding;
  /** fds the fake handed out and nobody closed yet. */
  open: Set<number>;
  /** What the parent sent to the helper, parsed. */
  sent: { type: string }[];
  /** pidfds signalled, with the signal. */
  signalled: [number, number][];
  /** Make a new fd, as the helper would pass one. */
  newFd(): number;
  /** A message from the helper (null: EOF), once the channel is open. */
  helperSends(data: string | null, fds?: number[]): void;
}

function fakeBinding(): Fake {
  let next = 100;
  const open = new Set<number>();
  const newFd = (): number => {
    open.add(next);
    return next++;
  };
  const sent: { type: string }[] = [];
  const signalled: [number, number][] = [];
  const exitWatchers = new Map<number, (s: ExitStatus) => void>();
  let onMessage: ((data: Buffer | null, fds: number[]) => void) | null = null;
  const fake = {
    socketpair: () => [newFd(), newFd()],
    pipe: () => [newFd(), newFd()],
    close: (fd: number) => {
      if (!open.delete(fd)) throw Object.assign(new Error(`close ${fd}: EBADF`), { code: 'EBADF' });
    },
    sealExecutable: () => ({ fd: newFd(), kind: 'tmpfs' as const }),
    openChannel: (fd: number, cb: (data: Buffer | null, fds: number[]) => void) => {
      onMessage = cb;
      return {
        send: (data: Buffer) => sent.push(JSON.parse(data.toString()) as { type: string }),
        close: () => void open.delete(fd),
        ref() {},
        unref() {},
      };
    },
    spawnAsync: (_opts: unknown, cb: (err: Error | null, result?: { pid: number; pidfd: number }) => void) => {
      const pidfd = newFd();
      setImmediate(() => cb(null, { pid: 4242, pidfd }));
    },
    watchExit: (pidfd: number, _reap: boolean, cb: (s: ExitStatus) => void) => {
      exitWatchers.set(pidfd, cb);
      return { cancel: () => void exitWatchers.delete(pidfd), ref() {}, unref() {} };
    },
    pidfdSendSignal: (pidfd: number, sig: number) => {
      signalled.push([pidfd, sig]);
      const cb = exitWatchers.get(pidfd);
      exitWatchers.delete(pidfd);
      if (cb) setImmediate(() => cb({ exitCode: null, signal: sig }));
    },
    prlimit: () => {},
  };
  return {
    binding: fake as unknown as NativeBinding,
    open,
    sent,
    signalled,
    newFd,
    helperSends: (data, fds = []) => onMessage!(data === null ? null : Buffer.from(data), fds),
  };
}

function request(fake: Fake, over: Partial<StartRequest> = {}): StartRequest {
  return {
    binding: fake.binding,
    mode: 'exec',
    cloneFlags: 0,
    bootstrap: {},
    stdio: ['ignore', 'ignore', 'ignore'],
    extraFiles: [],
    rlimits: [],
    readyAck: false,
    onSpawned: () => {},
    ...over,
  };
}

/** Fails instead of hanging the suite when a start never settles. */
async function settled<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('startProcess never settled')), 2000);
  });
  try {
    return await Promise.race([Promise.allSettled([p]).then(([r]) => r), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('startProcess with a fake binding', () => {
  test('fds attached to a message that carries none on purpose are closed; the start goes on', async () => {
    const fake = fakeBinding();
    const starting = startProcess(request(fake));
    await tick();
    await tick();
    const stray = fake.newFd();
    fake.helperSends('{"type":"procReady"}', [stray]);
    fake.helperSends(null);
    const r = await settled(starting);
    assert.equal(r.status, 'fulfilled');
    assert.equal(fake.open.has(stray), false, 'the stray fd was closed');
  });

  test('a child message the handshake refuses (one too many): its pidfd is killed, reaped and closed; the start fails', async () => {
    const fake = fakeBinding();
    const starting = startProcess(request(fake, { bootstrap: { namespaces: { forkChild: true } } }));
    await tick();
    await tick();
    const adopted = fake.newFd();
    fake.helperSends('{"type":"child","pid":776}', [adopted]);
    // A second child is one too many.
    const pidfd = fake.newFd();
    fake.helperSends('{"type":"child","pid":777}', [pidfd]);
    const r = await settled(starting);
    assert.equal(r.status, 'rejected');
    assert.ok((r as PromiseRejectedResult).reason instanceof ProtocolError);
    await tick();
    assert.ok(fake.signalled.some(([fd, sig]) => fd === pidfd && sig === SIGKILL), 'the refused child was killed');
    assert.equal(fake.open.has(pidfd), false, 'its pidfd was closed once it was reaped');
    assert.ok(fake.signalled.some(([fd]) => fd === adopted), 'the adopted child was killed too');
  });

  test('an unparsable message fails the start through the usual path: the helper is told, the process killed', async () => {
    const fake = fakeBinding();
    const starting = startProcess(request(fake));
    await tick();
    await tick();
    fake.helperSends('not json');
    const r = await settled(starting);
    assert.equal(r.status, 'rejected');
    assert.match(String((r as PromiseRejectedResult).reason), /invalid JSON from init/);
    assert.ok(fake.sent.some((m) => m.type === 'procError'), 'the helper was told');
    assert.ok(fake.signalled.some(([, sig]) => sig === SIGKILL), 'the helper was killed');
  });

  test('asynchronous whileSpawning work starts before the spawn is queued, and the plan waits for it', async () => {
    const fake = fakeBinding();
    const order: string[] = [];
    const spawn = fake.binding.spawnAsync.bind(fake.binding);
    (fake.binding as { spawnAsync: unknown }).spawnAsync = (opts: never, cb: never) => {
      order.push('spawn queued');
      spawn(opts, cb);
    };
    let finishWork!: () => void;
    const starting = startProcess(
      request(fake, {
        planBeforeSpawned: true,
        whileSpawning: () => {
          order.push('work started');
          return new Promise<void>((resolve) => (finishWork = resolve));
        },
      }),
    );
    await tick();
    await tick();
    assert.deepEqual(order, ['work started', 'spawn queued']);
    assert.equal(fake.sent.length, 0, 'no plan before the work is done');
    finishWork();
    await tick();
    assert.deepEqual(fake.sent.map((m) => m.type), ['bootstrap']);
    fake.helperSends('{"type":"procReady"}');
    fake.helperSends(null);
    assert.equal((await settled(starting)).status, 'fulfilled');
  });

  test('whileSpawning failing: no plan goes, the spawned helper is killed and reaped, the start fails with that error', async () => {
    const fake = fakeBinding();
    const failure = new Error('mkdir refused');
    const starting = startProcess(request(fake, { planBeforeSpawned: true, whileSpawning: () => Promise.reject(failure) }));
    const r = await settled(starting);
    assert.equal(r.status, 'rejected');
    assert.equal((r as PromiseRejectedResult).reason, failure);
    assert.equal(fake.sent.length, 0, 'no plan was sent');
    assert.ok(fake.signalled.some(([, sig]) => sig === SIGKILL), 'the helper was killed');
    await tick();
    assert.deepEqual([...fake.open], [], 'every fd closed');
  });

  test('a forking helper that finishes without reporting its child fails the start instead of hanging', async () => {
    const fake = fakeBinding();
    const starting = startProcess(request(fake, { bootstrap: { namespaces: { forkChild: true } } }));
    await tick();
    await tick();
    fake.helperSends('{"type":"procReady"}');
    fake.helperSends(null);
    const r = await settled(starting);
    assert.equal(r.status, 'rejected');
    assert.match(String((r as PromiseRejectedResult).reason), /without reporting the container process/);
  });
});
