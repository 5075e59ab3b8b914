/** runc's containerState: what `state` prints and `list --format json` lists. */
import * as fs from 'node:fs';
import * as path from 'node:path';
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

export function runcState(s: ContainerState, owner = ''): RuncContainerState {
  const annotations = Object.keys(s.annotations).length > 0 ? { annotations: s.annotations } : {};
  return {
    ociVersion: s.config.ociVersion,
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

/** The user owning the container's state directory, by name where /etc/passwd has it (runc's list). */
export function stateOwner(root: string, id: string): string {
  let uid: number;
  try {
    uid = fs.statSync(path.join(root, id)).uid;
  } catch {
    return '';
  }
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid) return f[0]!;
    }
  } catch {
    // no passwd: the number
  }
  return `#${uid}`;
}
