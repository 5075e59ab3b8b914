/**
 * Containers are made with root's powers here (namespaces, mounts, cgroups, device nodes):
 * without CAP_SYS_ADMIN the first failure would come much later and name a cgroup directory
 * or a clone flag, not the reason. Rootless containers need user namespaces, not done yet.
 */
import * as fs from 'node:fs';
import { ContainerError } from '../errors';

const CAP_SYS_ADMIN = 21n;
/** Once seen, kept: a process rarely drops its capabilities, and this runs per container. */
let privileged = false;

/** Throws ContainerError ERR_NOT_PRIVILEGED unless the effective set has CAP_SYS_ADMIN. */
export function requirePrivileges(readStatus: () => string = () => fs.readFileSync('/proc/self/status', 'utf8')): void {
  if (privileged) return;
  const hex = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(readStatus())?.[1];
  if (hex !== undefined && ((BigInt(`0x${hex}`) >> CAP_SYS_ADMIN) & 1n) === 1n) {
    privileged = true;
    return;
  }
  throw new ContainerError(
    'ERR_NOT_PRIVILEGED',
    'creating a container needs root (CAP_SYS_ADMIN in the effective set); rootless containers (user namespaces) are not supported yet',
  );
}
