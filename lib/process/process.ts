import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { ExitStatus, NativeBinding, WatchHandle } from '../native/types';
import type { ProcessExit } from './options';
import { parseSignal } from './signals';
import type { TerminalSize, TerminalStream } from './terminal';

const signalNames = new Map<number, string>(
  Object.entries(osConstants.signals).map(([name, num]) => [num as number, name]),
);

/** @internal Called by the Container once run() or start() hands the Process to its caller (see #drainUnreadOutput). */
export const kHandedOver: unique symbol = Symbol('nlc.handedOver');
/** @internal Set by the Container: what to do once SIGKILL went to the process (a frozen one dies only when thawed). */
export const kOnKill: unique symbol = Symbol('nlc.onKill');
/** @internal The runtime is about to kill the process (see Process[kEnding]). */
export const kEnding: unique symbol = Symbol('nlc.ending');

const SIGKILL = osConstants.signals.SIGKILL;

/** Pids a Process of this thread watches (and so reaps); module state is per thread. */
const watchedHere = new Set<number>();

/** Whether a Process of this thread will reap pid (another thread's, a worker's, does not count). */
export function watchedByThisThread(pid: number): boolean {
  return watchedHere.has(pid);
}

export function exitFromStatus(status: ExitStatus): ProcessExit {
  return {
    exitCode: status.exitCode,
    signal: status.signal === null ? null : signalNames.get(status.signal) ?? `SIG${status.signal}`,
  };
}

/**
 * A process running in a container, a direct child of this Node process, watched through
 * its pidfd on the libuv loop (never waitpid(-1), never the threadpool).
 * Emits 'exit' with a ProcessExit once, then 'close' once its stdio streams have closed; for a
 * program gone before its start resolved, both come a turn after (the caller can listen then).
 */
export class Process extends EventEmitter {
  readonly pid: number;
  stdin: Writable | null = null;
  stdout: Readable | null = null;
  stderr: Readable | null = null;
  /** With `terminal: true`: the pty's master end (also stdin and stdout; stderr shares the pty). */
  terminal: TerminalStream | null = null;
  /**
   * As child_process's: whether this library sent it a signal (signal(), kill(), a timeout or
   * abort, the container's destroy()), so that an end by SIGKILL can be told from the kernel's
   * (an OOM kill) or its own. Signal 0 does not count.
   */
  killed = false;
  #pidfd: number;
  #binding: NativeBinding;
  #exit: ProcessExit | null = null;
  #exited: Promise<ProcessExit>;
  #watch: WatchHandle | null = null;

