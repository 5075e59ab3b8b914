import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { CgroupError } from '../../../lib/cgroups/errors';
import { MAX_U64 } from '../../../lib/cgroups/file';
import * as blkio from '../../../lib/cgroups/v1/blkio';
import * as cpu from '../../../lib/cgroups/v1/cpu';
import * as cpuacct from '../../../lib/cgroups/v1/cpuacct';
import * as cpuset from '../../../lib/cgroups/v1/cpuset';
import * as devices from '../../../lib/cgroups/v1/devices';
import * as freezer from '../../../lib/cgroups/v1/freezer';
import * as hugetlb from '../../../lib/cgroups/v1/hugetlb';
import * as memory from '../../../lib/cgroups/v1/memory';
import * as net from '../../../lib/cgroups/v1/net';
import * as pids from '../../../lib/cgroups/v1/pids';
import { breakFile, read, tree } from './fixture';

const UNLIMITED = '9223372036854771712\n';

function memoryDir(extra: Record<string, string> = {}): string {
  return tree({
    'memory.limit_in_bytes': UNLIMITED,
    'memory.memsw.limit_in_bytes': UNLIMITED,
    'memory.soft_limit_in_bytes': UNLIMITED,
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.swappiness': '60\n',
    'memory.usage_in_bytes': '0\n',
    'memory.max_usage_in_bytes': '0\n',
    ...extra,
  });
}

describe('v1 memory', () => {
  test('limit, reservation, swap, swappiness, disableOOMKiller; kernel memory ignored', () => {
    const dir = memoryDir();
    memory.set(dir, {
      memory: { limit: 1 << 30, reservation: 512 << 20, swap: 2 * 2 ** 30, swappiness: 10, disableOOMKiller: true, kernel: 1 << 20 },
    });
    assert.equal(read(dir, 'memory.limit_in_bytes'), String(1 << 30));
    assert.equal(read(dir, 'memory.memsw.limit_in_bytes'), String(2 * 2 ** 30));
    assert.equal(read(dir, 'memory.soft_limit_in_bytes'), String(512 << 20));
    assert.equal(read(dir, 'memory.swappiness'), '10');
    assert.equal(read(dir, 'memory.oom_control'), '1');
  });

  /** Record the order of writes by breaking the second file: the first one is written, the second fails. */
  function firstWritten(current: string, limit: bigint, swap: bigint): string {
    const dir = memoryDir({ 'memory.limit_in_bytes': current });
    breakFile(dir, 'memory.memsw.limit_in_bytes');
    try {
      memory.set(dir, { memory: { limit, swap } });
    } catch {
      // expected: one of the two writes hits the directory
    }
    return read(dir, 'memory.limit_in_bytes') === current ? 'memsw first' : 'limit first';
  }

  test('raising: memsw is written before the limit (runc setMemoryAndSwap)', () => {
    assert.equal(firstWritten('1073741824\n', 2n << 30n, 4n << 30n), 'memsw first');
  });
  test('lowering: the limit is written before memsw', () => {
    assert.equal(firstWritten('4294967296\n', 1n << 30n, 2n << 30n), 'limit first');
  });
  test('limit -1 with swap unset sets memsw to -1 too', () => {
    const dir = memoryDir();
    memory.set(dir, { memory: { limit: -1 } });
    assert.equal(read(dir, 'memory.limit_in_bytes'), '-1');
    assert.equal(read(dir, 'memory.memsw.limit_in_bytes'), '-1');
  });
  test('swappiness out of range is rejected', () => {
    assert.throws(() => memory.set(memoryDir(), { memory: { swappiness: 101 } }), CgroupError);
  });
  test('large limits as bigint', () => {
    const dir = memoryDir();
    memory.set(dir, { memory: { limit: 2n ** 62n } });
    assert.equal(read(dir, 'memory.limit_in_bytes'), (2n ** 62n).toString());
  });
  test('stats and oom kills', () => {
    const dir = memoryDir({
      'memory.usage_in_bytes': '4931584\n',
      'memory.max_usage_in_bytes': '8564736\n',
      'memory.limit_in_bytes': '67108864\n',
      'memory.failcnt': '3\n',
      'memory.memsw.usage_in_bytes': '5025792\n',
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
      'memory.stat':
        'cache 102400\nrss 4464640\nrss_huge 0\nshmem 0\nmapped_file 0\ndirty 0\nwriteback 0\nswap 94208\npgpgin 2378\npgpgout 1264\n' +
        'hierarchical_memory_limit 67108864\nhierarchical_memsw_limit 9223372036854771712\ntotal_cache 102400\ntotal_rss 4464640\n',
    });
    const s = memory.stats(dir);
    assert.equal(s.usage, 4931584);
    assert.equal(s.maxUsage, 8564736);
    assert.equal(s.limit, 67108864);
    assert.equal(s.swapUsage, 5025792);
    assert.equal(s.cache, 102400);
    assert.equal(s.rss, 4464640);
    assert.equal(s.failcnt, 3);
    assert.equal(s.oomKills, 2);
    assert.equal(s.raw.pgpgin, 2378);
    // Beyond 2^53: exact, as a bigint (a number would be 9223372036854771712 rounded to another value).
    assert.equal(s.raw.hierarchical_memsw_limit, 9223372036854771712n);
    assert.equal(s.raw.hierarchical_memory_limit, 67108864);
    assert.equal(memory.oomKillCount(dir), 2);
    assert.equal(typeof memory.stats(memoryDir({ 'memory.failcnt': '0\n', 'memory.stat': '' })).limit, 'bigint');
  });
});

