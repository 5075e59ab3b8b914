import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../lib/errors';
import { validateConfig } from '../../lib/spec/validate';
import { sysctlDotForm, sysctlNameProblem } from '../../lib/spec/sysctl';
import type { Spec } from '../../types/oci';

function findProjectRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the test');
    dir = parent;
  }
  return dir;
}

const projectRoot = findProjectRoot(__dirname);
const specDir = path.resolve(projectRoot, '..', 'shared', 'oci-runtime-spec-v1.3.0');
const fixtureDir = path.join(specDir, 'test', 'config');
const noFixtures = fs.existsSync(fixtureDir) ? false : `no runtime-spec fixtures at ${fixtureDir}`;

/** How a config.json file is read: a parse failure counts as a rejection, like a ConfigError. */
function validateFile(file: string): Spec {
  const text = fs.readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('(config.json)', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateConfig(parsed);
}

/** Assert that fn throws a ConfigError on exactly `field`, with a message matching `message`. */
function throwsConfig(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.field, field, `wrong field in: ${err.message}`);
    assert.equal(err.code, 'ERR_CONFIG');
    if (message) assert.match(err.message, message);
    return true;
  });
}

function fixtures(kind: 'good' | 'bad'): string[] {
  return fs.readdirSync(path.join(fixtureDir, kind)).filter((f) => f.endsWith('.json')).sort();
}

const NON_LINUX = ['freebsd', 'zos', 'windows', 'solaris', 'vm'];

// The field each bad fixture must be rejected on (a new fixture must at least be rejected).
const BAD_FIELDS: Record<string, string> = {
  'invalid-json.json': '(config.json)',
  'linux-hugepage.json': 'linux.resources.hugepageLimits[0].pageSize',
  'linux-netdevice.json': 'linux.netDevices.eth0.name',
  'linux-rdma.json': 'linux.resources.rdma.mlx5_1.hcaHandles',
  // Rejected as a FreeBSD config before its jail settings are looked at.
  'freebsd-vnet-disable.json': 'freebsd',
};

describe('runtime-spec fixtures', { skip: noFixtures }, () => {
  it('accepts every good Linux (or platform-neutral) config', () => {
    let count = 0;
    for (const name of fixtures('good')) {
      const raw = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'good', name), 'utf8')) as Record<string, unknown>;
      if (NON_LINUX.some((key) => key in raw)) continue;
      assert.doesNotThrow(() => validateFile(path.join(fixtureDir, 'good', name)), name);
      count++;
    }
    assert.ok(count >= 5, `only ${count} Linux fixtures found`);
  });

  it('rejects good configs for other platforms as unsupported, naming the section', () => {
    let count = 0;
    for (const name of fixtures('good')) {
      const raw = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'good', name), 'utf8')) as Record<string, unknown>;
      const platform = NON_LINUX.find((key) => key in raw);
      if (!platform) continue;
      throwsConfig(() => validateFile(path.join(fixtureDir, 'good', name)), platform, /Linux containers only/);
      count++;
    }
    assert.ok(count >= 1);
  });

  for (const name of fs.existsSync(fixtureDir) ? fixtures('bad') : []) {
    it(`rejects bad/${name}`, () => {
      const file = path.join(fixtureDir, 'bad', name);
      const field = BAD_FIELDS[name];
      if (field) throwsConfig(() => validateFile(file), field);
      else assert.throws(() => validateFile(file), ConfigError);
    });
  }

  it('returns the config it was given, typed', () => {
    const spec = validateFile(path.join(fixtureDir, 'good', 'spec-example.json'));
    assert.equal(spec.linux?.namespaces?.length, 8);
    assert.equal(spec.process?.user?.uid, 1);
  });
});

/** A config with every commonly used part, valid; each case breaks one thing. */
function base(): Record<string, any> {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs', readonly: true },
    process: {
      args: ['sh', '-c', 'true'],
      cwd: '/',
      env: ['PATH=/bin', 'EMPTY='],
      user: { uid: 1000, gid: 1000, additionalGids: [5], umask: 0o22 },
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }],
      noNewPrivileges: true,
      oomScoreAdj: -1000,
    },
    hostname: 'box',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/work', type: 'bind', source: '/tmp/work', options: ['rbind', 'rw'] },
    ],
    hooks: { prestart: [{ path: '/usr/bin/hook', args: ['hook'], env: ['A=1'], timeout: 5 }] },
    annotations: { 'org.example.key': 'value' },
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network', path: '/run/netns/x' }],
      devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666 }, { type: 'p', path: '/dev/fifo' }],
      resources: {
        memory: { limit: 64 * 1024 * 1024, swap: -1 },
        pids: { limit: 100 },
        cpu: { shares: 512, quota: 50000, period: 100000 },
        devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: -1, access: 'rw' }],
      },
      rootfsPropagation: 'rprivate',
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000000' },
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }],
      },
    },
  };
}

