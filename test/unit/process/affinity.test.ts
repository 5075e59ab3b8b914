import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eligibleCpu, hostIsolatedCpus, isolatedTransition, ISOLATED_TRANSITION_ANNOTATION, parseCpuList, planAffinity } from '../../../lib/process/affinity';
import { ConfigError } from '../../../lib/errors';

test('parseCpuList', () => {
  assert.deepEqual(parseCpuList('0-3,7'), [0, 1, 2, 3, 7]);
  assert.deepEqual(parseCpuList(' 5 '), [5]);
  assert.deepEqual(parseCpuList(''), []);
  assert.deepEqual(parseCpuList('3,1-2,2'), [1, 2, 3]);
  assert.throws(() => parseCpuList('a'), RangeError);
  assert.throws(() => parseCpuList('3-1'), RangeError);
});

test('eligibleCpu: port of getEligibleCPU', () => {
  assert.equal(eligibleCpu('', '0-3'), -1);
  assert.equal(eligibleCpu('0-3', ''), -1);
  assert.equal(eligibleCpu('0-3', '(null)'), -1);
  assert.equal(eligibleCpu('0-3', '4-7'), -1); // no cpuset CPU isolated
  assert.equal(eligibleCpu('4-7', '4-7'), 4); // all isolated: first of the cpuset
  assert.equal(eligibleCpu('2-7', '2-5'), 6); // mixed: first housekeeping CPU
});

test('isolatedTransition honours the annotation', () => {
  assert.deepEqual(isolatedTransition('4-7', {}, '4-7'), { cpu: -1, definitive: false });
  assert.deepEqual(isolatedTransition('4-7', { [ISOLATED_TRANSITION_ANNOTATION]: 'temporary' }, '4-7'), { cpu: 4, definitive: false });
  assert.deepEqual(isolatedTransition('4-7', { [ISOLATED_TRANSITION_ANNOTATION]: 'definitive' }, '4-7'), { cpu: 4, definitive: true });
  assert.deepEqual(isolatedTransition('0-3', { [ISOLATED_TRANSITION_ANNOTATION]: 'definitive' }, '4-7'), { cpu: -1, definitive: false });
  assert.throws(() => isolatedTransition('0', { [ISOLATED_TRANSITION_ANNOTATION]: 'sometimes' }, '0'), (e: unknown) => e instanceof ConfigError && /annotations\./.test(e.field));
});

test('planAffinity: initial/final, transition, reset by default', () => {
  assert.deepEqual(planAffinity({ initial: '0', final: '1-2' }, 'process.execCPUAffinity'), { initial: [0], final: [1, 2] });
  assert.deepEqual(planAffinity({ initial: '1' }, 'process.execCPUAffinity'), { initial: [1], final: null });
  assert.deepEqual(planAffinity(undefined, 'process.execCPUAffinity'), { initial: null, final: 'reset' });
  const ann = { [ISOLATED_TRANSITION_ANNOTATION]: 'temporary' };
  assert.deepEqual(planAffinity(undefined, 'p', { cpusetCpus: '4-7', annotations: ann, isolated: '4-7' }), { initial: [4], final: 'reset' });
  assert.deepEqual(planAffinity(undefined, 'p', { cpusetCpus: '4-7', annotations: { [ISOLATED_TRANSITION_ANNOTATION]: 'definitive' }, isolated: '4-7' }), { initial: [4], final: null });
  assert.throws(() => planAffinity({ final: 'x' }, 'process.execCPUAffinity'), (e: unknown) => e instanceof ConfigError && e.field === 'process.execCPUAffinity.final');
});

test('hostIsolatedCpus: cmdline first, then sysfs', () => {
  const files = (m: Record<string, string>) => (p: string) => {
    if (!(p in m)) throw new Error('ENOENT');
    return m[p];
  };
  assert.equal(hostIsolatedCpus(files({ '/proc/cmdline': 'ro nohz_full=2-3 quiet', '/sys/devices/system/cpu/nohz_full': '1' })), '2-3');
  assert.equal(hostIsolatedCpus(files({ '/proc/cmdline': 'ro quiet', '/sys/devices/system/cpu/nohz_full': '1\n' })), '1');
  assert.equal(hostIsolatedCpus(files({ '/sys/devices/system/cpu/nohz_full': '(null)\n' })), '');
  assert.equal(hostIsolatedCpus(files({})), '');
});