describe('v1 cpu and cpuacct', () => {
  const cpuDir = () =>
    tree({
      'cpu.shares': '1024\n',
      'cpu.cfs_period_us': '100000\n',
      'cpu.cfs_quota_us': '-1\n',
      'cpu.rt_period_us': '1000000\n',
      'cpu.rt_runtime_us': '0\n',
      'cpu.idle': '0\n',
    });
  test('shares, quota, period, idle, realtime', () => {
    const dir = cpuDir();
    // The fake file reads back what was written, like the kernel for an in-range value.
    cpu.set(dir, { cpu: { shares: 512, quota: 50000, period: 200000, idle: 1, realtimePeriod: 500000, realtimeRuntime: 1000 } });
    assert.equal(read(dir, 'cpu.shares'), '512');
    assert.equal(read(dir, 'cpu.cfs_quota_us'), '50000');
    assert.equal(read(dir, 'cpu.cfs_period_us'), '200000');
    assert.equal(read(dir, 'cpu.idle'), '1');
    assert.equal(read(dir, 'cpu.rt_period_us'), '500000');
    assert.equal(read(dir, 'cpu.rt_runtime_us'), '1000');
  });
  test('burst is skipped when the kernel has no cpu.cfs_burst_us', () => {
    const dir = cpuDir();
    cpu.set(dir, { cpu: { quota: 1000, burst: 500 } });
    assert.equal(read(dir, 'cpu.cfs_quota_us'), '1000');
  });
  test('cpu.stat throttling', () => {
    const dir = tree({ 'cpu.stat': 'nr_periods 120\nnr_throttled 7\nthrottled_time 123456789\n' });
    assert.deepEqual(cpu.stats(dir), { periods: 120, throttledPeriods: 7, throttledTime: 123456789 });
  });
  test('cpuacct: ticks become ns', () => {
    const dir = tree({
      'cpuacct.usage': '2513849712\n',
      'cpuacct.usage_percpu': '1273412003 1240437709 0 0 \n',
      'cpuacct.stat': 'user 180\nsystem 62\n',
    });
    assert.deepEqual(cpuacct.stats(dir), {
      usageTotal: 2513849712,
      usageUser: 1_800_000_000,
      usageKernel: 620_000_000,
      perCpu: [1273412003, 1240437709, 0, 0],
    });
  });
});

describe('v1 cpuset', () => {
  test('set cpus and mems', () => {
    const dir = tree({ 'cpuset.cpus': '\n', 'cpuset.mems': '\n' });
    cpuset.set(dir, { cpu: { cpus: '0-1', mems: '0' } });
    assert.equal(read(dir, 'cpuset.cpus'), '0-1');
    assert.equal(read(dir, 'cpuset.mems'), '0');
  });
  test('noprefix mounts use bare names', () => {
    const dir = tree({ cpus: '\n', mems: '\n' });
    cpuset.set(dir, { cpu: { cpus: '3' } });
    assert.equal(read(dir, 'cpus'), '3');
  });
  test('ensureDir copies the parent cpus/mems into every new, empty dir on the way down', () => {
    const root = tree({
      'cpuset.cpus': '0-7\n',
      'cpuset.mems': '0-1\n',
      // The kernel creates the files empty in new dirs; the fixture pre-creates them.
      'a/cpuset.cpus': '\n',
      'a/cpuset.mems': '\n',
      'a/b/cpuset.cpus': '\n',
      'a/b/cpuset.mems': '\n',
    });
    cpuset.ensureDir(root, `${root}/a/b`, { cpu: { cpus: '2' } });
    assert.equal(read(`${root}/a`, 'cpuset.cpus'), '0-7');
    assert.equal(read(`${root}/a`, 'cpuset.mems'), '0-1');
    assert.equal(read(`${root}/a/b`, 'cpuset.cpus'), '2', 'the user value is not overwritten');
    assert.equal(read(`${root}/a/b`, 'cpuset.mems'), '0-1');
  });
});

