/**
 * The init helper (addon/init) under attack and abuse: what a process inside the container
 * can see of it, what it refuses to be redirected into, how it behaves when its parent goes
 * away or sends garbage, and that the hooks it runs leave nothing behind. Root only.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createContainer, HookError, InitError, loadContainer } from '../../lib';
import { loadBinding, sealedInitHelper } from '../../lib/native/binding';
import type { ExitStatus, NativeBinding } from '../../lib/native/types';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_BIND, MS_REC, MS_SLAVE } from '../../lib/spec/linux';
import { collect, makeConfig, skipUnlessRoot, tempRoot, testRootfs } from './helpers';

const skip = skipUnlessRoot();

type Overrides = Record<string, unknown>;

/** makeConfig with the process's args replaced (and other process fields merged). */
function configWith(overrides: Overrides, args: string[], processExtra: Overrides = {}): Overrides {
  const base = makeConfig(overrides) as { process: Overrides };
  return { ...base, process: { ...base.process, args, ...processExtra } };
}

/** The default namespaces without a pid namespace: the helper is then not pid 1 of anything. */
function withoutPidNamespace(): Overrides {
  const base = makeConfig({}) as { linux: { namespaces: { type: string }[] } };
  return { linux: { ...base.linux, namespaces: base.linux.namespaces.filter((n) => n.type !== 'pid') } };
}

function defaultMountsPlus(...extra: unknown[]): unknown[] {
  return [...(makeConfig({}) as { mounts: unknown[] }).mounts, ...extra];
}

/** Host pids whose command line contains every one of `words` (NUL-separated argv). */
function pidsRunning(...words: string[]): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      if (words.every((w) => cmdline.includes(w))) found.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** The direct children of pid, from every thread's children list. */
function childrenOf(pid: number): number[] {
  const pids: number[] = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
    if (text) pids.push(...text.split(/\s+/).map(Number));
  }
  return pids;
}

