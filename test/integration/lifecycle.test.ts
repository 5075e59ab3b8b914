import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { createContainer, loadContainer, listContainers, ContainerStateError } from '../../lib';
import { skipUnlessRoot, makeConfig, tempRoot, collect, testRootfs } from './helpers';

const skip = skipUnlessRoot();

describe('container lifecycle', { skip }, () => {
  const roots: { cleanup(): Promise<void> | void }[] = [];
  after(async () => {
    for (const r of roots) await r.cleanup();
  });
  function root(): string {
    const r = tempRoot();
    roots.push(r);
    return r.root;
  }

  test('run to exit: pid 1, hostname, uid inside; exit code reported; destroy removes the state', async () => {
    const stateRoot = root();
    const c = await createContainer('life-run', makeConfig({ process: { args: ['sh', '-c', 'echo pid=$$ host=$(hostname) uid=$(id -u); exit 7'] } }), { root: stateRoot });
    assert.equal(await c.status(), 'stopped');
    const p = await c.run();
    const out = collect(p.stdout!);
    const exit = await p.wait();
    assert.deepEqual(exit, { exitCode: 7, signal: null });
    assert.equal((await out).trim(), 'pid=1 host=nlc-test uid=0');
    assert.equal(await c.status(), 'stopped');
    await c.destroy();
    assert.equal(fs.existsSync(path.join(stateRoot, 'life-run')), false);
    await c.destroy(); // twice is not an error
  });

  test('start leaves the container created until exec; state and ociState report it', async () => {
    const stateRoot = root();
    const c = await createContainer('life-start', makeConfig({ process: { args: ['sh', '-c', 'echo released'] } }), { root: stateRoot });
    const p = await c.start({ stdio: ['ignore', 'pipe', 'pipe'] });
    const out = collect(p.stdout!);
    assert.equal(await c.status(), 'created');
    const st = await c.state();
    assert.equal(st.status, 'created');
    assert.equal(st.pid, p.pid);
    // As runc list shows them: the spec version of the runtime, the state directory's owner.
    assert.equal(st.ociVersion, '1.3.0');
    assert.equal(st.owner, 'root');
    const oci = await c.ociState();
    assert.equal(oci.id, 'life-start');
    assert.equal(oci.status, 'created');
    assert.equal(oci.pid, p.pid);
    // Nothing runs before exec: the fifo holds it.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(p.exitStatus, null);
    await c.exec();
    assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
    assert.equal((await out).trim(), 'released');
    await assert.rejects(c.exec(), ContainerStateError);
    await c.destroy();
  });

  test('exec from another Node process through loadContainer; listContainers sees it', async () => {
    const stateRoot = root();
    const c = await createContainer('life-other', makeConfig({ process: { args: ['sh', '-c', 'echo from-other'] } }), { root: stateRoot });
    const p = await c.start();
    const out = collect(p.stdout!);
    const listed = await listContainers({ root: stateRoot });
    assert.deepEqual(listed.map((s) => [s.id, s.status]), [['life-other', 'created']]);
    const lib = path.resolve(__dirname, '..', '..', 'lib', 'index.js');
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(lib)}).loadContainer('life-other', { root: ${JSON.stringify(stateRoot)} }).then((c) => c.exec()).catch((e) => { console.error(e); process.exit(1); })`], { stdio: 'inherit' });
    assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
    assert.equal((await out).trim(), 'from-other');
    const again = await loadContainer('life-other', { root: stateRoot });
    assert.equal(await again.status(), 'stopped');
    await again.destroy();
    await c.destroy();
    assert.deepEqual(await listContainers({ root: stateRoot }), []);
  });

  test('exec into a running container joins its namespaces, with its own env, cwd, user', async () => {
    const stateRoot = root();
    const c = await createContainer('life-exec', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: stateRoot });
    const init = await c.run({ stdio: 'ignore' });
    assert.equal(await c.status(), 'running');
    const p = await c.run({
      init: false,
      args: ['sh', '-c', 'echo pid=$$ host=$(hostname) uid=$(id -u) gid=$(id -g) cwd=$(pwd) foo=$FOO init=$(cat /proc/1/comm) net=$(readlink /proc/self/ns/net); exit 5'],
      env: ['PATH=/bin', 'FOO=bar'],
      cwd: '/tmp',
      user: { uid: 1000, gid: 1000 },
    });
    const out = (await collect(p.stdout!)).trim();
    assert.deepEqual(await p.wait(), { exitCode: 5, signal: null });
    const initNet = fs.readlinkSync(`/proc/${init.pid}/ns/net`);
    assert.match(out, /^pid=\d+ host=nlc-test uid=1000 gid=1000 cwd=\/tmp foo=bar init=sleep net=(.*)$/);
    assert.notEqual(out.match(/pid=(\d+)/)![1], '1');
    assert.equal(out.match(/net=(.*)$/)![1], initNet);
    // A signal that kills the exec'd process is reported by name.
    const q = await c.run({ init: false, args: ['sh', '-c', 'kill -9 $$'], stdio: 'ignore' });
    assert.deepEqual(await q.wait(), { exitCode: null, signal: 'SIGKILL' });
    await c.destroy();
    assert.equal(init.exitStatus?.signal, 'SIGKILL');
  });

  test('each init gets a network namespace of its own: only lo, up, in /proc and /sys alike; none held here afterwards, failed starts included', async () => {
    const stateRoot = root();
    const heldNetns = () =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('net:');
        } catch {
          return false; // the directory's own fd, closed by now
        }
      });
    const ours = fs.readlinkSync('/proc/self/ns/net');
    const seen = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const script = 'readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; ls /sys/class/net; cat /sys/class/net/lo/flags';
      const c = await createContainer(`life-netns-${i}`, makeConfig({ process: { args: ['sh', '-c', script] } }), { root: stateRoot });
      const p = await c.run();
      const out = (await collect(p.stdout!)).trim().split('\n');
      assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
      await c.destroy();
      assert.match(out[0], /^net:\[\d+\]$/);
      seen.add(out[0]);
      // sysfs shows the container's namespace: it was joined before the mounts were made.
      assert.deepEqual(out.slice(1), ['lo', 'lo', '0x9'], 'only a loopback device, up (IFF_UP|IFF_LOOPBACK)');
    }
    assert.ok(!seen.has(ours));
    // One each, told apart while they live (a namespace's inode number is reused once it is freed).
    const live = await Promise.all([0, 1, 2].map((i) => createContainer(`life-netns-live-${i}`, makeConfig({ process: { args: ['sleep', '1000'] } }), { root: stateRoot })));
    const inits = await Promise.all(live.map((c) => c.run({ stdio: 'ignore' })));
    const netns = inits.map((p) => fs.readlinkSync(`/proc/${p.pid}/ns/net`));
    await Promise.all(live.map((c) => c.destroy()));
    assert.equal(new Set([...netns, ours]).size, 4, `three namespaces of their own: ${netns.join(' ')} (ours ${ours})`);

    // Failed starts, in the helper (no such program) and in the parent (a second init for a running
    // container), leave none open here either.
    const bad = await createContainer('life-netns-bad', makeConfig({ process: { args: ['/no/such/program'] } }), { root: stateRoot });
    await assert.rejects(bad.run({ stdio: 'ignore' }), /no\/such\/program/);
    await bad.destroy();
    const running = await createContainer('life-netns-run', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: stateRoot });
    await running.run({ stdio: 'ignore' });
    const other = await loadContainer('life-netns-run', { root: stateRoot });
    await assert.rejects(other.start({ init: true, stdio: 'ignore' }), ContainerStateError);
    await running.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(heldNetns(), [], 'no network namespace fd left in this process');
  });

  test('p.unref(): Node exits while the container runs on (as a child_process.unref()\'d child); loadContainer finds it', async () => {
    const stateRoot = root();
    const script = `
      const { createContainer } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/index.js'))});
      (async () => {
        const c = await createContainer('life-unref', ${JSON.stringify(makeConfig({ process: { args: ['sleep', '1000'] } }))}, { root: ${JSON.stringify(stateRoot)} });
        const p = await c.run({ stdio: 'ignore' });
        p.unref();
        console.log(p.pid);
      })();`;
    const started = Date.now();
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.ok(Date.now() - started < 15_000, 'node exited by itself');
    const c = await loadContainer('life-unref', { root: stateRoot });
    assert.equal(await c.status(), 'running');
    assert.equal((await c.state()).pid, Number(out.trim()));
    await c.destroy();
  });

  test('dieWithParent: the Node process SIGKILLed, its running init, its created init and its exec\'d process die with it; a container without it runs on', async () => {
    const stateRoot = root();
    const config = makeConfig({ process: { args: ['sleep', '1000'] } });
    const script = `
      const { createContainer } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/index.js'))});
      const config = ${JSON.stringify(config)};
      const opts = { root: ${JSON.stringify(stateRoot)} };
      (async () => {
        const a = await createContainer('life-die-a', config, opts);
        const running = await a.run({ stdio: 'ignore', dieWithParent: true });
        const exec = await a.run({ init: false, args: ['sleep', '1000'], stdio: 'ignore', dieWithParent: true });
        const b = await createContainer('life-die-b', config, opts);
        const created = await b.start({ stdio: 'ignore', dieWithParent: true });
        const c = await createContainer('life-die-c', config, opts);
        const kept = await c.run({ stdio: 'ignore' });
        console.log(JSON.stringify({ running: running.pid, exec: exec.pid, created: created.pid, kept: kept.pid }));
        setInterval(() => {}, 1000);
      })().catch((err) => { console.error(err); process.exit(1); });`;
    const { spawn } = await import('node:child_process');
    const driver = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        driver.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        driver.once('exit', (code) => reject(new Error(`the driver exited (${code}) before starting its containers`)));
      });
      const pids = JSON.parse(line) as Record<'running' | 'exec' | 'created' | 'kept', number>;
      driver.kill('SIGKILL');
      const gone = (pid: number): boolean => !fs.existsSync(`/proc/${pid}`) || / [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').slice(-200).replace(/^.*\)/, ''));
      const deadline = Date.now() + 10_000;
      while (!(gone(pids.running) && gone(pids.exec) && gone(pids.created)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const which of ['running', 'exec', 'created'] as const) assert.ok(gone(pids[which]), `the ${which} process (pid ${pids[which]}) died with its Node process`);
      assert.equal(gone(pids.kept), false, 'the container without dieWithParent runs on');
    } finally {
      driver.kill('SIGKILL');
      for (const id of ['life-die-a', 'life-die-b', 'life-die-c']) {
        const c = await loadContainer(id, { root: stateRoot }).catch(() => null);
        await c?.destroy();
      }
    }
    assert.deepEqual(await listContainers({ root: stateRoot }), []);
  });

  test('the init and exec\'d processes join the container\'s own session keyring (_ses.<id>), never the Node process\'s', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-keyring-'));
    const stateRoot = root();
    try {
      const built = spawnSync('cc', ['-static', '-O2', '-o', path.join(dir, 'probe'), path.join(__dirname, '../../../test/integration/fixtures/keyring-probe.c')], { encoding: 'utf8' });
      assert.equal(built.status, 0, `cc: ${built.stderr}`);
      const host = spawnSync(path.join(dir, 'probe'), { encoding: 'utf8' }).stdout.trim();
      const mounts = [...(makeConfig({}) as { mounts: unknown[] }).mounts, { destination: '/probe', type: 'bind', source: dir, options: ['bind', 'ro'] }];
      const names: string[] = [];
      for (const id of ['life-keys-a', 'life-keys-b']) {
        const c = await createContainer(id, makeConfig({ mounts, process: { args: ['sh', '-c', '/probe/probe; sleep 1000'] } }), { root: stateRoot });
        const p = await c.run();
        const init = await new Promise<string>((resolve) => {
          let out = '';
          p.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('\n')) resolve(out.trim());
          });
        });
        const e = await c.run({ init: false, args: ['/probe/probe'] });
        const exec = (await collect(e.stdout!)).trim();
        await e.wait();
        await c.destroy();
        assert.match(init, new RegExp(`^keyring;0;0;[0-9a-f]+;_ses\\.${id}$`), `init's session keyring: ${init} (the host's: ${host})`);
        assert.equal(exec, init, 'the exec\'d process joins the same one');
        // Searchable by the container's user, as runc makes it.
        assert.ok((Number.parseInt(init.split(';')[3], 16) & 0x00080000) !== 0, init);
        names.push(init);
      }
      assert.notEqual(names[0], host);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stdin is destroyed at every exit, also of a program that ended before its start resolved (240 execs, 8 at a time); a failed exec is its own InitError', async () => {
    const stateRoot = root();
    const c = await createContainer('life-stdin-race', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: stateRoot });
    await c.run({ stdio: 'ignore' });
    try {
      const fdsBefore = fs.readdirSync('/proc/self/fd').length;
      let next = 0;
      const open: number[] = [];
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next++ < 240) {
          const p = await c.run({ init: false, args: ['true'] });
          await p.wait();
          await new Promise((resolve) => setImmediate(resolve));
          if (!p.stdin!.destroyed) open.push(p.pid);
        }
      }));
      assert.deepEqual(open, [], 'processes whose stdin was left open');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(fs.readdirSync('/proc/self/fd').length <= fdsBefore + 2, 'no fds left behind');
      // No such program: the process's own failure (an InitError naming it), not a sign of the init ending.
      await assert.rejects(c.run({ init: false, args: ['/no/such/program'] }), (e: Error) => e.constructor.name === 'InitError' && /no\/such\/program/.test(e.message));
      assert.equal(await c.status(), 'running');
    } finally {
      await c.destroy();
    }
  });

  test('a destroy() that failed (a read-only state filesystem) can be tried again on the same handle', async () => {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-rostate-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'nlc-rostate', mnt]);
    try {
      const c = await createContainer('life-ro-destroy', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: mnt });
      const p = await c.run({ stdio: 'ignore' });
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      await assert.rejects(c.destroy(), /EROFS/);
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
      await c.destroy();
      assert.notEqual(p.exitStatus, null, 'the init was killed');
      assert.deepEqual(fs.readdirSync(mnt), []);
    } finally {
      execFileSync('umount', ['-l', mnt]);
      fs.rmdirSync(mnt);
    }
  });

  test('an id of the largest length allowed (255) makes, runs and destroys a container', async () => {
    const stateRoot = root();
    const id = 'x'.repeat(255);
    const c = await createContainer(id, makeConfig({ process: { args: ['true'] } }), { root: stateRoot });
    assert.deepEqual(await (await c.run({ stdio: 'ignore' })).wait(), { exitCode: 0, signal: null });
    await c.destroy();
    assert.deepEqual(fs.readdirSync(stateRoot), []);
  });

  test('signal 0 checks that the container (or a process) lives, as runc kill 0 and process.kill(pid, 0)', async () => {
    const stateRoot = root();
    const c = await createContainer('life-sig0', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: stateRoot });
    const p = await c.run({ stdio: 'ignore' });
    await c.signal(0);
    await c.signal('0');
    p.signal(0);
    assert.equal(await c.status(), 'running', 'signal 0 does nothing to it');
    p.signal('SIGKILL');
    await p.wait();
    await assert.rejects(c.signal(0), ContainerStateError);
    p.signal(0); // an exited Process: a no-op, as for any signal
    await c.destroy();
  });

  test('a program that exits at once never races exec (20 runs, read-only root)', async () => {
    const stateRoot = root();
    for (let i = 0; i < 20; i++) {
      const c = await createContainer(`life-fast-${i}`, makeConfig({ root: { path: testRootfs(), readonly: true }, process: { args: ['/bin/true'] } }), { root: stateRoot });
      const p = await c.run({ stdio: 'ignore' });
      assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
      await c.destroy();
    }
  });

  test('run() without poststart hooks: running at once, no exec fifo, init recorded for other processes', async () => {
    const stateRoot = root();
    const c = await createContainer('life-nofifo', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: stateRoot });
    const p = await c.run({ stdio: 'ignore' });
    // starting.json: the init as noted when it was cloned; init.json: once the start finished.
    assert.deepEqual(fs.readdirSync(path.join(stateRoot, 'life-nofifo')).sort(), ['init.json', 'starting.json', 'state.json']);
    assert.equal(await c.status(), 'running');
    const loaded = await loadContainer('life-nofifo', { root: stateRoot });
    assert.equal((await loaded.state()).pid, p.pid);
    assert.equal(await loaded.status(), 'running');
    // The program is what runs as the init, not the helper waiting somewhere.
    assert.equal(fs.readlinkSync(`/proc/${p.pid}/exe`).endsWith('busybox'), true);
    await loaded.signal('SIGKILL');
    assert.equal((await p.wait()).signal, 'SIGKILL');
    await c.destroy();
    assert.equal(fs.existsSync(path.join(stateRoot, 'life-nofifo')), false);
  });

  test('init log lines are forwarded to debug (node-libcontainer:init); without DEBUG the helper logs to /dev/null', async () => {
    const stateRoot = root();
    const lib = path.resolve(__dirname, '..', '..', 'lib', 'index.js');
    const inChild = (body: string): string => `const { createContainer } = require(${JSON.stringify(lib)});
(async () => {
  const c = await createContainer('life-debug', ${JSON.stringify(makeConfig({ process: { args: ['true'] } }))}, { root: ${JSON.stringify(stateRoot)} });
  try { ${body} } finally { await c.destroy(); }
})().catch((e) => { console.error(e); process.exit(1); });`;
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['-e', inChild("await (await c.run({ stdio: 'ignore' })).wait();")], {
      env: { ...process.env, DEBUG: 'node-libcontainer:init', DEBUG_COLORS: '0' },
    });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.match(r.stderr.toString(), /node-libcontainer:init \w+ /);
    // Without DEBUG the helper's log slot (fd 4, after stdio and the sync socket) is /dev/null,
    // not a pipe the parent would make, watch and drain for every container.
    const env = { ...process.env };
    delete env.DEBUG;
    const quiet = spawnSync(
      process.execPath,
      ['-e', inChild("const p = await c.start({ stdio: 'ignore' }); console.log(require('fs').readlinkSync(`/proc/${p.pid}/fd/4`)); await c.exec(); await p.wait();")],
      { env },
    );
    assert.equal(quiet.status, 0, quiet.stderr.toString());
    assert.equal(quiet.stdout.toString().trim(), '/dev/null');
  });

  test('two exec() at once: one releases the init, the other fails instead of hanging; overlapping destroys', async () => {
    const stateRoot = root();
    const c = await createContainer('life-double', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: stateRoot });
    const p = await c.start({ stdio: 'ignore' });
    const other = await loadContainer('life-double', { root: stateRoot });
    assert.equal(await other.status(), 'created');
    const results = await Promise.allSettled([c.exec(), other.exec()]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(failed.reason instanceof ContainerStateError, String(failed.reason));
    assert.match(String(failed.reason), /already running|status running/);
    assert.equal(await c.status(), 'running');
    // A second handle cannot start another init in the running container.
    await assert.rejects(other.start({ init: true, args: ['true'] }), ContainerStateError);
    await Promise.all([c.destroy(), c.destroy(), other.destroy()]);
    assert.equal(p.exitStatus?.signal, 'SIGKILL');
    assert.deepEqual(await listContainers({ root: stateRoot }), []);
  });

  test('stdin pipe reaches the container', async () => {
    const stateRoot = root();
    const c = await createContainer('life-stdin', makeConfig({ process: { args: ['sh', '-c', 'read line; echo got:$line'] } }), { root: stateRoot });
    const p = await c.run();
    const out = collect(p.stdout!);
    p.stdin!.end('hello\n');
    assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
    assert.equal((await out).trim(), 'got:hello');
    await c.destroy();
  });

  test('a process\'s streams at its exit, as child_process: stdin destroyed, unread output drained and closed, a late reader still gets it all', async () => {
    const stateRoot = root();
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const warm = await createContainer('streams-warm', makeConfig({ process: { args: ['true'] } }), { root: stateRoot });
    await (await warm.run({ stdio: 'ignore' })).wait();
    await warm.destroy();
    const before = fds();
    // Nobody ever reads these: without the drain each would keep its fds open.
    for (let i = 0; i < 8; i++) {
      const c = await createContainer(`streams-unread-${i}`, makeConfig({ process: { args: ['sh', '-c', 'echo out; echo err >&2'] } }), { root: stateRoot });
      const p = await c.run({ stdio: ['pipe', 'pipe', 'pipe'] });
      await p.wait();
      assert.equal(p.stdin!.destroyed, true, 'stdin destroyed at the exit');
      const t = await createContainer(`streams-tty-${i}`, makeConfig({ process: { args: ['sh', '-c', 'echo tty'] } }), { root: stateRoot });
      await (await t.run({ terminal: true })).wait();
      await c.destroy();
      await t.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(fds() <= before + 2, `fds: ${before} before, ${fds()} after 16 processes whose output nobody read`);
    // Awaiting wait() and then reading: nothing is lost (pipes and a terminal).
    const c = await createContainer('streams-late', makeConfig({ process: { args: ['sh', '-c', 'seq 1 3000; echo done >&2'] } }), { root: stateRoot });
    const p = await c.run({ stdio: ['pipe', 'pipe', 'pipe'] });
    await p.wait();
    const [out, err] = await Promise.all([collect(p.stdout!), collect(p.stderr!)]);
    assert.equal(out.trim().split('\n').length, 3000);
    assert.equal(err.trim(), 'done');
    await c.destroy();
    const t = await createContainer('streams-late-tty', makeConfig({ process: { args: ['sh', '-c', 'echo late-tty'] } }), { root: stateRoot });
    const tp = await t.run({ terminal: true });
    await tp.wait();
    assert.match(await collect(tp.terminal!), /late-tty/);
    // Its master is closed once read to the end.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(tp.terminal!.fd, -1, 'the terminal closed its master after the end');
    await t.destroy();
  });

  test('signal, timeout and killSignal, as child_process: the process is sent killSignal; an aborted signal starts nothing; an unknown option is refused', async () => {
    const stateRoot = root();
    const c = await createContainer('term-init', makeConfig({ process: { args: ['sleep', '100'] } }), { root: stateRoot });
    try {
      // The init, on a timeout: the container stops. Without killSignal the init of a pid
      // namespace of its own gets SIGKILL (as PID 1, sleep ignores SIGTERM).
      const t0 = Date.now();
      const init = await c.run({ stdio: 'ignore', timeout: 300 });
      assert.deepEqual(await init.wait(), { exitCode: null, signal: 'SIGKILL' });
      assert.ok(Date.now() - t0 >= 250, `killed after ${Date.now() - t0} ms`);
      assert.equal(await c.status(), 'stopped');
    } finally {
      await c.destroy();
    }
    // A created container (its init waiting for exec()) on an abort: it stops too.
    const created = await createContainer('term-created', makeConfig({ process: { args: ['sleep', '100'] } }), { root: stateRoot });
    try {
      const ac = new AbortController();
      const init = await created.start({ stdio: 'ignore', signal: ac.signal });
      assert.equal(await created.status(), 'created');
      ac.abort();
      assert.deepEqual(await init.wait(), { exitCode: null, signal: 'SIGKILL' });
      assert.equal(await created.status(), 'stopped');
    } finally {
      await created.destroy();
    }
    // An init that handles SIGTERM gets it when asked for.
    const graceful = await createContainer('term-graceful', makeConfig({ process: { args: ['sh', '-c', 'trap "exit 3" TERM; while :; do sleep 0.05; done'] } }), { root: stateRoot });
    try {
      const init = await graceful.run({ stdio: 'ignore', timeout: 300, killSignal: 'SIGTERM' });
      assert.deepEqual(await init.wait(), { exitCode: 3, signal: null });
    } finally {
      await graceful.destroy();
    }
    const r = await createContainer('term-exec', makeConfig({ process: { args: ['sleep', '100'] } }), { root: stateRoot });
    try {
      await r.run({ stdio: 'ignore' });
      // An exec'd process on an abort (SIGTERM by default): the init goes on.
      const ac = new AbortController();
      const p = await r.run({ args: ['sleep', '100'], stdio: 'ignore', signal: ac.signal });
      ac.abort();
      assert.deepEqual(await p.wait(), { exitCode: null, signal: 'SIGTERM' });
      assert.equal(await r.status(), 'running');
      // Already aborted: nothing is started.
      const before = (await r.processes()).length;
      await assert.rejects(r.run({ args: ['sleep', '100'], stdio: 'ignore', signal: AbortSignal.abort() }), { name: 'AbortError', code: 'ABORT_ERR' });
      assert.equal((await r.processes()).length, before);
      // A process that ends first is not signalled, and its timer does not keep anything alive.
      const quick = await r.run({ args: ['true'], stdio: 'ignore', timeout: 60_000 });
      assert.deepEqual(await quick.wait(), { exitCode: 0, signal: null });
      await assert.rejects(r.run({ args: ['true'], noNewPrivilege: true } as never), { name: 'TypeError', message: 'unknown process option "noNewPrivilege"' });
      await assert.rejects(r.run({ args: ['true'], timeout: -5 }), RangeError);
    } finally {
      await r.destroy();
    }
  });

  test('an environment and arguments larger than a socket buffer (1 MiB in all) reach the init and an exec\'d process', async () => {
    // The plan is one datagram: it used to fail with EMSGSIZE past net.core.wmem_default.
    const big = Array.from({ length: 8 }, (_, i) => `BIG${i}=${String(i).repeat(120 * 1024)}`);
    const stateRoot = root();
    const script = 'echo ${#BIG0} ${#BIG7} $#';
    const c = await createContainer('life-bigenv', makeConfig({ process: { args: ['sh', '-c', script, 'sh', 'x'.repeat(100 * 1024)], env: ['PATH=/bin', ...big] } }), { root: stateRoot });
    try {
      const init = await c.run({ stdio: ['ignore', 'pipe', 'pipe'] });
      const out = collect(init.stdout!);
      assert.deepEqual(await init.wait(), { exitCode: 0, signal: null });
      assert.equal((await out).trim(), `${120 * 1024} ${120 * 1024} 1`);
    } finally {
      await c.destroy();
    }
    const r = await createContainer('life-bigexec', makeConfig({ process: { args: ['sleep', '100'] } }), { root: stateRoot });
    try {
      await r.run({ stdio: 'ignore' });
      const p = await r.run({ init: false, args: ['sh', '-c', script, 'sh', 'y'], env: ['PATH=/bin', ...big], stdio: ['ignore', 'pipe', 'pipe'] });
      const out = collect(p.stdout!);
      assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
      assert.equal((await out).trim(), `${120 * 1024} ${120 * 1024} 1`);
    } finally {
      await r.destroy();
    }
  });

  test('bad stdio and extraFiles are refused naming the entry, before anything starts; real-time signal names work', async () => {
    const stateRoot = root();
    const c = await createContainer('life-badfds', makeConfig({ process: { args: ['sh', '-c', 'trap "exit 5" 36; while :; do sleep 0.05; done'] } }), { root: stateRoot });
    try {
      await assert.rejects(c.run({ stdio: [999, 'pipe', 'pipe'] }), { name: 'TypeError', message: /stdio\[0\]: fd 999 is not open/ });
      await assert.rejects(c.run({ stdio: 'ignore', extraFiles: [9999] }), { name: 'TypeError', message: /extraFiles\[0\]: fd 9999 is not open/ });
      await assert.rejects(c.run({ stdio: ['ignore', 'ignore', 'ignore', 'pipe'] as never }), { name: 'TypeError', message: /at most 3 entries.*extraFiles/ });
      assert.equal(await c.status(), 'stopped', 'nothing was started');
      const init = await c.run({ stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 100)); // the trap is set
      await c.signal('SIGRTMIN+2');
      assert.deepEqual(await init.wait(), { exitCode: 5, signal: null });
    } finally {
      await c.destroy();
    }
  });

  test('an exec as another user keeps the container\'s umask (runc\'s is the container\'s); an exec racing the init\'s end is refused as any exec into a stopped container', async () => {
    const stateRoot = root();
    const c = await createContainer('life-umask', makeConfig({ process: { args: ['sleep', '100'], user: { uid: 0, gid: 0, umask: 0o027 } } }), { root: stateRoot });
    try {
      await c.run({ stdio: 'ignore' });
      for (const user of [undefined, { uid: 1000, gid: 1000 }]) {
        const p = await c.run({ init: false, args: ['sh', '-c', 'umask'], stdio: ['ignore', 'pipe', 'pipe'], ...(user ? { user } : {}) });
        const out = collect(p.stdout!);
        await p.wait();
        assert.equal((await out).trim(), '0027', JSON.stringify(user));
      }
    } finally {
      await c.destroy();
    }
    const r = await createContainer('life-exec-race', makeConfig({ process: { args: ['sleep', '0.3'] } }), { root: stateRoot });
    try {
      const init = await r.run({ stdio: 'ignore' });
      // Each outcome is taken as it comes (an exec may fail while the loop still runs).
      const outcomes: Promise<Error | null>[] = [];
      const outcome = (p: Promise<unknown>) => outcomes.push(p.then(() => null, (e: Error) => e));
      const t0 = Date.now();
      while (init.exitStatus === null && Date.now() - t0 < 5000) {
        outcome(r.run({ init: false, args: ['sleep', '10'], stdio: 'ignore' }).then((p) => p.wait()));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      for (let i = 0; i < 5; i++) outcome(r.run({ init: false, args: ['true'], stdio: 'ignore' }));
      const errors = (await Promise.all(outcomes)).filter((e): e is Error => e !== null);
      assert.ok(errors.length >= 5, 'the execs after the end are refused');
      for (const e of errors) assert.ok(e instanceof ContainerStateError && /stopped/.test(e.message), `${e.constructor.name}: ${e.message}`);
    } finally {
      await r.destroy();
    }
  });

  test('destroy of a never-started container whose state.json is corrupt still removes it', async () => {
    const stateRoot = root();
    const c = await createContainer('life-corrupt', makeConfig({ process: { args: ['true'] } }), { root: stateRoot });
    fs.writeFileSync(path.join(stateRoot, 'life-corrupt', 'state.json'), '{');
    await c.destroy();
    assert.equal(fs.existsSync(path.join(stateRoot, 'life-corrupt')), false);
  });

  test('status from facts: an init killed behind our back is stopped', async () => {
    const stateRoot = root();
    const c = await createContainer('life-facts', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: stateRoot });
    const p = await c.run({ stdio: 'ignore' });
    p.signal('SIGKILL');
    await p.wait();
    assert.equal(await c.status(), 'stopped');
    // A state file whose recorded start time does not match the live pid is stopped too.
    const c2 = await createContainer('life-reused', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: stateRoot });
    const p2 = await c2.run({ stdio: 'ignore' });
    // The init's pid and start time live in init.json, merged over state.json on every read.
    const file = path.join(stateRoot, 'life-reused', 'init.json');
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    saved.initStartTime = '1';
    fs.writeFileSync(file, JSON.stringify(saved));
    const loaded = await loadContainer('life-reused', { root: stateRoot });
    assert.equal(await loaded.status(), 'stopped');
    assert.equal(await c2.status(), 'stopped'); // every handle re-reads the saved state, as runc
    saved.initStartTime = fs.readFileSync(`/proc/${p2.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
    fs.writeFileSync(file, JSON.stringify(saved));
    assert.equal(await c2.status(), 'running');
    await c2.destroy();
    await p2.wait();
    await c.destroy();
  });

  test('the sealed init helper cannot be overwritten from inside', async () => {
    const stateRoot = root();
    // The container's init is exec'd from the helper's read-only copy (a tmpfs mounted nowhere);
    // writing through /proc/PID/exe of a process still running it (the created init, before
    // exec) must fail, and so must changing its mode or opening it for writing (what would let
    // a container make every later start fail).
    const c = await createContainer('life-seal', makeConfig({ process: { args: ['true'] } }), { root: stateRoot });
    const p = await c.start({ stdio: 'ignore' });
    const exe = `/proc/${p.pid}/exe`;
    assert.equal(fs.readlinkSync(exe), '/nlc-init');
    assert.throws(() => fs.writeFileSync(exe, 'x'), { code: 'EROFS' });
    assert.throws(() => fs.chmodSync(exe, 0), { code: 'EROFS' });
    assert.throws(() => fs.openSync(exe, 'r+'), { code: 'EROFS' });
    await c.exec();
    assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
    await c.destroy();
  });

  test('rootfs is a busybox tree', () => {
    assert.ok(fs.existsSync(path.join(testRootfs(), 'bin', 'busybox')));
  });
});
