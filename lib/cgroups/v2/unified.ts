/** linux.resources.unified: raw cgroup v2 files (runc's fs2 setUnified), validated before anything is written. */
import type { LinuxResources } from '../../../types/oci';
import { ConfigError } from '../../errors';
import { fileExists } from '../file';
import { CgroupWriter } from '../writer';

export function validate(dir: string, unified: Record<string, string> | undefined, controllers?: ReadonlySet<string>): void {
  for (const key of Object.keys(unified ?? {})) {
    const field = `linux.resources.unified.${key}`;
    if (key.includes('/') || key === '..' || key === '.' || key === '' || key.includes('\0')) {
      throw new ConfigError(field, 'must be a file name in the cgroup directory (no "/" or "..")');
    }
    if (!fileExists(dir, key)) {
      const controller = key.split('.')[0];
      const why =
        controllers && controller !== 'cgroup' && !controllers.has(controller)
          ? `the ${controller} controller is not enabled for this cgroup`
          : 'no such cgroup file';
      throw new ConfigError(field, `cannot be set: ${why} (${dir}/${key})`);
    }
  }
}

export function set(dir: string, unified: Record<string, string> | undefined, w = new CgroupWriter(false)): void {
  validate(dir, unified);
  for (const [key, value] of Object.entries(unified ?? {})) w.writeLines(dir, key, value);
}

/**
 * The v2 files the typed fields given in `resources` write (not unified itself). set() merges a
 * request over the saved resources: an earlier unified key naming one of these files must give
 * way to the newer typed value, or it would be written again after it and win (runc's update
 * replaces unified as a whole, so its newest value wins too).
 */
export function filesOfTypedFields(resources: LinuxResources): Set<string> {
  const files = new Set<string>();
  const add = (given: unknown, ...names: string[]) => {
    if (given !== undefined && given !== null) for (const n of names) files.add(n);
  };
  const { memory, cpu, pids, blockIO } = resources;
  add(memory?.limit, 'memory.max');
  add(memory?.swap, 'memory.swap.max');
  add(memory?.reservation, 'memory.low');
  add(pids?.limit, 'pids.max');
  add(cpu?.shares, 'cpu.weight');
  add(cpu?.idle, 'cpu.idle');
  add(cpu?.quota, 'cpu.max');
  add(cpu?.period, 'cpu.max');
  add(cpu?.burst, 'cpu.max.burst');
  add(cpu?.cpus, 'cpuset.cpus');
  add(cpu?.mems, 'cpuset.mems');
  add(blockIO?.weight, 'io.weight', 'io.bfq.weight');
  add(blockIO?.weightDevice, 'io.bfq.weight');
  for (const key of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) add(blockIO?.[key], 'io.max');
  for (const h of resources.hugepageLimits ?? []) add(h.pageSize, `hugetlb.${h.pageSize}.max`, `hugetlb.${h.pageSize}.rsvd.max`);
  add(resources.rdma, 'rdma.max');
  return files;
}
