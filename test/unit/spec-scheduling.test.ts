import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../lib/errors';
import { convertIoPriority, convertMemoryPolicy, convertPersonality, convertScheduler } from '../../lib/spec/scheduling';

test('scheduler: sched_attr\'s numbers; times beyond 2^53 refused with the field', () => {
  assert.equal(convertScheduler(undefined, 'process.scheduler'), null);
  assert.deepEqual(convertScheduler({ policy: 'SCHED_BATCH', nice: -3 }, 'process.scheduler'), { policy: 3, flags: 0, nice: -3, priority: 0, runtime: 0, deadline: 0, period: 0 });
  assert.deepEqual(convertScheduler({ policy: 'SCHED_DEADLINE', flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_DL_OVERRUN'], runtime: 10_000_000, deadline: 30_000_000n, period: 100_000_000 }, 'p'), {
    policy: 6, flags: 0x05, nice: 0, priority: 0, runtime: 10_000_000, deadline: 30_000_000, period: 100_000_000,
  });
  assert.equal(convertScheduler({ policy: 'SCHED_FIFO', priority: 10 }, 'p')!.policy, 1);
  assert.throws(() => convertScheduler({ policy: 'SCHED_DEADLINE', runtime: 2n ** 60n }, 'process.scheduler'), (e: unknown) => e instanceof ConfigError && e.field === 'process.scheduler.runtime');
});

test('ioPriority: the class above bit 13, the level below (0 when not given, as runc)', () => {
  assert.equal(convertIoPriority(undefined), null);
  assert.equal(convertIoPriority({ class: 'IOPRIO_CLASS_RT', priority: 2 }), (1 << 13) | 2);
  assert.equal(convertIoPriority({ class: 'IOPRIO_CLASS_BE', priority: 7 }), (2 << 13) | 7);
  assert.equal(convertIoPriority({ class: 'IOPRIO_CLASS_IDLE' }), 3 << 13);
});

test('personality: PER_LINUX or PER_LINUX32; flags (none defined) refused', () => {
  assert.equal(convertPersonality(undefined, 'linux.personality'), null);
  assert.equal(convertPersonality({ domain: 'LINUX' }, 'linux.personality'), 0);
  assert.equal(convertPersonality({ domain: 'LINUX32' }, 'linux.personality'), 8);
  assert.throws(() => convertPersonality({ domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] }, 'linux.personality'), (e: unknown) => e instanceof ConfigError && e.field === 'linux.personality.flags');
});

test('memoryPolicy: the mode with its flags, the node list; set_mempolicy\'s rules checked with the field', () => {
  const f = 'linux.memoryPolicy';
  assert.equal(convertMemoryPolicy(undefined, f), null);
  assert.deepEqual(convertMemoryPolicy({ mode: 'MPOL_BIND', nodes: '0-2,5' }, f), { mode: 2, nodes: [0, 1, 2, 5] });
  assert.deepEqual(convertMemoryPolicy({ mode: 'MPOL_INTERLEAVE', nodes: '1', flags: ['MPOL_F_RELATIVE_NODES'] }, f), { mode: 3 | (1 << 14), nodes: [1] });
  assert.deepEqual(convertMemoryPolicy({ mode: 'MPOL_PREFERRED_MANY', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, f), { mode: 5 | (1 << 13), nodes: [0] });
  assert.deepEqual(convertMemoryPolicy({ mode: 'MPOL_PREFERRED' }, f), { mode: 1, nodes: [] }, 'preferred without nodes: local allocation');
  assert.deepEqual(convertMemoryPolicy({ mode: 'MPOL_DEFAULT' }, f), { mode: 0, nodes: [] });
  const refused: [Parameters<typeof convertMemoryPolicy>[0], string][] = [
    [{}, `${f}.mode`],
    [{ mode: 'MPOL_INTERLEAVE' }, `${f}.nodes`],
    [{ mode: 'MPOL_DEFAULT', nodes: '0' }, `${f}.nodes`],
    [{ mode: 'MPOL_LOCAL', flags: ['MPOL_F_STATIC_NODES'] }, `${f}.flags`],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }, `${f}.flags`],
    [{ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, `${f}.flags`],
    [{ mode: 'MPOL_BIND', nodes: '2-1' }, `${f}.nodes`],
    [{ mode: 'MPOL_BIND', nodes: '1024' }, `${f}.nodes`],
  ];
  for (const [policy, field] of refused) {
    assert.throws(() => convertMemoryPolicy(policy, f), (e: unknown) => e instanceof ConfigError && e.field === field, JSON.stringify(policy));
  }
});
