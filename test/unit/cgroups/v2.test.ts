import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/errors';
import { CgroupError } from '../../../lib/cgroups/errors';
import { MAX_U64 } from '../../../lib/cgroups/file';
import { createPath } from '../../../lib/cgroups/v2/controllers';
import * as cpu from '../../../lib/cgroups/v2/cpu';
import * as cpuset from '../../../lib/cgroups/v2/cpuset';
import * as freezer from '../../../lib/cgroups/v2/freezer';
import * as hugetlb from '../../../lib/cgroups/v2/hugetlb';
import * as io from '../../../lib/cgroups/v2/io';
import * as memory from '../../../lib/cgroups/v2/memory';
import * as pids from '../../../lib/cgroups/v2/pids';
import * as unified from '../../../lib/cgroups/v2/unified';
import { setRdma } from '../../../lib/cgroups/rdma';
import type { CgroupWriter } from '../../../lib/cgroups/writer';
import { breakFile, read, tree } from './fixture';

describe('v2 memory', () => {
  const memDir = () => tree({ 'memory.max': 'max\n', 'memory.low': '0\n', 'memory.swap.max': 'max\n', 'memory.current': '1000\n' });
  test('max, low, swap.max = swap - limit', () => {
    const dir = memDir();
    memory.set(dir, { memory: { limit: 1 << 30, reservation: 256 << 20, swap: 3 * 2 ** 30, swappiness: 5, disableOOMKiller: true } });
    assert.equal(read(dir, 'memory.max'), String(1 << 30));
    assert.equal(read(dir, 'memory.low'), String(256 << 20));
    assert.equal(read(dir, 'memory.swap.max'), String(2 * 2 ** 30));
  });
  test('-1 is max; limit -1 without swap makes swap max too', () => {
    const dir = memDir();
    memory.set(dir, { memory: { limit: -1 } });
    assert.equal(read(dir, 'memory.max'), 'max');
    assert.equal(read(dir, 'memory.swap.max'), 'max');
  });
  test('swap equal to limit means no swap', () => {
    const dir = memDir();
    memory.set(dir, { memory: { limit: 1 << 20, swap: 1 << 20 } });
    assert.equal(read(dir, 'memory.swap.max'), '0');
  });
  test('convertMemorySwapToV2 (runc ConvertMemorySwapToCgroupV2Value)', () => {
    assert.equal(memory.convertMemorySwapToV2(0n, 0n), undefined);
    assert.equal(memory.convertMemorySwapToV2(-1n, 100n), -1n);
    assert.equal(memory.convertMemorySwapToV2(300n, -1n), 300n);
    assert.equal(memory.convertMemorySwapToV2(300n, 100n), 200n);
    assert.throws(() => memory.convertMemorySwapToV2(100n, 0n), /without a memory limit/);
    assert.throws(() => memory.convertMemorySwapToV2(50n, 100n), />= memory/);
  });
  test('swap below limit is an ERR_CGROUP naming memory.swap.max', () => {
    assert.throws(() => memory.set(memDir(), { memory: { limit: 100, swap: 50 } }), (e: unknown) => e instanceof CgroupError && /memory\.swap\.max/.test(e.path));
  });
  test('checkBeforeUpdate rejects a limit below usage', () => {
    assert.throws(() => memory.set(memDir(), { memory: { limit: 500, checkBeforeUpdate: true } }), /rejecting memory limit/);
  });
  test('no swap accounting: max/0 swap is skipped', () => {
    const dir = tree({ 'memory.max': 'max\n' });
    memory.set(dir, { memory: { limit: -1 } });
    assert.equal(read(dir, 'memory.max'), 'max');
  });
  test('stats', () => {
    const dir = tree({
      'memory.current': '7340032\n',
      'memory.peak': '9437184\n',
      'memory.max': '67108864\n',
      'memory.swap.current': '1048576\n',
      'memory.stat': 'anon 4194304\nfile 2097152\nkernel 786432\nsock 0\nshmem 0\nfile_mapped 0\npgfault 2310\n',
      'memory.events': 'low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n',
    });
    const s = memory.stats(dir);
    assert.equal(s.usage, 7340032);
    assert.equal(s.maxUsage, 9437184);
    assert.equal(s.limit, 67108864);
    assert.equal(s.swapUsage, 7340032 + 1048576);
    assert.equal(s.rss, 4194304);
    assert.equal(s.cache, 2097152);
    assert.equal(s.oomKills, 1);
    assert.equal(s.failcnt, 12);
    assert.equal(s.raw.pgfault, 2310);
    const huge = tree({ 'memory.current': '0\n', 'memory.max': 'max\n', 'memory.stat': 'anon 18446744073709551615\nfile 9007199254740993\npgfault 1\n' });
    const h = memory.stats(huge);
    assert.deepEqual(h.raw, { anon: 18446744073709551615n, file: 9007199254740993n, pgfault: 1 });
    // The typed counters stay numbers, saturated.
    assert.equal(h.rss, Number.MAX_SAFE_INTEGER);
    assert.equal(h.cache, Number.MAX_SAFE_INTEGER);
    assert.equal(memory.oomKillCount(dir), 1);
    const unlimited = tree({ 'memory.current': '0\n', 'memory.max': 'max\n' });
    assert.equal(memory.stats(unlimited).limit, MAX_U64);
  });
});