function breaking(edit: (c: Record<string, any>) => void): () => Spec {
  const config = base();
  edit(config);
  return () => validateConfig(config);
}

describe('validateConfig', () => {
  it('accepts the base config and returns it', () => {
    const config = base();
    assert.equal(validateConfig(config), config);
  });

  it('rejects a non-object', () => {
    throwsConfig(() => validateConfig('{}'), '(config)', /must be an object/);
    throwsConfig(() => validateConfig(null), '(config)');
  });

  it('requires ociVersion and root.path', () => {
    throwsConfig(breaking((c) => delete c.ociVersion), 'ociVersion', /required/);
    throwsConfig(breaking((c) => (c.ociVersion = 1)), 'ociVersion', /string/);
    throwsConfig(breaking((c) => delete c.root), 'root', /required/);
    throwsConfig(breaking((c) => (c.root = {})), 'root.path', /required/);
  });

  it('checks process', () => {
    throwsConfig(breaking((c) => (c.process.args = [])), 'process.args', /non-empty/);
    throwsConfig(breaking((c) => delete c.process.args), 'process.args', /non-empty/);
    throwsConfig(breaking((c) => (c.process.args = ['sh', 1])), 'process.args[1]', /string/);
    throwsConfig(breaking((c) => (c.process.cwd = 'work')), 'process.cwd', /absolute/);
    throwsConfig(breaking((c) => delete c.process.cwd), 'process.cwd', /required/);
    throwsConfig(breaking((c) => (c.process.env = ['PATH'])), 'process.env[0]', /KEY=value/);
    throwsConfig(breaking((c) => (c.process.env = ['=x'])), 'process.env[0]');
    throwsConfig(breaking((c) => (c.process.user.uid = -1)), 'process.user.uid');
    throwsConfig(breaking((c) => (c.process.user.gid = 1.5)), 'process.user.gid');
    throwsConfig(breaking((c) => (c.process.user.additionalGids = [2 ** 32])), 'process.user.additionalGids[0]');
    throwsConfig(breaking((c) => (c.process.capabilities.ambient = ['NET_ADMIN'])), 'process.capabilities.ambient[0]', /capability/);
    throwsConfig(breaking((c) => (c.process.capabilities.bounding = ['cap_kill'])), 'process.capabilities.bounding[0]');
    throwsConfig(breaking((c) => (c.process.oomScoreAdj = 1001)), 'process.oomScoreAdj', /-1000 to 1000/);
    throwsConfig(breaking((c) => (c.process.oomScoreAdj = -1001)), 'process.oomScoreAdj');
    throwsConfig(breaking((c) => (c.process.noNewPrivileges = 'yes')), 'process.noNewPrivileges', /boolean/);
    throwsConfig(breaking((c) => (c.process.rlimits[0].type = 'RLIMIT_nofile')), 'process.rlimits[0].type');
    throwsConfig(breaking((c) => (c.process.rlimits[0].type = 'RLIMIT_FOO')), 'process.rlimits[0].type', /not a Linux/);
    throwsConfig(breaking((c) => delete c.process.rlimits[0].hard), 'process.rlimits[0].hard', /required/);
    throwsConfig(breaking((c) => (c.process.rlimits[0].soft = 8192)), 'process.rlimits[0].soft', /hard/);
    throwsConfig(breaking((c) => c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 })), 'process.rlimits[1].type', /duplicates/);
    throwsConfig(breaking((c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 })), 'process.ioPriority.priority');
    throwsConfig(breaking((c) => (c.process.ioPriority = { priority: 1 })), 'process.ioPriority.class', /required/);
    throwsConfig(breaking((c) => (c.process.scheduler = { policy: 'SCHED_OTHER', priority: 5 })), 'process.scheduler.priority', /FIFO/);
    throwsConfig(breaking((c) => (c.process.scheduler = { policy: 'SCHED_FIFO', nice: 20 })), 'process.scheduler.nice');
    throwsConfig(breaking((c) => (c.process.scheduler = { policy: 'SCHED_RR', runtime: 10 })), 'process.scheduler.runtime', /DEADLINE/);
    throwsConfig(breaking((c) => (c.process.execCPUAffinity = { initial: '0-3;5' })), 'process.execCPUAffinity.initial');
    throwsConfig(breaking((c) => (c.process.consoleSize = { height: 24 })), 'process.consoleSize.width', /required/);
  });

  it('takes rlimits at the uint64 limit, as JSON numbers or bigints', () => {
    const config = base();
    // JSON.parse rounds RLIM_INFINITY (2^64 - 1) up to 2^64: still the uint64 maximum.
    config.process.rlimits = JSON.parse('[{"type": "RLIMIT_CORE", "soft": 18446744073709551615, "hard": 18446744073709551615}]');
    validateConfig(config);
    config.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 2n ** 63n, hard: 2n ** 64n - 1n }];
    validateConfig(config);
    config.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 1n, hard: 2n ** 64n }];
    throwsConfig(() => validateConfig(config), 'process.rlimits[0].hard');
  });

  it('checks mounts', () => {
    // runc 1.1 takes relative destinations and ".." (cleanMountDestination), not an empty one.
    for (const dest of ['work', '/../work', '../x/..']) assert.doesNotThrow(breaking((c) => (c.mounts[1].destination = dest)), dest);
    throwsConfig(breaking((c) => (c.mounts[1].destination = '')), 'mounts[1].destination', /empty/);
    throwsConfig(breaking((c) => delete c.mounts[0].destination), 'mounts[0].destination', /required/);
    throwsConfig(breaking((c) => (c.mounts[1].options = ['rbind', 7])), 'mounts[1].options[1]');
    throwsConfig(breaking((c) => (c.mounts[0].type = null)), 'mounts[0].type');
    const idmap = [{ containerID: 0, hostID: 100000, size: 65536 }];
    throwsConfig(breaking((c) => (c.mounts[1].uidMappings = idmap)), 'mounts[1].gidMappings', /both/);
    throwsConfig(
      breaking((c) => Object.assign(c.mounts[1], { uidMappings: idmap, gidMappings: idmap, options: ['rw'] })),
      'mounts[1].options',
      /bind/,
    );
    throwsConfig(breaking((c) => (c.mounts = {})), 'mounts', /array/);
  });

  it('checks hooks', () => {
    throwsConfig(breaking((c) => (c.hooks.prestart[0].path = 'bin/hook')), 'hooks.prestart[0].path', /absolute/);
    throwsConfig(breaking((c) => (c.hooks.poststop = [{ path: '/bin/x', timeout: 0 }])), 'hooks.poststop[0].timeout');
    throwsConfig(breaking((c) => (c.hooks.poststart = [{ path: '/bin/x', timeout: 1.5 }])), 'hooks.poststart[0].timeout');
    throwsConfig(breaking((c) => (c.hooks.createRuntime = [{ args: [] }])), 'hooks.createRuntime[0].path', /required/);
    throwsConfig(breaking((c) => (c.hooks.prestart[0].env = ['NOEQUALS'])), 'hooks.prestart[0].env[0]');
  });

  it('checks annotations and sysctl as string maps', () => {
    throwsConfig(breaking((c) => (c.annotations['org.example.n'] = 1)), 'annotations["org.example.n"]', /string/);
    throwsConfig(breaking((c) => (c.linux.sysctl['net.core.somaxconn'] = 256)), 'linux.sysctl["net.core.somaxconn"]');
  });

  it('checks namespaces', () => {
    throwsConfig(breaking((c) => (c.linux.namespaces[2].type = 'net')), 'linux.namespaces[2].type', /one of/);
    throwsConfig(breaking((c) => c.linux.namespaces.push({ type: 'pid' })), 'linux.namespaces[5].type', /duplicates/);
    throwsConfig(breaking((c) => (c.linux.namespaces[4].path = 'netns/x')), 'linux.namespaces[4].path', /absolute/);
    throwsConfig(breaking((c) => (c.linux.namespaces[0] = {})), 'linux.namespaces[0].type', /required/);
  });

  it('requires the namespaces that settings depend on', () => {
    const without = (type: string) => (c: Record<string, any>) => {
      c.linux.namespaces = c.linux.namespaces.filter((ns: { type: string }) => ns.type !== type);
    };
    throwsConfig(breaking(without('uts')), 'hostname', /uts namespace/);
    throwsConfig(breaking(without('mount')), 'linux.maskedPaths', /mount namespace/);
    throwsConfig(breaking(without('network')), 'linux.sysctl["net.ipv4.ip_forward"]', /network namespace/);
    throwsConfig(breaking(without('ipc')), 'linux.sysctl["kernel.shmmax"]', /ipc namespace/);
    throwsConfig(breaking((c) => (c.linux.sysctl = { 'kernel.panic': '1' })), 'linux.sysctl["kernel.panic"]', /host/);
    throwsConfig(breaking((c) => (c.linux.sysctl = { 'kernel.hostname': 'x' })), 'linux.sysctl["kernel.hostname"]', /hostname field/);
    validateConfig({ ...base(), linux: { ...base().linux, sysctl: { 'net/ipv4/conf/eth0.100/rp_filter': '1' } } });
    const mapping = [{ containerID: 0, hostID: 100000, size: 65536 }];
    throwsConfig(breaking((c) => (c.linux.uidMappings = mapping)), 'linux.uidMappings', /user namespace/);
    throwsConfig(breaking((c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } })), 'linux.timeOffsets', /time namespace/);
    validateConfig({
      ...base(),
      linux: {
        ...base().linux,
        namespaces: [...base().linux.namespaces, { type: 'user' }, { type: 'time' }],
        uidMappings: mapping,
        gidMappings: mapping,
        timeOffsets: { monotonic: { secs: -5, nanosecs: 0 }, boottime: { secs: 2n ** 40n } },
      },
    });
  });

  it('checks devices', () => {
    throwsConfig(breaking((c) => (c.linux.devices[0].type = 'x')), 'linux.devices[0].type', /one of/);
    throwsConfig(breaking((c) => (c.linux.devices[0].path = 'dev/fuse')), 'linux.devices[0].path', /absolute/);
    throwsConfig(breaking((c) => delete c.linux.devices[0].minor), 'linux.devices[0].minor', /required/);
    throwsConfig(breaking((c) => (c.linux.devices[1] = { type: 'u', path: '/dev/u', minor: 1 })), 'linux.devices[1].major', /required/);
    throwsConfig(breaking((c) => (c.linux.devices[0].fileMode = 2 ** 32)), 'linux.devices[0].fileMode');
    throwsConfig(breaking((c) => (c.linux.resources.devices[1].type = 'p')), 'linux.resources.devices[1].type');
    throwsConfig(breaking((c) => (c.linux.resources.devices[1].access = 'rx')), 'linux.resources.devices[1].access');
    throwsConfig(breaking((c) => delete c.linux.resources.devices[0].allow), 'linux.resources.devices[0].allow', /required/);
  });

  it('checks resources', () => {
    throwsConfig(breaking((c) => (c.linux.resources.memory.limit = '64M')), 'linux.resources.memory.limit', /integer/);
    throwsConfig(breaking((c) => (c.linux.resources.memory.limit = 2n ** 63n)), 'linux.resources.memory.limit');
    throwsConfig(breaking((c) => (c.linux.resources.cpu.shares = -2)), 'linux.resources.cpu.shares');
    throwsConfig(breaking((c) => (c.linux.resources.cpu.burst = 60000)), 'linux.resources.cpu.burst', /quota/);
    throwsConfig(breaking((c) => (c.linux.resources.pids = {})), 'linux.resources.pids.limit', /required/);
    throwsConfig(breaking((c) => (c.linux.resources.hugepageLimits = [{ pageSize: '2mb', limit: 1 }])), 'linux.resources.hugepageLimits[0].pageSize');
    throwsConfig(breaking((c) => (c.linux.resources.hugepageLimits = [{ pageSize: '2MB' }])), 'linux.resources.hugepageLimits[0].limit', /required/);
    throwsConfig(
      breaking((c) => (c.linux.resources.blockIO = { weightDevice: [{ major: 8, minor: 0 }] })),
      'linux.resources.blockIO.weightDevice[0].weight',
    );
    throwsConfig(
      breaking((c) => (c.linux.resources.blockIO = { throttleReadBpsDevice: [{ major: 8, rate: 1 }] })),
      'linux.resources.blockIO.throttleReadBpsDevice[0].minor',
    );
    throwsConfig(breaking((c) => (c.linux.resources.blockIO = { weight: 70000 })), 'linux.resources.blockIO.weight');
    throwsConfig(breaking((c) => (c.linux.resources.rdma = { mlx4_0: {} })), 'linux.resources.rdma.mlx4_0.hcaHandles');
    throwsConfig(breaking((c) => (c.linux.resources.rdma = { 'mlx4_0 hca_object=1': { hcaHandles: 1 } })), 'linux.resources.rdma["mlx4_0 hca_object=1"]', /no spaces/);
    throwsConfig(breaking((c) => (c.linux.resources.unified = { 'memory.max': 5 })), 'linux.resources.unified["memory.max"]');
    throwsConfig(breaking((c) => (c.linux.resources.network = { priorities: [{ name: 'eth0' }] })), 'linux.resources.network.priorities[0].priority');
  });

  it('refuses resource values outside what the kernel takes, naming the field', () => {
    const r = 'linux.resources';
    for (const key of ['limit', 'reservation', 'swap', 'kernel']) {
      throwsConfig(breaking((c) => (c.linux.resources.memory[key] = -2)), `${r}.memory.${key}`, /-1 \(unlimited\) or an integer from 0/);
    }
    throwsConfig(breaking((c) => (c.linux.resources.memory.swappiness = 200)), `${r}.memory.swappiness`, /from 0 to 100, got 200/);
    throwsConfig(breaking((c) => (c.linux.resources.memory.swappiness = -1)), `${r}.memory.swappiness`);
    throwsConfig(breaking((c) => (c.linux.resources.blockIO = { weight: 5 })), `${r}.blockIO.weight`, /0 \(not set\) or an integer from 10 to 1000/);
    throwsConfig(breaking((c) => (c.linux.resources.blockIO = { leafWeight: 1001 })), `${r}.blockIO.leafWeight`);
    throwsConfig(breaking((c) => (c.linux.resources.blockIO = { weightDevice: [{ major: 8, minor: 0, weight: 9 }] })), `${r}.blockIO.weightDevice[0].weight`);
    throwsConfig(breaking((c) => (c.linux.resources.blockIO = { weightDevice: [{ major: 8, minor: 0, leafWeight: 2000 }] })), `${r}.blockIO.weightDevice[0].leafWeight`);
    throwsConfig(breaking((c) => (c.linux.resources.cpu.quota = 999)), `${r}.cpu.quota`, /-1 \(no limit\), 0 \(not set\) or an integer from 1000/);
    throwsConfig(breaking((c) => (c.linux.resources.cpu.quota = -2)), `${r}.cpu.quota`);
    throwsConfig(breaking((c) => (c.linux.resources.cpu.period = 999)), `${r}.cpu.period`, /from 1000 to 1000000/);
    throwsConfig(breaking((c) => (c.linux.resources.cpu.period = 1_000_001)), `${r}.cpu.period`);
    for (const cpus of ['a', '0-', '-1', '1,,2', '0,', '0 1', '1.5', ' ']) {
      throwsConfig(breaking((c) => (c.linux.resources.cpu.cpus = cpus)), `${r}.cpu.cpus`, /list of CPUs/);
    }
    throwsConfig(breaking((c) => (c.linux.resources.cpu.cpus = '0,3-1')), `${r}.cpu.cpus`, /ends before it starts: "3-1"/);
    throwsConfig(breaking((c) => (c.linux.resources.cpu.mems = '0-x')), `${r}.cpu.mems`, /list of memory nodes/);
    throwsConfig(breaking((c) => (c.linux.resources.cpu.shares = 1)), `${r}.cpu.shares`, /0 \(not set\) or an integer from 2 to 262144/);
    throwsConfig(breaking((c) => (c.linux.resources.cpu.shares = 262145)), `${r}.cpu.shares`);
    throwsConfig(breaking((c) => (c.linux.resources.cpu.idle = 5)), `${r}.cpu.idle`, /from 0 to 1/);
    throwsConfig(breaking((c) => (c.linux.resources.memory = { limit: 64 * 2 ** 20, swap: 32 * 2 ** 20 })), `${r}.memory.swap`, /at least memory.limit/);
  });

  it('accepts resource values at their limits, 0 where it means not set, and -1 for unlimited', () => {
    const config = base();
    config.linux.resources.memory = { limit: -1, reservation: 0, swap: -1n, kernel: -1, swappiness: 100 };
    config.linux.resources.blockIO = { weight: 10, leafWeight: 0, weightDevice: [{ major: 8, minor: 0, weight: 1000, leafWeight: 0 }] };
    config.linux.resources.cpu = { quota: -1, period: 1_000_000, cpus: ' 0-3,7,9-9\n', mems: '' };
    validateConfig(config);
    config.linux.resources.cpu = { quota: 1000, period: 1000, cpus: '0', mems: '0,1' };
    validateConfig(config);
    config.linux.resources.cpu = { quota: 0, period: 0, cpus: '99' };
    validateConfig(config);
    config.linux.resources.memory = { swappiness: 0 };
    validateConfig(config);
    config.linux.resources.cpu = { shares: 2, idle: 1 };
    config.linux.resources.memory = { limit: 64 * 2 ** 20, swap: 64 * 2 ** 20 };
    validateConfig(config);
    config.linux.resources.cpu = { shares: 262144, idle: 0 };
    config.linux.resources.memory = { limit: 64 * 2 ** 20, swap: -1 };
    validateConfig(config);
  });

  it('accepts a large memory limit as a bigint, and -1 for unlimited', () => {
    const config = base();
    config.linux.resources.memory = { limit: 2n ** 62n + 1n, reservation: -1, swap: -1n };
    config.linux.resources.pids = { limit: -1 };
    config.linux.resources.hugepageLimits = [{ pageSize: '1GB', limit: 2n ** 64n - 1n }];
    const spec = validateConfig(config);
    assert.equal(spec.linux?.resources?.memory?.limit, 2n ** 62n + 1n);
    // A bigint where the schema is 32-bit is a mistake, not a precision need.
    config.process.user.uid = 0n;
    throwsConfig(() => validateConfig(config), 'process.user.uid', /not a bigint/);
  });

  it('checks rootfsPropagation', () => {
    for (const mode of ['shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable']) {
      validateConfig({ ...base(), linux: { ...base().linux, rootfsPropagation: mode } });
    }
    throwsConfig(breaking((c) => (c.linux.rootfsPropagation = 'recursive')), 'linux.rootfsPropagation', /one of/);
  });

  it('checks maskedPaths and readonlyPaths', () => {
    throwsConfig(breaking((c) => (c.linux.maskedPaths = ['proc/kcore'])), 'linux.maskedPaths[0]', /absolute/);
    throwsConfig(breaking((c) => (c.linux.readonlyPaths = '/proc/sys')), 'linux.readonlyPaths', /array/);
  });

  it('checks seccomp', () => {
    throwsConfig(breaking((c) => delete c.linux.seccomp.defaultAction), 'linux.seccomp.defaultAction', /required/);
    throwsConfig(breaking((c) => (c.linux.seccomp.defaultAction = 'SCMP_ACT_DENY')), 'linux.seccomp.defaultAction', /one of/);
    throwsConfig(breaking((c) => (c.linux.seccomp.defaultAction = 'SCMP_ACT_NOTIFY')), 'linux.seccomp.defaultAction', /default/);
    throwsConfig(breaking((c) => (c.linux.seccomp.architectures = ['x86_64'])), 'linux.seccomp.architectures[0]');
    throwsConfig(breaking((c) => (c.linux.seccomp.syscalls[0].names = [])), 'linux.seccomp.syscalls[0].names', /empty/);
    throwsConfig(breaking((c) => (c.linux.seccomp.syscalls[0].action = 'ALLOW')), 'linux.seccomp.syscalls[0].action');
    throwsConfig(breaking((c) => (c.linux.seccomp.syscalls[0].action = 'SCMP_ACT_NOTIFY')), 'linux.seccomp.syscalls[0].names', /write/);
    throwsConfig(
      breaking((c) => (c.linux.seccomp.syscalls[0].args = [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }])),
      'linux.seccomp.syscalls[0].args[0].index',
    );
    throwsConfig(
      breaking((c) => (c.linux.seccomp.syscalls[0].args = [{ index: 0, value: 1, op: 'EQ' }])),
      'linux.seccomp.syscalls[0].args[0].op',
    );
    throwsConfig(breaking((c) => (c.linux.seccomp.listenerMetadata = 'x')), 'linux.seccomp.listenerMetadata', /listenerPath/);
    validateConfig({
      ...base(),
      linux: {
        ...base().linux,
        seccomp: {
          defaultAction: 'SCMP_ACT_ALLOW',
          listenerPath: '/run/agent.sock',
          syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY', args: [{ index: 0, value: 2n ** 64n - 1n, op: 'SCMP_CMP_MASKED_EQ' }] }],
        },
      },
    });
  });

  it('checks netDevices', () => {
    const ok = { eth0: { name: 'ctr0' }, ens4: {} };
    validateConfig({ ...base(), linux: { ...base().linux, netDevices: ok } });
    throwsConfig(breaking((c) => (c.linux.netDevices = { eth0: { name: 'a-very-long-interface-name' } })), 'linux.netDevices.eth0.name', /15 bytes/);
    throwsConfig(breaking((c) => (c.linux.netDevices = { 'eth0:1': {} })), 'linux.netDevices["eth0:1"]', /interface name/);
    throwsConfig(breaking((c) => (c.linux.netDevices = { eth0: { name: '..' } })), 'linux.netDevices.eth0.name');
    throwsConfig(breaking((c) => (c.linux.netDevices = { eth0: { name: 'ens4' }, ens4: {} })), 'linux.netDevices.ens4.name', /second device/);
  });

  it('checks intelRdt, personality, memoryPolicy, timeOffsets', () => {
    throwsConfig(breaking((c) => (c.linux.intelRdt = { closID: '../x' })), 'linux.intelRdt.closID');
    throwsConfig(breaking((c) => (c.linux.intelRdt = { memBwSchema: 'L3:0=ff' })), 'linux.intelRdt.memBwSchema');
    throwsConfig(breaking((c) => (c.linux.personality = { flags: [] })), 'linux.personality.domain', /required/);
    throwsConfig(breaking((c) => (c.linux.personality = { domain: 'LINUX64' })), 'linux.personality.domain');
    throwsConfig(breaking((c) => (c.linux.memoryPolicy = { mode: 'MPOL_X' })), 'linux.memoryPolicy.mode');
    throwsConfig(
      breaking((c) => {
        c.linux.namespaces.push({ type: 'time' });
        c.linux.timeOffsets = { boottime: { nanosecs: 1e9 } };
      }),
      'linux.timeOffsets.boottime.nanosecs',
    );
  });

  it('rejects other platforms and can require a process', () => {
    throwsConfig(breaking((c) => (c.windows = { layerFolders: ['C:\\l'] })), 'windows', /Windows/);
    throwsConfig(breaking((c) => (c.solaris = {})), 'solaris');
    const config = base();
    delete config.process;
    validateConfig(config);
    throwsConfig(() => validateConfig(config, { requireProcess: true }), 'process', /required/);
  });

  it('ignores unknown properties, as the spec requires', () => {
    validateConfig({ ...base(), vendorExtension: { x: 1 }, linux: { ...base().linux, futureField: true } });
  });
});

