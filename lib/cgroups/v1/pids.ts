/** v1 pids controller (port of runc's fs.PidsGroup); the same files exist on v2. */
import type { LinuxResources } from '../../../types/oci';
import { MAX_U64, readCount, readUint, toBig } from '../file';
import type { PidsStats } from '../types';
import { CgroupWriter } from '../writer';

/** -1 and 0 both mean "no limit" (OCI); anything else is the limit. */
export function pidsMaxValue(limit: number | bigint): string {
  const v = toBig(limit);
  return v > 0n ? v.toString() : 'max';
}

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  if (resources.pids === undefined) return;
  w.write(dir, 'pids.max', pidsMaxValue(resources.pids.limit));
}

export function stats(dir: string): PidsStats {
  const max = readUint(dir, 'pids.max');
  return { current: readCount(dir, 'pids.current'), limit: max === MAX_U64 ? null : Number(max) };
}
