/**
 * The plan's seccomp filter, and the hand-over of its listener to the profile's seccomp agent
 * (port of runc's procSeccomp handling and sendContainerProcessState).
 */
import type { LinuxSeccomp } from '../../types/oci';
import type { OciState } from '../container';
import { ConfigError } from '../errors';
import type { NativeBinding } from '../native/types';
import { compileSeccomp, type SeccompPlan } from '../spec/seccomp';
import type { InitPlan } from './bootstrap';

/** The profile's filter (compiled once per profile) in the plan's process: init and exec'd processes alike, as runc. */
export function withSeccomp(plan: InitPlan, profile: LinuxSeccomp | undefined, binding: NativeBinding): InitPlan {
  if (!profile) return plan;
  const process = plan.bootstrap.process as Record<string, unknown>;
  return { ...plan, bootstrap: { ...plan.bootstrap, process: { ...process, seccomp: compileSeccomp(profile, binding) } } };
}

/**
 * With notify rules in the plan's filter: the start request's onSeccomp, which sends the
 * runtime spec's container process state, the listener attached, over the unix socket at
 * listenerPath. `state(pid)`: the container's state for the process `pid` (creating for the
 * init, running for an exec'd one).
 */
export function seccompAgent(
  plan: InitPlan,
  profile: LinuxSeccomp | undefined,
  binding: NativeBinding,
  state: (pid: number) => OciState,
): { onSeccomp?: (pid: number, fd: number) => void } {
  const filter = (plan.bootstrap.process as { seccomp?: SeccompPlan }).seccomp;
  const listenerPath = profile?.listenerPath;
  if (!filter?.notify || !listenerPath) return {};
  return {
    onSeccomp: (pid, fd) => {
      const s = state(pid);
      const message = { ociVersion: s.ociVersion, fds: ['seccompFd'], pid, metadata: profile.listenerMetadata ?? '', state: s };
      if (!binding.sendFdToUnixSocket) throw new ConfigError('linux.seccomp.listenerPath', 'this native binding cannot reach a seccomp agent');
      try {
        binding.sendFdToUnixSocket(listenerPath, Buffer.from(JSON.stringify(message)), fd);
      } catch (err) {
        throw new ConfigError('linux.seccomp.listenerPath', `cannot hand the seccomp listener to the agent at ${listenerPath}: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
