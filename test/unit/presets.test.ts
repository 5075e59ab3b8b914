import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { hostSandbox, DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from '../../lib/presets';
import { ConfigError } from '../../lib/errors';

async function withSandbox(
  options: Parameters<typeof hostSandbox>[0],
  fn: (sb: ReturnType<typeof hostSandbox>) => void | Promise<void>,
): Promise<void> {
  const sb = hostSandbox(options);
  try {
    await fn(sb);
  } finally {
    await sb.cleanup();
  }
}

test('hostSandbox: default config shape', async () => {
  await withSandbox({}, (sb) => {
    const { config } = sb;
    assert.equal(config.ociVersion, '1.3.0');
    assert.equal(config.hostname, 'sandbox');
    assert.deepEqual(config.root, { path: sb.rootfs, readonly: true });

    const proc = config.process!;
    assert.deepEqual(proc.args, ['/bin/sh', '-c', 'echo hostname=$(hostname) pid=$$ uid=$(id -u)']);
    assert.deepEqual(proc.user, { uid: 0, gid: 0 });
    assert.equal(proc.cwd, '/');
    assert.equal(proc.terminal, false);
    assert.equal(proc.noNewPrivileges, true);
    assert.deepEqual(proc.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/tmp']);
    assert.deepEqual(proc.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    for (const set of ['bounding', 'effective', 'permitted'] as const) {
      assert.deepEqual(proc.capabilities?.[set], [...DEFAULT_CAPABILITIES]);
    }
    assert.equal(proc.capabilities?.ambient, undefined);
    assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN'));

    const linux = config.linux!;
    const ns = linux.namespaces!.map((n) => n.type).sort();
    assert.deepEqual(ns, ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
    assert.ok(linux.namespaces!.every((n) => n.path === undefined), 'all namespaces are new');
    assert.deepEqual(linux.maskedPaths, [...MASKED_PATHS]);
    assert.deepEqual(linux.readonlyPaths, [...READONLY_PATHS]);
    assert.deepEqual(linux.resources, { devices: [{ allow: false, access: 'rwm' }] });
  });
});

test('hostSandbox: mounts', async () => {
  await withSandbox({}, (sb) => {
    const mounts = sb.config.mounts!;
    const byDest = new Map(mounts.map((m) => [m.destination, m]));
    assert.equal(byDest.size, mounts.length, 'no destination mounted twice');

    const usr = byDest.get('/usr');
    assert.equal(usr?.type, 'bind');
    assert.equal(usr?.source, '/usr');
    for (const opt of ['rbind', 'ro', 'nosuid', 'nodev']) assert.ok(usr?.options?.includes(opt), `/usr has ${opt}`);

    assert.equal(byDest.get('/proc')?.type, 'proc');
    assert.equal(byDest.get('/dev')?.type, 'tmpfs');
    assert.equal(byDest.get('/dev/pts')?.type, 'devpts');
    assert.equal(byDest.get('/dev/shm')?.type, 'tmpfs');
    const tmp = byDest.get('/tmp');
    assert.equal(tmp?.type, 'tmpfs');
    assert.ok(tmp?.options?.includes('mode=1777'));
    assert.ok(byDest.get('/sys')?.options?.includes('ro'));

    if (fs.statSync('/etc/ssl/certs', { throwIfNoEntry: false })?.isDirectory()) {
      const certs = byDest.get('/etc/ssl/certs');
      assert.equal(certs?.source, '/etc/ssl/certs');
      assert.ok(certs?.options?.includes('ro'));
    }
    assert.equal(byDest.get('/workspace'), undefined);
    assert.ok(!mounts.some((m) => m.destination === '/etc' || m.source === '/etc'), 'host /etc is never mounted whole');

    // Every bind mount is read-only.
    for (const m of mounts.filter((x) => x.type === 'bind')) assert.ok(m.options?.includes('ro'), `${m.destination} is ro`);
    // Option arrays are not shared between mounts (a caller may edit one).
    const opts = mounts.map((m) => m.options).filter((o) => o !== undefined);
    assert.equal(new Set(opts).size, opts.length);
  });
});

test('hostSandbox: options', async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-unit-ws-'));
  try {
    await withSandbox(
      {
        args: ['/usr/bin/env'],
        hostname: 'job-1',
        workspace,
        env: ['FOO=bar', 'PATH=/usr/bin', 'HOME=/workspace'],
        user: { uid: 1000, gid: 1000, additionalGids: [100] },
        memoryLimit: 64 * 1024 * 1024,
        pidsLimit: 32,
        cpuLimit: 1.5,
      },
      (sb) => {
        const { config } = sb;
        assert.equal(config.hostname, 'job-1');
        assert.deepEqual(config.process?.args, ['/usr/bin/env']);
        assert.deepEqual(config.process?.env, ['PATH=/usr/bin', 'HOME=/workspace', 'FOO=bar']);
        assert.deepEqual(config.process?.user, { uid: 1000, gid: 1000, additionalGids: [100] });
        assert.equal(config.process?.cwd, '/workspace');
        assert.deepEqual(config.linux?.resources?.memory, { limit: 64 * 1024 * 1024 });
        assert.deepEqual(config.linux?.resources?.pids, { limit: 32 });
        assert.deepEqual(config.linux?.resources?.cpu, { quota: 150_000, period: 100_000 });
        assert.match(path.basename(sb.rootfs), new RegExp(`^nlc-sandbox-${process.pid}-[A-Za-z0-9]{6}$`));
        const ws = config.mounts?.find((m) => m.destination === '/workspace');
        assert.equal(ws?.source, workspace);
        assert.ok(ws?.options?.includes('rw'));
        assert.ok(fs.statSync(path.join(sb.rootfs, 'workspace')).isDirectory());
        // The sandbox's user has a name (whoami, git, getpass), its HOME the private /tmp.
        assert.match(fs.readFileSync(path.join(sb.rootfs, 'etc/passwd'), 'utf8'), /^sandbox:x:1000:1000:sandbox:\/tmp:\/bin\/sh$/m);
        assert.match(fs.readFileSync(path.join(sb.rootfs, 'etc/group'), 'utf8'), /^sandbox:x:1000:$/m);
        assert.match(fs.readFileSync(path.join(sb.rootfs, 'etc/hosts'), 'utf8'), /^127\.0\.0\.1\s+localhost job-1$/m);
        assert.equal(fs.readFileSync(path.join(sb.rootfs, 'etc/hostname'), 'utf8'), 'job-1\n');
      },
    );
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
});

test('hostSandbox: /etc/alternatives (Debian\'s cc, awk, which ...) read-only when the host has it; /var/tmp is the private /tmp', async () => {
  await withSandbox({}, (sb) => {
    const alt = sb.config.mounts!.find((m) => m.destination === '/etc/alternatives');
    if (fs.existsSync('/etc/alternatives')) {
      assert.deepEqual(alt, { destination: '/etc/alternatives', type: 'bind', source: '/etc/alternatives', options: ['rbind', 'ro', 'nosuid', 'nodev'] });
      assert.ok(fs.statSync(path.join(sb.rootfs, 'etc/alternatives')).isDirectory());
    } else {
      assert.equal(alt, undefined);
    }
    assert.equal(fs.readlinkSync(path.join(sb.rootfs, 'var/tmp')), '../tmp');
  });
});

test('hostSandbox: rootfs contents', async () => {
  await withSandbox({}, (sb) => {
    const root = sb.rootfs;
    assert.ok(path.basename(root).startsWith('nlc-sandbox-'));
    assert.equal(fs.statSync(root).mode & 0o777, 0o755);

    const passwd = fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    assert.deepEqual(
      passwd.trim().split('\n').map((l) => l.split(':')[0]),
      ['root', 'nobody'],
    );
    assert.ok(!passwd.split('\n').some((l) => l.split(':')[1] && l.split(':')[1] !== 'x'), 'no password hashes');
    assert.ok(fs.existsSync(path.join(root, 'etc/group')));
    assert.match(fs.readFileSync(path.join(root, 'etc/nsswitch.conf'), 'utf8'), /^passwd:\s+files$/m);
    for (const secret of ['shadow', 'gshadow', 'shadow-', 'sudoers', 'ssh']) {
      assert.ok(!fs.existsSync(path.join(root, 'etc', secret)), `no /etc/${secret}`);
    }

    // Every mount point exists (the rootfs is mounted read-only, so the runtime cannot make them).
    for (const m of sb.config.mounts!) {
      const parts = m.destination.split('/').filter(Boolean);
      if (parts[0] === 'dev' && parts.length > 1) continue; // inside the /dev tmpfs
      assert.ok(fs.existsSync(path.join(root, m.destination)), `mount point ${m.destination} exists`);
    }
    assert.equal(fs.statSync(path.join(root, 'tmp')).mode & 0o7777, 0o1777);

    // Program dirs replicate the host: symlinks stay symlinks (merged /usr), real dirs are bind-mounted.
    for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
      const host = fs.lstatSync(`/${name}`, { throwIfNoEntry: false });
      const inside = fs.lstatSync(path.join(root, name), { throwIfNoEntry: false });
      if (!host) {
        assert.equal(inside, undefined, `${name} absent like on the host`);
      } else if (host.isSymbolicLink()) {
        assert.ok(inside?.isSymbolicLink());
        assert.equal(fs.readlinkSync(path.join(root, name)), fs.readlinkSync(`/${name}`));
      } else {
        assert.ok(inside?.isDirectory());
        assert.ok(sb.config.mounts!.some((m) => m.destination === `/${name}` && m.source === `/${name}`));
      }
    }
  });
});

test('hostSandbox: cleanup removes the rootfs without following symlinks, and is idempotent', async () => {
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-unit-outside-'));
  try {
    fs.writeFileSync(path.join(outside, 'keep'), 'keep');
    const sb = hostSandbox();
    fs.symlinkSync(outside, path.join(sb.rootfs, 'escape'));
    await sb.cleanup();
    assert.equal(fs.existsSync(sb.rootfs), false);
    assert.equal(fs.readFileSync(path.join(outside, 'keep'), 'utf8'), 'keep');
    await sb.cleanup();
  } finally {
    fs.rmSync(outside, { recursive: true, force: true });
  }
});

test('hostSandbox: async dispose cleans up', async () => {
  let rootfs: string;
  {
    await using sb = hostSandbox();
    rootfs = sb.rootfs;
    assert.ok(fs.existsSync(rootfs));
  }
  assert.equal(fs.existsSync(rootfs), false);
});

test('hostSandbox: invalid options are rejected before anything is created', () => {
  const before = sandboxDirs();
  assert.throws(() => hostSandbox({ args: [] }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => hostSandbox({ hostname: 'bad host' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => hostSandbox({ hostname: 'x'.repeat(65) }), TypeError);
  assert.throws(() => hostSandbox({ env: ['NOEQUALS'] }), TypeError);
  assert.throws(() => hostSandbox({ memoryLimit: 1.5 }), TypeError);
  assert.throws(() => hostSandbox({ memoryLimit: 0 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => hostSandbox({ pidsLimit: -1 }), RangeError);
  assert.throws(() => hostSandbox({ user: { uid: -1, gid: 0 } }), TypeError);
  assert.throws(() => hostSandbox({ cpuLimit: 0 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => hostSandbox({ cpuLimit: os.cpus().length + 1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => hostSandbox({ cpuLimit: '2' as unknown as number }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  // A misspelt limit must not give a step without it.
  assert.throws(() => hostSandbox({ memoryLimt: 2 ** 26 } as Parameters<typeof hostSandbox>[0]), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: /unknown option "memoryLimt"/,
  });
  assert.throws(() => hostSandbox({ workspace: '/nonexistent/nlc-unit' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.field, 'workspace');
    return true;
  });
  assert.throws(() => hostSandbox({ workspace: '/etc/passwd' }), ConfigError);
  assert.deepEqual(sandboxDirs(), before);
});

function sandboxDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('nlc-sandbox-')).sort();
}

test('hostSandbox: a rootfs left by a process that died is removed by the next hostSandbox(); a live owner\'s is kept', async () => {
  const dead = spawnSync('/bin/true').pid;
  assert.ok(dead);
  const stale = path.join(os.tmpdir(), `nlc-sandbox-${dead}-Abc123`);
  const alive = path.join(os.tmpdir(), 'nlc-sandbox-1-Abc123'); // pid 1 lives
  const foreign = path.join(os.tmpdir(), `nlc-sandbox-${dead}-not-ours`); // not a name we make
  try {
    for (const dir of [stale, alive, foreign]) {
      fs.mkdirSync(path.join(dir, 'etc'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0::/:/bin/sh\n');
      fs.symlinkSync('/etc', path.join(dir, 'host-etc')); // removed as a link, never followed
    }
    await withSandbox({}, () => {
      assert.equal(fs.existsSync(stale), false);
      assert.equal(fs.existsSync(alive), true);
      assert.equal(fs.existsSync(foreign), true);
      assert.equal(fs.existsSync('/etc/passwd'), true);
    });
  } finally {
    for (const dir of [stale, alive, foreign]) fs.rmSync(dir, { recursive: true, force: true });
  }
});
