/** v2 pids controller (runc's fs2 setPids/statPids): same files as v1, plus a fallback count from cgroup.procs. */
import type { LinuxResources } from '../../../types/oci';
import { readFile, readFileIfExists } from '../file';
import type { PidsStats } from '../types';
import { pidsMaxValue, stats as v1Stats } from '../v1/pids';
import { CgroupWriter } from '../writer';

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  if (resources.pids === undefined) return;
  w.write(dir, 'pids.max', pidsMaxValue(resources.pids.limit));
}

export function stats(dir: string): PidsStats {
  if (readFileIfExists(dir, 'pids.current') === undefined) {
    // The pids controller is not enabled here: count what is in the cgroup.
    const procs = readFile(dir, 'cgroup.procs');
    return { current: procs.split('\n').filter((l) => l.trim() !== '').length, limit: null };
  }
  return v1Stats(dir);
}
