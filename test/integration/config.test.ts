/** What the container sees from inside, for each part of the OCI config. */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, InitError, createContainer, type Container, type ProcessOptions } from '../../lib';
import { skipUnlessRoot, makeConfig, tempRoot, collect, testRootfs } from './helpers';

const skip = skipUnlessRoot();

/** Run `script` as the init of a container made from `overrides`; return stdout and the exit. */
async function runIn(root: string, id: string, overrides: Record<string, unknown>, script: string, extra: Record<string, unknown> = {}) {
  const base = makeConfig(overrides) as { process: Record<string, unknown> };
  const config = { ...base, process: { ...base.process, args: ['sh', '-c', script], ...extra } };
  const c = await createContainer(id, config, { root });
  try {
    const p = await c.run();
    const [out, err] = [collect(p.stdout!), collect(p.stderr!)];
    const exit = await p.wait();
    return { out: (await out).trim(), err: (await err).trim(), exit };
  } finally {
    await c.destroy();
  }
}

/** An exec'd process run to its end: stdout, stderr and exit code. */
async function execRun(c: Container, args: string[], opts: ProcessOptions = {}) {
  const p = await c.run({ init: false, args, ...opts });
  const [out, err] = [collect(p.stdout!), collect(p.stderr!)];
  const exit = await p.wait();
  return { out: (await out).trim(), err: (await err).trim(), exitCode: exit.exitCode };
}

function capHex(status: string, field: string): bigint {
  return BigInt('0x' + status.match(new RegExp(`${field}:\\s*([0-9a-f]+)`))![1]);
}

