import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExitStatus, NativeBinding } from '../../../lib/native/types';
import { PassThrough } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Process, kHandedOver } from '../../../lib/process/process';
import { rejectUnknownOptions } from '../../../lib/process/options';
import { abortError, armTermination, parseTermination } from '../../../lib/process/termination';

/** A Process over a fake pidfd: signals are recorded, and the exit comes when the test says. */
function fakeProcess() {
  const signals: number[] = [];
  let exitCb: ((s: ExitStatus) => void) | null = null;
  const binding = {
    watchExit: (_fd: number, _reap: boolean, cb: (s: ExitStatus) => void) => {
      exitCb = cb;
      return { cancel() {}, ref() {}, unref() {} };
    },
    close: () => {},
    pidfdSendSignal: (_fd: number, sig: number) => void signals.push(sig),
  } as unknown as NativeBinding;
  const proc = new Process(binding, 4242, 7);
  return { proc, signals, exit: (s: ExitStatus) => exitCb!(s) };
}

test('parseTermination: none given is null; killSignal left to the process\'s default unless given; bad values are refused naming the option', () => {
  assert.equal(parseTermination({}), null);
  const ac = new AbortController();
  assert.deepEqual(parseTermination({ signal: ac.signal }), { signal: ac.signal });
  assert.deepEqual(parseTermination({ timeout: 50, killSignal: 'KILL' }), { timeout: 50, killSignal: 9 });
  assert.deepEqual(parseTermination({ timeout: 0 }), {}, 'a timeout of 0 is none, as child_process');
  assert.throws(() => parseTermination({ signal: {} as AbortSignal }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"signal" must be an AbortSignal/ });
  for (const timeout of [-1, 1.5, Number.NaN, 2 ** 31]) assert.throws(() => parseTermination({ timeout }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /"timeout"/ }, String(timeout));
  assert.throws(() => parseTermination({ killSignal: 'SIGNOPE' }), { name: 'RangeError', code: 'ERR_UNKNOWN_SIGNAL', message: /"killSignal"/ });
});

test('abortError: shaped as Node\'s, with the reason as cause', () => {
  const ac = new AbortController();
  ac.abort(new Error('because'));
  const e = abortError(ac.signal) as Error & { code?: string };
  assert.equal(e.name, 'AbortError');
  assert.equal(e.code, 'ABORT_ERR');
  assert.equal((e.cause as Error).message, 'because');
});

test('armTermination: an abort sends killSignal once; after the exit an abort sends nothing', async () => {
  const a = fakeProcess();
  const ac = new AbortController();
  armTermination(a.proc, parseTermination({ signal: ac.signal, killSignal: 'SIGINT' }), 15);
  ac.abort();
  assert.deepEqual(a.signals, [2]);
  a.exit({ exitCode: null, signal: 2 });

  const b = fakeProcess();
  const ac2 = new AbortController();
  armTermination(b.proc, parseTermination({ signal: ac2.signal }), 15);
  b.exit({ exitCode: 0, signal: null });
  await b.proc.wait();
  ac2.abort();
  assert.deepEqual(b.signals, [], 'the listener went with the exit');
});

test('armTermination: the timeout sends killSignal when it ends, and not once the process has exited', async () => {
  const a = fakeProcess();
  armTermination(a.proc, parseTermination({ timeout: 20 }), 15);
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(a.signals, []);
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(a.signals, [15]);
  a.exit({ exitCode: null, signal: 15 });

  // Without killSignal, the process's default (SIGKILL for a container's init as PID 1).
  const i = fakeProcess();
  armTermination(i.proc, parseTermination({ timeout: 10 }), 9);
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(i.signals, [9]);
  i.exit({ exitCode: null, signal: 9 });

  const b = fakeProcess();
  armTermination(b.proc, parseTermination({ timeout: 20, killSignal: 9 }), 15);
  b.exit({ exitCode: 0, signal: null });
  await b.proc.wait();
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(b.signals, [], 'the timer went with the exit');
});

test('rejectUnknownOptions: a misspelt option is a TypeError naming it; known and refused ones pass', () => {
  assert.throws(() => rejectUnknownOptions({ args: ['true'], noNewPrivilege: true }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: 'unknown process option "noNewPrivilege"' });
  assert.throws(() => rejectUnknownOptions({ environment: [] }), /"environment"/);
  rejectUnknownOptions({ args: [], env: [], cwd: '/', stdio: 'ignore', signal: new AbortController().signal, timeout: 1, killSignal: 9, init: true });
  // Known from runc's Process and refused later with a ConfigError (spec/unsupported.ts).
  rejectUnknownOptions({ apparmorProfile: 'x', label: 'y', selinuxLabel: 'z' });
});

test("an 'exit' listener that throws still lets stdin be destroyed and unread output drained (no fds kept open)", async () => {
  const { proc, exit } = fakeProcess();
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  proc.stdin = stdin;
  proc.stdout = stdout;
  proc[kHandedOver]();
  proc.on('exit', () => {
    throw new Error('boom');
  });
  assert.throws(() => exit({ exitCode: 0, signal: null }), /boom/);
  assert.equal(stdin.destroyed, true);
  await nextTurn();
  assert.equal(stdout.readableFlowing, true);
  assert.deepEqual(await proc.wait(), { exitCode: 0, signal: null });
});

test("'close' comes after 'exit', once the output streams have closed (all the output read), as child_process's", { timeout: 10_000 }, async () => {
  const a = fakeProcess();
  const stdout = new PassThrough();
  a.proc.stdout = stdout;
  a.proc[kHandedOver]();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const events: string[] = [];
  a.proc.on('exit', () => events.push(`exit with "${out}"`));
  const closed = new Promise<unknown>((resolve) => a.proc.once('close', resolve));
  a.proc.on('close', () => events.push(`close with "${out}"`));
  stdout.write('first ');
  await nextTurn();
  a.exit({ exitCode: 3, signal: null });
  await nextTurn();
  stdout.end('last');
  assert.deepEqual(await closed, { exitCode: 3, signal: null });
  assert.deepEqual(events, ['exit with "first "', 'close with "first last"']);

  // No streams: 'close' right after 'exit'.
  const b = fakeProcess();
  b.proc[kHandedOver]();
  const order: string[] = [];
  b.proc.on('exit', () => order.push('exit'));
  b.proc.on('close', () => order.push('close'));
  b.exit({ exitCode: 0, signal: null });
  await nextTurn();
  assert.deepEqual(order, ['exit', 'close']);
});

test("'exit' and 'close' of a process that exited before its start resolved come once the caller has it (and 'close' once its streams have closed)", { timeout: 10_000 }, async () => {
  const a = fakeProcess();
  const stdout = new PassThrough();
  a.proc.stdout = stdout;
  a.exit({ exitCode: 0, signal: null }); // before the caller has it
  await nextTurn();
  stdout.end('all of it');
  a.proc[kHandedOver](); // run() resolves; its caller listens in the continuation
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const events: string[] = [];
  a.proc.once('exit', () => events.push('exit'));
  const exit = await new Promise((resolve) => a.proc.once('close', resolve));
  assert.deepEqual(events, ['exit'], "'exit' too, before 'close'");
  assert.deepEqual(exit, { exitCode: 0, signal: null });
  assert.equal(out, 'all of it');
  assert.equal(stdout.closed, true);
});
