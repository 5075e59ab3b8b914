import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { rejectUnsupported } from '../spec/unsupported';
import { validateConfig } from '../spec/validate';
import { sysctlDotForm } from '../spec/sysctl';
import type { Spec } from '../../types/oci';
import { buildInitPlan, statKind, type InitPlan } from './bootstrap';
import { relativeDestinationWarnings } from '../spec/mounts';

/** What createContainer derives from a config before it makes anything. */
export interface PreparedConfig {
  /** The validated config: a frozen copy of the caller's plain-data object, or that object itself. */
  spec: Spec;
  /** The absolute host path of the bundle. */
  bundle: string;
  /** The absolute host path of the rootfs. */
  rootfs: string;
  /** The init's plan for config.process. */
  plan: InitPlan;
}

/**
 * The last preparation of each config object passed more than once. A pool that creates many
 * containers from one config validates and plans it twice in all (validation and planning were
 * about a tenth of Node's CPU per container at 8 at a time here): later calls only compare the
 * object with the copy that was validated. Objects seen once are only marked, so that a caller
 * who builds a fresh config per container keeps nothing alive and pays for nothing but the mark.
 */
const prepared = new WeakMap<object, PreparedConfig>();
const seenOnce = new WeakSet<object>();

/**
 * Validate `config` and plan its init, or reuse what an earlier call derived from the same
 * object while it still holds the same data. From its second call on, a config made of plain
 * data (objects, arrays, primitives, as JSON.parse gives) is copied first and the container
 * keeps to the frozen copy, so what runs is what was validated even if the caller changes its
 * object later. A first call, and a config of anything else, validate and use the object as
 * given. Throws ConfigError naming the bad field, in the order of the checks: the config,
 * root.path, the rootfs, then the plan.
 */
export function prepareConfig(config: unknown, bundleOption: string | undefined): PreparedConfig {
  const key = typeof config === 'object' && config !== null ? config : null;
  const last = key ? prepared.get(key) : undefined;
  if (last && sameData(config, last.spec, 0)) {
    const bundle = resolveBundle(bundleOption);
    if (bundle === last.bundle) {
      checkRootfs(last.rootfs);
      checkNamespacePaths(last.spec);
      if (bindKindsUnchanged(last.plan)) return last;
      // A bind source changed kind (or went away) since: plan again, from the same copy.
      return remember(key!, { ...last, plan: deepFreeze(buildInitPlan(last.spec, last.rootfs, bundle, {}, null)) });
    }
  }
  // A first call validates the object as given (as every call once did) and only marks it; a
  // second one copies it, so that later calls can tell whether it changed.
  const firstSight = key !== null && !last && !seenOnce.has(key);
  const copy = key === null || firstSight ? NOT_PLAIN : frozenCopy(config, 0);
  const spec = validateConfig(copy === NOT_PLAIN ? config : copy);
  rejectUnsupported(spec);
  for (const warning of relativeDestinationWarnings(spec.mounts)) process.emitWarning(warning, { code: 'NLC_RELATIVE_MOUNT_DESTINATION' });
  const bundle = resolveBundle(bundleOption);
  if (!spec.root?.path) throw new ConfigError('root.path', 'is required');
  const rootfs = path.resolve(bundle, spec.root.path);
  checkRootfs(rootfs);
  checkNamespacePaths(spec);
  const plan = buildInitPlan(spec, rootfs, bundle, {}, null);
  if (firstSight) seenOnce.add(key);
  if (copy === NOT_PLAIN || !key) return { spec, bundle, rootfs, plan };
  // Frozen as the spec is: containers made from this config share both.
  return remember(key, { spec, bundle, rootfs, plan: deepFreeze(plan) });
}

function remember(key: object, entry: PreparedConfig): PreparedConfig {
  prepared.set(key, entry);
  return entry;
}

function resolveBundle(bundleOption: string | undefined): string {
  return path.resolve(bundleOption ?? process.cwd());
}

function checkRootfs(rootfs: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch {
    throw new ConfigError('root.path', `rootfs ${rootfs} does not exist`);
  }
  if (!st.isDirectory()) throw new ConfigError('root.path', `rootfs ${rootfs} is not a directory`);
  // As runc's validator: the rootfs is named by its real path, never through a symlink (which
  // could be changed to point elsewhere between this check and the mounts).
  const real = fs.realpathSync.native(rootfs);
  if (real !== rootfs) throw new ConfigError('root.path', `rootfs ${rootfs} is a symlink or lies below one (its real path is ${real})`);
}

