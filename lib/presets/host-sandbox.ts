/**
 * The host sandbox preset: run a host program with the host's /usr read-only, a minimal
 * /etc without secrets, private /tmp and /dev, an optional workspace, no network, and
 * optional memory and pid limits. No image needed: the rootfs is a small private directory
 * of empty mount points, symlinks and a few /etc files, made per sandbox.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LinuxResources, Mount, Spec, User } from '../../types/oci';
import { ConfigError, ContainerError, invalidArgType, invalidArgValue, outOfRange } from '../errors';
import {
  DEFAULT_CAPABILITIES,
  DEFAULT_PATH,
  MASKED_PATHS,
  READONLY_PATHS,
  defaultMounts,
  defaultNamespaces,
  defaultRlimits,
} from './defaults';

export interface HostSandboxOptions {
  /** argv of the sandboxed program. Default: a shell line printing hostname, pid and uid. */
  args?: string[];
  /** Default `sandbox`. */
  hostname?: string;
  /** A host directory bind-mounted read-write at /workspace (also the working directory). */
  workspace?: string;
  /** `KEY=value` strings added to (and overriding) the default PATH. */
  env?: string[];
  /** Default 0:0. */
  user?: { uid: number; gid: number; additionalGids?: number[] };
  /** Memory limit in bytes. */
  memoryLimit?: number;
  /** Maximum number of tasks. */
  pidsLimit?: number;
  /** CPU time as a number of CPUs (1.5: one and a half CPUs' worth per period), as a CFS quota. */
  cpuLimit?: number;
}

const OPTION_NAMES: ReadonlySet<string> = new Set(['args', 'hostname', 'workspace', 'env', 'user', 'memoryLimit', 'pidsLimit', 'cpuLimit']);
/** The CFS period cpuLimit is counted in (the kernel's default, 100 ms). */
const CPU_PERIOD_US = 100_000;
/** The kernel's smallest CFS quota (1 ms). */
const MIN_CPU_QUOTA_US = 1_000;

export interface HostSandbox {
  /** The OCI config to pass to `createContainer`. */
  config: Spec;
  /** The sandbox's private rootfs directory (also `config.root.path`). */
  rootfs: string;
  /**
   * Remove the rootfs directory. Call after the container is destroyed: while a container
   * (or any process) still has it as its root, or a mount is below it, this refuses with
   * ERR_SANDBOX_BUSY. Idempotent.
   */
  cleanup(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Rootfs directories in os.tmpdir(): nlc-sandbox-<owner pid>-<mkdtemp's six characters>. */
const ROOTFS_PREFIX = 'nlc-sandbox-';
const OWNED_ROOTFS = new RegExp(`^${ROOTFS_PREFIX}(\\d+)-[A-Za-z0-9]{6}$`);
const DEFAULT_ARGS = ['/bin/sh', '-c', 'echo hostname=$(hostname) pid=$$ uid=$(id -u)'];
const DEFAULT_HOSTNAME = 'sandbox';
const WORKSPACE = '/workspace';
/** Top-level host directories that hold programs and libraries (merged-/usr hosts make them symlinks). */
const PROGRAM_DIRS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

interface ValidOptions {
  args: string[];
  hostname: string;
  workspace: string | undefined;
  env: string[];
  user: User;
  resources: LinuxResources;
}

/** Build a sandbox config and its private rootfs (synchronous: a few small files). */
export function hostSandbox(options: HostSandboxOptions = {}): HostSandbox {
  const valid = validate(options);
  removeStaleRootfs();
  // The owner's pid in the name: a process that dies before cleanup() leaves its rootfs, and
  // a later hostSandbox() removes it once nothing uses it (removeStaleRootfs).
  const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), `${ROOTFS_PREFIX}${process.pid}-`));
  try {
    const mounts = populateRootfs(rootfs, valid);
    return sandbox(rootfs, buildConfig(rootfs, mounts, valid));
  } catch (err) {
    fs.rmSync(rootfs, { recursive: true, force: true });
    throw err;
  }
}

