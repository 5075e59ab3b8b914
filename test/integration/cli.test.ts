/**
 * The OCI runtime command line (bin/node-libcontainer), driven as an engine drives runc: a
 * child process per command, a bundle on disk, the state root under a temp dir (--root).
 * The container's stdio is the CLI's own, so a detached command's pipes stay open while its
 * container runs: those are awaited to their exit, not to their streams' end.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadContainer, validateConfig } from '../../lib';
import { makeConfig, skipUnlessRoot, tempRoot, withTimeout, type ConfigOverrides } from './helpers';

const CLI = path.resolve(__dirname, '../../../bin/node-libcontainer');
const skip = skipUnlessRoot();
const hasPython = spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status === 0;
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const CONSOLE_RECEIVER = path.resolve(__dirname, '../../../test/integration/fixtures/console-socket.py');

interface Running {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  closed: Promise<void>;
  out(): string;
  err(): string;
}

interface CliOptions {
  cwd?: string;
  /** Written to the command's stdin (else /dev/null). */
  stdin?: string;
  /** fds of ours that become the command's fds 3, 4, ... */
  extraFds?: number[];
}

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

describe('the OCI runtime command line', { skip }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  const children = new Set<ChildProcess>();
  cleanups.push(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** A fresh state root and a work dir; everything left in them is destroyed at the end. */
  function setup(): { root: string; dir: string } {
    const t = tempRoot();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-cli-'));
    cleanups.push(async () => {
      await t.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    return { root: t.root, dir };
  }

  /** A bundle dir holding config.json (rootfs: the test rootfs, by absolute path). */
  function bundle(dir: string, overrides: ConfigOverrides, name = 'bundle'): string {
    const b = path.join(dir, name);
    fs.mkdirSync(b, { recursive: true });
    fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(makeConfig(overrides)));
    return b;
  }

  function spawnCli(root: string, args: string[], options: CliOptions = {}): Running {
    const child = spawn(process.execPath, [CLI, '--root', root, ...args], {
      cwd: options.cwd,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...(options.extraFds ?? [])],
    });
    children.add(child);
    if (options.stdin !== undefined) child.stdin!.end(options.stdin);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    return { child, exited, closed, out: () => out, err: () => err };
  }

  /** A command that leaves nothing running: its exit and all of its output. */
  async function cli(root: string, args: string[], options: CliOptions = {}): Promise<Done> {
    const r = spawnCli(root, args, options);
    await withTimeout(r.closed, 60_000, `node-libcontainer ${args.join(' ')}`);
    const { code, signal } = await r.exited;
    return { code, signal, out: r.out(), err: r.err() };
  }

  /** A command that leaves a container running on its stdio (create, run -d, exec -d): awaited to its exit only. */
  async function cliDetached(root: string, args: string[]): Promise<Done & { running: Running }> {
    const r = spawnCli(root, args);
    const { code, signal } = await withTimeout(r.exited, 60_000, `node-libcontainer ${args.join(' ')} to exit`);
    await sleep(20); // what it wrote before its exit
    return { code, signal, out: r.out(), err: r.err(), running: r };
  }

  async function ok(root: string, args: string[], options?: CliOptions): Promise<string> {
    const r = await cli(root, args, options);
    assert.equal(r.code, 0, `node-libcontainer ${args.join(' ')} exited ${r.code} (${r.signal}): ${r.err}`);
    return r.out;
  }

  async function stateOf(root: string, id: string): Promise<{ status: string; pid: number; id: string; bundle: string }> {
    return JSON.parse(await ok(root, ['state', id])) as { status: string; pid: number; id: string; bundle: string };
  }

  async function waitForStatus(root: string, id: string, status: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const s = await stateOf(root, id);
      if (s.status === status) return;
      if (Date.now() > deadline) assert.fail(`container ${id} is ${s.status}, not ${status}`);
      await sleep(50);
    }
  }

  /** Whether a pid is still a live (not zombie) process. */
  function alive(pid: number): boolean {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  }

  async function gone(pid: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (alive(pid)) {
      if (Date.now() > deadline) assert.fail(`process ${pid} still lives`);
      await sleep(20);
    }
  }

  const id = (name: string): string => `cli-${process.pid}-${name}`;
  const LOOP = 'while :; do sleep 0.1; done';

  test('spec writes runc\'s default config.json into the bundle, which the library takes; never over one', async () => {
    const { root, dir } = setup();
    const b = path.join(dir, 'spec');
    fs.mkdirSync(b);
    assert.equal(await ok(root, ['spec', '--bundle', b]), '');
    const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8')) as ReturnType<typeof makeConfig>;
    assert.equal(spec.process?.terminal, true);
    assert.deepEqual(spec.process?.args, ['sh']);
    assert.deepEqual(spec.root, { path: 'rootfs', readonly: true });
    assert.deepEqual(spec.linux?.namespaces?.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount']);
    assert.deepEqual(spec.process?.capabilities?.bounding, ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    assert.doesNotThrow(() => validateConfig(spec));
    const again = await cli(root, ['spec', '-b', b]);
    assert.equal(again.code, 1);
    assert.match(again.err, /File config\.json exists\. Remove it first/);
    // In the working directory when no --bundle is given.
    const cwd = path.join(dir, 'cwd');
    fs.mkdirSync(cwd);
    await ok(root, ['spec'], { cwd });
    assert.ok(fs.existsSync(path.join(cwd, 'config.json')));
  });

  test('create leaves the init waiting (created, pid file), start releases it, delete removes it', async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { process: { args: ['sh', '-c', 'echo started as $$; echo to-stderr >&2'] } });
    const cid = id('create');
    const pidFile = path.join(dir, 'init.pid');
    const created = await cliDetached(root, ['create', '--bundle', b, '--pid-file', pidFile, cid]);
    assert.equal(created.code, 0, created.err);
    const s = await stateOf(root, cid);
    assert.equal(s.status, 'created');
    assert.equal(s.id, cid);
    assert.equal(s.bundle, b);
    assert.equal(fs.readFileSync(pidFile, 'utf8'), String(s.pid), 'the pid file holds the init\'s pid alone');
    assert.ok(alive(s.pid), 'the init outlives create');
    assert.equal(created.running.out(), '', 'nothing runs before start');
    const listed = JSON.parse(await ok(root, ['list', '--format', 'json'])) as { id: string; status: string; pid: number; owner: string }[];
    assert.deepEqual(listed.map((c) => [c.id, c.status, c.pid, c.owner]), [[cid, 'created', s.pid, 'root']]);

    await ok(root, ['start', cid]);
    // The program writes to create's stdio (the container's own), which ends when it does.
    await withTimeout(created.running.closed, 30_000, 'the container\'s output to end');
    assert.equal(created.running.out(), 'started as 1\n');
    assert.equal(created.running.err(), 'to-stderr\n');
    await waitForStatus(root, cid, 'stopped');
    const again = await cli(root, ['start', cid]);
    assert.equal(again.code, 1);
    assert.match(again.err, /cannot start a container that has stopped/);

    await ok(root, ['delete', cid]);
    const after = await cli(root, ['state', cid]);
    assert.equal(after.code, 1);
    assert.match(after.err, /level=error msg=".*does not exist/);
    assert.equal(await ok(root, ['list', '-q']), '');
  });

  test('run in the foreground: the program\'s stdio and exit status, --keep, --preserve-fds; the container removed after', async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { process: { args: ['sh', '-c', 'echo out; echo err >&2; exit 7'] } });
    const r = await cli(root, ['run', '-b', b, id('run')]);
    assert.equal(r.code, 7);
    assert.equal(r.out, 'out\n');
    assert.equal(r.err, 'err\n');
    assert.equal(await ok(root, ['list', '-q']), '', 'run deletes the container once it exits');
    // --keep keeps it, stopped.
    const k = await cli(root, ['run', '--keep', '-b', b, id('keep')]);
    assert.equal(k.code, 7);
    assert.equal((await stateOf(root, id('keep'))).status, 'stopped');
    await ok(root, ['delete', id('keep')]);

    // --preserve-fds 1: our fd 3 is the container's fd 3.
    const b3 = bundle(dir, { process: { args: ['sh', '-c', 'echo through-fd-3 >&3'] } }, 'fd3');
    const file = path.join(dir, 'fd3.out');
    const fd = fs.openSync(file, 'w');
    try {
      const p = await cli(root, ['run', '--preserve-fds', '1', '-b', b3, id('fd3')], { extraFds: [fd] });
      assert.equal(p.code, 0, p.err);
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), 'through-fd-3\n');
    const devNull = fs.openSync('/dev/null', 'r');
    let without: Done;
    try {
      without = await cli(root, ['run', '-b', b3, id('fd3')], { extraFds: [devNull] });
    } finally {
      fs.closeSync(devNull);
    }
    assert.notEqual(without.code, 0, 'without --preserve-fds the container has no fd 3');
    assert.match(without.err, /3: Bad file descriptor|can't create|bad fd/i);
  });

  test('run in the foreground forwards signals to the container', async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { process: { args: ['sh', '-c', `trap 'echo got-term; exit 42' TERM; echo ready; ${LOOP}`] } });
    const r = spawnCli(root, ['run', '-b', b, id('fwd')]);
    const deadline = Date.now() + 30_000;
    while (!r.out().includes('ready')) {
      if (Date.now() > deadline) assert.fail(`the container did not start: ${r.err()}`);
      await sleep(20);
    }
    r.child.kill('SIGTERM');
    const { code } = await withTimeout(r.exited, 30_000, 'run to exit after SIGTERM');
    await r.closed;
    assert.equal(code, 42);
    assert.equal(r.out(), 'ready\ngot-term\n');
    assert.equal(await ok(root, ['list', '-q']), '');

    // Killed by a signal (from another process): 128 + its number.
    const cid = id('fwd-kill');
    const k = spawnCli(root, ['run', '-b', b, cid]);
    while (!k.out().includes('ready')) {
      if (Date.now() > deadline) assert.fail(`the container did not start: ${k.err()}`);
      await sleep(20);
    }
    await ok(root, ['kill', cid, 'KILL']);
    assert.equal((await withTimeout(k.exited, 30_000, 'run to exit after SIGKILL')).code, 137);
    assert.equal(await ok(root, ['list', '-q']), '');
  });

  test('run -d, then exec in the foreground (exit status, env, cwd, user), exec -d, ps, kill --all', async () => {
    const { root, dir } = setup();
    // exec: the init is sleep itself, so that its processes are exactly the init and the exec'd one.
    const b = bundle(dir, { process: { args: ['sh', '-c', 'echo detached; exec sleep 1000'] } });
    const cid = id('exec');
    const pidFile = path.join(dir, 'run.pid');
    const run = await cliDetached(root, ['run', '-d', '--pid-file', pidFile, '-b', b, cid]);
    assert.equal(run.code, 0, run.err);
    const init = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.equal((await stateOf(root, cid)).pid, init);
    assert.equal((await stateOf(root, cid)).status, 'running');

    const e = await cli(root, ['exec', '-e', 'FOO=bar', '--cwd', '/tmp', '-u', '1000:1000', cid, 'sh', '-c', 'echo $FOO $(pwd) $(id -u):$(id -g); exit 5']);
    assert.equal(e.code, 5, e.err);
    assert.equal(e.out, 'bar /tmp 1000:1000\n');
    const killed = await cli(root, ['exec', cid, 'sh', '-c', 'kill -9 $$']);
    assert.equal(killed.code, 137, '128 + SIGKILL');
    const empty = await cli(root, ['exec', cid]);
    assert.equal(empty.code, 255);
    assert.match(empty.err, /exec failed: process args cannot be empty/);

    // exec --process FILE: the whole process from a file.
    const procFile = path.join(dir, 'process.json');
    fs.writeFileSync(procFile, JSON.stringify({ args: ['sh', '-c', 'echo from-file $X'], env: ['PATH=/bin', 'X=1'], cwd: '/', user: { uid: 0, gid: 0 } }));
    const pf = await cli(root, ['exec', '-p', procFile, cid]);
    assert.equal(pf.code, 0, pf.err);
    assert.equal(pf.out, 'from-file 1\n');

    const execPidFile = path.join(dir, 'exec.pid');
    const d = await cliDetached(root, ['exec', '-d', '--pid-file', execPidFile, cid, 'sleep', '1000']);
    assert.equal(d.code, 0, d.err);
    const sleeper = Number(fs.readFileSync(execPidFile, 'utf8'));
    assert.ok(alive(sleeper), 'exec -d leaves its process running');

    const pids = JSON.parse(await ok(root, ['ps', '--format', 'json', cid])) as number[];
    assert.deepEqual([...pids].sort((x, y) => x - y), [init, sleeper].sort((x, y) => x - y));
    const table = await ok(root, ['ps', cid]);
    const lines = table.trim().split('\n');
    assert.match(lines[0]!, /\bPID\b/);
    assert.equal(lines.length, 3, table);
    assert.ok(lines.some((l) => /sleep 1000/.test(l)), table);

    await ok(root, ['kill', '--all', cid, 'KILL']);
    await gone(sleeper);
    await gone(init);
    await waitForStatus(root, cid, 'stopped');
    const stopped = await cli(root, ['kill', cid]);
    assert.equal(stopped.code, 1);
    assert.match(stopped.err, /container not running/);
    // runc: kill --all of a stopped container is no error (a shim sends it to exited tasks).
    await ok(root, ['kill', '--all', cid, 'KILL']);
    // No process left: runc's JSON is null (a nil slice), with ps options ignored.
    assert.equal((await ok(root, ['ps', '--format', 'json', cid, '-o', 'pid'])).trim(), 'null');
    await ok(root, ['delete', cid]);
  });

  test('kill sends the signal named (default SIGTERM) to the init', async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { process: { args: ['sh', '-c', `trap 'echo usr1 > /tmp/got' USR1; trap 'echo term >> /tmp/got' TERM; ${LOOP}`] } });
    const cid = id('kill');
    assert.equal((await cliDetached(root, ['run', '-d', '-b', b, cid])).code, 0);
    const bad = await cli(root, ['kill', cid, 'BOGUS']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /unknown signal \\"BOGUS\\"/);
    await ok(root, ['kill', cid, 'USR1']);
    const read = async (): Promise<string> => (await cli(root, ['exec', cid, 'cat', '/tmp/got'])).out;
    const deadline = Date.now() + 10_000;
    while ((await read()) !== 'usr1\n') {
      if (Date.now() > deadline) assert.fail('the init never got SIGUSR1');
      await sleep(50);
    }
    await ok(root, ['kill', cid]); // SIGTERM, which it traps
    while ((await read()) !== 'usr1\nterm\n') {
      if (Date.now() > deadline) assert.fail('the init never got SIGTERM');
      await sleep(50);
    }
    assert.equal((await stateOf(root, cid)).status, 'running');
    await ok(root, ['kill', cid, '9']);
    await waitForStatus(root, cid, 'stopped');
    await ok(root, ['delete', cid]);
  });

  test('pause and resume; update --resources (file and stdin) and flags reach the cgroup', async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { process: { args: ['sh', '-c', LOOP] }, linux: { resources: { pids: { limit: 100 } } } });
    const cid = id('update');
    assert.equal((await cliDetached(root, ['run', '-d', '-b', b, cid])).code, 0);
    await ok(root, ['pause', cid]);
    assert.equal((await stateOf(root, cid)).status, 'paused');
    const refused = await cli(root, ['exec', cid, 'true']);
    assert.equal(refused.code, 255);
    assert.match(refused.err, /paused/);
    const twice = await cli(root, ['pause', cid]);
    assert.equal(twice.code, 1);
    await ok(root, ['resume', cid]);
    assert.equal((await stateOf(root, cid)).status, 'running');

    const pid = (await stateOf(root, cid)).pid;
    const pidsMax = (): string => {
      const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
      const v1 = lines.find((l) => /^\d+:([^:]*,)?pids(,[^:]*)?:/.test(l));
      const file = v1 ? path.join('/sys/fs/cgroup/pids', v1.split(':')[2]!, 'pids.max') : path.join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))!.slice(3), 'pids.max');
      return fs.readFileSync(file, 'utf8').trim();
    };
    assert.equal(pidsMax(), '100');
    const resources = path.join(dir, 'resources.json');
    fs.writeFileSync(resources, JSON.stringify({ pids: { limit: 42 } }));
    await ok(root, ['update', '--resources', resources, cid]);
    assert.equal(pidsMax(), '42');
    await ok(root, ['update', '-r', '-', cid], { stdin: '{"pids":{"limit":43}}' });
    assert.equal(pidsMax(), '43');
    await ok(root, ['update', '--pids-limit', '44', '--memory', '256m', cid]);
    assert.equal(pidsMax(), '44');
    const saved = (await loadContainer(cid, { root })).config.linux?.resources;
    assert.equal(saved?.memory?.limit, 256 * 2 ** 20);
    const bad = await cli(root, ['update', '--memory', 'bogus', cid]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /invalid value for memory: invalid size: 'bogus'/);
    const unknown = await cli(root, ['update', '-r', '-', cid], { stdin: '{"pids":{"limit":5},"bogus":{}}' });
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /bogus/);
    assert.equal(pidsMax(), '44', 'a refused update changes nothing');
    await ok(root, ['delete', '-f', cid]);
  });

  test('delete refuses a running container; --force kills it; --force of a missing one is fine', async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { process: { args: ['sh', '-c', LOOP] } });
    const cid = id('delete');
    assert.equal((await cliDetached(root, ['run', '-d', '-b', b, cid])).code, 0);
    const pid = (await stateOf(root, cid)).pid;
    const r = await cli(root, ['delete', cid]);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`cannot delete container ${cid} that is not stopped: running`));
    assert.ok(alive(pid));
    await ok(root, ['delete', '--force', cid]);
    await gone(pid);
    assert.equal(await ok(root, ['list', '-q']), '');
    await ok(root, ['delete', '-f', cid]);
    const missing = await cli(root, ['delete', cid]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /does not exist/);

    // A created container is deleted (killed) without --force, as runc.
    assert.equal((await cliDetached(root, ['create', '-b', b, cid])).code, 0);
    const createdPid = (await stateOf(root, cid)).pid;
    await ok(root, ['delete', cid]);
    await gone(createdPid);
  });

  test('list: table, json and -q', async () => {
    const { root, dir } = setup();
    assert.equal(await ok(root, ['list', '--format', 'json']), 'null\n', 'none, as runc prints it');
    const b = bundle(dir, { process: { args: ['sh', '-c', LOOP] } });
    const [a, c] = [id('list-a'), id('list-b')];
    assert.equal((await cliDetached(root, ['create', '-b', b, a])).code, 0);
    assert.equal((await cliDetached(root, ['run', '-d', '-b', b, c])).code, 0);
    assert.deepEqual((await ok(root, ['list', '-q'])).trim().split('\n').sort(), [a, c].sort());
    const json = JSON.parse(await ok(root, ['list', '-f', 'json'])) as { id: string; status: string; bundle: string }[];
    assert.deepEqual(json.map((s) => [s.id, s.status, s.bundle]).sort(), [[a, 'created', b], [c, 'running', b]].sort());
    const table = (await ok(root, ['list'])).trim().split('\n');
    assert.match(table[0]!, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    assert.equal(table.length, 3);
    assert.ok(table.some((l) => l.startsWith(a) && /\bcreated\b/.test(l) && l.endsWith('root')));
    await ok(root, ['delete', '-f', a]);
    await ok(root, ['delete', '-f', c]);
  });

  /** The console receiver (fixtures/console-socket.py) listening at socketPath; it sends `line` and waits for `expect`. */
  async function consoleReceiver(socketPath: string, line: string, expect: string): Promise<{ exited: Promise<number | null>; events(): Record<string, unknown>[]; said(): string }> {
    const receiver = spawn('python3', [CONSOLE_RECEIVER, socketPath, line, expect], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(receiver);
    let said = '';
    receiver.stdout!.on('data', (d: Buffer) => (said += d.toString()));
    const exited = new Promise<number | null>((resolve) => receiver.once('exit', resolve));
    const deadline = Date.now() + 20_000;
    while (!said.includes('listening')) {
      if (Date.now() > deadline) assert.fail('the console receiver did not start');
      await sleep(20);
    }
    return { exited, said: () => said, events: () => said.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  test('--console-socket: the pty master goes to the socket; what is written to it reaches the shell', { skip: hasPython ? false : 'needs python3 ≥ 3.9 for the console receiver' }, async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { process: { terminal: true, args: ['sh'] } });
    const cid = id('console');
    const socketPath = path.join(dir, 'console.sock');
    const receiver = await consoleReceiver(socketPath, 'tty; echo pty-$((6*7))\n', 'pty-42');
    // Without a console socket a detached terminal is refused, and a socket without a terminal too.
    const noSocket = await cliDetached(root, ['create', '-b', b, cid]);
    assert.equal(noSocket.code, 1);
    assert.match(noSocket.err, /cannot allocate tty if runc will detach without setting console socket/);

    const created = await cliDetached(root, ['create', '-b', b, '--console-socket', socketPath, cid]);
    assert.equal(created.code, 0, created.err);
    await ok(root, ['start', cid]);
    assert.equal(await withTimeout(receiver.exited, 30_000, 'the console receiver'), 0, receiver.said());
    const events = receiver.events();
    assert.equal(events[1]!.fds, 1);
    assert.equal(events[1]!.tty, true, 'a terminal arrived');
    const output = String(events[2]!.output);
    assert.match(output, /\/dev\/(pts\/\d+|console)/, 'the shell\'s stdin is the terminal');
    assert.match(output, /pty-42/);
    await ok(root, ['delete', '-f', cid]);
  });

  test('exec -d -t --console-socket: the exec\'d process\'s pty master goes to the socket', { skip: hasPython ? false : 'needs python3 ≥ 3.9 for the console receiver' }, async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { process: { args: ['sh', '-c', 'exec sleep 1000'] } });
    const cid = id('exec-tty');
    assert.equal((await cliDetached(root, ['run', '-d', '-b', b, cid])).code, 0);
    const socketPath = path.join(dir, 'exec-console.sock');
    const receiver = await consoleReceiver(socketPath, 'echo exec-$((7*6)); exit 3\n', 'exec-42');
    const pidFile = path.join(dir, 'exec-tty.pid');
    const d = await cliDetached(root, ['exec', '-d', '-t', '--console-socket', socketPath, '--pid-file', pidFile, cid, 'sh']);
    assert.equal(d.code, 0, d.err);
    assert.equal(await withTimeout(receiver.exited, 30_000, 'the console receiver'), 0, receiver.said());
    const [, got, out] = receiver.events();
    assert.equal(got!.tty, true);
    assert.match(String(out!.output), /exec-42/);
    await gone(Number(fs.readFileSync(pidFile, 'utf8')));
    // Without --tty a console socket is refused; with --tty and no socket a detached exec is too.
    const noTty = await cli(root, ['exec', '-d', '--console-socket', socketPath, cid, 'true']);
    assert.equal(noTty.code, 255);
    assert.match(noTty.err, /cannot use console socket if runc will not detach or allocate tty/);
    await ok(root, ['delete', '-f', cid]);
  });

  test('a terminal in the foreground is proxied to our own (run under script(1))', { skip: hasScript ? false : 'needs script(1)' }, async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { process: { terminal: true, args: ['sh', '-c', 'tty; echo on-the-tty; exit 4'] } });
    const cmd = [process.execPath, CLI, '--root', root, 'run', '-b', b, id('fg-tty')].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.status, 4, `${r.stdout} ${r.stderr}`);
    assert.match(r.stdout, /\/dev\/pts\/\d+\r\n/);
    assert.doesNotMatch(r.stdout, /\r\r\n/, 'raw as runc\'s: no second output processing on our side');
    assert.match(r.stdout, /on-the-tty/);
    assert.equal(await ok(root, ['list', '-q']), '');
  });

  test('a foreground terminal passes "\\n" as it is, as runc\'s (ClearONLCR): output sent to a file has the program\'s bytes', { skip: hasScript ? false : 'needs script(1)' }, async () => {
    const { root, dir } = setup();
    const quote = (args: string[]) => args.map((a) => `'${a}'`).join(' ');
    const runOut = path.join(dir, 'run.out');
    const b = bundle(dir, { process: { terminal: true, args: ['sh', '-c', 'printf "a\\nb\\n"'] } });
    const run = spawnSync('script', ['-qec', `${quote([process.execPath, CLI, '--root', root, 'run', '-b', b, id('onlcr')])} > ${runOut}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(run.status, 0, `${run.stdout} ${run.stderr}`);
    // (script(1) sends a NUL byte on the terminal, which the container's pty echoes as "^@"; runc's output has it too.)
    assert.equal(fs.readFileSync(runOut, 'utf8').replace(/\^@/g, ''), 'a\nb\n');
    // exec -t, the same.
    const cid = id('onlcr-exec');
    const sleeper = bundle(path.join(dir, 'sleeper'), { process: { args: ['sleep', '100'] } });
    const detached = await cliDetached(root, ['run', '-d', '-b', sleeper, cid]);
    assert.equal(detached.code, 0, detached.err);
    const execOut = path.join(dir, 'exec.out');
    const exec = spawnSync('script', ['-qec', `${quote([process.execPath, CLI, '--root', root, 'exec', '-t', cid, 'sh', '-c', 'printf "c\\nd\\n"'])} > ${execOut}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(exec.status, 0, `${exec.stdout} ${exec.stderr}`);
    assert.equal(fs.readFileSync(execOut, 'utf8').replace(/\^@/g, ''), 'c\nd\n');
    await ok(root, ['delete', '-f', cid]);
  });

  test('run -d and exec -d leave the process\'s exit to the caller (a child subreaper, as conmon and containerd\'s shim are), even when it exits at once', async () => {
    const { root, dir } = setup();
    // python3 (node-gyp's own prerequisite) becomes a child subreaper, runs our command, and
    // collects every process that comes to it: the pid-file's process must be among them.
    const reaper = [
      'import ctypes, json, os, sys',
      'assert ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0',
      'pid = os.fork()',
      'if pid == 0: os.execv(sys.argv[1], sys.argv[1:])',
      'got = {}',
      'while True:',
      '    try: p, st = os.waitpid(-1, 0)',
      '    except ChildProcessError: break',
      '    got[p] = os.waitstatus_to_exitcode(st)',
      'print(json.dumps({"runtime": got.pop(pid), "others": got}))',
    ].join('\n');
    const underReaper = (args: string[]): { runtime: number; others: Record<string, number> } => {
      const r = spawnSync('python3', ['-c', reaper, process.execPath, CLI, '--root', root, ...args], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { runtime: number; others: Record<string, number> };
    };
    const pidFile = path.join(dir, 'p.pid');
    const quick = bundle(dir, { process: { args: ['sh', '-c', 'exit 6'] } }, 'quick');
    const run = underReaper(['run', '-d', '--pid-file', pidFile, '-b', quick, id('reap-run')]);
    assert.equal(run.runtime, 0);
    assert.equal(run.others[fs.readFileSync(pidFile, 'utf8')], 6, `the init's exit reached the reaper: ${JSON.stringify(run)}`);
    await ok(root, ['delete', '-f', id('reap-run')]);

    const cid = id('reap-exec');
    const sleeper = bundle(dir, { process: { args: ['sleep', '100'] } }, 'sleeper');
    assert.equal((await cliDetached(root, ['run', '-d', '-b', sleeper, cid])).code, 0);
    const processFile = path.join(dir, 'process.json');
    fs.writeFileSync(processFile, JSON.stringify({ args: ['sh', '-c', 'exit 5'], cwd: '/', env: ['PATH=/bin'] }));
    for (let i = 0; i < 3; i++) {
      const exec = underReaper(['exec', '--process', processFile, '--detach', '--pid-file', pidFile, cid]);
      assert.equal(exec.runtime, 0);
      assert.equal(exec.others[fs.readFileSync(pidFile, 'utf8')], 5, `the exec'd process's exit reached the reaper: ${JSON.stringify(exec)}`);
    }
    await ok(root, ['delete', '-f', cid]);
  });

  test('a bad config is refused naming the field, and nothing is left', async () => {
    const { root, dir } = setup();
    const b = bundle(dir, { mounts: [{ destination: '', type: 'tmpfs', source: 'tmpfs' }] });
    const r = await cli(root, ['run', '-b', b, id('bad')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /node-libcontainer run failed: mounts\[0\]\.destination/);
    const c = await cli(root, ['create', '-b', b, id('bad')]);
    assert.equal(c.code, 1);
    assert.match(c.err, /create failed: mounts\[0\]\.destination/);
    const noBundle = await cli(root, ['create', '-b', path.join(dir, 'nowhere'), id('bad')]);
    assert.equal(noBundle.code, 1);
    assert.match(noBundle.err, /config\.json not found/);
    assert.equal(await ok(root, ['list', '-q']), '');
  });

  test('errors: the log in JSON when asked (and stderr too), usage errors, --systemd-cgroup refused', async () => {
    const { root, dir } = setup();
    const log = path.join(dir, 'log.json');
    const r = await cli(root, ['--log', log, '--log-format', 'json', 'state', 'nope']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^container "nope" does not exist\n$/);
    const entry = JSON.parse(fs.readFileSync(log, 'utf8').trim()) as { level: string; msg: string; time: string };
    assert.equal(entry.level, 'error');
    assert.equal(entry.msg, 'container "nope" does not exist');
    assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const usage = await cli(root, ['start']);
    assert.equal(usage.code, 1);
    assert.match(usage.err, /level=error msg="node-libcontainer: \\"start\\" requires exactly 1 argument\(s\)"/);
    const flag = await cli(root, ['create', '--bogus', 'x']);
    assert.equal(flag.code, 1);
    assert.match(flag.err, /flag provided but not defined: -bogus/);
    const systemd = await cli(root, ['--systemd-cgroup', 'list']);
    assert.equal(systemd.code, 1);
    assert.match(systemd.err, /systemd cgroup driver is not supported/);
    const features = JSON.parse(await ok(root, ['features'])) as { ociVersionMax: string; linux: { namespaces: string[]; cgroup: { systemd: boolean } }; mountOptions: string[] };
    assert.equal(features.ociVersionMax, '1.3.0');
    assert.ok(features.linux.namespaces.includes('pid'));
    assert.equal(features.linux.cgroup.systemd, false);
    assert.ok(features.mountOptions.includes('rro'));
    // -v: runc's lines (version, spec).
    assert.match(await ok(root, ['-v']), /^node-libcontainer version \d+\.\d+\.\d+\ncommit: \S+\nspec: 1\.3\.0\nnode: v\d+/);
  });
});
