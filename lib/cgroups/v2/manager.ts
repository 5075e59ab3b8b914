/** The cgroup v2 manager (port of runc's fs2.Manager): one directory for everything. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import createDebug from 'debug';
import type { LinuxResources } from '../../../types/oci';
import { emptyStats, destroyDirs, mkdirRetrying, readPids, setError, subCgroup, writeCgroupProc } from '../common';
import { fileExists, writeFile } from '../file';
import type { CgroupManager, CgroupMode, SetOptions, CgroupStats, FreezerState } from '../types';
import type { ManagerLayout } from '../v1/manager';
import { CgroupError, errnoCode } from '../errors';
import { CgroupWriter } from '../writer';
import { controllerList, createPath, type EnableResult } from './controllers';
import * as cpu from './cpu';
import * as cpuset from './cpuset';
import * as devices from './devices';
import type { DeviceBinding } from './devices';
import * as freezer from './freezer';
import * as hugetlb from './hugetlb';
import { setRdma } from '../rdma';
import * as io from './io';
import * as memory from './memory';
import * as pids from './pids';
import * as unified from './unified';

const debug = createDebug('node-libcontainer:cgroups');

export class V2Manager implements CgroupManager {
  readonly mode: CgroupMode = 'v2';
  readonly paths: Readonly<Record<string, string>>;
  private readonly dir: string;
  /** Controllers an ancestor refused to enable at create() (e.g. EBUSY: it has processes of its own). */
  refusedControllers: EnableResult['refused'] = [];

  constructor(
    private readonly layout: ManagerLayout,
    private readonly binding?: DeviceBinding,
  ) {
    this.dir = layout.paths[''];
    this.paths = Object.freeze({ '': this.dir });
  }

  create(which: 'all' | 'unified' | 'v1' = 'all'): void {
    if (which === 'v1') return;
    const base = this.layout.bases[''];
    mkdirRetrying(this.dir, () => {
      const { result } = createPath(base, this.dir);
      this.refusedControllers = result.refused;
      if (result.refused.length > 0) {
        debug('controllers not enabled for %s: %o', this.dir, result.refused);
      }
    });
  }

  /** As create(): one directory, made before the clone that lands in it, where it has to be synchronous anyway. */
  async createAsync(which: 'all' | 'unified' | 'v1' = 'all'): Promise<void> {
    this.create(which);
  }

  apply(pid: number): void {
    this.create();
    writeCgroupProc(this.dir, pid);
  }

  unifiedPath(): string | null {
    return this.dir;
  }

  private controllers(): Set<string> {
    return new Set(controllerList(this.dir, 'cgroup.controllers'));
  }

  set(resources: LinuxResources, opts: SetOptions = {}): void {
    // Bad unified keys are config errors: report them before anything changes.
    unified.validate(this.dir, resources.unified, this.controllers());
    const w = new CgroupWriter(!opts.fresh);
    try {
      pids.set(this.dir, resources, w);
      memory.set(this.dir, resources, w);
      io.set(this.dir, resources, w);
      cpu.set(this.dir, resources, w);
      cpuset.set(this.dir, resources, w);
      hugetlb.set(this.dir, resources, w);
      setRdma(this.dir, resources, w);
      unified.set(this.dir, resources.unified, w);
      // Last, unlike runc: the program swap has no undo, so nothing may fail after it.
      if (!this.layout.skipDevices) devices.set(this.dir, resources, this.binding);
    } catch (err) {
      w.rollback();
      throw setError(err, this.refusalHint(err));
    }
  }

  /** Why a controller's file is missing, when an ancestor refused to enable that controller. */
  private refusalHint(err: unknown): string | undefined {
    if (!(err instanceof CgroupError) || errnoCode(err.cause) !== 'ENOENT') return undefined;
    const controller = path.basename(err.path).split('.')[0];
    const refusal = this.refusedControllers.find((r) => r.controller === controller);
    if (!refusal) return undefined;
    const why =
      refusal.code === 'EBUSY'
        ? `${refusal.dir} holds processes of its own, and cgroup v2 enables controllers only for the children of cgroups without processes. Run Node in a leaf cgroup of a delegated subtree (systemd: Delegate=yes, with the service's processes moved into a sub-cgroup) and leave linux.cgroupsPath relative, or give linux.cgroupsPath an absolute path in a subtree whose cgroups hold no processes`
        : `${refusal.dir} refused it (${refusal.code})`;
    return `the ${controller} controller is not enabled for this cgroup: ${why}`;
  }

  getPids(recursive = false): number[] {
    return readPids(this.dir, recursive);
  }

  freeze(state: 'frozen' | 'thawed'): void {
    freezer.freeze(this.dir, state);
  }

  freezerState(): FreezerState {
    return freezer.state(this.dir);
  }

  stats(): CgroupStats {
    const s = emptyStats();
    s.pids = pids.stats(this.dir);
    if (fileExists(this.dir, 'memory.current')) s.memory = memory.stats(this.dir);
    if (fileExists(this.dir, 'cpu.stat')) s.cpu = cpu.stats(this.dir);
    s.io = io.stats(this.dir);
    s.hugetlb = hugetlb.stats(this.dir);
    return s;
  }

  oomKillCount(): number {
    return memory.oomKillCount(this.dir);
  }

  kill(): boolean {
    if (!fileExists(this.dir, 'cgroup.kill')) return false;
    writeFile(this.dir, 'cgroup.kill', '1');
    return true;
  }

  async destroy(opts: { once?: boolean } = {}): Promise<void> {
    await destroyDirs([this.dir], Object.values(this.layout.bases), this.layout.placement, this.layout.removeOps, opts.once);
  }

  exists(): boolean {
    return fs.existsSync(this.dir);
  }

  pathsForExec(subCgroupPath?: string): Record<string, string> {
    return { '': subCgroup(this.dir, subCgroupPath) };
  }
}