async function waitFor(what: string, check: () => boolean, ms = 8000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A duration nobody else sleeps for, to find exactly our processes in /proc. */
function uniqueSleep(): string {
  return `${1000 + Math.floor(Math.random() * 8000)}.${process.pid}`;
}

/** Run the container's init to exit; stdout, stderr and the exit. */
async function runToExit(root: string, id: string, config: Overrides) {
  const c = await createContainer(id, config, { root });
  try {
    const p = await c.run();
    const [out, err] = [collect(p.stdout!), collect(p.stderr!)];
    const exit = await p.wait();
    return { out: (await out).trim(), err: (await err).trim(), exit };
  } finally {
    await c.destroy();
  }
}

/**
 * A Node process of its own that creates a container and says `created` once start()
 * resolved (or `error <message>`), then stays alive until killed or exits with `exitAfter`.
 */
function creatorProcess(dir: string, root: string, id: string, config: Overrides, exitAfter: boolean) {
  const configFile = path.join(dir, `${id}.json`);
  fs.writeFileSync(configFile, JSON.stringify(config));
  const lib = path.resolve(__dirname, '..', '..', 'lib', 'index.js');
  const script = `
    const { createContainer } = require(${JSON.stringify(lib)});
    const config = JSON.parse(require('fs').readFileSync(${JSON.stringify(configFile)}, 'utf8'));
    createContainer(${JSON.stringify(id)}, config, { root: ${JSON.stringify(root)} })
      .then((c) => c.start({ stdio: 'ignore' }))
      .then(() => { process.stdout.write('created\\n'); ${exitAfter ? 'process.exit(0);' : ''} })
      .catch((e) => { process.stdout.write('error ' + e.message + '\\n'); process.exit(1); });
    setInterval(() => {}, 1000);
  `;
  return childProcess.spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}

describe('init helper: what the container can reach of it', { skip }, () => {
  const t = tempRoot();
  after(() => t.cleanup());

  test('a process exec\'d into a created container cannot open the waiting init\'s fds; after exec() it can read the program\'s', async () => {
    const c = await createContainer('harden-dumpable', configWith({}, ['sleep', '1000']), { root: t.root });
    try {
      await c.start({ stdio: 'ignore' });
      // Same uid and capabilities as the init has at this point: only non-dumpable protects
      // its sync socket, log pipe and the host's exec fifo from /proc/1/fd.
      const probe = 'for f in /proc/1/fd/*; do readlink $f || echo denied; done; cat /proc/1/environ >/dev/null 2>&1 && echo environ-readable || echo environ-denied';
      const p = await c.start({ init: false, args: ['sh', '-c', probe] });
      const out = await collect(p.stdout!);
      await p.wait();
      assert.match(out, /^denied$/m);
      assert.match(out, /^environ-denied$/m);
      assert.doesNotMatch(out, /exec\.fifo|environ-readable|socket:|pipe:/, out);

      await c.exec();
      const p2 = await c.start({ init: false, args: ['sh', '-c', 'cat /proc/1/environ >/dev/null && echo environ-readable'] });
      const out2 = await collect(p2.stdout!);
      await p2.wait();
      assert.match(out2, /environ-readable/, 'the user\'s program is dumpable again after its execve');
    } finally {
      await c.destroy();
    }
  });

  test('the program starts with no signal blocked or ignored', async () => {
    const r = await runToExit(t.root, 'harden-signals', configWith({}, ['cat', '/proc/self/status']));
    assert.equal(r.exit.exitCode, 0, r.err);
    assert.match(r.out, /^SigBlk:\s+0+$/m);
    assert.match(r.out, /^SigIgn:\s+0+$/m);
  });

  test('an ordinary sysctl is still written (the over-mounted case is in the sync-socket tests below)', async () => {
    const ok = await runToExit(t.root, 'harden-sysctl-ok',
      configWith({ linux: { ...(makeConfig({}) as { linux: object }).linux, sysctl: { 'net.ipv4.ip_forward': '1' } } }, ['cat', '/proc/sys/net/ipv4/ip_forward']));
    assert.equal(ok.out, '1', ok.err);
    // Slashes as the separators, as sysctl.d(5) and runc take them.
    const slashed = await runToExit(t.root, 'harden-sysctl-slash',
      configWith({ linux: { ...(makeConfig({}) as { linux: object }).linux, sysctl: { 'net/ipv4/ip_forward': '1', 'net/ipv4/conf/lo/forwarding': '1' } } }, ['cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv4/conf/lo/forwarding']));
    assert.equal(slashed.out.split(/\s+/).join(' '), '1 1', slashed.err);
  });

  test('masked paths refuse a /dev/null that is not the null device', async () => {
    const devDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-dev-'));
    try {
      fs.symlinkSync('/proc/sys/kernel/hostname', path.join(devDir, 'null'));
      const mounts = [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/dev', type: 'bind', source: devDir, options: ['bind'] }];
      const c = await createContainer('harden-devnull', configWith({ mounts }, ['true']), { root: t.root });
      try {
        await assert.rejects(c.run(), (e: unknown) => e instanceof InitError && e.stage === 'masked_paths' && /null device/.test(e.message));
      } finally {
        await c.destroy();
      }
    } finally {
      fs.rmSync(devDir, { recursive: true, force: true });
    }
  });
});

describe('init helper: exec errors name the stage, syscall, errno and path', { skip }, () => {
  const t = tempRoot();
  after(() => t.cleanup());
  const { EISDIR, EACCES, ENOTDIR } = os.constants.errno;

  for (const mode of ['init', 'exec'] as const) {
    /** Start `fields` as the init, or exec it into a running container. */
    const startWith = async (id: string, fields: Overrides): Promise<unknown> => {
      if (mode === 'init') {
        const c = await createContainer(id, configWith({}, ['true'], fields), { root: t.root });
        try {
          await c.run();
          return null;
        } catch (err) {
          return err;
        } finally {
          await c.destroy();
        }
      }
      const c = await createContainer(id, configWith({}, ['sleep', '1000']), { root: t.root });
      try {
        await c.run({ stdio: 'ignore' });
        await c.start({ init: false, args: ['true'], ...fields });
        return null;
      } catch (err) {
        return err;
      } finally {
        await c.destroy();
      }
    };

    test(`${mode}: a program path that is a directory`, async () => {
      const err = await startWith(`harden-dir-${mode}`, { args: ['/bin'] });
      assert.ok(err instanceof InitError, String(err));
      assert.equal(err.stage, 'exec');
      assert.equal(err.errno, EISDIR);
      assert.equal(err.path, '/bin');
    });

    test(`${mode}: args[0] with a slash that is not executable`, async () => {
      const err = await startWith(`harden-noexec-${mode}`, { args: ['/etc/passwd'] });
      assert.ok(err instanceof InitError, String(err));
      assert.equal(err.stage, 'exec');
      assert.equal(err.errno, EACCES);
      assert.equal(err.path, '/etc/passwd');
    });

    test(`${mode}: a cwd that is a file`, async () => {
      const err = await startWith(`harden-cwdfile-${mode}`, { cwd: '/etc/passwd' });
      assert.ok(err instanceof InitError, String(err));
      assert.equal(err.stage, 'cwd');
      assert.equal(err.syscall, 'chdir');
      assert.equal(err.errno, ENOTDIR);
      assert.equal(err.path, '/etc/passwd');
    });
  }

  test('an execve that fails after the path was found (ENOEXEC) rejects run() and exec with its errno; the socket stays open until the exec', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-noexec-'));
    try {
      // Executable, found on the path, but neither ELF nor a script: only execve itself can tell.
      fs.writeFileSync(path.join(dir, 'text'), 'just text\n', { mode: 0o755 });
      const mounts = defaultMountsPlus({ destination: '/opt', type: 'bind', source: dir, options: ['bind', 'ro'] });
      const expectEnoexec = (err: unknown) => {
        assert.ok(err instanceof InitError, String(err));
        assert.equal(err.stage, 'exec');
        assert.equal(err.syscall, 'execve');
        assert.equal(err.errno, os.constants.errno.ENOEXEC);
        assert.equal(err.path, '/opt/text');
      };
      const init = await createContainer('harden-enoexec-init', configWith({ mounts }, ['/opt/text']), { root: t.root });
      try {
        await assert.rejects(init.run({ stdio: 'ignore' }), (err) => (expectEnoexec(err), true));
        assert.equal(await init.status(), 'stopped');
      } finally {
        await init.destroy();
      }
      const c = await createContainer('harden-enoexec-exec', configWith({ mounts }, ['sleep', '1000']), { root: t.root });
      try {
        await c.run({ stdio: 'ignore' });
        await assert.rejects(c.start({ init: false, args: ['/opt/text'], stdio: 'ignore' }), (err) => (expectEnoexec(err), true));
        // When start() resolves, the program has replaced the helper.
        const p = await c.start({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
        assert.ok(fs.readlinkSync(`/proc/${p.pid}/exe`).endsWith('busybox'));
        p.signal('SIGKILL');
        await p.wait();
      } finally {
        await c.destroy();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('env: one entry per name, the last value wins; an empty HOME is filled in', async () => {
    const r = await runToExit(t.root, 'harden-env',
      configWith({}, ['sh', '-c', 'echo "$A $HOME"; env | grep -c "^A="; env | grep -c "^HOME="'], { env: ['PATH=/bin:/usr/bin', 'A=1', 'HOME=', 'A=2'] }));
    assert.equal(r.exit.exitCode, 0, r.err);
    assert.deepEqual(r.out.split('\n'), ['2 /root', '1', '1']);
  });
});

describe('init helper: hooks leave nothing behind', { skip }, () => {
  const t = tempRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-hardhooks-'));
  after(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a createContainer hook that times out takes its background children with it', async () => {
    const nap = uniqueSleep();
    const hook = { path: '/bin/sh', args: ['sh', '-c', `sleep ${nap} & sleep ${nap} & wait`], timeout: 1 };
    const c = await createContainer('harden-hook-timeout', configWith({ ...withoutPidNamespace(), hooks: { createContainer: [hook] } }, ['true']), { root: t.root });
    try {
      await assert.rejects(c.run(), (e: unknown) => e instanceof HookError && e.hook === 'createContainer' && /timed out/.test(e.message) && e.cause instanceof InitError && e.cause.stage === 'hooks');
    } finally {
      await c.destroy();
    }
    await waitFor('the hook\'s children to be gone', () => pidsRunning('sleep', nap).length === 0, 3000);
  });

  test('hooks get stdio only, and the startContainer hook runs with the process umask', async () => {
    const hooks = {
      createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `ls /proc/self/fd > ${dir}/create-fds`] }],
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'umask > /hooks/start-umask; ls /proc/self/fd > /hooks/start-fds'] }],
    };
    const mounts = defaultMountsPlus({ destination: '/hooks', type: 'bind', source: dir, options: ['bind'] });
    const r = await runToExit(t.root, 'harden-hook-fds', configWith({ hooks, mounts }, ['true'], { user: { uid: 0, gid: 0, umask: 0o027 } }));
    assert.equal(r.exit.exitCode, 0, r.err);
    for (const file of ['create-fds', 'start-fds']) {
      // ls itself holds one more fd for the directory it lists.
      const fds = fs.readFileSync(path.join(dir, file), 'utf8').trim().split(/\s+/).map(Number);
      assert.deepEqual(fds.filter((fd) => fd < 3), [0, 1, 2], file);
      assert.ok(fds.filter((fd) => fd >= 3).length <= 1, `${file}: ${fds.join(' ')}`);
    }
    assert.equal(fs.readFileSync(path.join(dir, 'start-umask'), 'utf8').trim(), '0027');
  });

  test('the Node parent dies while a createContainer hook runs: the helper and the hook\'s whole group go', async () => {
    const nap = uniqueSleep();
    const marker = path.join(dir, 'hook-started');
    const hook = { path: '/bin/sh', args: ['sh', '-c', `sleep ${nap} & echo started > ${marker}; wait`] };
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-orphan-'));
    const creator = creatorProcess(dir, root, 'harden-orphan', configWith({ ...withoutPidNamespace(), hooks: { createContainer: [hook] } }, ['true']), false);
    try {
      await waitFor('the hook to start', () => fs.existsSync(marker));
      // The marker follows the fork of the sleep, not its exec: wait for the exec too.
      await waitFor('the hook\'s sleep to run', () => pidsRunning('sleep', nap).length === 1);
      const helpers = childrenOf(creator.pid!);
      assert.equal(helpers.length, 1, 'the creator has one child: the helper');
      creator.kill('SIGKILL');
      await waitFor('the hook\'s process group to be killed', () => pidsRunning('sleep', nap).length === 0, 5000);
      await waitFor('the helper to exit', () => !fs.existsSync(`/proc/${helpers[0]}`) || /\) [ZX] /.test(fs.readFileSync(`/proc/${helpers[0]}/stat`, 'utf8')), 5000);
    } finally {
      creator.kill('SIGKILL');
      // The creator died mid-create: what it made (state, cgroups) is ours to remove.
      await loadContainer('harden-orphan', { root }).then((c) => c.destroy(), () => undefined);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a created container outlives the Node process that created it', async () => {
    const root = t.root;
    const creator = creatorProcess(dir, root, 'harden-survivor', configWith({}, ['sh', '-c', 'echo released']), true);
    const said = await collect(creator.stdout!);
    assert.equal(said.trim(), 'created');
    await new Promise((r) => creator.once('exit', r));
    const c = await loadContainer('harden-survivor', { root });
    try {
      assert.equal(await c.status(), 'created');
      await c.exec();
    } finally {
      await c.destroy();
    }
  });
});

