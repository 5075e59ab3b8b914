import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs = require('node:fs');
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, ContainerError, ContainerExistsError, ContainerNotFoundError } from '../../lib/errors';
import { OCI_VERSION, createContainer, listContainers } from '../../lib/container';
import type { NativeBinding } from '../../lib/native/types';
import {
  StateDir,
  defaultRoot,
  deriveStatus,
  parseJson,
  parseProcStat,
  processStatus,
  readProcStat,
  stateDirOwner,
  stringifyJson,
  validateId,
  type ProcStat,
  type SavedState,
} from '../../lib/state';

describe('validateId', () => {
  const valid = ['a', 'abc-123', 'A_b.c+d-e', '...', '.a', 'a..b', 'x'.repeat(255)];
  for (const id of valid) {
    test(`accepts ${JSON.stringify(id.length > 20 ? `${id.slice(0, 10)}...(${id.length})` : id)}`, () => {
      assert.equal(validateId(id), id);
    });
  }
  const invalid: unknown[] = ['', '.', '..', 'a/b', '/abs', '../x', 'a b', 'a\nb', 'é', 'a:b', 'x'.repeat(256), 42, null, undefined];
  for (const id of invalid) {
    test(`rejects ${typeof id === 'string' ? JSON.stringify(id.slice(0, 20)) : String(id)}`, () => {
      assert.throws(() => validateId(id), (err: unknown) => err instanceof ConfigError && err.field === 'id' && err.code === 'ERR_CONFIG');
    });
  }
});

