/**
 * The cgroup v1 manager (port of runc's fs.Manager), also used on hybrid hosts, where the
 * container's processes are additionally placed in the (controller-less) v2 tree: that gives
 * CLONE_INTO_CGROUP a target and cgroup.kill a way to kill the whole container.
 */
import * as fs from 'node:fs';
import type { LinuxResources } from '../../../types/oci';
import type { MakeDirs } from '../../native/binding';
import { ConfigError } from '../../errors';
import { emptyStats, destroyDirs, mkdirRetrying, readPids, setError, subCgroup, writeCgroupProc } from '../common';
import { CgroupError } from '../errors';
import { fileExists, writeFile } from '../file';
import type { Placement } from '../paths';
import type { RemoveOps } from '../remove';
import type { CgroupManager, CgroupMode, SetOptions, CgroupStats, FreezerState } from '../types';
import { CgroupWriter } from '../writer';
import * as blkio from './blkio';
import * as cpu from './cpu';
import * as cpuacct from './cpuacct';
import * as cpuset from './cpuset';
import * as devices from './devices';
import * as freezer from './freezer';
import * as hugetlb from './hugetlb';
import * as memory from './memory';
import * as net from './net';
import * as pids from './pids';

export interface ManagerLayout {
  paths: Record<string, string>;
  bases: Record<string, string>;
  mountpoints: Record<string, string>;
  placement: Placement;
  resources?: LinuxResources;
  skipDevices?: boolean;
  removeOps?: RemoveOps;
  /** mkdir -p off the main thread (binding.mkdirAsync), for createAsync. */
  makeDirs?: MakeDirs;
}

type Setter = (dir: string, r: LinuxResources, w: CgroupWriter) => void;

/** runc's v1 subsystem order, and whether a resource asks for each controller. */
const SETTERS: Array<[controller: string, set: Setter, wanted: (r: LinuxResources) => boolean]> = [
  ['cpuset', cpuset.set, (r) => Boolean(r.cpu?.cpus || r.cpu?.mems)],
  ['memory', memory.set, (r) => r.memory !== undefined && Object.values(r.memory).some((v) => v !== undefined && v !== 0 && v !== false)],
  ['cpu', cpu.set, (r) => r.cpu !== undefined && ['shares', 'quota', 'period', 'burst', 'idle', 'realtimePeriod', 'realtimeRuntime'].some((k) => r.cpu![k as keyof typeof r.cpu] !== undefined)],
  ['pids', pids.set, (r) => r.pids !== undefined],
  ['blkio', blkio.set, (r) => r.blockIO !== undefined && Object.keys(r.blockIO).length > 0],
  ['hugetlb', hugetlb.set, (r) => (r.hugepageLimits ?? []).length > 0],
  ['net_cls', net.setNetCls, (r) => Boolean(r.network?.classID)],
  ['net_prio', net.setNetPrio, (r) => (r.network?.priorities ?? []).length > 0],
];

export class V1Manager implements CgroupManager {
  readonly mode: CgroupMode;
  readonly paths: Readonly<Record<string, string>>;

  constructor(private readonly layout: ManagerLayout, hybrid: boolean) {
    this.mode = hybrid ? 'hybrid' : 'v1';
    this.paths = Object.freeze({ ...layout.paths });
  }

  /** Distinct directories (cpu and cpuacct share one on a combined hierarchy). */
  private dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  private primary(): string {
    const p = this.paths;
    return p.devices ?? p.memory ?? p.pids ?? p.freezer ?? p[''] ?? Object.values(p)[0];
  }

  /** The [controller, directory] entries `which` covers. */
  private entries(which: 'all' | 'unified' | 'v1'): [string, string][] {
    return Object.entries(this.paths).filter(([key]) => !((which === 'unified' && key !== '') || (which === 'v1' && key === '')));
  }

  create(which: 'all' | 'unified' | 'v1' = 'all'): void {
    for (const [key, dir] of this.entries(which)) this.makeOne(key, dir);
  }

  private makeOne(key: string, dir: string): void {
    const { mountpoints, resources } = this.layout;
    if (key === 'cpuset' && mountpoints.cpuset) mkdirRetrying(dir, () => cpuset.ensureDir(mountpoints.cpuset, dir, resources));
    else mkdirRetrying(dir, () => fs.mkdirSync(dir, { recursive: true, mode: 0o755 }));
  }

