import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ConfigError } from '../../lib/errors';
import * as L from '../../lib/spec/linux';
import { convertMount, convertMounts, isBindMount, relativeDestinationWarnings, resolveBindSource, rootPropagationFlags, type SourceKind } from '../../lib/spec/mounts';
import { execJoinFlags, namespaceFlag, planNamespaces } from '../../lib/spec/namespaces';
import { convertCapabilities } from '../../lib/spec/capabilities';
import { convertRlimits } from '../../lib/spec/rlimits';
import { convertDevices, defaultDevicesWanted } from '../../lib/spec/devices';
import { buildInitPlan, resolveProcess } from '../../lib/process/bootstrap';
import type { Spec } from '../../types/oci';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Assert that fn throws a ConfigError on exactly `field`, with a message matching `message`. */
function throwsConfig(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.equal(err.code, 'ERR_CONFIG');
    if (message) assert.match(err.message, message);
    return true;
  });
}

// The mounts of `runc spec` / the runtime-spec's example config.
const ociDefaultMounts = [
  { destination: '/proc', type: 'proc', source: 'proc' },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
];

const ociDefaultNamespaces = [
  { type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' },
];

function stat(kinds: Record<string, SourceKind>): (p: string) => SourceKind {
  return (p) => kinds[p] ?? 'missing';
}

describe('linux constants', () => {
  it('match the kernel ABI', () => {
    assert.equal(L.MS_SLAVE | L.MS_REC, 540672);
    assert.equal(L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC, 14);
    assert.equal(L.CLONE_NEWNET, 0x40000000);
    assert.equal(L.CAPABILITIES.CAP_CHECKPOINT_RESTORE, 40);
    assert.equal(L.CAPABILITIES.CAP_SYS_ADMIN, 21);
    assert.equal(Object.keys(L.CAPABILITIES).length, L.CAP_LAST_CAP + 1);
    assert.equal(L.RLIMITS.RLIMIT_NOFILE, 7);
    assert.equal(L.RLIMITS.RLIMIT_RTTIME, 15);
  });
});

describe('convertMount', () => {
  it('converts the OCI default mounts', () => {
    const plans = convertMounts(ociDefaultMounts);
    assert.deepEqual(plans[0], {
      source: 'proc', destination: '/proc', type: 'proc', flags: 0, data: '',
      propagation: [], remountFlags: 0, isBind: false, isFile: false, copyUp: false, recAttrSet: 0, recAttrClr: 0,
    });
    assert.deepEqual(plans[1], {
      source: 'tmpfs', destination: '/dev', type: 'tmpfs', flags: L.MS_NOSUID | L.MS_STRICTATIME,
      data: 'mode=755,size=65536k', propagation: [], remountFlags: 0, isBind: false, isFile: false, copyUp: false, recAttrSet: 0, recAttrClr: 0,
    });
    assert.equal(plans[2].flags, L.MS_NOSUID | L.MS_NOEXEC);
    assert.equal(plans[2].data, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
    assert.equal(plans[3].flags, 14);
    assert.equal(plans[3].data, 'mode=1777,size=65536k');
    assert.equal(plans[3].source, 'shm');
    assert.equal(plans[4].type, 'mqueue');
    assert.equal(plans[4].flags, 14);
    assert.equal(plans[5].flags, 14 | L.MS_RDONLY);
    assert.equal(plans[5].data, '');
    assert.equal(plans[6].flags, 14 | L.MS_RELATIME | L.MS_RDONLY);
    assert.equal(plans[6].destination, '/sys/fs/cgroup');
    for (const p of plans) assert.equal(p.isBind, false);
  });

  it('makes a read-only rprivate bind with a remount', () => {
    const p = convertMount(
      { destination: '/usr/', type: 'bind', source: '/usr', options: ['rbind', 'ro', 'nosuid', 'rprivate'] },
      2, stat({ '/usr': 'dir' }));
    assert.deepEqual(p, {
      source: '/usr', destination: '/usr', type: 'bind',
      flags: L.MS_BIND | L.MS_REC | L.MS_RDONLY | L.MS_NOSUID, data: '',
      propagation: [L.MS_PRIVATE | L.MS_REC], remountFlags: L.MS_RDONLY | L.MS_NOSUID,
      isBind: true, isFile: false, copyUp: false, recAttrSet: 0, recAttrClr: 0,
    });
  });

  it('treats type "bind" and a bind option alike, and plain binds need no remount', () => {
    const byType = convertMount({ destination: '/w', type: 'bind', source: '/src' }, 0);
    assert.equal(byType.flags, L.MS_BIND);
    assert.equal(byType.remountFlags, 0);
    const byOption = convertMount({ destination: '/w', type: 'none', source: '/src', options: ['bind'] }, 0);
    assert.equal(byOption.type, 'bind');
    assert.equal(byOption.isBind, true);
    const noType = convertMount({ destination: '/w', source: '/src', options: ['rbind', 'rw'] }, 0);
    assert.equal(noType.flags, L.MS_BIND | L.MS_REC);
    assert.equal(isBindMount({ options: ['rbind'] }), true);
    assert.equal(isBindMount({ type: 'tmpfs' }), false);
  });

  it('marks file binds and rejects a missing source', () => {
    const s = stat({ '/etc/resolv.conf': 'file', '/data': 'dir' });
    assert.equal(convertMount({ destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['ro'] }, 0, s).isFile, true);
    assert.equal(convertMount({ destination: '/data', type: 'bind', source: '/data' }, 0, s).isFile, false);
    throwsConfig(() => convertMount({ destination: '/x', type: 'bind', source: '/nope' }, 4, s), 'mounts[4].source', /does not exist/);
    throwsConfig(() => convertMount({ destination: '/x', options: ['bind'] }, 1), 'mounts[1].source', /needs a source/);
  });

  it('leaves a relative bind source as given; resolveBindSource joins it to the bundle', () => {
    assert.equal(convertMount({ destination: '/x', type: 'bind', source: 'data' }, 0).source, 'data');
    assert.equal(resolveBindSource('data', '/bundle'), '/bundle/data');
    assert.equal(resolveBindSource('/abs', '/bundle'), '/abs');
  });

  it('applies set and clear options in order', () => {
    const p = convertMount({ destination: '/t', type: 'tmpfs', options: ['ro', 'nosuid', 'rw', 'suid', 'noatime', 'atime', 'nodev', 'sync', 'dirsync', 'mand', 'nodiratime', 'remount'] }, 0);
    assert.equal(p.flags, L.MS_NODEV | L.MS_SYNCHRONOUS | L.MS_DIRSYNC | L.MS_MANDLOCK | L.MS_NODIRATIME | L.MS_REMOUNT);
    assert.equal(p.source, 'tmpfs');
    const q = convertMount({ destination: '/t', type: 'tmpfs', options: ['noexec', 'exec', 'async', 'nomand', 'diratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'dev', 'defaults'] }, 0);
    assert.equal(q.flags, 0);
  });

  it('maps every propagation option', () => {
    const opts = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'];
    const p = convertMount({ destination: '/t', type: 'tmpfs', options: opts }, 0);
    assert.deepEqual(p.propagation, [
      L.MS_PRIVATE, L.MS_PRIVATE | L.MS_REC, L.MS_SHARED, L.MS_SHARED | L.MS_REC,
      L.MS_SLAVE, L.MS_SLAVE | L.MS_REC, L.MS_UNBINDABLE, L.MS_UNBINDABLE | L.MS_REC,
    ]);
    assert.equal(p.flags, 0);
  });

  it('cleans the destination as runc 1.1 does: relative to the container\'s root, ".." lexically from "/"', () => {
    const dest = (destination: string) => convertMount({ destination, type: 'tmpfs' }, 0).destination;
    assert.equal(dest('/a//b/./c/'), '/a/b/c');
    // What runc 1.1.5 mounted on this machine for each: never above the container's root.
    assert.equal(dest('proc'), '/proc');
    assert.equal(dest('relmnt'), '/relmnt');
    assert.equal(dest('/../dotdot'), '/dotdot');
    assert.equal(dest('../../esc1'), '/esc1');
    assert.equal(dest('/a/../../deep/x'), '/deep/x');
    assert.equal(dest('/a/../../etc'), '/etc');
    for (const up of ['..', '.', '/..', 'a/..', '../../../..']) assert.equal(dest(up), '/', up);
    throwsConfig(() => convertMount({ destination: '', type: 'tmpfs' }, 0), 'mounts[0].destination');
    throwsConfig(() => convertMount({ destination: '/a\0b', type: 'tmpfs' }, 0), 'mounts[0].destination', /NUL/);
  });

  it('a relative destination is said, as runc warns; "dev" is the /dev mount', () => {
    const warnings = relativeDestinationWarnings([{ destination: '/proc' }, { destination: 'data/x' }, { destination: '/../y' }]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^mounts\[1\]\.destination "data\/x" is not absolute: taken as "\/data\/x"/);
    assert.equal(defaultDevicesWanted([{ destination: 'dev', type: 'bind', source: '/dev', options: ['rbind'] }]), false);
    assert.equal(defaultDevicesWanted([{ destination: '/../dev/', type: 'bind', source: '/dev', options: ['rbind'] }]), false);
  });

  it('rejects bad types', () => {
    throwsConfig(() => convertMount({ destination: '/p', type: 'pr oc' }, 2), 'mounts[2].type');
    throwsConfig(() => convertMount({ destination: '/p', type: '' }, 2), 'mounts[2].type');
    throwsConfig(() => convertMount({ destination: '/p' }, 2), 'mounts[2].type');
    assert.equal(convertMount({ destination: '/p', type: 'fuse.sshfs', source: 'x' }, 0).type, 'fuse.sshfs');
  });

  it('maps the recursive attributes (rro, rnosuid, ratime, ...) to mount_setattr bits, as runc', () => {
    const m = convertMount({ destination: '/t', type: 'bind', source: '/s', options: ['rbind', 'rro', 'rnosuid', 'rnoatime', 'rexec'] }, 0);
    assert.equal(m.recAttrSet, 0x1 | 0x2 | 0x10);
    assert.equal(m.recAttrClr, 0x8 | 0x70, 'noexec cleared; an access-time setting clears MOUNT_ATTR__ATIME');
    assert.equal(m.remountFlags, 0, 'nothing for the top mount alone');
    const rw = convertMount({ destination: '/t', type: 'bind', source: '/s', options: ['rbind', 'rrw'] }, 0);
    assert.deepEqual([rw.recAttrSet, rw.recAttrClr], [0, 0x1]);
  });
  it('rejects unsupported options, naming the option', () => {
    throwsConfig(() => convertMount({ destination: '/t', type: 'bind', source: '/s', options: ['rbind', 'tmpcopyup'] }, 3), 'mounts[3].options', /"tmpcopyup" is for tmpfs mounts/);
    assert.equal(convertMount({ destination: '/t', type: 'tmpfs', options: ['nosuid', 'tmpcopyup'] }, 3).copyUp, true);
    throwsConfig(() => convertMount({ destination: '/t', type: 'bind', source: '/s', options: ['idmap'] }, 0), 'mounts[0].options[0]', /idmap/);
    throwsConfig(() => convertMount({ destination: '/t', type: 'bind', source: '/s', options: ['ridmap'] }, 0), 'mounts[0].options[0]');
  });

  it('passes unknown options as data', () => {
    const p = convertMount({ destination: '/o', type: 'overlay', source: 'overlay', options: ['lowerdir=/a:/b', 'upperdir=/u', 'workdir=/w', 'userxattr', 'nodev'] }, 0);
    assert.equal(p.data, 'lowerdir=/a:/b,upperdir=/u,workdir=/w,userxattr');
    assert.equal(p.flags, L.MS_NODEV);
  });
});

describe('rootPropagationFlags', () => {
  it('defaults to rslave and maps the runc values', () => {
    assert.equal(rootPropagationFlags(), L.MS_SLAVE | L.MS_REC);
    assert.equal(rootPropagationFlags(''), L.MS_SLAVE | L.MS_REC);
    assert.equal(rootPropagationFlags('rprivate'), L.MS_PRIVATE | L.MS_REC);
    assert.equal(rootPropagationFlags('shared'), L.MS_SHARED);
    assert.equal(rootPropagationFlags('rslave'), L.MS_SLAVE | L.MS_REC);
  });
  it('refuses unbindable and runbindable: the rootfs bind for pivot_root would fail (runc: EINVAL)', () => {
    throwsConfig(() => rootPropagationFlags('runbindable'), 'linux.rootfsPropagation', /unbindable mount refuses/);
    throwsConfig(() => rootPropagationFlags('unbindable'), 'linux.rootfsPropagation', /unbindable mount refuses/);
  });
  it('rejects other values', () => {
    throwsConfig(() => rootPropagationFlags('private-ish'), 'linux.rootfsPropagation');
  });
});

describe('planNamespaces', () => {
  it('puts every new namespace in the clone flags by default', () => {
    const plan = planNamespaces(ociDefaultNamespaces, 'init');
    assert.deepEqual(plan, {
      cloneFlags: L.CLONE_NEWPID | L.CLONE_NEWNET | L.CLONE_NEWIPC | L.CLONE_NEWUTS | L.CLONE_NEWNS | L.CLONE_NEWCGROUP,
      join: [], unshare: 0, joinFlags: 0, forkChild: false, hasPidNs: true, hasUtsNs: true, hasNetNs: true,
    });
  });

  it('joins a net namespace by path and unshares the rest', () => {
    const namespaces = ociDefaultNamespaces.map((ns) => (ns.type === 'network' ? { ...ns, path: '/var/run/netns/x' } : ns));
    const plan = planNamespaces(namespaces, 'init');
    assert.equal(plan.cloneFlags, 0);
    assert.deepEqual(plan.join, [{ type: 'net', path: '/var/run/netns/x' }]);
    assert.equal(plan.unshare, L.CLONE_NEWPID | L.CLONE_NEWIPC | L.CLONE_NEWUTS | L.CLONE_NEWNS | L.CLONE_NEWCGROUP);
    assert.equal(plan.forkChild, true);
    assert.equal(plan.hasNetNs, false, 'a joined net ns is not ours to set up');
    assert.equal(plan.hasPidNs, true);
  });

  it('joins a pid namespace by path and forks', () => {
    const plan = planNamespaces([{ type: 'mount' }, { type: 'pid', path: '/proc/42/ns/pid' }, { type: 'ipc', path: '/proc/42/ns/ipc' }], 'init');
    assert.equal(plan.cloneFlags, 0);
    assert.deepEqual(plan.join, [{ type: 'ipc', path: '/proc/42/ns/ipc' }, { type: 'pid', path: '/proc/42/ns/pid' }]);
    assert.equal(plan.unshare, L.CLONE_NEWNS);
    assert.equal(plan.forkChild, true);
    assert.equal(plan.hasPidNs, true);
    assert.equal(plan.hasNetNs, false);
  });

  it('orders joins as nsexec does and forks for an unshared time ns', () => {
    const plan = planNamespaces([
      { type: 'time' }, { type: 'cgroup', path: '/c' }, { type: 'mount', path: '/m' }, { type: 'uts', path: '/u' }, { type: 'network', path: '/n' },
    ], 'init');
    assert.deepEqual(plan.join.map((j) => j.type), ['uts', 'net', 'mnt', 'cgroup']);
    assert.equal(plan.unshare, L.CLONE_NEWTIME);
    assert.equal(plan.forkChild, true);
  });

  it('unshares everything when a time namespace is asked for', () => {
    const plan = planNamespaces([{ type: 'pid' }, { type: 'time' }, { type: 'mount' }], 'init');
    assert.equal(plan.cloneFlags, 0);
    assert.deepEqual(plan.join, []);
    assert.equal(plan.unshare, L.CLONE_NEWPID | L.CLONE_NEWTIME | L.CLONE_NEWNS);
    assert.equal(plan.forkChild, true);
  });

  it('handles no namespaces at all', () => {
    const plan = planNamespaces(undefined, 'init');
    assert.equal(plan.cloneFlags, 0);
    assert.equal(plan.forkChild, false);
  });

  it('rejects user namespaces, duplicates, unknown types and relative paths', () => {
    throwsConfig(() => planNamespaces([{ type: 'pid' }, { type: 'user' }], 'init'), 'linux.namespaces[1]', /not supported yet/);
    throwsConfig(() => planNamespaces([{ type: 'pid' }, { type: 'pid', path: '/x' }], 'init'), 'linux.namespaces[1]', /duplicate/);
    throwsConfig(() => planNamespaces([{ type: 'net' }], 'init'), 'linux.namespaces[0].type', /unknown/);
    throwsConfig(() => planNamespaces([{ type: 'ipc', path: 'ns/ipc' }], 'init'), 'linux.namespaces[0].path');
  });

  it('gives the exec plan through setns(pidfd)', () => {
    const plan = planNamespaces(ociDefaultNamespaces, 'exec');
    assert.equal(plan.cloneFlags, 0);
    assert.equal(plan.unshare, 0);
    assert.deepEqual(plan.join, []);
    assert.equal(plan.joinFlags, L.CLONE_NEWPID | L.CLONE_NEWNET | L.CLONE_NEWIPC | L.CLONE_NEWUTS | L.CLONE_NEWNS | L.CLONE_NEWCGROUP);
    assert.equal(plan.forkChild, true);
    assert.equal(plan.hasNetNs, false);
  });
});

describe('execJoinFlags and namespaceFlag', () => {
  it('lists the config namespaces, without user', () => {
    assert.deepEqual(execJoinFlags([{ type: 'network', path: '/n' }, { type: 'mount' }, { type: 'user' }]), { flags: L.CLONE_NEWNET | L.CLONE_NEWNS, forkChild: false });
    assert.deepEqual(execJoinFlags([{ type: 'pid' }]), { flags: L.CLONE_NEWPID, forkChild: true });
    assert.deepEqual(execJoinFlags(undefined), { flags: 0, forkChild: false });
  });
  it('maps OCI type names', () => {
    assert.equal(namespaceFlag('network'), L.CLONE_NEWNET);
    assert.equal(namespaceFlag('mount'), L.CLONE_NEWNS);
    assert.equal(namespaceFlag('time'), L.CLONE_NEWTIME);
    assert.throws(() => namespaceFlag('bogus'), ConfigError);
  });
});

describe('convertCapabilities', () => {
  it('maps names to sorted, unique numbers', () => {
    const caps = convertCapabilities({
      bounding: ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN', 'CAP_KILL', 'CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE'],
      effective: ['CAP_KILL'],
      permitted: ['CAP_KILL', 'CAP_CHOWN'],
    }, 'process.capabilities');
    assert.deepEqual(caps, { bounding: [0, 5, 10, 40], effective: [5], permitted: [0, 5], inheritable: [], ambient: [] });
  });
  it('refuses an effective capability that is not permitted (capset would), naming it', () => {
    throwsConfig(() => convertCapabilities({ effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN'] }, 'process.capabilities'), 'process.capabilities.effective[1]', /CAP_KILL is not in process\.capabilities\.permitted/);
  });
  it('returns null when absent', () => {
    assert.deepEqual(convertCapabilities(undefined, 'process.capabilities'), { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] });
  });
  it('names the unknown entry', () => {
    throwsConfig(() => convertCapabilities({ bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_AUDIT_WRITE', 'CAP_FLY'] }, 'process.capabilities'),
      'process.capabilities.bounding[3]', /CAP_FLY/);
    throwsConfig(() => convertCapabilities({ ambient: ['cap_chown'] }, 'process.capabilities'), 'process.capabilities.ambient[0]');
    throwsConfig(() => convertCapabilities({ permitted: ['toString'] }, 'p.caps'), 'p.caps.permitted[0]');
  });
});

describe('convertRlimits', () => {
  it('converts limits to bigint with RLIM_INFINITY', () => {
    assert.deepEqual(convertRlimits([
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
      { type: 'RLIMIT_CORE', soft: -1, hard: 18446744073709551615 },
      { type: 'RLIMIT_AS', soft: 2n ** 63n, hard: 2n ** 64n - 1n },
    ], 'process.rlimits'), [
      { resource: 7, soft: 1024n, hard: 4096n },
      { resource: 4, soft: L.RLIM_INFINITY, hard: L.RLIM_INFINITY },
      { resource: 9, soft: 2n ** 63n, hard: L.RLIM_INFINITY },
    ]);
    assert.deepEqual(convertRlimits(undefined, 'process.rlimits'), []);
  });
  it('rejects soft > hard, duplicates, unknown types and bad values', () => {
    throwsConfig(() => convertRlimits([{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }], 'process.rlimits'), 'process.rlimits[0]', /greater/);
    throwsConfig(() => convertRlimits([{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_NOFILE', soft: 2, hard: 2 }], 'process.rlimits'), 'process.rlimits[1].type', /duplicate/);
    throwsConfig(() => convertRlimits([{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }], 'process.rlimits'), 'process.rlimits[0].type');
    throwsConfig(() => convertRlimits([{ type: 'RLIMIT_NPROC', soft: 1.5, hard: 2 }], 'process.rlimits'), 'process.rlimits[0].soft');
    throwsConfig(() => convertRlimits([{ type: 'RLIMIT_NPROC', soft: 1, hard: -2 }], 'process.rlimits'), 'process.rlimits[0].hard');
  });
});

describe('convertDevices', () => {
  it('validates and fills defaults', () => {
    assert.deepEqual(convertDevices([
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
      { path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
      { path: '/dev/ttyX', type: 'u', major: 4, minor: 1 },
      { path: '/dev/pipe', type: 'p' },
    ], 'linux.devices'), [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
      { path: '/dev/ttyX', type: 'c', major: 4, minor: 1, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/pipe', type: 'p', major: 0, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
    ]);
  });
  it('keeps the permission, setuid, setgid and sticky bits of fileMode and drops the file type bits engines add (podman: 0o020600), as runc', () => {
    const [d] = convertDevices([{ path: '/dev/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o020600 }], 'linux.devices');
    assert.equal(d!.fileMode, 0o600);
    const [e] = convertDevices([{ path: '/dev/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o4755 }], 'linux.devices');
    assert.equal(e!.fileMode, 0o4755);
  });
  it('rejects bad entries', () => {
    throwsConfig(() => convertDevices([{ path: 'dev/fuse', type: 'c', major: 10, minor: 229 }], 'linux.devices'), 'linux.devices[0].path');
    throwsConfig(() => convertDevices([{ path: '/dev/../etc/x', type: 'c', major: 1, minor: 3 }], 'linux.devices'), 'linux.devices[0].path');
    throwsConfig(() => convertDevices([{ path: '/dev/x', type: 'x', major: 1, minor: 3 }], 'linux.devices'), 'linux.devices[0].type');
    throwsConfig(() => convertDevices([{ path: '/dev/x', type: 'c', minor: 3 }], 'linux.devices'), 'linux.devices[0].major');
    throwsConfig(() => convertDevices([{ path: '/dev/x', type: 'b', major: 1 }], 'linux.devices'), 'linux.devices[0].minor');
    throwsConfig(() => convertDevices([{ path: '/dev/x', type: 'c', major: 1, minor: 3, fileMode: -1 }], 'linux.devices'), 'linux.devices[0].fileMode');
  });
});

describe('defaultDevicesWanted', () => {
  it('is true when /dev is a fresh filesystem', () => {
    assert.equal(defaultDevicesWanted(ociDefaultMounts), true);
    assert.equal(defaultDevicesWanted([{ destination: '/dev/', type: 'tmpfs' }]), true);
  });
  it('is true without a /dev mount too (the rootfs\'s own /dev, as runc), false with a bind-mounted /dev', () => {
    assert.equal(defaultDevicesWanted([]), true);
    assert.equal(defaultDevicesWanted(undefined), true);
    assert.equal(defaultDevicesWanted([{ destination: '/dev/shm', type: 'tmpfs' }]), true);
    assert.equal(defaultDevicesWanted([{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }]), false);
    assert.equal(defaultDevicesWanted([{ destination: '/dev', source: '/dev', options: ['rbind'] }]), false);
  });
});

describe('buildInitPlan', () => {
  it('hooks the helper runs keep an env only where the config gives one (else the helper gives the process\'s, as runc)', () => {
    const spec = {
      ociVersion: '1.3.0',
      root: { path: '/r' },
      process: { args: ['sh'], cwd: '/' },
      hooks: { createContainer: [{ path: '/bin/a' }, { path: '/bin/b', env: [] }], startContainer: [{ path: '/bin/c', env: ['X=1'], timeout: 3 }] },
    };
    const hooks = (buildInitPlan(spec as Spec, '/r', '/', {}, null).bootstrap as Record<string, any>).hooks;
    assert.deepEqual(hooks.createContainer, [{ path: '/bin/a', args: ['/bin/a'] }, { path: '/bin/b', args: ['/bin/b'], env: [] }]);
    assert.deepEqual(hooks.startContainer, [{ path: '/bin/c', args: ['/bin/c'], env: ['X=1'], timeout: 3 }]);
  });

  it('composes the pieces and resolves relative bind sources against the bundle', () => {
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-unit-bundle-'));
    try {
      fs.mkdirSync(path.join(bundle, 'ws'));
      const spec = {
        ociVersion: '1.3.0',
        root: { path: 'rootfs' },
        hostname: 'h',
        mounts: [...ociDefaultMounts, { destination: '/work', type: 'bind', source: 'ws', options: ['rbind'] }],
        process: { args: ['sh'], cwd: '/', capabilities: { bounding: ['CAP_KILL'] }, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }] },
        linux: { namespaces: ociDefaultNamespaces, rootfsPropagation: 'rprivate', devices: [{ path: '/dev/fuse', type: 'c' as const, major: 10, minor: 229 }], maskedPaths: ['/proc//kcore'] },
      };
      const plan = buildInitPlan(spec as Spec, '/r', bundle, {}, '/fifo');
      const b = plan.bootstrap as Record<string, any>;
      assert.equal(b.mounts.length, 8);
      assert.equal(b.mounts[0].source, 'proc');
      assert.equal(b.mounts[7].source, path.join(bundle, 'ws'));
      assert.equal(b.rootPropagation, L.MS_PRIVATE | L.MS_REC);
      assert.equal(b.defaultDevices, true);
      assert.equal(b.devices.length, 1);
      assert.deepEqual(b.maskedPaths, ['/proc/kcore']);
      assert.deepEqual(b.process.capabilities.bounding, [5]);
      assert.equal(plan.rlimits[0].resource, 7);
      assert.equal(b.loopback, true);
      assert.equal(b.execFifo, '/fifo');
      assert.equal(plan.cloneFlags & L.CLONE_NEWPID, L.CLONE_NEWPID);
      assert.throws(() => buildInitPlan({ ...spec, process: { ...spec.process, args: [] } } as Spec, '/r', bundle, {}, null), (e: unknown) => e instanceof ConfigError && e.field === 'process.args');
      assert.throws(() => buildInitPlan(spec as Spec, '/r', bundle, { cwd: 'rel' }, null), (e: unknown) => e instanceof ConfigError && e.field === 'process.cwd');
      assert.throws(() => buildInitPlan(spec as Spec, '/r', bundle, { env: ['NOEQUALS'] }, null), (e: unknown) => e instanceof ConfigError && e.field === 'process.env[0]');
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });
});

describe('resolveProcess', () => {
  const spec = { ociVersion: '1.0.2', process: { args: ['sh'], cwd: '/', env: ['A=1'], user: { uid: 1000, gid: 1000, umask: 0o27, additionalGids: [10, 20] } } } as Spec;
  it('takes every field not given from the config process', () => {
    const p = resolveProcess(spec, { args: ['ls'] });
    assert.deepEqual([p.args, p.env, p.cwd, p.uid, p.gid, p.additionalGids, p.umask], [['ls'], ['A=1'], '/', 1000, 1000, [10, 20], 0o27]);
  });
  it('takes a user whole but for its umask: no additionalGids means no supplementary groups', () => {
    const p = resolveProcess(spec, { user: { uid: 5, gid: 6 } });
    assert.deepEqual([p.uid, p.gid, p.additionalGids, p.umask], [5, 6, [], 0o27]);
  });
});
