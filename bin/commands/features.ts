/**
 * `features`: what this runtime takes, as the runtime-spec's features document (runc's
 * `features`), printed with runc's 4-space indent.
 */
import { OCI_VERSION } from '../../lib';
import { loadBinding } from '../../lib/native/binding';
import { CAPABILITIES } from '../../lib/spec/linux';
import { MOUNT_OPTION_NAMES } from '../../lib/spec/mounts';
import { SECCOMP_ACTIONS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../../lib/spec/seccomp';
import { SECCOMP_ARCHITECTURES } from '../../lib/spec/validate';
import type { Command } from '../command';
import { VERSION } from '../version';

// User namespaces are refused (README): not listed.
const NAMESPACES = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'uts'];
const HOOKS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

/** Whether libseccomp can be loaded here (the addon loads it at run time). */
function seccompEnabled(): boolean {
  try {
    const binding = loadBinding();
    if (!binding.seccompCompile) return false;
    binding.seccompCompile({ defaultAction: 0x7fff0000, architectures: [], rules: [] });
    return true;
  } catch {
    return false;
  }
}

export function runtimeFeatures(): object {
  const seccomp = seccompEnabled();
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: HOOKS,
    mountOptions: MOUNT_OPTION_NAMES,
    linux: {
      namespaces: NAMESPACES,
      capabilities: Object.keys(CAPABILITIES),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: seccomp,
        actions: [...SECCOMP_ACTIONS].sort(),
        operators: [...SECCOMP_OPERATORS].sort(),
        archs: Object.keys(SECCOMP_ARCHITECTURES).sort(),
        knownFlags: SECCOMP_FLAGS,
        supportedFlags: seccomp ? SECCOMP_FLAGS : [],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
    },
    // runc names itself the same way (org.opencontainers.runc.version).
    annotations: { 'io.github.node-libcontainer.version': VERSION },
  };
}

export const features: Command = {
  name: 'features',
  usage: '',
  description: 'show the enabled features',
  flags: [],
  args: { exactly: 0 },
  async run() {
    process.stdout.write(`${JSON.stringify(runtimeFeatures(), null, 4)}\n`);
    return 0;
  },
};
