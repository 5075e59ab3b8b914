/**
 * Many containers started, run and destroyed concurrently from one Node process: every start
 * must finish, and nothing (state, cgroups, mounts, processes, fds) may be left behind.
 *
 * Under concurrency fd numbers are recycled within microseconds: the number a container just
 * closed (its exec fifo, its helper's ends of the sync socket and log pipe) is handed to the
 * next container's socketpair. Any code that touches an fd number after closing it then
 * steals a message from another container's handshake, and that container waits forever.
 * A hang must fail this test, not hang the suite: a watchdog kills our stuck helpers.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerNotFoundError, ContainerStateError, createContainer, listContainers, loadContainer } from '../../lib';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { skipUnlessRoot, makeConfig, tempRoot, type TempRoot } from './helpers';

const skip = skipUnlessRoot();

const CONTAINERS = 200;
const PARALLEL = 8;
// 200 containers take a few seconds here; a start that lost its message never finishes.
const DEADLINE_MS = 90_000;

/** Pids of this process's live children: unreaped children of ours, so their pids cannot be reused. */
function ownChildren(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (Number(/^PPid:\s+(\d+)$/m.exec(status)?.[1]) === process.pid) pids.push(Number(entry));
  }
  return pids;
}

function openFds(): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      out.push(`${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch {
      // the fd readdir itself used
    }
  }
  return out;
}

function cgroupDirs(root: string, id: string): string[] {
  const saved = JSON.parse(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8')) as { cgroupPaths?: Record<string, string> };
  return Object.values(saved.cgroupPaths ?? {});
}

describe('concurrency', { skip }, () => {
  const roots: TempRoot[] = [];
  after(async () => {
    for (const r of roots) await r.cleanup();
  });

  test(`${CONTAINERS} containers, ${PARALLEL} at a time: every one finishes, nothing is left behind`, { timeout: DEADLINE_MS + 30_000 }, async () => {
    const temp = tempRoot();
    roots.push(temp);
    const config = makeConfig({ process: { args: ['/bin/true'] } });

    // One container first: the addon, the sealed helper and the cgroup parents exist from then on.
    const warm = await createContainer('warm', config, { root: temp.root });
    assert.deepEqual(await (await warm.run({ stdio: 'ignore' })).wait(), { exitCode: 0, signal: null });
    await warm.destroy();
    const fdsBefore = openFds();

    let next = 0;
    const pending = new Set<string>();
    const failures: string[] = [];
    const cgroups: string[] = [];
    const worker = async (): Promise<void> => {
      while (next < CONTAINERS) {
        const id = `conc-${next++}`;
        pending.add(id);
        try {
          const c = await createContainer(id, config, { root: temp.root });
          cgroups.push(...cgroupDirs(temp.root, id));
          try {
            const exit = await (await c.run({ stdio: 'ignore' })).wait();
            if (exit.exitCode !== 0) failures.push(`${id}: ${JSON.stringify(exit)}`);
          } finally {
            await c.destroy();
          }
        } catch (err) {
          failures.push(`${id}: ${(err as Error).message}`);
        }
        pending.delete(id);
      }
    };

    let timer: NodeJS.Timeout | undefined;
    let stuck: string[] = [];
    const watchdog = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        stuck = [...pending];
        // Their starts wait forever on a lost message: kill the helpers so they end with an error.
        for (const pid of ownChildren()) process.kill(pid, 'SIGKILL');
        resolve();
      }, DEADLINE_MS);
    });
    const workers = Promise.all(Array.from({ length: PARALLEL }, worker));
    await Promise.race([workers, watchdog]);
    clearTimeout(timer);
    // The killed helpers let the stuck starts reject and their containers be destroyed.
    if (stuck.length) await Promise.race([workers, new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);

    assert.deepEqual(stuck, [], `starts that never finished within ${DEADLINE_MS} ms`);
    assert.deepEqual(failures, []);
    assert.deepEqual(await listContainers({ root: temp.root }), []);
    assert.deepEqual(ownChildren(), [], 'children left running or unreaped');
    assert.deepEqual(cgroups.filter((dir) => fs.existsSync(dir)), [], 'cgroups left behind');
    // A few fds may come and go with Node's own work; one per container would be hundreds.
    const fdsAfter = openFds();
    assert.ok(fdsAfter.length <= fdsBefore.length + 4, `fds leaked:\n${fdsAfter.filter((f) => !fdsBefore.includes(f)).join('\n')}`);
  });

  test('destroy() while run() is under way: the start settles first, then everything it started is gone', { timeout: 120_000 }, async () => {
    const temp = tempRoot();
    roots.push(temp);
    const config = makeConfig({ process: { args: ['sleep', '100'] } });
    // Moments all through a start: before its first await, after a turn of the loop, then a few
    // milliseconds on; 8 at a time, so that the starts are slow and their steps spread out.
    const moments = [0, -1, 1, 2, 3, 5];
    const wait = (ms: number): Promise<void> => (ms === 0 ? Promise.resolve() : new Promise((resolve) => (ms < 0 ? setImmediate(resolve) : setTimeout(resolve, ms))));
    const problems: string[] = [];
    const once = async (id: string, ms: number): Promise<void> => {
      const c = await createContainer(id, config, { root: temp.root });
      const dirs = cgroupDirs(temp.root, id);
      const running = c.run({ stdio: 'ignore' }).then((p) => p.pid, (err: Error) => err);
      await wait(ms);
      try {
        await c.destroy();
      } catch (err) {
        problems.push(`${id}: destroy: ${(err as Error).message}`);
      }
      const outcome = await running;
      // Either the start made it (and its init is dead now) or it failed cleanly: nothing runs.
      if (typeof outcome === 'number' && fs.existsSync(`/proc/${outcome}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${outcome}/status`, 'utf8'))) problems.push(`${id}: init ${outcome} still alive`);
      for (const dir of dirs.filter((d) => fs.existsSync(d))) problems.push(`${id}: cgroup ${dir} left behind`);
      if (fs.existsSync(path.join(temp.root, id))) problems.push(`${id}: state left behind`);
      // A destroyed container starts nothing more.
      await c.run({ stdio: 'ignore' }).then(() => problems.push(`${id}: started after destroy`), (err: unknown) => {
        if (!(err instanceof ContainerStateError)) problems.push(`${id}: run after destroy: ${String(err)}`);
      });
    };
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 3 * moments.length; i++) await once(`mid-start-${w}-${i}`, moments[i % moments.length]);
    }));
    // What a failed destroy left must not outlive the test.
    for (const pid of ownChildren()) process.kill(pid, 'SIGKILL');
    assert.deepEqual(problems, []);
    assert.deepEqual(await listContainers({ root: temp.root }), []);
  });

  test('16 execs at once into one container: all run, and Node warns of no listener leak', async () => {
    const temp = tempRoot();
    roots.push(temp);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const c = await createContainer('many-execs', makeConfig({ process: { args: ['sleep', '100'] } }), { root: temp.root });
    try {
      await c.run({ stdio: 'ignore' });
      const exits = await Promise.all(Array.from({ length: 16 }, async () => (await c.run({ init: false, args: ['true'], stdio: 'ignore' })).wait()));
      assert.deepEqual(exits, Array.from({ length: 16 }, () => ({ exitCode: 0, signal: null })));
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map(String), []);
    } finally {
      process.off('warning', onWarning);
      await c.destroy();
    }
  });

  test('two starts of the init on one handle: one creates the container, the other is refused', async () => {
    const temp = tempRoot();
    roots.push(temp);
    const c = await createContainer('twice', makeConfig({ process: { args: ['sleep', '100'] } }), { root: temp.root });
    try {
      const [a, b] = await Promise.allSettled([c.run({ stdio: 'ignore' }), c.run({ stdio: 'ignore' })]);
      assert.equal(a.status, 'fulfilled', a.status === 'rejected' ? String(a.reason) : '');
      assert.equal(b.status, 'rejected');
      assert.ok((b as PromiseRejectedResult).reason instanceof ContainerStateError, String((b as PromiseRejectedResult).reason));
      assert.match(String((b as PromiseRejectedResult).reason), /already being started/);
      assert.deepEqual((await c.processes()).length, 1, 'one init in the cgroup');
    } finally {
      await c.destroy();
    }
  });

  test('another handle (as another process would) starting or destroying during a start: the start finishes first; its destroy then kills what it started', async () => {
    const temp = tempRoot();
    roots.push(temp);
    // A prestart hook makes the start last 0.5 s, holding the container's lock.
    const slow = { hooks: { prestart: [{ path: '/bin/sleep', args: ['sleep', '0.5'] }] } };
    const c = await createContainer('cross', makeConfig({ process: { args: ['sleep', '100'] }, ...slow }), { root: temp.root });
    const starting = c.run({ stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    const dirs = cgroupDirs(temp.root, 'cross');
    const other = await loadContainer('cross', { root: temp.root });
    await assert.rejects(other.run({ stdio: 'ignore' }), (e: unknown) => e instanceof ContainerStateError && /being started or destroyed elsewhere/.test((e as Error).message), 'a second start elsewhere');
    const third = await loadContainer('cross', { root: temp.root });
    const t0 = Date.now();
    await third.destroy();
    const init = await starting;
    assert.ok(Date.now() - t0 >= 250, 'destroy waited for the start');
    assert.deepEqual(await init.wait(), { exitCode: null, signal: 'SIGKILL' }, 'the init the start made was killed by the other destroy');
    await assert.rejects(loadContainer('cross', { root: temp.root }), ContainerNotFoundError);
    for (const dir of dirs) assert.ok(!fs.existsSync(dir), `${dir} removed`);
    await c.destroy(); // the first handle's destroy: nothing left to do
  });

  test('two handles starting one container at once: one starts it, the other is refused and removes nothing', async () => {
    const temp = tempRoot();
    roots.push(temp);
    for (let i = 0; i < 5; i++) {
      const id = `dup-${i}`;
      await createContainer(id, makeConfig({ process: { args: ['sleep', '100'] } }), { root: temp.root });
      const [a, b] = [await loadContainer(id, { root: temp.root }), await loadContainer(id, { root: temp.root })];
      const results = await Promise.allSettled([a.run({ stdio: 'ignore' }), b.run({ stdio: 'ignore' })]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'], id);
      const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
      assert.ok(refused instanceof ContainerStateError, String(refused));
      const c = await loadContainer(id, { root: temp.root });
      assert.equal(await c.status(), 'running', `${id} is intact`);
      assert.equal((await c.processes()).length, 1);
      await c.destroy();
    }
  });

  test('the Node process that starts a container is killed at any moment: another process\'s destroy leaves nothing', { timeout: 120_000 }, async () => {
    const temp = tempRoot();
    roots.push(temp);
    const lib = path.resolve(__dirname, '../../lib/index.js');
    const script = `
      const { createContainer } = require(${JSON.stringify(lib)});
      (async () => {
        const c = await createContainer(process.argv[1], JSON.parse(process.argv[2]), { root: process.argv[3] });
        process.stdout.write('created\\n');
        await c.run({ stdio: 'ignore' });
        process.stdout.write('running\\n');
      })();`;
    const config = JSON.stringify(makeConfig({ process: { args: ['sleep', '100'] } }));
    // 0 to 30 ms after the create, by 0.75 ms: before, during and after the spawn and procReady
    // of a start in a fresh (cold) Node process. Found by an acceptance run: at about 20 ms
    // the helper, told everything already, ran the program before the parent heard of the
    // spawn, and a kill then left it running with nothing recorded.
    for (let i = 0; i < 40; i++) {
      const id = `killed-${i}`;
      const child = spawn(process.execPath, ['-e', script, id, config, temp.root], { stdio: ['ignore', 'pipe', 'inherit'] });
      await once(child.stdout!, 'data');
      const until = performance.now() + i * 0.75;
      while (performance.now() < until) {
        // busy-wait: a timer is not finer than a millisecond
      }
      child.kill('SIGKILL');
      await once(child, 'exit');
      let c;
      try {
        c = await loadContainer(id, { root: temp.root });
      } catch (err) {
        assert.ok(err instanceof ContainerNotFoundError, String(err));
        continue;
      }
      const dirs = Object.values(JSON.parse(fs.readFileSync(path.join(temp.root, id, 'state.json'), 'utf8')).cgroupPaths as Record<string, string>);
      await c.destroy();
      for (const dir of dirs) assert.ok(!fs.existsSync(dir), `${id}: ${dir} removed (killed ${(i * 0.75).toFixed(1)} ms after the create)`);
      await assert.rejects(loadContainer(id, { root: temp.root }), ContainerNotFoundError);
    }
    const left = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u0000100\u0000' && fs.readFileSync(`/proc/${p}/cgroup`, 'utf8').includes('killed-');
      } catch {
        return false;
      }
    });
    assert.deepEqual(left, [], 'no container process left running');
  });
});
