import { spawn } from 'node:child_process';
import { promises as fsp, statSync } from 'node:fs';
import createDebug from 'debug';
import { HookError } from './errors';
import { abortError } from './process/termination';
import { stringifyJson } from './state/json';

const debug = createDebug('node-libcontainer:hooks');

/** An OCI runtime-spec hook. */
export interface Hook {
  path: string;
  /** argv, including argv[0]; defaults to [path]. */
  args?: string[];
  /** The hook's whole environment ("KEY=value"); absent: the runtime's own (process.env), as runc's exec.Cmd with a nil Env. */
  env?: string[];
  /** Seconds. */
  timeout?: number;
}

/** Keep only the tail of the hook's output: the end is where the error message is. */
const OUTPUT_LIMIT = 4096;
/** After the hook exits, how long to wait for its output pipes to drain (a daemon it started may hold them forever). */
const DRAIN_GRACE_MS = 200;

class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0].length >= OUTPUT_LIMIT) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - OUTPUT_LIMIT)).toString('utf8').trim();
  }
}

/** Node's timers hold at most 2^31-1 ms (24.8 days) and fire at once past that: longer delays go in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function longTimeout(fn: () => void, ms: number): { clear(): void } {
  let t: NodeJS.Timeout;
  const arm = (left: number): void => {
    t = left > MAX_TIMER_MS ? setTimeout(() => arm(left - MAX_TIMER_MS), MAX_TIMER_MS) : setTimeout(fn, left);
  };
  arm(ms);
  return { clear: () => clearTimeout(t) };
}

function envObject(env: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue; // not KEY=value: execve would pass it, Node's env object cannot
    out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

async function spawnFailure(name: string, hook: Hook, err: NodeJS.ErrnoException): Promise<HookError> {
  if (err.code === 'ENOENT') {
    const exists = await fsp.access(hook.path).then(() => true, () => false);
    const why = exists ? 'could not be executed (ENOENT: is its interpreter missing?)' : 'does not exist';
    return new HookError(name, `${JSON.stringify(hook.path)} ${why}`, { cause: err });
  }
  return new HookError(name, `${JSON.stringify(hook.path)} could not be started: ${err.code ?? err.message}`, { cause: err });
}

export interface HookRunOptions {
  /** An abort kills the hook (its whole process group) and rejects with an AbortError. */
  signal?: AbortSignal;
}

/** The OCI state a hook reads on its stdin; its bundle is also the hook's working directory. */
export interface HookState {
  bundle?: string;
}

/**
 * runc runs the hooks of create and run from the bundle (it chdirs into --bundle). A bundle
 * that is gone (removed before a destroy's poststop) leaves Node's own: the hook still runs.
 */
function hookCwd(state: HookState): string | undefined {
  if (!state.bundle) return undefined;
  try {
    if (statSync(state.bundle).isDirectory()) return state.bundle;
  } catch {
    // gone or unreadable
  }
  debug('bundle %s is not a directory: the hook runs in %s', state.bundle, process.cwd());
  return undefined;
}

/**
 * Port of runc's (configs.Command).Run: run the hook with the OCI state on its stdin and fail
 * on a non-zero exit or when it outlives its timeout.
 */
export function runHook(name: string, hook: Hook, state: HookState, options: HookRunOptions = {}): Promise<void> {
  const argv = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  const abort = options.signal;
  if (abort?.aborted) return Promise.reject(abortError(abort));
  debug('%s: running %s %o', name, hook.path, argv);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(hook.path, argv.slice(1), {
      argv0: argv[0],
      // exec.Cmd{Env: hook.Env}: a nil Env is the runtime's environment.
      env: hook.env === undefined ? process.env : envObject(hook.env),
      cwd: hookCwd(state),
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so a timeout kills whatever the hook started too.
      detached: true,
    });
    const output = new OutputTail();
    let timedOut = false;
    let aborted = false;
    let timer: { clear(): void } | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;

    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      timer?.clear();
      clearTimeout(drainTimer);
      abort?.removeEventListener('abort', onAbort);
      if (err) {
        debug('%s: %s', name, err.message);
        reject(err);
      } else {
        resolve();
      }
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // a failed kill(); the exit still comes
      void spawnFailure(name, hook, err).then(finish);
    });
    if (child.pid === undefined) return;
    const pgid = child.pid;
    function onAbort(): void {
      if (exit !== undefined) return;
      aborted = true;
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    abort?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (c: Buffer) => output.push(c));
    child.stderr.on('data', (c: Buffer) => output.push(c));
    // The exit status is what counts: a hook that ignores its stdin may close it early (EPIPE).
    child.stdin.on('error', () => {});
    child.stdin.end(stringifyJson(state));

    if (hook.timeout !== undefined && hook.timeout > 0) {
      timer = longTimeout(() => {
        if (exit !== undefined) return;
        timedOut = true;
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, hook.timeout * 1000);
    }

    child.on('exit', (code, signal) => {
      exit = { code, signal };
      timer?.clear();
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, DRAIN_GRACE_MS);
    });

    child.on('close', () => {
      const { code, signal } = exit ?? { code: child.exitCode, signal: child.signalCode };
      const quoted = JSON.stringify(hook.path);
      const out = output.toString();
      const suffix = out ? `: ${out}` : '';
      if (aborted) {
        finish(abortError(abort!));
      } else if (timedOut) {
        finish(new HookError(name, `${quoted} timed out after ${hook.timeout}s${suffix}`));
      } else if (signal) {
        finish(new HookError(name, `${quoted} was killed by signal ${signal}${suffix}`));
      } else if (code !== 0) {
        finish(new HookError(name, `${quoted} exited with status ${code}${suffix}`));
      } else {
        finish(undefined);
      }
    });
  });
}

/** Run the hooks of one kind in order; the first failure stops the rest. */
export async function runHooks(name: string, hooks: readonly Hook[] | undefined, state: HookState, options: HookRunOptions = {}): Promise<void> {
  for (const hook of hooks ?? []) {
    await runHook(name, hook, state, options);
  }
}

/**
 * Every hook, whatever the others do: the runtime spec's rule for poststop ("log a warning,
 * the remaining hooks and lifecycle continue as if the hook had succeeded"). Returns the
 * failures, in order.
 */
export async function runHooksToTheEnd(name: string, hooks: readonly Hook[] | undefined, state: HookState): Promise<Error[]> {
  const failures: Error[] = [];
  for (const hook of hooks ?? []) {
    try {
      await runHook(name, hook, state);
    } catch (err) {
      failures.push(err as Error);
    }
  }
  return failures;
}