describe('config applied inside the container', { skip }, () => {
  const t = tempRoot();
  const root = t.root;
  const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-host-'));
  fs.writeFileSync(path.join(hostDir, 'file.txt'), 'from-host\n');
  after(async () => {
    await t.cleanup();
    fs.rmSync(hostDir, { recursive: true, force: true });
  });

  test('namespaces: pid, mount, uts, ipc, net (lo up), cgroup are private', async () => {
    const r = await runIn(root, 'cfg-ns', {}, 'for n in pid mnt uts ipc net cgroup; do echo $n=$(readlink /proc/self/ns/$n); done; ip -o link show lo');
    assert.equal(r.exit.exitCode, 0, r.err);
    for (const n of ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup']) {
      const inside = r.out.match(new RegExp(`^${n}=(.*)$`, 'm'))![1];
      assert.notEqual(inside, fs.readlinkSync(`/proc/self/ns/${n}`), `${n} namespace must be private`);
    }
    assert.match(r.out, /lo: <LOOPBACK,UP,LOWER_UP>/);
  });

  test('two containers share one network namespace by path', async () => {
    const a = await createContainer('cfg-neta', makeConfig({ process: { args: ['sleep', '1000'] } }), { root });
    try {
      const pa = await a.run({ stdio: 'ignore' });
      const netPath = `/proc/${pa.pid}/ns/net`;
      const base = makeConfig({}) as { linux: { namespaces: { type: string; path?: string }[] } };
      const namespaces = base.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: netPath } : n));
      const r = await runIn(root, 'cfg-netb', { linux: { ...base.linux, namespaces } }, 'readlink /proc/self/ns/net; echo pid=$$');
      assert.equal(r.exit.exitCode, 0, r.err);
      assert.equal(r.out.split('\n')[0], fs.readlinkSync(netPath));
      assert.match(r.out, /pid=1$/); // its own pid namespace still
    } finally {
      await a.destroy();
    }
  });

  test('net.* sysctls are refused in the host network namespace joined by path: at create, and by the helper when the path changed since', async () => {
    const base = makeConfig({}) as { linux: { namespaces: { type: string; path?: string }[] } };
    const joining = (netPath: string) => ({
      linux: { ...base.linux, namespaces: base.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: netPath } : n)), sysctl: { 'net.ipv4.ip_forward': fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() } },
      process: { args: ['true'] },
    });
    await assert.rejects(
      createContainer('cfg-hostnet', makeConfig(joining('/proc/self/ns/net')), { root }),
      (e: ConfigError) => e instanceof ConfigError && e.field === 'linux.sysctl["net.ipv4.ip_forward"]' && /host's network namespace/.test(e.message),
    );
    // A path that names another namespace at create and the host's at the start (a symlink
    // changed meanwhile): the helper refuses it as it joins, before any sysctl is written.
    const a = await createContainer('cfg-hostnet-a', makeConfig({ process: { args: ['sleep', '1000'] } }), { root });
    const link = path.join(hostDir, 'netns-link');
    try {
      const pa = await a.run({ stdio: 'ignore' });
      fs.symlinkSync(`/proc/${pa.pid}/ns/net`, link);
      const c = await createContainer('cfg-hostnet-b', makeConfig(joining(link)), { root });
      fs.unlinkSync(link);
      fs.symlinkSync(`/proc/${process.pid}/ns/net`, link);
      await assert.rejects(c.run({ stdio: 'ignore' }), (e: InitError) => e instanceof InitError && e.stage === 'namespaces' && /host's network namespace/.test(e.message));
      await c.destroy();
    } finally {
      fs.rmSync(link, { force: true });
      await a.destroy();
    }
  });

  test('create refuses a namespace path that does not exist and a rootfs named through a symlink, naming the field (as runc)', async () => {
    const base = makeConfig({}) as { linux: { namespaces: { type: string; path?: string }[] } };
    const namespaces = base.linux.namespaces.map((n) => (n.type === 'ipc' ? { type: 'ipc', path: '/proc/self/ns/no-such-ns' } : n));
    const ipcIndex = namespaces.findIndex((n) => n.type === 'ipc');
    await assert.rejects(
      createContainer('cfg-nspath', makeConfig({ linux: { ...base.linux, namespaces } }), { root }),
      (e: ConfigError) => e instanceof ConfigError && e.field === `linux.namespaces[${ipcIndex}].path` && /ENOENT/.test(e.message),
    );
    const rootfs = (makeConfig({}) as { root: { path: string } }).root.path;
    const link = path.join(hostDir, 'rootfs-link');
    fs.symlinkSync(rootfs, link);
    try {
      await assert.rejects(
        createContainer('cfg-rootlink', makeConfig({ root: { path: link } }), { root }),
        (e: ConfigError) => e instanceof ConfigError && e.field === 'root.path' && /symlink/.test(e.message),
      );
    } finally {
      fs.unlinkSync(link);
    }
  });

  test('mounts: proc, sysfs, tmpfs, devpts, mqueue and bind mounts with their options', async () => {
    const mounts = [
      ...(makeConfig({}) as { mounts: unknown[] }).mounts,
      { destination: '/data', type: 'bind', source: hostDir, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec', 'rprivate'] },
      { destination: '/rw', type: 'bind', source: hostDir, options: ['bind', 'rw'] },
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'mode=700'] },
      { destination: '/etc/hosts.host', type: 'bind', source: '/etc/hosts', options: ['bind', 'ro'] },
    ];
    const r = await runIn(root, 'cfg-mounts', { mounts },
      'cat /proc/self/mountinfo; echo ---; cat /data/file.txt; touch /data/x 2>/dev/null && echo data-writable; touch /rw/written && echo rw-ok; stat -c %a /scratch; test -s /etc/hosts.host && echo file-bind');
    assert.equal(r.exit.exitCode, 0, r.err);
    const [info, rest] = r.out.split('---');
    const line = (dest: string) => info.split('\n').find((l) => l.split(' ')[4] === dest) ?? '';
    assert.match(line('/proc'), / - proc /);
    assert.match(line('/sys'), / - sysfs /);
    assert.match(line('/sys').split(' ')[5], /^ro/);
    assert.match(line('/dev'), / - tmpfs /);
    assert.match(line('/dev/pts'), / - devpts /);
    assert.match(line('/dev/mqueue'), / - mqueue /);
    const data = line('/data').split(' ')[5];
    for (const opt of ['ro', 'nosuid', 'nodev', 'noexec']) assert.ok(data.split(',').includes(opt), `/data has ${opt}: ${data}`);
    assert.match(line('/scratch'), / - tmpfs /);
    assert.match(rest, /from-host/);
    assert.doesNotMatch(rest, /data-writable/);
    assert.match(rest, /rw-ok/);
    assert.match(rest, /\n700\n/);
    assert.match(rest, /file-bind/);
    assert.ok(fs.existsSync(path.join(hostDir, 'written')));
    fs.rmSync(path.join(hostDir, 'written'));
  });

  test('a mount destination through a symlink stays inside the rootfs', async () => {
    // The rootfs has /escape -> <hostDir>; mounting at /escape/sub must not touch the host dir.
    const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-rootfs-'));
    try {
      fs.cpSync((makeConfig({}) as { root: { path: string } }).root.path, rootfs, { recursive: true, verbatimSymlinks: true });
      fs.symlinkSync(hostDir, path.join(rootfs, 'escape'));
      const before = fs.readdirSync(hostDir).sort();
      const r = await runIn(root, 'cfg-escape', {
        root: { path: rootfs },
        mounts: [...(makeConfig({}) as { mounts: unknown[] }).mounts, { destination: '/escape/sub', type: 'tmpfs', source: 'tmpfs' }],
      }, 'grep -c " /escape/sub\\| ' + hostDir + '/sub " /proc/self/mountinfo; ls /escape');
      assert.equal(r.exit.exitCode, 0, r.err);
      assert.deepEqual(fs.readdirSync(hostDir).sort(), before, 'the host directory was not touched');
      assert.ok(fs.existsSync(path.join(rootfs, hostDir, 'sub')), 'the mount point was created inside the rootfs');
    } finally {
      fs.rmSync(rootfs, { recursive: true, force: true });
    }
  });

  test('mount destinations with ".." or relative are taken as runc 1.1 takes them, and stay inside the rootfs', async () => {
    // A private rootfs beside a host directory that a naive join of "..", or a symlink
    // followed on the host, would reach.
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-dotdot-'));
    const rootfs = path.join(base, 'rootfs');
    const outside = path.join(base, 'outside');
    const viaUp = path.resolve(rootfs, '..', '..', 'outside');
    const warnings: Error[] = [];
    const onWarning = (w: Error & { code?: string }) => w.code === 'NLC_RELATIVE_MOUNT_DESTINATION' && warnings.push(w);
    process.on('warning', onWarning);
    try {
      fs.cpSync((makeConfig({}) as { root: { path: string } }).root.path, rootfs, { recursive: true, verbatimSymlinks: true });
      fs.mkdirSync(outside);
      fs.symlinkSync('../..', path.join(rootfs, 'up'));
      fs.symlinkSync(hostDir, path.join(rootfs, 'abs'));
      const hostBefore = fs.readdirSync(hostDir).sort();
      const tmpfs = (destination: string) => ({ destination, type: 'tmpfs', source: 'tmpfs' });
      const r = await runIn(root, 'cfg-dotdot', {
        root: { path: rootfs },
        mounts: [
          ...(makeConfig({}) as { mounts: unknown[] }).mounts,
          tmpfs('/../outside/dotdot'), // "/outside/dotdot"
          tmpfs('up/outside/viasym'), // relative; "up" is "../.." in the rootfs: its root there
          tmpfs('rel/data'), // relative: "/rel/data"
          tmpfs('../abs/../abs/sub2'), // "/abs/sub2"; "abs" is the host dir's path, inside the rootfs
        ],
      }, 'cut -d" " -f5 /proc/self/mountinfo');
      assert.equal(r.exit.exitCode, 0, r.err);
      const points = r.out.split('\n');
      for (const p of ['/outside/dotdot', '/outside/viasym', '/rel/data', `${hostDir}/sub2`]) assert.ok(points.includes(p), `${p} is not a mount point in the container: ${r.out}`);
      // Mount points made inside the rootfs, nothing outside it.
      for (const p of ['outside/dotdot', 'outside/viasym', 'rel/data', `${hostDir.slice(1)}/sub2`]) assert.ok(fs.statSync(path.join(rootfs, p)).isDirectory(), p);
      assert.deepEqual(fs.readdirSync(outside), [], 'the directory beside the rootfs was not touched');
      assert.equal(fs.existsSync(path.join(viaUp, 'viasym')), false);
      assert.deepEqual(fs.readdirSync(hostDir).sort(), hostBefore, 'the host directory was not touched');
      assert.equal(fs.existsSync(path.resolve('rel')), false, 'a relative destination is not relative to the cwd');
      assert.deepEqual(warnings.map((w) => w.message.match(/"[^"]+"/)![0]), ['"up/outside/viasym"', '"rel/data"', '"../abs/../abs/sub2"']);
    } finally {
      process.off('warning', onWarning);
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  test('devices: defaults, /dev symlinks, linux.devices', async () => {
    const base = makeConfig({}) as { linux: Record<string, unknown> };
    const r = await runIn(root, 'cfg-dev', {
      linux: { ...base.linux, devices: [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o020640, uid: 0, gid: 0 }] }, // with the type bits, as podman gives them
    }, 'for d in null zero full tty random urandom mynull; do stat -c "%n %F %t:%T %a" /dev/$d; done; readlink /dev/fd; readlink /dev/stdin; readlink /dev/ptmx; echo x > /dev/null && echo null-ok');
    assert.equal(r.exit.exitCode, 0, r.err);
    assert.match(r.out, /\/dev\/null character special file 1:3 666/);
    assert.match(r.out, /\/dev\/zero character special file 1:5 666/);
    assert.match(r.out, /\/dev\/urandom character special file 1:9 666/);
    assert.match(r.out, /\/dev\/mynull character special file 1:3 640/);
    assert.match(r.out, /\/proc\/self\/fd\n\/proc\/self\/fd\/0\npts\/ptmx/);
    assert.match(r.out, /null-ok/);
  });

  test('a linux.devices entry whose path is taken keeps what is there (as runc): a host file through a bind mount, a directory', async () => {
    const dataDir = fs.mkdtempSync(path.join(hostDir, 'devdata-'));
    fs.writeFileSync(path.join(dataDir, 'important.txt'), 'precious host data\n');
    const base = makeConfig({}) as { linux: Record<string, unknown>; mounts: unknown[] };
    const r = await runIn(root, 'cfg-dev-taken', {
      mounts: [...base.mounts, { destination: '/data', type: 'bind', source: dataDir, options: ['rbind', 'rw'] }],
      linux: {
        ...base.linux,
        devices: [
          { path: '/data/important.txt', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
          { path: '/dev/shm', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
          { path: '/data/new-null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
        ],
      },
    }, 'cat /data/important.txt; stat -c "%F" /dev/shm /data/new-null');
    assert.equal(r.exit.exitCode, 0, r.err);
    assert.deepEqual(r.out.split('\n'), ['precious host data', 'directory', 'character special file']);
    assert.equal(fs.readFileSync(path.join(dataDir, 'important.txt'), 'utf8'), 'precious host data\n', 'the host file is untouched');
  });

  test('no /dev mount: the default nodes and links go into the rootfs\'s own /dev (as runc), so masked paths and /dev/null work', async () => {
    const rootfs = fs.mkdtempSync(path.join(hostDir, 'rootfs-nodev-'));
    fs.cpSync(testRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
    fs.rmSync(path.join(rootfs, 'dev'), { recursive: true, force: true });
    fs.mkdirSync(path.join(rootfs, 'dev'));
    fs.writeFileSync(path.join(rootfs, 'dev', 'zero'), 'the image\'s own\n');
    try {
      const base = makeConfig({}) as { mounts: { destination: string }[] };
      const r = await runIn(root, 'cfg-nodev', { root: { path: rootfs }, mounts: base.mounts.filter((m) => !m.destination.startsWith('/dev')) },
        'echo x > /dev/null && stat -c "%F %t:%T" /dev/null; cat /dev/zero; readlink /dev/fd; wc -c < /proc/timer_list');
      assert.equal(r.exit.exitCode, 0, r.err);
      assert.deepEqual(r.out.split('\n'), ['character special file 1:3', 'the image\'s own', '/proc/self/fd', '0']);
      assert.equal(fs.statSync(path.join(rootfs, 'dev', 'null')).isCharacterDevice(), true, 'made in the image, as runc does');
    } finally {
      fs.rmSync(rootfs, { recursive: true, force: true });
    }
  });

  test('rro makes an rbind read-only all the way down (mount_setattr), where ro reaches only its top mount', async () => {
    const src = fs.mkdtempSync(path.join(hostDir, 'rro-'));
    fs.mkdirSync(path.join(src, 'sub'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'nlc-rro-test', path.join(src, 'sub')]);
    try {
      const base = makeConfig({}) as { mounts: unknown[] };
      const r = await runIn(root, 'cfg-rro', {
        mounts: [...base.mounts,
          { destination: '/ro', type: 'bind', source: src, options: ['rbind', 'ro'] },
          { destination: '/rro', type: 'bind', source: src, options: ['rbind', 'rro', 'rnosuid'] }],
      }, 'for d in /ro /ro/sub /rro /rro/sub; do touch $d/f 2>/dev/null && echo $d=rw || echo $d=ro; done; grep " /rro/sub " /proc/self/mountinfo | cut -d" " -f6');
      assert.equal(r.exit.exitCode, 0, r.err);
      assert.deepEqual(r.out.split('\n'), ['/ro=ro', '/ro/sub=rw', '/rro=ro', '/rro/sub=ro', 'ro,nosuid,relatime']);
    } finally {
      execFileSync('umount', ['-l', path.join(src, 'sub')]);
      fs.rmSync(src, { recursive: true, force: true });
    }
  });

  test('tmpcopyup: the tmpfs starts with the image\'s files (modes, owners, symlinks, nested dirs), writes stay in the tmpfs', async () => {
    const rootfs = fs.mkdtempSync(path.join(hostDir, 'rootfs-copyup-'));
    fs.cpSync(testRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
    const etc = path.join(rootfs, 'seed');
    fs.mkdirSync(path.join(etc, 'deep', 'er'), { recursive: true });
    fs.writeFileSync(path.join(etc, 'deep', 'er', 'conf'), 'seeded\n', { mode: 0o604 });
    fs.chownSync(path.join(etc, 'deep', 'er', 'conf'), 1000, 1000);
    fs.symlinkSync('deep/er/conf', path.join(etc, 'link'));
    fs.chmodSync(etc, 0o711);
    try {
      const base = makeConfig({}) as { mounts: unknown[] };
      const r = await runIn(root, 'cfg-copyup', {
        root: { path: rootfs, readonly: true },
        mounts: [...base.mounts, { destination: '/seed', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'tmpcopyup'] }],
      }, 'cat /seed/link; stat -c "%a %u:%g" /seed /seed/deep/er/conf; readlink /seed/link; echo new > /seed/new && cat /seed/new; grep " /seed " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1,2');
      assert.equal(r.exit.exitCode, 0, r.err);
      assert.deepEqual(r.out.split('\n'), ['seeded', '711 0:0', '604 1000:1000', 'deep/er/conf', 'new', 'tmpfs tmpfs']);
      assert.equal(fs.existsSync(path.join(etc, 'new')), false, 'the image is untouched');
    } finally {
      fs.rmSync(rootfs, { recursive: true, force: true });
    }
  });

  test('pivot_root, read-only root, masked and read-only paths, propagation', async () => {
    const r = await runIn(root, 'cfg-root', {
      root: { path: (makeConfig({}) as { root: { path: string } }).root.path, readonly: true },
      linux: { ...(makeConfig({}) as { linux: Record<string, unknown> }).linux, rootfsPropagation: 'rprivate' },
    }, 'test -x /bin/busybox && echo busybox-root; touch /newfile 2>/dev/null || echo root-ro; wc -c < /proc/timer_list; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo procsys-ro; cat /proc/self/mountinfo');
    assert.equal(r.exit.exitCode, 0, r.err);
    assert.match(r.out, /busybox-root/);
    assert.match(r.out, /root-ro/);
    assert.match(r.out, /^0$/m);
    assert.match(r.out, /procsys-ro/);
    const rootLine = r.out.split('\n').find((l) => l.split(' ')[4] === '/') ?? '';
    assert.match(rootLine.split(' ')[5], /^ro/);
    assert.doesNotMatch(rootLine, /shared:/);
  });

  test('hostname, domainname, sysctl, umask, env, cwd and PATH lookup', async () => {
    const r = await runIn(root, 'cfg-misc', {
      hostname: 'box-1', domainname: 'example.test',
      linux: { ...(makeConfig({}) as { linux: Record<string, unknown> }).linux, sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '4096' } },
    }, 'hostname; cat /proc/sys/kernel/domainname; cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax; umask; echo $GREETING; pwd; which sh',
    { env: ['PATH=/usr/bin:/bin', 'GREETING=hi'], cwd: '/tmp', user: { uid: 0, gid: 0, umask: 0o027 } });
    assert.equal(r.exit.exitCode, 0, r.err);
    assert.deepEqual(r.out.split('\n'), ['box-1', 'example.test', '1', '4096', '0027', 'hi', '/tmp', '/bin/sh']);
  });

  test('a umask above 0o777 keeps its permission bits, as runc and umask(2) take it; above uint32 it is refused', async () => {
    const r = await runIn(root, 'cfg-umask', {}, 'umask', { user: { uid: 0, gid: 0, umask: 0o1777 } });
    assert.equal(r.exit.exitCode, 0, r.err);
    assert.equal(r.out, '0777');
    await assert.rejects(
      createContainer('cfg-umask-bad', makeConfig({ process: { args: ['true'], user: { uid: 0, gid: 0, umask: 2 ** 32 } } }), { root }),
      (e: ConfigError) => e instanceof ConfigError && e.field === 'process.user.umask',
    );
  });

  test('a working directory that is not there is made (0755, inside the root, before a read-only root is remounted), as runc', async () => {
    const rootfs = (makeConfig({}) as { root: { path: string } }).root.path;
    fs.rmSync(path.join(rootfs, 'made-cwd'), { recursive: true, force: true });
    try {
      const r = await runIn(root, 'cfg-mkcwd', { root: { path: rootfs, readonly: true } }, 'pwd; stat -c "%a %u" /made-cwd/a/b; touch x 2>/dev/null || echo ro', { cwd: '/made-cwd/a/b', user: { uid: 1000, gid: 1000 } });
      assert.equal(r.exit.exitCode, 0, r.err);
      assert.deepEqual(r.out.split('\n'), ['/made-cwd/a/b', '755 0', 'ro']);
    } finally {
      fs.rmSync(path.join(rootfs, 'made-cwd'), { recursive: true, force: true });
    }
  });

  test('a mount the kernel refuses names its data; an unbindable rootfsPropagation is refused at create', async () => {
    const base = makeConfig({}) as { mounts: unknown[]; linux: Record<string, unknown> };
    const c = await createContainer('cfg-baddata', makeConfig({ mounts: [...base.mounts, { destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['size=banana'] }] }), { root });
    try {
      await assert.rejects(c.run({ stdio: 'ignore' }), (e: InitError) => e instanceof InitError && e.stage === 'mounts' && /size=banana/.test(e.message) && /EINVAL/.test(e.message));
    } finally {
      await c.destroy();
    }
    await assert.rejects(
      createContainer('cfg-unbindable', makeConfig({ linux: { ...base.linux, rootfsPropagation: 'runbindable' } }), { root }),
      (e: ConfigError) => e instanceof ConfigError && e.field === 'linux.rootfsPropagation',
    );
  });

  test('user, groups, capabilities, no_new_privs, rlimits, oomScoreAdj', async () => {
    const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const r = await runIn(root, 'cfg-ids', {}, 'id; grep -E "^(Cap|NoNewPrivs)" /proc/self/status; grep "Max open files" /proc/self/limits; cat /proc/self/oom_score_adj', {
      user: { uid: 1000, gid: 1000, additionalGids: [100, 65534] },
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps },
      noNewPrivileges: true,
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }],
      oomScoreAdj: 123,
    });
    assert.equal(r.exit.exitCode, 0, r.err);
    assert.match(r.out, /uid=1000\(tester\) gid=1000\(tester\) groups=100\(users\),65534\(nogroup\)|uid=1000\(tester\) gid=1000\(tester\) groups=1000\(tester\),100\(users\),65534\(nogroup\)/);
    const want = (1n << 0n) | (1n << 5n) | (1n << 10n); // chown, kill, net_bind_service
    for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(capHex(r.out, f), want, f);
    assert.match(r.out, /NoNewPrivs:\s+1/);
    assert.match(r.out, /Max open files\s+321\s+654/);
    assert.match(r.out, /^123$/m);
  });

  test('scheduler, ioPriority and personality: for the init, inherited or overridden by exec\'d processes', async () => {
    // /proc/self/stat fields 19 and 41 are the nice value and the policy (SCHED_BATCH 3, SCHED_IDLE 5).
    const probe = 'cut -d" " -f19,41 /proc/self/stat; ionice -p $$; uname -m';
    const base = makeConfig({ linux: { personality: { domain: 'LINUX32' } } }) as { process: Record<string, unknown> };
    const config = {
      ...base,
      process: { ...base.process, args: ['sleep', '100'], scheduler: { policy: 'SCHED_BATCH', nice: 7 }, ioPriority: { class: 'IOPRIO_CLASS_IDLE' } },
    };
    const c = await createContainer('cfg-sched', config, { root });
    try {
      await c.run({ stdio: 'ignore' });
      const inherited = await execRun(c, ['sh', '-c', probe]);
      assert.equal(inherited.exitCode, 0, inherited.err);
      assert.deepEqual(inherited.out.split('\n'), ['7 3', 'idle', 'i686']);
      const own = await execRun(c, ['sh', '-c', probe], { scheduler: { policy: 'SCHED_IDLE' }, ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 6 } });
      assert.equal(own.exitCode, 0, own.err);
      assert.deepEqual(own.out.split('\n'), ['0 5', 'best-effort: prio 6', 'i686']);
      // The option's own shape is checked as the config's is; what the kernel refuses names the stage.
      await assert.rejects(c.run({ init: false, args: ['true'], scheduler: { policy: 'SCHED_BATCH', priority: 5 } }), (e: unknown) => e instanceof ConfigError && e.field === 'process.scheduler.priority');
      await assert.rejects(c.run({ init: false, args: ['true'], scheduler: { policy: 'SCHED_ISO' } }), (e: unknown) => e instanceof InitError && e.stage === 'scheduler' && e.syscall === 'sched_setattr');
    } finally {
      await c.destroy();
    }
    await assert.rejects(createContainer('cfg-pers', makeConfig({ linux: { personality: { domain: 'LINUX', flags: ['x'] } } }), { root }), (e: unknown) => e instanceof ConfigError && e.field === 'linux.personality.flags');
  });

  test('memoryPolicy: the process\'s new mappings follow it (numa_maps); what the kernel would refuse is refused first', async () => {
    if (!fs.existsSync('/proc/self/numa_maps')) {
      // A kernel without NUMA support: set_mempolicy fails, and the start says so.
      const c = await createContainer('cfg-numa-none', makeConfig({ linux: { memoryPolicy: { mode: 'MPOL_BIND', nodes: '0' } } }), { root });
      try {
        await assert.rejects(c.run(), (e: unknown) => e instanceof InitError && e.stage === 'memory_policy');
      } finally {
        await c.destroy();
      }
      return;
    }
    for (const [policy, want] of [
      [{ mode: 'MPOL_BIND', nodes: '0' }, /^[0-9a-f]+ bind:0 /m],
      [{ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, /^[0-9a-f]+ interleave=static:0 /m],
      [{ mode: 'MPOL_PREFERRED', nodes: '0' }, /^[0-9a-f]+ prefer:0 /m],
    ] as const) {
      const r = await runIn(root, `cfg-numa-${policy.mode.toLowerCase()}`, { linux: { memoryPolicy: policy } }, 'cat /proc/self/numa_maps');
      assert.equal(r.exit.exitCode, 0, r.err);
      assert.match(r.out, want, `${policy.mode}: ${r.out.split('\n')[0]}`);
    }
    for (const [policy, field] of [
      [{ mode: 'MPOL_BIND' }, 'linux.memoryPolicy.nodes'],
      [{ mode: 'MPOL_LOCAL', nodes: '0' }, 'linux.memoryPolicy.nodes'],
      [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }, 'linux.memoryPolicy.flags'],
      [{ mode: 'MPOL_BIND', nodes: 'zero' }, 'linux.memoryPolicy.nodes'],
    ] as const) {
      await assert.rejects(createContainer('cfg-numa-bad', makeConfig({ linux: { memoryPolicy: policy } }), { root }), (e: unknown) => e instanceof ConfigError && e.field === field, JSON.stringify(policy));
    }
  });

  test('timeOffsets: a time namespace of the container\'s own, its boot-time clock ahead by the offset', async () => {
    const day = 86_400;
    // /proc/uptime shows CLOCK_BOOTTIME as the namespace sees it. Both offsets go to the
    // kernel in one write, which it refuses whole if either line is wrong.
    const hostUptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const namespaces = [...(makeConfig().linux!.namespaces as { type: string }[]), { type: 'time' }];
    const r = await runIn(root, 'cfg-timens', { linux: { namespaces, timeOffsets: { boottime: { secs: 10 * day }, monotonic: { secs: 2 * day, nanosecs: 5 } } } }, 'cat /proc/uptime; readlink /proc/self/ns/time; readlink /proc/self/ns/time_for_children');
    assert.equal(r.exit.exitCode, 0, r.err);
    const [uptime, ns] = r.out.split('\n');
    const shown = Number(uptime.split(' ')[0]);
    assert.ok(shown >= hostUptime + 10 * day && shown < hostUptime + 10 * day + 600, `uptime ${shown} against the host's ${hostUptime}`);
    assert.notEqual(ns, fs.readlinkSync('/proc/self/ns/time'), 'a time namespace of its own');
    // A joined time namespace keeps its clocks: offsets for it are refused.
    const joined = [...(makeConfig().linux!.namespaces as { type: string }[]), { type: 'time', path: '/proc/self/ns/time' }];
    await assert.rejects(createContainer('cfg-timens-joined', makeConfig({ linux: { namespaces: joined, timeOffsets: { boottime: { secs: 1 } } } }), { root }),
      (e: unknown) => e instanceof ConfigError && e.field === 'linux.timeOffsets');
  });

  test('only fds 0, 1, 2 and the extra files reach the container', async () => {
    const extra = fs.openSync('/etc/hostname', 'r');
    try {
      const r = await runIn(root, 'cfg-fds', {}, 'cd /proc/self/fd && echo *', { });
      assert.equal(r.exit.exitCode, 0, r.err);
      // `echo *` in /proc/self/fd of the shell: the shell itself may hold one directory fd for the glob.
      const fds = r.out.split(' ').map(Number).filter((n) => n >= 3);
      assert.ok(fds.length <= 1, `unexpected fds: ${r.out}`);
      const c = await createContainer('cfg-fds2', makeConfig({ process: { args: ['sh', '-c', 'cat <&3; cd /proc/self/fd && echo *'] } }), { root });
      try {
        const p = await c.run({ extraFiles: [extra] });
        const out = (await collect(p.stdout!)).trim();
        assert.equal((await p.wait()).exitCode, 0);
        const lines = out.split('\n');
        assert.equal(lines[0], fs.readFileSync('/etc/hostname', 'utf8').trim());
        assert.ok(lines[1].split(' ').includes('3'), out);
        assert.ok(lines[1].split(' ').map(Number).filter((n) => n > 4).length === 0, out);
      } finally {
        await c.destroy();
      }
    } finally {
      fs.closeSync(extra);
    }
  });
  test('containers made one after another from one config object follow its changes', async () => {
    const base = makeConfig({}) as Record<string, any>;
    const config = { ...base, hostname: 'first', process: { ...base.process, args: ['sh', '-c', 'hostname; echo $MARK'], env: ['PATH=/bin:/usr/bin', 'MARK=a'] } };
    const seen: string[] = [];
    const runOnce = async (id: string) => {
      const c = await createContainer(id, config, { root });
      try {
        const p = await c.run();
        const out = collect(p.stdout!);
        assert.equal((await p.wait()).exitCode, 0);
        seen.push((await out).trim().replace('\n', ' '));
        return c.config;
      } finally {
        await c.destroy();
      }
    };
    await runOnce('cfg-reuse1');
    const copy = await runOnce('cfg-reuse2'); // from here on, a frozen copy is reused
    assert.equal(await runOnce('cfg-reuse3'), copy);
    config.hostname = 'second';
    config.process.env[1] = 'MARK=b';
    await runOnce('cfg-reuse4');
    (config as Record<string, unknown>).hostname = 42;
    await assert.rejects(createContainer('cfg-reuse5', config, { root }), (e: Error & { field?: string }) => e.field === 'hostname');
    assert.deepEqual(seen, ['first a', 'first a', 'first a', 'second b']);
  });
});