it('sysctl names: the dot form, or slashes as sysctl.d(5) and runc take them (a dot then belongs to a name)', () => {
  assert.equal(sysctlDotForm('net.ipv4.ip_forward'), 'net.ipv4.ip_forward');
  assert.equal(sysctlDotForm('net/ipv4/ip_forward'), 'net.ipv4.ip_forward');
  assert.equal(sysctlDotForm('net/ipv4/conf/lo.0/forwarding'), 'net.ipv4.conf.lo/0.forwarding');
  for (const good of ['net.ipv4.ip_forward', 'net/ipv4/ip_forward', 'net/ipv4/conf/lo.0/forwarding', 'net.ipv4.conf.lo/0.forwarding']) assert.equal(sysctlNameProblem(good), null, good);
  for (const bad of ['', 'net..ipv4', '.net', 'net.', 'net/../kernel', 'net.ipv4.conf./.x', 'net/ipv4/..']) assert.match(String(sysctlNameProblem(bad)), /not a valid sysctl name/, bad);
  const base = { ociVersion: '1.0.2', root: { path: 'rootfs' }, linux: { namespaces: [{ type: 'network' }] } };
  validateConfig({ ...base, linux: { ...base.linux, sysctl: { 'net/ipv4/ip_forward': '1' } } });
  assert.throws(() => validateConfig({ ...base, linux: { ...base.linux, sysctl: { 'net/ipv4/..': '1' } } }), { name: 'ConfigError', field: 'linux.sysctl["net/ipv4/.."]' });
});
