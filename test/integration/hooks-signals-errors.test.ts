import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createContainer, loadContainer, ConfigError, ContainerError, ContainerExistsError, HookError, InitError, listContainers } from '../../lib';
import { skipUnlessRoot, makeConfig, tempRoot, collect } from './helpers';

const skip = skipUnlessRoot();

function livePidsOf(pids: number[]): number[] {
  return pids.filter((p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      return !/\) [ZX] /.test(stat);
    } catch {
      return false;
    }
  });
}

describe('hooks', { skip }, () => {
  const t = tempRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-hooks-'));
  after(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const log = path.join(dir, 'log');
  const hostHook = (name: string) => ({
    path: '/bin/sh',
    args: ['sh', '-c', `read -r state; echo "${name} $HOOK_ENV $state" >> ${log}`],
    env: ['HOOK_ENV=env-ok'],
    timeout: 10,
  });

  test('all six hooks run in runc order with the OCI state on stdin', async () => {
    const config = makeConfig({
      process: { args: ['sh', '-c', 'echo running'] },
      mounts: [...(makeConfig({}) as { mounts: unknown[] }).mounts, { destination: '/hooks', type: 'bind', source: dir, options: ['bind'] }],
      hooks: {
        prestart: [hostHook('prestart')],
        createRuntime: [hostHook('createRuntime')],
        createContainer: [hostHook('createContainer')],
        // startContainer runs inside the container: its path and log are container paths.
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'read -r state; echo "startContainer $HOOK_ENV $state" >> /hooks/log'], env: ['HOOK_ENV=env-ok'] }],
        poststart: [hostHook('poststart')],
        poststop: [hostHook('poststop')],
      },
    });
    const c = await createContainer('hooks-order', config, { root: t.root });
    const p = await c.run();
    await collect(p.stdout!);
    await p.wait();
    await c.destroy();
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    for (const l of lines) {
      assert.match(l, /^\w+ env-ok \{/);
      const state = JSON.parse(l.slice(l.indexOf('{')));
      assert.equal(state.id, 'hooks-order');
      assert.equal(typeof state.bundle, 'string');
      if (!l.startsWith('poststop')) assert.ok(state.pid > 0, l);
    }
    assert.equal(JSON.parse(lines[0].slice(lines[0].indexOf('{'))).status, 'creating');
    assert.equal(JSON.parse(lines[5].slice(lines[5].indexOf('{'))).status, 'stopped');
  });

  test('hooks run by the runtime: in the bundle (runc chdirs into --bundle), with its environment when they have no env', async () => {
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-bundle-'));
    const out = path.join(dir, 'cwd-env');
    const record = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `read -r state; echo "${name} $(pwd -P) \${NLC_HOOK_TEST_VAR:-unset} $state" >> ${out}`] });
    process.env.NLC_HOOK_TEST_VAR = 'inherited';
    try {
      const kinds = ['prestart', 'createRuntime', 'poststart', 'poststop'];
      const c = await createContainer('hooks-cwd-env', makeConfig({ process: { args: ['true'] }, hooks: Object.fromEntries(kinds.map((k) => [k, [record(k)]])) }), { root: t.root, bundle });
      const p = await c.run({ stdio: 'ignore' });
      await p.wait();
      await c.destroy();
      const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
      assert.deepEqual(lines.map((l) => l.split(' ')[0]), kinds);
      for (const l of lines) {
        const [, cwd, env] = l.split(' ');
        assert.equal(cwd, fs.realpathSync(bundle), l);
        assert.equal(env, 'inherited', l);
        assert.equal(JSON.parse(l.slice(l.indexOf('{'))).bundle, bundle, l);
      }
    } finally {
      delete process.env.NLC_HOOK_TEST_VAR;
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });

  test('hooks run by the init, as runc\'s: createContainer in the rootfs, startContainer in the process\'s cwd, with the process\'s env when they have no env', async () => {
    const out = path.join(dir, 'init-hooks');
    const record = (name: string, file: string) => ({ path: '/bin/sh', args: ['sh', '-c', `echo "${name} $(pwd -P) \${XYZ:-unset} \${HOME:-unset} \${NLC_HOOK_TEST_VAR:-unset}" >> ${file}`] });
    process.env.NLC_HOOK_TEST_VAR = 'runtime-only';
    try {
      const config = makeConfig({
        process: { args: ['true'], cwd: '/tmp', env: ['PATH=/bin:/usr/bin', 'XYZ=from-process'] },
        mounts: [...(makeConfig({}) as { mounts: unknown[] }).mounts, { destination: '/hooks', type: 'bind', source: dir, options: ['bind'] }],
        hooks: {
          createContainer: [record('createContainer', out), { ...record('createContainer-env', out), env: ['XYZ=own'] }],
          startContainer: [record('startContainer', '/hooks/init-hooks')],
        },
      });
      const c = await createContainer('hooks-init-env', config, { root: t.root });
      const p = await c.run({ stdio: 'ignore' });
      assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
      await c.destroy();
      const rootfs = fs.realpathSync((config as { root: { path: string } }).root.path);
      // runc 1.1.5 here: createContainer in the rootfs with the process env (no HOME yet),
      // startContainer in the process's cwd with its env and HOME; never the runtime's own env.
      assert.deepEqual(fs.readFileSync(out, 'utf8').trim().split('\n'), [
        `createContainer ${rootfs} from-process unset unset`,
        `createContainer-env ${rootfs} own unset unset`,
        'startContainer /tmp from-process /root unset',
      ]);
    } finally {
      delete process.env.NLC_HOOK_TEST_VAR;
    }
  });

  test('destroy through a handle loaded before the init was started still kills it and runs poststop', async () => {
    const marker = path.join(dir, 'poststop-stale');
    const config = makeConfig({ process: { args: ['sleep', '1000'] }, hooks: { poststop: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`] }] } });
    const c = await createContainer('hooks-stale', config, { root: t.root });
    const stale = await loadContainer('hooks-stale', { root: t.root });
    const p = await c.run({ stdio: 'ignore' });
    await stale.destroy();
    assert.equal((await p.wait()).signal, 'SIGKILL');
    assert.ok(fs.existsSync(marker), 'poststop ran: the container had been started');
    assert.equal(fs.existsSync(path.join(t.root, 'hooks-stale')), false);
    await c.destroy();
  });

  test('a failing poststop hook is a warning: the next one runs, destroy resolves and removes everything', async () => {
    const marker = path.join(dir, 'poststop-second');
    const c = await createContainer(
      'hooks-poststop',
      makeConfig({
        process: { args: ['true'] },
        hooks: { poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }, { path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`] }] },
      }),
      { root: t.root },
    );
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const p = await c.run({ stdio: 'ignore' });
      await p.wait();
      await c.destroy();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on next tick
    } finally {
      process.off('warning', onWarning);
    }
    assert.ok(fs.existsSync(marker), 'the hook after the failing one ran');
    assert.equal(fs.existsSync(path.join(t.root, 'hooks-poststop')), false);
    assert.equal(warnings.length, 1);
    assert.equal((warnings[0] as NodeJS.ErrnoException).code, 'NLC_POSTSTOP_HOOK_FAILED');
    assert.match(warnings[0].message, /hooks-poststop.*poststop/);
  });

  test('a failing prestart hook fails run and leaves nothing behind', async () => {
    const c = await createContainer('hooks-fail', makeConfig({ hooks: { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo bad >&2; exit 3'] }] } }), { root: t.root });
    await assert.rejects(c.run(), (err: unknown) => err instanceof HookError && /prestart/.test(err.message) && /status 3/.test(err.message));
    assert.equal(fs.existsSync(path.join(t.root, 'hooks-fail')), false);
    await c.destroy();
  });

  test('createContainer and startContainer hooks (run by the init) fail run() with a HookError; startContainer sees status created', async () => {
    const bad = (kind: string) => makeConfig({ hooks: { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', 'echo hook-failing >&2; exit 9'] }] } });
    for (const kind of ['createContainer', 'startContainer']) {
      const c = await createContainer(`hooks-in-${kind.toLowerCase()}`, bad(kind), { root: t.root });
      await assert.rejects(c.run({ stdio: 'ignore' }), (err: unknown) => err instanceof HookError && err.hook === kind && /exit status 9/.test(err.message) && /hook-failing/.test(err.message) && err.cause instanceof InitError, kind);
      await c.destroy();
    }
    // One killed by a signal says which, with its description (as runc: "signal: terminated").
    const killed = await createContainer('hooks-in-killed', makeConfig({ hooks: { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'kill -TERM $$'] }] } }), { root: t.root });
    await assert.rejects(killed.run({ stdio: 'ignore' }), (err: unknown) => err instanceof HookError && /was killed by signal 15 \(terminated\)/.test(err.message));
    await killed.destroy();
    // createContainer runs before pivot_root (host paths), startContainer after it (container paths).
    const states = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-hook-states-'));
    const c = await createContainer('hooks-start-state', makeConfig({
      process: { args: ['true'] },
      mounts: [...(makeConfig({}) as { mounts: unknown[] }).mounts, { destination: '/hooks', type: 'bind', source: states, options: ['bind'] }],
      hooks: {
        createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${states}/state-create`] }],
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /hooks/state-start'] }],
      },
    }), { root: t.root });
    try {
      const p = await c.run({ stdio: 'ignore' });
      await p.wait();
      const create = JSON.parse(fs.readFileSync(path.join(states, 'state-create'), 'utf8'));
      const start = JSON.parse(fs.readFileSync(path.join(states, 'state-start'), 'utf8'));
      assert.equal(create.status, 'creating');
      assert.equal(start.status, 'created');
      assert.equal(start.pid, p.pid, 'the host pid, as the spec says');
      assert.equal(start.id, 'hooks-start-state');
    } finally {
      await c.destroy();
      fs.rmSync(states, { recursive: true, force: true });
    }
  });

  test('exec() returns once the program is exec\'d: poststart sees it running, after the startContainer hooks; their failure fails exec() and run() alike', async () => {
    const marks = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-poststart-'));
    try {
      const mounts = [...(makeConfig({}) as { mounts: unknown[] }).mounts, { destination: '/marks', type: 'bind', source: marks, options: ['bind'] }];
      // poststart (on the host) records what the init's pid is executing by then, and whether
      // the slow startContainer hook (in the container) had finished.
      const poststart = { path: '/bin/sh', args: ['sh', '-c', `pid=$(sed 's/.*"pid":\\([0-9]*\\).*/\\1/'); readlink /proc/$pid/exe > ${marks}/exe; ls ${marks} > ${marks}/seen`] };
      const startContainer = { path: '/bin/sh', args: ['sh', '-c', 'sleep 0.3; touch /marks/start-hook-done'] };
      for (const how of ['start+exec', 'run']) {
        for (const f of fs.readdirSync(marks)) fs.rmSync(path.join(marks, f));
        const c = await createContainer(`hooks-poststart-${how.replace('+', '-')}`, makeConfig({ mounts, process: { args: ['sleep', '100'] }, hooks: { startContainer: [startContainer], poststart: [poststart] } }), { root: t.root });
        try {
          if (how === 'run') await c.run({ stdio: 'ignore' });
          else {
            await c.start({ stdio: 'ignore' });
            await c.exec();
          }
          assert.match(fs.readFileSync(path.join(marks, 'exe'), 'utf8'), /busybox/, `${how}: poststart saw the program, not the helper`);
          assert.match(fs.readFileSync(path.join(marks, 'seen'), 'utf8'), /start-hook-done/, `${how}: after the startContainer hook`);
        } finally {
          await c.destroy();
        }
      }
      for (const f of fs.readdirSync(marks)) fs.rmSync(path.join(marks, f));
      const failing = { hooks: { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo start-hook-failing >&2; exit 7'] }], poststart: [poststart] } };
      const isStartHookError = (err: unknown) => err instanceof HookError && err.hook === 'startContainer' && /exit status 7/.test(err.message) && /start-hook-failing/.test(err.message);
      const c1 = await createContainer('hooks-startfail-exec', makeConfig({ mounts, process: { args: ['true'] }, ...failing }), { root: t.root });
      await c1.start({ stdio: 'ignore' });
      await assert.rejects(c1.exec(), isStartHookError);
      await c1.destroy();
      const c2 = await createContainer('hooks-startfail-run', makeConfig({ mounts, process: { args: ['true'] }, ...failing }), { root: t.root });
      await assert.rejects(c2.run({ stdio: 'ignore' }), isStartHookError);
      await c2.destroy();
      assert.equal(fs.existsSync(path.join(marks, 'exe')), false, 'no poststart after a failed start');
    } finally {
      fs.rmSync(marks, { recursive: true, force: true });
    }
  });

  test('a hook that times out is killed and fails the start', async () => {
    const started = Date.now();
    const c = await createContainer('hooks-timeout', makeConfig({ hooks: { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] } }), { root: t.root });
    await assert.rejects(c.run(), (err: unknown) => err instanceof HookError && /timed out/.test(err.message));
    assert.ok(Date.now() - started < 15000);
    assert.equal(fs.existsSync(path.join(t.root, 'hooks-timeout')), false);
  });

  test('an abort while a prestart hook hangs fails run() with an AbortError: the hook is killed, nothing is left', async () => {
    const pidFile = path.join(dir, 'hanging-hook-pid');
    const hang = { path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 1000`] };
    const c = await createContainer('hooks-abort', makeConfig({ hooks: { prestart: [hang] } }), { root: t.root });
    const ac = new AbortController();
    const running = c.run({ signal: ac.signal });
    running.catch(() => {});
    const deadline = Date.now() + 10000;
    while (!(fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const hookPid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.deepEqual(livePidsOf([hookPid]), [hookPid], 'the hook is running');
    const aborted = Date.now();
    ac.abort();
    await assert.rejects(running, (err: unknown) => (err as Error).name === 'AbortError' && (err as { code?: string }).code === 'ABORT_ERR');
    assert.ok(Date.now() - aborted < 5000, 'the start ended soon after the abort');
    assert.deepEqual(livePidsOf([hookPid]), [], 'the hook was killed');
    assert.equal(fs.existsSync(path.join(t.root, 'hooks-abort')), false, 'nothing left behind');
  });

  test('an abort while a startContainer hook hangs in the container fails run() with an AbortError and destroys it', async () => {
    const c = await createContainer(
      'hooks-abort-exec',
      makeConfig({ hooks: { startContainer: [{ path: '/bin/sleep', args: ['sleep', '1000'] }], poststart: [hostHook('poststart-after-abort')] } }),
      { root: t.root },
    );
    const ac = new AbortController();
    const running = c.run({ signal: ac.signal });
    running.catch(() => {});
    // The init is created and released; its startContainer hook sleeps.
    const deadline = Date.now() + 10000;
    while ((await c.status()) !== 'created' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const initPid = (await c.state()).pid;
    assert.ok(initPid > 0);
    ac.abort();
    await assert.rejects(running, (err: unknown) => (err as Error).name === 'AbortError');
    assert.deepEqual(livePidsOf([initPid]), [], 'the init was killed');
    assert.equal(fs.existsSync(path.join(t.root, 'hooks-abort-exec')), false, 'nothing left behind');
    assert.ok(!fs.existsSync(log) || !fs.readFileSync(log, 'utf8').includes('poststart-after-abort'), 'poststart never ran');
  });

  test('the timeout option bounds the start too: a hook that hangs fails run() after it, with an AbortError caused by a TimeoutError', async () => {
    const c = await createContainer('hooks-start-timeout', makeConfig({ hooks: { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '1000'] }] } }), { root: t.root });
    const began = Date.now();
    await assert.rejects(c.run({ timeout: 500 }), (err: unknown) => {
      const e = err as Error & { code?: string; cause?: Error };
      return e.name === 'AbortError' && e.code === 'ABORT_ERR' && e.cause?.name === 'TimeoutError' && /500 ms/.test(e.message);
    });
    const took = Date.now() - began;
    assert.ok(took >= 450 && took < 5000, `took ${took} ms`);
    assert.equal(fs.existsSync(path.join(t.root, 'hooks-start-timeout')), false, 'nothing left behind');
  });

  test('what is left of the timeout after the start kills the process', async () => {
    const c = await createContainer('start-timeout-left', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: t.root });
    try {
      const began = Date.now();
      const p = await c.run({ timeout: 700 });
      assert.equal(p.killed, false);
      const exit = await p.wait();
      const took = Date.now() - began;
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(p.killed, true, 'killed by the timeout, as child_process says it');
      assert.ok(took >= 650 && took < 3000, `the whole run took ${took} ms`);
    } finally {
      await c.destroy();
    }
  });

  test('ociState() says creating while a start is under way, from this handle and from another one; status() says stopped', async () => {
    const pidFile = path.join(dir, 'creating-hook-pid');
    const hang = { path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 1000`] };
    const c = await createContainer('oci-creating', makeConfig({ hooks: { prestart: [hang] } }), { root: t.root });
    assert.equal((await c.ociState()).status, 'stopped', 'never started: stopped');
    const ac = new AbortController();
    const running = c.run({ signal: ac.signal });
    running.catch(() => {});
    const deadline = Date.now() + 10000;
    while (!(fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    try {
      const other = await loadContainer('oci-creating', { root: t.root });
      assert.equal((await c.ociState()).status, 'creating');
      assert.equal((await other.ociState()).status, 'creating');
      assert.equal(await other.status(), 'stopped');
    } finally {
      ac.abort();
    }
    await assert.rejects(running, { name: 'AbortError' });
  });

  test('destroy() during a start that hangs in a hook (no timeout) ends it: the hook is killed, run() fails with an AbortError, nothing is left', async () => {
    const pidFile = path.join(dir, 'destroy-hook-pid');
    const hang = { path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 1000`] };
    const c = await createContainer('destroy-during-hook', makeConfig({ hooks: { prestart: [hang] } }), { root: t.root });
    const running = c.run();
    running.catch(() => {});
    const deadline = Date.now() + 10000;
    while (!(fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const hookPid = Number(fs.readFileSync(pidFile, 'utf8'));
    const began = Date.now();
    await c.destroy();
    assert.ok(Date.now() - began < 5000, 'destroy() did not wait for the hook');
    await assert.rejects(running, (err: unknown) => (err as Error).name === 'AbortError' && /being destroyed/.test(String((err as Error).cause)));
    assert.deepEqual(livePidsOf([hookPid]), [], 'the hook was killed');
    assert.equal(fs.existsSync(path.join(t.root, 'destroy-during-hook')), false);
  });

  test('destroy() while exec() runs a poststart hook that hangs: the hook is killed, exec() fails with an AbortError', async () => {
    const pidFile = path.join(dir, 'poststart-hook-pid');
    const hang = { path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 1000`] };
    const c = await createContainer('destroy-during-poststart', makeConfig({ process: { args: ['sleep', '1000'] }, hooks: { poststart: [hang] } }), { root: t.root });
    await c.start({ stdio: 'ignore' });
    const releasing = c.exec();
    releasing.catch(() => {});
    const deadline = Date.now() + 10000;
    while (!(fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const hookPid = Number(fs.readFileSync(pidFile, 'utf8'));
    await c.destroy();
    await assert.rejects(releasing, (err: unknown) => (err as Error).name === 'AbortError');
    assert.deepEqual(livePidsOf([hookPid]), [], 'the hook was killed');
    assert.equal(fs.existsSync(path.join(t.root, 'destroy-during-poststart')), false);
  });

  test('a signal aborted during an exec into the container fails that start with an AbortError', async () => {
    const c = await createContainer('abort-exec-start', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: t.root });
    try {
      await c.run();
      const ac = new AbortController();
      const starting = c.run({ init: false, args: ['true'], signal: ac.signal });
      ac.abort();
      await assert.rejects(starting, (err: unknown) => (err as Error).name === 'AbortError');
      assert.equal(await c.status(), 'running', 'the container itself goes on');
      const ok = await c.run({ init: false, args: ['true'] });
      assert.deepEqual(await ok.wait(), { exitCode: 0, signal: null });
    } finally {
      await c.destroy();
    }
  });
});

describe('signals and destroy', { skip }, () => {
  const t = tempRoot();
  after(() => t.cleanup());

  test('signal reaches the init; exit reported', async () => {
    const c = await createContainer('sig-init', makeConfig({ process: { args: ['sh', '-c', 'trap "exit 3" USR1; echo ready; while true; do sleep 0.05; done'] } }), { root: t.root });
    const p = await c.run();
    await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
    await c.signal('SIGUSR1');
    assert.deepEqual(await p.wait(), { exitCode: 3, signal: null });
    assert.equal(p.killed, false, 'the Process itself was not signalled');
    // Stopped now: a signal to the init is refused; one to all of it is no error (runc's kill --all).
    await assert.rejects(c.signal('SIGTERM'), (e: unknown) => e instanceof ContainerError && /not running/.test(e.message));
    await c.signal('SIGKILL', { all: true });
    await c.destroy();
  });

  test('signal {all: true} reaches every process; destroy kills what is left', async () => {
    const c = await createContainer('sig-all', makeConfig({ process: { args: ['sh', '-c', 'sleep 1000 & sleep 1000 & echo ready; wait'] } }), { root: t.root });
    const p = await c.run();
    await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
    await c.signal(9, { all: true });
    assert.equal((await p.wait()).signal, 'SIGKILL');
    await c.destroy();
  });

  test('SIGKILL without a private pid namespace reaches every process', async () => {
    const base = makeConfig({}) as { linux: { namespaces: { type: string }[] } };
    const config = makeConfig({
      process: { args: ['sh', '-c', 'sleep 1000 & echo $!; wait'] },
      linux: { ...base.linux, namespaces: base.linux.namespaces.filter((n) => n.type !== 'pid') },
    });
    const c = await createContainer('sig-nopidns', config, { root: t.root });
    const p = await c.run();
    const child = Number(await new Promise<string>((resolve) => p.stdout!.once('data', (d: Buffer) => resolve(d.toString()))));
    assert.ok(child > 1);
    assert.deepEqual(livePidsOf([child]), [child]);
    await c.signal('SIGKILL');
    await p.wait();
    for (let i = 0; i < 100 && livePidsOf([child]).length; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(livePidsOf([child]), []);
    await c.destroy();
  });

  test('a write still pending on stdin when the process is killed (kill(), destroy()) ends quietly, as with child_process', async () => {
    const errors: Error[] = [];
    const onError = (e: Error) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      for (const how of ['kill', 'destroy'] as const) {
        const c = await createContainer(`stdin-pending-${how}`, makeConfig({ process: { args: ['sleep', '30'] } }), { root: t.root });
        const p = await c.run({ stdio: ['pipe', 'ignore', 'ignore'] });
        // More than a pipe holds: part of it waits in the stream when the reader dies.
        p.stdin!.write('x'.repeat(1 << 20));
        if (how === 'kill') await p.kill();
        await c.destroy();
        assert.equal(p.killed, true, how);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      process.off('uncaughtException', onError);
    }
    assert.deepEqual(errors.map((e) => e.message), []);
  });

  test('destroy of a running container kills it and removes the state', async () => {
    const c = await createContainer('sig-destroy', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: t.root });
    const p = await c.run({ stdio: 'ignore' });
    await c.destroy();
    assert.equal(p.exitStatus?.signal, 'SIGKILL');
    assert.deepEqual(await listContainers({ root: t.root }), []);
    await c.destroy();
  });

  test('listContainers leaves out a container whose state.json is corrupt, with a warning naming it', async () => {
    const c = await createContainer('list-corrupt', makeConfig({ process: { args: ['true'] } }), { root: t.root });
    fs.writeFileSync(path.join(t.root, 'list-corrupt', 'state.json'), '{"id": ');
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      assert.deepEqual(await listContainers({ root: t.root }), []);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on next tick
    } finally {
      process.off('warning', onWarning);
    }
    assert.equal(warnings.length, 1);
    assert.equal((warnings[0] as NodeJS.ErrnoException).code, 'NLC_STATE_CORRUPT');
    assert.match(warnings[0].message, /list-corrupt.*state\.json/);
    await c.destroy(); // the handle that made it can still remove it
    assert.equal(fs.existsSync(path.join(t.root, 'list-corrupt')), false);
  });
});

describe('bad input: clear typed errors, nothing left behind', { skip }, () => {
  const t = tempRoot();
  after(() => t.cleanup());
  const left = () => fs.readdirSync(t.root).filter((e) => !e.startsWith('.'));

  test('invalid and duplicate ids', async () => {
    for (const id of ['', '.', '..', 'a/b', 'a b', 'x\n']) {
      await assert.rejects(createContainer(id, makeConfig({}), { root: t.root }), (e: unknown) => e instanceof ConfigError && e.field === 'id', `id ${JSON.stringify(id)}`);
    }
    const c = await createContainer('dup', makeConfig({}), { root: t.root });
    await assert.rejects(createContainer('dup', makeConfig({}), { root: t.root }), ContainerExistsError);
    await c.destroy();
    assert.deepEqual(left(), []);
  });

  test('container options: a misspelt or mistyped one is refused, naming it; one object serves create, load and list', async () => {
    await assert.rejects(createContainer('opt-typo', makeConfig({}), { rootDir: t.root } as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /unknown container option "rootDir"/ });
    await assert.rejects(createContainer('opt-type', makeConfig({}), { root: 5 } as never), { name: 'TypeError', message: /root must be a non-empty string/ });
    await assert.rejects(loadContainer('opt-typo', { root: t.root, bindng: {} } as never), { name: 'TypeError', message: /"bindng"/ });
    await assert.rejects(listContainers({ roots: t.root } as never), { name: 'TypeError', message: /"roots"/ });
    const options = { root: t.root, bundle: '/' };
    const c = await createContainer('opt-shared', makeConfig({}), options);
    assert.equal((await loadContainer('opt-shared', options)).id, 'opt-shared');
    assert.deepEqual((await listContainers(options)).map((s) => s.id), ['opt-shared']);
    await c.destroy();
    assert.deepEqual(left(), []);
  });

  test('without root: createContainer refuses at once with ERR_NOT_PRIVILEGED, and makes nothing', async () => {
    const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-nobody-'));
    fs.chownSync(xdg, 65534, 65534);
    try {
      const script = `require(${JSON.stringify(path.join(__dirname, '../../lib'))}).createContainer('np', ${JSON.stringify(makeConfig({}))}).then(() => console.log('created'), (e) => console.log(e.code, e.message))`;
      const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', script], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: xdg } });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^ERR_NOT_PRIVILEGED creating a container needs root/);
      assert.deepEqual(fs.readdirSync(xdg), [], 'no state directory made');
    } finally {
      fs.rmSync(xdg, { recursive: true, force: true });
    }
  });

  test('missing rootfs, bad mount type, bad mount option', async () => {
    await assert.rejects(createContainer('bad-root', makeConfig({ root: { path: '/nonexistent/rootfs' } }), { root: t.root }), (e: unknown) => e instanceof ConfigError && e.field === 'root.path');
    const mounts = (makeConfig({}) as { mounts: unknown[] }).mounts;
    await assert.rejects(createContainer('bad-type', makeConfig({ mounts: [...mounts, { destination: '/x', type: 'no such/type', source: 'none' }] }), { root: t.root }),
      (e: unknown) => e instanceof ConfigError && /^mounts\[\d+\]/.test(e.field));
    await assert.rejects(createContainer('bad-opt', makeConfig({ mounts: [...mounts, { destination: '/x', type: 'bind', source: '/tmp', options: ['bind', 'tmpcopyup'] }] }), { root: t.root }),
      (e: unknown) => e instanceof ConfigError && /^mounts\[\d+\]\.options/.test(e.field));
    assert.deepEqual(left(), []);
  });

  test('what cannot be done is refused, not dropped: notify rules without an agent, AppArmor, SELinux', async () => {
    const base = makeConfig({}) as { linux: Record<string, unknown>; process: Record<string, unknown> };
    const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] };
    await assert.rejects(createContainer('refused-seccomp', { ...base, linux: { ...base.linux, seccomp } }, { root: t.root }),
      (e: unknown) => e instanceof ConfigError && e.field === 'linux.seccomp.listenerPath' && /required with SCMP_ACT_NOTIFY/.test(e.message));
    await assert.rejects(createContainer('refused-apparmor', { ...base, process: { ...base.process, apparmorProfile: 'docker-default' } }, { root: t.root }),
      (e: unknown) => e instanceof ConfigError && e.field === 'process.apparmorProfile');
    assert.deepEqual(left(), []);
    // A run() or exec option of runc's Process that is not done yet: refused before anything starts.
    const c = await createContainer('refused-options', makeConfig({ process: { args: ['sleep', '100'] } }), { root: t.root });
    try {
      await assert.rejects(c.run({ apparmorProfile: 'docker-default' } as never), (e: unknown) => e instanceof ConfigError && e.field === 'process.apparmorProfile');
      assert.equal(await c.status(), 'stopped');
      await c.run({ stdio: 'ignore' });
      // A process run in the running container (runc exec).
      await assert.rejects(c.run({ args: ['true'], label: 'system_u:system_r:container_t:s0' } as never), (e: unknown) => e instanceof ConfigError && /\.label$/.test(e.field));
      assert.deepEqual((await (await c.run({ args: ['true'], stdio: 'ignore' })).wait()).exitCode, 0);
    } finally {
      await c.destroy();
    }
    assert.deepEqual(left(), []);
  });

  test('a mount the kernel refuses fails at init with stage, syscall and path', async () => {
    const mounts = (makeConfig({}) as { mounts: unknown[] }).mounts;
    const c = await createContainer('bad-kernel-mount', makeConfig({ mounts: [...mounts, { destination: '/x', type: 'ext4', source: '/dev/does-not-exist' }] }), { root: t.root });
    await assert.rejects(c.run(), (e: unknown) => e instanceof InitError && e.stage === 'mounts' && e.syscall === 'mount' && e.path.includes('/x'));
    assert.deepEqual(left(), []);
  });

  test('an executable that does not exist: the error says which', async () => {
    const c = await createContainer('bad-exe', makeConfig({ process: { args: ['no-such-program', 'x'] } }), { root: t.root });
    await assert.rejects(c.run(), (e: unknown) => e instanceof InitError && e.stage === 'exec' && /no-such-program/.test(e.message));
    assert.deepEqual(left(), []);
    const c2 = await createContainer('bad-exe-path', makeConfig({ process: { args: ['/bin/nope'] } }), { root: t.root });
    await assert.rejects(c2.run(), (e: unknown) => e instanceof InitError && /\/bin\/nope/.test(e.message));
    assert.deepEqual(left(), []);
  });

  test('a cwd that is not a directory in the container (CVE-2024-21626 check)', async () => {
    const c = await createContainer('bad-cwd', makeConfig({ process: { args: ['true'], cwd: '/proc/self/fd/4' } }), { root: t.root });
    await assert.rejects(c.run(), (e: unknown) => e instanceof InitError && e.stage === 'cwd');
    assert.deepEqual(left(), []);
  });

  test('a bad stdio value is refused before anything starts: the container stays, and a corrected run() works', async () => {
    const c = await createContainer('bad-stdio', makeConfig({ process: { args: ['true'] } }), { root: t.root });
    await assert.rejects(c.run({ stdio: 'pipes' as never }), (e: unknown) => e instanceof TypeError && /stdio must be/.test((e as Error).message));
    await assert.rejects(c.run({ stdio: ['pipe', 'bogus' as never] }), (e: unknown) => e instanceof TypeError && /stdio\[1\]/.test((e as Error).message));
    await assert.rejects(c.run({ stdio: 1.5 as never }), (e: unknown) => e instanceof TypeError && /non-negative integer/.test((e as Error).message));
    await assert.rejects(c.run({ init: 'no' as never }), (e: unknown) => e instanceof TypeError && /"init" must be a boolean/.test((e as Error).message));
    assert.equal((await loadContainer('bad-stdio', { root: t.root })).id, 'bad-stdio', 'the container is still there');
    const p = await c.run({ stdio: 'ignore' });
    assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
    await c.destroy();
  });

  test('exec of a missing program into a running container', async () => {
    const c = await createContainer('bad-exec', makeConfig({ process: { args: ['sleep', '1000'] } }), { root: t.root });
    await c.run({ stdio: 'ignore' });
    await assert.rejects(c.run({ init: false, args: ['missing-tool'] }), (e: unknown) => e instanceof InitError && /missing-tool/.test(e.message));
    assert.equal(await c.status(), 'running');
    await c.destroy();
  });
});

describe('state on a full or read-only filesystem', { skip }, () => {
  // A tiny tmpfs of the test's own, unmounted at the end.
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-smallfs-'));
  const root = path.join(mnt, 'root');
  let mounted = false;
  const mount = (...args: string[]) => execFileSync('mount', args, { stdio: 'inherit' });
  const remount = (mode: 'ro' | 'rw') => mount('-o', `remount,${mode}`, mnt);
  before(() => {
    if (skip) return;
    mount('-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt);
    mounted = true;
    fs.mkdirSync(root);
  });
  after(() => {
    if (mounted) execFileSync('umount', [mnt], { stdio: 'inherit' });
    fs.rmdirSync(mnt);
  });
  const isStateError = (code: string, errno: string) => (e: unknown): boolean => {
    assert.ok(e instanceof ContainerError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal((e.cause as NodeJS.ErrnoException).code, errno, e.message);
    assert.match(e.message, new RegExp(errno));
    return true;
  };

  test('createContainer on a full one (ENOSPC) and a read-only one (EROFS): ERR_STATE_ROOT with the errno as cause, nothing left', async () => {
    // Fill it: state.json cannot be written, the directory for it still can.
    const filler = fs.openSync(path.join(mnt, 'filler'), 'w');
    try {
      for (;;) fs.writeSync(filler, Buffer.alloc(4096, 1));
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      fs.closeSync(filler);
    }
    await assert.rejects(createContainer('on-full', makeConfig(), { root }), isStateError('ERR_STATE_ROOT', 'ENOSPC'));
    assert.deepEqual(fs.readdirSync(root), [], 'no state directory, whole or half-made');
    fs.rmSync(path.join(mnt, 'filler'));

    remount('ro');
    try {
      await assert.rejects(createContainer('on-ro', makeConfig(), { root }), isStateError('ERR_STATE_ROOT', 'EROFS'));
      assert.deepEqual(fs.readdirSync(root), []);
    } finally {
      remount('rw');
    }
  });

  test('run() and destroy() on a full or read-only one: ERR_STATE_WRITE with the errno, never a clean-up error in its place; destroy() can be retried on the same handle', async () => {
    const fill = (): void => {
      const filler = fs.openSync(path.join(mnt, 'filler'), 'w');
      try {
        for (;;) fs.writeSync(filler, Buffer.alloc(4096, 1));
      } catch {
        // full
      } finally {
        fs.closeSync(filler);
      }
    };
    // Full: the init's record cannot be written (the spawn's empty file must not turn it into EEXIST).
    const full = await createContainer('run-on-full', makeConfig({ process: { args: ['true'] } }), { root });
    fill();
    try {
      await assert.rejects(full.run({ stdio: 'ignore' }), isStateError('ERR_STATE_WRITE', 'ENOSPC'));
    } finally {
      fs.rmSync(path.join(mnt, 'filler'));
    }
    assert.equal(fs.existsSync(path.join(root, 'run-on-full')), false, 'the failed run removed the container');

    // Read-only: the record cannot be written, nor the directory removed after.
    const ro = await createContainer('run-on-ro', makeConfig({ process: { args: ['true'] } }), { root });
    remount('ro');
    try {
      await assert.rejects(ro.run({ stdio: 'ignore' }), (e: unknown) => {
        isStateError('ERR_STATE_WRITE', 'EROFS')(e);
        const cleanup = (e as ContainerError).cleanupError as ContainerError;
        assert.ok(cleanup instanceof ContainerError && cleanup.code === 'ERR_STATE_WRITE', `cleanupError: ${String(cleanup)}`);
        return true;
      });
      await assert.rejects(ro.destroy(), isStateError('ERR_STATE_WRITE', 'EROFS'));
    } finally {
      remount('rw');
    }
    await ro.destroy();
    assert.equal(fs.existsSync(path.join(root, 'run-on-ro')), false, 'destroy() retried on the same handle removed it');
    assert.deepEqual(await listContainers({ root }), []);
  });

  test('set() when the state cannot be saved (EROFS): rejects with the save error, the new limit stays in force (as runc update), the saved config keeps the old one', async () => {
    const c = await createContainer('set-ro', makeConfig({ process: { args: ['sleep', '1000'] }, linux: { resources: { pids: { limit: 100 } } } }), { root });
    try {
      const p = await c.run({ stdio: 'ignore' });
      const pidsMax = path.join(pidsCgroupOf(p.pid), 'pids.max');
      assert.equal(fs.readFileSync(pidsMax, 'utf8').trim(), '100');
      remount('ro');
      try {
        await assert.rejects(c.set({ pids: { limit: 50 } }), (e: unknown) => isStateError('ERR_STATE_WRITE', 'EROFS')(e) && /in force/.test((e as Error).message));
      } finally {
        remount('rw');
      }
      // runc 1.1.5 on this machine: "runc update --pids-limit 50" with a read-only state root
      // leaves pids.max at 50 and fails with the save error; so does runc 1.3's Set.
      assert.equal(fs.readFileSync(pidsMax, 'utf8').trim(), '50');
      assert.equal(c.config.linux?.resources?.pids?.limit, 50, 'the handle\'s config is what is in force');
      assert.equal((await loadContainer('set-ro', { root })).config.linux?.resources?.pids?.limit, 100, 'the saved one is the old');
    } finally {
      await c.destroy();
    }
    assert.deepEqual(fs.readdirSync(root), []);
  });
});

/** The pids cgroup directory of a process: v1's pids hierarchy, or the v2 tree. */
function pidsCgroupOf(pid: number): string {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('pids'));
  if (v1) return path.join('/sys/fs/cgroup/pids', v1.split(':')[2]);
  return path.join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))!.slice(3));
}