describe('init helper: a parent that misbehaves on the sync socket', { skip }, () => {
  let b: NativeBinding;

  interface Helper {
    messages: Array<Record<string, unknown> | 'eof'>;
    send(message: string | object): void;
    closeParentEnd(): void;
    exit: Promise<ExitStatus>;
  }

  /**
   * The sealed helper with a sync socket and log pipe (host namespaces unless cloneFlags);
   * `answer` may reply to each message it sends.
   */
  function spawnHelper(cloneFlags = 0, answer: (m: Record<string, unknown>, h: Helper) => void = () => {}): Helper {
    b ??= loadBinding();
    const [parentEnd, childEnd] = b.socketpair();
    const [logRead, logWrite] = b.pipe();
    const spawned = b.spawn({ execFd: sealedInitHelper(b), argv: ['nlc-init', '3'], env: [], cloneFlags, fds: [-1, -1, -1, childEnd, logWrite] });
    b.close(childEnd);
    b.close(logWrite);
    b.close(logRead);
    const h = { messages: [] } as unknown as Helper;
    const channel = b.openChannel(parentEnd, (data, fds) => {
      fds.forEach((fd) => b.close(fd));
      if (data === null) {
        h.messages.push('eof');
        return;
      }
      const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      h.messages.push(m);
      answer(m, h);
    });
    h.send = (message) => channel.send(Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)));
    h.closeParentEnd = () => channel.close();
    h.exit = new Promise<ExitStatus>((resolve) => {
      b.watchExit(spawned.pidfd, true, (status) => {
        b.close(spawned.pidfd);
        channel.close();
        resolve(status);
      });
    });
    return h;
  }

  function procError(h: Helper): Record<string, unknown> {
    const error = h.messages.find((m) => m !== 'eof' && m.type === 'procError');
    assert.ok(error && error !== 'eof', JSON.stringify(h.messages));
    return error;
  }

  async function expectBootstrapError(text: string, pattern: RegExp): Promise<void> {
    const h = spawnHelper();
    h.send(text);
    const exit = await h.exit;
    assert.equal(exit.exitCode, 1);
    const error = procError(h);
    assert.equal(error.stage, 'bootstrap');
    assert.match(String(error.message), pattern);
  }

  test('the parent closes the socket before the bootstrap: the helper exits 1', async () => {
    const h = spawnHelper();
    h.closeParentEnd();
    const exit = await Promise.race([h.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
    assert.deepEqual(exit, { exitCode: 1, signal: null });
  });

  test('malformed JSON, the wrong first message, deep nesting and a huge message: procError, exit 1', async () => {
    await expectBootstrapError('{"type": "bootstrap", ', /bad message/);
    await expectBootstrapError('{"type": "procRun"}', /unexpected message procRun, expected bootstrap/);
    await expectBootstrapError('['.repeat(5000) + ']'.repeat(5000), /nesting too deep/);
    await expectBootstrapError(JSON.stringify({ type: 'bootstrap', pad: 'x'.repeat(150_000) }), /mode: missing/);
    await expectBootstrapError(JSON.stringify({ type: 'bootstrap', mode: 'init', rootfs: 'relative' }), /rootfs: must be an absolute path/);
  });

  test('a sysctl whose file is covered by a mount is refused, not written through the mount', async () => {
    // The TS side never builds this plan (it refuses kernel.ns_last_pid as a sysctl), but a
    // racing mount in a shared mount namespace can produce the same picture: the host's
    // kernel.hostname file bound over ns_last_pid, an lxcfs-style mount runc allows. Writing
    // "kernel.ns_last_pid" would really write whatever procfs file was bound there.
    const mount = (source: string, destination: string, type: string, isBind: boolean) =>
      ({ source, destination, type, flags: isBind ? MS_BIND : 0, data: '', propagation: [], remountFlags: 0, isBind, isFile: isBind });
    const bootstrap = {
      type: 'bootstrap', mode: 'init', extraFiles: 0, logFd: 4, joinPidfd: -1, joinFlags: 0,
      namespaces: { join: [], unshare: 0, forkChild: false },
      rootfs: testRootfs(), rootPropagation: MS_SLAVE | MS_REC, readonlyRoot: false,
      mounts: [mount('proc', '/proc', 'proc', false), mount('/proc/sys/kernel/hostname', '/proc/sys/kernel/ns_last_pid', 'bind', true)],
      defaultDevices: false, devices: [], maskedPaths: [], readonlyPaths: [],
      sysctl: { 'kernel.ns_last_pid': 'redirected' }, execFifo: '', hooks: { createContainer: [], startContainer: [] },
      process: { args: ['true'], env: [], cwd: '/', uid: 0, gid: 0, additionalGids: [], umask: null, noNewPrivileges: false, capabilities: null, oomScoreAdj: null },
    };
    const flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
    const h = spawnHelper(flags, (m, helper) => {
      if (m.type === 'procHooks') helper.send({ type: 'procHooksDone', state: null });
      if (m.type === 'procReady') helper.send({ type: 'procError', message: 'the sysctl was written' });
    });
    h.send(bootstrap);
    assert.equal((await h.exit).exitCode, 1);
    const error = procError(h);
    assert.equal(error.stage, 'sysctl');
    assert.equal(error.syscall, 'openat2');
    assert.equal(error.errno, os.constants.errno.EXDEV);
    assert.equal(error.path, '/proc/sys/kernel/ns_last_pid');
  });
});
