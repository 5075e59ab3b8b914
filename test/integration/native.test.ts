// Integration tests of the real addon (addon/*.cc): spawning through clone+execveat, exit
// watching, fd placement, channels with fd passing, pidfds and limits. Root only.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loadBinding } from '../../lib/native/binding';
import { readProcStat } from '../../lib/state';
import type { ExitStatus, MkdirResult, NativeBinding, SpawnOptions, SpawnResult } from '../../lib/native/types';

const BUSYBOX = '/bin/busybox';
const isRoot = process.getuid?.() === 0;
const skip = !isRoot
  ? 'needs root (new namespaces, prlimit on children)'
  : !fs.existsSync(BUSYBOX)
    ? `needs a static busybox at ${BUSYBOX}`
    : false;

const SIGKILL = os.constants.signals.SIGKILL;
const SIGTERM = os.constants.signals.SIGTERM;

/** The inode-bearing target of one of our fds, e.g. `pipe:[1234]`. */
function fdTarget(fd: number): string {
  return fs.readlinkSync(`/proc/self/fd/${fd}`);
}

function openFds(): string[] {
  return fs.readdirSync('/proc/self/fd').sort((a, b) => Number(a) - Number(b));
}

/** Our direct children, from every thread's children list (the zombies we forgot to reap show here too). */
function childPids(): number[] {
  const pids: number[] = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const text = fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
    if (text) pids.push(...text.split(/\s+/).map(Number));
  }
  return pids;
}

