'use strict';
// The machine and the peers: which runtimes are there (nothing is installed silently), their
// versions, the benchmark's own cgroup, the shared busybox bundle, the helper programs
// compiled at bench time, and the crun workaround for hybrid cgroup hosts.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { isStaticElf } = require('../../scripts/elf');
const defaults = require('../../dist/lib/presets/defaults');

const BENCH_DIR = path.resolve(__dirname, '..');
const WORK = path.join(BENCH_DIR, '.work');
const BUNDLE = path.join(WORK, 'bundle');
// Every contender's state root (ours, crun's and runc's --root) is below this directory.
const STATE = path.join(WORK, 'state');
const ROOTFS = path.join(BUNDLE, 'rootfs');
const CGROUP_ROOT = '/sys/fs/cgroup';
const BENCH_CGROUP = 'nlc-bench';

/** Peers and the Debian package each comes from. */
const PEERS = [
  { name: 'crun', bin: 'crun', pkg: 'crun', versionArgs: ['--version'] },
  { name: 'runc', bin: 'runc', pkg: 'runc', versionArgs: ['--version'] },
  { name: 'bwrap', bin: 'bwrap', pkg: 'bubblewrap', versionArgs: ['--version'] },
];

function which(bin) {
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const full = path.join(dir, bin);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      if (fs.statSync(full).isFile()) return full;
    } catch {
      // not here
    }
  }
  // root's PATH may lack the sbin dirs (runc lives in /usr/sbin on Debian)
  for (const dir of ['/usr/sbin', '/sbin', '/usr/local/sbin']) {
    const full = path.join(dir, bin);
    if (fs.existsSync(full)) return full;
  }
  return null;
}

function firstLine(cmd, args) {
  try {
    const out = childProcess.execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n')[0].trim();
  } catch (err) {
    const out = `${err.stdout || ''}${err.stderr || ''}`;
    return out.split('\n')[0].trim() || 'unknown';
  }
}

/**
 * The CPUs' time so far, in ms, from /proc/stat's first line (USER_HZ is 100 there): `busy`
 * leaves out idle, iowait and steal (guest time is already inside user), `total` has them all.
 */
function cpuTimes() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  const busy = user + nice + system + irq + softirq;
  return { busy: busy * 10, steal: steal * 10, total: (busy + idle + iowait + steal) * 10 };
}

/** Which peers and tools are present; prints what is missing and how to get it. */
function detect(log) {
  const found = {};
  const missing = [];
  for (const peer of PEERS) {
    const bin = which(peer.bin);
    if (bin) found[peer.name] = { bin, version: firstLine(bin, peer.versionArgs) };
    else missing.push(`${peer.name} (Debian package ${peer.pkg}: apt-get install ${peer.pkg})`);
  }
  let busybox = null;
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox']) {
    if (fs.existsSync(candidate) && isStaticElf(candidate)) {
      busybox = { bin: candidate, version: firstLine(candidate, ['--help']) };
      break;
    }
  }
  if (!busybox) missing.push('a static busybox (Debian package busybox-static: apt-get install busybox-static)');
  const cc = which('cc');
  if (!cc) missing.push('a C compiler for the kernel floor (Debian package gcc: apt-get install gcc)');
  for (const m of missing) log(`missing: ${m}; benchmarking the rest`);
  return { peers: found, busybox, cc };
}

function cpuModel() {
  const line = fs
    .readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('model name'));
  return line ? line.split(':')[1].trim() : os.cpus()[0]?.model ?? 'unknown';
}

