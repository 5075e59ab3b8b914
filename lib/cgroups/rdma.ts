/**
 * The rdma controller, the same file on v1 and v2 (port of runc's fscommon.RdmaSet): a line
 * of rdma.max per device, "<device> hca_handle=<n> hca_object=<n>". The kernel refuses a
 * device it has not registered (ENODEV), so a limit for absent hardware fails the start.
 */
import type { LinuxResources } from '../../types/oci';
import { CgroupWriter } from './writer';

export function wantsRdma(resources: LinuxResources): boolean {
  return Object.keys(resources.rdma ?? {}).length > 0;
}

export function setRdma(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  for (const [device, limits] of Object.entries(resources.rdma ?? {})) {
    let line = device;
    if (limits.hcaHandles !== undefined) line += ` hca_handle=${limits.hcaHandles}`;
    if (limits.hcaObjects !== undefined) line += ` hca_object=${limits.hcaObjects}`;
    w.write(dir, 'rdma.max', line);
  }
}