function validate(options: HostSandboxOptions): ValidOptions {
  if (options === null || typeof options !== 'object') throw invalidArgType('hostSandbox: options must be an object');
  // A misspelt memoryLimit must not run the step without its limit.
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) throw invalidArgValue(`hostSandbox: unknown option ${JSON.stringify(key)} (known: ${[...OPTION_NAMES].join(', ')})`);
  }
  const args = options.args ?? DEFAULT_ARGS;
  if (!Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === 'string')) {
    throw invalidArgType('hostSandbox: options.args must be a non-empty array of strings');
  }
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  if (typeof hostname !== 'string' || hostname.length > 64 || !HOSTNAME.test(hostname)) {
    throw invalidArgValue(`hostSandbox: options.hostname must be a valid host name of at most 64 characters, got ${JSON.stringify(hostname)}`);
  }
  const env = options.env ?? [];
  if (!Array.isArray(env) || !env.every((e) => typeof e === 'string' && e.indexOf('=') > 0)) {
    throw invalidArgType('hostSandbox: options.env must be an array of KEY=value strings');
  }
  let workspace: string | undefined;
  if (options.workspace !== undefined) {
    if (typeof options.workspace !== 'string' || options.workspace === '') {
      throw invalidArgType('hostSandbox: options.workspace must be a path');
    }
    workspace = path.resolve(options.workspace);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(workspace);
    } catch (err) {
      throw new ConfigError('workspace', `${workspace} cannot be used: ${(err as Error).message}`, { cause: err });
    }
    if (!stat.isDirectory()) throw new ConfigError('workspace', `${workspace} is not a directory`);
  }
  const user = validateUser(options.user);
  const resources: LinuxResources = {
    // With CAP_MKNOD in the default set, only the device cgroup keeps a process from making
    // and opening a host block device node; the runtime adds the default allowed devices.
    devices: [{ allow: false, access: 'rwm' }],
  };
  if (options.memoryLimit !== undefined) {
    resources.memory = { limit: positiveInteger('memoryLimit', options.memoryLimit) };
  }
  if (options.pidsLimit !== undefined) {
    resources.pids = { limit: positiveInteger('pidsLimit', options.pidsLimit) };
  }
  if (options.cpuLimit !== undefined) resources.cpu = { quota: cpuQuota(options.cpuLimit), period: CPU_PERIOD_US };
  // HOME: the private /tmp, where git, npm, pip and the like can write their config and
  // caches (the root and /root are read-only); the caller's own HOME wins.
  return { args: [...args], hostname, workspace, env: mergeEnv([DEFAULT_PATH, 'HOME=/tmp'], env), user, resources };
}

function validateUser(user: HostSandboxOptions['user']): User {
  if (user === undefined) return { uid: 0, gid: 0 };
  const id = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;
  if (user === null || typeof user !== 'object' || !id(user.uid) || !id(user.gid)) {
    throw invalidArgType('hostSandbox: options.user must be { uid, gid } with non-negative integer ids');
  }
  if (user.additionalGids !== undefined && !(Array.isArray(user.additionalGids) && user.additionalGids.every(id))) {
    throw invalidArgType('hostSandbox: options.user.additionalGids must be an array of non-negative integers');
  }
  const out: User = { uid: user.uid, gid: user.gid };
  if (user.additionalGids !== undefined) out.additionalGids = [...user.additionalGids];
  return out;
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalidArgType(`hostSandbox: options.${name} must be an integer, got ${String(value)}`);
  }
  if (value <= 0) throw outOfRange(`hostSandbox: options.${name} must be positive, got ${value}`);
  return value;
}

function cpuQuota(cpus: unknown): number {
  if (typeof cpus !== 'number' || !Number.isFinite(cpus)) throw invalidArgType(`hostSandbox: options.cpuLimit must be a number of CPUs, got ${String(cpus)}`);
  const quota = Math.round(cpus * CPU_PERIOD_US);
  if (quota < MIN_CPU_QUOTA_US) throw outOfRange(`hostSandbox: options.cpuLimit must be at least ${MIN_CPU_QUOTA_US / CPU_PERIOD_US} (the kernel's smallest quota), got ${cpus}`);
  if (cpus > os.cpus().length) throw outOfRange(`hostSandbox: options.cpuLimit must be at most this host's ${os.cpus().length} CPUs, got ${cpus}`);
  return quota;
}

