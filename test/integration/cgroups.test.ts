/**
 * Cgroups of real containers on this host (v1 controllers, or hybrid: v1 plus a controller-less
 * v2 tree), checked by ENFORCEMENT where the kernel enforces something: a process that
 * allocates past the memory limit is OOM-killed, a fork loop hits pids.max, a frozen init
 * stops accumulating CPU time, a device outside the allow list cannot be opened. Placement is
 * always relative (the default `node-libcontainer/<id>` or a relative cgroupsPath), so every
 * cgroup lands under the test process's own cgroup. The pure-v2 subset is cgroups-v2.test.ts.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, createContainer, loadContainer, type Container, type Process } from '../../lib';
import { loadBinding } from '../../lib/native/binding';
import type { DirSetup, MkdirResult, NativeBinding } from '../../lib/native/types';
import { cpuTicks, execIn, finishProcess, makeConfig, skipUnlessRoot, tempRoot, withTimeout, type ConfigOverrides, type Ran } from './helpers';

const MiB = 1024 * 1024;

/** Which cgroup layout the host has, from mountinfo alone (independent of lib/cgroups). */
function hostLayout(): 'v2' | 'v1' | 'none' {
  const mounts = cgroupMounts();
  if (mounts.some((m) => m.mountpoint === '/sys/fs/cgroup' && m.fstype === 'cgroup2')) return 'v2';
  return mounts.some((m) => m.fstype === 'cgroup' && m.controllers.includes('memory')) ? 'v1' : 'none';
}

const skip = skipUnlessRoot() || (hostLayout() === 'v1' ? false : `not a cgroup v1/hybrid host (${hostLayout()}); cgroups-v2.test.ts covers v2`);

interface Mount {
  mountpoint: string;
  root: string;
  fstype: string;
  controllers: string[];
}

function cgroupMounts(): Mount[] {
  const out: Mount[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const f = line.slice(0, sep).split(' ');
    const [fstype, , opts = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({ mountpoint: f[4], root: f[3], fstype, controllers: fstype === 'cgroup2' ? [''] : opts.split(',') });
  }
  return out;
}

/** Host directory of each cgroup a process is in, keyed by the /proc/PID/cgroup controller field ('' = v2). */
function cgroupDirsOf(pid: number | 'self'): Map<string, string> {
  const mounts = cgroupMounts();
  const out = new Map<string, string>();
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, key, cg] = m;
    const first = key === '' ? '' : key.split(',')[0];
    const mount = mounts.find((mt) => mt.controllers.includes(first));
    if (!mount) continue;
    const rel = path.posix.relative(mount.root, cg);
    if (rel.startsWith('..')) continue;
    out.set(key, path.join(mount.mountpoint, rel));
  }
  return out;
}

const finish = (p: Process): Promise<Ran> => finishProcess(p);

/** The /proc/PID/cgroup key of the devices hierarchy. */
const devicesKeyOf = (dirs: Map<string, string>) => [...dirs.keys()].find((k) => k.split(',').includes('devices'))!;

/**
 * A fork loop: `n` background sleeps, printing "started I" after each; ash exits at the first
 * fork that fails. The sleeps let go of the output pipes, so the loop's end is seen at once.
 */
const forkLoop = (n: number, secs = 30) => ['sh', '-c', `for i in $(seq ${n}); do sleep ${secs} </dev/null >/dev/null 2>&1 & echo started $i; done; echo finished`];
const started = (out: string) => out.split('\n').filter((l) => l.startsWith('started ')).length;

