/** v1 net_cls and net_prio controllers (runc's fs.NetClsGroup, fs.NetPrioGroup). */
import type { LinuxResources } from '../../../types/oci';
import { CgroupWriter } from '../writer';

export function setNetCls(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  const id = resources.network?.classID;
  if (id) w.write(dir, 'net_cls.classid', String(id));
}

export function setNetPrio(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  for (const p of resources.network?.priorities ?? []) w.write(dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
}