describe('v2 cpu', () => {
  const cpuDir = () => tree({ 'cpu.weight': '100\n', 'cpu.max': 'max 100000\n', 'cpu.idle': '0\n', 'cpu.max.burst': '0\n' });
  test('weight from shares, max, idle, burst', () => {
    const dir = cpuDir();
    cpu.set(dir, { cpu: { shares: 1024, quota: 50000, period: 250000, idle: 1, burst: 1000 } });
    assert.equal(read(dir, 'cpu.weight'), '100');
    assert.equal(read(dir, 'cpu.max'), '50000 250000');
    assert.equal(read(dir, 'cpu.idle'), '1');
    assert.equal(read(dir, 'cpu.max.burst'), '1000');
  });
  test('the weight goes in before the group becomes idle, and after it stops being idle (the kernel refuses it while idle)', () => {
    const writes = (resources: Parameters<typeof cpu.set>[1]): string[] => {
      const order: string[] = [];
      cpu.set('/nowhere', resources, { write: (_d: string, f: string, v: string) => void order.push(`${f}=${v}`) } as unknown as CgroupWriter);
      return order;
    };
    assert.deepEqual(writes({ cpu: { shares: 2048, idle: 1 } }), ['cpu.weight=174', 'cpu.idle=1']);
    assert.deepEqual(writes({ cpu: { shares: 2048, idle: 0 } }), ['cpu.idle=0', 'cpu.weight=174']);
  });
  test('period alone: quota max; quota alone: default period', () => {
    const dir = cpuDir();
    cpu.set(dir, { cpu: { period: 50000 } });
    assert.equal(read(dir, 'cpu.max'), 'max 50000');
    cpu.set(dir, { cpu: { quota: 20000 } });
    assert.equal(read(dir, 'cpu.max'), '20000 100000');
  });
  test('convertSharesToWeight (runc ConvertCPUSharesToCgroupV2Value)', () => {
    assert.equal(cpu.convertSharesToWeight(0), 0);
    assert.equal(cpu.convertSharesToWeight(2), 1);
    assert.equal(cpu.convertSharesToWeight(1024), 100);
    assert.equal(cpu.convertSharesToWeight(262144), 10000);
    assert.equal(cpu.convertSharesToWeight(512), 59);
  });
  test('stats in ns', () => {
    const dir = tree({
      'cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\nnr_bursts 0\nburst_usec 0\n',
    });
    assert.deepEqual(cpu.stats(dir), {
      usageTotal: 2_500_000,
      usageUser: 2_000_000,
      usageKernel: 500_000,
      perCpu: [],
      periods: 10,
      throttledPeriods: 2,
      throttledTime: 300_000,
    });
  });
});

describe('v2 cpuset, pids, hugetlb', () => {
  test('cpuset', () => {
    const dir = tree({ 'cpuset.cpus': '\n', 'cpuset.mems': '\n' });
    cpuset.set(dir, { cpu: { cpus: '1-2', mems: '0' } });
    assert.equal(read(dir, 'cpuset.cpus'), '1-2');
    assert.equal(read(dir, 'cpuset.mems'), '0');
  });
  test('pids', () => {
    const dir = tree({ 'pids.max': 'max\n', 'pids.current': '3\n' });
    pids.set(dir, { pids: { limit: 100 } });
    assert.equal(read(dir, 'pids.max'), '100');
    assert.deepEqual(pids.stats(dir), { current: 3, limit: 100 });
    pids.set(dir, { pids: { limit: -1 } });
    assert.equal(read(dir, 'pids.max'), 'max');
  });
  test('pids stats without the controller count cgroup.procs', () => {
    assert.deepEqual(pids.stats(tree({ 'cgroup.procs': '12\n13\n' })), { current: 2, limit: null });
  });
  test('hugetlb .max and .rsvd.max', () => {
    const dir = tree({ 'hugetlb.2MB.max': 'max\n', 'hugetlb.2MB.rsvd.max': 'max\n' });
    hugetlb.set(dir, { hugepageLimits: [{ pageSize: '2MB', limit: 8388608 }] });
    assert.equal(read(dir, 'hugetlb.2MB.max'), '8388608');
    assert.equal(read(dir, 'hugetlb.2MB.rsvd.max'), '8388608');
  });
  test('hugetlb stats', () => {
    const dir = tree({
      'hugetlb.2MB.max': 'max\n',
      'hugetlb.2MB.current': '2097152\n',
      'hugetlb.2MB.events': 'max 4\n',
      'hugetlb.1GB.max': 'max\n',
      'hugetlb.1GB.current': '0\n',
      'hugetlb.1GB.events': 'max 0\n',
    });
    assert.deepEqual(hugetlb.stats(dir), {
      '1GB': { usage: 0, maxUsage: 0, failcnt: 0 },
      '2MB': { usage: 2097152, maxUsage: 0, failcnt: 4 },
    });
  });
});