describe('native addon', { skip }, () => {
  let b: NativeBinding;
  let exe: number;
  let fdsBefore: string[];

  before(() => {
    b = loadBinding();
    exe = b.sealExecutable(BUSYBOX).fd;
    fdsBefore = openFds();
  });

  after(() => {
    // Nothing the tests made may outlive them: no fds, no zombies.
    assert.deepEqual(openFds(), fdsBefore);
    assert.deepEqual(childPids(), []);
    b.close(exe);
  });

  function waitExit(pidfd: number, reap = true): Promise<ExitStatus> {
    return new Promise((resolve) => b.watchExit(pidfd, reap, resolve));
  }

  /** Spawns busybox with stdout/stderr on a pipe and extra fds from slot 3; resolves with status and output. */
  async function run(
    argv: string[],
    options: Partial<SpawnOptions> & { extraFds?: number[]; onSpawn?: (child: SpawnResult) => void | Promise<void> } = {},
  ): Promise<{ status: ExitStatus; output: string; pid: number }> {
    const [r, w] = b.pipe();
    let child: SpawnResult;
    try {
      child = b.spawn({
        execFd: exe,
        argv,
        env: ['PATH=/bin'],
        cloneFlags: 0,
        fds: options.fds ?? [-1, w, w, ...(options.extraFds ?? [])],
        ...(options.cgroupFd !== undefined ? { cgroupFd: options.cgroupFd } : {}),
        ...(options.cpuAffinity !== undefined ? { cpuAffinity: options.cpuAffinity } : {}),
        ...(options.cloneFlags !== undefined ? { cloneFlags: options.cloneFlags } : {}),
      });
    } catch (error) {
      b.close(r);
      b.close(w);
      throw error;
    }
    b.close(w);
    try {
      const exited = waitExit(child.pidfd);
      await options.onSpawn?.(child);
      const status = await exited;
      // The child and everything it started are gone, so the read ends at EOF.
      const output = fs.readFileSync(r, 'utf8');
      return { status, output, pid: child.pid };
    } finally {
      b.close(r);
      b.close(child.pidfd);
    }
  }

  test('sealExecutable: by default a copy on a tmpfs of its own, read-only: its content, mode and writability cannot change', async () => {
    const { fd, kind } = b.sealExecutable(BUSYBOX);
    try {
      assert.equal(kind, 'tmpfs');
      assert.equal(fs.fstatSync(fd).size, fs.statSync(BUSYBOX).size);
      assert.equal(fs.readFileSync(`/proc/self/fd/${fd}`).equals(fs.readFileSync(BUSYBOX)), true);
      // Mounted nowhere: not in our mount table.
      assert.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes('nlc-init'), false);
      // What a container's root could try on it through /proc/PID/exe (as root, so no
      // permission check stands in the way): every change is EROFS.
      const self = `/proc/self/fd/${fd}`;
      assert.throws(() => fs.chmodSync(self, 0), { code: 'EROFS' });
      assert.throws(() => fs.chownSync(self, 1000, 1000), { code: 'EROFS' });
      assert.throws(() => fs.openSync(self, 'r+'), { code: 'EROFS' });
      assert.throws(() => fs.truncateSync(self, 0), { code: 'EROFS' });
      assert.equal(fs.fstatSync(fd).mode & 0o7777, 0o555);
      // And it still runs.
      const spawned = b.spawn({ execFd: fd, argv: ['true'], env: [], cloneFlags: 0, fds: [-1, -1, -1] });
      const status = await waitExit(spawned.pidfd);
      b.close(spawned.pidfd);
      assert.deepEqual(status, { exitCode: 0, signal: null });
    } finally {
      b.close(fd);
    }
  });

  test("sealExecutable(path, 'memfd'): a sealed memfd whose contents cannot change", () => {
    const { fd, kind } = b.sealExecutable(BUSYBOX, 'memfd');
    try {
      assert.equal(kind, 'memfd');
      assert.equal(fs.fstatSync(fd).size, fs.statSync(BUSYBOX).size);
      assert.match(fdTarget(fd), /^\/memfd:/);
      // Even a writable re-open cannot write: F_SEAL_WRITE.
      const writable = fs.openSync(`/proc/self/fd/${fd}`, 'r+');
      try {
        assert.throws(() => fs.writeSync(writable, Buffer.from('x'), 0, 1, 0), { code: 'EPERM' });
      } finally {
        fs.closeSync(writable);
      }
      assert.throws(() => fs.ftruncateSync(fd, 0));
    } finally {
      b.close(fd);
    }
  });

  test('sealExecutable of a missing file throws ENOENT with the path', () => {
    assert.throws(() => b.sealExecutable('/nonexistent/nlc-test'), {
      code: 'ENOENT',
      syscall: 'open',
      path: '/nonexistent/nlc-test',
    });
  });

  test('exit statuses: success, exit code, killed by a signal', async () => {
    assert.deepEqual((await run(['true'])).status, { exitCode: 0, signal: null });
    assert.deepEqual((await run(['sh', '-c', 'exit 3'])).status, { exitCode: 3, signal: null });
    assert.deepEqual((await run(['sh', '-c', 'kill -KILL $$'])).status, { exitCode: null, signal: SIGKILL });
  });

  test('argv and env reach the program', async () => {
    const { output } = await run(['sh', '-c', 'echo "$0|$1|$FOO"', 'zero', 'one']);
    assert.equal(output, 'zero|one|\n');
    const [r, w] = b.pipe();
    const child = b.spawn({ execFd: exe, argv: ['sh', '-c', 'echo "$FOO"'], env: ['FOO=bar baz'], cloneFlags: 0, fds: [-1, w] });
    b.close(w);
    await waitExit(child.pidfd);
    assert.equal(fs.readFileSync(r, 'utf8'), 'bar baz\n');
    b.close(r);
    b.close(child.pidfd);
  });

  test('new pid, uts and mount namespaces: the shell is pid 1', async () => {
    const { constants: c } = b;
    const { status, output } = await run(['sh', '-c', 'echo $$; hostname nlc-test && hostname'], {
      cloneFlags: c.CLONE_NEWPID! | c.CLONE_NEWUTS! | c.CLONE_NEWNS!,
    });
    assert.deepEqual(status, { exitCode: 0, signal: null });
    assert.equal(output, '1\nnlc-test\n');
    assert.notEqual(os.hostname(), 'nlc-test');
  });

  test('the child gets exactly the fds passed, in their slots, and a clean signal state', async () => {
    const extra = b.pipe();
    try {
      // No pipeline: the shell would hold pipe fds of its own while ls runs.
      const { output } = await run(
        ['sh', '-c', 'ls /proc/$$/fd; echo --; readlink /proc/$$/fd/3; exec grep -E "^Sig(Blk|Ign)" /proc/self/status'],
        { extraFds: [extra[0]] },
      );
      const [listing, rest] = output.split('--\n');
      const fdList = listing!.trim().split(/\s+/).map(Number).sort((m, n) => m - n);
      const [fd3, sigBlk, sigIgn] = rest!.split('\n');
      assert.deepEqual(fdList, [0, 1, 2, 3]);
      assert.equal(fd3, fdTarget(extra[0]));
      // Node ignores SIGPIPE and blocked everything around the clone: the program must start from
      // the defaults (checked after exec, since the shell ignores SIGQUIT while it runs).
      assert.match(sigBlk!, /^SigBlk:\s+0+$/);
      assert.match(sigIgn!, /^SigIgn:\s+0+$/);
    } finally {
      b.close(extra[0]);
      b.close(extra[1]);
    }
  });

  test('fd placement survives sources that are also targets (a swap)', async () => {
    const p = b.pipe();
    const q = b.pipe();
    try {
      // Slot p[0] gets q[0] and slot q[0] gets p[0]: a naive dup2 loop would clobber one.
      const [r, w] = b.pipe();
      const slots: number[] = new Array<number>(Math.max(p[0], q[0]) + 1).fill(-1);
      slots[1] = w;
      slots[p[0]] = q[0];
      slots[q[0]] = p[0];
      const child = b.spawn({
        execFd: exe,
        argv: ['sh', '-c', `readlink /proc/$$/fd/${p[0]}; readlink /proc/$$/fd/${q[0]}; readlink /proc/$$/fd/0`],
        env: [],
        cloneFlags: 0,
        fds: slots,
      });
      b.close(w);
      await waitExit(child.pidfd);
      b.close(child.pidfd);
      const lines = fs.readFileSync(r, 'utf8').split('\n');
      b.close(r);
      assert.equal(lines[0], fdTarget(q[0]));
      assert.equal(lines[1], fdTarget(p[0]));
      assert.equal(lines[2], '/dev/null');
    } finally {
      for (const fd of [...p, ...q]) b.close(fd);
    }
  });

  test('exec failures throw with errno and leave no child behind', () => {
    const dir = b.open('/tmp', b.constants.O_RDONLY!);
    try {
      assert.throws(() => b.spawn({ execFd: dir, argv: ['x'], env: [], cloneFlags: 0, fds: [] }), {
        code: 'EACCES',
        errno: os.constants.errno.EACCES,
        syscall: 'execveat',
        message: /^spawn: execveat: EACCES/,
      });
    } finally {
      b.close(dir);
    }
    const closed = b.open('/dev/null', b.constants.O_RDONLY!);
    b.close(closed);
    assert.throws(() => b.spawn({ execFd: closed, argv: ['x'], env: [], cloneFlags: 0, fds: [] }), {
      code: 'EBADF',
      syscall: 'execveat',
    });
    assert.deepEqual(childPids(), []);
  });

  test('bad arguments are rejected before any syscall', () => {
    assert.throws(() => b.spawn({ execFd: exe, argv: [], env: [], cloneFlags: 0, fds: [] }), TypeError);
    assert.throws(() => b.spawn({ execFd: exe, argv: ['x'], env: [], cloneFlags: 0x100 /* CLONE_VM */, fds: [] }), RangeError);
    assert.throws(() => b.spawn({ execFd: exe, argv: ['x'], env: [], cloneFlags: 0, fds: [-2] }), RangeError);
    // clone(2) would read CLONE_NEWTIME (0x80) as part of the exit signal: only with a cgroupFd (clone3).
    assert.throws(() => b.spawn({ execFd: exe, argv: ['x'], env: [], cloneFlags: 0x80, fds: [] }), { name: 'RangeError', message: /CLONE_NEWTIME needs clone3/ });
  });

  test('cpuAffinity pins the child before exec; setAffinity changes a running one', async () => {
    // The last CPU we may run on (so pinning is visible unless we have only one).
    const allowed = /^Cpus_allowed_list:\s*(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!;
    const cpu = Number(allowed.split(',').pop()!.split('-').pop());
    const pinned = await run(['sh', '-c', 'grep Cpus_allowed_list /proc/self/status'], { cpuAffinity: [cpu] });
    assert.equal(pinned.output, `Cpus_allowed_list:\t${cpu}\n`);

    await run(['sleep', '30'], {
      onSpawn: (child) => {
        b.setAffinity(child.pid, [cpu]);
        assert.match(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'), new RegExp(`^Cpus_allowed_list:\\s+${cpu}$`, 'm'));
        b.pidfdSendSignal(child.pidfd, SIGKILL);
      },
    });
  });

  test('CLONE_INTO_CGROUP (clone3) places the child in the given cgroup', async (t) => {
    const v2 = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .find((fields) => fields[fields.indexOf('-') + 1] === 'cgroup2');
    const own = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    if (!v2 || !own) return t.skip('no cgroup v2 hierarchy mounted');
    // Our own cgroup: the tests may not create cgroups, and this still goes through clone3.
    const relative = own.slice(3);
    const dir = path.join(v2[4]!, relative);
    const cg = b.open(dir, b.constants.O_RDONLY! | b.constants.O_DIRECTORY!);
    try {
      const { status, output } = await run(['sh', '-c', 'grep ^0:: /proc/self/cgroup'], { cgroupFd: cg });
      assert.deepEqual(status, { exitCode: 0, signal: null });
      assert.equal(output.trim(), own);
      // A cgroup fd that is not a directory is refused by clone3 itself.
      assert.throws(() => b.spawn({ execFd: exe, argv: ['true'], env: [], cloneFlags: 0, fds: [], cgroupFd: exe }), {
        syscall: 'clone3',
      });
    } finally {
      b.close(cg);
    }
  });

  test('pidfdSendSignal kills; ESRCH once the process is reaped', async () => {
    let pidfd = -1;
    const { status } = await run(['sleep', '30'], {
      onSpawn: (child) => {
        pidfd = b.pidfdOpen(child.pid);
        b.pidfdSendSignal(child.pidfd, SIGTERM);
      },
    });
    assert.deepEqual(status, { exitCode: null, signal: SIGTERM });
    assert.throws(() => b.pidfdSendSignal(pidfd, SIGTERM), { code: 'ESRCH', syscall: 'pidfd_send_signal' });
    b.close(pidfd);
  });

  test('prlimit sets a running child\'s limits; pidfdGetfd takes its fds', async () => {
    await run(['sleep', '30'], {
      onSpawn: (child) => {
        b.prlimit(child.pid, b.constants.RLIMIT_NOFILE!, 123n, 456n);
        b.prlimit(child.pid, b.constants.RLIMIT_CORE!, 0n, 2n ** 64n - 1n);
        const limits = fs.readFileSync(`/proc/${child.pid}/limits`, 'utf8');
        assert.match(limits, /^Max open files\s+123\s+456\s/m);
        assert.match(limits, /^Max core file size\s+0\s+unlimited\s/m);
        const stolen = b.pidfdGetfd(child.pidfd, 1);
        assert.equal(fdTarget(stolen), fs.readlinkSync(`/proc/${child.pid}/fd/1`));
        b.close(stolen);
        b.pidfdSendSignal(child.pidfd, SIGKILL);
      },
    });
    assert.throws(() => b.prlimit(process.pid, b.constants.RLIMIT_NOFILE!, 2n ** 64n, 0n), RangeError);
  });

  test('tryReap: null while running, the status after exit; watchExit without reap', async () => {
    const child = b.spawn({ execFd: exe, argv: ['sleep', '30'], env: [], cloneFlags: 0, fds: [-1, -1, -1] });
    try {
      assert.equal(b.tryReap(child.pidfd), null);
      const exited = waitExit(child.pidfd, false);
      b.pidfdSendSignal(child.pidfd, SIGKILL);
      assert.deepEqual(await exited, { exitCode: null, signal: null });
      assert.deepEqual(b.tryReap(child.pidfd), { exitCode: null, signal: SIGKILL });
      assert.throws(() => b.tryReap(child.pidfd), { code: 'ECHILD' });
    } finally {
      b.close(child.pidfd);
    }
  });

  test('watchExit cancel: no callback', async () => {
    const child = b.spawn({ execFd: exe, argv: ['sleep', '30'], env: [], cloneFlags: 0, fds: [-1, -1, -1] });
    let called = false;
    const handle = b.watchExit(child.pidfd, true, () => {
      called = true;
    });
    handle.cancel();
    handle.cancel();
    const exited = waitExit(child.pidfd);
    b.pidfdSendSignal(child.pidfd, SIGKILL);
    assert.deepEqual(await exited, { exitCode: null, signal: SIGKILL });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(called, false);
    b.close(child.pidfd);
  });

  test('channel: datagrams with fds both ways, large messages, EOF once', async () => {
    const [x, y] = b.socketpair();
    const received: Array<{ data: string | null; fds: number[] }> = [];
    let eof!: () => void;
    const ended = new Promise<void>((resolve) => (eof = resolve));
    let gotAll!: () => void;
    const all = new Promise<void>((resolve) => (gotAll = resolve));
    const big = Buffer.alloc(80 * 1024, 0x61);
    const a = b.openChannel(x, (data, fds) => {
      received.push({ data: data === null ? null : data.length > 64 ? `len:${data.length}` : data.toString(), fds });
      if (data === null) eof();
      else if (received.length === 3) gotAll();
    });
    const replies: string[] = [];
    const other = b.openChannel(y, (data, fds) => {
      if (data) replies.push(data.toString());
      for (const fd of fds) b.close(fd);
    });
    const p = b.pipe();
    try {
      other.send(Buffer.from('{"type":"procReady"}'), [p[1]]);
      other.send(Buffer.alloc(0));
      other.send(big);
      await all;
      assert.deepEqual(received[0]!.data, '{"type":"procReady"}');
      assert.equal(received[0]!.fds.length, 1);
      const passed = received[0]!.fds[0]!;
      assert.equal(fdTarget(passed), fdTarget(p[1]));
      assert.deepEqual(received[1], { data: '', fds: [] });
      assert.deepEqual(received[2], { data: `len:${big.length}`, fds: [] });

      a.send(Buffer.from('procRun'), [passed]);
      b.close(passed);
      while (replies.length === 0) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(replies, ['procRun']);

      other.close();
      other.close();
      await ended;
      assert.deepEqual(received[3], { data: null, fds: [] });
      assert.equal(received.length, 4);
      assert.throws(() => a.send(Buffer.from('late')), { code: 'EBADF' });
      a.close();
    } finally {
      b.close(p[0]);
      b.close(p[1]);
    }
  });

  test('removeAsync: files then dirs, in order, one code per path; bad arguments throw', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-native-'));
    try {
      fs.writeFileSync(path.join(dir, 'a'), '');
      fs.mkdirSync(path.join(dir, 'empty'));
      fs.mkdirSync(path.join(dir, 'full'));
      fs.writeFileSync(path.join(dir, 'full', 'x'), '');
      const remove = (files: string[], dirs: string[]) =>
        new Promise<(string | null)[]>((resolve, reject) => b.removeAsync!(files, dirs, (err, codes) => (err ? reject(err) : resolve(codes!))));
      const at = (n: string) => path.join(dir, n);
      // The file goes before its directory is tried: the dir's rmdir then succeeds.
      fs.writeFileSync(path.join(dir, 'empty', 'f'), '');
      const codes = await remove([at('a'), at('missing'), at('empty/f'), at('full')], [at('empty'), at('full'), at('gone')]);
      assert.deepEqual(codes, [null, 'ENOENT', null, 'EISDIR', null, 'ENOTEMPTY', 'ENOENT']);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['full']);
      assert.deepEqual(await remove([], []), []);
      assert.throws(() => b.removeAsync!(['a\0b'], [], () => {}), { name: 'TypeError', message: /files\[0\] must not contain NUL/ });
      assert.throws(() => b.removeAsync!([], 'x' as unknown as string[], () => {}), { name: 'TypeError', message: /dirs must be an array/ });
      assert.throws(() => (b.removeAsync as unknown as (f: string[], d: string[]) => void)([], []), { name: 'TypeError', message: /callback/ });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mkdirAsync: mkdir -p of each directory, the ones made listed top first, one result per path; bad arguments throw', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-native-'));
    try {
      const make = (dirs: string[]) =>
        new Promise<MkdirResult[]>((resolve, reject) => b.mkdirAsync!(dirs, 0o755, (err, results) => (err ? reject(err) : resolve(results!))));
      const at = (n: string) => path.join(dir, n);
      fs.mkdirSync(at('have'));
      fs.writeFileSync(at('file'), '');
      const results = await make([at('have'), at('a/b/c'), at('a/b/d'), at('file'), at('file/x')]);
      assert.deepEqual(results, [
        [null, []],
        [null, [at('a'), at('a/b'), at('a/b/c')]],
        [null, [at('a/b/d')]],
        ['ENOTDIR', []],
        ['ENOTDIR', []],
      ]);
      assert.ok(fs.statSync(at('a/b/c')).isDirectory());
      assert.equal(fs.statSync(at('a/b/d')).mode & 0o777, 0o755 & ~process.umask());
      assert.deepEqual(await make([]), []);
      assert.throws(() => b.mkdirAsync!(['relative'], 0o755, () => {}), { name: 'TypeError', message: /dirs\[0\] must be an absolute path/ });
      assert.throws(() => b.mkdirAsync!([at('x\0y')], 0o755, () => {}), { name: 'TypeError', message: /NUL/ });
      assert.throws(() => (b.mkdirAsync as unknown as (d: string[], m: number) => void)([], 0o755), { name: 'TypeError', message: /callback/ });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mkdirAsync setups: applied only in a directory the job made, a failed step named, bad setups refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-native-'));
    try {
      const make = (dirs: string[], setups: unknown[]) =>
        new Promise<MkdirResult[]>((resolve, reject) =>
          b.mkdirAsync!(dirs, 0o755, (err, results) => (err ? reject(err) : resolve(results!)), setups as Parameters<NonNullable<NativeBinding['mkdirAsync']>>[3]),
        );
      const at = (n: string) => path.join(dir, n);
      fs.mkdirSync(at('have'));
      fs.writeFileSync(at('cpus'), '0-1\n');
      // A plain directory has none of cgroupfs's files, and nothing is ever created by a setup.
      const results = await make([at('have'), at('new'), at('plain'), at('list')], [
        { copy: ['cpus'] },
        { copy: ['cpus'] },
        null,
        { expect: ['devices.list', 'a *:* rwm\n'], writes: [['devices.deny', ['a *:* rwm']]] },
      ]);
      assert.deepEqual(results[0], [null, [], { copied: false, wrote: false, error: `EEXIST not made by this job ${at('have')}` }]);
      assert.deepEqual(results[1], [null, [at('new')], { copied: false, wrote: false, error: `ENOENT write ${at('new')}/cpus` }]);
      assert.deepEqual(results[2], [null, [at('plain')]]);
      assert.deepEqual(results[3], [null, [at('list')], { copied: true, wrote: false, error: `ENOENT read ${at('list')}/devices.list` }]);
      assert.deepEqual(fs.readdirSync(at('new')), []);
      const bad: [unknown, RegExp][] = [
        [[{ copy: ['../x'] }], /setups\[0\]\.copy\[0\] must be a file name/],
        [[{ expect: ['f'] }], /setups\[0\]\.expect must be \[file, text\]/],
        [[{ writes: [['a/b', ['1']]] }], /setups\[0\]\.writes\[0\]\[0\] must be a file name/],
        [[{ writes: [['f', [1]]] }], /setups\[0\]\.writes\[0\]\[1\]\[0\] must be a string/],
        [[{ readBack: '..' }], /setups\[0\]\.readBack must be a file name/],
        [['x'], /setups\[0\] must be an object/],
        [[], /one entry per directory/],
      ];
      for (const [setups, message] of bad) {
        assert.throws(() => b.mkdirAsync!([at('z')], 0o755, () => {}, setups as never), { name: 'TypeError', message });
      }
      assert.ok(!fs.existsSync(at('z')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('seccompCompile: libseccomp\'s BPF for a profile; unknown names listed, refusals name the rule, bad input throws', () => {
    const ALLOW = 0x7fff0000;
    const EPERM_ERRNO = 0x00050001;
    const r = b.seccompCompile!({
      defaultAction: ALLOW,
      architectures: ['x86_64', 'x86', 'no_such_arch'],
      rules: [
        { syscall: 'mkdir', action: EPERM_ERRNO, args: [] },
        { syscall: 'kill', action: EPERM_ERRNO, args: [[1, 4, '10', '0']] },
        { syscall: 'no_such_syscall', action: EPERM_ERRNO, args: [] },
      ],
    });
    assert.ok(Buffer.isBuffer(r.filter) && r.filter.length > 0 && r.filter.length % 8 === 0, `${r.filter.length} bytes`);
    // The last instruction of a seccomp program is a BPF_RET (0x06).
    assert.equal(r.filter.readUInt16LE(r.filter.length - 8) & 0x07, 0x06);
    assert.deepEqual(r.unknownSyscalls, ['no_such_syscall']);
    assert.deepEqual(r.unknownArchitectures, ['no_such_arch']);
    // libseccomp refuses a rule that does what the default does: the error says which.
    assert.throws(() => b.seccompCompile!({ defaultAction: ALLOW, architectures: [], rules: [{ syscall: 'read', action: EPERM_ERRNO, args: [] }, { syscall: 'mkdir', action: ALLOW, args: [] }] }),
      (e: Error & { rule?: number }) => e.rule === 1 && /mkdir/.test(e.message));
    assert.throws(() => b.seccompCompile!({ defaultAction: ALLOW, architectures: [], rules: [{ syscall: 'kill', action: EPERM_ERRNO, args: [[6, 4, '1', '0']] }] }), { name: 'TypeError', message: /index must be 0-5/ });
    assert.throws(() => b.seccompCompile!({ defaultAction: ALLOW, architectures: [], rules: [{ syscall: 'kill', action: EPERM_ERRNO, args: [[1, 4, '-1', '0']] }] }), { name: 'TypeError', message: /uint64/ });
    assert.throws(() => (b.seccompCompile as unknown as (x: unknown) => void)(null), { name: 'TypeError' });
  });

  test('seccompCompile with enosys: calls above the profile\'s last one get ENOSYS, per architecture (runc\'s patchbpf)', () => {
    const ALLOW = 0x7fff0000;
    const EPERM_ERRNO = 0x00050001;
    const ENOSYS_ERRNO = 0x00050026;
    const names = ['read', 'write', 'rseq', 'exit_group'];
    const request = { defaultAction: EPERM_ERRNO, architectures: ['x86_64', 'x86', 'x32'], rules: names.map((syscall) => ({ syscall, action: ALLOW, args: [] })) };
    const patched = b.seccompCompile!({ ...request, enosys: names });
    const plain = b.seccompCompile!(request);
    assert.ok((patched.stubInstructions ?? 0) > 0 && plain.stubInstructions === 0, `stub of ${patched.stubInstructions} instructions`);
    const X86_64 = 0xc000003e;
    const I386 = 0x40000003;
    const X32_BIT = 0x40000000;
    const cases: [arch: number, nr: number, patched: number, plain: number, what: string][] = [
      [X86_64, 0, ALLOW, ALLOW, 'read'],
      [X86_64, 39, EPERM_ERRNO, EPERM_ERRNO, 'getpid: below rseq (334), not allowed: the default'],
      [X86_64, 334, ALLOW, ALLOW, 'rseq, the last one named'],
      [X86_64, 335, ENOSYS_ERRNO, EPERM_ERRNO, 'the first number after rseq'],
      [X86_64, 439, ENOSYS_ERRNO, EPERM_ERRNO, 'faccessat2, newer than the profile'],
      [I386, 3, ALLOW, ALLOW, 'i386 read'],
      [I386, 20, EPERM_ERRNO, EPERM_ERRNO, 'i386 getpid'],
      [I386, 439, ENOSYS_ERRNO, EPERM_ERRNO, 'i386 faccessat2, above i386 rseq (386)'],
    ];
    for (const [arch, nr, expectPatched, expectPlain, what] of cases) {
      assert.equal(runSeccompBpf(patched.filter, arch, nr).toString(16), expectPatched.toString(16), `with the stub: ${what}`);
      assert.equal(runSeccompBpf(plain.filter, arch, nr).toString(16), expectPlain.toString(16), `without: ${what}`);
    }
    // x32 calls (x86_64 with bit 30) and other architectures go to libseccomp's program as before.
    assert.equal(runSeccompBpf(patched.filter, X86_64, X32_BIT | 439), runSeccompBpf(plain.filter, X86_64, X32_BIT | 439));
    assert.equal(runSeccompBpf(patched.filter, 0xc00000b7, 439), runSeccompBpf(plain.filter, 0xc00000b7, 439), 'aarch64: the bad-arch action');
    // The stub is only added when asked for.
    assert.equal(b.seccompCompile!({ defaultAction: ALLOW, architectures: [], rules: [] }).stubInstructions, 0);
  });

  test('open, mkfifo and errors carrying the path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-native-'));
    try {
      const fifo = path.join(dir, 'exec.fifo');
      b.mkfifo(fifo, 0o600);
      assert.ok(fs.statSync(fifo).isFIFO());
      assert.throws(() => b.mkfifo(fifo, 0o600), { code: 'EEXIST', path: fifo });
      // O_RDWR on a fifo does not block on Linux.
      const fd = b.open(fifo, b.constants.O_RDWR!);
      b.close(fd);
      assert.throws(() => b.open(path.join(dir, 'missing'), b.constants.O_RDONLY!), {
        code: 'ENOENT',
        syscall: 'open',
        message: /^open .*missing: ENOENT \(No such file or directory\)$/,
      });
      assert.throws(() => b.close(fd), { code: 'EBADF' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('constants', () => {
    const c = b.constants;
    assert.equal(c.CLONE_NEWPID, 0x20000000);
    assert.equal(c.CLONE_NEWUSER, 0x10000000);
    assert.equal(c.CLONE_NEWTIME, 0x80);
    assert.equal(c.O_CLOEXEC, 0o2000000);
    assert.equal(c.RLIMIT_NOFILE, 7);
  });

  // --- spawnAsync: the same clone on a threadpool thread ---

  function spawnAsync(options: SpawnOptions): Promise<SpawnResult> {
    return new Promise((resolve, reject) => {
      b.spawnAsync(options, (err, result) => (err ? reject(err) : resolve(result!)));
    });
  }

  /** spawnAsync with stdout/stderr on a pipe; resolves with status and output once the child exited. */
  async function runAsync(argv: string[], options: Partial<SpawnOptions> = {}): Promise<{ status: ExitStatus; output: string; child: SpawnResult }> {
    const [r, w] = b.pipe();
    let child: SpawnResult;
    try {
      child = await spawnAsync({ execFd: exe, argv, env: ['PATH=/bin'], cloneFlags: 0, fds: [-1, w, w], ...options });
    } finally {
      // Still ours after the callback, success or not: closing it must not throw EBADF.
      b.close(w);
    }
    try {
      const status = await waitExit(child.pidfd);
      return { status, output: fs.readFileSync(r, 'utf8'), child };
    } finally {
      b.close(r);
      b.close(child.pidfd);
    }
  }

  test('spawnAsync: calls back later with pid and pidfd of a child that runs to exit 0', async () => {
    const [r, w] = b.pipe();
    let called = false;
    const result = new Promise<SpawnResult>((resolve, reject) => {
      b.spawnAsync({ execFd: exe, argv: ['sh', '-c', 'echo $$'], env: [], cloneFlags: 0, fds: [-1, w] }, (err, res) => {
        called = true;
        if (err) reject(err);
        else resolve(res!);
      });
    });
    assert.equal(called, false);
    const child = await result;
    b.close(w);
    assert.ok(Number.isInteger(child.pid) && child.pid > 0);
    assert.ok(Number.isInteger(child.pidfd) && child.pidfd > 2);
    assert.match(fdTarget(child.pidfd), /pidfd/);
    // Not reaped yet (only we reap it): its /proc entry is there to compare the start time with.
    assert.equal(child.startTime, readProcStat(child.pid)?.startTime);
    assert.deepEqual(await waitExit(child.pidfd), { exitCode: 0, signal: null });
    assert.equal(fs.readFileSync(r, 'utf8'), `${child.pid}\n`);
    b.close(r);
    b.close(child.pidfd);
  });

  test('spawnAsync: new uts, net, pid, mount and ipc namespaces', async () => {
    const { constants: c } = b;
    const { status, output } = await runAsync(['sh', '-c', 'echo $$; hostname nlc-async && hostname; grep -c : /proc/net/dev'], {
      cloneFlags: c.CLONE_NEWUTS! | c.CLONE_NEWNET! | c.CLONE_NEWPID! | c.CLONE_NEWNS! | c.CLONE_NEWIPC!,
    });
    assert.deepEqual(status, { exitCode: 0, signal: null });
    // pid 1 in its own pid namespace; only a loopback device in its own network namespace.
    assert.equal(output, '1\nnlc-async\n1\n');
    assert.notEqual(os.hostname(), 'nlc-async');
  });

  test('spawnAsync: fds and clean signal state in the child, as with spawn', async () => {
    const [r, w] = b.pipe();
    const again = b.pipe();
    try {
      const child = await spawnAsync({
        execFd: exe,
        argv: ['sh', '-c', 'ls /proc/$$/fd; echo --; readlink /proc/$$/fd/3; exec grep -E "^Sig(Blk|Ign)" /proc/self/status'],
        env: ['PATH=/bin'],
        cloneFlags: 0,
        fds: [-1, w, w, again[0]],
      }).finally(() => b.close(w));
      await waitExit(child.pidfd);
      b.close(child.pidfd);
      const [listing, rest] = fs.readFileSync(r, 'utf8').split('--\n');
      const [fd3, sigBlk, sigIgn] = rest!.split('\n');
      assert.deepEqual(listing!.trim().split(/\s+/).map(Number).sort((m, n) => m - n), [0, 1, 2, 3]);
      assert.equal(fd3, fdTarget(again[0]));
      assert.match(sigBlk!, /^SigBlk:\s+0+$/);
      assert.match(sigIgn!, /^SigIgn:\s+0+$/);
    } finally {
      b.close(r);
      b.close(again[0]);
      b.close(again[1]);
    }
  });

  test('spawnAsync: exec failures call back with errno and syscall, leaving no child behind', async () => {
    const dir = b.open('/tmp', b.constants.O_RDONLY!);
    try {
      await assert.rejects(spawnAsync({ execFd: dir, argv: ['x'], env: [], cloneFlags: 0, fds: [-1] }), {
        code: 'EACCES',
        errno: os.constants.errno.EACCES,
        syscall: 'execveat',
        message: /^spawnAsync: execveat: EACCES/,
      });
      // The caller's fd is untouched.
      assert.equal(fdTarget(dir), '/tmp');
    } finally {
      b.close(dir);
    }
    const closed = b.open('/dev/null', b.constants.O_RDONLY!);
    b.close(closed);
    await assert.rejects(spawnAsync({ execFd: closed, argv: ['x'], env: [], cloneFlags: b.constants.CLONE_NEWNET!, fds: [] }), {
      code: 'EBADF',
      syscall: 'execveat',
    });
    assert.deepEqual(childPids(), []);
  });

  test('spawnAsync: bad arguments throw synchronously and never call back', async () => {
    let called = false;
    const cb = (): void => {
      called = true;
    };
    assert.throws(() => b.spawnAsync({ execFd: exe, argv: [], env: [], cloneFlags: 0, fds: [] }, cb), TypeError);
    assert.throws(() => b.spawnAsync({ execFd: exe, argv: ['x'], env: [], cloneFlags: 0x100 /* CLONE_VM */, fds: [] }, cb), RangeError);
    assert.throws(() => b.spawnAsync({ execFd: exe, argv: ['x'], env: [], cloneFlags: 0, fds: [-2] }, cb), RangeError);
    assert.throws(() => b.spawnAsync({ execFd: exe, argv: ['x'], env: [], cloneFlags: 0, fds: [], cpuAffinity: [] }, cb), RangeError);
    assert.throws(() => b.spawnAsync({ execFd: -1, argv: ['x'], env: [], cloneFlags: 0, fds: [] }, cb), RangeError);
    assert.throws(() => b.spawnAsync(null as unknown as SpawnOptions, cb), { name: 'TypeError', message: /^spawnAsync: options must be an object$/ });
    assert.throws(
      () => b.spawnAsync({ execFd: exe, argv: ['true'], env: [], cloneFlags: 0, fds: [] }, 'no' as unknown as () => void),
      { name: 'TypeError', message: /callback must be a function/ },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(called, false);
    assert.deepEqual(childPids(), []);
  });

  test('spawnAsync: 20 at once each get their own stdio', async () => {
    const { constants: c } = b;
    const n = 20;
    const pipes = Array.from({ length: n }, () => b.pipe());
    try {
      const children = await Promise.all(
        pipes.map(([, w], i) =>
          spawnAsync({
            execFd: exe,
            argv: ['sh', '-c', `echo child-${i}; readlink /proc/self/fd/1 >&2`],
            env: ['PATH=/bin'],
            cloneFlags: i % 2 ? c.CLONE_NEWUTS! | c.CLONE_NEWPID! | c.CLONE_NEWNET! : 0,
            fds: [-1, w, w],
          }),
        ),
      );
      for (const [, w] of pipes) b.close(w);
      assert.equal(new Set(children.map((ch) => ch.pid)).size, n);
      const statuses = await Promise.all(children.map((ch) => waitExit(ch.pidfd)));
      for (const ch of children) b.close(ch.pidfd);
      for (const status of statuses) assert.deepEqual(status, { exitCode: 0, signal: null });
      // Each child wrote to its own pipe, and its fd 1 was that pipe (same inode as the read end).
      pipes.forEach(([r], i) => assert.equal(fs.readFileSync(r, 'utf8'), `child-${i}\n${fdTarget(r)}\n`));
    } finally {
      for (const [r] of pipes) b.close(r);
    }
  });

  test('spawnAsync: CLONE_INTO_CGROUP, and clone3 errors through the callback', async (t) => {
    const own = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    const v2 = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .find((fields) => fields[fields.indexOf('-') + 1] === 'cgroup2');
    if (!v2 || !own) return t.skip('no cgroup v2 hierarchy mounted');
    const cg = b.open(path.join(v2[4]!, own.slice(3)), b.constants.O_RDONLY! | b.constants.O_DIRECTORY!);
    try {
      const { status, output } = await runAsync(['sh', '-c', 'grep ^0:: /proc/self/cgroup'], { cgroupFd: cg });
      assert.deepEqual(status, { exitCode: 0, signal: null });
      assert.equal(output.trim(), own);
      await assert.rejects(spawnAsync({ execFd: exe, argv: ['true'], env: [], cloneFlags: 0, fds: [], cgroupFd: exe }), {
        syscall: 'clone3',
        message: /^spawnAsync: clone3: /,
      });
    } finally {
      b.close(cg);
    }
  });

  test('spawnAsync: the event loop runs while children are being cloned', async () => {
    const { constants: c } = b;
    const flags = c.CLONE_NEWUTS! | c.CLONE_NEWPID! | c.CLONE_NEWNET! | c.CLONE_NEWNS! | c.CLONE_NEWIPC!;
    let ticks = 0;
    let ticking = true;
    const tick = (): void => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const children = await Promise.all(
      Array.from({ length: 8 }, () => spawnAsync({ execFd: exe, argv: ['true'], env: [], cloneFlags: flags, fds: [] })),
    );
    ticking = false;
    await Promise.all(children.map((ch) => waitExit(ch.pidfd)));
    for (const ch of children) b.close(ch.pidfd);
    // Eight namespace clones take several ms on the threadpool; the loop turned meanwhile.
    assert.ok(ticks > 1, `event loop turned ${ticks} times`);
  });
});

/**
 * A classic BPF interpreter for what seccomp programs use (loads from seccomp_data, jumps,
 * returns): the action a program returns for a call `nr` on architecture `arch`, no args.
 */
function runSeccompBpf(program: Buffer, arch: number, nr: number): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr | 0, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  let a = 0;
  const mem = new Array<number>(16).fill(0);
  let x = 0;
  for (let pc = 0, steps = 0; pc < program.length / 8 && steps < 10000; steps++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case 0x20: a = data.readUInt32LE(k); break; // ld [k]
      case 0x00: a = k; break; // ld #k
      case 0x60: a = mem[k]; break; // ld M[k]
      case 0x02: mem[k] = a; break; // st M[k]
      case 0x01: x = k; break; // ldx #k
      case 0x61: x = mem[k]; break; // ldx M[k]
      case 0x54: a = (a & k) >>> 0; break; // and #k
      case 0x05: pc += k; break; // ja
      case 0x15: pc += a === k ? jt : jf; break; // jeq #k
      case 0x25: pc += a > k ? jt : jf; break; // jgt #k
      case 0x35: pc += a >= k ? jt : jf; break; // jge #k
      case 0x45: pc += (a & k) !== 0 ? jt : jf; break; // jset #k
      case 0x06: return k; // ret #k
      case 0x16: return a; // ret a
      default: throw new Error(`runSeccompBpf: opcode 0x${code.toString(16)} at ${pc - 1} not interpreted`);
    }
    void x;
  }
  throw new Error('runSeccompBpf: ran off the program');
}