describe('v1 pids', () => {
  test('limit, and -1 / 0 mean max', () => {
    const dir = tree({ 'pids.max': 'max\n' });
    pids.set(dir, { pids: { limit: 64 } });
    assert.equal(read(dir, 'pids.max'), '64');
    pids.set(dir, { pids: { limit: -1 } });
    assert.equal(read(dir, 'pids.max'), 'max');
    pids.set(dir, { pids: { limit: 0 } });
    assert.equal(read(dir, 'pids.max'), 'max');
  });
  test('stats', () => {
    assert.deepEqual(pids.stats(tree({ 'pids.current': '5\n', 'pids.max': 'max\n' })), { current: 5, limit: null });
    assert.deepEqual(pids.stats(tree({ 'pids.current': '5\n', 'pids.max': '20\n' })), { current: 5, limit: 20 });
  });
});

describe('v1 blkio', () => {
  const blkioDir = (cfq = true) =>
    tree({
      [cfq ? 'blkio.weight' : 'blkio.bfq.weight']: '500\n',
      [cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device']: '',
      'blkio.leaf_weight': '500\n',
      'blkio.leaf_weight_device': '',
      'blkio.throttle.read_bps_device': '',
      'blkio.throttle.write_bps_device': '',
      'blkio.throttle.read_iops_device': '',
      'blkio.throttle.write_iops_device': '',
    });
  test('weights and throttles', () => {
    const dir = blkioDir();
    blkio.set(dir, {
      blockIO: {
        weight: 300,
        leafWeight: 200,
        weightDevice: [{ major: 8, minor: 0, weight: 400, leafWeight: 100 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 2097152 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 50 }],
      },
    });
    assert.equal(read(dir, 'blkio.weight'), '300');
    assert.equal(read(dir, 'blkio.leaf_weight'), '200');
    assert.equal(read(dir, 'blkio.weight_device'), '8:0 400');
    assert.equal(read(dir, 'blkio.leaf_weight_device'), '8:0 100');
    assert.equal(read(dir, 'blkio.throttle.read_bps_device'), '8:0 1048576');
    assert.equal(read(dir, 'blkio.throttle.write_bps_device'), '8:16 2097152');
    assert.equal(read(dir, 'blkio.throttle.read_iops_device'), '8:0 100');
    assert.equal(read(dir, 'blkio.throttle.write_iops_device'), '8:0 50');
  });
  test('BFQ names without CFQ', () => {
    const dir = blkioDir(false);
    blkio.set(dir, { blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 400 }] } });
    assert.equal(read(dir, 'blkio.bfq.weight'), '300');
    assert.equal(read(dir, 'blkio.bfq.weight_device'), '8:0 400');
  });
  test('stats from the throttle files', () => {
    const dir = tree({
      'blkio.throttle.io_service_bytes': '8:0 Read 1282048\n8:0 Write 2195456\n8:0 Sync 2195456\n8:0 Async 1282048\n8:0 Total 3477504\nTotal 3477504\n',
      'blkio.throttle.io_serviced': '8:0 Read 124\n8:0 Write 104\n8:0 Sync 104\n8:0 Async 124\n8:0 Total 228\nTotal 228\n',
    });
    const s = blkio.stats(dir);
    assert.deepEqual(s.serviceBytes[0], { major: 8, minor: 0, op: 'Read', value: 1282048 });
    assert.equal(s.serviceBytes.length, 5);
    assert.deepEqual(s.serviced[1], { major: 8, minor: 0, op: 'Write', value: 104 });
  });
  test('recursive throttle files win', () => {
    const dir = tree({
      'blkio.throttle.io_service_bytes_recursive': '8:0 Read 7\nTotal 7\n',
      'blkio.throttle.io_serviced_recursive': '8:0 Read 1\nTotal 1\n',
      'blkio.throttle.io_service_bytes': '8:0 Read 99\n',
      'blkio.throttle.io_serviced': '8:0 Read 99\n',
    });
    assert.equal(blkio.stats(dir).serviceBytes[0].value, 7);
  });
});

