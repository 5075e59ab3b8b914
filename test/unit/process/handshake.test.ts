import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as hs from '../../../lib/process/handshake';
import { InitError, ProtocolError } from '../../../lib/errors';

function run(mode: hs.Mode, messages: hs.InitMessage[]): { state: hs.HandshakeState; kinds: string[] } {
  let state = hs.initialState(mode);
  const kinds: string[] = [];
  for (const m of messages) {
    const step = hs.receive(state, m);
    state = step.state;
    for (const a of step.actions) {
      kinds.push(a.kind);
      if (a.kind === 'runHooks') state = hs.hooksDone(state).state;
    }
  }
  return { state, kinds };
}

test('init: procHooks, procReady, EOF resolves', () => {
  const { state, kinds } = run('init', [{ type: 'procHooks' }, { type: 'procReady' }, { type: 'eof' }]);
  assert.deepEqual(kinds, ['runHooks', 'ready', 'resolve']);
  assert.equal(state.phase, 'done');
});

test('procReady says whether procRun is owed (readyAck); without it, no procHooks and EOF still resolves', () => {
  const acked = hs.receive(hs.initialState('init'), { type: 'procReady' });
  assert.deepEqual(acked.actions, [{ kind: 'ready', ack: true }]);
  let state = hs.initialState('init', false);
  const step = hs.receive(state, { type: 'procReady' });
  assert.deepEqual(step.actions, [{ kind: 'ready', ack: false }]);
  state = step.state;
  const end = hs.receive(state, { type: 'eof' });
  assert.deepEqual(end.actions, [{ kind: 'resolve' }]);
  // EOF without procReady is still a failure: the helper died, it did not finish.
  const died = hs.receive(hs.initialState('init', false), { type: 'eof' });
  assert.equal(died.actions[0].kind, 'reject');
  // A failure reported after procReady (the helper goes on alone) still rejects.
  const late = hs.receive(state, { type: 'procError', stage: 'identity', syscall: 'setresuid', errno: 1, path: '', message: 'x' });
  assert.equal(late.actions[0].kind, 'reject');
});

test('init: a forked child is adopted once', () => {
  const { kinds, state } = run('init', [{ type: 'child', pid: 42, fds: [7] }, { type: 'procHooks' }, { type: 'procReady' }, { type: 'eof' }]);
  assert.deepEqual(kinds, ['adoptChild', 'runHooks', 'ready', 'resolve']);
  assert.equal(state.childPid, 42);
  const again = hs.receive(state, { type: 'child', pid: 43, fds: [8] });
  assert.deepEqual(again.actions, []); // done: ignored
});

test('a second child message is a protocol error', () => {
  let state = hs.receive(hs.initialState('init'), { type: 'child', pid: 42, fds: [7] }).state;
  const step = hs.receive(state, { type: 'child', pid: 43, fds: [8] });
  assert.equal(step.state.phase, 'failed');
  assert.equal(step.actions[0].kind, 'reject');
  state = step.state;
});

test('child message without exactly one fd is rejected', () => {
  const step = hs.receive(hs.initialState('exec'), { type: 'child', pid: 42, fds: [] });
  assert.equal(step.actions[0].kind, 'reject');
});

test('exec: procHooks is unexpected', () => {
  const step = hs.receive(hs.initialState('exec'), { type: 'procHooks' });
  assert.equal(step.state.phase, 'failed');
  const action = step.actions[0];
  assert.equal(action.kind, 'reject');
  if (action.kind === 'reject') {
    assert.ok(action.error instanceof ProtocolError);
    assert.match(action.error.message, /unexpected procHooks/);
  }
});

test('exec: procReady then EOF resolves', () => {
  const { kinds } = run('exec', [{ type: 'procReady' }, { type: 'eof' }]);
  assert.deepEqual(kinds, ['ready', 'resolve']);
});

test('EOF before procReady fails', () => {
  const { kinds, state } = run('init', [{ type: 'procHooks' }, { type: 'eof' }]);
  assert.deepEqual(kinds, ['runHooks', 'reject']);
  assert.equal(state.phase, 'failed');
});

test('procError becomes an InitError with stage, syscall, errno and path', () => {
  const step = hs.receive(hs.initialState('init'), {
    type: 'procError', stage: 'mounts', syscall: 'mount', errno: 2, path: '/proc', message: 'mounting proc',
  });
  const action = step.actions[0];
  assert.equal(action.kind, 'reject');
  if (action.kind === 'reject') {
    assert.ok(action.error instanceof InitError);
    const e = action.error as InitError;
    assert.equal(e.stage, 'mounts');
    assert.equal(e.syscall, 'mount');
    assert.equal(e.errno, 2);
    assert.equal(e.path, '/proc');
    assert.match(e.message, /ENOENT/);
  }
});

