/**
 * The cgroup v1 manager (port of runc's fs.Manager), also used on hybrid hosts, where the
 * container's processes are additionally placed in the (controller-less) v2 tree: that gives
 * CLONE_INTO_CGROUP a target and cgroup.kill a way to kill the whole container.
 */
import * as fs from 'node:fs';
import type { LinuxResources } from '../../../types/oci';
import type { MakeDirs } from '../../native/binding';
import { ConfigError } from '../../errors';
import { setRdma, wantsRdma } from '../rdma';
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
const SETTERS: Array<[controller: string, set: Setter, wanted: (r: LinuxResources) => boolean, field: string]> = [
  ['cpuset', cpuset.set, (r) => Boolean(r.cpu?.cpus || r.cpu?.mems), 'linux.resources.cpu'],
  ['memory', memory.set, (r) => r.memory !== undefined && Object.values(r.memory).some((v) => v !== undefined && v !== 0 && v !== false), 'linux.resources.memory'],
  ['cpu', cpu.set, (r) => r.cpu !== undefined && ['shares', 'quota', 'period', 'burst', 'idle', 'realtimePeriod', 'realtimeRuntime'].some((k) => r.cpu![k as keyof typeof r.cpu] !== undefined), 'linux.resources.cpu'],
  ['pids', pids.set, (r) => r.pids !== undefined, 'linux.resources.pids'],
  ['blkio', blkio.set, (r) => r.blockIO !== undefined && Object.keys(r.blockIO).length > 0, 'linux.resources.blockIO'],
  ['hugetlb', hugetlb.set, (r) => (r.hugepageLimits ?? []).length > 0, 'linux.resources.hugepageLimits'],
  ['net_cls', net.setNetCls, (r) => Boolean(r.network?.classID), 'linux.resources.network.classID'],
  ['net_prio', net.setNetPrio, (r) => (r.network?.priorities ?? []).length > 0, 'linux.resources.network.priorities'],
  ['rdma', setRdma, wantsRdma, 'linux.resources.rdma'],
];

export class V1Manager implements CgroupManager {
  readonly mode: CgroupMode;
  readonly paths: Readonly<Record<string, string>>;
  /** The device rules createAsync's mkdir job wrote into the fresh devices cgroup, for the first set(). */
  #devicesDone: { rules: LinuxResources; done: devices.FreshDevicesDone } | undefined;

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
   * spends on other containers meanwhile. The same job gives each directory it makes what it
   * needs before the first set(): the cpuset its parent's cpus and mems (without cpus or mems
   * of the container's own), the devices cgroup its rules (decided here, from the list the
   * previous fresh directory of these rules started from; the job writes them only if the new
   * one starts from the same). A directory the job could not make is made again here, the
   * synchronous way, which reports the failure as create() does; a setup step it did not do is
   * done here.
   */
  async createAsync(which: 'all' | 'unified' | 'v1' = 'all'): Promise<void> {
    const { makeDirs, mountpoints, resources } = this.layout;
    const entries = this.entries(which);
    if (!makeDirs || entries.length === 0) return this.create(which);
    const ownCpuset = Boolean(resources?.cpu?.cpus || resources?.cpu?.mems);
    const devicesSetup = resources && this.paths.devices && !this.layout.skipDevices ? devices.freshSetup(this.paths.devices, resources) : undefined;
    const setups = entries.map(([key]) => {
      if (key === 'cpuset' && mountpoints.cpuset && !ownCpuset) return { copy: cpuset.copiedFiles(mountpoints.cpuset) };
      if (key === 'devices' && devicesSetup) return devicesSetup;
      return null;
    });
    const results = await makeDirs(
      entries.map(([, dir]) => dir),
      setups.some((s) => s !== null) ? setups : undefined,
    );
    this.#devicesDone = undefined;
    entries.forEach(([key, dir], i) => {
      const { code, created, setup } = results[i];
      const usable = setup && setup.error === undefined ? setup : undefined;
      if (code !== null) this.makeOne(key, dir);
      else if (key === 'cpuset' && mountpoints.cpuset && !usable?.copied) cpuset.fill(mountpoints.cpuset, dir, created, resources);
      else if (key === 'devices' && usable && resources) this.#devicesDone = { rules: resources, done: usable };
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
      throw new ConfigError('linux.resources.unified', `invalid configuration: cannot use unified on cgroup v1 (this host is ${this.mode}; unified is for cgroup v2 only)`);
    }
    for (const [controller, , wanted, field] of SETTERS) {
      if (wanted(resources) && !this.paths[controller]) {
        throw new CgroupError('', `${field}: cannot set ${controller} limits: the ${controller} controller is not mounted`);
      }
    }
    const w = new CgroupWriter(!opts.fresh);
    try {
      // runc's order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma.
      for (const [controller, setter] of SETTERS) {
        if (this.paths[controller]) setter(this.paths[controller], resources, w);
        if (controller === 'cpuset' && !this.layout.skipDevices) {
          if (!this.paths.devices) throw new CgroupError('', 'the devices controller is not mounted; it is required to confine device access');
          devices.set(this.paths.devices, resources, w, { done: this.#takeDevicesDone(resources, opts) });
        }
      }
    } catch (err) {
      w.rollback();
      throw setError(err);
    }
  }

  /** What createAsync's job did for these resources' device rules, once, for a fresh set(). */
  #takeDevicesDone(resources: LinuxResources, opts: SetOptions): devices.FreshDevicesDone | undefined {
    const made = this.#devicesDone;
    this.#devicesDone = undefined;
    if (!made || !opts.fresh) return undefined;
    // The job wrote the rules of the resources the layout was made with; a set() of others
    // (a caller's own) starts from what is there.
    const same = made.rules === resources || JSON.stringify(made.rules.devices ?? null) === JSON.stringify(resources.devices ?? null);
    return same ? made.done : undefined;
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