  /**
   * Takes ownership of pidfd. With reap false the exit is seen but not collected: the zombie
   * is left for whoever reaps it once we are gone (the exit status is then unknown here).
   */
  constructor(binding: NativeBinding, pid: number, pidfd: number, reap = true) {
    super();
    this.pid = pid;
    this.#pidfd = pidfd;
    this.#binding = binding;
    watchedHere.add(pid);
    this.#exited = new Promise<ProcessExit>((resolve) => {
      this.#watch = binding.watchExit(pidfd, reap, (status) => {
        watchedHere.delete(pid);
        this.#watch = null;
        this.#exit = exitFromStatus(status);
        binding.close(this.#pidfd);
        this.#pidfd = -1;
        resolve(this.#exit);
        // Before the listeners, as child_process does, and the drain whatever they do: a
        // listener that throws (to an uncaughtException handler that keeps the service up)
        // must not leave the three pipes open.
        if (this.stdin && this.stdin !== this.terminal) this.stdin.destroy();
        // Not yet the caller's (a quick program, gone within its start): its events come
        // from kHandedOver, when the caller can listen.
        if (this.#handedOver) this.#emitExitEvents(this.#exit);
      });
    });
  }

  #handedOver = false;
  #onKill: ((proc: Process) => void) | null = null;

  /**
   * @internal
   * We are about to kill it: a write still pending on its stdin pipe would fail with EPIPE
   * once it is gone, an 'error' nobody listens for that would end the Node process. The stream
   * goes now, as child_process's goes at the exit (which comes too late here: the pipe's
   * error can be seen first).
   */
  [kEnding](): void {
    if (this.#exit === null) this.killed = true; // (destroy() kills through the cgroup, not signal())
    if (this.stdin && this.stdin !== this.terminal && !this.stdin.destroyed) this.stdin.destroy();
  }

  /** @internal See kOnKill. */
  [kOnKill](hook: (proc: Process) => void): void {
    this.#onKill = hook;
  }

  /**
   * @internal
   * The caller has this Process now (run() or start() resolved with it). Its exit may have
   * come first: run() with a poststart hook resolves after the hook, by which time a short
   * program can be gone. Output is drained only from here on.
   */
  [kHandedOver](): void {
    if (this.#handedOver) return;
    this.#handedOver = true;
    if (!this.#exit) return;
    // Exited before the caller had it: 'exit' and 'close' once the caller can listen, after the
    // microtasks of run()'s or start()'s resolution (its continuation attaches listeners).
    const exit = this.#exit;
    setImmediate(() => this.#emitExitEvents(exit));
  }

  /** 'exit', then the drain and 'close' whatever its listeners do (one that throws must not leave the pipes open). */
  #emitExitEvents(exit: ProcessExit): void {
    try {
      this.emit('exit', exit);
    } finally {
      this.#drainUnreadOutput();
      this.#emitCloseAfterStreams(exit);
    }
  }

  /**
   * As child_process does at a child's exit (it also destroys stdin, done at the exit): an
   * output stream nobody listens to is drained, so that it reaches its end and closes its fd,
   * instead of holding it for as long as the Process object lives (a service that runs many
   * processes and reads only some of their outputs would run out of fds). At setImmediate,
   * later than child_process: code that awaits wait(), or run(), and then starts reading
   * still gets all of the output.
   */
  #drainUnreadOutput(): void {
    if (!this.stdout && !this.stderr && !this.terminal) return;
    setImmediate(() => {
      for (const stream of new Set([this.stdout, this.stderr, this.terminal])) {
        if (!stream || !stream.readable || stream.readableFlowing === true) continue;
        if (stream.listenerCount('data') > 0 || stream.listenerCount('readable') > 0) continue;
        stream.resume();
      }
    });
  }

  /**
   * 'close' as child_process's: after 'exit', once its output streams (and terminal) have
   * closed too, so a listener has all the output ('exit', and wait(), can come before the last
   * of it has been read from the pipe).
   */
  #emitCloseAfterStreams(exit: ProcessExit): void {
    const open = [...new Set([this.stdout, this.stderr, this.terminal, this.stdin])].filter((s): s is NonNullable<typeof s> => s !== null && !s.closed);
    let left = open.length;
    const done = (): void => {
      if (--left === 0) this.emit('close', exit);
    };
    if (left === 0) {
      process.nextTick(() => this.emit('close', exit));
      return;
    }
    for (const stream of open) stream.once('close', done);
  }

  // 'exit' and 'close' (once each, with the ProcessExit) typed for listeners; other events as EventEmitter types
  // them (its any[] included).
  override on(event: 'exit' | 'close', listener: (exit: ProcessExit) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  override once(event: 'exit' | 'close', listener: (exit: ProcessExit) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(event, listener);
  }

  /** The exit status once the process has exited, else null. */
  get exitStatus(): ProcessExit | null {
    return this.#exit;
  }

  /**
   * As child_process's unref(): the event loop no longer waits for this process's exit (its
   * 'exit' still comes if the loop runs anyway). Its 'pipe' streams keep the loop alive until
   * they end or are destroyed, as a child's do. A container left running when Node exits keeps
   * running: loadContainer finds it.
   */
  unref(): void {
    this.#watch?.unref();
  }

  /** Undoes unref(). */
  ref(): void {
    this.#watch?.ref();
  }

  /** Resolves when the process has exited (and was reaped). */
  wait(): Promise<ProcessExit> {
    return this.#exited;
  }

  /** Send a signal through the pidfd (0: only check that it lives); a no-op once the process has exited. */
  signal(sig: string | number = 'SIGTERM'): void {
    const num = parseSignal(sig, { zero: true });
    if (this.#pidfd < 0) return;
    try {
      this.#binding.pidfdSendSignal(this.#pidfd, num);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      return;
    }
    if (num === 0) return;
    this.killed = true;
    if (num === SIGKILL) {
      this[kEnding]();
      this.#onKill?.(this);
    }
  }

  /** A copy of one of the process's fds (pidfd_getfd), close-on-exec, the caller's to close. */
  takeFd(targetFd: number): number {
    if (this.#pidfd < 0) throw new Error(`process ${this.pid} has exited`);
    return this.#binding.pidfdGetfd(this.#pidfd, targetFd);
  }

  /** The terminal's size (TIOCSWINSZ: the process gets SIGWINCH). Throws without a terminal. */
  resize(size: TerminalSize): void {
    if (!this.terminal) throw new Error(`process ${this.pid} has no terminal (start it with terminal: true)`);
    this.terminal.resize(size);
  }

  /** Kill with SIGKILL and wait for the exit. */
  async kill(): Promise<ProcessExit> {
    this.signal('SIGKILL');
    return this.wait();
  }
}
