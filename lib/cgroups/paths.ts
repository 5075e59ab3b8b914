/**
 * Where the container's cgroups go (port of runc's path.Inner, fs.subsysPath and fs2's
 * defaultDirPath). An absolute linux.cgroupsPath is under each hierarchy's root; a relative
 * one, or the default `node-libcontainer/<id>`, is under the calling process's own cgroup in
 * that hierarchy, so we never create cgroups beside the ones we were given.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { CgroupError } from './errors';
import { CGROUP_ROOT, type CgroupMount } from './detect';
import type { CgroupMode } from './types';

export const DEFAULT_PARENT = 'node-libcontainer';

export interface Placement {
  /** Normalized path: absolute, or relative to our own cgroup. */
  inner: string;
  absolute: boolean;
  /** cgroupsPath was not given (the default parent may be removed with the last container). */
  isDefault: boolean;
}

export function cgroupPlacement(id: string, cgroupsPath?: string): Placement {
  if (cgroupsPath === undefined || cgroupsPath === '') {
    return { inner: `${DEFAULT_PARENT}/${id}`, absolute: false, isDefault: true };
  }
  if (!cgroupsPath.startsWith('/') && cgroupsPath.split(':').length === 3) {
    throw new ConfigError(
      'linux.cgroupsPath',
      `${JSON.stringify(cgroupsPath)} is the systemd "slice:prefix:name" form, which is not supported (no systemd cgroup driver); give a path instead`,
    );
  }
  const parts = cgroupsPath.split('/');
  if (parts.includes('..')) {
    throw new ConfigError('linux.cgroupsPath', `${JSON.stringify(cgroupsPath)} must not contain ".." components`);
  }
  if (cgroupsPath.includes('\0')) throw new ConfigError('linux.cgroupsPath', 'must not contain NUL');
  const absolute = cgroupsPath.startsWith('/');
  const inner = parts.filter((p) => p !== '' && p !== '.').join('/');
  if (inner === '') throw new ConfigError('linux.cgroupsPath', `${JSON.stringify(cgroupsPath)} names a hierarchy root`);
  return { inner: absolute ? `/${inner}` : inner, absolute, isDefault: false };
}

/** Where a hierarchy's mountpoint is on this machine, or under `root` in tests. */
export function hostMountpoint(mountpoint: string, root: string): string {
  if (root === CGROUP_ROOT) return mountpoint;
  const rel = path.posix.relative(CGROUP_ROOT, mountpoint);
  return rel.startsWith('..') ? path.join(root, mountpoint) : path.join(root, rel);
}

export interface ResolvedPaths {
  /** Controller ('' = v2) -> the container's cgroup directory. */
  paths: Record<string, string>;
  /** Controller -> the directory the container's path starts from (our own cgroup, or the hierarchy root). */
  bases: Record<string, string>;
  /** Controller -> the hierarchy's mountpoint (on this machine or under the test root). */
  mountpoints: Record<string, string>;
}

export function resolvePaths(opts: {
  mode: CgroupMode;
  placement: Placement;
  mounts: Map<string, CgroupMount>;
  own: Record<string, string>;
  root: string;
}): ResolvedPaths {
  const { mode, placement, mounts, own, root } = opts;
  const keys = [...mounts.keys()].filter((k) => (k === '' ? mode !== 'v1' : mode !== 'v2'));
  const out: ResolvedPaths = { paths: {}, bases: {}, mountpoints: {} };
  for (const key of keys) {
    const mount = mounts.get(key)!;
    const mnt = hostMountpoint(mount.mountpoint, root);
    let base: string;
    if (placement.absolute) {
      base = mnt;
    } else {
      const mine = own[key];
      if (mine === undefined) {
        if (key === '') throw new CgroupError(mnt, 'no cgroup v2 entry (0::) in /proc/self/cgroup');
        continue; // a hierarchy we are not in (e.g. mounted but not listed): not ours to use
      }
      const rel = path.posix.relative(mount.root, mine);
      if (rel.startsWith('..')) {
        throw new CgroupError(mnt, `our own cgroup ${mine} (${key || 'unified'}) is not visible under ${mount.mountpoint} (mount root ${mount.root})`);
      }
      base = path.join(mnt, rel);
    }
    out.paths[key] = path.join(base, placement.inner);
    out.bases[key] = base;
    out.mountpoints[key] = mnt;
  }
  if (Object.keys(out.paths).length === 0) {
    throw new CgroupError(root, `no cgroup hierarchy found for mode ${mode}`);
  }
  return out;
}

/** The directories from `from` (exclusive) down to `to` (inclusive); `to` must be inside `from`. */
export function dirsBetween(from: string, to: string): string[] {
  const rel = path.relative(from, to);
  if (rel === '' || rel.startsWith('..')) return [];
  const out: string[] = [];
  let cur = from;
  for (const part of rel.split(path.sep)) {
    cur = path.join(cur, part);
    out.push(cur);
  }
  return out;
}