test('defaultRoot', () => {
  assert.equal(defaultRoot({}, 0), '/run/node-libcontainer');
  assert.equal(defaultRoot({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/node-libcontainer');
  assert.throws(() => defaultRoot({}, 1000), ConfigError);
});

describe('bigint-aware JSON', () => {
  test('round trip keeps large integers exact and small ones as numbers', () => {
    const value = {
      max: 2n ** 63n - 1n,
      min: -(2n ** 63n),
      u64: 2n ** 64n - 1n,
      small: 5n,
      neg: -17,
      float: -1.5e-7,
      exp: 1e300,
      safe: Number.MAX_SAFE_INTEGER,
      nested: [{ s: '12345678901234567890', big: 12345678901234567890n }],
    };
    const text = stringifyJson(value);
    assert.match(text, /"max":9223372036854775807,/);
    assert.match(text, /"min":-9223372036854775808,/);
    assert.deepEqual(parseJson(text), {
      ...value,
      small: 5,
      nested: [{ s: '12345678901234567890', big: 12345678901234567890n }],
    });
  });

  test('numbers inside strings, escaped quotes and floats are left alone', () => {
    const text = '{"a\\"99999999999999999999":"x\\\\\\"99999999999999999999","f":99999999999999999999.5,"e":99999999999999999999e2,"b":-99999999999999999999}';
    assert.deepEqual(parseJson(text), {
      'a"99999999999999999999': 'x\\"99999999999999999999',
      f: 99999999999999999999.5,
      e: 99999999999999999999e2,
      b: -99999999999999999999n,
    });
  });

  test('2^53 is already a bigint, 2^53-1 is not', () => {
    assert.deepEqual(parseJson('[9007199254740991,9007199254740992,-9007199254740991,-9007199254740992]'), [
      9007199254740991,
      9007199254740992n,
      -9007199254740991,
      -9007199254740992n,
    ]);
  });

  test('invalid JSON still throws', () => {
    assert.throws(() => parseJson('{"a": 123456789012345678901'), SyntaxError);
    assert.throws(() => parseJson('{"a": -}'), SyntaxError);
  });
});

function sampleState(id: string): SavedState {
  return {
    id,
    ociVersion: '1.3.0',
    bundle: '/bundle',
    rootfs: '/bundle/rootfs',
    created: new Date(0).toISOString(),
    initPid: 1234,
    initStartTime: '98765',
    config: {
      ociVersion: '1.3.0',
      process: { rlimits: [{ type: 'RLIMIT_NOFILE', soft: 2n ** 63n - 1n, hard: 2n ** 64n - 1n }], oomScoreAdj: -1000 },
      linux: { resources: { memory: { limit: -1, swap: 9223372036854775807n } } },
    },
    namespacePaths: { pid: '/proc/1234/ns/pid' },
    annotations: { 'org.example': 'x' },
    cgroupPaths: {},
  };
}

describe('StateDir', () => {
  let tmp: string;
  let root: string;
  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'nlc-state-'));
    root = path.join(tmp, 'nested', 'root');
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('list of a missing root is empty', async () => {
    assert.deepEqual(StateDir.list(path.join(tmp, 'nope')), []);
  });

  test('list removes a directory a create was building when its process died, and keeps a live one\'s', async () => {
    const root = path.join(tmp, 'stale-builds');
    await fsp.mkdir(root, { recursive: true });
    // A pid that cannot be running: above the kernel's pid_max.
    const dead = `gone@new-${2 ** 22 + 1}-3`;
    const live = `busy@new-${process.pid}-4`;
    for (const d of [dead, live]) {
      await fsp.mkdir(path.join(root, d));
      await fsp.writeFile(path.join(root, d, 'state.json'), '{}');
    }
    assert.deepEqual(StateDir.list(root), []);
    assert.deepEqual((await fsp.readdir(root)).sort(), [live]);
  });

  test('create makes root 0700 and refuses a duplicate id', async () => {
    const dir = StateDir.create(root, 'c1', sampleState('c1'));
    assert.equal(dir.path, path.join(root, 'c1'));
    assert.equal((await fsp.stat(root)).mode & 0o777, 0o700);
    assert.throws(() => StateDir.create(root, 'c1', sampleState('c1')), ContainerExistsError);
    assert.throws(() => StateDir.create(root, '..', sampleState('x')), ConfigError);
  });

  test('create builds the directory whole: no temp left, a leftover without state.json is replaced, one with it refused', async () => {
    await fsp.mkdir(path.join(root, 'left-empty'));
    await fsp.mkdir(path.join(root, 'left-init'));
    await fsp.writeFile(path.join(root, 'left-init', 'init.json'), '{}');
    for (const id of ['left-empty', 'left-init']) {
      const dir = StateDir.create(root, id, sampleState(id));
      assert.deepEqual(dir.read(), sampleState(id));
      assert.deepEqual(await fsp.readdir(dir.path), ['state.json'], id);
      assert.equal((await fsp.stat(dir.path)).mode & 0o777, 0o711);
      assert.throws(() => StateDir.create(root, id, sampleState(id)), ContainerExistsError);
      dir.remove();
    }
    assert.deepEqual((await fsp.readdir(root)).filter((n) => n.includes('@')), [], 'no temp directory left');
  });

  test('create under a state root that is a file: ERR_STATE_ROOT naming the root and the errno', async () => {
    const file = path.join(tmp, 'root-file');
    await fsp.writeFile(file, '');
    assert.throws(() => StateDir.create(file, 'x', sampleState('x')), (e: unknown) => e instanceof ContainerError && e.code === 'ERR_STATE_ROOT' && e.message.includes(file) && /ENOTDIR/.test(e.message));
    assert.throws(() => StateDir.create(path.join(file, 'sub'), 'x', sampleState('x')), (e: unknown) => e instanceof ContainerError && e.code === 'ERR_STATE_ROOT');
  });

  test('create on a full or read-only filesystem: ERR_STATE_ROOT with the errno as cause, nothing left; a failing clean-up is kept, never thrown instead', (t) => {
    const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });
    const isStateFile = (p: unknown) => typeof p === 'string' && p.endsWith(`${path.sep}state.json`);
    const realWrite = fs.writeFileSync;
    const write = t.mock.method(fs, 'writeFileSync', (p: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
      if (isStateFile(p)) throw errno('ENOSPC');
      return (realWrite as (...a: unknown[]) => void)(p, ...rest);
    });
    assert.throws(
      () => StateDir.create(root, 'full', sampleState('full')),
      (e: unknown) => e instanceof ContainerError && e.code === 'ERR_STATE_ROOT' && (e.cause as NodeJS.ErrnoException).code === 'ENOSPC' && /ENOSPC/.test(e.message) && e.cleanupError === undefined,
    );
    assert.deepEqual(StateDir.list(root).filter((id) => id === 'full'), []);
    assert.deepEqual(fs.readdirSync(root).filter((n) => n.startsWith('full')), [], 'no temp directory left');

    // The filesystem went read-only under the failing write (ext4's errors=remount-ro): the
    // removal of the half-made directory fails too, and the write's error is still the one.
    const rm = t.mock.method(fs, 'rmSync', () => {
      throw errno('EROFS');
    });
    assert.throws(
      () => StateDir.create(root, 'full', sampleState('full')),
      (e: unknown) =>
        e instanceof ContainerError && e.code === 'ERR_STATE_ROOT' && (e.cause as NodeJS.ErrnoException).code === 'ENOSPC' &&
        (e.cleanupError as NodeJS.ErrnoException).code === 'EROFS' && /ENOSPC.*clean-up failed too: EROFS/.test(e.message),
    );
    rm.mock.restore();
    write.mock.restore();
    for (const n of fs.readdirSync(root).filter((n) => n.startsWith('full@'))) fs.rmSync(path.join(root, n), { recursive: true });
  });

  test('write on a full or read-only filesystem: ERR_STATE_WRITE naming the file, the errno as cause; the old state stays; a failing clean-up is kept', (t) => {
    const id = 'unsaved';
    const dir = StateDir.create(root, id, sampleState(id));
    const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });
    const rename = t.mock.method(fs, 'renameSync', () => {
      throw errno('EROFS');
    });
    const changed = { ...sampleState(id), initPid: 77 };
    assert.throws(
      () => dir.write(changed),
      (e: unknown) => e instanceof ContainerError && e.code === 'ERR_STATE_WRITE' && e.message.includes(dir.stateFile) && (e.cause as NodeJS.ErrnoException).code === 'EROFS' && e.cleanupError === undefined,
    );
    assert.deepEqual(fs.readdirSync(dir.path), ['state.json'], 'the temp file was removed');
    const rm = t.mock.method(fs, 'rmSync', () => {
      throw errno('EROFS');
    });
    assert.throws(
      () => dir.write(changed),
      (e: unknown) => e instanceof ContainerError && e.code === 'ERR_STATE_WRITE' && (e.cause as NodeJS.ErrnoException).code === 'EROFS' && (e.cleanupError as NodeJS.ErrnoException).code === 'EROFS',
    );
    rm.mock.restore();
    rename.mock.restore();
    assert.deepEqual(dir.read(), sampleState(id), 'the saved state is the old one');
    dir.remove();
  });

  test('creates of one id from concurrent processes: exactly one wins', async () => {
    const script = `
      const { StateDir } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/state'))});
      try { StateDir.create(process.argv[1], 'race', { id: 'race', initPid: 0, initStartTime: '', config: {} }); console.log('won'); }
      catch (e) { console.log(e.code); }`;
    const runs = [1, 2, 3, 4].map(async () => {
      const child = spawn(process.execPath, ['-e', script, root], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      await once(child, 'close');
      return out.trim();
    });
    const results = (await Promise.all(runs)).sort();
    assert.deepEqual(results, ['ERR_CONTAINER_EXISTS', 'ERR_CONTAINER_EXISTS', 'ERR_CONTAINER_EXISTS', 'won']);
  });

  test('write/read round trip with bigints and negative numbers, mode 0600, no temp left', async () => {
    const dir = StateDir.open(root, 'c1');
    const state = sampleState('c1');
    dir.write(state);
    dir.write(state); // rename over an existing state.json
    assert.equal((await fsp.stat(dir.stateFile)).mode & 0o777, 0o600);
    assert.deepEqual(await fsp.readdir(dir.path), ['state.json']);
    const raw = await fsp.readFile(dir.stateFile, 'utf8');
    assert.match(raw, /"soft":9223372036854775807,"hard":18446744073709551615/);
    assert.deepEqual(dir.read(), state);
  });

  test('writeInit records the started init in init.json, merged over state.json by read', async () => {
    const dir = StateDir.create(root, 'c-init', sampleState('c-init'));
    const state = { ...sampleState('c-init'), initPid: 0, initStartTime: '' };
    dir.write(state);
    assert.equal(dir.read().initPid, 0);
    const init = { initPid: 4321, initStartTime: '777', created: new Date(1000).toISOString() };
    dir.writeInit(init);
    assert.deepEqual((await fsp.readdir(dir.path)).sort(), ['init.json', 'state.json']);
    assert.equal((await fsp.stat(path.join(dir.path, 'init.json'))).mode & 0o777, 0o600);
    assert.deepEqual(dir.read(), { ...state, ...init });
    // A later full write (an update of the config) keeps the init: both files agree.
    dir.write({ ...state, ...init, annotations: { changed: 'yes' } });
    assert.deepEqual(dir.read(), { ...state, ...init, annotations: { changed: 'yes' } });
    await fsp.writeFile(path.join(dir.path, 'init.json'), '{"initPid": "x"}');
    assert.throws(() => dir.read(), (err: unknown) => err instanceof ContainerError && err.code === 'ERR_STATE_CORRUPT' && /init\.json/.test(err.message));
    dir.remove();
    assert.equal(dir.exists(), false);
  });

  test('open of a missing container, read of a container without state', async () => {
    assert.throws(() => StateDir.open(root, 'missing'), ContainerNotFoundError);
    await fsp.mkdir(path.join(root, 'nostate'));
    const dir = StateDir.open(root, 'nostate');
    assert.throws(() => dir.read(), ContainerNotFoundError);
  });

  test('corrupt state.json', async () => {
    const dir = StateDir.create(root, 'bad', sampleState('bad'));
    await fsp.writeFile(dir.stateFile, '{"id": "bad", ');
    assert.throws(() => dir.read(), (err: unknown) => err instanceof ContainerError && err.code === 'ERR_STATE_CORRUPT');
    await fsp.writeFile(dir.stateFile, '[1,2]');
    assert.throws(() => dir.read(), (err: unknown) => err instanceof ContainerError && err.code === 'ERR_STATE_CORRUPT');
  });

  test('list returns only directories holding state.json', async () => {
    const c2 = StateDir.create(root, 'c2', sampleState('c2'));
    c2.write(sampleState('c2'));
    await fsp.writeFile(path.join(root, 'stray-file'), '');
    await fsp.mkdir(path.join(root, 'bad id'));
    await fsp.writeFile(path.join(root, 'bad id', 'state.json'), '{}');
    // 'bad' has a (corrupt) state.json: listing does not parse, loading reports it.
    assert.deepEqual(StateDir.list(root), ['bad', 'c1', 'c2', 'race']);
  });

  test('remove is idempotent', async () => {
    const dir = StateDir.open(root, 'c2');
    assert.equal(dir.exists(), true);
    dir.remove();
    dir.remove();
    assert.equal(dir.exists(), false);
    assert.throws(() => StateDir.open(root, 'c2'), ContainerNotFoundError);
    assert.deepEqual(StateDir.list(root), ['bad', 'c1', 'race']);
  });

  test('removeAsync removes state, init record and fifo-like leftovers; idempotent; falls back for a sub-directory', async () => {
    const dir = StateDir.create(root, 'c3', sampleState('c3'));
    dir.write(sampleState('c3'));
    dir.writeInit({ initPid: 1, initStartTime: '2', created: new Date(0).toISOString() });
    await fsp.writeFile(path.join(dir.path, 'exec.fifo'), '');
    await dir.removeAsync();
    await dir.removeAsync();
    assert.equal(dir.exists(), false);
    const odd = StateDir.create(root, 'c4', sampleState('c4'));
    await fsp.mkdir(path.join(odd.path, 'sub', 'deeper'), { recursive: true });
    await odd.removeAsync();
    assert.equal(odd.exists(), false);
  });

  test('removeAsync with a one-job remover: the known files and the dir in one call; leftovers fall back', async () => {
    const calls: [string[], string[]][] = [];
    const removeEach = async (files: string[], dirs: string[]): Promise<(string | null)[]> => {
      calls.push([files, dirs]);
      const codes: (string | null)[] = [];
      for (const p of files) codes.push(await fsp.unlink(p).then(() => null, (e: NodeJS.ErrnoException) => e.code!));
      for (const p of dirs) codes.push(await fsp.rmdir(p).then(() => null, (e: NodeJS.ErrnoException) => e.code!));
      return codes;
    };
    const dir = StateDir.create(root, 'c5', sampleState('c5'));
    dir.write(sampleState('c5'));
    await dir.removeAsync(removeEach);
    assert.equal(dir.exists(), false);
    assert.deepEqual(calls, [[['state.json', 'init.json', 'starting.json', 'exec.fifo'].map((n) => path.join(dir.path, n)), [dir.path]]]);
    await dir.removeAsync(removeEach); // gone already: fine
    const odd = StateDir.create(root, 'c6', sampleState('c6'));
    odd.write(sampleState('c6'));
    await fsp.writeFile(path.join(odd.path, 'state.json.tmp-1-1'), '{');
    await odd.removeAsync(removeEach);
    assert.equal(odd.exists(), false, 'a leftover temp file is removed the long way');
  });
});

