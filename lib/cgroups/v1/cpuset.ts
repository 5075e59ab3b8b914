/** v1 cpuset controller (port of runc's fs.CpusetGroup). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '../../../types/oci';
import { errnoCode } from '../errors';
import { fileExists, readFile } from '../file';
import { dirsBetween } from '../paths';
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
 */
export function ensureDir(mountpoint: string, dir: string, resources: LinuxResources | undefined): string[] {
  const created: string[] = [];
  const chain = dirsBetween(mountpoint, dir);
  for (const d of chain) {
    try {
      fs.mkdirSync(d, { mode: 0o755 });
      created.push(d);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (d === dir && resources) set(d, resources);
    copyIfNeeded(d, path.dirname(d));
  }
  return created;
}
