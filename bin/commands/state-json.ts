/** runc's containerState: what `state` prints and `list --format json` lists. */
import type { ContainerState } from '../../lib';

export interface RuncContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: string;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

/** owner: `runc state` leaves it empty; `runc list` names the state directory's owner (ContainerState.owner). */
export function runcState(s: ContainerState, owner = ''): RuncContainerState {
  const annotations = Object.keys(s.annotations).length > 0 ? { annotations: s.annotations } : {};
  return {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: s.pid,
    status: s.status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    ...annotations,
    owner,
  };
}
