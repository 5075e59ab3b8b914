'use strict';
// The contenders: node-libcontainer in this (warm) Node process, and the peers driven from
// the same process through their command lines, as a user would (child_process).
// Every container any of them makes is tracked here so cleanup() can remove it.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const env = require('./env');

const DIST = path.resolve(__dirname, '..', '..', 'dist', 'lib');

let seq = 0;
const uniqueId = (prefix) => `${prefix}-${process.pid}-${++seq}`;

/** Run a command with no stdio but a shared stderr log; resolves on exit 0. */
function spawnCmd(file, argv, errLog) {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(file, argv, { stdio: ['ignore', 'ignore', errLog.fd] });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(file)} ${argv.join(' ')}: ${signal ?? `exit ${code}`}: ${errLog.tail()}`));
    });
  });
}

function execOut(file, argv) {
  return new Promise((resolve, reject) => {
    childProcess.execFile(file, argv, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${argv.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A file every peer's stderr goes to: errors quote its tail. */
function errorLog() {
  const file = path.join(env.WORK, 'peer-stderr.log');
  const fd = fs.openSync(file, 'w');
  return {
    fd,
    file,
    tail() {
      try {
        const text = fs.readFileSync(file, 'utf8').trim().split('\n');
        return text.slice(-3).join(' | ');
      } catch {
        return '';
      }
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

/** runc or crun: `<bin> --root <own state dir> ...`, crun optionally through the namespace wrapper. */
class OciCli {
  constructor(name, bin, errLog, wrapper = null) {
    this.name = name;
    this.bin = bin;
    this.errLog = errLog;
    this.wrapper = wrapper; // { file, prefix: [holderPid] }
    this.root = env.stateRoot(name);
    fs.mkdirSync(this.root, { recursive: true });
    this.live = new Set();
  }

  #argv(args) {
    const own = ['--root', this.root, ...args];
    if (!this.wrapper) return [this.bin, own];
    return [this.wrapper.file, [...this.wrapper.prefix.map(String), this.bin, ...own]];
  }

  run(args) {
    const [file, argv] = this.#argv(args);
    return spawnCmd(file, argv, this.errLog);
  }

  output(args) {
    const [file, argv] = this.#argv(args);
    return execOut(file, argv);
  }

  async pidOf(id) {
    return JSON.parse(await this.output(['state', id])).pid;
  }

  /** Delete every container left in our state root (force: kills running ones). */
  async cleanup() {
    let ids = [...this.live];
    try {
      const listed = JSON.parse((await this.output(['list', '--format', 'json'])) || '[]') || [];
      ids = [...new Set([...ids, ...listed.map((c) => c.id)])];
    } catch {
      // list failed: fall back to what we tracked
    }
    const problems = [];
    for (const id of ids) {
      try {
        await this.run(['delete', '--force', id]);
      } catch (err) {
        if (!/does not exist|not exist|No such file/i.test(err.message)) problems.push(`${this.name} ${id}: ${err.message}`);
      }
      this.live.delete(id);
    }
    fs.rmSync(this.root, { recursive: true, force: true });
    return problems;
  }
}

/** node-libcontainer, from dist/ (npm run bench builds it first). */
class Nlc {
  constructor(binding) {
    this.lib = require(path.join(DIST, 'index.js'));
    this.binding = binding;
    this.root = env.stateRoot('nlc');
    fs.mkdirSync(this.root, { recursive: true });
    this.live = new Set();
  }

  get cgroupsApplied() {
    return typeof this.lib.Container.prototype.stats === 'function';
  }

  async create(cfg, binding = this.binding) {
    const c = await this.lib.createContainer(uniqueId('nlc'), cfg, { root: this.root, bundle: env.BUNDLE, binding });
    this.live.add(c);
    return c;
  }

  async destroy(c) {
    await c.destroy();
    this.live.delete(c);
  }

  async cleanup() {
    const problems = [];
    for (const c of this.live) {
      try {
        await c.destroy();
      } catch (err) {
        problems.push(`nlc ${c.id}: ${err.message}`);
      }
    }
    this.live.clear();
    try {
      for (const s of await this.lib.listContainers({ root: this.root })) {
        try {
          await (await this.lib.loadContainer(s.id, { root: this.root })).destroy();
        } catch (err) {
          problems.push(`nlc ${s.id}: ${err.message}`);
        }
      }
    } catch {
      // no root
    }
    fs.rmSync(this.root, { recursive: true, force: true });
    return problems;
  }
}

/** bwrap with namespaces and a rootfs equivalent to the bundle's. */
class Bwrap {
  constructor(bin, errLog) {
    this.name = 'bwrap';
    this.bin = bin;
    this.errLog = errLog;
    this.live = new Set();
  }

  argv({ net = true, args = ['/bin/true'], dieWithParent = false } = {}) {
    return [
      '--unshare-pid',
      ...(net ? ['--unshare-net'] : []),
      '--unshare-ipc',
      '--unshare-uts',
      ...(dieWithParent ? ['--die-with-parent'] : []),
      '--ro-bind',
      env.ROOTFS,
      '/',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      ...args,
    ];
  }

  run(opts) {
    return spawnCmd(this.bin, this.argv(opts), this.errLog);
  }

  /** A long-running bwrap (scenario 6): returns the ChildProcess. */
  start(opts) {
    const child = childProcess.spawn(this.bin, this.argv({ ...opts, dieWithParent: true }), { stdio: ['ignore', 'ignore', this.errLog.fd] });
    this.live.add(child);
    child.once('exit', () => this.live.delete(child));
    return child;
  }

  async cleanup() {
    const waits = [];
    for (const child of this.live) {
      waits.push(new Promise((r) => child.once('exit', r)));
      child.kill('SIGKILL');
    }
    await Promise.all(waits);
    return [];
  }
}

/**
 * What bench/floor.c --spec builds in (its spec_* tables): the parts of the bench's config
 * whose kernel work it does. checkFloorSpec() refuses a config that differs, so the
 * "floor+spec" reference cannot silently drift from the containers it stands beside.
 */
const FLOOR_SPEC = {
  args: ['/bin/true'],
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
  cwd: '/',
  user: { uid: 0, gid: 0 },
  capabilities: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
  noNewPrivileges: true,
  rootReadonly: true,
  hostname: 'bench',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  ],
  devices: [{ allow: false, access: 'rwm' }],
  maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
  readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
};

/** Throws when `cfg` asks for kernel work floor.c --spec does not do (or vice versa). */
function checkFloorSpec(cfg, net) {
  const caps = cfg.process.capabilities ?? {};
  // bounding is compared through FLOOR_SPEC.capabilities below; the other sets must equal it.
  const capSets = ['effective', 'permitted', 'ambient'];
  const actual = {
    args: cfg.process.args,
    env: cfg.process.env,
    cwd: cfg.process.cwd,
    user: cfg.process.user,
    capabilities: caps.bounding,
    rlimits: cfg.process.rlimits,
    noNewPrivileges: cfg.process.noNewPrivileges,
    rootReadonly: cfg.root.readonly,
    hostname: cfg.hostname,
    mounts: cfg.mounts,
    devices: cfg.linux.resources?.devices,
    maskedPaths: cfg.linux.maskedPaths,
    readonlyPaths: cfg.linux.readonlyPaths,
  };
  const wrong = Object.keys(FLOOR_SPEC).filter((k) => JSON.stringify(actual[k]) !== JSON.stringify(FLOOR_SPEC[k]));
  if (capSets.some((set) => JSON.stringify(caps[set]) !== JSON.stringify(FLOOR_SPEC.capabilities)) || caps.inheritable?.length) wrong.push('capability sets');
  const ns = cfg.linux.namespaces.map((n) => n.type).sort();
  if (JSON.stringify(ns) !== JSON.stringify(['ipc', 'mount', ...(net ? ['network'] : []), 'pid', 'uts'])) wrong.push('namespaces');
  const known = new Set(['devices']);
  if (Object.keys(cfg.linux.resources ?? {}).some((k) => !known.has(k))) wrong.push('linux.resources');
  for (const k of ['sysctl', 'devices', 'seccomp', 'uidMappings', 'rootfsPropagation']) if (cfg.linux[k] !== undefined) wrong.push(`linux.${k}`);
  if (cfg.hooks || cfg.process.terminal) wrong.push('hooks/terminal');
  if (wrong.length) throw new Error(`bench/floor.c --spec builds in a different spec than the bench's config (${wrong.join(', ')}): update its spec_* tables and FLOOR_SPEC`);
}

