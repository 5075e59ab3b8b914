/**
 * cgroup v2 device access: the eBPF filter attached to the container's cgroup, replaced (never
 * stacked) on update (port of runc's devices.setV2 and loadAttachCgroupDeviceFilter).
 */
import * as fs from 'node:fs';
import createDebug from 'debug';
import type { LinuxResources } from '../../../types/oci';
import type { NativeBinding } from '../../native/types';
import { CgroupError, errnoCode } from '../errors';
import { effectiveDeviceRules } from '../devices/rules';
import { deviceFilter } from './devicefilter';

const debug = createDebug('node-libcontainer:cgroups');

export type DeviceBinding = Pick<
  NativeBinding,
  'bpfLoadDeviceProgram' | 'bpfAttachDeviceProgram' | 'bpfDetachDeviceProgram' | 'bpfQueryDevicePrograms' | 'bpfProgramFdById' | 'close'
>;

/** Load the program for resources.devices (plus the default rules) and make it the cgroup's only device program. */
export function set(dir: string, resources: LinuxResources, binding: DeviceBinding | undefined): void {
  const program = deviceFilter(effectiveDeviceRules(resources.devices));
  if (!binding) throw new CgroupError(dir, 'cgroup v2 device rules need the native binding (eBPF), none was given');
  // BPF_PROG_ATTACH needs a real (not O_PATH) descriptor of the directory.
  const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const oldFds: number[] = [];
  try {
    for (const id of binding.bpfQueryDevicePrograms(dirFd)) {
      try {
        oldFds.push(binding.bpfProgramFdById(id));
      } catch (err) {
        // A program an LSM hides from us can only restrict further; runc skips it too.
        const code = errnoCode(err);
        if (code === 'EPERM' || code === 'EACCES') {
          debug('ignoring device program %d on %s: %s', id, dir, code);
          continue;
        }
        if (code === 'ENOENT') continue; // detached meanwhile
        throw err;
      }
    }
    let progFd: number;
    try {
      progFd = binding.bpfLoadDeviceProgram(program.code);
    } catch (err) {
      throw new CgroupError(dir, `cannot load the device filter program: ${(err as Error).message}`, { cause: err });
    }
    try {
      attachReplacing(binding, dir, dirFd, progFd, oldFds);
    } finally {
      binding.close(progFd);
    }
  } finally {
    for (const fd of oldFds) binding.close(fd);
    fs.closeSync(dirFd);
  }
}

function attachReplacing(binding: DeviceBinding, dir: string, dirFd: number, progFd: number, oldFds: number[]): void {
  if (oldFds.length === 1) {
    try {
      binding.bpfAttachDeviceProgram(dirFd, progFd, oldFds[0]);
      return;
    } catch (err) {
      // Kernels before 5.6 have no BPF_F_REPLACE (EINVAL): attach, then detach the old one.
      if (errnoCode(err) !== 'EINVAL') throw attachError(dir, err);
      debug('BPF_F_REPLACE not supported, attaching then detaching');
    }
  }
  try {
    binding.bpfAttachDeviceProgram(dirFd, progFd);
  } catch (err) {
    throw attachError(dir, err);
  }
  if (oldFds.length > 1) debug('%d device programs were attached to %s; removing the extra ones', oldFds.length, dir);
  for (const fd of oldFds) {
    try {
      binding.bpfDetachDeviceProgram(dirFd, fd);
    } catch (err) {
      throw new CgroupError(dir, `cannot detach the old device program: ${(err as Error).message}`, { cause: err });
    }
  }
}

function attachError(dir: string, err: unknown): CgroupError {
  return new CgroupError(dir, `cannot attach the device filter program to ${dir}: ${(err as Error).message}`, { cause: err });
}
