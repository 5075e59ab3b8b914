import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { validateConfig } from '../spec/validate';
import type { Spec } from '../../types/oci';
import { buildInitPlan, statKind, type InitPlan } from './bootstrap';

/** What createContainer derives from a config before it makes anything. */
export interface PreparedConfig {
  /** The validated config: a frozen copy of the caller's object, shared by the containers made from it. */
  spec: Spec;
  /** The absolute host path of the rootfs. */
  rootfs: string;
  /** The init's plan for config.process (frozen). */
  plan: InitPlan;
}

interface Entry extends PreparedConfig {
  bundle: string;
}

/**
 * The last preparation of each config object. A pool that creates many containers from one
 * config pays for validation and the plan once (about a tenth of a container's CPU at 8 at a
 * time here): later calls only compare the object with the copy that was validated.
 */
const prepared = new WeakMap<object, Entry>();

/**
 * Validate `config` and plan its init, or reuse what an earlier call derived from the same
 * object while it still holds the same data. The container gets a frozen copy (what
 * structuredClone gives: own enumerable properties), so what runs is what was validated even
 * if the caller changes its object later. Throws ConfigError naming the bad field.
 */
export function prepareConfig(config: unknown, bundle: string): PreparedConfig {
  const key = typeof config === 'object' && config !== null ? config : null;
  const last = key ? prepared.get(key) : undefined;
  if (last && last.bundle === bundle && sameData(config, last.spec, 0)) {
    checkRootfs(last.rootfs);
    if (bindKindsUnchanged(last.plan)) return last;
    // A bind source changed kind (or went away) since: plan again, from the same copy.
    return remember(key!, { ...last, plan: planFor(last.spec, last.rootfs, bundle) });
  }
  const copy = copyOf(config);
  const spec = validateConfig(copy ?? config);
  if (!spec.root?.path) throw new ConfigError('root.path', 'is required');
  const rootfs = path.resolve(bundle, spec.root.path);
  checkRootfs(rootfs);
  const plan = planFor(spec, rootfs, bundle);
  // A config that cannot be copied (a function or a class instance in it) is used as given, unshared.
  if (!copy || !key) return { spec, rootfs, plan };
  return remember(key, { spec: deepFreeze(spec), rootfs, plan, bundle });
}

function remember(key: object, entry: Entry): Entry {
  prepared.set(key, entry);
  return entry;
}

function planFor(spec: Spec, rootfs: string, bundle: string): InitPlan {
  return deepFreeze(buildInitPlan(spec, rootfs, bundle, {}, null));
}

function checkRootfs(rootfs: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch {
    throw new ConfigError('root.path', `rootfs ${rootfs} does not exist`);
  }
  if (!st.isDirectory()) throw new ConfigError('root.path', `rootfs ${rootfs} is not a directory`);
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

/** A structured clone of a plain-data config; null when it holds something that is not plain data. */
function copyOf(config: unknown): object | null {
  if (typeof config !== 'object' || config === null || !isPlainTree(config, 0)) return null;
  try {
    return structuredClone(config) as object;
  } catch {
    return null;
  }
}

const MAX_DEPTH = 64;

/** Only plain objects, arrays and primitives (no Date, Map, class instance, function, cycle). */
function isPlainTree(value: unknown, depth: number): boolean {
  if (typeof value === 'function' || typeof value === 'symbol') return false;
  if (typeof value !== 'object' || value === null) return true;
  if (depth > MAX_DEPTH || !isPlainContainer(value)) return false;
  for (const key of Object.keys(value)) if (!isPlainTree((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

function isPlainContainer(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return Array.isArray(value) ? proto === Array.prototype : proto === Object.prototype || proto === null;
}

/**
 * Whether `value` holds exactly the data of `copy` (an earlier structured clone of plain data):
 * the same own enumerable keys, and primitives equal by SameValue (NaN equals NaN, -0 does not
 * equal 0). Anything but plain objects and arrays counts as different.
 */
function sameData(value: unknown, copy: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return Object.is(value, copy);
  if (typeof copy !== 'object' || copy === null || depth > MAX_DEPTH || !isPlainContainer(value)) return false;
  if (Array.isArray(value)) {
    if (!Array.isArray(copy) || value.length !== copy.length) return false;
    for (let i = 0; i < value.length; i++) if (!sameData(value[i], copy[i], depth + 1)) return false;
    return Object.keys(value).length === Object.keys(copy).length;
  }
  if (Array.isArray(copy)) return false;
  const keys = Object.keys(value);
  if (keys.length !== Object.keys(copy).length) return false;
  const c = copy as Record<string, unknown>;
  const v = value as Record<string, unknown>;
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(c, key) || !sameData(v[key], c[key], depth + 1)) return false;
  }
  return true;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
