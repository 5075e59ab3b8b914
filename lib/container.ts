/**
 * Container: the verbs of runc's libcontainer Container (container_linux.go), each short:
 * check the status, do its one thing, save state.
 */
import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import createDebug from 'debug';
import { loadBinding, removeEachOf } from './native/binding';
import type { NativeBinding } from './native/types';
import { ConfigError, ContainerError, ContainerNotFoundError, ContainerStateError, HookError, InitError, ProtocolError, withCleanupError, type InitFailure, invalidArgType, invalidArgValue } from './errors';
import { initFailure } from './process/handshake';
import { validateConfig } from './spec/validate';
import type { Spec } from '../types/oci';
import { runHooks, runHooksToTheEnd } from './hooks';
import { StateDir, defaultRoot, deriveStatus, processStatus, readProcStat, stateDirOwner, validateId, type SavedState } from './state';
import { buildExecPlan, buildInitPlan, type InitPlan } from './process/bootstrap';
import { rejectUnsupportedOptions } from './spec/unsupported';
import { mergeResources, rejectUnknownResources } from './spec/update';
import { compileSeccomp } from './spec/seccomp';
import { seccompAgent, withSeccomp } from './process/seccomp-agent';
import { prepareConfig } from './process/prepared';
import { requirePrivileges } from './process/privileges';
import { CLONE_NEWCGROUP } from './spec/linux';
import { startProcess } from './process/start';
import { Process, kEnding, kHandedOver, kOnKill, watchedByThisThread } from './process/process';
import { parseSignal } from './process/signals';
import { kLeaveExitToReaper, kOnConsole, rejectUnknownOptions, type ProcessOptions, type StdioStream } from './process/options';
import { abortError, armTermination, parseTermination, startDeadline, type Deadline, type Termination } from './process/termination';
import { containerProcesses } from './process/scan';
import { ALL_CPUS, hostIsolatedCpus, planAffinity, type AffinityPlan } from './process/affinity';
import { createManager, mountpoints, ownCgroups, type CgroupManager, type CgroupStats } from './cgroups';
import type { LinuxResources } from '../types/oci';
import { notifyOOM } from './cgroups/oom';

const debug = createDebug('node-libcontainer:container');

export const OCI_VERSION = '1.3.0';
const FIFO_NAME = 'exec.fifo';

export type Status = 'created' | 'running' | 'paused' | 'stopped';

export interface ContainerOptions {
  /** State root directory. Default /run/node-libcontainer (root) or $XDG_RUNTIME_DIR/node-libcontainer. */
  root?: string;
  /**
   * Bundle directory: a relative `root.path` is resolved against it. Default: process.cwd().
   * createContainer's only: loadContainer and listContainers take the same object and use the
   * bundle the container was created with.
   */
  bundle?: string;
  /** The native binding (tests inject a fake). */
  binding?: NativeBinding;
}

export interface ContainerState {
  /** The runtime-spec version this library implements (runc's state shows its own, not the config's). */
  ociVersion: string;
  id: string;
  status: Status;
  /** Host pid of the init, 0 when stopped. */
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  annotations: Record<string, string>;
  /**
   * The user owning the container's state directory, as `runc list` shows it: the name, or
   * "#<uid>" when no user has that uid; "" once the container is destroyed.
   */
  owner: string;
  config: Spec;
}

/** The OCI runtime-spec state (state-schema.json). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: Status | 'creating';
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

export interface SignalOptions {
  /** Every process of the container, not only its init. */
  all?: boolean;
}

export class Container {
  readonly id: string;
  readonly config: Spec;
  #dir: StateDir;
  #saved: SavedState;
  #binding: NativeBinding;
  #cgroups: CgroupManager;
  /** The init, when this Node process started it (then it is our child to reap). */
  #init: Process | null = null;
  #destroyed = false;

  /** The plan createContainer built from the config, for a start without process overrides. */
  #createdPlan: InitPlan | null;

  /** @internal use createContainer / loadContainer */
  constructor(dir: StateDir, saved: SavedState, binding: NativeBinding, cgroups: CgroupManager, plan: InitPlan | null = null) {
    this.#createdPlan = plan;
    this.id = saved.id;
    this.config = saved.config as Spec;
    this.#dir = dir;
    this.#saved = saved;
    this.#binding = binding;
    this.#cgroups = cgroups;
  }

  get #fifoPath(): string {
    return path.join(this.#dir.path, FIFO_NAME);
  }