  /**
   * create(), with every mkdir in one threadpool job where the binding has one: a v1 cgroup
   * mkdir costs the kernel a tenth of a millisecond or more per hierarchy, time the event loop
   * spends on other containers meanwhile. A directory the job could not make is made again
   * here, the synchronous way, which reports the failure as create() does.
   */
  async createAsync(which: 'all' | 'unified' | 'v1' = 'all'): Promise<void> {
    const { makeDirs, mountpoints, resources } = this.layout;
    const entries = this.entries(which);
    if (!makeDirs || entries.length === 0) return this.create(which);
    const results = await makeDirs(entries.map(([, dir]) => dir));
    entries.forEach(([key, dir], i) => {
      const { code, created } = results[i];
      if (code !== null) this.makeOne(key, dir);
      else if (key === 'cpuset' && mountpoints.cpuset) cpuset.fill(mountpoints.cpuset, dir, created, resources);
    });
  }

  apply(pid: number): void {
    this.create();
    // A SCHED_RR task can only join a cpu cgroup that already has RT bandwidth.
    if (this.paths.cpu && this.layout.resources) cpu.setRtSched(this.paths.cpu, this.layout.resources);
    for (const dir of this.dirs()) writeCgroupProc(dir, pid);
  }

  unifiedPath(): string | null {
    return this.paths[''] ?? null;
  }

  set(resources: LinuxResources, opts: SetOptions = {}): void {
    if (resources.unified && Object.keys(resources.unified).length > 0) {
      throw new ConfigError('linux.resources.unified', `cannot be used on a cgroup ${this.mode} host (cgroup v2 only)`);
    }
    for (const [controller, , wanted] of SETTERS) {
      if (wanted(resources) && !this.paths[controller]) {
        throw new CgroupError('', `cannot set ${controller} limits: the ${controller} controller is not mounted`);
      }
    }
    const w = new CgroupWriter(!opts.fresh);
    try {
      // runc's order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio.
      for (const [controller, setter] of SETTERS) {
        if (this.paths[controller]) setter(this.paths[controller], resources, w);
        if (controller === 'cpuset' && !this.layout.skipDevices) {
          if (!this.paths.devices) throw new CgroupError('', 'the devices controller is not mounted; it is required to confine device access');
          devices.set(this.paths.devices, resources, w);
        }
      }
    } catch (err) {
      w.rollback();
      throw setError(err);
    }
  }

  getPids(recursive = false): number[] {
    return readPids(this.primary(), recursive);
  }

  freeze(state: 'frozen' | 'thawed'): void {
    if (!this.paths.freezer) throw new CgroupError('', 'cannot freeze: the freezer controller is not mounted');
    freezer.freeze(this.paths.freezer, state);
  }

  freezerState(): FreezerState {
    return this.paths.freezer ? freezer.state(this.paths.freezer) : 'thawed';
  }

  stats(): CgroupStats {
    const s = emptyStats();
    const p = this.paths;
    if (p.memory) s.memory = memory.stats(p.memory);
    if (p.cpuacct) Object.assign(s.cpu, cpuacct.stats(p.cpuacct));
    if (p.cpu) Object.assign(s.cpu, cpu.stats(p.cpu));
    if (p.pids) s.pids = pids.stats(p.pids);
    if (p.blkio) s.io = blkio.stats(p.blkio);
    if (p.hugetlb) s.hugetlb = hugetlb.stats(p.hugetlb);
    return s;
  }

  oomKillCount(): number {
    return this.paths.memory ? memory.oomKillCount(this.paths.memory) : 0;
  }

  /** Only on hybrid hosts, through the v2 tree every container process is also in. */
  kill(): boolean {
    const unified = this.paths[''];
    if (!unified || !fileExists(unified, 'cgroup.kill')) return false;
    writeFile(unified, 'cgroup.kill', '1');
    return true;
  }

  async destroy(opts: { once?: boolean } = {}): Promise<void> {
    await destroyDirs(this.dirs(), Object.values(this.layout.bases), this.layout.placement, this.layout.removeOps, opts.once);
  }

  exists(): boolean {
    return fs.existsSync(this.primary());
  }

  pathsForExec(subCgroupPath?: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, dir] of Object.entries(this.paths)) out[k] = subCgroup(dir, subCgroupPath);
    return out;
  }
}
