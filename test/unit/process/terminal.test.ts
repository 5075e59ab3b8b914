import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TerminalStream } from '../../../lib/process/terminal';
import type { NativeBinding } from '../../../lib/native/types';

/**
 * A binding whose watchReadable fires on demand; the "terminal" is a pipe (reads) or a file
 * (writes), enough to drive the stream without a pty. EIO is what a pty master reads once its
 * last process has gone: here, the end of the pipe stands in for it.
 */
function fakeBinding() {
  const closed: number[] = [];
  const watches: { fd: number; cb: () => void; cancelled: boolean }[] = [];
  const binding = {
    watchReadable(fd: number, cb: () => void) {
      const w = { fd, cb, cancelled: false };
      watches.push(w);
      return { cancel: () => (w.cancelled = true) };
    },
    close(fd: number) {
      closed.push(fd);
      fs.closeSync(fd);
    },
    setWinsize: (fd: number, rows: number, cols: number) => sizes.push([fd, rows, cols]),
  } as unknown as NativeBinding;
  const sizes: [number, number, number][] = [];
  const fire = () => watches.filter((w) => !w.cancelled).forEach((w) => w.cb());
  return { binding, closed, watches, fire, sizes };
}

function tempFile(): { file: string; fd: number; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-term-'));
  const file = path.join(dir, 'out');
  return { file, fd: fs.openSync(file, 'w+'), dir };
}

test('reads what is there each time the fd polls readable, and at EOF ends both sides and closes its fd by itself', async () => {
  const { file, fd, dir } = tempFile();
  fs.writeSync(fd, 'hello\r\n');
  fs.closeSync(fd);
  const readFd = fs.openSync(file, 'r');
  const f = fakeBinding();
  const t = new TerminalStream(f.binding, readFd);
  const chunks: string[] = [];
  t.on('data', (d: Buffer) => chunks.push(d.toString()));
  const ended = new Promise((r) => t.once('end', r));
  const finished = new Promise((r) => t.once('finish', r));
  const closed = new Promise((r) => t.once('close', r));
  await new Promise((r) => setImmediate(r));
  assert.equal(f.watches.length, 1, 'reading starts the watch');
  f.fire(); // the data
  f.fire(); // then 0 bytes: the end
  await ended;
  assert.deepEqual(chunks, ['hello\r\n']);
  assert.ok(f.watches.every((w) => w.cancelled), 'the watch is cancelled at the end');
  // No process is left on the terminal: nothing can be written either, and no destroy() is needed.
  await finished;
  await closed;
  assert.deepEqual(f.closed, [readFd]);
  assert.equal(t.fd, -1);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('writes reach the fd in order; resize is checked and passed on; destroy during a write closes only after it', async () => {
  const { file, fd, dir } = tempFile();
  const f = fakeBinding();
  const t = new TerminalStream(f.binding, fd);
  t.resize({ cols: 120, rows: 40 });
  assert.deepEqual(f.sizes, [[fd, 40, 120]]);
  assert.throws(() => t.resize({ cols: 0, rows: 40 }), RangeError);
  assert.throws(() => t.resize({ cols: 80, rows: 70000 }), RangeError);
  await new Promise<void>((resolve, reject) => t.write('echo one\n', (err) => (err ? reject(err) : resolve())));
  t.write('echo two\n');
  // Destroyed while "echo two" may still be in flight: the fd must outlive that write.
  t.destroy();
  await new Promise((r) => t.once('close', r));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(f.closed, [fd], 'closed exactly once');
  assert.match(fs.readFileSync(file, 'utf8'), /^echo one\n(echo two\n)?$/);
  assert.throws(() => t.resize({ cols: 80, rows: 24 }), /closed/);
  fs.rmSync(dir, { recursive: true, force: true });
});
