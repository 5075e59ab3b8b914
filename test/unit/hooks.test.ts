import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HookError } from '../../lib/errors';
import { runHook, runHooks } from '../../lib/hooks';
import { readProcStat } from '../../lib/state';

const state = { ociVersion: '1.3.0', id: 'c1', status: 'creating', pid: 1234, bundle: '/bundle', annotations: {} };

function isHookError(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof HookError, `not a HookError: ${String(err)}`);
    assert.equal(err.code, 'ERR_HOOK');
    assert.equal(err.hook, 'prestart');
    assert.match(err.message, pattern);
    return true;
  };
}

/** A killed process reparented to pid 1 may stay a zombie until that reaper gets to it: that counts as gone. */
function alive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X';
}

describe('hooks', () => {
  let tmp: string;
  const script = async (name: string, body: string): Promise<string> => {
    const file = path.join(tmp, name);
    await fsp.writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  };
  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'nlc-hooks-'));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('the hook gets the state on stdin, its args and only its env', async () => {
    const out = path.join(tmp, 'out');
    const hook = await script(
      'record.sh',
      `cat > ${out}.stdin; printf '%s\\n' "$0" "$@" > ${out}.args; env > ${out}.env`,
    );
    await runHook('prestart', { path: hook, args: ['custom-argv0', 'one', 'two words'], env: ['FOO=bar=baz', 'EMPTY='] }, state);
    assert.deepEqual(JSON.parse(await fsp.readFile(`${out}.stdin`, 'utf8')), state);
    // sh shows its own script path as $0; argv[0] itself is checked below with a binary.
    assert.deepEqual((await fsp.readFile(`${out}.args`, 'utf8')).split('\n').slice(1, 3), ['one', 'two words']);
    const env = (await fsp.readFile(`${out}.env`, 'utf8')).split('\n').filter((l) => l && !/^(PWD|SHLVL|_)=/.test(l));
    assert.deepEqual(env.sort(), ['EMPTY=', 'FOO=bar=baz']);
  });

  test('a hook without env inherits the runtime\'s environment; one with env gets only that (runc: exec.Cmd{Env: hook.Env})', async () => {
    const out = path.join(tmp, 'inherit');
    const hook = await script('env.sh', `env > ${out}`);
    process.env.NLC_HOOK_TEST_VAR = 'from-node';
    try {
      await runHook('prestart', { path: hook }, state);
      const env = (await fsp.readFile(out, 'utf8')).split('\n');
      assert.ok(env.includes('NLC_HOOK_TEST_VAR=from-node'), 'a variable of the Node process reaches the hook');
      assert.ok(env.includes(`PATH=${process.env.PATH}`));
      await runHook('prestart', { path: hook, env: [] }, state);
      const none = (await fsp.readFile(out, 'utf8')).split('\n').filter((l) => l && !/^(PWD|SHLVL|_)=/.test(l));
      assert.deepEqual(none, [], 'an empty env is an empty environment');
    } finally {
      delete process.env.NLC_HOOK_TEST_VAR;
    }
  });

  test('the hook runs in the bundle of its state (runc chdirs into --bundle), with that state on stdin', async () => {
    const bundle = await fsp.mkdtemp(path.join(tmp, 'bundle-'));
    const out = path.join(tmp, 'cwd');
    const hook = await script('cwd.sh', `pwd -P > ${out}; cat > ${out}.stdin`);
    const inBundle = { ...state, bundle };
    await runHook('prestart', { path: hook }, inBundle);
    assert.equal((await fsp.readFile(out, 'utf8')).trim(), await fsp.realpath(bundle));
    assert.deepEqual(JSON.parse(await fsp.readFile(`${out}.stdin`, 'utf8')), inBundle);
    // A bundle removed since (a poststop after the bundle was deleted): Node's cwd, the hook still runs.
    await fsp.rm(bundle, { recursive: true });
    await runHook('poststop', { path: hook }, inBundle);
    assert.equal((await fsp.readFile(out, 'utf8')).trim(), await fsp.realpath(process.cwd()));
  });

  test('argv[0] is args[0]; without args it is the path', async () => {
    const out = path.join(tmp, 'argv0');
    // busybox-free check: /proc/self/cmdline of a shell started as the hook binary itself.
    const hook = { path: '/bin/sh', args: ['my-argv0', '-c', `tr '\\0' ' ' < /proc/$$/cmdline > ${out}`] };
    await runHook('prestart', hook, state);
    assert.match(await fsp.readFile(out, 'utf8'), /^my-argv0 -c /);
    const echo = await script('noargs.sh', `echo "$0" > ${out}`);
    await runHook('prestart', { path: echo }, state);
    assert.equal((await fsp.readFile(out, 'utf8')).trim(), echo);
  });

  test('a hook that does not read stdin is fine', async () => {
    const big = { ...state, annotations: { pad: 'x'.repeat(1 << 20) } };
    await runHook('prestart', { path: '/bin/true' }, big);
  });

  test('non-zero exit: status and the tail of the output', async () => {
    const hook = await script('fail.sh', `i=0; while [ $i -lt 2000 ]; do echo "noise $i"; i=$((i+1)); done; echo "it broke" >&2; exit 3`);
    await assert.rejects(
      runHook('prestart', { path: hook }, state),
      isHookError(new RegExp(`^prestart hook "${hook}" exited with status 3: .*it broke$`, 's')),
    );
    try {
      await runHook('prestart', { path: hook }, state);
    } catch (err) {
      assert.ok((err as Error).message.length < 4096 + 200, 'output is bounded');
      assert.doesNotMatch((err as Error).message, /noise 0\n/);
    }
  });

  test('killed by a signal', async () => {
    const hook = await script('segv.sh', 'kill -TERM $$');
    await assert.rejects(runHook('prestart', { path: hook }, state), isHookError(/was killed by signal SIGTERM/));
  });

  test('timeout kills the hook and what it started', async () => {
    const pidFile = path.join(tmp, 'pids');
    // sh starts a sleep in the background and waits: both must be gone after the timeout.
    const hook = await script('slow.sh', `sleep 10 & echo $$ $! > ${pidFile}; wait`);
    const t0 = Date.now();
    await assert.rejects(runHook('prestart', { path: hook, timeout: 1 }, state), isHookError(/timed out after 1s/));
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 900 && elapsed < 3000, `took ${elapsed} ms`);
    const pids = (await fsp.readFile(pidFile, 'utf8')).trim().split(' ').map(Number);
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still alive`);
  });

  test('a timeout longer than a Node timer holds (2^31 ms, 24.8 days) does not fire at once', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      await runHook('prestart', { path: '/bin/sh', args: ['sh', '-c', 'sleep 0.2'], timeout: 3_000_000 }, state);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.map((w) => w.name), []);
  });

  test('an abort kills the hook and what it started, and rejects with an AbortError', async () => {
    const pidFile = path.join(tmp, 'abort-pids');
    const hook = await script('hang.sh', `sleep 30 & echo $$ $! > ${pidFile}; wait`);
    const ac = new AbortController();
    const running = runHook('prestart', { path: hook }, state, { signal: ac.signal });
    for (let i = 0; i < 200 && !(await fsp.readFile(pidFile, 'utf8').catch(() => '')).includes(' '); i++) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await assert.rejects(running, (err: unknown) => (err as Error).name === 'AbortError' && (err as { code?: string }).code === 'ABORT_ERR');
    const pids = (await fsp.readFile(pidFile, 'utf8')).trim().split(' ').map(Number);
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still alive`);
  });

  test('an already aborted signal runs no hook', async () => {
    const marker = path.join(tmp, 'ran');
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(runHooks('prestart', [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`] }], state, { signal: ac.signal }), { name: 'AbortError' });
    await assert.rejects(fsp.access(marker));
  });

  test('timeout of a direct sleep', async () => {
    const t0 = Date.now();
    await assert.rejects(
      runHook('prestart', { path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }, state),
      isHookError(/"\/bin\/sleep" timed out after 1s/),
    );
    assert.ok(Date.now() - t0 < 3000);
  });

  test('a hook that leaves a daemon holding its stdout still completes', async () => {
    const pidFile = path.join(tmp, 'daemon');
    const hook = await script('daemon.sh', `sleep 30 & echo $! > ${pidFile}; echo started`);
    const t0 = Date.now();
    try {
      await runHook('prestart', { path: hook }, state);
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      process.kill(Number(await fsp.readFile(pidFile, 'utf8')), 'SIGKILL');
    }
  });

  test('missing path', async () => {
    const missing = path.join(tmp, 'does-not-exist');
    await assert.rejects(runHook('prestart', { path: missing }, state), isHookError(/does not exist/));
  });

  test('not executable', async () => {
    const file = path.join(tmp, 'plain');
    await fsp.writeFile(file, 'x', { mode: 0o644 });
    await assert.rejects(runHook('prestart', { path: file }, state), isHookError(/could not be started: EACCES/));
  });

  test('runHooks runs in order and stops at the first failure', async () => {
    const log = path.join(tmp, 'order');
    const step = (n: number, status: number) => script(`step${n}.sh`, `echo ${n} >> ${log}; exit ${status}`);
    const hooks = [{ path: await step(1, 0) }, { path: await step(2, 0) }, { path: await step(3, 1) }, { path: await step(4, 0) }];
    await assert.rejects(runHooks('prestart', hooks, state), isHookError(/step3\.sh" exited with status 1/));
    assert.equal(await fsp.readFile(log, 'utf8'), '1\n2\n3\n');
    await runHooks('prestart', undefined, state);
    await runHooks('prestart', [], state);
  });

  test('the event loop keeps running while a hook runs', async () => {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    try {
      await runHook('prestart', { path: '/bin/sleep', args: ['sleep', '0.3'] }, state);
    } finally {
      clearInterval(interval);
    }
    assert.ok(ticks >= 10, `only ${ticks} ticks`);
  });
});
