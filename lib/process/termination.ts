/**
 * The `signal`, `timeout` and `killSignal` options, as child_process has them: an abort or
 * the end of the timeout sends killSignal to the process; its wait() then reports how it
 * ended. Both stop mattering at its exit (the listener and the timer go with it).
 */
import { invalidArgType, outOfRange, unknownSignal } from '../errors';
import type { ProcessOptions } from './options';
import type { Process } from './process';
import { parseSignal } from './signals';

export interface Termination {
  signal?: AbortSignal;
  timeout?: number;
  /** Absent: the default for the process (see armTermination). */
  killSignal?: number;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean' && typeof (value as AbortSignal).addEventListener === 'function';
}

/** The options checked (TypeError/RangeError naming the option); null when none is given. */
export function parseTermination(options: ProcessOptions): Termination | null {
  const { signal, timeout, killSignal } = options;
  if (signal === undefined && timeout === undefined && killSignal === undefined) return null;
  if (signal !== undefined && !isAbortSignal(signal)) throw invalidArgType('process option "signal" must be an AbortSignal');
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0 || timeout > 2 ** 31 - 1)) {
    throw outOfRange(`process option "timeout" must be an integer number of milliseconds from 0 to 2^31-1, got ${JSON.stringify(timeout)}`);
  }
  let sig: number | undefined;
  try {
    sig = killSignal === undefined ? undefined : parseSignal(killSignal);
  } catch (err) {
    throw unknownSignal(`process option "killSignal": ${(err as Error).message}`);
  }
  return { ...(signal ? { signal } : {}), ...(timeout ? { timeout } : {}), ...(sig !== undefined ? { killSignal: sig } : {}) };
}

/** An AbortError, as Node's APIs reject with (name AbortError, code ABORT_ERR, the reason as cause). */
export function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as { name?: string; message?: string } | undefined;
  const message = reason?.name === 'TimeoutError' ? `The operation was aborted: ${reason.message}` : 'The operation was aborted';
  return Object.assign(new Error(message, { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * From the process's start: send killSignal at an abort or at the timeout, until it exits.
 * Without one, `defaultSignal`: SIGTERM as child_process, but SIGKILL for the init of a
 * container with its own pid namespace, which as PID 1 ignores every signal it has no handler
 * for (a timeout that sent SIGTERM would leave most programs, and a created container's
 * waiting init, running).
 */
export function armTermination(proc: Process, t: Termination | null, defaultSignal: number): void {
  if (!t || proc.exitStatus) return;
  const sig = t.killSignal ?? defaultSignal;
  const kill = (): void => {
    try {
      proc.signal(sig);
    } catch {
      // gone meanwhile
    }
  };
  const timer = t.timeout ? setTimeout(kill, t.timeout) : null;
  timer?.unref();
  if (t.signal?.aborted) kill();
  else t.signal?.addEventListener('abort', kill, { once: true });
  void proc.wait().then(() => {
    if (timer) clearTimeout(timer);
    t.signal?.removeEventListener('abort', kill);
  });
}

/**
 * What ends a start under way: the caller's signal, the timeout (counted from the start() or
 * run() call, as child_process counts it from the spawn), or `also` (the container's destroy).
 * A timeout ends it with an AbortError whose cause is a TimeoutError, as AbortSignal.timeout()
 * would. done() lets go of the timer and the listeners; remaining() is what is left of the
 * timeout for the process.
 */
export interface Deadline {
  signal?: AbortSignal;
  /** What is left of the timeout, for the process once started (undefined: none). */
  remaining(): number | undefined;
  done(): void;
}

export function startDeadline(t: Termination | null, also?: AbortSignal): Deadline {
  const sources = [t?.signal, also].filter((s): s is AbortSignal => s !== undefined);
  if (!t?.timeout && sources.length <= 1) return { ...(sources[0] ? { signal: sources[0] } : {}), remaining: () => undefined, done() {} };
  const began = Date.now();
  const timeout = t?.timeout;
  const ac = new AbortController();
  const timer = timeout ? setTimeout(() => ac.abort(new DOMException(`the start did not finish within the timeout of ${timeout} ms`, 'TimeoutError')), timeout) : undefined;
  timer?.unref();
  const follows = sources.map((source) => {
    const follow = (): void => ac.abort(source.reason);
    if (source.aborted) follow();
    else source.addEventListener('abort', follow, { once: true });
    return [source, follow] as const;
  });
  return {
    signal: ac.signal,
    remaining: () => (timeout ? Math.max(1, timeout - (Date.now() - began)) : undefined),
    done() {
      clearTimeout(timer);
      for (const [source, follow] of follows) source.removeEventListener('abort', follow);
    },
  };
}
