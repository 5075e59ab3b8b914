/** The command line's parsing, without containers: flags as runc takes them, and what they turn into. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError, parseFlags, type FlagSpec } from '../../bin/args';
import { COMMANDS } from '../../bin/commands';
import { filterPsOutput } from '../../bin/commands/ps';
import { runcState } from '../../bin/commands/state-json';
import { formatLogLine, parseLogFormat } from '../../bin/log';
import { GLOBAL_FLAGS, checkArgCount } from '../../bin/main';
import { checkProcess, execProcess, parseUser, processOptionsFromSpec } from '../../bin/process-spec';
import { UPDATE_FLAGS, parseBytes, parseResourcesJson, resourcesFromFlags } from '../../bin/resources';
import { checkTerminal, exitStatus, extraFiles, writePidFile } from '../../bin/stdio';
import { formatTable } from '../../bin/table';

const command = (name: string) => COMMANDS.find((c) => c.name === name)!;
const parseFor = (name: string, argv: string[]) => {
  const c = command(name);
  return parseFlags(argv, c.flags, { interspersed: c.interspersed ?? true });
};

describe('parseFlags', () => {
  const specs: FlagSpec[] = [
    { name: 'bundle', aliases: ['b'], type: 'string', help: '' },
    { name: 'detach', aliases: ['d'], type: 'bool', help: '' },
    { name: 'env', aliases: ['e'], type: 'list', help: '' },
    { name: 'preserve-fds', type: 'int', help: '' },
  ];

  test('long and short names, one or two dashes, = or the next argument', () => {
    const f = parseFlags(['-b', 'x', '--preserve-fds=2', 'id', '-bundle=y', '--detach'], specs, { interspersed: true });
    assert.equal(f.string('bundle'), 'y', 'the last value wins');
    assert.equal(f.int('preserve-fds'), 2);
    assert.equal(f.bool('detach'), true);
    assert.deepEqual(f.positionals, ['id']);
  });

  test('booleans never take the next argument; =false turns one off but counts as set', () => {
    const f = parseFlags(['-d', 'false'], specs, { interspersed: true });
    assert.equal(f.bool('detach'), true);
    assert.deepEqual(f.positionals, ['false']);
    const g = parseFlags(['--detach=false'], specs, { interspersed: true });
    assert.equal(g.bool('detach'), false);
    assert.equal(g.isSet('detach'), true);
    assert.equal(g.isSet('bundle'), false);
    assert.throws(() => parseFlags(['--detach=maybe'], specs, { interspersed: true }), /invalid boolean value "maybe" for -detach/);
  });

  test('list flags collect every value in order', () => {
    const f = parseFlags(['-e', 'A=1', '--env=B=2', 'id'], specs, { interspersed: true });
    assert.deepEqual(f.list('env'), ['A=1', 'B=2']);
    assert.deepEqual(parseFlags([], specs, { interspersed: true }).list('env'), []);
  });

  test('-- ends the flags; a lone - is a positional', () => {
    const f = parseFlags(['id', '--', '-d', '--bundle'], specs, { interspersed: true });
    assert.deepEqual(f.positionals, ['id', '-d', '--bundle']);
    assert.equal(f.bool('detach'), false);
    assert.deepEqual(parseFlags(['-'], specs, { interspersed: true }).positionals, ['-']);
  });

  test('not interspersed: the first positional ends the flags (exec ID sh -c ...)', () => {
    const f = parseFlags(['-d', 'id', 'sh', '-c', 'echo -e x', '-d'], specs, { interspersed: false });
    assert.equal(f.bool('detach'), true);
    assert.deepEqual(f.positionals, ['id', 'sh', '-c', 'echo -e x', '-d']);
  });

  test('errors worded as Go\'s flag package words them', () => {
    assert.throws(() => parseFlags(['--bogus'], specs, { interspersed: true }), (e: unknown) => e instanceof UsageError && e.message === 'flag provided but not defined: -bogus');
    assert.throws(() => parseFlags(['id', '-b'], specs, { interspersed: true }), /flag needs an argument: -b/);
    assert.throws(() => parseFlags(['--preserve-fds', 'two'], specs, { interspersed: true }), /invalid value "two" for flag -preserve-fds/);
    assert.throws(() => parseFlags(['---x'], specs, { interspersed: true }), /bad flag syntax: ---x/);
  });
});

describe('global flags and commands', () => {
  test('global flags stop at the command, whose flags are its own', () => {
    const g = parseFlags(['--root', '/r', '--log-format=json', '--debug', 'create', '-b', 'bundle', 'id'], GLOBAL_FLAGS, { interspersed: false });
    assert.equal(g.string('root'), '/r');
    assert.equal(g.string('log-format'), 'json');
    assert.equal(g.bool('debug'), true);
    assert.deepEqual(g.positionals, ['create', '-b', 'bundle', 'id']);
  });

  test('every command runc engines call is there', () => {
    const names = COMMANDS.map((c) => c.name).sort();
    assert.deepEqual(names, ['create', 'delete', 'exec', 'features', 'kill', 'list', 'pause', 'ps', 'resume', 'run', 'spec', 'start', 'state', 'update']);
  });

  test('create and run: runc\'s flags, after or before the id', () => {
    const f = parseFor('create', ['id', '--bundle', '/b', '--pid-file', '/p', '--console-socket', '/s', '--preserve-fds', '1', '--no-new-keyring']);
    assert.deepEqual(f.positionals, ['id']);
    assert.equal(f.string('bundle'), '/b');
    assert.equal(f.string('pid-file'), '/p');
    assert.equal(f.string('console-socket'), '/s');
    assert.equal(f.int('preserve-fds'), 1);
    const r = parseFor('run', ['-d', '-b', '/b', 'id', '--keep']);
    assert.equal(r.bool('detach'), true);
    assert.equal(r.bool('keep'), true);
    assert.throws(() => parseFor('create', ['--detach', 'id']), /flag provided but not defined: -detach/);
  });

  test('exec: flags before the id, the program\'s own after it', () => {
    const f = parseFor('exec', ['-t', '-e', 'A=1', '-u', '1000:100', '--cwd', '/tmp', '--cap', 'CAP_SYS_ADMIN', '-d', '--pid-file', '/p', 'id', 'ls', '-l', '--color']);
    assert.deepEqual(f.positionals, ['id', 'ls', '-l', '--color']);
    assert.equal(f.bool('tty'), true);
    assert.deepEqual(f.list('env'), ['A=1']);
    assert.equal(f.string('user'), '1000:100');
    assert.deepEqual(f.list('cap'), ['CAP_SYS_ADMIN']);
    assert.equal(parseFor('exec', ['-p', 'proc.json', 'id']).string('process'), 'proc.json');
  });

  test('kill, delete, list, ps, update', () => {
    assert.equal(parseFor('kill', ['--all', 'id', 'KILL']).bool('all'), true);
    assert.equal(parseFor('kill', ['id', '9', '-a']).bool('all'), true);
    assert.equal(parseFor('delete', ['-f', 'id']).bool('force'), true);
    const l = parseFor('list', ['--format', 'json', '-q']);
    assert.equal(l.string('format'), 'json');
    assert.equal(l.bool('quiet'), true);
    assert.deepEqual(parseFor('ps', ['-f', 'json', 'id']).positionals, ['id']);
    assert.deepEqual(parseFor('ps', ['id', '-eo', 'pid,comm']).positionals, ['id', '-eo', 'pid,comm'], 'ps options are ps\'s');
    assert.equal(parseFor('update', ['-r', '-', 'id']).string('resources'), '-');
  });

  test('argument counts worded as runc words them', () => {
    assert.throws(() => checkArgCount('nlc', command('start'), 0), /nlc: "start" requires exactly 1 argument\(s\)/);
    assert.throws(() => checkArgCount('nlc', command('kill'), 0), /"kill" requires a minimum of 1 argument\(s\)/);
    assert.throws(() => checkArgCount('nlc', command('kill'), 3), /"kill" requires a maximum of 2 argument\(s\)/);
    assert.doesNotThrow(() => checkArgCount('nlc', command('exec'), 4));
    assert.throws(() => checkArgCount('nlc', command('list'), 1), /exactly 0/);
  });
});

describe('update flags', () => {
  const parse = (argv: string[]) => resourcesFromFlags(parseFlags(argv, UPDATE_FLAGS, { interspersed: true }));

  test('sizes as docker/go-units reads them', () => {
    assert.equal(parseBytes('1024', 'memory'), 1024);
    assert.equal(parseBytes('64m', 'memory'), 64 * 2 ** 20);
    assert.equal(parseBytes('1.5g', 'memory'), 1.5 * 2 ** 30);
    assert.equal(parseBytes('512 KiB', 'memory'), 512 * 1024);
    assert.equal(parseBytes('-1', 'memory-swap'), -1);
    assert.throws(() => parseBytes('bogus', 'memory'), /invalid value for memory: invalid size: 'bogus'/);
  });

  test('only the flags given, in the OCI shape', () => {
    assert.deepEqual(parse(['--memory', '64m', '--memory-swap=-1', '--pids-limit', '30', '--cpu-shares', '512', '--cpu-quota', '50000', '--cpu-period', '100000', '--cpuset-cpus', '0']), {
      memory: { limit: 64 * 2 ** 20, swap: -1 },
      pids: { limit: 30 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
    });
    assert.deepEqual(parse([]), {});
    assert.deepEqual(parse(['--cpu-share', '2', '--blkio-weight', '500']), { cpu: { shares: 2 }, blockIO: { weight: 500 } });
    assert.throws(() => parse(['--pids-limit', 'lots']), /invalid value for pids-limit/);
    assert.throws(() => parse(['--l3-cache-schema', 'L3:0=f']), /Intel RDT/);
  });

  test('--resources JSON must be an object', () => {
    assert.deepEqual(parseResourcesJson('{"pids":{"limit":5}}', 'f'), { pids: { limit: 5 } });
    assert.throws(() => parseResourcesJson('[1]', 'f'), /must be a JSON object/);
    assert.throws(() => parseResourcesJson('{', 'stdin'), /stdin: not JSON/);
  });
});

describe('exec\'s process', () => {
  const base = {
    args: ['sh'],
    env: ['PATH=/bin'],
    cwd: '/',
    terminal: true,
    user: { uid: 0, gid: 0, additionalGids: [10] },
    capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: [] },
    noNewPrivileges: true,
  };

  test('flags over the config\'s process, as runc\'s getProcess', () => {
    const p = execProcess(base, { args: ['id'], cwd: '/tmp', env: ['A=1'], user: '1000:100', additionalGids: ['20'], caps: ['CAP_CHOWN'], noNewPrivs: false });
    assert.deepEqual(p.args, ['id']);
    assert.equal(p.cwd, '/tmp');
    assert.deepEqual(p.env, ['PATH=/bin', 'A=1']);
    assert.deepEqual(p.user, { uid: 1000, gid: 100, additionalGids: [10, 20] });
    assert.deepEqual(p.capabilities?.bounding, ['CAP_KILL', 'CAP_CHOWN']);
    assert.deepEqual(p.capabilities?.ambient, ['CAP_CHOWN']);
    assert.deepEqual(p.capabilities?.inheritable, [], 'not the inheritable set (runc 1.1.2 and later)');
    assert.equal(p.terminal, false, 'no terminal unless --tty');
    assert.equal(p.noNewPrivileges, false);
    assert.deepEqual(base.env, ['PATH=/bin'], 'the config is not changed');
    assert.equal(execProcess(base, { args: ['x'], env: [], additionalGids: [], caps: [], tty: true }).terminal, true);
  });

  test('users and processes refused as runc refuses them', () => {
    assert.deepEqual(parseUser('5'), { uid: 5 });
    assert.throws(() => parseUser('bob'), /invalid uid "bob"/);
    assert.throws(() => parseUser('1:x'), /invalid gid "x"/);
    assert.throws(() => checkProcess({ args: [], cwd: '/' }), /process args cannot be empty/);
    assert.throws(() => checkProcess({ args: ['x'], cwd: 'rel' }), /absolute path/);
  });

  test('the OCI process as ProcessOptions; labels passed on for the library to refuse by name', () => {
    const o = processOptionsFromSpec({ ...base, apparmorProfile: 'p', consoleSize: { height: 24, width: 80 } }) as Record<string, unknown>;
    assert.deepEqual(o.args, ['sh']);
    assert.deepEqual(o.user, { uid: 0, gid: 0, additionalGids: [10] });
    assert.equal(o.terminal, true);
    assert.deepEqual(o.consoleSize, { height: 24, width: 80 });
    assert.equal(o.apparmorProfile, 'p');
    assert.equal(o.noNewPrivileges, true);
  });
});

describe('stdio and output', () => {
  test('runc\'s terminal checks', () => {
    assert.throws(() => checkTerminal(true, true, undefined), /cannot allocate tty if runc will detach without setting console socket/);
    assert.throws(() => checkTerminal(false, true, '/s'), /cannot use console socket if runc will not detach or allocate tty/);
    assert.throws(() => checkTerminal(true, false, '/s'), /cannot use console socket/);
    assert.doesNotThrow(() => checkTerminal(true, true, '/s'));
    assert.doesNotThrow(() => checkTerminal(false, true, undefined));
  });

  test('extra fds: LISTEN_FDS (when ours) then --preserve-fds', () => {
    assert.deepEqual(extraFiles(2, {}, 1), { fds: [3, 4], env: [] });
    assert.deepEqual(extraFiles(1, { LISTEN_FDS: '2', LISTEN_PID: '7' }, 7), { fds: [3, 4, 5], env: ['LISTEN_FDS=2', 'LISTEN_PID=1'] });
    assert.deepEqual(extraFiles(0, { LISTEN_FDS: '2', LISTEN_PID: '8' }, 7), { fds: [], env: [] }, 'another process\'s sockets');
    assert.throws(() => extraFiles(-1, {}, 1), /--preserve-fds/);
  });

  test('pid file: the pid alone, written whole, replacing an old one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-cli-unit-'));
    try {
      const file = path.join(dir, 'pid');
      fs.writeFileSync(file, 'old and longer');
      writePidFile(file, 4242);
      assert.equal(fs.readFileSync(file, 'utf8'), '4242');
      assert.deepEqual(fs.readdirSync(dir), ['pid'], 'no temporary left');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('exit statuses: the code, or 128 + the signal', () => {
    assert.equal(exitStatus({ exitCode: 3, signal: null }), 3);
    assert.equal(exitStatus({ exitCode: null, signal: 'SIGKILL' }), 137);
    assert.equal(exitStatus({ exitCode: null, signal: 'SIGTERM' }), 143);
  });

  test('log lines in logrus\'s text and JSON', () => {
    const now = new Date('2026-01-02T03:04:05.678Z');
    assert.equal(formatLogLine('text', 'error', 'container "x" does not exist', now), 'time="2026-01-02T03:04:05Z" level=error msg="container \\"x\\" does not exist"\n');
    assert.deepEqual(JSON.parse(formatLogLine('json', 'error', 'boom', now)), { level: 'error', msg: 'boom', time: '2026-01-02T03:04:05Z' });
    assert.equal(parseLogFormat(undefined), 'text');
    assert.throws(() => parseLogFormat('xml'), /invalid log-format: xml/);
  });

  test('list\'s table as Go\'s tabwriter lays it out', () => {
    assert.equal(
      formatTable([['ID', 'PID', 'OWNER'], ['a-long-container-id', '1', 'root']]),
      `${'ID'.padEnd(19 + 3)}${'PID'.padEnd(12)}OWNER\n` + `a-long-container-id   ${'1'.padEnd(12)}root\n`,
    );
  });

  test('ps keeps the header and the container\'s lines', () => {
    const out = 'UID   PID  PPID CMD\nroot    1     0 init\nroot   42     1 sh\nroot  420    42 sleep\n';
    assert.equal(filterPsOutput(out, new Set([42])), 'UID   PID  PPID CMD\nroot   42     1 sh\n');
    assert.throws(() => filterPsOutput('UID CMD\n', new Set([1])), /PID field/);
  });

  test('state in runc\'s shape and order', () => {
    const s = runcState({ ociVersion: '1.0.2', id: 'x', status: 'running', pid: 7, bundle: '/b', rootfs: '/r', created: 'T', annotations: { a: 'b' }, owner: 'root', config: { ociVersion: '1.3.0' } });
    assert.deepEqual(Object.keys(s), ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'annotations', 'owner']);
    assert.equal(s.ociVersion, '1.0.2');
    assert.equal(s.owner, '', 'runc state leaves the owner empty');
    assert.equal(runcState({ ...s, annotations: {}, config: {}, owner: 'root' } as never, 'root').owner, 'root');
  });
});