/** The kernel floor (bench/floor.c, compiled into bench/.work). */
class Floor {
  constructor(bin) {
    this.name = 'floor';
    this.bin = bin;
  }

  /**
   * `n` iterations after one warm-up in a fresh floor process: the per-iteration times.
   * `spec`: cgroup parent directories, for floor --spec (the floor plus the spec's own work).
   */
  async times(n, { net = true, spec = null } = {}) {
    const out = await execOut(this.bin, [env.ROOTFS, '-n', String(n), '-w', '1', ...(net ? [] : ['--no-net']), ...Floor.specArgs(spec)]);
    return JSON.parse(out).times;
  }

  /** floor --spec -j: `total` containers, `jobs` in flight (after one warm-up); containers/s. */
  async throughput(total, jobs, spec) {
    const out = await execOut(this.bin, [env.ROOTFS, '-n', String(total), '-w', '1', '-j', String(jobs), ...Floor.specArgs(spec)]);
    return JSON.parse(out).containersPerSecond;
  }

  static specArgs(spec) {
    if (!spec) return [];
    if (!spec.length) throw new Error('floor --spec needs cgroup parents');
    return ['--spec', ...spec.flatMap((dir) => ['--cgroup-parent', dir])];
  }
}

/** Rejects when `promise` takes longer than `ms` (a hung contender must not hang the run). */
function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    }),
  ]);
}

module.exports = { OciCli, Nlc, Bwrap, Floor, FLOOR_SPEC, checkFloorSpec, errorLog, uniqueId, spawnCmd, withTimeout };
