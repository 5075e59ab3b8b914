/**
 * process.terminal in real containers: a pty made inside the container, its master handed to
 * us (Process.terminal); size, controlling terminal, input and output, resize, exec'd
 * processes, and that nothing but the pty reaches the process.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createContainer, type Container, type Process } from '../../lib';
import { finishProcess, makeConfig, skipUnlessRoot, tempRoot, withTimeout } from './helpers';

const skip = skipUnlessRoot();

/** Everything the terminal says until it ends (the last process on it has gone). */
function readAll(p: Process): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    p.terminal!.on('data', (d: Buffer) => (out += d.toString()));
    p.terminal!.once('end', () => resolve(out));
    p.terminal!.once('error', reject);
  });
}

/** Resolves once the terminal has printed `text` (what it printed so far). */
function waitForOutput(p: Process, text: string | RegExp): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (typeof text === 'string' ? out.includes(text) : text.test(out)) {
        p.terminal!.off('data', onData);
        resolve(out);
      }
    };
    p.terminal!.on('data', onData);
  });
}

describe('terminal', { skip }, () => {
  // Its clean-up also destroys what a failed test left.
  const t = tempRoot();
  after(() => t.cleanup());

  const make = (id: string, overrides: Record<string, unknown>): Promise<Container> => createContainer(id, makeConfig(overrides), { root: t.root });

  test('the config\'s terminal: a pty of the container\'s, its size, the controlling terminal, only fds 0-2', async () => {
    // /proc/PID/stat's 7th field is the controlling terminal's device: major 136 is a pty's.
    const script = 'tty; stty size; ls /proc/self/fd; [ $(( $(cut -d" " -f7 /proc/$$/stat) >> 8 )) = 136 ] && echo has-ctty; echo done';
    const c = await make('tty-config', { process: { terminal: true, consoleSize: { height: 33, width: 111 }, args: ['sh', '-c', script] } });
    try {
      const p = await c.run();
      assert.equal(p.stdout, p.terminal);
      assert.equal(p.stdin, p.terminal);
      assert.equal(p.stderr, null);
      const [out, exit] = await withTimeout(Promise.all([readAll(p), p.wait()]), 30_000, 'the terminal process');
      assert.equal(exit.exitCode, 0, out);
      const lines = out.split('\r\n');
      assert.equal(lines[0], '/dev/pts/0');
      assert.equal(lines[1], '33 111');
      // ls's own directory fd is 3: nothing else of ours reached the process.
      assert.match(lines[2], /^0\s+1\s+2\s+3$/);
      assert.ok(lines.includes('has-ctty'), out);
      assert.ok(lines.includes('done'), out);
    } finally {
      await c.destroy();
    }
  });

  test('the init\'s pty is also /dev/console (bound there, as runc); it keeps devpts\'s tty group when handed to a user; an exec\'s pty is not bound', async () => {
    const script = 'stat -c "%t:%T %g" /dev/console; stat -c "%g" $(tty); echo to-console > /dev/console; grep " /dev/console " /proc/self/mountinfo | cut -d" " -f9; sleep 100';
    const c = await make('tty-console', { process: { terminal: true, user: { uid: 1000, gid: 1000 }, args: ['sh', '-c', script] } });
    try {
      const p = await c.run();
      let out = '';
      await withTimeout(
        new Promise<void>((resolve) => {
          p.terminal!.on('data', (d: Buffer) => {
            out += d.toString();
            if (/devpts/.test(out)) resolve();
          });
        }),
        30_000,
        'the console output',
      );
      const lines = out.split('\r\n');
      assert.match(lines[0], /^88:0 5$/, out); // 0x88 = 136, a pty of the container's devpts, group tty (5)
      assert.equal(lines[1], '5', 'the pty keeps its group');
      assert.ok(lines.includes('to-console'), out);
      assert.ok(lines.includes('devpts'), out);
      const e = await c.run({ init: false, args: ['sh', '-c', 'stat -c "%t:%T" /dev/console; tty'], terminal: true });
      const [eout] = await withTimeout(Promise.all([readAll(e), e.wait()]), 30_000, 'the exec');
      const elines = eout.split('\r\n');
      assert.equal(elines[0], '88:0', 'still the init\'s pty');
      assert.equal(elines[1], '/dev/pts/1');
    } finally {
      await c.destroy();
    }
  });

  test('a read-only /dev still gets the pty as /dev/console (the console comes before /dev is remounted read-only, as runc)', async () => {
    const script = 'awk \'$5 == "/dev" { print $6 }\' /proc/self/mountinfo; stat -c "%t:%T" /dev/console; echo done';
    const config = makeConfig({ process: { terminal: true, args: ['sh', '-c', script] } });
    const dev = config.mounts!.find((m) => m.destination === '/dev')!;
    dev.options = [...(dev.options ?? []), 'ro'];
    const c = await createContainer('tty-ro-dev', config, { root: t.root });
    try {
      const p = await c.run();
      const [out, exit] = await withTimeout(Promise.all([readAll(p), p.wait()]), 30_000, 'the terminal process');
      assert.deepEqual(exit, { exitCode: 0, signal: null }, out);
      const lines = out.split('\r\n');
      assert.match(lines[0], /^ro,/, `/dev is read-only: ${out}`);
      assert.equal(lines[1], '88:0', 'the pty is /dev/console');
      assert.equal(lines[2], 'done');
    } finally {
      await c.destroy();
    }
  });

  test('interactive: input reaches the shell, a resize its next stty, exit ends the terminal', async () => {
    const c = await make('tty-interactive', { process: { args: ['sh'] } });
    try {
      const p = await c.run({ terminal: true, consoleSize: { height: 24, width: 80 } });
      const all = readAll(p);
      p.terminal!.write('echo $((6 * 7))\n');
      await withTimeout(waitForOutput(p, /\r\n42\r\n/), 30_000, 'the shell to answer');
      p.resize({ cols: 132, rows: 43 });
      p.terminal!.write('stty size\n');
      await withTimeout(waitForOutput(p, '43 132'), 30_000, 'stty to see the new size');
      p.terminal!.write('exit 3\n');
      const exit = await withTimeout(p.wait(), 30_000, 'the shell to exit');
      assert.equal(exit.exitCode, 3);
      await withTimeout(all, 30_000, 'the terminal to end');
      assert.throws(() => p.resize({ cols: 0, rows: 10 }), RangeError);
    } finally {
      await c.destroy();
    }
  });

  test('an exec\'d process gets a terminal only when asked for; stdio and terminal do not mix', async () => {
    const c = await make('tty-exec', { process: { terminal: true, args: ['sleep', '100'] } });
    try {
      const init = await c.run();
      const plain = await c.run({ init: false, args: ['sh', '-c', 'tty || true'] });
      assert.equal(plain.terminal, null, 'runc exec gives no terminal unless asked, whatever the init has');
      // Its output to the end of the pipe, not just to its exit: the last bytes may come later.
      assert.match((await finishProcess(plain)).out, /not a tty/);
      const withTty = await c.run({ init: false, args: ['tty'], terminal: true });
      const [out, exit] = await Promise.all([readAll(withTty), withTty.wait()]);
      assert.equal(exit.exitCode, 0);
      assert.match(out, /^\/dev\/pts\/\d+\r\n$/);
      await assert.rejects(c.run({ init: false, args: ['true'], terminal: true, stdio: 'inherit' }), TypeError);
      assert.throws(() => plain.resize({ cols: 80, rows: 24 }), /no terminal/);
      init.terminal!.destroy();
    } finally {
      await c.destroy();
    }
  });
});
