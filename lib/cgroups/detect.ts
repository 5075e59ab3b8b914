/**
 * Which cgroup hierarchies this process sees (port of runc's cgroups.IsCgroup2UnifiedMode,
 * IsCgroup2HybridMode, GetCgroupMounts and ParseCgroupFile). Every function takes the text of
 * /proc/self/mountinfo or /proc/self/cgroup so tests can pass samples.
 */
import * as fs from 'node:fs';
import type { CgroupMode } from './types';

export const CGROUP_ROOT = '/sys/fs/cgroup';
export const UNIFIED_MOUNTPOINT_HYBRID = '/sys/fs/cgroup/unified';

/** v1 controller names that can appear as mount options (anything else is a mount flag). */
const V1_CONTROLLERS = new Set([
  'cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'devices', 'freezer', 'net_cls', 'perf_event',
  'net_prio', 'hugetlb', 'pids', 'rdma', 'misc', 'debug',
]);

export interface CgroupMount {
  mountpoint: string;
  /** The cgroup shown at the mountpoint (not "/" inside a cgroup namespace or for bind mounts). */
  root: string;
  fstype: 'cgroup' | 'cgroup2';
  /** v1: controller names and name=... for named hierarchies; v2: []. */
  controllers: string[];
}

function readProc(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function cgroupMounts(mountinfo: string = readProc('/proc/self/mountinfo')): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fields = line.slice(0, sep).split(' ');
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    if ((fstype !== 'cgroup' && fstype !== 'cgroup2') || fields.length < 5) continue;
    const controllers =
      fstype === 'cgroup2'
        ? []
        : superOptions.split(',').filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name='));
    mounts.push({ mountpoint: unescapeMountPath(fields[4]), root: unescapeMountPath(fields[3]), fstype, controllers });
  }
  return mounts;
}

export function detectMode(mountinfo: string = readProc('/proc/self/mountinfo')): CgroupMode {
  const mounts = cgroupMounts(mountinfo);
  // The last mount on a path hides earlier ones.
  const at = (p: string) => mounts.filter((m) => m.mountpoint === p).at(-1);
  if (at(CGROUP_ROOT)?.fstype === 'cgroup2') return 'v2';
  const hasV1 = mounts.some((m) => m.fstype === 'cgroup' && m.controllers.some((c) => !c.startsWith('name=')));
  if (hasV1 && at(UNIFIED_MOUNTPOINT_HYBRID)?.fstype === 'cgroup2') return 'hybrid';
  return 'v1';
}

/**
 * The mount serving each controller ('' = the v2 hierarchy). With several mounts of one
 * hierarchy, the one under /sys/fs/cgroup wins, then the first listed (runc takes the first).
 */
export function hierarchyMounts(mountinfo: string = readProc('/proc/self/mountinfo')): Map<string, CgroupMount> {
  const mounts = cgroupMounts(mountinfo);
  const preferred = [
    ...mounts.filter((m) => m.mountpoint === CGROUP_ROOT || m.mountpoint.startsWith(`${CGROUP_ROOT}/`)),
    ...mounts.filter((m) => !(m.mountpoint === CGROUP_ROOT || m.mountpoint.startsWith(`${CGROUP_ROOT}/`))),
  ];
  const out = new Map<string, CgroupMount>();
  for (const m of preferred) {
    const keys = m.fstype === 'cgroup2' ? [''] : m.controllers;
    for (const k of keys) if (!out.has(k)) out.set(k, m);
  }
  return out;
}

/** Controller -> mountpoint ('' = the cgroup2 mount); cpu and cpuacct share one on combined hierarchies. */
export function mountpoints(mountinfo?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, m] of hierarchyMounts(mountinfo)) out[k] = m.mountpoint;
  return out;
}

/** /proc/self/cgroup: controller -> cgroup path ('' for the v2 line `0::/...`; name=systemd kept as is). */
export function ownCgroups(procSelfCgroup: string = readProc('/proc/self/cgroup')): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, , controllers, cgPath] = m;
    if (controllers === '') {
      out[''] = cgPath;
      continue;
    }
    for (const c of controllers.split(',')) out[c] = cgPath;
  }
  return out;
}
