import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal } from '../../../lib/process/signals';

test('parseSignal: names with and without SIG, any case, and numbers', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('term'), 15);
  assert.equal(parseSignal(9), 9);
  assert.equal(parseSignal('9'), 9);
  for (const bad of ['SIGNOPE', '', 0, 65, 1.5, '-1']) assert.throws(() => parseSignal(bad), { name: 'RangeError', code: 'ERR_UNKNOWN_SIGNAL' }, String(bad));
  // 0 (does it exist?) only where asked for: signal(), not a killSignal.
  assert.equal(parseSignal(0, { zero: true }), 0);
  assert.equal(parseSignal('0', { zero: true }), 0);
  for (const bad of [-1, 65, 'SIG0']) assert.throws(() => parseSignal(bad, { zero: true }), RangeError, String(bad));
});

test('parseSignal: real-time names as kill(1) and runc take them', () => {
  assert.equal(parseSignal('SIGRTMIN'), 34);
  assert.equal(parseSignal('RTMIN+1'), 35);
  assert.equal(parseSignal('sigrtmin+2'), 36);
  assert.equal(parseSignal('SIGRTMAX'), 64);
  assert.equal(parseSignal('SIGRTMAX-1'), 63);
  assert.equal(parseSignal('RTMAX-30'), 34);
  for (const bad of ['SIGRTMIN-1', 'SIGRTMAX+1', 'RTMIN+31', 'SIGRTMIN+', 'SIGRTMID']) assert.throws(() => parseSignal(bad), RangeError, bad);
});
