import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/errors';
import { hierarchyMounts, ownCgroups } from '../../../lib/cgroups/detect';
import { cgroupPlacement, dirsBetween, resolvePaths } from '../../../lib/cgroups/paths';
import { CgroupError } from '../../../lib/cgroups/errors';
import { HYBRID_CGROUP, HYBRID_MOUNTINFO, V1_CGROUP, V1_MOUNTINFO, V2_CGROUP, V2_MOUNTINFO } from './samples';

describe('cgroupPlacement', () => {
  test('absent: node-libcontainer/<id>, relative', () => {
    assert.deepEqual(cgroupPlacement('abc'), { inner: 'node-libcontainer/abc', absolute: false, isDefault: true });
    assert.deepEqual(cgroupPlacement('abc', ''), { inner: 'node-libcontainer/abc', absolute: false, isDefault: true });
  });
  test('relative and absolute are normalized', () => {
    assert.deepEqual(cgroupPlacement('x', 'a//b/./c/'), { inner: 'a/b/c', absolute: false, isDefault: false });
    assert.deepEqual(cgroupPlacement('x', '/a/b'), { inner: '/a/b', absolute: true, isDefault: false });
  });
  for (const bad of ['../x', 'a/../../b', '/a/..', '..']) {
    test(`rejects ${bad}`, () => {
      assert.throws(() => cgroupPlacement('x', bad), (e: unknown) => e instanceof ConfigError && e.field === 'linux.cgroupsPath');
    });
  }
  test('rejects the systemd slice:prefix:name form with a clear message', () => {
    assert.throws(
      () => cgroupPlacement('x', 'system.slice:docker:abc'),
      (e: unknown) => e instanceof ConfigError && e.field === 'linux.cgroupsPath' && /systemd/.test(e.message),
    );
  });
  test('rejects a hierarchy root', () => assert.throws(() => cgroupPlacement('x', '/'), ConfigError));
});

describe('resolvePaths', () => {
  test('hybrid, default path: under our own cgroup in each hierarchy', () => {
    const r = resolvePaths({
      mode: 'hybrid',
      placement: cgroupPlacement('c1'),
      mounts: hierarchyMounts(HYBRID_MOUNTINFO),
      own: ownCgroups(HYBRID_CGROUP),
      root: '/sys/fs/cgroup',
    });
    assert.equal(r.paths.memory, '/sys/fs/cgroup/memory/process_api/f8e2/node-libcontainer/c1');
    assert.equal(r.paths.pids, '/sys/fs/cgroup/pids/node-libcontainer/c1');
    assert.equal(r.paths[''], '/sys/fs/cgroup/unified/node-libcontainer/c1');
    assert.equal(r.paths['name=systemd'], '/sys/fs/cgroup/systemd/node-libcontainer/c1');
    assert.equal(r.bases.memory, '/sys/fs/cgroup/memory/process_api/f8e2');
  });
  test('v1, relative path, test root: combined hierarchy shared', () => {
    const r = resolvePaths({
      mode: 'v1',
      placement: cgroupPlacement('c1', 'jobs/c1'),
      mounts: hierarchyMounts(V1_MOUNTINFO),
      own: ownCgroups(V1_CGROUP),
      root: '/tmp/t',
    });
    assert.equal(r.paths.cpu, '/tmp/t/cpu,cpuacct/user.slice/jobs/c1');
    assert.equal(r.paths.cpuacct, r.paths.cpu);
    assert.equal(r.paths.memory, '/tmp/t/memory/user.slice/user-1000.slice/session-2.scope/jobs/c1');
    assert.equal(r.paths[''], undefined, 'no v2 path on a v1 host');
    assert.equal(r.mountpoints.cpuset, '/tmp/t/cpuset');
  });
  test('absolute path: under each hierarchy root', () => {
    const r = resolvePaths({
      mode: 'v2',
      placement: cgroupPlacement('c1', '/mine/c1'),
      mounts: hierarchyMounts(V2_MOUNTINFO),
      own: ownCgroups(V2_CGROUP),
      root: '/sys/fs/cgroup',
    });
    assert.deepEqual(r.paths, { '': '/sys/fs/cgroup/mine/c1' });
    assert.equal(r.bases[''], '/sys/fs/cgroup');
  });
  test('v2 relative: under our own cgroup', () => {
    const r = resolvePaths({
      mode: 'v2',
      placement: cgroupPlacement('c1'),
      mounts: hierarchyMounts(V2_MOUNTINFO),
      own: ownCgroups(V2_CGROUP),
      root: '/sys/fs/cgroup',
    });
    assert.equal(r.paths[''], '/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/node-libcontainer/c1');
  });
  test('a mount root (cgroup namespace) is stripped from our own path', () => {
    const r = resolvePaths({
      mode: 'v2',
      placement: cgroupPlacement('c1'),
      mounts: hierarchyMounts('26 25 0:24 /ns /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n'),
      own: { '': '/ns/inner' },
      root: '/sys/fs/cgroup',
    });
    assert.equal(r.paths[''], '/sys/fs/cgroup/inner/node-libcontainer/c1');
    assert.throws(
      () =>
        resolvePaths({
          mode: 'v2',
          placement: cgroupPlacement('c1'),
          mounts: hierarchyMounts('26 25 0:24 /ns /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n'),
          own: { '': '/elsewhere' },
          root: '/sys/fs/cgroup',
        }),
      CgroupError,
    );
  });
});

test('dirsBetween', () => {
  assert.deepEqual(dirsBetween('/a', '/a/b/c'), ['/a/b', '/a/b/c']);
  assert.deepEqual(dirsBetween('/a', '/a'), []);
  assert.deepEqual(dirsBetween('/a', '/b'), []);
});