describe('v1 hugetlb', () => {
  test('limit_in_bytes per page size, rsvd where present', () => {
    const dir = tree({
      'hugetlb.2MB.limit_in_bytes': UNLIMITED,
      'hugetlb.2MB.rsvd.limit_in_bytes': UNLIMITED,
      'hugetlb.1GB.limit_in_bytes': UNLIMITED,
      'hugetlb.1GB.rsvd.limit_in_bytes': UNLIMITED,
    });
    hugetlb.set(dir, { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }, { pageSize: '1GB', limit: 0 }] });
    assert.equal(read(dir, 'hugetlb.2MB.limit_in_bytes'), '4194304');
    assert.equal(read(dir, 'hugetlb.2MB.rsvd.limit_in_bytes'), '4194304');
    assert.equal(read(dir, 'hugetlb.1GB.limit_in_bytes'), '0');
  });
  test('no rsvd files on older kernels', () => {
    const dir = tree({ 'hugetlb.2MB.limit_in_bytes': UNLIMITED });
    hugetlb.set(dir, { hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] });
    assert.equal(read(dir, 'hugetlb.2MB.limit_in_bytes'), '2097152');
  });
  test('stats', () => {
    const dir = tree({
      'hugetlb.2MB.limit_in_bytes': UNLIMITED,
      'hugetlb.2MB.usage_in_bytes': '2097152\n',
      'hugetlb.2MB.max_usage_in_bytes': '4194304\n',
      'hugetlb.2MB.failcnt': '1\n',
    });
    assert.deepEqual(hugetlb.stats(dir), { '2MB': { usage: 2097152, maxUsage: 4194304, failcnt: 1 } });
  });
});

describe('v1 devices', () => {
  const devDir = () => tree({ 'devices.list': 'a *:* rwm\n', 'devices.allow': '', 'devices.deny': '' });
  test('a fresh cgroup: deny all, then one allow per rule (user rules, then the defaults)', () => {
    const dir = devDir();
    const writes: string[] = [];
    const w = { write: (_d: string, f: string, v: string) => writes.push(`${f}: ${v}`), onRollback: () => {} };
    devices.set(dir, { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 1, access: 'rw' }] }, w as never, {
      verify: false,
    });
    assert.deepEqual(writes, [
      'devices.deny: a *:* rwm',
      'devices.allow: b *:* m',
      'devices.allow: c *:* m',
      'devices.allow: c 1:3 rwm',
      'devices.allow: c 1:5 rwm',
      'devices.allow: c 1:7 rwm',
      'devices.allow: c 1:8 rwm',
      'devices.allow: c 1:9 rwm',
      'devices.allow: c 4:1 rw',
      'devices.allow: c 5:0 rwm',
      'devices.allow: c 5:2 rwm',
      'devices.allow: c 10:200 rwm',
      'devices.allow: c 136:* rwm',
    ]);
  });
  test('an update writes only the difference', () => {
    const dir = tree({
      'devices.list': 'c *:* m\nb *:* m\nc 1:3 rwm\nc 1:8 rwm\nc 1:7 rwm\nc 5:0 rwm\nc 1:5 rwm\nc 1:9 rwm\nc 136:* rwm\nc 5:2 rwm\nc 10:200 rwm\nc 4:1 rw\n',
      'devices.allow': '',
      'devices.deny': '',
    });
    const writes: string[] = [];
    const w = { write: (_d: string, f: string, v: string) => writes.push(`${f}: ${v}`), onRollback: () => {} };
    devices.set(dir, { devices: [{ allow: true, type: 'c', major: 4, minor: 2, access: 'rwm' }] }, w as never, { verify: false });
    assert.deepEqual(writes, ['devices.deny: c 4:1 rw', 'devices.allow: c 4:2 rwm']);
  });
  test('verification fails when devices.list does not follow', () => {
    assert.throws(() => devices.set(devDir(), {}), /does not match/);
  });
  test('a fresh directory\'s rules decided ahead for the mkdir job, and what the job did taken as done', () => {
    // A rule set of this test's own: what the module has seen decides freshSetup.
    const res = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c' as const, major: 4, minor: 7, access: 'r' }] };
    const first0 = devDir();
    assert.equal(devices.freshSetup(first0, res), undefined, 'nothing to go on before a first directory');
    const writes: string[] = [];
    const w = { write: (_d: string, f: string, v: string) => writes.push(`${f}: ${v}`), onRollback: () => {} };
    devices.set(first0, res, w as never, { verify: false });
    const first = writes.splice(0);
    // The next directory beside it: the same parent.
    const next = path.join(path.dirname(first0), 'next');
    assert.equal(devices.freshSetup(path.join(os.tmpdir(), 'elsewhere', 'x'), res), undefined, 'another parent is another starting list');
    const ahead = devices.freshSetup(next, res)!;
    assert.deepEqual(ahead.expect, ['devices.list', 'a *:* rwm\n']);
    assert.equal(ahead.readBack, 'devices.list');
    assert.deepEqual(ahead.writes.flatMap(([f, vs]) => vs.map((v) => `${f}: ${v}`)), first, 'the same writes, grouped per file');
    assert.deepEqual(ahead.writes.map(([f]) => f), ['devices.deny', 'devices.allow']);

    // The job wrote them and read the list back: nothing is written again, the list is verified.
    const target = first.filter((x) => x.startsWith('devices.allow: ')).map((x) => x.slice('devices.allow: '.length)).join('\n') + '\n';
    devices.set(devDir(), res, w as never, { done: { read: 'a *:* rwm\n', wrote: true, after: target } });
    assert.deepEqual(writes, []);
    assert.throws(() => devices.set(devDir(), res, w as never, { done: { read: 'a *:* rwm\n', wrote: true, after: 'a *:* rwm\n' } }), /does not match/);
    // The job found another list (the parent changed) and wrote nothing: the writes follow from what it read.
    const third = devDir();
    devices.set(third, res, w as never, { verify: false, done: { read: `${target}c 4:8 rwm\n`, wrote: false } });
    assert.deepEqual(writes, ['devices.deny: c 4:8 rwm']);
    assert.deepEqual(devices.freshSetup(path.join(path.dirname(third), 'y'), res)!.expect, ['devices.list', `${target}c 4:8 rwm\n`], 'the newest starting list is expected next');
  });
});