  /** Port of refreshState: the status from facts (pid, its start time, zombie, the exec fifo). */
  /**
   * Re-read the saved state, as every runc command does: another handle or process may
   * have started, updated or destroyed the container since this object last looked.
   */
  #refresh(full = true): void {
    if (this.#destroyed || this.#destroying) return;
    // A status needs the init's record (init.json, small), not the config beside it.
    if (!full && this.#saved.initPid !== 0) {
      try {
        const init = this.#dir.readInit();
        if (init) this.#saved = { ...this.#saved, ...init };
        else if (!this.#dir.exists()) this.#destroyed = true;
      } catch (err) {
        if (!(err instanceof ContainerNotFoundError)) throw err;
        this.#destroyed = true;
      }
      return;
    }
    try {
      this.#saved = this.#dir.read();
      (this as { config: Spec }).config = this.#saved.config as Spec;
    } catch (err) {
      if (!(err instanceof ContainerNotFoundError)) throw err;
      this.#destroyed = true;
    }
  }

  async status(): Promise<Status> {
    return this.#status(false);
  }

  /**
   * With ownInit, an init this handle started and whose exit has not been reported counts as
   * alive without reading init.json or /proc/<pid>/stat: it is our child, watched through its
   * pidfd, and a destroy by anyone kills it first. exec() asks this way: on the first status
   * of a new container the two reads cost about 0.15 ms (new dentries and proc inodes). A
   * status() still re-reads the saved state on every call, as runc does.
   */
  #status(ownInit: boolean): Status {
    const ownLiveInit = ownInit && this.#init !== null && this.#init.exitStatus === null && !this.#destroyed && !this.#destroying;
    if (!ownLiveInit) this.#refresh(false);
    if (this.#destroyed) return 'stopped';
    const alive = ownLiveInit ? 'alive' : this.#saved.initPid > 0 ? processStatus(this.#saved.initPid, this.#saved.initStartTime) : 'gone';
    return deriveStatus({
      alive,
      fifoExists: fs.existsSync(this.#fifoPath),
      paused: alive === 'alive' && this.#isFrozen(),
    });
  }

  #isFrozen(): boolean {
    try {
      // freezerState reads a missing cgroup as thawed: no exists() check first.
      return this.#cgroups.freezerState() !== 'thawed';
    } catch {
      return false;
    }
  }

  async state(): Promise<ContainerState> {
    this.#refresh();
    const status = await this.status();
    return {
      ociVersion: OCI_VERSION,
      id: this.id,
      status,
      pid: status === 'stopped' ? 0 : this.#saved.initPid,
      bundle: this.#saved.bundle,
      rootfs: this.#saved.rootfs,
      created: this.#saved.created,
      annotations: this.#saved.annotations ?? {},
      owner: this.#destroyed ? '' : stateDirOwner(this.#dir.path),
      config: this.config,
    };
  }

  async ociState(): Promise<OciState> {
    const status = await this.status();
    if (status === 'stopped' && this.#startUnderWay()) return this.#oci('creating', undefined);
    return this.#oci(status, status === 'stopped' ? undefined : this.#saved.initPid);
  }

  /**
   * The runtime spec's `creating`: no init recorded yet, and a start holds the container's lock,
   * in this process or another (status() says `stopped` then, as libcontainer's does).
   */
  #startUnderWay(): boolean {
    if (this.#initStarting) return true;
    if (this.#destroyed || this.#saved.initPid !== 0) return false;
    try {
      const lock = this.#dir.tryLock(this.#binding);
      if (typeof lock === 'number') fs.closeSync(lock);
      return lock === 'busy';
    } catch {
      return false;
    }
  }

  #oci(status: OciState['status'], pid: number | undefined): OciState {
    const s: OciState = { ociVersion: OCI_VERSION, id: this.id, status, bundle: this.#saved.bundle };
    if (pid) s.pid = pid;
    if (this.#saved.annotations && Object.keys(this.#saved.annotations).length) s.annotations = this.#saved.annotations;
    return s;
  }

  #checkUsable(): void {
    if (this.#destroyed) throw new ContainerStateError(`container ${this.id} has been destroyed`);
    if (this.#destroying) throw new ContainerStateError(`container ${this.id} is being destroyed`);
  }

  /**
   * Starts of this handle not settled yet (the init's or an exec'd process's): destroy() waits
   * for them, so that nothing a start puts in the container can outlive its destruction (a
   * helper joining the cgroups after destroy looked would keep them busy and run on).
   */
  #starts = new Set<Promise<unknown>>();

  #tracked<T>(start: Promise<T>, settledToo?: () => void): Promise<T> {
    this.#starts.add(start);
    const settled = () => {
      this.#starts.delete(start);
      settledToo?.();
    };
    start.then(settled, settled);
    return start;
  }

  /** The init's start, once at a time per handle: a second one would put a second init in the same cgroups. */
  #initStarting = false;

  #startInitOnce(options: ProcessOptions, withFifo: boolean, abort?: AbortSignal): Promise<Process> {
    if (this.#initStarting) return Promise.reject(new ContainerStateError(`container ${this.id} is already being started`));
    this.#initStarting = true;
    return this.#tracked(this.#startInit(options, withFifo, abort), () => (this.#initStarting = false));
  }

  /**
   * Start a process. The init (`init: true`, the default while the container has none)
   * creates the container and leaves it `created`, waiting on the exec fifo for `exec()`.
   * Any other process runs inside the running container (runc exec).
   */
  async start(options: ProcessOptions = {}): Promise<Process> {
    this.#checkUsable();
    const termination = checkOptions(options);
    const init = options.init ?? this.#saved.initPid === 0;
    return this.#withDeadline(termination, async (deadline) => {
      if (!init) return this.#handOver(await this.#tracked(this.#startExec(options, deadline.signal)), termination, SIGTERM, deadline.remaining());
      return this.#handOver(await this.#startInitOnce(options, true, deadline.signal), termination, this.#initKillSignal(), deadline.remaining());
    });
  }

  /** start + exec for the init; for another process the same as start. */
  async run(options: ProcessOptions = {}): Promise<Process> {
    this.#checkUsable();
    const termination = checkOptions(options);
    return this.#withDeadline(termination, (deadline) => this.#run(options, termination, deadline));
  }

  /** What ends a start of this handle under way: the caller's signal or timeout, or destroy(). */
  async #withDeadline(termination: Termination | null, start: (deadline: Deadline) => Promise<Process>): Promise<Process> {
    const deadline = startDeadline(termination, this.#destroyAbort.signal);
    try {
      return await start(deadline);
    } finally {
      deadline.done();
    }
  }

  async #run(options: ProcessOptions, termination: Termination | null, deadline: Deadline): Promise<Process> {
    const init = options.init ?? this.#saved.initPid === 0;
    if (!init) return this.#handOver(await this.#tracked(this.#startExec(options, deadline.signal)), termination, SIGTERM, deadline.remaining());
    // Nothing has to happen between created and running (no poststart hook): the init execs
    // as soon as it is set up, with no exec fifo to make, wait on and remove (runc's run goes
    // through the fifo; the status a caller can see is the same once run() resolves).
    const needsFifo = Boolean(this.config.hooks?.poststart?.length);
    const proc = await this.#startInitOnce({ ...options, init }, needsFifo, deadline.signal);
    if (needsFifo) {
      try {
        await this.#exec(deadline.signal);
      } catch (err) {
        await this.destroy().catch((e: unknown) => debug('destroy after a failed run: %s', (e as Error).message));
        throw err;
      }
    }
    return this.#handOver(proc, termination, this.#initKillSignal(), deadline.remaining());
  }

  /**
   * The Process goes to the caller: its output drained at its exit, its timeout armed (what is
   * left of it: it counts from the start() or run() call), its SIGKILL effective while paused.
   */
  #handOver(proc: Process, termination: Termination | null, defaultKillSignal = SIGTERM, timeoutLeft?: number): Process {
    proc[kHandedOver]();
    this.#handedOver.add(proc);
    void proc.wait().then(() => this.#handedOver.delete(proc));
    proc[kOnKill]((killed) => this.#thawForKill(killed));
    armTermination(proc, termination && timeoutLeft !== undefined ? { ...termination, timeout: timeoutLeft } : termination, defaultKillSignal);
    return proc;
  }

  /** The processes start() and run() of this handle gave out, until they exit: destroy() quiets their stdin before killing them. */
  #handedOver = new Set<Process>();

  /** Changed by each pause() and resume(): a thaw for a kill re-freezes only if neither came since. */
  #freezeEpoch = 0;

  /**
   * A process killed in a paused container: cgroup v1's freezer keeps it frozen, SIGKILL and
   * all, until the cgroup is thawed (v2's lets fatal signals through). Thawed until it is gone,
   * then frozen again: the container stays paused, as its caller left it. The init's end is
   * the container's (its cgroup is not frozen again).
   */
  #thawForKill(proc: Process): void {
    if (!this.#cgroups.paths.freezer || !this.#isFrozen()) return;
    const epoch = ++this.#freezeEpoch;
    this.#cgroups.freeze('thawed');
    if (proc === this.#init) return;
    void Promise.race([proc.wait(), sleep(KILL_THAW_MS, undefined, { ref: false })]).then(() => {
      if (this.#freezeEpoch !== epoch || this.#destroyed) return;
      try {
        this.#cgroups.freeze('frozen');
      } catch (err) {
        debug('container %s: freezing again after a kill: %s', this.id, (err as Error).message);
      }
    });
  }

  /** What a timeout or an abort sends the init by default: see armTermination. */
  #initKillSignal(): number {
    return hasPrivateNamespace(this.config, 'pid') ? SIGKILL : SIGTERM;
  }

  /**
   * The init's start, under the container's lock until the init is recorded (or the failed
   * start cleaned up): a start or a destroy elsewhere (another handle or process) is refused
   * or waits. Its cgroup is claimed too, until the init is in it (see #claimCgroup).
   */
  async #startInit(options: ProcessOptions, withFifo: boolean, abort?: AbortSignal): Promise<Process> {
    const lock = this.#dir.tryLock(this.#binding);
    if (lock === 'busy') throw new ContainerStateError(`container ${this.id} is being started or destroyed elsewhere`);
    let claimed: string | null = null;
    try {
      // Another handle or process may have started it since we loaded it (runc re-reads state;
      // the config cannot have changed: set() refuses a container that was never started).
      if (this.#saved.initPid !== 0 || this.#dir.initRecorded()) throw new ContainerStateError(`container ${this.id} already has an init process`);
      claimed = this.#claimCgroup();
      return await this.#createInit(options, withFifo, abort);
    } finally {
      if (claimed !== null) startingCgroups.delete(claimed);
      if (lock !== null) fs.closeSync(lock);
    }
  }

  /** A start refused the cgroup as someone else's (see #claimCgroup): destroy leaves it alone. */
  #cgroupRefused = false;

  /**
   * runc's Create refuses a cgroup that already holds processes, or is frozen: it is someone else's. Two
   * starts here at once must not both find it empty: the cgroup stays claimed (its key in
   * startingCgroups) until the caller lets go. Across processes the emptiness check is all
   * there is, as in runc.
   */
  #claimCgroup(): string {
    const key = cgroupKey(this.#cgroups);
    const cgroup = Object.values(this.#cgroups.paths)[0];
    if (startingCgroups.has(key)) throw new ConfigError('linux.cgroupsPath', `cgroup ${cgroup} is being used by another container's start`);
    if (this.#cgroups.exists() && this.#cgroups.getPids(true).length > 0) {
      this.#cgroupRefused = true;
      throw new ConfigError('linux.cgroupsPath', `cgroup ${cgroup} is not empty: another container uses it`);
    }
    // As runc's Create: a frozen cgroup (someone else's, empty) would stop the helper at its
    // first step, and the start would wait for it forever.
    if (this.#isFrozen()) {
      this.#cgroupRefused = true;
      throw new ConfigError('linux.cgroupsPath', `container's cgroup unexpectedly frozen (${cgroup})`);
    }
    startingCgroups.set(key, this);
    return key;
  }

  // port of (*Container).start for process.Init, with (*initProcess).start's cgroup steps
  async #createInit(options: ProcessOptions, withFifo: boolean, abort?: AbortSignal): Promise<Process> {
    const fifo = withFifo ? this.#fifoPath : null;
    const plan = unshareCgroupNsAfterPlacement(this.#initPlan(options, fifo));
    if (fifo) {
      try {
        this.#binding.mkfifo(fifo, 0o622);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ContainerStateError(`container ${this.id} is already being started`);
        throw err;
      }
      // mkfifo honours the umask; a non-root container user must be able to open it for writing.
      fs.chmodSync(fifo, 0o622);
    }
    const hooks = this.config.hooks;
    // runc applies resources and runs prestart/createRuntime at procHooks, once the mounts are
    // made (and poststop follows a create that failed after it). Without hooks and without
    // linux.devices (whose mknod the device rules could forbid) nothing depends on that moment: the resources are set before the helper starts,
    // and the helper skips the round trip.
    const syncHooks = Boolean(
      hooks?.prestart?.length || hooks?.createRuntime?.length || hooks?.createContainer?.length ||
        hooks?.startContainer?.length || hooks?.poststop?.length || this.config.linux?.devices?.length,
    );
    let cgroupFd: number | undefined;
    let hooksStarted = false;
    // The helper forks the init when a pid namespace is joined by path: its pid comes later.
    const forks = Boolean((plan.bootstrap.namespaces as { forkChild?: boolean }).forkChild);
    let startTime: string | null = null;
    try {
      // The init lands in its cgroups before it can fork: cloned into the v2 directory
      // (CLONE_INTO_CGROUP), so that one must exist first; the v1 ones, which the helper joins
      // first thing once it has its plan, are made while it is being cloned.
      this.#cgroups.create('unified');
      const unified = this.#cgroups.unifiedPath();
      if (unified) cgroupFd = this.#binding.openDirectory(unified);
      const proc = await startProcess({
        binding: this.#binding,
        mode: 'init',
        cloneFlags: plan.cloneFlags,
        // The helper joins the v1 hierarchies itself, first thing (see joinCgroups in init.cc).
        bootstrap: { ...this.#startBootstrap(plan, this.#cgroups.paths, options), syncHooks },
        ...stdioOrTerminal(plan, options),
        ...seccompAgent(plan, this.config.linux?.seccomp, this.#binding, (pid) => this.#oci('creating', pid)),
        extraFiles: options.extraFiles ?? [],
        rlimits: plan.rlimits,
        ...(cgroupFd !== undefined ? { cgroupFd } : {}),
        ...(abort ? { abort } : {}),
        // The plan goes only once the spawn has recorded the init (starting.json, written by
        // the spawn job right after the clone): a helper that had its plan before could run
        // on into a created or running container while this process died unrecorded, out of
        // any later destroy()'s reach. Without its plan, a helper whose parent died reads EOF
        // and exits.
        planBeforeSpawned: false,
        whileSpawning: async () => {
          await this.#cgroups.createAsync('v1');
          if (!syncHooks) this.#cgroups.set(this.config.linux?.resources ?? {}, { fresh: true });
        },
        onHooks: async (pid) => {
          hooksStarted = true;
          // Resources before prestart, so a hook may rely on them (runc's procHooks).
          this.#cgroups.set(this.config.linux?.resources ?? {}, { fresh: true });
          const creating = this.#oci('creating', pid);
          await runHooks('prestart', hooks?.prestart, creating, { signal: abort });
          await runHooks('createRuntime', hooks?.createRuntime, creating, { signal: abort });
          return creating;
        },
        // The start time that tells our init from a reused pid, read while the process surely
        // lives: the helper blocks on its plan until we send it, or on procRun.
        // Noted at once (not yet as the container's init: that is for a start that finished),
        // by the spawn itself, before this thread hears of it: the helper, told everything
        // already, may run the program before then. A destroy, here or in another process
        // after this one died half-way, then finds what this start made and kills it.
        ...(forks ? {} : { recordPath: this.#dir.startingFile }),
        onSpawned: forks
          ? undefined
          : (pid, fromSpawn, recorded) => {
              startTime = fromSpawn ?? initStartTime(pid);
              if (!recorded) this.#dir.writeStarting({ initPid: pid, initStartTime: startTime });
            },
        // Without a fork in the helper, it sets the rlimits and resets its CPU affinity to its
        // cpuset itself (runc's tryResetCPUAffinity: a v1 cpuset join narrowed it) and goes on
        // without waiting for procRun: one round trip less.
        readyAck: forks,
        onReady: async (pid) => {
          this.#resetAffinity(pid);
          startTime = initStartTime(pid);
        },
        // Saved while the helper drops its privileges (it needs nothing from the state).
        onRunning: async (pid) => {
          const init = { initPid: pid, initStartTime: startTime!, created: new Date().toISOString() };
          this.#dir.writeInit(init);
          this.#saved = { ...this.#saved, ...init };
        },
      });
      this.#init = proc;
      debug('container %s created, init pid %d', this.id, proc.pid);
      return proc;
    } catch (err) {
      const oom = this.#oomKills();
      const failure = oom > 0 ? new ContainerError('ERR_OOM', 'container init was OOM-killed (memory limit too low?)', { cause: err }) : err;
      // runc's create destroys what it made on failure: nothing is left behind. Once the
      // lifecycle reached the hooks, the spec continues it at poststop (errors only logged).
      if (hooksStarted && this.config.hooks?.poststop?.length) await this.#runPoststop();
      try {
        await this.#removeEverything();
      } catch (cleanupErr) {
        // A state directory that could not go (a read-only state root): the failure of the
        // start is the error; a destroy() once the root is writable again removes the rest.
        if (this.#dir.exists()) this.#destroyed = false;
        throw withCleanupError(failure, cleanupErr);
      }
      throw failure;
    } finally {
      if (cgroupFd !== undefined) this.#binding.close(cgroupFd);
    }
  }

  /** What each start adds to its plan, init or exec: the v1 cgroups to join, the session keyring, dieWithParent. */
  #startBootstrap(plan: InitPlan, cgroupPaths: Readonly<Record<string, string>>, options: ProcessOptions): Record<string, unknown> {
    return { ...plan.bootstrap, cgroupJoin: v1Dirs(cgroupPaths), sessionKeyring: sessionKeyringName(this.id), dieWithParent: options.dieWithParent === true };
  }

  /** The init's plan: the one createContainer made (and validated) unless options change the process. */
  #initPlan(options: ProcessOptions, fifo: string | null): InitPlan {
    const base = this.#createdPlan;
    if (base && !PROCESS_FIELDS.some((k) => options[k] !== undefined)) {
      // The plan is reused as is: what buildInitPlan would refuse is refused here.
      rejectUnsupportedOptions(options);
      return withSeccomp({ ...base, bootstrap: { ...base.bootstrap, execFifo: fifo ?? '' } }, this.config.linux?.seccomp, this.#binding);
    }
    return withSeccomp(buildInitPlan(this.config, this.#saved.rootfs, this.#saved.bundle, options, fifo), this.config.linux?.seccomp, this.#binding);
  }

  #oomKills(): number {
    try {
      return this.#cgroups.oomKillCount();
    } catch {
      return 0;
    }
  }

  #resetAffinity(pid: number): void {
    try {
      this.#binding.setAffinity(pid, ALL_CPUS as number[]);
    } catch (err) {
      debug('resetting the CPU affinity of %d failed: %s', pid, (err as Error).message);
    }
  }

  // port of (*Container).start for a non-init process: (*setnsProcess).start
  async #startExec(options: ProcessOptions, abort?: AbortSignal): Promise<Process> {
    // The facts a status() would read, each once: a recorded init (re-read when this handle
    // has none), alive with its recorded start time (the pidfd check), not frozen.
    if (this.#saved.initPid === 0) this.#refresh();
    // A start() or run() of a container whose init has come and gone lands here too: the message
    // says why nothing can start in it any more.
    const stopped = `cannot start a process in container ${this.id}: it is stopped (its init has exited)`;
    if (this.#destroyed) throw new ContainerStateError(stopped);
    if (this.#saved.initPid === 0) throw new ContainerStateError(`cannot start a process in container ${this.id}: it has no init yet (start or run one first)`);
    const pidfd = this.#openInitPidfd(stopped);
    try {
      if (this.#isFrozen()) throw new ContainerStateError(`cannot exec in a paused container ${this.id}`);
      const plan = withSeccomp(buildExecPlan(this.config, options), this.config.linux?.seccomp, this.#binding);
      const cgroupPaths = this.#cgroups.pathsForExec(options.subCgroupPath);
      const affinity = this.#execAffinity(options);
      const oomBefore = this.#oomKills();
      const request = {
        binding: this.#binding,
        mode: 'exec' as const,
        cloneFlags: 0,
        bootstrap: this.#startBootstrap(plan, cgroupPaths, options),
        ...stdioOrTerminal(plan, options),
        ...seccompAgent(plan, this.config.linux?.seccomp, this.#binding, () => this.#oci('running', this.#saved.initPid)),
        extraFiles: options.extraFiles ?? [],
        joinPidfd: pidfd,
        rlimits: plan.rlimits,
        ...(affinity.initial ? { cpuAffinity: affinity.initial } : {}),
        // The helper sets the rlimits and its final affinity itself (the v1 cpuset join, which
        // it makes first, resets the affinity) and does not wait for procRun.
        readyAck: false,
        affinity: affinity.final ?? null,
        ...(abort ? { abort } : {}),
      };
      try {
        return await this.#spawnExec(request, cgroupPaths['']);
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        if (this.#oomKills() !== oomBefore && err instanceof Error) err.message += ' (possibly OOM-killed)';
        // The init ended while the exec was joining it (setns: ESRCH, or the helper killed with
        // the pid namespace): the same refusal as an exec that came a moment later. A failure of
        // the process's own set-up past the joins (no such program, a bad cwd) says nothing of
        // the init: reported at once, without waiting on its exit.
        const ownFailure = err instanceof InitError && err.stage !== 'namespaces' && err.stage !== 'fork';
        if (!(err instanceof ContainerStateError) && !ownFailure && (await this.#initEndsWithin(250))) {
          throw new ContainerStateError(`cannot start a process in container ${this.id}: it stopped meanwhile`, { cause: err });
        }
        throw err;
      }
    } finally {
      this.#binding.close(pidfd);
    }
  }

  /**
   * Cloned straight into the v2 cgroup (CLONE_INTO_CGROUP), so the plan can go before the
   * clone completes. A v2 cgroup that cannot take processes (EBUSY: it has children with
   * controllers) is joined the old way, by pid, with runc's fallback to the init's cgroup.
   */
  async #spawnExec(request: Parameters<typeof startProcess>[0], v2Dir: string | undefined): Promise<Process> {
    if (v2Dir === undefined) return startProcess({ ...request, planBeforeSpawned: true });
    let cgroupFd: number | null = null;
    try {
      cgroupFd = this.#binding.openDirectory(v2Dir);
    } catch {
      // gone or not a directory: the join by pid reports it
    }
    if (cgroupFd !== null) {
      try {
        return await startProcess({ ...request, cgroupFd, planBeforeSpawned: true });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (!(e.syscall === 'clone3' && e.code === 'EBUSY')) throw err;
      } finally {
        this.#binding.close(cgroupFd);
      }
    }
    return startProcess({ ...request, onSpawned: (pid) => this.#joinCgroups(pid, { '': v2Dir }) });
  }

  #execAffinity(options: ProcessOptions): AffinityPlan {
    const field = options.execCPUAffinity ? 'execCPUAffinity' : 'process.execCPUAffinity';
    const configured = options.execCPUAffinity ?? (this.config.process as { execCPUAffinity?: { initial?: string; final?: string } } | undefined)?.execCPUAffinity;
    const cpus = this.config.linux?.resources?.cpu?.cpus;
    const transition = cpus ? { cpusetCpus: cpus, annotations: this.#saved.annotations ?? {}, isolated: hostIsolatedCpus() } : undefined;
    return planAffinity(configured, field, transition);
  }

  /** Write pid into each hierarchy; on v2 EBUSY, join the init's own cgroup instead (runc's fallback). */
  #joinCgroups(pid: number, paths: Record<string, string>): void {
    for (const [controller, dir] of Object.entries(paths)) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || controller !== '') throw err;
        const initCgroup = ownCgroups(fs.readFileSync(`/proc/${this.#saved.initPid}/cgroup`, 'utf8'))[''];
        const mount = mountpoints()[''];
        if (initCgroup === undefined || !mount) throw err;
        fs.writeFileSync(path.join(mount, initCgroup, 'cgroup.procs'), String(pid));
      }
    }
  }

  /** A pidfd of the init, checked against its recorded start time so a reused pid is never signalled. */
  #openInitPidfd(notRunning = `container ${this.id} is not running`): number {
    const pid = this.#saved.initPid;
    if (!pid) throw new ContainerStateError(notRunning);
    let pidfd: number;
    try {
      pidfd = this.#binding.pidfdOpen(pid);
    } catch (err) {
      // ESRCH: the init is gone, which is all the caller needs to hear (the errno stays in cause).
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw new ContainerStateError(notRunning, { cause: err });
      throw new ContainerStateError(`${notRunning} (${(err as Error).message})`, { cause: err });
    }
    if (processStatus(pid, this.#saved.initStartTime) !== 'alive') {
      this.#binding.close(pidfd);
      throw new ContainerStateError(notRunning);
    }
    return pidfd;
  }

  /** Release a created container: its init execs the user's program. Port of (*Container).exec. */
  exec(): Promise<void> {
    return this.#exec(this.#destroyAbort.signal);
  }

  /** exec() calls under way, run()'s included (destroy() aborts their poststart hooks). */
  #execs = 0;

  /** exec(); an abort fails it with an AbortError (killing its poststart hook; the caller kills the container). */
  async #exec(abort?: AbortSignal): Promise<void> {
    this.#execs++;
    try {
      await this.#release(abort);
    } finally {
      this.#execs--;
    }
  }

  async #release(abort?: AbortSignal): Promise<void> {
    this.#checkUsable();
    let status = this.#status(true);
    // The refusal names what the saved state says too (a destroy elsewhere may not have been
    // reported by our exit watch yet).
    if (status !== 'created') status = this.#status(false);
    if (status !== 'created') throw new ContainerStateError(`cannot exec container ${this.id} in status ${status}`);
    await this.#openFifo(abort);
    try {
      fs.unlinkSync(this.#fifoPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (this.config.hooks?.poststart?.length) {
      try {
        await runHooks('poststart', this.config.hooks.poststart, this.#oci('running', this.#saved.initPid), { signal: abort });
      } catch (err) {
        await this.#killAll();
        throw err;
      }
    }
  }

  /**
   * Read the exec fifo through to its end, racing the init's death so a dead init does not
   * leave us waiting forever. The init writes "0" as it is released, then "1" right before the
   * program's execve (after its startContainer hooks), or "E" and its failure as JSON; the
   * execve (or its death) closes the fifo. Resolves once the program has been exec'd: the
   * runtime spec runs poststart hooks after that, and start returns after them.
   */
  async #openFifo(abort?: AbortSignal): Promise<void> {
    // Read-only, as runc: poll reports a FIFO readable only once a writer has come, so the
    // watch waits for the init; a second exec() racing us then reads EOF, not nothing forever.
    const fd = fs.openSync(this.#fifoPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const exited = this.#initExited();
    let watch: { cancel(): void } | null = null;
    let onAbort: (() => void) | null = null;
    // fd is ours only until the finally below closes it. The init's exit can be reported
    // after that (exited.cancel() cannot unsubscribe from our own child's wait()), and by then
    // the number may name another container's sync socket: a read would steal its message.
    let open = true;
    let seen = '';
    const buf = Buffer.allocUnsafe(4096);
    // Everything there is to read now; true at EOF (every writer gone).
    const drain = (): boolean => {
      for (;;) {
        let n: number;
        try {
          n = fs.readSync(fd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return false;
          return true;
        }
        if (n === 0) return true;
        seen += buf.toString('utf8', 0, n);
      }
    };
    const outcome = (): ContainerError | null => {
      // Only the reader that got the "0" released the init (a second exec() racing sees none).
      if (!seen.startsWith('0')) return new ContainerStateError(`cannot start an already running container ${this.id}`);
      const failure = seen.indexOf('E');
      if (failure >= 0) {
        try {
          return initFailure(JSON.parse(seen.slice(failure + 1)) as InitFailure);
        } catch {
          return new ProtocolError(`unreadable failure report from the init of ${this.id} on its exec fifo`);
        }
      }
      if (seen.includes('1')) return null;
      return new ContainerStateError(`container ${this.id}'s init exited before its program started`);
    };
    try {
      await new Promise<void>((resolve, reject) => {
        const settle = (): void => {
          const err = outcome();
          if (err) reject(err);
          else resolve();
        };
        // Only we read this fd: no stream buffering what the init wrote.
        watch = this.#binding.watchReadable(fd, () => {
          if (drain()) settle();
        });
        exited.promise.then(() => {
          if (!open) return;
          // Dead, so no writer is left: what it wrote is all there is. The program may have
          // started and exited already (runc's exec handles the same race).
          drain();
          settle();
        });
        // A startContainer hook that hangs in the container keeps the fifo silent.
        if (abort?.aborted) reject(abortError(abort));
        onAbort = () => reject(abortError(abort!));
        abort?.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      open = false;
      if (onAbort) abort?.removeEventListener('abort', onAbort);
      exited.cancel();
      (watch as { cancel(): void } | null)?.cancel();
      fs.closeSync(fd);
    }
  }

  /** Whether the init has ended, or ends within `ms` (an init in its last moments: its pid namespace is being torn down). */
  async #initEndsWithin(ms: number): Promise<boolean> {
    if (processStatus(this.#saved.initPid, this.#saved.initStartTime) !== 'alive') return true;
    const exited = this.#initExited();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([exited.promise.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)))]);
    } finally {
      clearTimeout(timer);
      exited.cancel();
    }
  }

  /** A promise for the init's exit, from our own child or by polling a pidfd of it. */
  #initExited(): { promise: Promise<void>; cancel(): void } {
    if (this.#init) return { promise: this.#init.wait().then(() => undefined), cancel() {} };
    return this.#exitOf(this.#saved.initPid, this.#saved.initStartTime);
  }

  /** A promise for the exit of the process started at startTime (resolved at once when it is gone), by polling a pidfd of it. */
  #exitOf(pid: number, startTime: string): { promise: Promise<void>; cancel(): void } {
    let pidfd = -1;
    try {
      pidfd = this.#binding.pidfdOpen(pid);
    } catch {
      return { promise: Promise.resolve(), cancel() {} };
    }
    // Opened first, checked second: the pidfd then surely names that process, not a reused pid.
    // Our own child that no Process of this thread watches (its worker thread was terminated,
    // say) would stay a zombie for as long as this process lives: reaped here.
    const stat = readProcStat(pid);
    const status = processStatus(pid, startTime, () => stat);
    const orphan = status !== 'gone' && stat?.ppid === process.pid && !watchedByThisThread(pid);
    if (status !== 'alive') {
      if (orphan) {
        try {
          this.#binding.tryReap(pidfd);
        } catch {
          // reaped meanwhile
        }
      }
      this.#binding.close(pidfd);
      return { promise: Promise.resolve(), cancel() {} };
    }
    let watch: { cancel(): void } | null = null;
    const promise = new Promise<void>((resolve) => {
      try {
        watch = this.#binding.watchExit(pidfd, orphan, () => {
          watch = null;
          this.#binding.close(pidfd);
          resolve();
        });
      } catch (err) {
        // Not watchable (the loop could not poll it): the caller's other wait (the fifo)
        // still ends, this one never does; no rejection nobody handles, no pidfd left open.
        debug('cannot watch pid %d of %s for its exit: %s', pid, this.id, (err as Error).message);
        this.#binding.close(pidfd);
      }
    });
    return {
      promise,
      cancel: () => {
        if (watch) {
          (watch as { cancel(): void }).cancel();
          this.#binding.close(pidfd);
        }
      },
    };
  }

  /** Port of (*Container).Signal. */
  async signal(sig: string | number = 'SIGTERM', options: SignalOptions = {}): Promise<void> {
    this.#checkUsable();
    const num = parseSignal(sig, { zero: true });
    const status = await this.status();
    const all = options.all || (num === SIGKILL && !hasPrivateNamespace(this.config, 'pid'));
    // A dead init may leave processes in the cgroup (no pid namespace): runc still kills them.
    if (status === 'stopped') {
      const leftovers = all && this.#cgroups.exists() && this.#cgroups.getPids(true).length > 0;
      // runc's Signal with all: a stopped container is no error, whatever is left in its cgroup
      // gets the signal (engines send `kill --all` to a container that may have exited).
      if (!leftovers && !options.all) throw new ContainerStateError(`container ${this.id} is not running`);
      if (!leftovers) return;
    }
    // Without a private pid namespace, killing the init does not kill the rest: reach them all.
    if (all) {
      this.#signalAll(num);
    } else {
      const pidfd = this.#openInitPidfd();
      try {
        this.#binding.pidfdSendSignal(pidfd, num);
      } finally {
        this.#binding.close(pidfd);
      }
    }
    // A frozen process only dies once thawed (runc resumes a paused container after SIGKILL).
    if (num === SIGKILL && status === 'paused') this.#cgroups.freeze('thawed');
  }

  /**
   * Every process of the container: through its cgroup (cgroup.kill for SIGKILL where the
   * kernel has it), else found by the init's pid namespace (or mount namespace).
   */
  #signalAll(num: number): void {
    let pids: number[];
    if (this.#cgroups.exists()) {
      if (num === SIGKILL && this.#cgroups.kill()) return;
      pids = this.#cgroups.getPids(true);
    } else {
      const privatePidNs = hasPrivateNamespace(this.config, 'pid');
      pids = containerProcesses(this.#saved.initPid, this.#saved.initStartTime, privatePidNs ? 'pid' : 'mnt');
    }
    for (const pid of pids) {
      let pidfd: number;
      try {
        pidfd = this.#binding.pidfdOpen(pid);
      } catch {
        continue;
      }
      try {
        this.#binding.pidfdSendSignal(pidfd, num);
      } catch {
        // gone meanwhile
      } finally {
        this.#binding.close(pidfd);
      }
    }
  }

  /**
   * Kill the container before its removal (runc's destroy after `delete --force`'s kill). With
   * a private pid namespace only the init is killed: the kernel ends everything else in that
   * namespace with it, and whatever else is in the cgroup (another container given the same
   * cgroupsPath after our init ended, a process moved there from outside) is not ours to
   * kill. Without one, every process in the cgroup goes, as runc's signalAllProcesses. A
   * container whose init never started has nothing to kill.
   */
  async #killAll(): Promise<void> {
    if (!this.#saved.initPid) {
      await this.#killInterruptedStart();
      return;
    }
    const privatePidNs = hasPrivateNamespace(this.config, 'pid');
    if (processStatus(this.#saved.initPid, this.#saved.initStartTime) === 'gone') {
      // The init is gone; with no pid namespace of its own its children may not be.
      if (!privatePidNs && this.#cgroups.exists()) this.#signalAll(SIGKILL);
      return;
    }
    const exited = this.#initExited();
    if (privatePidNs) this.#signalProcess(this.#saved.initPid, this.#saved.initStartTime, SIGKILL);
    else this.#signalAll(SIGKILL);
    if (this.#isFrozen()) this.#cgroups.freeze('thawed');
    await exited.promise;
  }

  /**
   * A start that never recorded its init (its process was killed half-way; a start under way
   * holds the lock destroy waits for) may have left its init running: noted when it was
   * cloned, it is killed, and without a pid namespace of its own what is in the cgroup too.
   */
  async #killInterruptedStart(): Promise<void> {
    const starting = this.#interruptedStart();
    if (!starting) return;
    const exited = this.#exitOf(starting.initPid, starting.initStartTime);
    if (!this.#signalProcess(starting.initPid, starting.initStartTime, SIGKILL)) {
      exited.cancel();
      return;
    }
    if (!hasPrivateNamespace(this.config, 'pid') && this.#cgroups.exists()) this.#signalAll(SIGKILL);
    if (this.#isFrozen()) this.#cgroups.freeze('thawed');
    // Its end, before the cgroup is looked at: it is ours to remove only once empty.
    await exited.promise;
  }

  /** The init a start noted but never recorded (its process died half-way), or null. */
  #interruptedStart(): { initPid: number; initStartTime: string } | null {
    if (this.#saved.initPid !== 0) return null;
    try {
      return this.#dir.readStarting();
    } catch (err) {
      debug('container %s: unreadable start record: %s', this.id, (err as Error).message);
      return null;
    }
  }

  /** sig through a pidfd to pid, if it is still the process started at startTime. False when it is gone. */
  #signalProcess(pid: number, startTime: string, sig: number): boolean {
    let pidfd: number;
    try {
      pidfd = this.#binding.pidfdOpen(pid);
    } catch {
      return false;
    }
    try {
      // Opened first, checked second: the pidfd then surely names that process, not a reused pid.
      if (processStatus(pid, startTime) !== 'alive') return false;
      this.#binding.pidfdSendSignal(pidfd, sig);
      return true;
    } catch {
      return false; // gone meanwhile
    } finally {
      this.#binding.close(pidfd);
    }
  }

  /** Freeze every process of the container (port of (*Container).Pause). */
  async pause(): Promise<void> {
    this.#checkUsable();
    const status = await this.status();
    if (status !== 'running' && status !== 'created') throw new ContainerStateError(`cannot pause container ${this.id} in status ${status}`);
    this.#freezeEpoch++;
    this.#cgroups.freeze('frozen');
  }

  /** Thaw a paused container (port of (*Container).Resume). */
  async resume(): Promise<void> {
    this.#checkUsable();
    const status = await this.status();
    if (status !== 'paused') throw new ContainerStateError(`cannot resume container ${this.id}: it is ${status}, not paused`);
    this.#freezeEpoch++;
    this.#cgroups.freeze('thawed');
  }

  /** Host pids of every process in the container's cgroup. */
  async processes(): Promise<number[]> {
    this.#checkUsable();
    return this.#cgroups.exists() ? this.#cgroups.getPids(true) : [];
  }

  /** Resource usage from the container's cgroup. */
  async stats(): Promise<CgroupStats> {
    this.#checkUsable();
    if (!this.#cgroups.exists()) throw new ContainerStateError(`container ${this.id} has no cgroup (not started)`);
    return this.#cgroups.stats();
  }

  /**
   * Update resources of a live container (runc update): merged over the current ones; on
   * failure the manager restores the old values and nothing is saved.
   */
  async set(resources: LinuxResources): Promise<void> {
    this.#checkUsable();
    rejectUnknownResources(resources);
    this.#refresh(); // merge over the config as saved now (another handle may have updated it)
    const status = await this.status();
    if (status === 'stopped') throw new ContainerStateError(`cannot update stopped container ${this.id}`);
    const merged = mergeResources(this.config.linux?.resources ?? {}, resources);
    const config = validateConfig({ ...this.config, linux: { ...this.config.linux, resources: merged } });
    this.#cgroups.set(merged);
    // Port of (*Container).Set: once the cgroup took the new values, they are the config (in
    // force) even when saving it fails; that error is returned and nothing is undone (runc
    // 1.1.5 here leaves the new pids.max and fails with the save error, as 1.3 does).
    (this as { config: Spec }).config = config;
    this.#saved = { ...this.#saved, config };
    try {
      this.#dir.write(this.#saved);
    } catch (err) {
      if (err instanceof ContainerError) err.message = `container ${this.id}: the new resources are in force but not saved: ${err.message}`;
      throw err;
    }
  }

  /** OOM events of the container's cgroup: one value (the OOM-kill count) per event. */
  notifyOOM(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<number> {
    this.#checkUsable();
    if (!this.#cgroups.exists()) throw new ContainerStateError(`container ${this.id} has no cgroup (not started)`);
    const it = notifyOOM(this.#cgroups, this.#binding, options.signal);
    this.#oomWatchers.add(it);
    return it;
  }

  /** Port of (*Container).Destroy: kill what is left, run poststop hooks, remove state and cgroups. Idempotent. */
  destroy(): Promise<void> {
    // Overlapping calls (await using + an explicit destroy) share one destruction. One that
    // failed (a read-only or full state filesystem, say) may be tried again once that is fixed.
    this.#destroying ??= this.#destroy().catch((err: unknown) => {
      if (this.#dir.exists()) {
        this.#destroying = undefined;
        this.#destroyed = false;
        this.#destroyAbort = destroyAbortController();
      }
      throw err;
    });
    return this.#destroying;
  }

  /**
   * Aborted by destroy(): a start of this handle still under way (a hook that hangs, say) and
   * exec()'s poststart hooks end at once (AbortError), instead of keeping destroy() waiting.
   */
  #destroyAbort = destroyAbortController();

  #destroying: Promise<void> | undefined;

  async #destroy(): Promise<void> {
    // A handle that knows of no init re-reads the state: another handle or process may have
    // started one since (runc re-reads it for every command). Before any await: #refresh
    // stops once #destroying is set.
    if (this.#saved.initPid === 0) {
      try {
        this.#refresh();
      } catch (err) {
        // An unreadable state must not keep a container from being destroyed: go on with
        // what this handle knows.
        debug('destroy %s: cannot re-read the state: %s', this.id, (err as Error).message);
      }
    }
    // A start of this handle still under way is aborted (its hooks and helper killed: one
    // that hangs in a hook would never finish) and settles first (a failed one removes what
    // it made itself; one that got through has what it started known here, killed below).
    // One caught by a pause would never finish: the container is thawed first.
    // (Only when something listens: an abort's dispatch costs more than the rest of a quick destroy.)
    if (this.#starts.size > 0 || this.#execs > 0) this.#destroyAbort.abort(new ContainerStateError(`container ${this.id} is being destroyed`));
    if (this.#starts.size > 0) {
      if (this.#isFrozen()) this.#cgroups.freeze('thawed');
      await Promise.allSettled([...this.#starts]);
    }
    if (this.#destroyed) return;
    // So does one of another handle or process (it holds the lock until its init is
    // recorded): then the state is read again, to kill what it started. With an init recorded
    // no start can be under way anywhere (each refuses a container that has one).
    const lock = this.#saved.initPid !== 0 ? null : await this.#waitForLock();
    try {
      if (lock !== 'gone' && this.#saved.initPid === 0) {
        // (#refresh no longer reads once a destroy has begun: the init's record alone.)
        try {
          const init = this.#dir.readInit();
          if (init) this.#saved = { ...this.#saved, ...init };
        } catch (err) {
          debug('destroy %s: cannot re-read the init: %s', this.id, (err as Error).message);
        }
      }
      await this.#destroyLocked(lock === 'gone');
    } finally {
      if (typeof lock === 'number') fs.closeSync(lock);
    }
  }

  /** The container's lock for destroy: waited for while a start holds it (bounded: a stuck process must not keep a container forever). */
  async #waitForLock(): Promise<number | null | 'gone' | 'busy'> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      let lock: number | null | 'busy';
      try {
        lock = this.#dir.tryLock(this.#binding);
      } catch (err) {
        if (err instanceof ContainerNotFoundError) return 'gone';
        throw err;
      }
      if (lock !== 'busy') return lock;
      if (Date.now() > deadline) {
        debug('destroy %s: the container is still locked after %d ms: going on', this.id, LOCK_WAIT_MS);
        return 'busy';
      }
      await sleep(5);
    }
  }

  async #destroyLocked(gone: boolean): Promise<void> {
    if (gone || !this.#dir.exists()) {
      this.#destroyed = true;
      return;
    }
    const started = this.#saved.initPid !== 0;
    // Our own init has exited and reaped: with a private pid namespace the kernel killed the
    // rest of the container before that exit was reported, so there is nothing to look for.
    const ended = this.#init?.exitStatus != null && hasPrivateNamespace(this.config, 'pid');
    for (const proc of this.#handedOver) proc[kEnding]();
    if (!ended) {
      await this.#killAll();
      if (this.#init) await this.#init.wait();
    }
    if (started && this.config.hooks?.poststop?.length) await this.#runPoststop();
    await this.#removeEverything(ended);
  }

  /** poststop as the spec says: a failing hook is a warning, the others and destroy go on. */
  async #runPoststop(): Promise<void> {
    const failures = await runHooksToTheEnd('poststop', this.config.hooks?.poststop, this.#oci('stopped', undefined));
    for (const err of failures) {
      debug('container %s: %s', this.id, err.message);
      process.emitWarning(`container ${this.id}: ${err.message}`, { code: 'NLC_POSTSTOP_HOOK_FAILED' });
    }
  }

  /** Live notifyOOM() iterators: destroy ends them, so a `for await` over one finishes. */
  #oomWatchers = new Set<AsyncIterableIterator<number>>();

  /** ended: nothing of the container should be left running (see #destroy); checked by the rmdirs. */
  async #removeEverything(ended = false): Promise<void> {
    this.#destroyed = true;
    for (const it of this.#oomWatchers) void it.return?.();
    this.#oomWatchers.clear();
    let stateRemoved = false;
    try {
      if (ended) {
        // The cgroup rmdirs and the state directory's removal run on the threadpool together.
        const removing = this.#cgroups.destroy({ once: true }).then(
          () => true,
          (err: unknown) => {
            // Something else is in the cgroup (or tasks still leaving it): the full way below.
            debug('cgroups of %s still busy after the init ended: %s', this.id, (err as Error).message);
            return false;
          },
        );
        stateRemoved = true;
        const [gone] = await Promise.all([removing, this.#dir.removeAsync(removeEachOf(this.#binding))]);
        if (gone) return;
      }
      // A cgroup the start refused (someone else's: in use, or frozen) was never ours: left as
      // found, as runc leaves it (its Create fails before anything is made).
      if (this.#cgroupRefused && this.#saved.initPid === 0) return;
      if (this.#cgroups.exists()) {
        if ((this.#saved.initPid !== 0 || this.#interruptedStart()) && !hasPrivateNamespace(this.config, 'pid')) {
          // Anything still in the cgroup (an exec'd process of a dead init) goes first.
          this.#signalAll(SIGKILL);
          if (this.#isFrozen()) this.#cgroups.freeze('thawed');
        } else if (this.#cgroupInUseByOthers()) {
          return;
        }
      }
      await this.#cgroups.destroy();
    } finally {
      if (!stateRemoved) this.#dir.remove();
    }
  }

  /**
   * Whether the cgroup holds processes that are not this container's, or is the cgroup of a
   * start under way here: after our init ended with its private pid namespace (or when it
   * never started), those belong to someone else (another container given the same
   * cgroupsPath, a process moved in from outside). Their cgroup is left to them, as runc's
   * destroy leaves it (runc then fails on the rmdir; the container itself is gone either way).
   */
  #cgroupInUseByOthers(): boolean {
    const starting = startingCgroups.get(cgroupKey(this.#cgroups));
    let pids: number[];
    try {
      pids = this.#cgroups.getPids(true);
    } catch (err) {
      // Removed meanwhile (another handle's destroy of this container): nothing is in it.
      if (!this.#cgroups.exists()) return false;
      throw err;
    }
    if (pids.length === 0 && (starting === undefined || starting === this)) return false;
    const what = pids.length > 0 ? `processes ${pids.join(', ')} that are not this container's` : 'the start of another container';
    const message = `container ${this.id}: cgroup ${Object.values(this.#cgroups.paths)[0]} left in place: it holds ${what}`;
    debug('%s', message);
    // A container that never started never had the cgroup: nothing to warn about.
    if (this.#saved.initPid !== 0) process.emitWarning(message, { code: 'NLC_CGROUP_IN_USE' });
    return true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}

const SIGKILL = 9;
const SIGTERM = 15;
/** How long destroy() waits for a start elsewhere to let go of the container's lock. */
const LOCK_WAIT_MS = 60_000;
/** How long a thaw for a killed process lasts at most before the container is frozen again. */
const KILL_THAW_MS = 2_000;

/** What start() and run() refuse before anything is made: an unknown option, a bad signal/timeout, an aborted signal. */
function checkOptions(options: ProcessOptions): Termination | null {
  if (typeof options !== 'object' || options === null) throw invalidArgType('process options must be an object');
  rejectUnknownOptions(options);
  for (const name of ['init', 'dieWithParent'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw invalidArgType(`process option "${name}" must be a boolean, got ${JSON.stringify(options[name])}`);
  }
  checkFds(options);
  const termination = parseTermination(options);
  if (termination?.signal?.aborted) throw abortError(termination.signal);
  return termination;
}

/** ProcessOptions fields that change the init's plan (the rest is stdio, fds, placement). */
const PROCESS_FIELDS = ['args', 'env', 'cwd', 'user', 'capabilities', 'rlimits', 'noNewPrivileges', 'oomScoreAdj', 'ioPriority', 'scheduler', 'terminal', 'consoleSize'] as const;

/** The v1 hierarchy directories of a path map ('' is the v2 tree), each once. */
function v1Dirs(paths: Readonly<Record<string, string>>): string[] {
  return [...new Set(Object.entries(paths).filter(([k]) => k !== '').map(([, dir]) => dir))];
}

/**
 * A cgroup namespace is rooted at the cgroups its creator is in. Created by the clone, its
 * v2 root is right (CLONE_INTO_CGROUP) but its v1 roots are ours, since v1 hierarchies are
 * joined only after the clone: the container would see our cgroup paths. So the helper
 * unshares it once the parent has placed it (the bootstrap data is sent after onSpawned),
 * as runc's nsexec unshares CLONE_NEWCGROUP after the parent's Apply.
 */
function unshareCgroupNsAfterPlacement(plan: InitPlan): InitPlan {
  if ((plan.cloneFlags & CLONE_NEWCGROUP) === 0) return plan;
  const ns = plan.bootstrap.namespaces as { unshare: number };
  return {
    ...plan,
    cloneFlags: plan.cloneFlags & ~CLONE_NEWCGROUP,
    bootstrap: { ...plan.bootstrap, namespaces: { ...ns, unshare: ns.unshare | CLONE_NEWCGROUP } },
  };
}

function initStartTime(pid: number): string {
  const stat = readProcStat(pid);
  if (!stat) throw new ContainerError('ERR_INIT', `container init ${pid} exited before it was ready`);
  return stat.startTime;
}

/** Cgroups whose container's init is being started in this process, by cgroupKey. */
const startingCgroups = new Map<string, Container>();

/** One name for a container's cgroup (the same cgroupsPath resolves to the same paths). */
function cgroupKey(cgroups: CgroupManager): string {
  return Object.values(cgroups.paths).sort()[0] ?? '';
}

/**
 * The session keyring every process of the container joins (runc's "_ses.<id>"): never the
 * Node process's own, whose keys (a service's secrets, root's shared _uid_ses keyring) a
 * container must not read or add to.
 */
function sessionKeyringName(id: string): string {
  return `_ses.${id}`;
}

function hasPrivateNamespace(config: Spec, type: string): boolean {
  return (config.linux?.namespaces ?? []).some((n) => n.type === type && !n.path);
}

/**
 * The process's streams: a terminal when its plan has one (the helper then puts the pty on
 * fds 0-2 itself, over /dev/null), else stdio. The two do not mix.
 */
function stdioOrTerminal(plan: InitPlan, options: ProcessOptions): { stdio: StdioStream[]; terminal: boolean; onConsole?: (fd: number) => void; reapFinal?: boolean } {
  const terminal = (plan.bootstrap.process as { terminal?: boolean }).terminal === true;
  // (The command line's detached processes: their exit is left to its caller.)
  const reaping = options[kLeaveExitToReaper] === true ? { reapFinal: false } : {};
  if (!terminal) return { stdio: stdioList(options.stdio), terminal, ...reaping };
  if (options.stdio !== undefined) throw invalidArgValue('stdio cannot be given with terminal: the terminal is the process\'s stdio');
  const onConsole = options[kOnConsole];
  return { stdio: ['ignore', 'ignore', 'ignore'], terminal, ...(onConsole ? { onConsole } : {}), ...reaping };
}

function stdioList(stdio: ProcessOptions['stdio']): StdioStream[] {
  if (stdio === undefined) return ['pipe', 'pipe', 'pipe'];
  return Array.isArray(stdio) ? stdio : [stdio, stdio, stdio];
}

/**
 * The caller's fds, checked before anything is made (a failed start destroys the container):
 * a stdio array of at most 3 (child_process would make a 4th entry fd 3; here that is what
 * extraFiles is for, and an entry dropped without a word would leave the program without the
 * fd it was promised), and every fd given open (the clone would fail with a bare EBADF).
 */
function checkFds(options: ProcessOptions): void {
  const { stdio, extraFiles } = options;
  const open = (fd: number, what: string): void => {
    try {
      fs.fstatSync(fd);
    } catch (err) {
      throw invalidArgValue(`${what}: fd ${fd} is not open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  // Every entry checked here, before anything is made: a bad one found by the start itself
  // would fail it after the container's init start had begun, and remove the container.
  const entry = (s: unknown, what: string): void => {
    // (An absent entry is 'pipe', as in child_process.)
    if (s === undefined || s === null || s === 'pipe' || s === 'inherit' || s === 'ignore') return;
    if (typeof s === 'number' && Number.isInteger(s) && s >= 0) return open(s, what);
    throw invalidArgValue(`${what} must be 'pipe', 'inherit', 'ignore' or an fd (a non-negative integer), got ${JSON.stringify(s)}`);
  };
  if (Array.isArray(stdio)) {
    if (stdio.length > 3) throw invalidArgValue(`stdio has at most 3 entries (fds 0, 1, 2), got ${stdio.length}: pass fds 3 and up as extraFiles`);
    stdio.forEach((s, i) => entry(s, `stdio[${i}]`));
  } else if (stdio !== undefined) {
    entry(stdio, 'stdio');
  }
  if (extraFiles === undefined) return;
  if (!Array.isArray(extraFiles)) throw invalidArgType('extraFiles must be an array of fds');
  extraFiles.forEach((fd, i) => {
    if (!Number.isInteger(fd) || fd < 0) throw invalidArgValue(`extraFiles[${i}] must be an fd (a non-negative integer), got ${JSON.stringify(fd)}`);
    open(fd, `extraFiles[${i}]`);
  });
}

const CONTAINER_OPTIONS = { root: 'string', bundle: 'string', binding: 'object' } as const satisfies Record<keyof ContainerOptions, string>;

/**
 * The options of createContainer, loadContainer and listContainers (the same object may go to
 * all three; bundle only matters to createContainer). A misspelt one (`rootDir`) would put the
 * state somewhere else without a word: refused, naming it.
 */
function checkContainerOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw invalidArgType('container options must be an object');
  for (const [key, value] of Object.entries(options)) {
    if (!Object.hasOwn(CONTAINER_OPTIONS, key)) throw invalidArgValue(`unknown container option ${JSON.stringify(key)} (root, bundle, binding)`);
    const type = CONTAINER_OPTIONS[key as keyof ContainerOptions];
    if (value !== undefined && (typeof value !== type || value === null || value === '')) throw invalidArgType(`container option ${key} must be ${type === 'string' ? 'a non-empty string' : 'an object'}`);
  }
}

/**
 * Create a container (status `stopped` until `start`). Bad input throws before anything is made.
 * `config` is checked when it arrives (a ConfigError names the bad field), so it may come
 * straight from JSON.parse; declare yours as `Spec` to have TypeScript check it as you write it.
 */
export async function createContainer(id: string, config: unknown, options: ContainerOptions = {}): Promise<Container> {
  checkContainerOptions(options);
  const cid = validateId(id);
  // Validated and planned now so every config error surfaces before anything is created;
  // start reuses the plan, and so do later containers made from the same config object.
  const { spec, bundle, rootfs, plan } = prepareConfig(config, options.bundle);
  // A fake binding (tests) needs no privileges; the real one does.
  if (!options.binding) requirePrivileges();
  const binding = options.binding ?? loadBinding();
  // A profile that cannot be compiled fails here, before any state exists.
  if (spec.linux?.seccomp) compileSeccomp(spec.linux.seccomp, binding);
  const cgroups = createManager({ id: cid, cgroupsPath: spec.linux?.cgroupsPath, resources: spec.linux?.resources, binding });
  const saved: SavedState = {
    id: cid,
    ociVersion: spec.ociVersion,
    bundle,
    rootfs,
    created: new Date().toISOString(),
    initPid: 0,
    initStartTime: '',
    config: spec,
    namespacePaths: {},
    annotations: spec.annotations ?? {},
    cgroupPaths: { ...cgroups.paths },
  };
  const dir = StateDir.create(options.root ?? defaultRoot(), cid, saved);
  return new Container(dir, saved, binding, cgroups, plan);
}

/** A container from its state directory, to manage it from any process. */
export async function loadContainer(id: string, options: ContainerOptions = {}): Promise<Container> {
  checkContainerOptions(options);
  const cid = validateId(id);
  const dir = StateDir.open(options.root ?? defaultRoot(), cid);
  const saved = dir.read();
  const binding = options.binding ?? loadBinding();
  const config = saved.config as Spec;
  const cgroups = createManager({ id: cid, paths: saved.cgroupPaths, resources: config.linux?.resources, binding });
  return new Container(dir, saved, binding, cgroups);
}

/** The state of every container under the root. */
export async function listContainers(options: ContainerOptions = {}): Promise<ContainerState[]> {
  checkContainerOptions(options);
  const root = options.root ?? defaultRoot();
  const out: ContainerState[] = [];
  for (const id of StateDir.list(root)) {
    try {
      const c = await loadContainer(id, options);
      out.push(await c.state());
    } catch (err) {
      // Destroyed meanwhile: not listed. Unreadable state: not listed either (it cannot be
      // loaded), but said, as runc's list reports a container it cannot load.
      debug('skipping %s: %s', id, (err as Error).message);
      if (err instanceof ContainerError && err.code === 'ERR_STATE_CORRUPT') {
        process.emitWarning(`container ${id} is not listed: ${err.message}`, { code: 'NLC_STATE_CORRUPT' });
      }
    }
  }
  return out;
}

export { HookError };

/**
 * The controller destroy() aborts. Every start and exec() under way listens to its signal, as
 * many as the caller runs at once: no MaxListenersExceededWarning past ten, which would say a
 * leak where there is none.
 */
function destroyAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
