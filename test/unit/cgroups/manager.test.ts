import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../../lib/errors';
import { createManager } from '../../../lib/cgroups/manager';
import { destroyDirs } from '../../../lib/cgroups/common';
import { CgroupError } from '../../../lib/cgroups/errors';
import { removeCgroup, type RemoveOps } from '../../../lib/cgroups/remove';
import type { DeviceBinding } from '../../../lib/cgroups/v2/devices';
import type { NativeBinding } from '../../../lib/native/types';
import { addFiles, breakFile, read, tree } from './fixture';
import { HYBRID_CGROUP, HYBRID_MOUNTINFO, V2_CGROUP, V2_MOUNTINFO } from './samples';

const UNLIMITED = '9223372036854771712\n';

/** This machine's layout under a temp root, with the container's dirs already populated as the kernel would. */
function hybridRoot(id: string): string {
  const leaf = `node-libcontainer/${id}`;
  const procs = (dir: string) => ({ [`${dir}/cgroup.procs`]: '' });
  return tree({
    ...procs(`cpu/${leaf}`),
    [`cpu/${leaf}/cpu.shares`]: '1024\n',
    [`cpu/${leaf}/cpu.cfs_quota_us`]: '-1\n',
    [`cpu/${leaf}/cpu.cfs_period_us`]: '100000\n',
    [`cpu/${leaf}/cpu.stat`]: 'nr_periods 4\nnr_throttled 1\nthrottled_time 5000\n',
    ...procs(`cpuacct/${leaf}`),
    [`cpuacct/${leaf}/cpuacct.usage`]: '1000\n',
    [`cpuacct/${leaf}/cpuacct.usage_percpu`]: '600 400\n',
    [`cpuacct/${leaf}/cpuacct.stat`]: 'user 1\nsystem 2\n',
    'cpuset/cpuset.cpus': '0-3\n',
    'cpuset/cpuset.mems': '0\n',
    'cpuset/node-libcontainer/cpuset.cpus': '\n',
    'cpuset/node-libcontainer/cpuset.mems': '\n',
    ...procs(`cpuset/${leaf}`),
    [`cpuset/${leaf}/cpuset.cpus`]: '\n',
    [`cpuset/${leaf}/cpuset.mems`]: '\n',
    ...procs(`memory/process_api/f8e2/${leaf}`),
    [`memory/process_api/f8e2/${leaf}/memory.limit_in_bytes`]: UNLIMITED,
    [`memory/process_api/f8e2/${leaf}/memory.memsw.limit_in_bytes`]: UNLIMITED,
    [`memory/process_api/f8e2/${leaf}/memory.usage_in_bytes`]: '4096\n',
    [`memory/process_api/f8e2/${leaf}/memory.max_usage_in_bytes`]: '8192\n',
    [`memory/process_api/f8e2/${leaf}/memory.failcnt`]: '0\n',
    [`memory/process_api/f8e2/${leaf}/memory.stat`]: 'cache 0\nrss 4096\n',
    [`memory/process_api/f8e2/${leaf}/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n',
    ...procs(`devices/${leaf}`),
    [`devices/${leaf}/devices.list`]: 'a *:* rwm\n',
    [`devices/${leaf}/devices.allow`]: '',
    [`devices/${leaf}/devices.deny`]: '',
    ...procs(`freezer/${leaf}`),
    [`freezer/${leaf}/freezer.state`]: 'THAWED\n',
    ...procs(`blkio/${leaf}`),
    [`blkio/${leaf}/blkio.weight`]: '500\n',
    [`blkio/${leaf}/blkio.throttle.read_bps_device`]: '',
    ...procs(`pids/${leaf}`),
    [`pids/${leaf}/pids.max`]: 'max\n',
    [`pids/${leaf}/pids.current`]: '1\n',
    ...procs(`systemd/${leaf}`),
    ...procs(`unified/${leaf}`),
    [`unified/${leaf}/cgroup.kill`]: '',
  });
}

function hybrid(id = 'c1', extra: Partial<Parameters<typeof createManager>[0]> = {}) {
  const root = hybridRoot(id);
  const m = createManager({ id, root, mountinfo: HYBRID_MOUNTINFO, procSelfCgroup: HYBRID_CGROUP, skipDevices: true, ...extra });
  return { root, m };
}

describe('container ids and cgroupsPaths that name a cgroup file', () => {
  const at = (files: Record<string, string>) => tree({ 'cpu/cgroup.procs': '', 'memory/process_api/f8e2/cgroup.procs': '', ...files });
  const place = (root: string, id: string, cgroupsPath?: string) =>
    createManager({ id, cgroupsPath, root, mountinfo: HYBRID_MOUNTINFO, procSelfCgroup: HYBRID_CGROUP, skipDevices: true });
  const refused = (field: string, name: string, file: string) => (e: unknown): boolean => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.field, field);
    assert.ok(e.message.includes(JSON.stringify(name)), e.message);
    assert.ok(e.message.includes(file), e.message);
    assert.match(e.message, /set linux\.cgroupsPath/);
    return true;
  };

  test('an id naming a file of the default parent cgroup is refused, naming the id and the file', () => {
    const root = at({ 'cpu/node-libcontainer/tasks': '', 'cpu/node-libcontainer/cpu.shares': '1024\n', 'memory/process_api/f8e2/node-libcontainer/memory.limit_in_bytes': '0\n' });
    assert.throws(() => place(root, 'tasks'), refused('id', 'tasks', `${root}/cpu/node-libcontainer/tasks`));
    assert.throws(() => place(root, 'cpu.shares'), refused('id', 'cpu.shares', `${root}/cpu/node-libcontainer/cpu.shares`));
    // Found in whichever hierarchy has it (memory is under our own cgroup there).
    assert.throws(() => place(root, 'memory.limit_in_bytes'), refused('id', 'memory.limit_in_bytes', `${root}/memory/process_api/f8e2/node-libcontainer/memory.limit_in_bytes`));
    for (const id of ['c1', 'tasks2', 'cpu.shares.x']) assert.doesNotThrow(() => place(root, id), id);
  });

  test('before the default parent exists: its files are those of our own cgroup, and the core ones are refused by name', () => {
    const root = at({ 'cpu/cpu.shares': '1024\n', 'memory/process_api/f8e2/memory.limit_in_bytes': '0\n' });
    assert.throws(() => place(root, 'cpu.shares'), refused('id', 'cpu.shares', `${root}/cpu/node-libcontainer/cpu.shares`));
    assert.throws(() => place(root, 'memory.limit_in_bytes'), refused('id', 'memory.limit_in_bytes', 'memory.limit_in_bytes'));
    // cgroup.freeze is in no root cgroup; tasks and cgroup.procs are in every new one.
    for (const id of ['tasks', 'cgroup.procs', 'cgroup.freeze']) assert.throws(() => place(root, id), refused('id', id, `node-libcontainer/${id}`), id);
    assert.equal(fs.existsSync(`${root}/cpu/node-libcontainer`), false, 'nothing made');
  });

  test('a root cgroup lacks files its children have (pids.max, freezer.state on v1): those of an existing child count, or the known ones', () => {
    // pids: our own cgroup is the root, which has no pids.max; a child of it (someone else's) has.
    const withChild = at({ 'pids/cgroup.procs': '', 'pids/other/pids.max': 'max\n', 'pids/other/pids.current': '0\n', 'freezer/cgroup.procs': '' });
    assert.throws(() => place(withChild, 'pids.max'), refused('id', 'pids.max', `${withChild}/pids/node-libcontainer/pids.max`));
    // freezer: no child to look at: the files only a root lacks.
    assert.throws(() => place(withChild, 'freezer.state'), refused('id', 'freezer.state', `${withChild}/freezer/node-libcontainer/freezer.state`));
    for (const id of ['pids.x', 'freezer.statex', 'c1']) assert.doesNotThrow(() => place(withChild, id), id);
  });

  test('a cgroupsPath component naming a file is refused as linux.cgroupsPath; an existing directory of that name is not', () => {
    const root = at({ 'cpu/jobs/cpu.shares': '1024\n', 'cpu/other/cpu.shares/': '' });
    assert.throws(() => place(root, 'c1', 'jobs/cpu.shares'), refused('linux.cgroupsPath', 'cpu.shares', `${root}/cpu/jobs/cpu.shares`));
    assert.throws(() => place(root, 'c1', 'new/tasks'), refused('linux.cgroupsPath', 'tasks', 'tasks'));
    assert.throws(() => place(root, 'c1', '/cgroup.procs'), refused('linux.cgroupsPath', 'cgroup.procs', `${root}/cpu/cgroup.procs`));
    assert.doesNotThrow(() => place(root, 'c1', 'other/cpu.shares'));
    assert.doesNotThrow(() => place(root, 'tasks', 'jobs/c1'), 'the id does not matter with a cgroupsPath');
  });
});

describe('V1Manager on a hybrid host', () => {
  test('paths and the unified path for CLONE_INTO_CGROUP', () => {
    const { root, m } = hybrid();
    assert.equal(m.mode, 'hybrid');
    assert.equal(m.paths.memory, `${root}/memory/process_api/f8e2/node-libcontainer/c1`);
    assert.equal(m.paths['name=systemd'], `${root}/systemd/node-libcontainer/c1`);
    assert.equal(m.unifiedPath(), `${root}/unified/node-libcontainer/c1`);
  });
  test('apply: cpuset copied down from the parent, pid written into every hierarchy', () => {
    const { root, m } = hybrid();
    m.apply(4242);
    for (const dir of new Set(Object.values(m.paths))) assert.equal(read(dir, 'cgroup.procs'), '4242', dir);
    assert.equal(read(`${root}/cpuset/node-libcontainer`, 'cpuset.cpus'), '0-3');
    assert.equal(read(m.paths.cpuset, 'cpuset.mems'), '0');
  });
  test('createAsync: the v1 directories in one mkdirAsync job, then the cpuset copied down', async () => {
    const calls: string[][] = [];
    const binding = {
      mkdirAsync(dirs: string[], mode: number, cb: (err: Error | null, results?: [string | null, string[]][]) => void) {
        calls.push(dirs);
        assert.equal(mode, 0o755);
        setImmediate(() => cb(null, dirs.map((d) => [null, fs.existsSync(d) ? [] : [fs.mkdirSync(d, { recursive: true }) ?? d]] as [null, string[]])));
      },
    } as unknown as NativeBinding;
    const { root, m } = hybrid('c1', { binding });
    await m.createAsync('v1');
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], Object.entries(m.paths).filter(([k]) => k !== '').map(([, d]) => d), 'every v1 dir, not the unified one');
    assert.equal(read(`${root}/cpuset/node-libcontainer`, 'cpuset.cpus'), '0-3');
    assert.equal(read(m.paths.cpuset, 'cpuset.cpus'), '0-3');
    assert.equal(read(m.paths.cpuset, 'cpuset.mems'), '0');
  });
  test('createAsync: the job copies the cpuset and, from the second container of a rule set on, writes the device rules', async () => {
    type Setup = { copy?: string[]; expect?: [string, string]; writes?: [string, string[]][]; readBack?: string } | null;
    const jobs: Setup[][] = [];
    // Stands in for the job on the fixture's plain files: the cpuset gets a mark (the main
    // thread's copy would overwrite it with the parent's), the device rules are "written" and
    // devices.list made what the kernel would then show.
    const binding = {
      mkdirAsync(dirs: string[], _mode: number, cb: (err: Error | null, results?: unknown[]) => void, setups?: Setup[]) {
        jobs.push(setups ?? []);
        const results = dirs.map((d, i) => {
          fs.mkdirSync(d, { recursive: true });
          const s = setups?.[i];
          if (!s) return [null, []];
          if (s.copy) {
            for (const f of s.copy) fs.writeFileSync(path.join(d, f), 'job');
            return [null, [d], { copied: true, wrote: false }];
          }
          const read = fs.readFileSync(path.join(d, s.expect![0]), 'utf8');
          if (read !== s.expect![1]) return [null, [d], { copied: true, wrote: false, read }];
          const allowed = s.writes!.filter(([f]) => f === 'devices.allow').flatMap(([, vs]) => vs);
          fs.writeFileSync(path.join(d, 'devices.list'), `${allowed.join('\n')}\n`);
          return [null, [d], { copied: true, wrote: true, read, after: fs.readFileSync(path.join(d, 'devices.list'), 'utf8') }];
        });
        setImmediate(() => cb(null, results));
      },
    } as unknown as NativeBinding;
    const resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c' as const, major: 4, minor: 9, access: 'w' }] };
    const firstRoot = hybridRoot('c1');
    const first = createManager({ id: 'c1', root: firstRoot, mountinfo: HYBRID_MOUNTINFO, procSelfCgroup: HYBRID_CGROUP, binding, resources });
    await first.createAsync('v1');
    assert.equal(read(first.paths.cpuset, 'cpuset.cpus'), 'job', 'the cpuset was copied again on the main thread');
    const devicesAt = (m: typeof first) => Object.keys(m.paths).filter((k) => k !== '').indexOf('devices');
    assert.equal(jobs[0][devicesAt(first)], null, 'device rules given to the job before any were set up');
    // The fixture's devices.list does not follow the writes: the main thread's set() is checked without verification here.
    assert.throws(() => first.set(resources, { fresh: true }), /does not match/);

    // The next container beside it (the same parent directories), as the kernel makes its devices cgroup.
    addFiles(firstRoot, { 'devices/node-libcontainer/c2/devices.list': 'a *:* rwm\n', 'devices/node-libcontainer/c2/devices.allow': '', 'devices/node-libcontainer/c2/devices.deny': '' });
    const second = createManager({ id: 'c2', root: firstRoot, mountinfo: HYBRID_MOUNTINFO, procSelfCgroup: HYBRID_CGROUP, binding, resources });
    await second.createAsync('v1');
    const given = jobs[1][devicesAt(second)]!;
    assert.deepEqual(given.expect, ['devices.list', 'a *:* rwm\n']);
    assert.ok(given.writes!.some(([f, vs]) => f === 'devices.allow' && vs.includes('c 4:9 w')));
    // set() writes no device rule itself now, and verifies the list the job read back.
    second.set(resources, { fresh: true });
    assert.equal(read(second.paths.devices, 'devices.allow'), '');
    assert.equal(read(second.paths.devices, 'devices.deny'), '');
    assert.match(read(second.paths.devices, 'devices.list'), /^c 4:9 w$/m);
  });
  test('createAsync: a directory the job could not make is made the synchronous way, whose failure names it', async () => {
    const { root } = hybrid('c1');
    const blocked = `${root}/pids/node-libcontainer/c2`;
    // The kernel makes a new cpuset's files, empty.
    addFiles(root, { 'cpuset/node-libcontainer/c2/cpuset.cpus': '\n', 'cpuset/node-libcontainer/c2/cpuset.mems': '\n' });
    const binding = {
      mkdirAsync(dirs: string[], _mode: number, cb: (err: Error | null, results?: [string | null, string[]][]) => void) {
        const made = (d: string): [string | null, string[]] => (fs.existsSync(d) ? [null, []] : [null, [fs.mkdirSync(d, { recursive: true })!]]);
        setImmediate(() => cb(null, dirs.map((d) => (d === blocked ? ['EEXIST', []] : made(d)))));
      },
    } as unknown as NativeBinding;
    const m = createManager({ id: 'c2', root, mountinfo: HYBRID_MOUNTINFO, procSelfCgroup: HYBRID_CGROUP, skipDevices: true, binding });
    // A file there already would be refused by createManager (a ConfigError): this one comes after.
    fs.mkdirSync(path.dirname(blocked), { recursive: true });
    fs.writeFileSync(blocked, 'not a directory');
    await assert.rejects(m.createAsync('v1'), (e: unknown) => e instanceof CgroupError && e.path === blocked && /cannot create cgroup/.test(e.message));
  });
  test('apply uses the creation resources for a new cpuset', () => {
    const { m } = hybrid('c1', { resources: { cpu: { cpus: '1' } } });
    m.create();
    assert.equal(read(m.paths.cpuset, 'cpuset.cpus'), '1');
  });
  test('set writes each controller', () => {
    const { m } = hybrid();
    m.set({ memory: { limit: 1 << 26 }, pids: { limit: 32 }, cpu: { shares: 512, quota: 20000, cpus: '2' } });
    assert.equal(read(m.paths.memory, 'memory.limit_in_bytes'), String(1 << 26));
    assert.equal(read(m.paths.pids, 'pids.max'), '32');
    assert.equal(read(m.paths.cpu, 'cpu.shares'), '512');
    assert.equal(read(m.paths.cpu, 'cpu.cfs_quota_us'), '20000');
    assert.equal(read(m.paths.cpuset, 'cpuset.cpus'), '2');
  });
  test('set restores the previous values when a later write fails', () => {
    const { m } = hybrid();
    m.set({ memory: { limit: 1 << 26 }, pids: { limit: 32 } });
    breakFile(m.paths.blkio, 'blkio.throttle.read_bps_device');
    assert.throws(
      () =>
        m.set({
          memory: { limit: 1 << 27, swap: 1 << 28 },
          pids: { limit: 64 },
          cpu: { shares: 256 },
          blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
        }),
      (e: unknown) => e instanceof CgroupError && e.code === 'ERR_CGROUP' && e.path === `${m.paths.blkio}/blkio.throttle.read_bps_device`,
    );
    assert.equal(read(m.paths.memory, 'memory.limit_in_bytes'), String(1 << 26));
    assert.equal(read(m.paths.memory, 'memory.memsw.limit_in_bytes'), UNLIMITED.trim());
    assert.equal(read(m.paths.pids, 'pids.max'), '32');
    assert.equal(read(m.paths.cpu, 'cpu.shares'), '1024');
  });
  test('device rules: verification failure rolls back and devices.list is restored by rule writes', () => {
    const { m } = hybrid('c1', { skipDevices: false });
    m.apply(1); // cpuset gets its parent's cpus
    assert.throws(() => m.set({ pids: { limit: 5 }, cpu: { cpus: '3' } }), /devices cgroup/);
    assert.equal(read(m.paths.cpuset, 'cpuset.cpus'), '0-3', 'cpuset (written before devices) restored');
    assert.equal(read(m.paths.pids, 'pids.max'), 'max\n', 'pids (after devices) never written');
    // The undo re-allowed everything: the last write to devices.allow is "a *:* rwm".
    assert.equal(read(m.paths.devices, 'devices.allow'), 'a *:* rwm');
  });
  test('unified is refused on v1 hierarchies', () => {
    const { m } = hybrid();
    assert.throws(() => m.set({ unified: { 'memory.high': '1' } }), (e: unknown) => e instanceof ConfigError && e.field === 'linux.resources.unified');
  });
  test('a limit for an unmounted controller is an error, not silently dropped', () => {
    const { m } = hybrid();
    assert.throws(() => m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), /^CgroupError: linux\.resources\.hugepageLimits: .*hugetlb controller is not mounted/);
    assert.throws(() => m.set({ rdma: { mlx5_0: { hcaHandles: 2 } } }), /rdma controller is not mounted/);
  });
  test('stats, oomKillCount, getPids, freezer, kill', () => {
    const { m } = hybrid();
    fs.writeFileSync(`${m.paths.devices}/cgroup.procs`, '10\n11\n');
    fs.mkdirSync(`${m.paths.devices}/sub`);
    fs.writeFileSync(`${m.paths.devices}/sub/cgroup.procs`, '12\n');
    assert.deepEqual(m.getPids(), [10, 11]);
    assert.deepEqual(m.getPids(true), [10, 11, 12]);
    const s = m.stats();
    assert.equal(s.memory.usage, 4096);
    assert.equal(s.memory.oomKills, 3);
    assert.equal(s.cpu.usageTotal, 1000);
    assert.deepEqual(s.cpu.perCpu, [600, 400]);
    assert.equal(s.cpu.usageKernel, 20_000_000);
    assert.equal(s.cpu.throttledPeriods, 1);
    assert.deepEqual(s.pids, { current: 1, limit: null });
    // An unlimited v1 memsw limit is a bigint; the stats still go through JSON.stringify.
    fs.appendFileSync(`${m.paths.memory}/memory.stat`, 'hierarchical_memsw_limit 9223372036854771712\n');
    const big = m.stats();
    assert.equal(big.memory.raw.hierarchical_memsw_limit, 9223372036854771712n);
    const json = JSON.parse(JSON.stringify({ stats: big }));
    assert.equal(json.stats.memory.raw.hierarchical_memsw_limit, 9223372036854771712);
    assert.equal(json.stats.memory.usage, 4096);
    assert.deepEqual(json.stats.cpu.perCpu, [600, 400]);
    assert.deepEqual(Object.keys(big), ['memory', 'cpu', 'pids', 'io', 'hugetlb']);
    assert.equal(m.oomKillCount(), 3);
    m.freeze('frozen');
    assert.equal(m.freezerState(), 'frozen');
    m.freeze('thawed');
    assert.equal(m.freezerState(), 'thawed');
    assert.equal(m.kill(), true);
    assert.equal(read(m.unifiedPath()!, 'cgroup.kill'), '1');
  });
  test('pathsForExec joins the sub cgroup and refuses escapes', () => {
    const { m } = hybrid();
    for (const dir of Object.values(m.paths)) fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    assert.equal(m.pathsForExec('sub').memory, `${m.paths.memory}/sub`);
    assert.equal(m.pathsForExec('sub')[''], `${m.unifiedPath()}/sub`);
    assert.equal(m.pathsForExec()[''], m.unifiedPath());
    assert.throws(() => m.pathsForExec('../../x'), ConfigError);
  });
  test('pathsForExec refuses a sub cgroup that does not exist, in any hierarchy, naming the field and the directory', () => {
    const { m } = hybrid();
    const isMissing = (dir: string) => (e: unknown) =>
      e instanceof ConfigError && e.field === 'process.subCgroupPath' && /sub-cgroup "sub" does not exist/.test(e.message) && e.message.includes(dir);
    assert.throws(() => m.pathsForExec('nope'), (e: unknown) => e instanceof ConfigError && e.field === 'process.subCgroupPath' && /"nope" does not exist/.test(e.message));
    // Made everywhere but in the v2 tree.
    for (const [key, dir] of Object.entries(m.paths)) if (key !== '') fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    assert.throws(() => m.pathsForExec('sub'), isMissing(`${m.unifiedPath()}/sub`));
    // A file of that name is no cgroup either.
    fs.writeFileSync(`${m.unifiedPath()}/sub`, '');
    assert.throws(() => m.pathsForExec('sub'), isMissing(`${m.unifiedPath()}/sub`));
  });
  test('destroy removes every directory and the empty default parent', async () => {
    const { root, m } = hybrid();
    // Plain files stand in for the kernel's, which rmdir ignores; remove them so rmdir works on tmpfs.
    for (const dir of new Set(Object.values(m.paths))) {
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true });
    }
    for (const f of fs.readdirSync(`${root}/cpuset/node-libcontainer`)) if (f !== 'c1') fs.rmSync(`${root}/cpuset/node-libcontainer/${f}`);
    assert.equal(m.exists(), true);
    await m.destroy();
    assert.equal(m.exists(), false);
    for (const dir of Object.values(m.paths)) {
      assert.equal(fs.existsSync(dir), false, dir);
      assert.equal(fs.existsSync(path.dirname(dir)), false, path.dirname(dir));
    }
    await m.destroy(); // again: ENOENT is fine
  });
  test('saved paths are reused as they are', () => {
    const { m } = hybrid();
    const again = createManager({ id: 'c1', paths: { ...m.paths } });
    assert.equal(again.mode, 'hybrid');
    assert.deepEqual(again.paths, m.paths);
    assert.equal(createManager({ id: 'c1', paths: { '': '/x/y' } }).mode, 'v2');
  });
});

function v2Root(id: string): string {
  const own = 'user.slice/user-1000.slice/session-3.scope';
  const leaf = `${own}/node-libcontainer/${id}`;
  return tree({
    [`${own}/cgroup.controllers`]: 'cpu io memory pids\n',
    [`${own}/cgroup.subtree_control`]: '',
    [`${own}/node-libcontainer/cgroup.controllers`]: 'cpu io memory pids\n',
    [`${own}/node-libcontainer/cgroup.subtree_control`]: '',
    [`${leaf}/cgroup.controllers`]: 'cpu io memory pids\n',
    [`${leaf}/cgroup.procs`]: '',
    [`${leaf}/cgroup.freeze`]: '0\n',
    [`${leaf}/cgroup.events`]: 'populated 1\nfrozen 1\n',
    [`${leaf}/cgroup.kill`]: '',
    [`${leaf}/memory.max`]: 'max\n',
    [`${leaf}/memory.high`]: 'max\n',
    [`${leaf}/memory.swap.max`]: 'max\n',
    [`${leaf}/memory.current`]: '8192\n',
    [`${leaf}/memory.stat`]: 'anon 4096\nfile 4096\n',
    [`${leaf}/memory.events`]: 'max 0\noom 0\noom_kill 2\n',
    [`${leaf}/pids.max`]: 'max\n',
    [`${leaf}/pids.current`]: '2\n',
    [`${leaf}/cpu.weight`]: '100\n',
    [`${leaf}/cpu.max`]: 'max 100000\n',
    [`${leaf}/cpu.stat`]: 'usage_usec 10\nuser_usec 6\nsystem_usec 4\n',
    [`${leaf}/io.stat`]: '',
  });
}

function fakeDeviceBinding(calls: string[]): NativeBinding {
  const b: DeviceBinding = {
    bpfLoadDeviceProgram: () => {
      calls.push('load');
      return 90;
    },
    bpfQueryDevicePrograms: () => [],
    bpfProgramFdById: () => 91,
    bpfAttachDeviceProgram: () => {
      calls.push('attach');
    },
    bpfDetachDeviceProgram: () => {},
    close: () => {},
  };
  return b as unknown as NativeBinding;
}

describe('V2Manager', () => {
  test('create enables controllers from our own cgroup down to the parent', () => {
    const root = v2Root('c1');
    const m = createManager({ id: 'c1', root, mountinfo: V2_MOUNTINFO, procSelfCgroup: V2_CGROUP });
    assert.equal(m.mode, 'v2');
    m.apply(77);
    const own = `${root}/user.slice/user-1000.slice/session-3.scope`;
    assert.equal(read(own, 'cgroup.subtree_control'), '+cpu +io +memory +pids');
    assert.equal(read(`${own}/node-libcontainer`, 'cgroup.subtree_control'), '+cpu +io +memory +pids');
    assert.equal(read(m.unifiedPath()!, 'cgroup.procs'), '77');
    assert.deepEqual(m.paths, { '': `${own}/node-libcontainer/c1` });
  });
  test('a limit for a controller our own cgroup could not enable (it holds processes) says why and what to do', () => {
    const root = v2Root('c1');
    const own = `${root}/user.slice/user-1000.slice/session-3.scope`;
    fs.writeFileSync(`${own}/cgroup.type`, 'domain\n');
    fs.writeFileSync(`${own}/cgroup.procs`, '4242\n');
    const leaf = `${own}/node-libcontainer/c1`;
    fs.rmSync(`${leaf}/memory.max`);
    const m = createManager({ id: 'c1', root, mountinfo: V2_MOUNTINFO, procSelfCgroup: V2_CGROUP, binding: fakeDeviceBinding([]) });
    m.create();
    assert.equal(read(own, 'cgroup.subtree_control'), '');
    m.set({ pids: { limit: 8 } }); // a file that is there (this fake has no kernel to hide it)
    assert.throws(
      () => m.set({ memory: { limit: 1 << 20 } }),
      (e: unknown) =>
        e instanceof CgroupError &&
        e.message.includes(`the memory controller is not enabled for this cgroup: ${own} holds processes of its own`) &&
        /Delegate=yes/.test(e.message),
    );
  });
  test('set: files, unified overrides, then the device program', () => {
    const calls: string[] = [];
    const m = createManager({ id: 'c1', root: v2Root('c1'), mountinfo: V2_MOUNTINFO, procSelfCgroup: V2_CGROUP, binding: fakeDeviceBinding(calls) });
    m.set({ memory: { limit: 1 << 20, swap: 1 << 21 }, pids: { limit: 8 }, cpu: { shares: 2048, quota: 1000 }, unified: { 'memory.high': '524288' } });
    const dir = m.unifiedPath()!;
    assert.equal(read(dir, 'memory.max'), String(1 << 20));
    assert.equal(read(dir, 'memory.swap.max'), String(1 << 20));
    assert.equal(read(dir, 'memory.high'), '524288');
    assert.equal(read(dir, 'pids.max'), '8');
    assert.equal(read(dir, 'cpu.max'), '1000 100000');
    assert.deepEqual(calls, ['load', 'attach']);
  });
  test('a bad unified key fails before anything is written', () => {
    const calls: string[] = [];
    const m = createManager({ id: 'c1', root: v2Root('c1'), mountinfo: V2_MOUNTINFO, procSelfCgroup: V2_CGROUP, binding: fakeDeviceBinding(calls) });
    assert.throws(
      () => m.set({ pids: { limit: 8 }, unified: { 'hugetlb.2MB.max': '1' } }),
      (e: unknown) => e instanceof ConfigError && e.field === 'linux.resources.unified.hugetlb.2MB.max' && /hugetlb controller is not enabled/.test(e.message),
    );
    assert.equal(read(m.unifiedPath()!, 'pids.max'), 'max\n');
    assert.deepEqual(calls, []);
  });
  test('a failing device program load rolls the files back', () => {
    const m = createManager({ id: 'c1', root: v2Root('c1'), mountinfo: V2_MOUNTINFO, procSelfCgroup: V2_CGROUP });
    assert.throws(() => m.set({ pids: { limit: 8 }, memory: { limit: 4096 } }), (e: unknown) => e instanceof CgroupError && /native binding/.test(e.message));
    assert.equal(read(m.unifiedPath()!, 'pids.max'), 'max');
    assert.equal(read(m.unifiedPath()!, 'memory.max'), 'max');
  });
  test('stats, freeze, kill', () => {
    const m = createManager({ id: 'c1', root: v2Root('c1'), mountinfo: V2_MOUNTINFO, procSelfCgroup: V2_CGROUP });
    const s = m.stats();
    assert.equal(s.memory.usage, 8192);
    assert.equal(s.memory.oomKills, 2);
    assert.equal(s.cpu.usageTotal, 10_000);
    assert.deepEqual(s.pids, { current: 2, limit: null });
    assert.equal(m.oomKillCount(), 2);
    m.freeze('frozen');
    assert.equal(m.freezerState(), 'frozen');
    assert.equal(m.kill(), true);
  });
});

describe('removeCgroup', () => {
  function fakeOps(tree: Record<string, string[]>, busy: Record<string, number>): { ops: RemoveOps; log: string[] } {
    const log: string[] = [];
    const ops: RemoveOps = {
      rmdir: (dir) => {
        if (!(dir in tree)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        if (tree[dir].length > 0 || (busy[dir] ?? 0) > 0) {
          if (tree[dir].length === 0) busy[dir]--;
          log.push(`rmdir ${dir}: EBUSY`);
          throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
        }
        log.push(`rmdir ${dir}`);
        delete tree[dir];
        const parent = path.dirname(dir);
        if (tree[parent]) tree[parent] = tree[parent].filter((c) => c !== path.basename(dir));
      },
      subdirs: (dir) => {
        if (!(dir in tree)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        return [...tree[dir]];
      },
      sleep: async (ms) => {
        log.push(`sleep ${ms}`);
      },
    };
    return { ops, log };
  }
  test('sub-cgroups first, then EBUSY retried with a doubling delay', async () => {
    const { ops, log } = fakeOps({ '/c': ['a'], '/c/a': [] }, { '/c': 2 });
    await removeCgroup('/c', ops);
    assert.deepEqual(log, ['rmdir /c: EBUSY', 'rmdir /c/a', 'rmdir /c: EBUSY', 'sleep 1', 'rmdir /c: EBUSY', 'sleep 2', 'rmdir /c']);
  });
  test('gives up after about 5 s of EBUSY', async () => {
    const { ops, log } = fakeOps({ '/c': [] }, { '/c': 1000 });
    await assert.rejects(removeCgroup('/c', ops), (e: unknown) => e instanceof CgroupError && e.path === '/c');
    const slept = log.filter((l) => l.startsWith('sleep')).reduce((a, l) => a + Number(l.split(' ')[1]), 0);
    assert.ok(slept >= 4000 && slept <= 6000, `slept ${slept} ms`);
  });
  test('already gone is fine', async () => {
    const { ops } = fakeOps({}, {});
    await removeCgroup('/nope', ops);
  });
  test('manager destroy removes each distinct dir once, then the default parent where empty', async () => {
    const opts = { id: 'c9', root: '/r', mountinfo: HYBRID_MOUNTINFO, procSelfCgroup: HYBRID_CGROUP };
    const paths = createManager(opts).paths;
    const fake: Record<string, string[]> = {};
    for (const p of Object.values(paths)) {
      fake[p] = [];
      fake[path.dirname(p)] = ['c9'];
    }
    fake[path.dirname(paths.memory)].push('other-container');
    fake[`${path.dirname(paths.memory)}/other-container`] = [];
    const { ops, log } = fakeOps(fake, { [paths.pids]: 2 });
    await createManager({ ...opts, removeOps: ops }).destroy();
    for (const p of Object.values(paths)) assert.equal(p in fake, false, p);
    assert.equal(fake[path.dirname(paths.pids)], undefined, 'empty default parent removed');
    assert.deepEqual(fake[path.dirname(paths.memory)], ['other-container'], 'a parent still in use stays');
    assert.ok(log.includes('sleep 1'), 'EBUSY retried');
  });
  test('with rmdirEach, empty cgroups go in one batch; a busy or non-empty one takes the long way', async () => {
    const { ops, log } = fakeOps({ '/h1/c': [], '/h2/c': ['sub'], '/h2/c/sub': [], '/h3/c': [] }, { '/h3/c': 3 });
    const batches: string[][] = [];
    ops.rmdirEach = async (dirs) => {
      batches.push(dirs);
      return dirs.map((dir) => {
        try {
          ops.rmdir(dir);
          return null;
        } catch (err) {
          return (err as { code: string }).code;
        }
      });
    };
    await destroyDirs(['/h1/c', '/h2/c', '/h3/c', '/h1/c', '/h4/gone'], [], { inner: '', absolute: true, isDefault: false }, ops);
    assert.deepEqual(batches, [['/h1/c', '/h2/c', '/h3/c', '/h4/gone']], 'each distinct dir once, in one batch');
    assert.ok(log.includes('rmdir /h2/c/sub') && log.includes('rmdir /h2/c'), 'the sub-cgroup, then its parent');
    assert.ok(log.includes('sleep 1') && log.includes('rmdir /h3/c'), 'EBUSY retried');
    assert.equal(log.filter((l) => l === 'rmdir /h1/c').length, 1, 'a removed dir is not tried again');
  });
});
