/**
 * Cgroup v2 enforcement on a pure v2 host: a focused subset of cgroups.test.ts for the slow
 * VM (`scripts/run-v2-tests.sh dist/test/integration/cgroups-v2.test.js`, run by .ci/run),
 * with few containers: memory.max OOM kills, pids.max, cgroup.freeze, the eBPF device program
 * (enforced, and replaced on update so exactly one stays attached), cgroup.kill, destroy.
 * Skips anywhere else (a v1 or hybrid host). In the VM our own cgroup is the root, so
 * containers go to /sys/fs/cgroup/node-libcontainer/<id>.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createContainer, type Container, type ProcessOptions } from '../../lib';
import { loadBinding } from '../../lib/native/binding';
import { cpuTicks, execIn as execInContainer, makeConfig, skipUnlessRoot, tempRoot, withTimeout, type ConfigOverrides, type Ran } from './helpers';

const MiB = 1024 * 1024;
const CGROUP2 = '/sys/fs/cgroup';

function pureV2(): boolean {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === CGROUP2 && / - cgroup2 /.test(line));
}

const skip = skipUnlessRoot() || (pureV2() ? false : 'not a pure cgroup v2 host (CI runs this file in a v2 VM: scripts/run-v2-tests.sh)');

/** The v2 directory of a process (the mount root is / here: no cgroup namespace, no bind mount). */
function cgroupDirOf(pid: number | 'self'): string {
  const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
  assert.ok(line, `no v2 line in /proc/${pid}/cgroup`);
  return path.join(CGROUP2, line.slice(3));
}

/** Execs run slowly in the TCG VM: a generous time limit. */
const execIn = (c: Container, args: string[], opts: ProcessOptions = {}): Promise<Ran> => execInContainer(c, args, opts, 120_000);

/** Device programs attached to a cgroup directory. */
function devicePrograms(dir: string): number[] {
  const binding = loadBinding();
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return binding.bpfQueryDevicePrograms(fd);
  } finally {
    fs.closeSync(fd);
  }
}