function machine() {
  return {
    date: new Date().toISOString(),
    kernel: `${os.type()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: cpuModel(),
    memTotalMiB: Math.round(os.totalmem() / 1048576),
    node: process.version,
  };
}

// ---------------------------------------------------------------------------------------
// cgroups

/** Mounted cgroup hierarchies: [{dir, v2, controllers}] from /proc/self/mountinfo. */
function hierarchies() {
  const out = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fields = line.slice(0, sep).split(' ');
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({ dir: fields[4], v2: fstype === 'cgroup2', options: superOpts.split(',') });
  }
  return out;
}

/**
 * The benchmark's own cgroup path: the memory controller's on v1 (the one a limit would be
 * set in), else the unified one. Peers' cgroups go below `<own>/nlc-bench/`.
 */
function ownCgroup() {
  const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const byKey = new Map();
  for (const line of lines) {
    const [, ctrls, p] = line.match(/^\d+:([^:]*):(.*)$/) || [];
    if (ctrls === undefined) continue;
    for (const c of ctrls === '' ? [''] : ctrls.split(',')) byKey.set(c, p);
  }
  const own = byKey.get('memory') ?? byKey.get('') ?? '/';
  return own === '/' ? '' : own;
}

/** The cgroup mode as crun sees it, and whether crun 1.8 would refuse this host. */
function cgroupMode() {
  const hs = hierarchies();
  const v1 = hs.some((h) => !h.v2);
  const unifiedAtRoot = hs.some((h) => h.v2 && h.dir === CGROUP_ROOT);
  const mode = unifiedAtRoot ? 'unified' : v1 && hs.some((h) => h.v2) ? 'hybrid' : v1 ? 'legacy' : 'none';
  let hybridControllers = '';
  if (mode === 'hybrid') {
    try {
      hybridControllers = fs.readFileSync(path.join(CGROUP_ROOT, 'unified', 'cgroup.controllers'), 'utf8').trim();
    } catch {
      hybridControllers = '';
    }
  }
  return { mode, hierarchies: hs.map((h) => h.dir), crunRefuses: mode === 'hybrid' && hybridControllers !== '', hybridControllers };
}

/** This process's cgroup in hierarchy h, from /proc/self/cgroup ('/' when not listed). */
function processCgroupIn(h) {
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, ctrls, p] = line.match(/^\d+:([^:]*):(.*)$/) || [];
    if (ctrls === undefined) continue;
    if (h.v2 ? ctrls === '' : ctrls !== '' && ctrls.split(',').every((c) => h.options.includes(c))) return p;
  }
  return '/';
}

/**
 * The directories of `own` that exist only because the benchmark put cgroups there: in a
 * hierarchy this process is not in `own` of, the peers' absolute cgroupsPath (and ours) make
 * the whole path, so every level of it below this process's own cgroup there is ours, deepest
 * first. Whether they exist now or not: a run that could not clean up (a container still in
 * its cgroup) leaves them, and the next run removes them.
 */
function ownMirrors(own) {
  const parts = own.split('/').filter(Boolean);
  const dirs = [];
  for (const h of hierarchies()) {
    const mine = processCgroupIn(h).split('/').filter(Boolean);
    let keep = 0; // the levels shared with this process's own cgroup there stay
    while (keep < mine.length && keep < parts.length && mine[keep] === parts[keep]) keep++;
    if (keep === parts.length) continue; // we live in own (or below) here
    for (let n = parts.length; n > keep; n--) dirs.push(path.join(h.dir, ...parts.slice(0, n)));
  }
  return dirs;
}

/** Remove every cgroup under <own>/nlc-bench (leaves first), then own's mirrors (ownMirrors). */
function removeCgroups(own, log) {
  const leftovers = [];
  const rmTree = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) rmTree(path.join(dir, e.name));
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      if (err.code !== 'ENOENT') leftovers.push(`${dir} (${err.code})`);
    }
  };
  for (const h of hierarchies()) rmTree(path.join(h.dir, own, BENCH_CGROUP));
  // rmdir fails harmlessly if someone else started using one meanwhile
  for (const dir of ownMirrors(own)) {
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      if (err.code !== 'ENOENT') log(`note: left ${dir} (${err.code}): in use by someone else`);
    }
  }
  return leftovers;
}

function cgroupPathFor(own, name) {
  return `${own}/${BENCH_CGROUP}/${name}`;
}

/**
 * The cgroup parents for floor --spec ("floor+spec"): `cgroupPathFor(own, name)` in every
 * mounted hierarchy (v1 ones in mountinfo order, then v2), as a peer's absolute cgroupsPath
 * lands, so its containers go where the peers' do and never at a hierarchy root. Empty v1
 * cpusets on the way get their parent's cpus and mems (a task cannot join an empty cpuset).
 */
function makeCgroupParents(own, name) {
  const parts = cgroupPathFor(own, name).split('/').filter(Boolean);
  if (parts.length < 2 || parts[parts.length - 2] !== BENCH_CGROUP) throw new Error(`bad cgroup parent ${parts.join('/')}`);
  const hs = hierarchies();
  const dirs = [];
  for (const h of [...hs.filter((x) => !x.v2), ...hs.filter((x) => x.v2)]) {
    let dir = h.dir;
    for (const part of parts) {
      const parent = dir;
      dir = path.join(dir, part);
      try {
        fs.mkdirSync(dir);
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
      }
      if (!h.v2 && h.options.includes('cpuset')) {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          if (fs.readFileSync(path.join(dir, f), 'utf8').trim() === '') fs.writeFileSync(path.join(dir, f), fs.readFileSync(path.join(parent, f), 'utf8').trim());
        }
      }
    }
    dirs.push(dir);
  }
  return dirs;
}

/** rmdir what makeCgroupParents made (its leaves; the ancestors go with removeCgroups). */
function removeCgroupParents(dirs) {
  const problems = [];
  for (const dir of dirs) {
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      if (err.code !== 'ENOENT') problems.push(`${dir} (${err.code})`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// the bundle

/** runc-spec defaults (runc's specconv.Example), no terminal, read-only rootfs, /bin/true. */
function baseConfig() {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/bin/true'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'bench',
    // runc spec's mounts, from the library's own defaults (its /sys/fs/cgroup mount is left
    // out, as in every run so far, so results stay comparable).
    mounts: defaults.defaultMounts(),
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: [...defaults.READONLY_PATHS],
    },
  };
}

/** A variant of the base config. `variant`: 'plain' | 'mem64' | 'nonet'; `args` replaces process.args. */
function variantConfig({ variant = 'plain', args, cgroupsPath, absoluteRoot = false }) {
  const cfg = baseConfig();
  if (args) cfg.process.args = args;
  if (variant === 'mem64') cfg.linux.resources.memory = { limit: 64 * 1024 * 1024 };
  if (variant === 'nonet') cfg.linux.namespaces = cfg.linux.namespaces.filter((n) => n.type !== 'network');
  if (cgroupsPath) cfg.linux.cgroupsPath = cgroupsPath;
  if (absoluteRoot) cfg.root.path = ROOTFS;
  return cfg;
}

/** The busybox rootfs under bench/.work/bundle (idempotent; applet links are relative). */
function buildBundle(busybox) {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc']) fs.mkdirSync(path.join(ROOTFS, d), { recursive: true });
  const target = path.join(ROOTFS, 'bin', 'busybox');
  const src = fs.readFileSync(busybox);
  let same = false;
  try {
    same = fs.readFileSync(target).equals(src);
  } catch {
    same = false;
  }
  if (!same) {
    fs.writeFileSync(target, src, { mode: 0o755 });
    fs.chmodSync(target, 0o755);
  }
  const applets = childProcess.execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet === 'busybox') continue;
    const link = path.join(ROOTFS, 'bin', applet);
    try {
      if (fs.readlinkSync(link) === 'busybox') continue;
      fs.rmSync(link, { force: true });
    } catch {
      // missing
    }
    fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(ROOTFS, 'etc', 'hostname'), 'bench\n');
  fs.writeFileSync(path.join(BUNDLE, 'config.json'), `${JSON.stringify(baseConfig(), null, 2)}\n`);
  return { bundle: BUNDLE, rootfs: ROOTFS };
}

/** A bundle directory for a peer: its own config.json (own cgroupsPath) over the shared rootfs. */
function writePeerBundle(name, cfg) {
  const dir = path.join(WORK, 'bundles', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, root: { ...cfg.root, path: ROOTFS } }));
  return dir;
}

// ---------------------------------------------------------------------------------------
// helpers compiled at bench time

function compile(cc, source, out) {
  const src = path.join(BENCH_DIR, source);
  const bin = path.join(WORK, out);
  let fresh = false;
  try {
    fresh = fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs;
  } catch {
    fresh = false;
  }
  if (!fresh) childProcess.execFileSync(cc, ['-O2', '-Wall', '-o', bin, src], { stdio: ['ignore', 'inherit', 'inherit'] });
  return bin;
}

/**
 * The crun workaround on hybrid hosts: a holder process with a private mount namespace in
 * which /sys/fs/cgroup/unified/cgroup.controllers reads empty; every crun call joins it.
 */
async function startCrunNamespace(wrapper) {
  const holder = childProcess.spawn(wrapper, ['hold'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    holder.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    holder.once('exit', (code) => reject(new Error(`crun-ns hold exited with ${code}`)));
    holder.once('error', reject);
  });
  return {
    prefix: [holder.pid],
    async stop() {
      holder.stdin.end();
      if (holder.exitCode === null && holder.signalCode === null) await new Promise((r) => holder.once('exit', r));
    },
  };
}

/**
 * The state roots' directory, on a tmpfs of its own, as the runtimes' default roots are on a
 * production host (/run/crun, /run/runc, /run/node-libcontainer: /run is a tmpfs there). This
 * machine's /run is on its root disk. onDisk: a plain directory instead (--state-on-disk).
 * Returns { where, unmount() }; unmount() removes the directory, mount and all.
 */
function prepareStateDir(onDisk) {
  fs.rmSync(STATE, { recursive: true, force: true });
  fs.mkdirSync(STATE, { recursive: true, mode: 0o700 });
  let mounted = false;
  let why = onDisk ? ', as asked (--state-on-disk)' : '';
  if (!onDisk) {
    try {
      childProcess.execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m,mode=0700', 'nlc-bench-state', STATE], { stdio: ['ignore', 'ignore', 'pipe'] });
      mounted = true;
    } catch (err) {
      why = `: the tmpfs mount failed (${String(err.stderr || err.message).trim()})`;
    }
  }
  return {
    where: mounted ? 'tmpfs' : `the disk bench/ is on${why}`,
    unmount() {
      const problems = [];
      if (mounted) {
        try {
          childProcess.execFileSync('umount', [STATE], { stdio: ['ignore', 'ignore', 'pipe'] });
          mounted = false;
        } catch (err) {
          problems.push(`${STATE} not unmounted: ${String(err.stderr || err.message).trim()}`);
        }
      }
      if (!mounted) fs.rmSync(STATE, { recursive: true, force: true });
      return problems;
    },
  };
}

/** A contender's state root, below the state directory. */
const stateRoot = (name) => path.join(STATE, `${name}-root`);

module.exports = {
  cpuTimes,
  BENCH_DIR,
  WORK,
  BUNDLE,
  STATE,
  ROOTFS,
  BENCH_CGROUP,
  detect,
  machine,
  ownCgroup,
  cgroupMode,
  ownMirrors,
  removeCgroups,
  cgroupPathFor,
  makeCgroupParents,
  removeCgroupParents,
  baseConfig,
  variantConfig,
  buildBundle,
  writePeerBundle,
  compile,
  startCrunNamespace,
  prepareStateDir,
  stateRoot,
};