/**
 * What runc's validator checks of the namespaces to join, at create: each path exists, and
 * net.* sysctls are not written through a joined network namespace that is the host's (this
 * process's own). The helper checks the latter again as it joins (the path may change).
 */
function checkNamespacePaths(spec: Spec): void {
  const namespaces = spec.linux?.namespaces ?? [];
  for (let i = 0; i < namespaces.length; i++) {
    const ns = namespaces[i];
    if (!ns.path) continue;
    let st: fs.Stats;
    try {
      st = fs.statSync(ns.path);
    } catch (err) {
      throw new ConfigError(`linux.namespaces[${i}].path`, `${ns.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (ns.type !== 'network') continue;
    const netSysctl = Object.keys(spec.linux?.sysctl ?? {}).find((key) => sysctlDotForm(key).startsWith('net.'));
    const own = fs.statSync('/proc/self/ns/net');
    if (netSysctl !== undefined && st.dev === own.dev && st.ino === own.ino) {
      throw new ConfigError(
        `linux.sysctl[${JSON.stringify(netSysctl)}]`,
        `is not allowed in the host's network namespace (linux.namespaces[${i}].path ${ns.path} is it)`,
      );
    }
  }
}

/** The plan recorded, for each bind mount, whether its host source was a file: still so? */
function bindKindsUnchanged(plan: InitPlan): boolean {
  const mounts = plan.bootstrap.mounts as readonly { isBind: boolean; isFile: boolean; source: string }[];
  for (const m of mounts) {
    if (!m.isBind) continue;
    const kind = statKind(m.source);
    if (kind === 'missing' || (kind === 'file') !== m.isFile) return false;
  }
  return true;
}

const NOT_PLAIN: unique symbol = Symbol('not plain data');
const MAX_DEPTH = 64;

/**
 * A deep, frozen copy of plain data, or NOT_PLAIN when `value` holds anything a copy could
 * not stand for: a function, a symbol, a class instance, a Date, a sparse array, a property
 * that is not enumerable (validation reads fields by name, enumerable or not), or nesting
 * deeper than any config (a cycle). Getters are read once, into the copy.
 */
function frozenCopy(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' || typeof value === 'symbol' ? NOT_PLAIN : value;
  }
  if (depth > MAX_DEPTH || !isPlainContainer(value)) return NOT_PLAIN;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return NOT_PLAIN;
      const item = frozenCopy(value[i], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      out[i] = item;
    }
    return Object.freeze(out);
  }
  const names = Object.getOwnPropertyNames(value);
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (!Object.prototype.propertyIsEnumerable.call(value, name)) return NOT_PLAIN;
    const item = frozenCopy((value as Record<string, unknown>)[name], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    // "__proto__" from JSON.parse is an own property; plain assignment would set the prototype.
    if (name === '__proto__') Object.defineProperty(out, name, { value: item, enumerable: true, writable: true, configurable: true });
    else out[name] = item;
  }
  return Object.freeze(out);
}

function isPlainContainer(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return Array.isArray(value) ? proto === Array.prototype : proto === Object.prototype || proto === null;
}

/**
 * Whether `value` holds exactly the data of `copy` (a frozenCopy): the same own property
 * names (enumerable or not: a hidden property counts as a difference), array items with no
 * holes, and primitives equal by SameValue (NaN equals NaN, -0 does not equal 0).
 */
function sameData(value: unknown, copy: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return Object.is(value, copy);
  if (typeof copy !== 'object' || copy === null || depth > MAX_DEPTH || !isPlainContainer(value)) return false;
  if (Array.isArray(value)) {
    if (!Array.isArray(copy) || value.length !== copy.length) return false;
    for (let i = 0; i < value.length; i++) if (!(i in value) || !sameData(value[i], copy[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(copy)) return false;
  const names = Object.getOwnPropertyNames(value);
  if (names.length !== Object.keys(copy).length) return false;
  const c = copy as Record<string, unknown>;
  const v = value as Record<string, unknown>;
  for (const name of names) {
    if (!Object.prototype.hasOwnProperty.call(c, name) || !sameData(v[name], c[name], depth + 1)) return false;
  }
  return true;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
