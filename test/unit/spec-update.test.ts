import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeResources, rejectUnknownResources } from '../../lib/spec/update';

const refused = (resources: unknown, message: RegExp) =>
  assert.throws(() => rejectUnknownResources(resources), (e: unknown) => e instanceof TypeError && /^ERR_INVALID_ARG_(VALUE|TYPE)$/.test((e as TypeError & { code?: string }).code ?? '') && message.test(e.message));

test('set() takes every LinuxResources field, with any names under rdma and unified', () => {
  rejectUnknownResources({});
  rejectUnknownResources({
    devices: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
    memory: { limit: 1, reservation: 1, swap: 1, kernel: 1, kernelTCP: 1, swappiness: 1, disableOOMKiller: true, useHierarchy: true, checkBeforeUpdate: true },
    cpu: { cpus: '0', mems: '0', period: 1, quota: 1, burst: 1, realtimePeriod: 1, realtimeRuntime: 1, shares: 1, idle: 1 },
    pids: { limit: 1 },
    blockIO: {
      weight: 10, leafWeight: 10,
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }], throttleWriteBpsDevice: [], throttleReadIOPSDevice: [], throttleWriteIOPSDevice: [],
      weightDevice: [{ major: 8, minor: 0, weight: 10, leafWeight: 10 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 1 }],
    network: { classID: 1, priorities: [{ name: 'eth0', priority: 1 }] },
    rdma: { mlx5_0: { hcaHandles: 1, hcaObjects: 1 } },
    unified: { 'memory.high': '1', 'anything.at_all': 'x' },
  });
  // A wrong type is the validator's to report, with its field.
  rejectUnknownResources({ memory: 5, devices: 'x' });
});

test('set() refuses a key that is not a LinuxResources field, at any depth, naming it', () => {
  refused({ cpuset: { cpus: '0' } }, /unknown resources field "cpuset" \(resources are devices, memory, cpu, pids, blockIO, hugepageLimits, network, rdma, unified\)/);
  refused({ bogus: 1 }, /"bogus"/);
  refused({ memory: { limt: 1 } }, /unknown resources field "memory\.limt" \(memory has kernel, /);
  refused({ blockIO: { weightDevice: [{ major: 8, minor: 0, wieght: 10 }] } }, /"blockIO\.weightDevice\[0\]\.wieght"/);
  refused({ devices: [{ allow: true }, { allow: false, acces: 'r' }] }, /"devices\[1\]\.acces"/);
  refused({ rdma: { mlx5_0: { hcaHandle: 1 } } }, /"rdma\.mlx5_0\.hcaHandle"/);
  refused({ network: { priorities: [{ name: 'eth0', prio: 1 }] } }, /"network\.priorities\[0\]\.prio"/);
  refused(null, /must be an object/);
  refused([{ memory: {} }], /must be an object/);
});

test('mergeResources: groups merged field by field; a unified key saved earlier gives way to a typed field of the request for the same file', () => {
  const saved = { pids: { limit: 50 }, memory: { limit: 256, swap: 512 }, unified: { 'pids.max': '20', 'memory.max': '200', 'memory.high': '150' } };
  assert.deepEqual(mergeResources(saved, { pids: { limit: 5 }, memory: { limit: 64 } }), {
    pids: { limit: 5 },
    memory: { limit: 64, swap: 512 },
    unified: { 'memory.high': '150' },
  });
  // Unified keys of the request itself stay, and win over its typed fields (as at create).
  assert.deepEqual(mergeResources(saved, { pids: { limit: 5 }, unified: { 'pids.max': '7' } }).unified, { 'memory.max': '200', 'memory.high': '150', 'pids.max': '7' });
  // A request without typed fields keeps them all (merged).
  assert.deepEqual(mergeResources(saved, { unified: { 'io.weight': 'default 200' } }).unified, { 'pids.max': '20', 'memory.max': '200', 'memory.high': '150', 'io.weight': 'default 200' });
  // runc's setMemoryAndSwap: a lifted limit lifts the swap too.
  assert.deepEqual(mergeResources({ memory: { limit: 256, swap: 512 } }, { memory: { limit: -1 } }).memory, { limit: -1, swap: -1 });
});