async function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}

describe('/proc facts', () => {
  let tmp: string;
  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'nlc-proc-'));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('parseProcStat splits at the last parenthesis', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    fields[1] = '77';
    fields[19] = '123456';
    assert.deepEqual(parseProcStat(`42 (a b) c (x)) ${fields.join(' ')}\n`), { state: 'S', startTime: '123456', ppid: 77 });
    assert.equal(parseProcStat('42 (trunc'), null);
    assert.equal(parseProcStat('42 (x) S 1 2'), null);
  });

  test('readProcStat of this process', () => {
    const st = readProcStat(process.pid);
    assert.ok(st);
    assert.equal(st.ppid, process.ppid);
    assert.match(st.startTime, /^[0-9]+$/);
    assert.equal(st.state, 'R');
    assert.equal(processStatus(process.pid, st.startTime), 'alive');
  });

  test('readProcStat of a child whose comm has spaces and parens', async () => {
    const link = path.join(tmp, 'a b) c');
    await fsp.symlink('/bin/sleep', link);
    const child = spawn(link, ['30'], { stdio: 'ignore' });
    try {
      assert.ok(child.pid);
      let st: ProcStat | null = null;
      // Until the exec, /proc shows Node's comm.
      for (let i = 0; i < 200; i++) {
        const comm = await fsp.readFile(`/proc/${child.pid}/comm`, 'utf8');
        if (comm.trim() === 'a b) c') break;
        await new Promise((r) => setTimeout(r, 5));
      }
      st = readProcStat(child.pid);
      assert.ok(st);
      assert.equal(st.ppid, process.pid);
      assert.match(st.state, /^[RS]$/);
      assert.match(st.startTime, /^[0-9]+$/);
      assert.equal(processStatus(child.pid, st.startTime), 'alive');
      assert.equal(processStatus(child.pid, String(BigInt(st.startTime) + 1n)), 'gone', 'reused pid');
    } finally {
      child.kill('SIGKILL');
      await waitForExit(child);
    }
  });

  test('a dead pid is gone', async () => {
    const child = spawn('/bin/true', { stdio: 'ignore' });
    const pid = child.pid!;
    const st = readProcStat(pid);
    await waitForExit(child);
    assert.equal(readProcStat(pid), null);
    assert.equal(processStatus(pid, st?.startTime ?? '0'), 'gone');
    assert.equal(readProcStat(-1), null);
    assert.equal(readProcStat(0), null);
  });

  test('a real zombie', async () => {
    // The background sleep is a child of sh, which then becomes `sleep 30` and never reaps it.
    // It outlives the exec (sh would reap it if it exited before), then stays a zombie.
    const child = spawn('/bin/sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const zpid = Number(line.toString().trim());
      let st: ProcStat | null = null;
      for (let i = 0; i < 400; i++) {
        st = readProcStat(zpid);
        if (st?.state === 'Z') break;
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(st);
      assert.equal(st.state, 'Z');
      assert.equal(processStatus(zpid, st.startTime), 'zombie');
      assert.equal(deriveStatus({ initPid: zpid, initStartTime: st.startTime, fifoExists: false, paused: false }), 'stopped');
    } finally {
      child.kill('SIGKILL'); // the zombie is reparented and reaped
      await waitForExit(child);
    }
  });

  describe('deriveStatus (port of refreshState)', () => {
    const alive: ProcStat = { state: 'S', startTime: '100', ppid: 1 };
    const fake = (st: ProcStat | null) => () => st;
    const facts = { initPid: 10, initStartTime: '100', fifoExists: false, paused: false };
    const table: [string, Partial<typeof facts>, ProcStat | null, string][] = [
      ['running', {}, alive, 'running'],
      ['created: fifo still there', { fifoExists: true }, alive, 'created'],
      ['paused', { paused: true }, alive, 'paused'],
      ['paused created container', { paused: true, fifoExists: true }, alive, 'paused'],
      ['gone', {}, null, 'stopped'],
      ['gone with a fifo left', { fifoExists: true }, null, 'stopped'],
      ['zombie', {}, { ...alive, state: 'Z' }, 'stopped'],
      ['dead (X)', {}, { ...alive, state: 'X' }, 'stopped'],
      ['pid reused', {}, { ...alive, startTime: '101' }, 'stopped'],
      ['never started', { initPid: -1 }, alive, 'stopped'],
    ];
    test('liveness given as a fact', () => {
      const base = { fifoExists: false, paused: false };
      assert.equal(deriveStatus({ ...base, alive: 'alive' }), 'running');
      assert.equal(deriveStatus({ ...base, alive: 'alive', fifoExists: true }), 'created');
      assert.equal(deriveStatus({ ...base, alive: 'zombie' }), 'stopped');
      assert.equal(deriveStatus({ ...base, alive: 'gone', paused: true }), 'paused');
    });
    for (const [name, over, st, want] of table) {
      test(name, () => {
        assert.equal(deriveStatus({ ...facts, ...over }, fake(st)), want);
      });
    }
  });
});

