/** v1 cpuset controller (port of runc's fs.CpusetGroup). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '../../../types/oci';
import { errnoCode } from '../errors';
import { fileExists, readFile } from '../file';
import { CgroupWriter } from '../writer';

/** Only a v1 cpuset hierarchy may be mounted with noprefix ("cpus" instead of "cpuset.cpus"). */
export function cpusetFile(dir: string, name: 'cpus' | 'mems'): string {
  return fileExists(dir, `cpuset.${name}`) || !fileExists(dir, name) ? `cpuset.${name}` : name;
}

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  const c = resources.cpu;
  if (c?.cpus) w.write(dir, cpusetFile(dir, 'cpus'), c.cpus);
  if (c?.mems) w.write(dir, cpusetFile(dir, 'mems'), c.mems);
}

const isEmpty = (s: string) => s.trim() === '';

/** Copy the parent's cpus and mems into dir where they are empty: tasks cannot join a cpuset without them. */
export function copyIfNeeded(dir: string, parent: string, w = new CgroupWriter(false)): void {
  for (const name of ['cpus', 'mems'] as const) {
    const file = cpusetFile(dir, name);
    if (isEmpty(readFile(dir, file))) w.write(dir, file, readFile(parent, cpusetFile(parent, name)).trim());
  }
}

/**
 * Create dir and every missing directory between the hierarchy's mountpoint and it, each
 * with cpus and mems copied from its parent (runc's cpusetEnsureParent + ApplyDir). The
 * user's cpus/mems are written into dir before the copy, so an exclusive cpuset is not
 * inherited by accident. Returns the directories it created (top first).
 *
 * Leaf first: a container's directory usually has its parent already, and a parent with
 * cpus and mems implies ancestors with them (a child's cpuset is a subset of its parent's),
 * so the common case is one mkdir and one copy instead of a walk from the mountpoint.
 */
export function ensureDir(mountpoint: string, dir: string, resources: LinuxResources | undefined): string[] {
  const created: string[] = [];
  const make = (d: string): void => {
    try {
      fs.mkdirSync(d, { mode: 0o755 });
      created.push(d);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EEXIST') return;
      const parent = path.dirname(d);
      if (code !== 'ENOENT' || !parent.startsWith(mountpoint)) throw err;
      make(parent);
      make(d);
    }
  };
  make(dir);
  fill(mountpoint, dir, created, resources);
  return created;
}

/**
 * The cpus and mems of dir once it exists (ensureDir's second half, for a caller that made
 * the directories elsewhere): `created` lists the directories just made, top first.
 */
export function fill(mountpoint: string, dir: string, created: readonly string[], resources: LinuxResources | undefined): void {
  if (resources?.cpu?.cpus || resources?.cpu?.mems) {
    // The user's cpus/mems must be a subset of the parent's, so the parent gets its own first.
    populate(mountpoint, path.dirname(dir));
    set(dir, resources);
  }
  // A directory we just made and gave no cpus/mems of its own is empty (or a copy of its
  // parent's, with cgroup.clone_children): copying the parent's needs no read of it first.
  const fresh = created.includes(dir) && !resources?.cpu?.cpus && !resources?.cpu?.mems;
  populate(mountpoint, dir, fresh);
}

/** cpuset.cpus, or cpus on a noprefix mount: decided once per hierarchy (a mount option). */
const fileNames = new Map<string, (name: 'cpus' | 'mems') => string>();
function namesFor(mountpoint: string, dir: string): (name: 'cpus' | 'mems') => string {
  let names = fileNames.get(mountpoint);
  if (!names) {
    const prefixed = cpusetFile(dir, 'cpus') === 'cpuset.cpus';
    names = (name) => (prefixed ? `cpuset.${name}` : name);
    fileNames.set(mountpoint, names);
  }
  return names;
}

/** The files a fresh directory copies from its parent (binding.mkdirAsync's setup does the copy). */
export function copiedFiles(mountpoint: string): string[] {
  const fileName = namesFor(mountpoint, mountpoint);
  return [fileName('cpus'), fileName('mems')];
}

/** Give dir (and, where they are empty, its ancestors) its parent's cpus and mems. */
function populate(mountpoint: string, dir: string, fresh = false): void {
  if (dir === mountpoint || !dir.startsWith(`${mountpoint}/`)) return;
  const parent = path.dirname(dir);
  const fileName = namesFor(mountpoint, dir);
  for (const name of ['cpus', 'mems'] as const) {
    const file = fileName(name);
    if (!fresh && !isEmpty(readFile(dir, file))) continue;
    const parentFile = file;
    let value = readFile(parent, parentFile).trim();
    if (value === '') {
      populate(mountpoint, parent);
      value = readFile(parent, parentFile).trim();
    }
    new CgroupWriter(false).write(dir, file, value);
  }
}
