import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupMounts, detectMode, mountpoints, ownCgroups } from '../../../lib/cgroups/detect';
import { HYBRID_CGROUP, HYBRID_MOUNTINFO, V1_CGROUP, V1_MOUNTINFO, V2_CGROUP, V2_MOUNTINFO } from './samples';

describe('detectMode', () => {
  test('hybrid (this machine)', () => assert.equal(detectMode(HYBRID_MOUNTINFO), 'hybrid'));
  test('v1 with a named systemd hierarchy', () => assert.equal(detectMode(V1_MOUNTINFO), 'v1'));
  test('v2', () => assert.equal(detectMode(V2_MOUNTINFO), 'v2'));
  test('a cgroup2 mount elsewhere does not make a host hybrid', () => {
    assert.equal(detectMode(`${V1_MOUNTINFO}99 30 0:40 / /mnt/cg2 rw - cgroup2 cgroup2 rw\n`), 'v1');
  });
  test('the real /proc/self/mountinfo parses', () => {
    assert.ok(['v1', 'v2', 'hybrid'].includes(detectMode()));
  });
});

describe('mountpoints', () => {
  test('combined hierarchies map every controller to the same mountpoint', () => {
    const m = mountpoints(V1_MOUNTINFO);
    assert.equal(m.cpu, '/sys/fs/cgroup/cpu,cpuacct');
    assert.equal(m.cpuacct, '/sys/fs/cgroup/cpu,cpuacct');
    assert.equal(m.net_cls, '/sys/fs/cgroup/net_cls,net_prio');
    assert.equal(m['name=systemd'], '/sys/fs/cgroup/systemd');
    assert.equal(m.cpuset, '/sys/fs/cgroup/cpuset'); // clone_children is an option, not a controller
    assert.equal(m[''], undefined);
    assert.equal(Object.keys(m).includes('xattr'), false);
  });
  test('hybrid: v1 controllers plus the unified mount', () => {
    const m = mountpoints(HYBRID_MOUNTINFO);
    assert.equal(m.memory, '/sys/fs/cgroup/memory');
    assert.equal(m[''], '/sys/fs/cgroup/unified');
  });
  test('v2', () => assert.deepEqual(mountpoints(V2_MOUNTINFO), { '': '/sys/fs/cgroup' }));
  test('escaped mountpoints and mount roots are decoded', () => {
    const [m] = cgroupMounts('50 30 0:40 /a\\040b /mnt/my\\040cg rw - cgroup cgroup rw,pids\n');
    assert.deepEqual(m, { mountpoint: '/mnt/my cg', root: '/a b', fstype: 'cgroup', controllers: ['pids'] });
  });
});

describe('ownCgroups', () => {
  test('v1 lines split comma-joined controllers; name=systemd kept', () => {
    const own = ownCgroups(V1_CGROUP);
    assert.equal(own.cpu, '/user.slice');
    assert.equal(own.cpuacct, '/user.slice');
    assert.equal(own.net_prio, '/');
    assert.equal(own['name=systemd'], '/user.slice/user-1000.slice/session-2.scope');
    assert.equal(own[''], '/user.slice/user-1000.slice/session-2.scope');
  });
  test('v2', () => assert.deepEqual(ownCgroups(V2_CGROUP), { '': '/user.slice/user-1000.slice/session-3.scope' }));
  test('hybrid', () => {
    const own = ownCgroups(HYBRID_CGROUP);
    assert.equal(own.memory, '/process_api/f8e2');
    assert.equal(own[''], '/');
  });
});