test('procReady twice is unexpected', () => {
  const { kinds } = run('init', [{ type: 'procReady' }, { type: 'procReady' }]);
  assert.deepEqual(kinds, ['ready', 'reject']);
});

test('hooksDone outside the hooks phase fails', () => {
  const step = hs.hooksDone(hs.initialState('init'));
  assert.equal(step.actions[0].kind, 'reject');
});

test('parentFailed rejects once, then is ignored', () => {
  const first = hs.parentFailed(hs.initialState('init'), new ProtocolError('boom'));
  assert.equal(first.actions[0].kind, 'reject');
  assert.deepEqual(hs.parentFailed(first.state, new ProtocolError('again')).actions, []);
});

test('parseMessage decodes every type and rejects garbage', () => {
  assert.deepEqual(hs.parseMessage(Buffer.from('{"type":"procReady"}'), []), { type: 'procReady' });
  assert.deepEqual(hs.parseMessage(Buffer.from('{"type":"child","pid":9}'), [5]), { type: 'child', pid: 9, fds: [5] });
  const err = hs.parseMessage(Buffer.from('{"type":"procError","stage":"exec","errno":2,"message":"x"}'), []);
  assert.equal(err.type, 'procError');
  assert.throws(() => hs.parseMessage(Buffer.from('not json'), []), ProtocolError);
  assert.throws(() => hs.parseMessage(Buffer.from('{"no":"type"}'), []), ProtocolError);
  assert.throws(() => hs.parseMessage(Buffer.from('{"type":"procWhat"}'), []), /unknown message type/);
});

test('terminal: one procConsole (the pty master) before procReady; without it, or unasked, or twice: failed', () => {
  const withTerminal = (mode: hs.Mode) => hs.initialState(mode, true, true);
  for (const mode of ['init', 'exec'] as const) {
    let step = hs.receive(withTerminal(mode), { type: 'procConsole', fds: [9] });
    assert.deepEqual(step.actions, [{ kind: 'adoptConsole', fd: 9 }]);
    step = hs.receive(step.state, { type: 'procReady' });
    assert.deepEqual(step.actions.map((a) => a.kind), ['ready']);
    const twice = hs.receive(hs.receive(withTerminal(mode), { type: 'procConsole', fds: [9] }).state, { type: 'procConsole', fds: [10] });
    assert.equal(twice.state.phase, 'failed');
  }
  const missing = hs.receive(withTerminal('init'), { type: 'procReady' });
  assert.equal(missing.state.phase, 'failed');
  assert.ok(missing.actions[0].kind === 'reject' && missing.actions[0].error instanceof ProtocolError && /procConsole/.test(missing.actions[0].error.message));
  assert.equal(hs.receive(hs.initialState('init'), { type: 'procConsole', fds: [9] }).state.phase, 'failed', 'not asked for');
  assert.equal(hs.receive(withTerminal('exec'), { type: 'procConsole', fds: [] }).state.phase, 'failed', 'no fd');
  assert.deepEqual(hs.parseMessage(Buffer.from('{"type":"procConsole"}'), [7]), { type: 'procConsole', fds: [7] });
});

test('seccomp notify: one procSeccomp (the listener\'s fd number), before or after procReady; missing at EOF or unasked: failed', () => {
  const notify = (mode: hs.Mode) => hs.initialState(mode, true, false, true);
  for (const order of [['procSeccomp', 'procReady'], ['procReady', 'procSeccomp']] as const) {
    let state = notify('init');
    const kinds: string[] = [];
    for (const type of [...order, 'eof'] as const) {
      const msg: hs.InitMessage = type === 'procSeccomp' ? { type, fd: 5 } : { type };
      const step = hs.receive(state, msg);
      state = step.state;
      kinds.push(...step.actions.map((a) => a.kind));
    }
    assert.deepEqual(kinds, order[0] === 'procSeccomp' ? ['seccomp', 'ready', 'resolve'] : ['ready', 'seccomp', 'resolve']);
  }
  const ready = hs.receive(notify('exec'), { type: 'procReady' }).state;
  const noListener = hs.receive(ready, { type: 'eof' });
  assert.equal(noListener.state.phase, 'failed');
  assert.ok(noListener.actions[0].kind === 'reject' && /procSeccomp/.test(noListener.actions[0].error.message));
  assert.equal(hs.receive(hs.initialState('init'), { type: 'procSeccomp', fd: 5 }).state.phase, 'failed', 'not asked for');
  const twice = hs.receive(hs.receive(notify('init'), { type: 'procSeccomp', fd: 5 }).state, { type: 'procSeccomp', fd: 6 });
  assert.equal(twice.state.phase, 'failed');
  assert.equal(hs.receive(notify('init'), { type: 'procSeccomp', fd: -1 }).state.phase, 'failed');
  assert.deepEqual(hs.parseMessage(Buffer.from('{"type":"procSeccomp","fd":7}'), []), { type: 'procSeccomp', fd: 7 });
});