describe('v2 io', () => {
  test('io.weight from the blkio weight, io.max per device and kind', () => {
    const dir = tree({ 'io.weight': 'default 100\n', 'io.max': '' });
    const written: string[] = [];
    const w = { write: (_d: string, f: string, v: string) => written.push(`${f}: ${v}`) };
    io.set(
      dir,
      {
        blockIO: {
          weight: 500,
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
          throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 0 }],
          throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 50 }],
        },
      },
      w as never,
    );
    assert.deepEqual(written, [
      `io.weight: ${io.convertBlkioWeight(500)}`,
      'io.max: 8:0 rbps=1048576',
      'io.max: 8:0 wbps=max',
      'io.max: 8:16 riops=100',
      'io.max: 8:16 wiops=50',
    ]);
    assert.equal(io.convertBlkioWeight(10), 1);
    assert.equal(io.convertBlkioWeight(1000), 10000);
    assert.equal(io.convertBlkioWeight(500), 4950);
  });
  test('BFQ takes the blkio weight as is, and per-device weights', () => {
    const dir = tree({ 'io.bfq.weight': 'default 100\n', 'io.weight': 'default 100\n' });
    const written: string[] = [];
    const w = { write: (_d: string, f: string, v: string) => written.push(`${f}: ${v}`) };
    io.set(dir, { blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 300 }] } }, w as never);
    assert.deepEqual(written, ['io.bfq.weight: 500', 'io.bfq.weight: 8:0 300']);
  });
  test('stats', () => {
    const dir = tree({ 'io.stat': '8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n253:0 rbytes=10 wbytes=20 rios=1 wios=2\n' });
    const s = io.stats(dir);
    assert.deepEqual(s.serviceBytes, [
      { major: 8, minor: 16, op: 'Read', value: 1459200 },
      { major: 8, minor: 16, op: 'Write', value: 314773504 },
      { major: 253, minor: 0, op: 'Read', value: 10 },
      { major: 253, minor: 0, op: 'Write', value: 20 },
    ]);
    assert.equal(s.serviced.length, 4);
  });
});

describe('v2 unified', () => {
  test('writes each key; multi-line values one line at a time', () => {
    const dir = tree({ 'memory.high': 'max\n', 'io.max': '' });
    unified.set(dir, { 'memory.high': '1048576', 'io.max': '8:0 rbps=10\n8:16 wbps=20\n' });
    assert.equal(read(dir, 'memory.high'), '1048576');
    assert.equal(read(dir, 'io.max'), '8:16 wbps=20', 'the last line written');
  });
  for (const key of ['../memory.max', 'a/b', '..']) {
    test(`rejects ${key}`, () => {
      assert.throws(() => unified.set(tree({}), { [key]: '1' }), (e: unknown) => e instanceof ConfigError && e.field === `linux.resources.unified.${key}`);
    });
  }
  test('a missing file names the key and the controller', () => {
    assert.throws(
      () => unified.validate(tree({}), { 'memory.high': '1' }, new Set(['pids'])),
      (e: unknown) => e instanceof ConfigError && e.field === 'linux.resources.unified.memory.high' && /memory controller is not enabled/.test(e.message),
    );
  });
});

describe('v2 freezer', () => {
  test('freeze waits for cgroup.events frozen 1', () => {
    const dir = tree({ 'cgroup.freeze': '0\n', 'cgroup.events': 'populated 1\nfrozen 1\n' });
    freezer.freeze(dir, 'frozen');
    assert.equal(read(dir, 'cgroup.freeze'), '1');
    assert.equal(freezer.state(dir), 'frozen');
    freezer.freeze(dir, 'thawed');
    assert.equal(freezer.state(dir), 'thawed');
  });
  test('a freeze that never completes times out, thaws and throws', () => {
    const dir = tree({ 'cgroup.freeze': '0\n', 'cgroup.events': 'populated 1\nfrozen 0\n' });
    const start = Date.now();
    assert.throws(() => freezer.freeze(dir, 'frozen', 100), /timed out/);
    assert.ok(Date.now() - start < 2000);
    assert.equal(read(dir, 'cgroup.freeze'), '0');
  });
  test('freezing in progress is reported', () => {
    assert.equal(freezer.state(tree({ 'cgroup.freeze': '1\n', 'cgroup.events': 'frozen 0\n' })), 'freezing');
  });
  test('no cgroup.freeze: thaw is a no-op, freeze an error', () => {
    freezer.freeze(tree({}), 'thawed');
    assert.throws(() => freezer.freeze(tree({}), 'frozen'), CgroupError);
  });
});