describe('cgroups (pure v2): enforcement', { skip }, () => {
  const t = tempRoot();
  const root = t.root;
  const tag = `cg2t${process.pid}`;
  const created: Container[] = [];
  after(async () => {
    for (const c of created) await c.destroy().catch(() => {});
    await t.cleanup();
  });

  async function make(name: string, resources: Record<string, unknown>, overrides: ConfigOverrides = {}, args = ['sleep', '100000']): Promise<Container> {
    const base = makeConfig(overrides) as { linux: Record<string, unknown>; process: Record<string, unknown> };
    const config = { ...base, process: { ...base.process, args }, linux: { ...base.linux, resources } };
    const c = await createContainer(`${tag}-${name}`, config, { root });
    created.push(c);
    return c;
  }

  async function assertNoCgroupLeft(id: string): Promise<void> {
    const own = cgroupDirOf('self');
    assert.ok(!fs.existsSync(path.join(own, 'node-libcontainer', id)), `the cgroup of ${id} is left behind`);
    const parent = path.join(own, 'node-libcontainer');
    if (fs.existsSync(parent)) {
      const left = fs.readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory());
      assert.ok(left.length > 0, `empty default parent ${parent} left behind`);
    }
  }

  test('memory.max OOM-kills, the device program is enforced and replaced, pids.max stops a fork loop, cgroup.kill', async (tc) => {
    tc.diagnostic(`cgroup v2 host: controllers ${fs.readFileSync(path.join(CGROUP2, 'cgroup.controllers'), 'utf8').trim()}`);
    const limit = 32 * MiB;
    const kmsg = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o600, uid: 0, gid: 0 };
    const c = await make('limits', { memory: { limit, swap: limit }, pids: { limit: 16 } }, { linux: { devices: [kmsg] } });
    const init = await c.run({ stdio: 'ignore' });
    const dir = cgroupDirOf(init.pid);
    assert.equal(dir, path.join(cgroupDirOf('self'), 'node-libcontainer', c.id));
    assert.equal(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8').trim(), String(limit));
    assert.equal(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8').trim(), '16');
    const events = c.notifyOOM();
    try {
      // Memory: dd's 100 MiB buffer is anonymous memory; the OOM killer takes dd, not the init.
      const r = await execIn(c, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1']);
      assert.equal(r.signal, 'SIGKILL', `dd must be OOM-killed: ${JSON.stringify(r)}`);
      const ev = await withTimeout(events.next(), 30_000, 'notifyOOM (inotify on memory.events)');
      assert.ok(!ev.done && ev.value >= 1, `notifyOOM yields the OOM-kill count: ${JSON.stringify(ev)}`);
      const s = await c.stats();
      assert.ok(s.memory.oomKills >= 1, `oomKills ${s.memory.oomKills}`);
      assert.ok(s.memory.usage > 0);
      assert.equal(await c.status(), 'running');
      // An exec'd process joins the container's cgroup, the root of the container's cgroup namespace.
      const view = await execIn(c, ['cat', '/proc/self/cgroup']);
      assert.equal(view.out, '0::/', view.err);

      // Devices: /dev/kmsg is outside the default allow list; the defaults still work.
      const probe = ['sh', '-c', 'echo x > /dev/null && echo null-w; head -c 4 /dev/zero | wc -c; : > /dev/kmsg && echo kmsg-w'];
      let p = await execIn(c, probe);
      assert.match(p.out, /null-w/);
      assert.match(p.out, /^4$/m);
      assert.doesNotMatch(p.out, /kmsg-w/);
      assert.match(p.err, /kmsg: Operation not permitted/);
      const programs = devicePrograms(dir);
      assert.equal(programs.length, 1, `one device program attached: ${programs}`);
      await c.set({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'w' }] });
      const replaced = devicePrograms(dir);
      assert.equal(replaced.length, 1, `still one device program after the update: ${replaced}`);
      assert.notEqual(replaced[0], programs[0], 'the program was replaced');
      p = await execIn(c, probe);
      assert.match(p.out, /kmsg-w/, p.err);
      await c.set({ devices: [{ allow: false, access: 'rwm' }] });
      assert.equal(devicePrograms(dir).length, 1);
      p = await execIn(c, probe);
      assert.doesNotMatch(p.out, /kmsg-w/);
      assert.match(p.out, /null-w/);

      // Pids (last: the sleeps keep pids.max full): init + shell + sleeps = 16, then a fork fails.
      const loop = await execIn(c, ['sh', '-c', 'for i in $(seq 50); do sleep 1000 </dev/null >/dev/null 2>&1 & echo started $i; done; echo finished']);
      const started = loop.out.split('\n').filter((l) => l.startsWith('started ')).length;
      assert.match(loop.err, /can't fork/);
      assert.doesNotMatch(loop.out, /finished/);
      assert.ok(started >= 10 && started <= 14, `${started} of 50 forks under pids.max 16`);
      assert.ok((await c.stats()).pids.current <= 16);

      // cgroup.kill: everything in the cgroup (the init and the sleeps) dies at once.
      assert.ok(fs.existsSync(path.join(dir, 'cgroup.kill')));
      assert.ok((await c.processes()).length > 5);
      await c.signal('SIGKILL', { all: true });
      assert.equal((await withTimeout(init.wait(), 30_000, 'init after cgroup.kill')).signal, 'SIGKILL');
      for (let i = 0; i < 200 && (await c.processes()).length > 0; i++) await sleep(50);
      assert.deepEqual(await c.processes(), []);
    } finally {
      await events.return!();
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('set(): cpu.idle over shares succeeds (the weight goes in first) and back; a typed value wins over an earlier unified key for its file', async () => {
    const c = await make('setorder', { cpu: { shares: 2048 }, pids: { limit: 50 }, memory: { limit: 256 * MiB } });
    const init = await c.run({ stdio: 'ignore' });
    const dir = cgroupDirOf(init.pid);
    const file = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8').trim();
    assert.equal(file('cpu.weight'), '174');
    if (fs.existsSync(path.join(dir, 'cpu.idle'))) {
      // The kernel refuses a weight while the group is idle: before, this failed (EINVAL) and
      // its rollback left the weight at the kernel's 100.
      await c.set({ cpu: { idle: 1 } });
      assert.equal(file('cpu.idle'), '1');
      await c.set({ cpu: { idle: 0 } });
      assert.equal(file('cpu.idle'), '0');
      assert.equal(file('cpu.weight'), '174');
    }
    await c.set({ unified: { 'pids.max': '20', 'memory.max': String(200 * MiB) } });
    assert.deepEqual([file('pids.max'), file('memory.max')], ['20', String(200 * MiB)]);
    await c.set({ pids: { limit: 5 }, memory: { limit: 64 * MiB } });
    assert.deepEqual([file('pids.max'), file('memory.max')], ['5', String(64 * MiB)], 'the newer typed values');
    await c.destroy();
  });

  test('cgroup.freeze: pause stops progress, resume restarts it, SIGKILL kills a paused container; destroy leaves nothing', async () => {
    const c = await make('pause', { pids: { limit: 20 } }, {}, ['sh', '-c', 'while :; do :; done']);
    const init = await c.run({ stdio: 'ignore' });
    const dir = cgroupDirOf(init.pid);
    const progress = async () => {
      const a = cpuTicks(init.pid);
      await sleep(600);
      return cpuTicks(init.pid) - a;
    };
    try {
      assert.ok((await progress()) > 5, 'the busy loop runs');
      await c.pause();
      assert.equal(await c.status(), 'paused');
      assert.equal(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8').trim(), '1');
      assert.equal(await progress(), 0, 'no CPU time while frozen');
      await c.resume();
      assert.equal(await c.status(), 'running');
      assert.ok((await progress()) > 5, 'the busy loop runs again');
      // v2's freezer lets a fatal signal through: an exec'd process killed while paused dies,
      // and the container stays frozen (no thaw needed, none made).
      const e = await c.run({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
      await c.pause();
      assert.deepEqual(await withTimeout(e.kill(), 30_000, 'kill() in a paused container'), { exitCode: null, signal: 'SIGKILL' });
      assert.equal(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8').trim(), '1');
      assert.equal(await c.status(), 'paused');
      await c.signal('SIGKILL');
      assert.equal((await withTimeout(init.wait(), 30_000, 'paused init to die')).signal, 'SIGKILL');
      assert.equal(await c.status(), 'stopped');
    } finally {
      await c.destroy();
    }
    assert.ok(!fs.existsSync(dir), `${dir} removed`);
    await assertNoCgroupLeft(c.id);
  });

  test('an RDMA limit is applied or the start fails, naming rdma: never dropped (no RDMA device here)', async () => {
    const c = await make('rdma', { rdma: { nlc_no_such_hca: { hcaHandles: 2, hcaObjects: 3 } } });
    await assert.rejects(c.run({ stdio: 'ignore' }), (e: unknown) => e instanceof Error && /rdma/.test(e.message), 'a start with an RDMA limit that cannot be set');
    await c.destroy();
    await assertNoCgroupLeft(c.id);
  });

  test('notifyOOM ends by itself once the cgroup has no process left (cgroup.events populated 0)', async () => {
    const c = await make('oomend', { memory: { limit: 64 * MiB } });
    const init = await c.run({ stdio: 'ignore' });
    const events = c.notifyOOM();
    try {
      const next = events.next();
      init.signal('SIGKILL');
      await init.wait();
      const ev = await withTimeout(next, 30_000, 'notifyOOM to end');
      assert.equal(ev.done, true);
    } finally {
      await events.return?.();
      await c.destroy();
    }
    await assertNoCgroupLeft(c.id);
  });

  test('exec is cloned into the container\'s cgroup; one that has become a parent (EBUSY) puts it beside the init', async () => {
    const c = await make('execcg', { pids: { limit: 50 } });
    const init = await c.run({ stdio: 'ignore' });
    const dir = cgroupDirOf(init.pid);
    try {
      const first = await c.start({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
      assert.equal(cgroupDirOf(first.pid), dir);
      first.signal('SIGKILL');
      await first.wait();
      // The container moves its init into a child and delegates a controller to it, as a
      // systemd inside would: no process may now join the container's cgroup itself.
      const leaf = path.join(dir, 'leaf');
      fs.mkdirSync(leaf);
      fs.writeFileSync(path.join(leaf, 'cgroup.procs'), String(init.pid));
      fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), '+pids');
      const ran = await c.start({ init: false, args: ['sleep', '1000'], stdio: 'ignore' });
      try {
        assert.equal(cgroupDirOf(ran.pid), leaf);
      } finally {
        ran.signal('SIGKILL');
        await ran.wait();
      }
    } finally {
      await c.destroy();
    }
    assert.ok(!fs.existsSync(dir), `${dir} removed`);
    await assertNoCgroupLeft(c.id);
  });

  test('Node in a cgroup with processes of its own (a systemd service): containers start, that cgroup is left as it is, and a limit fails saying why', async () => {
    // The "service" is a child Node process moved into a cgroup of its own, beside the others.
    const svc = path.join(cgroupDirOf('self'), `nlc-svc-${tag}`);
    fs.mkdirSync(svc);
    const script = `
      const fs = require('node:fs');
      fs.writeFileSync(${JSON.stringify(path.join(svc, 'cgroup.procs'))}, String(process.pid));
      const { createContainer } = require(${JSON.stringify(path.resolve(__dirname, '../../lib'))});
      const config = JSON.parse(process.argv[1]);
      (async () => {
        const out = {};
        const c = await createContainer(${JSON.stringify(`${tag}-svc`)}, config, { root: ${JSON.stringify(root)} });
        try {
          out.plain = await (await c.run({ stdio: 'ignore' })).wait();
        } finally {
          await c.destroy();
        }
        config.linux.resources = { pids: { limit: 20 } };
        const d = await createContainer(${JSON.stringify(`${tag}-svc-limited`)}, config, { root: ${JSON.stringify(root)} });
        try {
          await d.run({ stdio: 'ignore' });
          out.limited = 'started';
        } catch (err) {
          out.limited = err.code + ': ' + err.message;
        } finally {
          await d.destroy();
        }
        console.log(JSON.stringify(out));
      })().catch((err) => { console.error(err); process.exit(1); });`;
    const config = makeConfig({ process: { args: ['true'] } });
    delete (config.linux as { cgroupsPath?: string }).cgroupsPath; // the default: under our own cgroup
    const { execFile } = await import('node:child_process');
    try {
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['-e', script, JSON.stringify(config)], { timeout: 300_000 }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out))),
      );
      const out = JSON.parse(stdout.trim().split('\n').pop()!);
      assert.deepEqual(out.plain, { exitCode: 0, signal: null });
      assert.match(out.limited, /^ERR_CGROUP: .*the pids controller is not enabled for this cgroup: .*nlc-svc-.* holds processes of its own/);
      // Left as found: enabling cpu, cpuset or pids there would have made it a threaded domain.
      assert.equal(fs.readFileSync(path.join(svc, 'cgroup.subtree_control'), 'utf8').trim(), '');
      assert.equal(fs.readFileSync(path.join(svc, 'cgroup.type'), 'utf8').trim(), 'domain');
    } finally {
      try {
        fs.rmdirSync(path.join(svc, 'node-libcontainer'));
      } catch {
        // not made, or already gone
      }
      fs.rmdirSync(svc);
    }
  });
});