describe('state owner', () => {
  let tmp: string;
  before(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'nlc-owner-'));
  });
  after(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  test('the name of the user owning the state directory, as runc list shows it; "#uid" without one; "" when gone', async () => {
    const dir = path.join(tmp, 'c1');
    await fsp.mkdir(dir);
    const { uid } = await fsp.stat(dir);
    const passwd = path.join(tmp, 'passwd');
    await fsp.writeFile(passwd, `# a comment\nother:x:${uid + 1}:0::/:/bin/sh\nfirst:x:${uid}:0::/:/bin/sh\nsecond:x:${uid}:0::/:/bin/sh\n`);
    assert.equal(stateDirOwner(dir, passwd), 'first');
    await fsp.writeFile(passwd, `other:x:${uid + 1}:0::/:/bin/sh\n`);
    assert.equal(stateDirOwner(dir, passwd), `#${uid}`);
    assert.equal(stateDirOwner(dir, path.join(tmp, 'no-passwd')), `#${uid}`);
    assert.equal(stateDirOwner(path.join(tmp, 'gone')), '');
  });

  test('state() and listContainers report ociVersion and owner beside the existing fields', async () => {
    const root = path.join(tmp, 'root');
    const config = { ociVersion: '1.0.0', root: { path: '/' }, process: { args: ['true'], cwd: '/' } };
    const c = await createContainer('owned', config, { root, binding: {} as NativeBinding });
    const { uid } = await fsp.stat(path.join(root, 'owned'));
    const owner = (os.userInfo().uid === uid ? os.userInfo().username : undefined) ?? `#${uid}`;
    const st = await c.state();
    assert.equal(st.ociVersion, OCI_VERSION, 'the version this runtime implements, as runc shows its own');
    assert.equal((await c.ociState()).ociVersion, OCI_VERSION);
    assert.equal(st.owner, owner);
    assert.deepEqual(
      Object.keys(st).sort(),
      ['annotations', 'bundle', 'config', 'created', 'id', 'ociVersion', 'owner', 'pid', 'rootfs', 'status'],
    );
    assert.deepEqual({ id: st.id, status: st.status, pid: st.pid, bundle: st.bundle, rootfs: st.rootfs }, { id: 'owned', status: 'stopped', pid: 0, bundle: process.cwd(), rootfs: '/' });
    assert.deepEqual((await listContainers({ root })).map((s) => [s.id, s.ociVersion, s.owner]), [['owned', OCI_VERSION, owner]]);
    await c.destroy();
    assert.equal((await c.state()).owner, '');
  });
});