/** Later entries override earlier ones with the same key; order of first appearance is kept. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const byKey = new Map<string, string>();
  for (const entry of [...base, ...extra]) byKey.set(entry.slice(0, entry.indexOf('=')), entry);
  return [...byKey.values()];
}

/**
 * Make the mount points and files in the rootfs; returns the mounts the sandbox needs
 * beyond the defaults. The rootfs is mounted read-only, so every mount point must exist.
 */
function populateRootfs(rootfs: string, opts: ValidOptions): Mount[] {
  // mkdtemp makes the directory 0700: a non-root sandbox user could not even resolve "/".
  fs.chmodSync(rootfs, 0o755);
  const dir = (rel: string, mode = 0o755): void => {
    const p = path.join(rootfs, rel);
    fs.mkdirSync(p, { recursive: true });
    fs.chmodSync(p, mode);
  };
  const file = (rel: string, text: string): void => {
    fs.writeFileSync(path.join(rootfs, rel), text, { mode: 0o644 });
  };

  for (const rel of ['proc', 'sys', 'dev', 'etc', 'usr']) dir(rel);
  dir('tmp', 0o1777);
  dir('root', 0o700);

  const mounts: Mount[] = [readOnlyBind('/usr')];
  for (const name of PROGRAM_DIRS) {
    const host = `/${name}`;
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(host);
    } catch {
      continue; // not on this host
    }
    if (stat.isSymbolicLink()) {
      // Merged /usr: the same symlink resolves through our read-only /usr.
      fs.symlinkSync(fs.readlinkSync(host), path.join(rootfs, name));
    } else if (stat.isDirectory()) {
      dir(name);
      mounts.push(readOnlyBind(host));
    }
  }

  mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
  // /var/tmp is where programs expect a second temporary directory: the same private /tmp.
  dir('var');
  fs.symlinkSync('../tmp', path.join(rootfs, 'var', 'tmp'));

  // A minimal /etc: only what name lookups need; never shadow or anything else secret.
  // The sandbox's own user gets a name (whoami, git, ssh, Python's getpass look it up), with
  // HOME at the private /tmp, as the environment has it.
  const { uid, gid } = opts.user;
  const ownUser = uid !== 0 && uid !== 65534 ? `sandbox:x:${uid}:${gid}:sandbox:/tmp:/bin/sh\n` : '';
  const ownGroup = gid !== 0 && gid !== 65534 ? `sandbox:x:${gid}:\n` : '';
  file('etc/passwd', `root:x:0:0:root:/root:/bin/sh\n${ownUser}nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`);
  file('etc/group', `root:x:0:\n${ownGroup}nogroup:x:65534:\n`);
  file('etc/hostname', `${opts.hostname}\n`);
  file('etc/hosts', `127.0.0.1\tlocalhost ${opts.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  file('etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n');
  const resolv = readIfPossible('/etc/resolv.conf');
  if (resolv !== undefined) file('etc/resolv.conf', resolv);
  if (isDirectory('/etc/ssl/certs')) {
    dir('etc/ssl');
    dir('etc/ssl/certs');
    mounts.push(readOnlyBind('/etc/ssl/certs'));
  }
  // Debian's and Ubuntu's toolchain entry points (cc, c++, awk, which, java, ...) are links
  // into /etc/alternatives, which holds only links back into /usr: without it they are broken.
  if (isDirectory('/etc/alternatives')) {
    dir('etc/alternatives');
    mounts.push(readOnlyBind('/etc/alternatives'));
  }

  if (opts.workspace !== undefined) {
    dir(WORKSPACE.slice(1));
    mounts.push({ destination: WORKSPACE, type: 'bind', source: opts.workspace, options: ['rbind', 'rw', 'nosuid', 'nodev'] });
  }
  return mounts;
}

function readOnlyBind(hostPath: string): Mount {
  return { destination: hostPath, type: 'bind', source: hostPath, options: ['rbind', 'ro', 'nosuid', 'nodev'] };
}

function buildConfig(rootfs: string, extraMounts: Mount[], opts: ValidOptions): Spec {
  const caps = (): string[] => [...DEFAULT_CAPABILITIES];
  return {
    ociVersion: '1.3.0',
    process: {
      terminal: false,
      user: opts.user,
      args: opts.args,
      env: opts.env,
      cwd: opts.workspace !== undefined ? WORKSPACE : '/',
      capabilities: { bounding: caps(), effective: caps(), permitted: caps() },
      rlimits: defaultRlimits(),
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: opts.hostname,
    mounts: [...defaultMounts(), ...extraMounts],
    linux: {
      // No user namespace (the host's /usr must stay owned by real root); a new, empty
      // network namespace means no network at all.
      namespaces: defaultNamespaces(),
      resources: opts.resources,
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

function sandbox(rootfs: string, config: Spec): HostSandbox {
  const cleanup = async (): Promise<void> => {
    const busy = await mountsBelow(rootfs);
    if (busy.length > 0) {
      // Removing would recurse into the mounted host directories (the workspace!).
      throw new ContainerError('ERR_SANDBOX_BUSY', `sandbox rootfs ${rootfs} still has mounts below it: ${busy.join(', ')}`);
    }
    // A container's mounts live in its own mount namespace, where removing their mount points
    // from here would detach them under the running program: refuse while one is rooted there.
    const users = processesRootedAt(rootfs);
    if (users.length > 0) {
      throw new ContainerError('ERR_SANDBOX_BUSY', `sandbox rootfs ${rootfs} is still the root of running processes (pids ${users.join(', ')}): destroy the container first`);
    }
    // fs.rm unlinks symlinks rather than following them, so the /bin -> usr/bin links are safe.
    await fs.promises.rm(rootfs, { recursive: true, force: true });
  };
  return { config, rootfs, cleanup, [Symbol.asyncDispose]: cleanup };
}

async function mountsBelow(dir: string): Promise<string[]> {
  return mountPointsBelow(await fs.promises.readFile('/proc/self/mountinfo', 'utf8'), dir);
}

function mountPointsBelow(info: string, dir: string): string[] {
  const found: string[] = [];
  for (const line of info.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const mountPoint = field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
    if (mountPoint === dir || mountPoint.startsWith(`${dir}/`)) found.push(mountPoint);
  }
  return found;
}

/**
 * The pids whose root directory is dir (same device and inode: a container's root is a bind
 * mount of its rootfs, which /proc/PID/root's link text cannot show from another mount
 * namespace). Empty when dir is gone.
 */
function processesRootedAt(dir: string): number[] {
  let target: fs.Stats;
  try {
    target = fs.statSync(dir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = fs.statSync(`/proc/${name}/root`);
      if (st.ino === target.ino && st.dev === target.dev) pids.push(Number(name));
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return pids;
}


/**
 * Remove the rootfs directories left by sandboxes whose process died before cleanup(): only
 * ours (the same owner), whose owner pid is gone, with no mount below and no process rooted
 * there (a container that outlived its Node process keeps its rootfs until it is destroyed).
 */
function removeStaleRootfs(): void {
  const tmp = os.tmpdir();
  let names: string[];
  try {
    names = fs.readdirSync(tmp).filter((n) => {
      const m = OWNED_ROOTFS.exec(n);
      return m !== null && Number(m[1]) !== process.pid && !processAlive(Number(m[1]));
    });
  } catch {
    return;
  }
  if (names.length === 0) return;
  const info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const uid = process.geteuid?.();
  for (const name of names) {
    const dir = path.join(tmp, name);
    try {
      if (fs.lstatSync(dir).uid !== uid) continue;
      if (mountPointsBelow(info, dir).length > 0 || processesRootedAt(dir).length > 0) continue;
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // another process removed it meanwhile, or it is not ours to remove
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readIfPossible(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
