/** v2 hugetlb controller (runc's fs2 setHugeTlb/statHugeTlb). */
import type { LinuxResources } from '../../../types/oci';
import { errnoCode } from '../errors';
import { intString, readCount, readFileIfExists, readKeyValues } from '../file';
import type { HugetlbStats } from '../types';
import { pageSizes } from '../v1/hugetlb';
import { CgroupWriter } from '../writer';

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  let rsvd = true;
  for (const h of resources.hugepageLimits ?? []) {
    const value = intString(h.limit);
    w.write(dir, `hugetlb.${h.pageSize}.max`, value);
    if (!rsvd) continue;
    try {
      w.write(dir, `hugetlb.${h.pageSize}.rsvd.max`, value);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      rsvd = false;
    }
  }
}

export function stats(dir: string): HugetlbStats {
  const out: HugetlbStats = {};
  for (const size of pageSizes(dir, 'max')) {
    const current = readFileIfExists(dir, `hugetlb.${size}.rsvd.current`) !== undefined ? `hugetlb.${size}.rsvd.current` : `hugetlb.${size}.current`;
    // v2 keeps no peak; failcnt is the number of times the limit was hit.
    out[size] = { usage: readCount(dir, current), maxUsage: 0, failcnt: readKeyValues(dir, `hugetlb.${size}.events`).max ?? 0 };
  }
  return out;
}