describe('v1 freezer', () => {
  test('thaw writes THAWED', () => {
    const dir = tree({ 'freezer.state': 'FROZEN\n' });
    freezer.freeze(dir, 'thawed');
    assert.equal(read(dir, 'freezer.state'), 'THAWED');
  });
  test('freeze writes FROZEN and reads it back', () => {
    // A plain file reads back what we wrote: FROZEN at once.
    const dir = tree({ 'freezer.state': 'THAWED\n' });
    freezer.freeze(dir, 'frozen');
    assert.equal(freezer.state(dir), 'frozen');
  });
  test('state: frozen only through an ancestor counts as thawed', () => {
    assert.equal(freezer.state(tree({ 'freezer.state': 'FROZEN\n', 'freezer.self_freezing': '0\n' })), 'thawed');
    assert.equal(freezer.state(tree({ 'freezer.state': 'FROZEN\n', 'freezer.self_freezing': '1\n' })), 'frozen');
    assert.equal(freezer.state(tree({ 'freezer.state': 'THAWED\n' })), 'thawed');
    assert.equal(freezer.state(tree({})), 'thawed');
  });
  test('a freeze that cannot be written fails fast with the file named', () => {
    const dir = tree({});
    breakFile(dir, 'freezer.state');
    assert.throws(() => freezer.freeze(dir, 'frozen'), (e: unknown) => e instanceof CgroupError && e.path.endsWith('freezer.state'));
  });
});

describe('v1 net_cls / net_prio', () => {
  test('classid and ifpriomap', () => {
    const dir = tree({ 'net_cls.classid': '0\n', 'net_prio.ifpriomap': 'lo 0\n' });
    net.setNetCls(dir, { network: { classID: 0x100001 } });
    net.setNetPrio(dir, { network: { priorities: [{ name: 'lo', priority: 3 }] } });
    assert.equal(read(dir, 'net_cls.classid'), String(0x100001));
    assert.equal(read(dir, 'net_prio.ifpriomap'), 'lo 3');
  });
});

test('MAX_U64 is 2^64-1', () => assert.equal(MAX_U64, 18446744073709551615n));