describe('v2 controller enablement', () => {
  test('each level from the base down to the parent enables what it has', () => {
    const base = tree({
      'cgroup.controllers': 'cpuset cpu io memory pids\n',
      'cgroup.subtree_control': '',
      'node-libcontainer/cgroup.controllers': 'cpu memory pids\n',
      'node-libcontainer/cgroup.subtree_control': '',
    });
    const { created, result } = createPath(base, `${base}/node-libcontainer/c1`);
    assert.deepEqual(created, [`${base}/node-libcontainer/c1`]);
    assert.equal(read(base, 'cgroup.subtree_control'), '+cpuset +cpu +io +memory +pids');
    assert.equal(read(`${base}/node-libcontainer`, 'cgroup.subtree_control'), '+cpu +memory +pids');
    assert.deepEqual(result.refused, []);
  });
  test('a cgroup with processes of its own (Node under a systemd service) is left as it is: no controller enabled there', () => {
    // Writing the threaded controllers (cpu, cpuset, pids) would succeed and make it a
    // threaded domain, with every new child "domain invalid": nothing could start there.
    const base = tree({
      'cgroup.type': 'domain\n',
      'cgroup.procs': '128\n132\n',
      'cgroup.controllers': 'cpuset cpu io memory pids\n',
      'cgroup.subtree_control': 'cpu\n',
    });
    const { created, result } = createPath(base, `${base}/node-libcontainer/c1`);
    assert.deepEqual(created, [`${base}/node-libcontainer`, `${base}/node-libcontainer/c1`]);
    assert.equal(read(base, 'cgroup.subtree_control'), 'cpu\n');
    assert.deepEqual(
      result.refused.map((r) => `${r.controller} ${r.code}`),
      ['cpuset EBUSY', 'io EBUSY', 'memory EBUSY', 'pids EBUSY'],
    );
    // The same cgroup without processes enables them all; so does the root (no cgroup.type), whose processes the rule exempts.
    const empty = tree({ 'cgroup.type': 'domain\n', 'cgroup.procs': '', 'cgroup.controllers': 'cpu memory\n', 'cgroup.subtree_control': '' });
    assert.deepEqual(createPath(empty, `${empty}/c1`).result.refused, []);
    assert.equal(read(empty, 'cgroup.subtree_control'), '+cpu +memory');
    const root = tree({ 'cgroup.procs': '1\n', 'cgroup.controllers': 'cpu memory\n', 'cgroup.subtree_control': '' });
    assert.deepEqual(createPath(root, `${root}/c1`).result.refused, []);
    assert.equal(read(root, 'cgroup.subtree_control'), '+cpu +memory');
  });
  test('refusals are collected per controller', () => {
    const base = tree({ 'cgroup.controllers': 'memory pids\n' });
    breakFile(base, 'cgroup.subtree_control');
    const { result } = createPath(base, `${base}/c1`);
    assert.deepEqual(
      result.refused.map((r) => r.controller),
      ['memory', 'pids'],
    );
    assert.equal(result.refused[0].code, 'EISDIR');
  });
});

describe('rdma (the same rdma.max on v1 and v2)', () => {
  test('a line per device, with the limits it has', () => {
    const writes: string[] = [];
    const w = { write: (_dir: string, file: string, value: string) => void writes.push(`${file}: ${value}`) } as unknown as CgroupWriter;
    setRdma('/x', { rdma: { mlx5_0: { hcaHandles: 2 }, mlx4_0: { hcaHandles: 3, hcaObjects: 4 }, hfi1: { hcaObjects: 9 } } }, w);
    assert.deepEqual(writes, ['rdma.max: mlx5_0 hca_handle=2', 'rdma.max: mlx4_0 hca_handle=3 hca_object=4', 'rdma.max: hfi1 hca_object=9']);
    setRdma('/x', {}, w);
    assert.equal(writes.length, 3, 'no rdma, no write');
  });
  test('a cgroup without the controller (no rdma.max) fails, naming the file', () => {
    const dir = tree({});
    assert.throws(() => setRdma(dir, { rdma: { mlx5_0: { hcaHandles: 1 } } }), (e: unknown) => e instanceof CgroupError && e.path.endsWith('rdma.max'));
  });
});

