/** v2 cpuset controller (runc's fs2 setCpuset). */
import type { LinuxResources } from '../../../types/oci';
import { CgroupWriter } from '../writer';

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  if (resources.cpu?.cpus) w.write(dir, 'cpuset.cpus', resources.cpu.cpus);
  if (resources.cpu?.mems) w.write(dir, 'cpuset.mems', resources.cpu.mems);
}
