import { invalidArgValue } from '../errors';
import type { LinuxIOPriority, Scheduler } from '../../types/oci';
import { UNSUPPORTED_OPTION_KEYS } from '../spec/unsupported';

/** The public shape of a process to run in a container (runc's libcontainer.Process, in Node's idiom). */

export type StdioKind = 'pipe' | 'inherit' | 'ignore';
/** One stream: a kind, or an fd of this Node process to hand over (it stays open here). */
export type StdioStream = StdioKind | number;

export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
  umask?: number;
}

export interface ProcessCapabilities {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface ProcessRlimit {
  type: string;
  hard: number | bigint;
  soft: number | bigint;
}

/**
 * @internal For this package's command line: called with the pty master's fd once the helper
 * has made it, before the program runs (runc's foreground console clears ONLCR there).
 */
export const kOnConsole: unique symbol = Symbol('nlc.onConsole');

/**
 * @internal For this package's command line when it leaves a process to its caller (run -d,
 * exec -d, create): the process's exit is not collected here, so that the caller (an engine,
 * child subreaper of ours) can collect it once we are gone, even if it exited meanwhile.
 */
export const kLeaveExitToReaper: unique symbol = Symbol('nlc.leaveExitToReaper');

export interface ProcessOptions {
  /** @internal See kOnConsole. */
  [kOnConsole]?: (fd: number) => void;
  /** @internal See kLeaveExitToReaper. */
  [kLeaveExitToReaper]?: boolean;
  /** argv; args[0] is looked up in the container's PATH when it has no slash. */
  args?: string[];
  /** `KEY=value` strings. Default: the config's process env. */
  env?: string[];
  /** Absolute path inside the container. */
  cwd?: string;
  user?: ProcessUser;
  /**
   * A pty for the process, made inside the container: `Process.terminal` (also its stdin and
   * stdout) is the master end. Not with `stdio`. Default: the config's process.terminal for
   * the init; false for a process run in the running container, as runc exec.
   */
  terminal?: boolean;
  /** The terminal's size. Default: the config's process.consoleSize. */
  consoleSize?: { height: number; width: number };
  /** One kind for all three streams, or a per-stream array. Default 'pipe'. */
  stdio?: StdioStream | StdioStream[];
  /** fds of this process that become fds 3, 4, ... in the container process. */
  extraFiles?: number[];
  capabilities?: ProcessCapabilities;
  rlimits?: ProcessRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  /** A cgroup inside the container's cgroup for this process (exec'd processes only). */
  subCgroupPath?: string;
  /** I/O scheduling class and level (ioprio_set). Default: the config's process.ioPriority. */
  ioPriority?: LinuxIOPriority;
  /** CPU scheduling policy (sched_setattr). Default: the config's process.scheduler. */
  scheduler?: Scheduler;
  /** CPU affinity for an exec'd process: `initial` for the clone, `final` once it joined the cgroup ("0-3,7"). */
  execCPUAffinity?: { initial?: string; final?: string };
  /**
   * true: the container's init (create the container); false: a process run inside the
   * running container (runc exec). Default: true until the container has an init.
   */
  init?: boolean;
  /**
   * As child_process's: aborting sends `killSignal` to the process (run() or start() refuses
   * to start anything for a signal already aborted, with an AbortError).
   */
  signal?: AbortSignal;
  /** Milliseconds from the start after which the process is sent `killSignal`, as child_process's. */
  timeout?: number;
  /** What `signal` and `timeout` send. Default 'SIGTERM', as child_process. */
  killSignal?: string | number;
  /**
   * The process is SIGKILLed by the kernel when this Node process dies, however it dies
   * (bubblewrap's --die-with-parent; runc's ParentDeathSignal): for a test suite's or a CI
   * runner's containers, which must not outlive a Ctrl-C or a crash. For the init, that ends the
   * container (with a pid namespace of its own: all of it). Default false: a container outlives
   * its Node process, as one made by runc outlives runc. Cleared by the kernel should the
   * program exec a set-user-ID or file-capability binary.
   */
  dieWithParent?: boolean;
}

/**
 * Every option a ProcessOptions may have, and the ones known from runc's Process that are
 * refused (spec/unsupported.ts). Anything else is a mistake that would otherwise be dropped
 * without a word (a misspelt noNewPrivileges runs the process without it): it is refused.
 */
const KNOWN_OPTIONS = {
  args: true, env: true, cwd: true, user: true, terminal: true, consoleSize: true, stdio: true, extraFiles: true,
  capabilities: true, rlimits: true, noNewPrivileges: true, oomScoreAdj: true, subCgroupPath: true, ioPriority: true,
  scheduler: true, execCPUAffinity: true, init: true, signal: true, timeout: true, killSignal: true, dieWithParent: true,
} as const satisfies Record<Exclude<keyof ProcessOptions, typeof kOnConsole | typeof kLeaveExitToReaper>, true>;

/** TypeError naming the first option that is not a ProcessOptions field. */
export function rejectUnknownOptions(options: object): void {
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(KNOWN_OPTIONS, key) && !UNSUPPORTED_OPTION_KEYS.has(key)) throw invalidArgValue(`unknown process option ${JSON.stringify(key)}`);
  }
}

export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
}
