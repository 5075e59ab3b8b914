/** v1 hugetlb controller (port of runc's fs.HugetlbGroup). */
import * as fs from 'node:fs';
import type { LinuxResources } from '../../../types/oci';
import { errnoCode } from '../errors';
import { intString, readCount, readFileIfExists } from '../file';
import type { HugetlbStats } from '../types';
import { CgroupWriter } from '../writer';

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  let rsvd = true;
  for (const h of resources.hugepageLimits ?? []) {
    const value = intString(h.limit);
    w.write(dir, `hugetlb.${h.pageSize}.limit_in_bytes`, value);
    if (!rsvd) continue;
    try {
      // Reservations (kernel 5.7+) are limited too, or a mapping could reserve past the limit.
      w.write(dir, `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, value);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      rsvd = false;
    }
  }
}

/** Page sizes the controller offers in dir (from its file names, e.g. hugetlb.2MB.limit_in_bytes). */
export function pageSizes(dir: string, suffix: string): string[] {
  const re = new RegExp(`^hugetlb\\.([^.]+)\\.${suffix.replace(/\./g, '\\.')}$`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((n) => re.exec(n)?.[1]).filter((s): s is string => s !== undefined).sort();
}

export function stats(dir: string): HugetlbStats {
  const out: HugetlbStats = {};
  for (const size of pageSizes(dir, 'limit_in_bytes')) {
    // Prefer the reservation counters where they exist, as runc does.
    const prefix = readFileIfExists(dir, `hugetlb.${size}.rsvd.usage_in_bytes`) !== undefined ? `hugetlb.${size}.rsvd` : `hugetlb.${size}`;
    out[size] = {
      usage: readCount(dir, `${prefix}.usage_in_bytes`),
      maxUsage: readCount(dir, `${prefix}.max_usage_in_bytes`),
      failcnt: readCount(dir, `${prefix}.failcnt`),
    };
  }
  return out;
}