/** Files of the cgroup core in every new v1 or v2 cgroup, whatever the controllers. */
const CORE_FILES = new Set(['tasks', 'notify_on_release', 'release_agent']);

function isCoreFile(name: string): boolean {
  return CORE_FILES.has(name) || name.startsWith('cgroup.');
}

/** Files a v1 root cgroup lacks and every other cgroup of its hierarchy has. */
const NON_ROOT_FILES = ['pids.max', 'pids.current', 'pids.events', 'freezer.state', 'freezer.self_freezing', 'freezer.parent_freezing'];

const childNamesCache = new Map<string, ReadonlySet<string>>();

/**
 * The files a new cgroup below `dir` will have: those of an existing child of it (a root
 * cgroup lacks some, pids.max and freezer.state on v1), or, with none to look at, dir's own
 * and the ones only a root lacks.
 */
function newChildNamesOf(dir: string, own: ReadonlySet<string>, controller: string): ReadonlySet<string> {
  const cached = childNamesCache.get(dir);
  if (cached) return cached;
  let child: ReadonlySet<string> | null = null;
  try {
    const sub = fs.readdirSync(dir, { withFileTypes: true }).find((e) => e.isDirectory());
    if (sub) child = fileNamesOf(`${dir}/${sub.name}`);
  } catch {
    // unreadable: the fallback below
  }
  const names = new Set([...own, ...(child ?? NON_ROOT_FILES.filter((f) => f.startsWith(`${controller}.`)))]);
  childNamesCache.set(dir, names);
  return names;
}

const fileNamesCache = new Map<string, ReadonlySet<string> | null>();

/**
 * The names of the files (not directories) in a cgroup directory, read once per process: they
 * are the kernel's interface files, the same for as long as the directory's controllers are,
 * so every createContainer after the first costs no system call here (reading them each time
 * doubled createManager's cost). null when the directory does not exist (remembered too).
 */
function fileNamesOf(dir: string): ReadonlySet<string> | null {
  const cached = fileNamesCache.get(dir);
  if (cached !== undefined) return cached;
  // A missing directory (the default parent before the first container, or each container's
  // own leaf) is remembered as missing too: once made, it has the files any new child of the
  // cgroup above has, which is what a missing one is checked against (newChildNamesOf).
  if (!fs.existsSync(dir)) {
    if (fileNamesCache.size < 4096) fileNamesCache.set(dir, null);
    return null;
  }
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  const names = new Set(entries.filter((e) => !e.isDirectory()).map((e) => e.name));
  if (fileNamesCache.size < 4096) fileNamesCache.set(dir, names);
  return names;
}

/**
 * A component of the container's cgroup path that names a file of its parent cgroup
 * (`tasks`, `cgroup.procs`, `cpu.shares`, ...): the kernel's files are there before any
 * mkdir, so the start would fail at its first cgroup write (runc fails the same way, at run:
 * "openat2 .../tasks/freezer.state: not a directory"). Refused at createContainer instead,
 * before anything exists. A directory yet to be made is taken to hold the files of the
 * nearest existing cgroup above it (a new cgroup gets the same ones), and the core files of
 * every cgroup.
 */
export function refuseCgroupFileNames(resolved: ResolvedPaths, placement: Placement, id: string): void {
  const components = placement.inner.split('/').filter((c) => c !== '');
  for (const key of Object.keys(resolved.paths)) {
    let holder = resolved.bases[key];
    let names = fileNamesOf(holder);
    let holderExists = names !== null;
    for (let i = 0; i < components.length; i++) {
      const name = components[i];
      if (names?.has(name) || (!holderExists && isCoreFile(name))) {
        throw cgroupFileError(placement, id, name, `${holder}/${name}`);
      }
      if (i === components.length - 1) break; // what is in the leaf does not matter
      const parent = holder;
      holder = `${holder}/${name}`;
      const own = holderExists ? fileNamesOf(holder) : null;
      // Not made yet: it will have what a new child of the last existing cgroup has.
      if (own === null && holderExists && names) names = newChildNamesOf(parent, names, key);
      holderExists = own !== null;
      names = own ?? names;
    }
  }
}

function cgroupFileError(placement: Placement, id: string, name: string, file: string): ConfigError {
  if (placement.isDefault) {
    return new ConfigError(
      'id',
      `${JSON.stringify(id)} names a cgroup file (${file}), and without linux.cgroupsPath the container's cgroup is named after its id (${DEFAULT_PARENT}/${id}): set linux.cgroupsPath to place it elsewhere`,
    );
  }
  return new ConfigError(
    'linux.cgroupsPath',
    `component ${JSON.stringify(name)} of ${JSON.stringify(placement.inner)} names a cgroup file (${file}): set linux.cgroupsPath to a path of directories`,
  );
}
