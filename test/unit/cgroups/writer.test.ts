import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CgroupWriter } from '../../../lib/cgroups/writer';
import { read, tree } from './fixture';

test('rollback restores plain files in reverse order, each once', () => {
  const dir = tree({ 'pids.max': 'max\n', 'memory.limit_in_bytes': '100\n' });
  const w = new CgroupWriter();
  w.write(dir, 'pids.max', '5');
  w.write(dir, 'memory.limit_in_bytes', '200');
  w.write(dir, 'pids.max', '6');
  w.rollback();
  assert.equal(read(dir, 'pids.max'), 'max');
  assert.equal(read(dir, 'memory.limit_in_bytes'), '100');
});

test('memory.oom_control restores the oom_kill_disable value', () => {
  const dir = tree({ 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 4\n' });
  const w = new CgroupWriter();
  w.write(dir, 'memory.oom_control', '1');
  w.rollback();
  assert.equal(read(dir, 'memory.oom_control'), '0');
});

test('per-device files restore the device line, or remove the entry', () => {
  const dir = tree({ 'io.max': '8:0 rbps=100 wbps=max riops=max wiops=max\n', 'blkio.throttle.read_bps_device': '' });
  const writes: string[] = [];
  const w = new CgroupWriter();
  w.write(dir, 'io.max', '8:0 rbps=5');
  w.write(dir, 'blkio.throttle.read_bps_device', '8:16 10');
  // Record what the undo writes by intercepting through a fresh read of each file after each undo.
  w.onRollback('probe', () => writes.push(read(dir, 'io.max')));
  w.rollback();
  assert.deepEqual(writes, ['8:0 rbps=5'], 'custom undos run newest first');
  assert.equal(read(dir, 'io.max'), '8:0 rbps=100 wbps=max riops=max wiops=max');
  assert.equal(read(dir, 'blkio.throttle.read_bps_device'), '8:16 0');
});

test('an untracked writer records nothing', () => {
  const dir = tree({ 'pids.max': 'max\n' });
  const w = new CgroupWriter(false);
  w.write(dir, 'pids.max', '5');
  w.rollback();
  assert.equal(read(dir, 'pids.max'), '5');
});

test('a failing restore does not stop the others', () => {
  const dir = tree({ 'a.x': '1\n', 'b.x': '2\n' });
  const w = new CgroupWriter();
  w.write(dir, 'a.x', '10');
  w.onRollback('broken', () => {
    throw new Error('boom');
  });
  w.write(dir, 'b.x', '20');
  w.rollback();
  assert.equal(read(dir, 'a.x'), '1');
  assert.equal(read(dir, 'b.x'), '2');
});

test('rollback tries a failed restore again after the others (cpu.weight is refused until cpu.idle is back)', () => {
  const w = new CgroupWriter();
  const done: string[] = [];
  let idleBack = false;
  w.onRollback('cpu.idle', () => {
    idleBack = true;
    done.push('idle');
  });
  // Newest first: this one runs before cpu.idle is back, and fails.
  w.onRollback('cpu.weight', () => {
    if (!idleBack) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
    done.push('weight');
  });
  w.rollback();
  assert.deepEqual(done, ['idle', 'weight']);
});
