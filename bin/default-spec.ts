/** runc's default config.json (`runc spec`, runc 1.1's specconv.Example), at our runtime-spec version. */
import { OCI_VERSION } from '../lib';
import { DEFAULT_PATH, READONLY_PATHS, defaultMounts, defaultRlimits } from '../lib/presets';
import type { Spec } from '../types/oci';

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** runc 1.1's list (the library's MASKED_PATHS is the newer one, with powercap). */
const RUNC_1_1_MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
];

export function defaultSpec(): Spec {
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: [DEFAULT_PATH, 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...CAPS], effective: [...CAPS], permitted: [...CAPS], ambient: [...CAPS] },
      rlimits: defaultRlimits(),
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      ...defaultMounts(),
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      // runc's: no cgroup namespace (the library's defaultNamespaces() has one).
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [...RUNC_1_1_MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}
