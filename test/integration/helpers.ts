/**
 * Shared helpers for the integration tests: real containers in the busybox rootfs that
 * scripts/prepare-test-rootfs.js builds at test/.rootfs, with state roots in temp dirs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { listContainers, loadContainer, type Container, type Process, type ProcessOptions } from '../../lib';
import { DEFAULT_PATH, MASKED_PATHS, READONLY_PATHS, defaultMounts, defaultNamespaces } from '../../lib/presets/defaults';
import type { Spec } from '../../types/oci';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** For `test(name, { skip: skipUnlessRoot() }, fn)`: a reason to skip when not root, else false. */
export function skipUnlessRoot(): string | false {
  return isRoot ? false : 'integration tests need root (run as root, e.g. sudo npm test)';
}

/** Inside a test: `if (!requireRoot(t)) return;` marks the test skipped when not root. */
export function requireRoot(t: TestContext): boolean {
  const reason = skipUnlessRoot();
  if (reason !== false) t.skip(reason);
  return reason === false;
}

function repoRoot(): string {
  // Compiled to dist/test/integration/; walk up to the package, wherever that is.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'scripts', 'prepare-test-rootfs.js'))) {
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the node-libcontainer checkout above ${__dirname}`);
  }
}

/** Absolute path of the busybox test rootfs (test/.rootfs). Throws if it was not built. */
export function testRootfs(): string {
  const rootfs = path.join(repoRoot(), 'test', '.rootfs');
  if (!fs.existsSync(path.join(rootfs, 'bin', 'busybox'))) {
    throw new Error(`the test rootfs ${rootfs} is missing: run \`node scripts/prepare-test-rootfs.js\` as root (npm test does)`);
  }
  return rootfs;
}

/** Overrides merged into the base config: objects merge key by key, arrays and scalars replace. */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type ConfigOverrides = DeepPartial<Spec> | Record<string, unknown>;
/**
 * `Spec` as anonymous object types: structurally the same, but (unlike interfaces) they have
 * implicit index signatures, so a test can view any part as a `Record<string, unknown>`.
 */
export type TestConfig = Plain<Spec>;
type Plain<T> = T extends readonly (infer U)[] ? Plain<U>[] : T extends object ? { [K in keyof T]: Plain<T[K]> } : T;

/**
 * A minimal OCI config for the busybox rootfs, modelled on `runc spec` (terminal off, root
 * writable so tests can create files; flip `root.readonly` where a test needs it).
 */
export function makeConfig(overrides: ConfigOverrides = {}): TestConfig {
  const base: Spec = {
    ociVersion: '1.3.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: [DEFAULT_PATH],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: testRootfs(), readonly: false },
    hostname: 'nlc-test',
    mounts: defaultMounts(),
    linux: {
      namespaces: defaultNamespaces(),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
  return merge(base, overrides) as TestConfig;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function merge(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = merge(base[key], value);
  return out;
}

export interface TempRoot {
  /** A fresh state root (pass as `{ root }` to createContainer / loadContainer / listContainers). */
  root: string;
  /** Destroy any container a failed test left in the root, then remove it. */
  cleanup(): Promise<void>;
}

/** A unique state root under os.tmpdir()/nlc-test-XXXXXX. */
export function tempRoot(): TempRoot {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nlc-test-'));
  let done = false;
  const cleanup = async (): Promise<void> => {
    if (done) return;
    done = true;
    if (!fs.existsSync(root)) return;
    const problems: string[] = [];
    let left: { id: string }[] = [];
    try {
      left = await listContainers({ root });
    } catch (err) {
      problems.push(`listContainers: ${(err as Error).message}`);
    }
    for (const { id } of left) {
      // A test that failed half-way; destroying here keeps one failure from cascading.
      console.error(`tempRoot cleanup: destroying container ${id} left in ${root}`);
      try {
        await (await loadContainer(id, { root })).destroy();
      } catch (err) {
        problems.push(`destroy ${id}: ${(err as Error).message}`);
      }
    }
    const mounted = mountsBelow(root);
    if (mounted.length > 0) {
      // Never recurse into a mount (it could be a bind of a host directory).
      throw new Error(`tempRoot cleanup: mounts left below ${root}: ${mounted.join(', ')}`);
    }
    fs.rmSync(root, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`tempRoot cleanup of ${root}: ${problems.join('; ')}`);
  };
  return { root, cleanup };
}

function mountsBelow(dir: string): string[] {
  const found: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const mountPoint = field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
    if (mountPoint === dir || mountPoint.startsWith(`${dir}/`)) found.push(mountPoint);
  }
  return found;
}

/** Everything a stream emits until it ends, as UTF-8. */
export function collect(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer | string) => chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.once('error', reject);
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** utime + stime of a process, in clock ticks. */
export function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export interface Ran {
  out: string;
  err: string;
  exitCode: number | null;
  signal: string | null;
}

/** Collect a started process's output and exit, failing (not hanging) after timeoutMs. */
export async function finishProcess(p: Process, timeoutMs = 60_000): Promise<Ran> {
  const [out, err] = [collect(p.stdout!), collect(p.stderr!)];
  const exit = await withTimeout(p.wait(), timeoutMs, `process ${p.pid}`);
  return { out: (await out).trim(), err: (await err).trim(), ...exit };
}

/** Run a process to completion in the container (an exec, unless opts.init). */
export async function execIn(c: Container, args: string[], opts: ProcessOptions = {}, timeoutMs = 60_000): Promise<Ran> {
  return finishProcess(await c.run({ init: false, args, ...opts }), timeoutMs);
}
