/**
 * createManager: detect the host's cgroup layout, place the container, and return the v1
 * (also hybrid) or v2 manager (port of runc's manager.New for the fs/fs2 drivers).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '../../types/oci';
import { makeDirsOf, removeEachOf } from '../native/binding';
import type { NativeBinding } from '../native/types';
import { CGROUP_ROOT, detectMode, hierarchyMounts, ownCgroups, type CgroupMount } from './detect';
import { DEFAULT_PARENT, cgroupPlacement, hostMountpoint, refuseCgroupFileNames, resolvePaths } from './paths';
import { removeOpsFor, type RemoveOps } from './remove';
import type { CgroupManager, CgroupMode } from './types';
import { V1Manager } from './v1/manager';
import { V2Manager } from './v2/manager';

export interface CreateManagerOptions {
  /** Container id (the default path is `node-libcontainer/<id>`). */
  id: string;
  /** linux.cgroupsPath: absolute = from each hierarchy's root; relative = under our own cgroup. */
  cgroupsPath?: string;
  /** Default: detected from mountinfo. */
  mode?: CgroupMode;
  /** Where the hierarchies are mounted: /sys/fs/cgroup, or a temp dir in tests. */
  root?: string;
  /** For the v2 eBPF device program. */
  binding?: NativeBinding;
  /** Text of /proc/self/cgroup (tests). */
  procSelfCgroup?: string;
  /** Text of /proc/self/mountinfo (tests). */
  mountinfo?: string;
  /** The container's resources at creation: cpuset cpus/mems for new v1 dirs, RT settings before apply(pid). */
  resources?: LinuxResources;
  /** Leave device access alone (runc's SkipDevices): for cgroups whose devices someone else manages. */
  skipDevices?: boolean;
  /** Paths saved in the container's state (controller -> dir, '' = v2): reuse them instead of placing again. */
  paths?: Record<string, string>;
  /** rmdir/readdir/sleep for destroy() (tests). */
  removeOps?: RemoveOps;
}

let cachedHostLayout: { mode: CgroupMode; mounts: Map<string, CgroupMount> } | null = null;

/**
 * This host's cgroup mounts, read once per process: they do not move while a runtime runs,
 * and parsing mountinfo on every createContainer was a tenth of its cost. Our own cgroup
 * (/proc/self/cgroup) is still read each time: a supervisor may move us.
 */
function hostLayout(): { mode: CgroupMode; mounts: Map<string, CgroupMount> } {
  if (!cachedHostLayout) {
    const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    cachedHostLayout = { mode: detectMode(mountinfo), mounts: hierarchyMounts(mountinfo) };
  }
  return cachedHostLayout;
}

let lastOwn: { text: string; own: Record<string, string> } | null = null;

/** ownCgroups, parsed again only when the text changed (we were moved). */
function ownCgroupsOf(text: string): Record<string, string> {
  if (lastOwn?.text !== text) lastOwn = { text, own: ownCgroups(text) };
  return lastOwn.own;
}

export function createManager(opts: CreateManagerOptions): CgroupManager {
  const common = { resources: opts.resources, skipDevices: opts.skipDevices, removeOps: opts.removeOps ?? removeOpsFor(removeEachOf(opts.binding)), makeDirs: makeDirsOf(opts.binding) };
  if (opts.paths && Object.keys(opts.paths).length > 0) {
    const paths = { ...opts.paths };
    const keys = Object.keys(paths);
    const mode: CgroupMode = opts.mode ?? (keys.length === 1 && keys[0] === '' ? 'v2' : '' in paths ? 'hybrid' : 'v1');
    const bases: Record<string, string> = {};
    for (const [k, dir] of Object.entries(paths)) bases[k] = path.dirname(path.dirname(dir));
    const isDefault = Object.values(paths).every((dir) => path.basename(path.dirname(dir)) === DEFAULT_PARENT);
    // Where each hierarchy is mounted: a first start from a loaded container needs the cpuset
    // mount to give its new cpuset directory cpus and mems (without them the init cannot join
    // it: ENOSPC).
    const mounts = opts.mountinfo === undefined ? hostLayout().mounts : hierarchyMounts(opts.mountinfo);
    const mountpoints: Record<string, string> = {};
    for (const key of keys) {
      const mount = mounts.get(key);
      if (mount) mountpoints[key] = hostMountpoint(mount.mountpoint, opts.root ?? CGROUP_ROOT);
    }
    const layout = { paths, bases, mountpoints, placement: { inner: '', absolute: false, isDefault }, ...common };
    return mode === 'v2' ? new V2Manager(layout, opts.binding) : new V1Manager(layout, mode === 'hybrid');
  }
  const host = opts.mountinfo === undefined ? hostLayout() : null;
  const mode = opts.mode ?? host?.mode ?? detectMode(opts.mountinfo);
  const placement = cgroupPlacement(opts.id, opts.cgroupsPath);
  const resolved = resolvePaths({
    mode,
    placement,
    mounts: host?.mounts ?? hierarchyMounts(opts.mountinfo),
    own: ownCgroupsOf(opts.procSelfCgroup ?? fs.readFileSync('/proc/self/cgroup', 'utf8')),
    root: opts.root ?? CGROUP_ROOT,
  });
  refuseCgroupFileNames(resolved, placement, opts.id);
  const layout = { ...resolved, placement, ...common };
  return mode === 'v2' ? new V2Manager(layout, opts.binding) : new V1Manager(layout, mode === 'hybrid');
}