describe('cgroups (v1/hybrid host): enforcement', { skip }, () => {
  const t = tempRoot();
  const root = t.root;
  const tag = `cgt${process.pid}`;
  const own = skip ? new Map<string, string>() : cgroupDirsOf('self');
  const created: Container[] = [];
  /** The parent of a relative, non-default cgroupsPath: the caller's to remove, not destroy's. */
  const relParent = `${tag}-rel`;
  after(async () => {
    for (const c of created) await c.destroy().catch(() => {});
    // After a failure half-way the container's cgroups may be there too: rmdir bottom up.
    for (const dir of new Set(own.values())) {
      for (const d of ['ctr/sub', 'ctr', ''].map((sub) => path.join(dir, relParent, sub))) {
        try {
          fs.rmdirSync(d);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
    await t.cleanup();
  });

  async function make(name: string, resources: Record<string, unknown>, overrides: ConfigOverrides = {}, args = ['sleep', '1000']): Promise<Container> {
    const base = makeConfig(overrides) as { linux: Record<string, unknown>; process: Record<string, unknown> };
    const config = { ...base, process: { ...base.process, args }, linux: { ...base.linux, resources } };
    const c = await createContainer(`${tag}-${name}`, config, { root });
    created.push(c);
    return c;
  }

  /** Nothing of the container is left in any hierarchy, nor an empty default parent. */
  async function assertNoCgroupLeft(id: string, rel = `node-libcontainer/${id}`): Promise<void> {
    for (const [key, dir] of own) {
      if (key.startsWith('name=') && key !== 'name=systemd') continue;
      assert.ok(!fs.existsSync(path.join(dir, rel)), `${path.join(dir, rel)} (${key || 'unified'}) is left behind`);
      const parent = path.join(dir, 'node-libcontainer');
      // Other engineers' containers may share the default parent: it may stay only while not empty.
      for (let i = 0; i < 5 && fs.existsSync(parent); i++) {
        const subdirs = fs.readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory());
        if (subdirs.length > 0) break;
        if (i === 4) assert.fail(`empty default parent ${parent} (${key || 'unified'}) is left behind`);
        await sleep(100);
      }
    }
  }

  /** rmdir a cgroup once the processes in it have left (they are being killed). */
  async function removeWhenEmpty(dir: string): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        fs.rmdirSync(dir);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || i === 50) throw err;
        await sleep(20);
      }
    }
  }

  test("a cgroup found frozen (someone else's, empty) is refused at once, naming linux.cgroupsPath, as runc's Create does", async () => {
    const freezerKey = [...own.keys()].find((k) => k.split(',').includes('freezer'));
    assert.ok(freezerKey, 'a freezer hierarchy');
    const rel = `${relParent}/frozen`;
    const frozen = path.join(own.get(freezerKey)!, rel);
    fs.mkdirSync(frozen, { recursive: true });
    try {
      fs.writeFileSync(path.join(frozen, 'freezer.state'), 'FROZEN');
      const c = await make('frozen', {}, { linux: { cgroupsPath: rel } });
      // Before, the helper stopped in the frozen cgroup and run() waited for ever.
      await assert.rejects(withTimeout(c.run({ stdio: 'ignore' }), 10_000, 'run() in a frozen cgroup'), (e: unknown) => e instanceof ConfigError && e.field === 'linux.cgroupsPath' && /frozen/.test((e as Error).message));
      assert.equal(await c.status(), 'stopped');
      await c.destroy();
      // Someone else's cgroup: left as found (runc's Create fails before it makes anything).
      assert.match(fs.readFileSync(path.join(frozen, 'freezer.state'), 'utf8'), /FROZEN/, 'the frozen cgroup is left as found');
      // And a second start is refused the same way.
      const again = await make('frozen2', {}, { linux: { cgroupsPath: rel } });
      await assert.rejects(withTimeout(again.run({ stdio: 'ignore' }), 10_000, 'a second run()'), /unexpectedly frozen/);
      await again.destroy();
      assert.ok(fs.existsSync(frozen));
    } finally {
      if (fs.existsSync(frozen)) fs.writeFileSync(path.join(frozen, 'freezer.state'), 'THAWED');
      for (const dir of new Set(own.values())) if (fs.existsSync(path.join(dir, rel))) fs.rmdirSync(path.join(dir, rel));
    }
  });

  test('memory limit: an exec that allocates past it is OOM-killed; stats, notifyOOM and the init survive', async () => {
    const limit = 32 * MiB;
    const c = await make('oom', { memory: { limit, swap: limit } });
    const init = await c.run({ stdio: 'ignore' });
    const dirs = cgroupDirsOf(init.pid);
    assert.equal(Number(fs.readFileSync(path.join(dirs.get('memory')!, 'memory.limit_in_bytes'), 'utf8')), limit);
    const events = c.notifyOOM();
    try {
      assert.equal((await c.stats()).memory.oomKills, 0);
      // dd's 100 MiB buffer is anonymous memory, faulted in by read(2) from /dev/zero.
      const r = await execIn(c, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1']);
      assert.equal(r.signal, 'SIGKILL', `dd must be OOM-killed: ${JSON.stringify(r)}`);
      const count = await withTimeout(events.next(), 10_000, 'notifyOOM event');
      assert.equal(count.done, false);
      assert.ok(count.value >= 1, `notifyOOM yields the OOM-kill count: ${count.value}`);
      const s = await c.stats();
      assert.ok(s.memory.oomKills >= 1, `stats().memory.oomKills ${s.memory.oomKills}`);
      assert.ok(s.memory.maxUsage <= limit && s.memory.maxUsage > limit / 2, `peak ${s.memory.maxUsage} near the limit ${limit}`);
      assert.equal(await c.status(), 'running', 'only the allocating process was killed');
      // A smaller allocation still fits.
      const ok = await execIn(c, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=8M', 'count=1']);
      assert.equal(ok.exitCode, 0, ok.err);
    } finally {
      await events.return!();
      await c.destroy();
    }
    assert.equal((await init.wait()).signal, 'SIGKILL');
    await assertNoCgroupLeft(c.id);
  });

  test('memory limit: an init that allocates past it is OOM-killed; notifyOOM registered while created', async () => {
    const c = await make('oominit', { memory: { limit: 16 * MiB, swap: 16 * MiB } }, {}, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1']);
    const p = await c.start({ stdio: 'ignore' });
    const oom = c.notifyOOM();
    try {
      await c.exec().catch(() => {}); // the program may be dead before the fifo is read
      const exit = await withTimeout(p.wait(), 30_000, 'init exit');
      assert.equal(exit.signal, 'SIGKILL');
      const ev = await withTimeout(oom.next(), 10_000, 'notifyOOM event for the init');
      assert.ok(!ev.done && ev.value >= 1);
      assert.ok((await c.stats()).memory.oomKills >= 1);
      assert.equal(await c.status(), 'stopped');
    } finally {
      await oom.return!();
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('notifyOOM() and stats() of a container never started: ContainerStateError, no cgroup made', async () => {
    const c = await make('oomnostart', { memory: { limit: 32 * MiB } });
    const notStarted = (e: Error & { code?: string }) => e.code === 'ERR_CONTAINER_STATE' && /has no cgroup \(not started\)/.test(e.message);
    assert.throws(() => c.notifyOOM(), notStarted);
    await assert.rejects(c.stats(), notStarted);
    await c.destroy();
    await assertNoCgroupLeft(c.id);
  });

  test('memory limit: an OOM kill in the cgroup while the container starts makes start fail with ERR_OOM', async () => {
    // A createRuntime hook runs after the limit is set: it moves itself into the container's
    // memory cgroup and allocates past the limit, so the start fails with an OOM kill counted.
    const memoryMount = cgroupMounts().find((m) => m.controllers.includes('memory'))!;
    assert.equal(memoryMount.root, '/', 'the hook maps /proc/PID/cgroup paths onto the mount');
    const script = [
      'export PATH=/usr/sbin:/usr/bin:/sbin:/bin',
      'pid=$(sed -n \'s/.*"pid": *\\([0-9]*\\).*/\\1/p\')',
      'cg=$(grep -E "^[0-9]+:memory:" /proc/$pid/cgroup | cut -d: -f3)',
      `echo $$ > ${memoryMount.mountpoint}$cg/cgroup.procs || exit 3`,
      'exec /bin/busybox dd if=/dev/zero of=/dev/null bs=100M count=1',
    ].join('\n');
    const c = await make('oomstart', { memory: { limit: 16 * MiB, swap: 16 * MiB } }, {
      hooks: { createRuntime: [{ path: '/bin/busybox', args: ['sh', '-c', script] }] },
    }, ['true']);
    await assert.rejects(c.run({ stdio: 'ignore' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_OOM', `${err.message} (cause: ${(err.cause as Error | undefined)?.message})`);
      assert.match(err.message, /OOM-killed/);
      return true;
    });
    await assertNoCgroupLeft(c.id);
  });

  test('pids.max stops a fork loop; stats().pids and processes() match', async () => {
    const c = await make('pids', { pids: { limit: 10 } });
    const init = await c.run({ stdio: 'ignore' });
    try {
      const r = await execIn(c, forkLoop(50));
      // init + the exec'd shell + its sleeps = 10; the next fork fails and ash exits (status 2).
      const n = started(r.out);
      assert.match(r.err, /can't fork/, r.err);
      assert.doesNotMatch(r.out, /finished/);
      assert.equal(r.exitCode, 2);
      assert.ok(n >= 5 && n <= 8, `${n} sleeps started under pids.max 10 (50 asked, ${50 - n} refused)`);
      const s = await c.stats();
      assert.equal(s.pids.limit, 10);
      const procs = await c.processes();
      assert.equal(s.pids.current, procs.length, `pids.current ${s.pids.current} vs processes() ${procs}`);
      assert.equal(procs.length, n + 1, 'the init and the surviving sleeps');
      assert.ok(procs.includes(init.pid));
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('update: set({pids}) on a live container changes what a fork loop can do; a failed set() keeps the old values', async () => {
    // An ash init reaps the orphaned sleeps (its wait is waitpid(-1)), so each round starts clean.
    const c = await make('update', { pids: { limit: 100 } }, {}, ['sh', '-c', 'while :; do sleep 1; done']);
    await c.run({ stdio: 'ignore' });
    const pidsMax = path.join(cgroupDirsOf((await c.state()).pid).get('pids')!, 'pids.max');
    // Until only the init shell and its own sleep are left: the previous loop's orphaned sleeps
    // count against pids.max until the init reaps them, and with one still there the next
    // exec's own fork into the pid namespace could hit the limit of 5 (a flake, 1 run in ~10).
    const drained = async () => {
      let current = Infinity;
      for (let i = 0; i < 100 && (current = (await c.stats()).pids.current) > 2; i++) await sleep(100);
      assert.ok(current <= 2, `${current} tasks still in the cgroup after 10 s`);
    };
    try {
      let r = await execIn(c, forkLoop(20, 1));
      assert.equal(started(r.out), 20, r.err);
      assert.match(r.out, /finished/);
      await drained();

      await c.set({ pids: { limit: 5 } });
      assert.equal(fs.readFileSync(pidsMax, 'utf8').trim(), '5');
      assert.equal(c.config.linux?.resources?.pids?.limit, 5);
      r = await execIn(c, forkLoop(20, 1));
      assert.match(r.err, /can't fork/);
      assert.ok(started(r.out) <= 3, `${started(r.out)} forks under pids.max 5 (init, its sleep, the shell)`);
      await drained();

      // A write the kernel refuses (no such block device) after pids.max was written: rolled back.
      await assert.rejects(
        c.set({ pids: { limit: 7 }, blockIO: { throttleReadBpsDevice: [{ major: 4095, minor: 4095, rate: 1024 }] } }),
        (err: Error & { code?: string }) => err.code === 'ERR_CGROUP' && /previous values restored/.test(err.message),
      );
      assert.equal(fs.readFileSync(pidsMax, 'utf8').trim(), '5', 'pids.max restored');
      assert.equal(c.config.linux?.resources?.pids?.limit, 5, 'config unchanged');
      // Rejected before anything is written.
      await assert.rejects(c.set({ pids: { limit: 'many' as unknown as number } }), { code: 'ERR_CONFIG' });
      assert.equal(fs.readFileSync(pidsMax, 'utf8').trim(), '5');
      r = await execIn(c, forkLoop(20, 1));
      assert.ok(started(r.out) <= 3, 'the old limit is still enforced');
      await drained();

      await c.set({ pids: { limit: 40 } });
      r = await execIn(c, forkLoop(20, 1));
      assert.equal(started(r.out), 20, r.err);
      assert.match(r.out, /finished/);
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('bad resource values: createContainer and set() refuse them naming the field; CPUs the host lacks fail the start naming the file', async () => {
    const isConfigError = (field: string) => (err: Error & { code?: string; field?: string }) => {
      assert.equal(err.code, 'ERR_CONFIG', err.message);
      assert.equal(err.field, field, err.message);
      return true;
    };
    const bad: Array<[string, Record<string, unknown>]> = [
      ['linux.resources.memory.swappiness', { memory: { swappiness: 200 } }],
      ['linux.resources.memory.limit', { memory: { limit: -2 } }],
      ['linux.resources.blockIO.weight', { blockIO: { weight: 5 } }],
      ['linux.resources.cpu.quota', { cpu: { quota: 500 } }],
      ['linux.resources.cpu.period', { cpu: { period: 500 } }],
      ['linux.resources.cpu.cpus', { cpu: { cpus: '1-0' } }],
    ];
    for (const [field, resources] of bad) {
      const base = makeConfig() as { linux: Record<string, unknown> };
      const id = `${tag}-badres`;
      await assert.rejects(createContainer(id, { ...base, linux: { ...base.linux, resources } }, { root }), isConfigError(field));
      assert.ok(!fs.existsSync(path.join(root, id)), `${field}: no state made`);
      await assertNoCgroupLeft(id);
    }

    const c = await make('setres', { pids: { limit: 50 } });
    await c.run({ stdio: 'ignore' });
    try {
      for (const [field, resources] of bad) await assert.rejects(c.set(resources), isConfigError(field));
      assert.deepEqual(c.config.linux?.resources, { pids: { limit: 50 } }, 'config unchanged');
      assert.deepEqual((await loadContainer(c.id, { root })).config.linux?.resources, { pids: { limit: 50 } }, 'saved config unchanged');
    } finally {
      await c.destroy();
    }

    // The syntax is right, the host has no such CPU: only the kernel can say, at start.
    const d = await make('nocpu', { cpu: { cpus: '99' } });
    await assert.rejects(d.run({ stdio: 'ignore' }), (err: Error) => /cpuset\.cpus/.test(err.message) && /"99"/.test(err.message));
    await d.destroy();
    await assertNoCgroupLeft(d.id);
  });

  test('set() lifting the memory limit (-1) without a swap value lifts the swap limit too, as runc update', async () => {
    const c = await make('memlift', { memory: { limit: 64 * MiB, swap: 128 * MiB } });
    const init = await c.run({ stdio: 'ignore' });
    try {
      const dir = cgroupDirsOf(init.pid).get('memory')!;
      const read = (f: string): bigint => BigInt(fs.readFileSync(path.join(dir, f), 'utf8').trim());
      assert.equal(read('memory.limit_in_bytes'), BigInt(64 * MiB));
      const memsw = fs.existsSync(path.join(dir, 'memory.memsw.limit_in_bytes'));
      if (memsw) assert.equal(read('memory.memsw.limit_in_bytes'), BigInt(128 * MiB));
      await c.set({ memory: { limit: -1 } });
      // Unlimited reads back as the largest page-aligned value, 2^63 - 4096 with 4 KiB pages.
      const unlimited = (2n ** 63n - 1n) & ~4095n;
      assert.equal(read('memory.limit_in_bytes'), unlimited);
      if (memsw) assert.equal(read('memory.memsw.limit_in_bytes'), unlimited);
      assert.deepEqual(c.config.linux?.resources?.memory, { limit: -1, swap: -1 });
      // A swap value given with it is kept.
      await c.set({ memory: { limit: 64 * MiB, swap: 96 * MiB } });
      assert.equal(read('memory.limit_in_bytes'), BigInt(64 * MiB));
      if (memsw) assert.equal(read('memory.memsw.limit_in_bytes'), BigInt(96 * MiB));
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('set() refuses a key that is not a LinuxResources field, at any depth, and saves nothing', async () => {
    const c = await make('setkeys', { pids: { limit: 50 } });
    await c.run({ stdio: 'ignore' });
    try {
      await assert.rejects(c.set({ cpuset: { cpus: '0' } } as never), (e: Error) => e instanceof TypeError && /"cpuset"/.test(e.message));
      await assert.rejects(c.set({ bogus: 1, pids: { limit: 60 } } as never), (e: Error) => e instanceof TypeError && /"bogus"/.test(e.message));
      await assert.rejects(c.set({ memory: { limt: 64 * MiB } } as never), (e: Error) => e instanceof TypeError && /"memory\.limt"/.test(e.message));
      assert.deepEqual(c.config.linux?.resources, { pids: { limit: 50 } });
      assert.deepEqual((await loadContainer(c.id, { root })).config.linux?.resources, { pids: { limit: 50 } }, 'nothing saved');
      await c.set({ pids: { limit: 60 } });
      assert.deepEqual((await loadContainer(c.id, { root })).config.linux?.resources, { pids: { limit: 60 } });
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('cpuset pins the init and exec\'d processes; execCPUAffinity initial/final', async () => {
    const cpus = os.availableParallelism();
    const c = await make('cpuset', { cpu: { cpus: '0', mems: '0' } }, {}, ['sh', '-c', 'grep Cpus_allowed_list /proc/self/status; sleep 1000']);
    const init = await c.run({ stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const first = await new Promise<string>((resolve) => init.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
      assert.match(first, /Cpus_allowed_list:\s+0\n/);
      const r = await execIn(c, ['grep', 'Cpus_allowed_list', '/proc/self/status']);
      assert.match(r.out, /Cpus_allowed_list:\s+0$/);
      // Enforcement: the kernel refuses an affinity outside the cpuset.
      if (cpus >= 2) {
        const q = await execIn(c, ['taskset', '-p', '2', '1']);
        assert.notEqual(q.exitCode, 0, `taskset outside the cpuset must fail: ${JSON.stringify(q)}`);
      }
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);

    if (cpus < 2) return;
    const d = await make('affinity', { cpu: { cpus: '0-1' } });
    await d.run({ stdio: 'ignore' });
    try {
      let r = await execIn(d, ['grep', 'Cpus_allowed_list', '/proc/self/status'], { execCPUAffinity: { initial: '0', final: '1' } });
      assert.match(r.out, /Cpus_allowed_list:\s+1$/);
      r = await execIn(d, ['grep', 'Cpus_allowed_list', '/proc/self/status'], { execCPUAffinity: { final: '0' } });
      assert.match(r.out, /Cpus_allowed_list:\s+0$/);
      // Neither given: reset to the whole cpuset, whatever our own affinity is.
      r = await execIn(d, ['grep', 'Cpus_allowed_list', '/proc/self/status']);
      assert.match(r.out, /Cpus_allowed_list:\s+0-1$/);
    } finally {
      await d.destroy();
    }
    await assertNoCgroupLeft(d.id);
  });

  test('pause stops all progress (status paused), resume restarts it, SIGKILL kills a paused container', async () => {
    const c = await make('pause', {}, {}, ['sh', '-c', 'while :; do :; done']);
    const init = await c.run({ stdio: 'ignore' });
    try {
      const progress = async () => {
        const a = cpuTicks(init.pid);
        await sleep(400);
        return cpuTicks(init.pid) - a;
      };
      assert.ok((await progress()) > 5, 'the busy loop runs');
      await c.pause();
      assert.equal(await c.status(), 'paused');
      assert.equal((await c.state()).status, 'paused');
      assert.equal(await progress(), 0, 'no CPU time while frozen');
      await assert.rejects(execIn(c, ['true']), { code: 'ERR_CONTAINER_STATE' });
      await c.resume();
      assert.equal(await c.status(), 'running');
      assert.ok((await progress()) > 5, 'the busy loop runs again');
      await c.pause();
      await c.signal('SIGKILL');
      const exit = await withTimeout(init.wait(), 10_000, 'paused init to die of SIGKILL');
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(await c.status(), 'stopped');
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('paused: a killed process dies (thawed for it) and the container stays paused; a timeout kills too; destroy ends a start the pause caught', async () => {
    const c = await make('pausekill', {});
    const init = await c.run({ stdio: 'ignore' });
    try {
      const e = await c.run({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
      const t = await c.run({ init: false, args: ['sleep', '1000'], stdio: 'ignore', timeout: 300, killSignal: 'SIGKILL' });
      await c.pause();
      assert.deepEqual(await withTimeout(e.kill(), 5_000, 'kill() of a process in a paused container'), { exitCode: null, signal: 'SIGKILL' });
      assert.deepEqual(await withTimeout(t.wait(), 5_000, 'the timeout in a paused container'), { exitCode: null, signal: 'SIGKILL' });
      let status = '';
      for (let i = 0; i < 50 && (status = await c.status()) !== 'paused'; i++) await sleep(20);
      assert.equal(status, 'paused', 'frozen again once the killed processes are gone');
      assert.equal(init.exitStatus, null, 'the init lives on');
      await c.resume();
      assert.equal(await c.status(), 'running');

      // An exec still starting when the pause lands cannot finish until thawed: destroy does so.
      const starting = c.run({ init: false, args: ['true'], stdio: 'ignore' }).then(
        (p) => p.wait(),
        (err: Error) => err,
      );
      await c.pause();
      await withTimeout(c.destroy(), 10_000, 'destroy of a paused container with an exec starting');
      await withTimeout(starting, 10_000, 'the exec start to settle');
      assert.notEqual(init.exitStatus, null);
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('exec() of the handle that started the init still refuses a created container another handle paused, or whose init died', async () => {
    const c = await make('exec-facts', {}, {}, ['true']);
    const init = await c.start({ stdio: 'ignore' });
    const other = await loadContainer(c.id, { root });
    await other.pause();
    assert.equal(await c.status(), 'paused');
    // A regression would release the frozen init, which then cannot write the fifo: time out
    // (and fail) rather than hang; destroy thaws it.
    await assert.rejects(withTimeout(c.exec(), 5_000, 'exec of a paused container'), { code: 'ERR_CONTAINER_STATE', message: /status paused/ });
    await other.resume();
    assert.equal(await c.status(), 'created');
    init.signal('SIGKILL');
    assert.equal((await withTimeout(init.wait(), 10_000, 'created init to die of SIGKILL')).signal, 'SIGKILL');
    await assert.rejects(c.exec(), { code: 'ERR_CONTAINER_STATE', message: /status stopped/ });
    await c.destroy();
    await assertNoCgroupLeft(c.id);
  });

  test('stats() report real usage: memory, cpu growing with a busy loop, pids', async () => {
    const c = await make('stats', { pids: { limit: 50 } });
    const init = await c.run({ stdio: 'ignore' });
    try {
      const before = await c.stats();
      assert.ok(before.memory.usage > 0, `memory usage ${before.memory.usage}`);
      // raw is memory.stat exactly: an unlimited v1 limit (9223372036854771712) is beyond 2^53.
      const memoryStat = fs.readFileSync(path.join(cgroupDirsOf(init.pid).get('memory')!, 'memory.stat'), 'utf8');
      for (const key of ['hierarchical_memory_limit', 'hierarchical_memsw_limit']) {
        const text = new RegExp(`^${key} (\\d+)$`, 'm').exec(memoryStat)?.[1];
        if (text === undefined) continue;
        const exact = BigInt(text);
        assert.equal(before.memory.raw[key], exact > BigInt(Number.MAX_SAFE_INTEGER) ? exact : Number(text), `raw.${key}`);
      }
      assert.ok(/^hierarchical_memory_limit /m.test(memoryStat), 'memory.stat has a hierarchical limit to compare');
      assert.equal(before.pids.current, 1);
      const r = await execIn(c, ['sh', '-c', 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo $i']);
      assert.equal(r.out, '300000');
      const afterBusy = await c.stats();
      assert.ok(afterBusy.cpu.usageTotal - before.cpu.usageTotal > 50e6, `cpu usage grew by ${afterBusy.cpu.usageTotal - before.cpu.usageTotal} ns`);
      assert.ok(afterBusy.cpu.usageUser > 0);
      const sleeper = await c.start({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
      // The exec helper that forked the sleeper (it joined the pid namespace) may not be reaped yet.
      for (let i = 0; i < 100 && (await c.stats()).pids.current !== 2; i++) await sleep(20);
      const s = await c.stats();
      assert.equal(s.pids.current, 2);
      assert.deepEqual((await c.processes()).sort(), [init.pid, sleeper.pid].sort());
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('signal({all}) reaches every process through the cgroup; SIGKILL via cgroup.kill', async () => {
    const c = await make('sigall', {});
    const init = await c.run({ stdio: 'ignore' });
    try {
      const a = await c.start({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
      const b = await c.start({ init: false, args: ['sh', '-c', 'sleep 1000 & wait'], stdio: 'ignore' });
      for (let i = 0; i < 100 && (await c.processes()).length < 4; i++) await sleep(20);
      assert.equal((await c.processes()).length, 4, 'the init, two exec\'d processes and a child of one');
      await c.signal('SIGTERM', { all: true });
      // The exec'd processes die; the init (pid 1, no handler) ignores SIGTERM from outside its namespace.
      assert.equal((await withTimeout(a.wait(), 10_000, 'exec a')).signal, 'SIGTERM');
      assert.equal((await withTimeout(b.wait(), 10_000, 'exec b')).signal, 'SIGTERM');
      await sleep(100);
      assert.equal(await c.status(), 'running');
      await c.start({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
      await c.signal('SIGKILL', { all: true });
      assert.equal((await withTimeout(init.wait(), 10_000, 'init')).signal, 'SIGKILL');
      for (let i = 0; i < 50 && (await c.processes()).length > 0; i++) await sleep(20);
      assert.deepEqual(await c.processes(), []);
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('devices: only allowed devices open; default rules stay; set() replaces the rules', async () => {
    // /dev/kmsg (c 1:11) is outside runc's default allow list: denied unless a rule allows it.
    // A user rule denying a default device (/dev/null) is overridden: runc appends the
    // defaults after the user's rules (specconv.CreateCgroupConfig), and so do we.
    const kmsg = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o600, uid: 0, gid: 0 };
    const c = await make('devices', { devices: [{ allow: false, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }] }, { linux: { devices: [kmsg] } });
    await c.run({ stdio: 'ignore' });
    const probe = 'echo x > /dev/null && echo null-w; head -c 4 /dev/zero | wc -c; : > /dev/kmsg && echo kmsg-w';
    try {
      let r = await execIn(c, ['sh', '-c', probe]);
      assert.match(r.out, /null-w/);
      assert.match(r.out, /^4$/m);
      assert.doesNotMatch(r.out, /kmsg-w/);
      assert.match(r.err, /kmsg: Operation not permitted/);
      const devicesDir = cgroupDirsOf((await c.state()).pid).get('devices')!;
      assert.doesNotMatch(fs.readFileSync(path.join(devicesDir, 'devices.list'), 'utf8'), /^c 1:11 /m);

      await c.set({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'w' }] });
      r = await execIn(c, ['sh', '-c', probe]);
      assert.match(r.out, /kmsg-w/, r.err);
      assert.match(r.out, /null-w/);

      await c.set({ devices: [{ allow: false, access: 'rwm' }] });
      r = await execIn(c, ['sh', '-c', probe]);
      assert.doesNotMatch(r.out, /kmsg-w/);
      assert.match(r.out, /null-w/);
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('mkdirAsync setups on real v1 cgroups: the cpuset copied down, device rules written only over the expected list', async () => {
    const binding = loadBinding();
    const base = (key: string) => path.join(own.get(key)!, relParent);
    const make = (dirs: string[], setups: (DirSetup | null)[]) =>
      new Promise<MkdirResult[]>((resolve, reject) => binding.mkdirAsync!(dirs, 0o755, (err, r) => (err ? reject(err) : resolve(r!)), setups));
    const cpusetKey = [...own.keys()].find((k) => k.split(',').includes('cpuset'))!;
    const devicesKey = [...own.keys()].find((k) => k.split(',').includes('devices'))!;
    const parentCpus = fs.readFileSync(path.join(own.get(cpusetKey)!, 'cpuset.cpus'), 'utf8');
    const parentList = fs.readFileSync(path.join(own.get(devicesKey)!, 'devices.list'), 'utf8');
    try {
      const [cpu, devs, other] = await make(
        [path.join(base(cpusetKey), 'ctr'), path.join(base(devicesKey), 'ctr'), path.join(base(devicesKey), 'ctr', 'sub')],
        [
          { copy: ['cpuset.cpus', 'cpuset.mems'] },
          { expect: ['devices.list', parentList], writes: [['devices.deny', ['a *:* rwm']], ['devices.allow', ['c 1:3 rwm', 'c 1:5 r']]], readBack: 'devices.list' },
          // The parent's list is now the allow-list just written: this expectation is stale.
          { expect: ['devices.list', parentList], writes: [['devices.deny', ['c 1:3 w']]], readBack: 'devices.list' },
        ],
      );
      // Both levels of the cpuset were made here and filled top down from the parent.
      assert.deepEqual(cpu, [null, [base(cpusetKey), path.join(base(cpusetKey), 'ctr')], { copied: true, wrote: false }]);
      for (const d of cpu[1]) assert.equal(fs.readFileSync(path.join(d, 'cpuset.cpus'), 'utf8'), parentCpus);
      assert.equal(devs[2]!.error, undefined);
      assert.equal(devs[2]!.wrote, true);
      assert.equal(devs[2]!.read, parentList);
      assert.equal(devs[2]!.after, 'c 1:3 rwm\nc 1:5 r\n');
      assert.equal(fs.readFileSync(path.join(base(devicesKey), 'ctr', 'devices.list'), 'utf8'), 'c 1:3 rwm\nc 1:5 r\n');
      assert.deepEqual(other[2], { copied: true, wrote: false, read: 'c 1:3 rwm\nc 1:5 r\n' });
      assert.equal(fs.readFileSync(path.join(base(devicesKey), 'ctr', 'sub', 'devices.list'), 'utf8'), 'c 1:3 rwm\nc 1:5 r\n');
    } finally {
      for (const d of [path.join(base(devicesKey), 'ctr', 'sub'), path.join(base(devicesKey), 'ctr'), base(devicesKey), path.join(base(cpusetKey), 'ctr'), base(cpusetKey)]) {
        try {
          fs.rmdirSync(d);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
  });

  test('a second container with the same device rules gets them from the mkdir job, and they are enforced', async () => {
    // A binding that records what createAsync's job was asked and did (the real one underneath).
    const real = loadBinding();
    const jobs: { setups?: (DirSetup | null)[]; results: MkdirResult[] }[] = [];
    const spy: NativeBinding = Object.assign(Object.create(real) as NativeBinding, {
      mkdirAsync: (dirs: string[], mode: number, cb: (err: Error | null, r?: MkdirResult[]) => void, setups?: (DirSetup | null)[]) =>
        real.mkdirAsync!(dirs, mode, (err, r) => (jobs.push({ setups, results: r ?? [] }), cb(err, r)), setups),
    });
    // Rules no other test uses, so the first container is this rule set's first.
    const resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 4, access: 'r' }] };
    const kmsg = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o600, uid: 0, gid: 0 };
    const lists: string[] = [];
    for (const n of [1, 2]) {
      const base = makeConfig({ linux: { devices: [kmsg] } }) as { linux: Record<string, unknown>; process: Record<string, unknown> };
      const config = { ...base, process: { ...base.process, args: ['sleep', '1000'] }, linux: { ...base.linux, resources } };
      const c = await createContainer(`${tag}-jobdev${n}`, config, { root, binding: spy });
      created.push(c);
      try {
        await c.run({ stdio: 'ignore' });
        const r = await execIn(c, ['sh', '-c', 'echo x > /dev/null && echo null-w; : > /dev/kmsg && echo kmsg-w']);
        assert.match(r.out, /null-w/);
        assert.doesNotMatch(r.out, /kmsg-w/);
        lists.push(fs.readFileSync(path.join(cgroupDirsOf((await c.state()).pid).get(devicesKeyOf(own))!, 'devices.list'), 'utf8'));
      } finally {
        await c.destroy();
      }
      await assertNoCgroupLeft(c.id);
    }
    const devicesEntry = (job: (typeof jobs)[number]) => {
      const i = job.results.findIndex((r) => r[1].some((d) => d.startsWith(`${own.get(devicesKeyOf(own))}/`)));
      return { setup: job.setups?.[i] ?? null, result: job.results[i]?.[2] };
    };
    assert.equal(jobs.length, 2);
    // The first: the rules set up on the main thread, the list they started from kept.
    assert.equal(devicesEntry(jobs[0]).setup, null);
    // The second: the job wrote them over that same list, and the result is the same.
    const second = devicesEntry(jobs[1]);
    assert.ok(second.setup?.writes && second.setup.writes.length > 0, 'no device rules were given to the job');
    assert.equal(second.result?.wrote, true, JSON.stringify(second.result));
    assert.equal(second.result?.after, lists[1]);
    assert.equal(lists[0], lists[1]);
    assert.match(lists[1], /^c 1:4 r$/m);
    // And the cpuset of the fresh directory was copied by the same job.
    assert.ok(jobs[1].results.some((r) => r[2]?.copied === true && r[1].some((d) => d.includes('/cpuset'))), 'the cpuset was not copied by the job');
  });

  test('an id naming a cgroup file is refused at createContainer without a cgroupsPath, leaving nothing; with one it runs', async () => {
    for (const id of ['tasks', 'cgroup.procs', 'notify_on_release', 'cpu.shares', 'memory.limit_in_bytes', 'pids.max', 'freezer.state']) {
      await assert.rejects(
        createContainer(id, makeConfig({ process: { args: ['true'] } }), { root }),
        (e: unknown) => e instanceof ConfigError && e.field === 'id' && e.message.includes(JSON.stringify(id)) && /set linux\.cgroupsPath/.test(e.message),
        id,
      );
      assert.equal(fs.existsSync(path.join(root, id)), false, `${id}: no state left`);
      for (const [key, dir] of own) {
        const leaf = path.join(dir, 'node-libcontainer', id);
        assert.ok(!fs.existsSync(leaf) || !fs.statSync(leaf).isDirectory(), `${leaf} (${key || 'unified'}) was made`);
      }
    }
    const c = await createContainer('tasks', makeConfig({ process: { args: ['true'] }, linux: { cgroupsPath: `${relParent}/ctr` } }), { root });
    created.push(c);
    const p = await c.run({ stdio: 'ignore' });
    assert.deepEqual(await p.wait(), { exitCode: 0, signal: null });
    await c.destroy();
  });

  test('exec\'d processes join the container\'s cgroup, or a subCgroupPath inside it; destroy removes it all', async () => {
    const rel = `${relParent}/ctr`;
    const c = await make('join', {}, { linux: { cgroupsPath: rel } });
    const init = await c.run({ stdio: 'ignore' });
    try {
      const dirs = cgroupDirsOf(init.pid);
      for (const [key, dir] of own) {
        if (dirs.has(key)) assert.equal(dirs.get(key), path.join(dir, rel), `${key || 'unified'}: under our own cgroup`);
      }
      assert.ok(dirs.get('memory')?.endsWith(`/${rel}`) && dirs.get('pids')?.endsWith(`/${rel}`));
      const r = await execIn(c, ['sh', '-c', 'cat /proc/self/cgroup; echo host-pid-follows; sleep 0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
      // Inside its cgroup namespace the container's cgroup is the root.
      for (const line of r.out.split('\n').filter((l) => /^\d+:/.test(l) && !l.includes('name='))) assert.match(line, /:\/$/, line);

      const sleeper = await c.start({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
      assert.deepEqual(cgroupDirsOf(sleeper.pid), dirs);
      await sleeper.kill();

      // runc exec --cgroup: the sub-cgroup must exist already.
      for (const dir of new Set(dirs.values())) {
        fs.mkdirSync(path.join(dir, 'sub'));
        if (fs.existsSync(path.join(dir, 'cpuset.cpus'))) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(dir, 'sub', f), fs.readFileSync(path.join(dir, f), 'utf8').trim());
        }
      }
      const sub = await c.start({ init: false, args: ['sh', '-c', 'cat /proc/self/cgroup; sleep 1000'], stdio: ['ignore', 'pipe', 'pipe'], subCgroupPath: 'sub' });
      const inside = await new Promise<string>((resolve) => sub.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
      for (const [key, dir] of cgroupDirsOf(sub.pid)) {
        if (dirs.has(key)) assert.equal(dir, path.join(dirs.get(key)!, 'sub'), `${key || 'unified'} of the subCgroupPath process`);
      }
      assert.match(inside, /:memory:\/sub$/m);
      assert.ok((await c.processes()).includes(sub.pid), 'processes() includes sub-cgroups');
      await assert.rejects(c.start({ init: false, args: ['true'], subCgroupPath: '../escape' }), { code: 'ERR_CONFIG', message: /is not a sub cgroup path/ });
      // runc refuses a sub-cgroup that is not there too: it is the caller's to make.
      await assert.rejects(c.run({ init: false, args: ['true'], subCgroupPath: 'nope' }), (e: Error & { code?: string; field?: string }) => {
        assert.equal(e.code, 'ERR_CONFIG', e.message);
        assert.equal(e.field, 'process.subCgroupPath');
        assert.match(e.message, /sub-cgroup "nope" does not exist/);
        return true;
      });
    } finally {
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id, rel);
  });

  test('an RDMA limit is applied or the start fails, naming rdma: never dropped (no RDMA device here)', async () => {
    const c = await make('rdma', { rdma: { nlc_no_such_hca: { hcaHandles: 2, hcaObjects: 3 } } });
    await assert.rejects(c.run({ stdio: 'ignore' }), (e: unknown) => e instanceof Error && /rdma/.test(e.message), 'a start with an RDMA limit that cannot be set');
    await c.destroy();
    await assertNoCgroupLeft(c.id);
  });

  test('destroy leaves no cgroup in any hierarchy, nor an empty default parent', async () => {
    const c = await make('destroy', { memory: { limit: 64 * MiB }, pids: { limit: 20 }, cpu: { shares: 512 } });
    const init = await c.run({ stdio: 'ignore' });
    const dirs = cgroupDirsOf(init.pid);
    await c.start({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
    for (const [key, dir] of own) {
      if (!key.startsWith('name=') || key === 'name=systemd') assert.equal(dirs.get(key), path.join(dir, 'node-libcontainer', c.id), `${key || 'unified'} placement`);
    }
    await c.destroy();
    for (const dir of dirs.values()) assert.ok(!fs.existsSync(dir), `${dir} removed`);
    await assertNoCgroupLeft(c.id);
  });

  test('destroy after the init ended leaves a process moved into the cgroup from outside alone, and its cgroup with it', async () => {
    // With a private pid namespace the end of our init is the end of the container: what is
    // still in the cgroup is someone else's (runc's destroy does not kill it either).
    const c = await make('stranger', { pids: { limit: 20 } });
    const init = await c.run({ stdio: 'ignore' });
    const dirs = cgroupDirsOf(init.pid);
    const { spawn } = await import('node:child_process');
    const stranger = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const strangerExit = new Promise<NodeJS.Signals | null>((resolve) => stranger.once('exit', (_code, sig) => resolve(sig)));
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (const dir of new Set(dirs.values())) fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(stranger.pid));
      init.signal('SIGKILL');
      await init.wait();
      await withTimeout(c.destroy(), 15_000, 'destroy');
      await sleep(50); // warnings are emitted on the next tick
      assert.equal(stranger.exitCode, null, 'the stranger is still running');
      assert.equal(stranger.signalCode, null, 'the stranger is still running');
      assert.ok(fs.existsSync(dirs.get('')!), 'the cgroup the stranger is in is left');
      assert.ok(warnings.some((w) => (w as { code?: string }).code === 'NLC_CGROUP_IN_USE' && w.message.includes(String(stranger.pid))), 'a warning names the stranger');
      assert.equal(await c.status(), 'stopped');
      await assert.rejects(loadContainer(c.id, { root }), /not found|does not exist/i, 'the state is gone');
    } finally {
      process.off('warning', onWarning);
      stranger.kill('SIGKILL');
      await strangerExit;
    }
    // The caller's to remove once the stranger is gone (and the default parent, if now empty).
    for (const dir of new Set(dirs.values())) {
      await removeWhenEmpty(dir);
      try {
        fs.rmdirSync(path.dirname(dir));
      } catch {
        // other containers' (ENOTEMPTY/EBUSY)
      }
    }
    await assertNoCgroupLeft(c.id);
  });

  test('containers given the same cgroupsPath: a start is refused while another holds it, even at once, and no destroy touches the other', async () => {
    const shared = `${relParent}/ctr`;
    const runs = async (a: Container, b: Container) => Promise.allSettled([a.run({ stdio: 'ignore' }), b.run({ stdio: 'ignore' })]);
    // Two starts at once: exactly one gets the cgroup.
    const a = await make('share-a', { pids: { limit: 20 } }, { linux: { cgroupsPath: shared } });
    const b = await make('share-b', { pids: { limit: 20 } }, { linux: { cgroupsPath: shared } });
    const [ra, rb] = await runs(a, b);
    assert.deepEqual([ra.status, rb.status].sort(), ['fulfilled', 'rejected'], 'one start wins');
    const [winner, loser] = ra.status === 'fulfilled' ? [a, b] : [b, a];
    const refused = (ra.status === 'rejected' ? ra : rb) as PromiseRejectedResult;
    assert.match(String(refused.reason), /linux\.cgroupsPath/);
    const winnerInit = (ra.status === 'fulfilled' ? ra : (rb as PromiseFulfilledResult<Process>)).value;
    const dirs = cgroupDirsOf(winnerInit.pid);
    // The loser never started: its destroy kills nothing and removes nothing of the winner's.
    await loser.destroy();
    assert.equal(await winner.status(), 'running');
    for (const dir of dirs.values()) assert.ok(fs.existsSync(dir), `${dir} kept`);
    // The winner's init ends; a third container starts in the now empty cgroup (as runc
    // allows); the winner's destroy leaves it running, the third's removes the cgroup.
    winnerInit.signal('SIGKILL');
    await winnerInit.wait();
    const third = await make('share-c', { pids: { limit: 20 } }, { linux: { cgroupsPath: shared } });
    const thirdInit = await third.run({ stdio: 'ignore' });
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    await winner.destroy();
    assert.equal(((await withTimeout(warned, 5000, 'the warning')) as { code?: string }).code, 'NLC_CGROUP_IN_USE');
    assert.equal(await third.status(), 'running');
    assert.equal(thirdInit.exitStatus, null, "the third container's init is alive");
    await third.destroy();
    for (const dir of dirs.values()) assert.ok(!fs.existsSync(dir), `${dir} removed`);
  });});
