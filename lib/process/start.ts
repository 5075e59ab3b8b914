/**
 * Starting a container process: the I/O side of the handshake (port of
 * (*initProcess).start and (*setnsProcess).start in runc's process_linux.go).
 * Spawns the sealed init helper with the addon, sends the bootstrap plan over the sync
 * socket and drives ./handshake.ts until the helper closes the socket.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import createDebug from 'debug';
import type { NativeBinding, NativeChannel, SpawnResult } from '../native/types';
import { initHelperExecFailed, sealedInitHelper } from '../native/binding';
import { ContainerError, ProtocolError, invalidArgValue } from '../errors';
import * as hs from './handshake';
import { Process } from './process';
import type { StdioStream } from './options';
import { abortError } from './termination';
import { TerminalStream } from './terminal';

const debug = createDebug('node-libcontainer:process');
const initLog = createDebug('node-libcontainer:init');

export interface Rlimit {
  resource: number;
  soft: bigint;
  hard: bigint;
}

export interface StartRequest {
  binding: NativeBinding;
  mode: hs.Mode;
  /** CLONE_NEW* bits for the clone itself. */
  cloneFlags: number;
  /** The bootstrap message without the fd numbers (filled in here). */
  bootstrap: Record<string, unknown>;
  stdio: StdioStream[];
  /** The plan asks the helper for a pty (process.terminal): its master becomes the Process's terminal. */
  terminal?: boolean;
  /** Called with the pty master once the helper sent it, before the program runs (kOnConsole). */
  onConsole?: (fd: number) => void;
  /** false: the final process's exit is not collected here (kLeaveExitToReaper). */
  reapFinal?: boolean;
  /**
   * The plan's seccomp filter has notify rules: the helper hands over its listener
   * (procSeccomp), and onSeccomp gets a copy of it (closed after) to give to the agent.
   */
  onSeccomp?: (pid: number, listenerFd: number) => Promise<void> | void;
  extraFiles: number[];
  /** exec mode: a pidfd of the container's init, passed to the helper for setns. */
  joinPidfd?: number;
  rlimits: Rlimit[];
  /** init mode, at procHooks: apply resources, run prestart/createRuntime hooks; returns the OCI state for the in-container hooks. */
  onHooks?: (pid: number) => Promise<object>;
  /**
   * false: the helper applies the rlimits and resets its CPU affinity itself, and does not
   * wait for procRun (onReady is not called). Default true.
   */
  readyAck?: boolean;
  /** With readyAck false: the affinity the helper takes at procReady ('reset' by default: its whole cpuset; null: unchanged). */
  affinity?: number[] | 'reset' | null;
  /** At procReady, after rlimits, before procRun: the last changes the process must have before it goes on. */
  onReady?: (pid: number) => Promise<void>;
  /** Right after procRun was sent, while the helper finishes (save state): start resolves after it. */
  onRunning?: (pid: number) => Promise<void>;
  /** cgroup v2 directory fd: the clone lands in it (CLONE_INTO_CGROUP), before it can fork. */
  cgroupFd?: number;
  /** CPUs for the clone itself (execCPUAffinity.initial): the helper and its program inherit them. */
  cpuAffinity?: number[];
  /**
   * While the helper is being cloned and exec'd (it has not read its plan yet): work that need
   * not wait. A promise it returns is awaited (alongside the spawn) before the plan goes.
   */
  whileSpawning?: () => void | Promise<void>;
  /**
   * Send the bootstrap plan right after whileSpawning, before the spawn has completed: for a
   * helper that needs nothing from onSpawned before it starts (the init, cloned into its v2
   * cgroup and joining the v1 ones itself). Default false: the plan follows onSpawned.
   */
  planBeforeSpawned?: boolean;
  /** Right after the clone, before the helper is told anything: join cgroups (runc's manager.Apply), set affinity. */
  onSpawned?: (pid: number, startTime?: string, recorded?: boolean) => void;
  /** A new file the spawn itself writes the clone's pid and start time to (SpawnOptions.recordPath). */
  recordPath?: string;
  /** An abort before the start has settled fails it with an AbortError: what it started is killed and reaped. */
  abort?: AbortSignal;
}

interface StdioPlan {
  childFds: number[];
  /** Fds this side must close once the child has them. */
  closeAfterSpawn: number[];
  /** Our ends of 'pipe' streams, by stream index. */
  parentEnds: (number | null)[];
}

function planStdio(binding: NativeBinding, stdio: StdioStream[]): StdioPlan {
  const plan: StdioPlan = { childFds: [], closeAfterSpawn: [], parentEnds: [null, null, null] };
  try {
    for (let i = 0; i < 3; i++) {
      const s = stdio[i] ?? 'pipe';
      if (s === 'pipe') {
        const [r, w] = binding.pipe();
        const [childEnd, parentEnd] = i === 0 ? [r, w] : [w, r];
        plan.childFds.push(childEnd);
        plan.closeAfterSpawn.push(childEnd);
        plan.parentEnds[i] = parentEnd;
      } else if (s === 'inherit') {
        plan.childFds.push(i);
      } else if (s === 'ignore') {
        plan.childFds.push(-1);
      } else if (typeof s === 'number' && Number.isInteger(s) && s >= 0) {
        plan.childFds.push(s);
      } else {
        throw invalidArgValue(`stdio[${i}] must be 'pipe', 'inherit', 'ignore' or an fd, got ${JSON.stringify(s)}`);
      }
    }
  } catch (err) {
    closeAll(binding, plan.closeAfterSpawn);
    closeAll(binding, plan.parentEnds);
    throw err;
  }
  return plan;
}

function closeAll(binding: NativeBinding, fds: (number | null | undefined)[]): void {
  for (const fd of fds) {
    if (typeof fd === 'number' && fd >= 0) {
      try {
        binding.close(fd);
      } catch {
        // already closed
      }
    }
  }
}

/** A terminal is the process's stdin and stdout (its stderr goes to the same pty). */
function attachTerminal(proc: Process, terminal: TerminalStream): void {
  proc.terminal = terminal;
  proc.stdin = terminal;
  proc.stdout = terminal;
}

function attachStreams(proc: Process, ends: (number | null)[]): void {
  if (ends[0] !== null) proc.stdin = new net.Socket({ fd: ends[0], readable: false, writable: true });
  if (ends[1] !== null) proc.stdout = new net.Socket({ fd: ends[1], readable: true, writable: false });
  if (ends[2] !== null) proc.stderr = new net.Socket({ fd: ends[2], readable: true, writable: false });
}

/**
 * The helper's log lines to debug('node-libcontainer:init'). Read straight off the pipe when
 * it polls readable, one read per wake-up: a stream per container cost more main-thread
 * time than the few lines it carries. The pipe ends when the helper execs (it is CLOEXEC).
 */
function forwardLogs(binding: NativeBinding, fd: number): void {
  let pending = '';
  const buf = Buffer.allocUnsafe(16 * 1024);
  const watch = binding.watchReadable(fd, () => {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN' || (err as NodeJS.ErrnoException).code === 'EINTR') return;
      n = 0;
    }
    if (n > 0) {
      pending += buf.toString('utf8', 0, n);
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        logLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
      return;
    }
    if (pending) logLine(pending);
    watch.cancel();
    closeAll(binding, [fd]);
  });
}

function logLine(line: string): void {
  if (!line || !initLog.enabled) return;
  try {
    const entry = JSON.parse(line) as { level?: string; t?: number; msg?: string };
    // t: the helper's CLOCK_MONOTONIC in ns, comparable with process.hrtime.bigint().
    initLog('%s %s%s', entry.level ?? 'info', entry.msg ?? line, entry.t ? ` (t=${entry.t})` : '');
  } catch {
    initLog('%s', line);
  }
}

/** Spawn the helper and run the handshake; resolves with the final process once the helper closed the sync socket. */
export async function startProcess(req: StartRequest): Promise<Process> {
  const { binding } = req;
  const stdio = planStdio(binding, req.stdio);
  let syncParent = -1;
  let syncChild = -1;
  let logRead = -1;
  let logWrite = -1;
  // The helper's log lines go to debug('node-libcontainer:init') and nowhere else: with that
  // off, no pipe to make, watch and close per container. Its log slot then gets /dev/null
  // (spawn's -1) and it writes only its rare warnings there. debug 4.4 leaves `enabled`
  // undefined, not false, while DEBUG is unset.
  const logging = initLog.enabled === true;
  try {
    [syncParent, syncChild] = binding.socketpair();
    if (logging) [logRead, logWrite] = binding.pipe();
  } catch (err) {
    closeAll(binding, [...stdio.closeAfterSpawn, ...stdio.parentEnds, syncParent, syncChild, logRead, logWrite]);
    throw err;
  }

  const extra = req.extraFiles.length;
  const fds = [...stdio.childFds, ...req.extraFiles, syncChild, logWrite];
  if (req.joinPidfd !== undefined) fds.push(req.joinPidfd);
  const readyAck = req.readyAck !== false;
  const bootstrap = {
    ...req.bootstrap,
    readyAck,
    ...(readyAck
      ? {}
      : {
          rlimits: req.rlimits.map((r) => ({ resource: r.resource, soft: String(r.soft), hard: String(r.hard) })),
          affinity: req.affinity === undefined ? 'reset' : req.affinity,
        }),
    type: 'bootstrap',
    mode: req.mode,
    extraFiles: extra,
    logFd: 3 + extra + 1,
    joinPidfd: req.joinPidfd !== undefined ? 3 + extra + 2 : -1,
    logDebug: logging,
  };

  // The channel is open before the helper exists. Messages that arrive before the spawn's
  // completion has been handled (the two wake-ups race) wait in `early`.
  let deliver: ((data: Buffer | null, fds: number[]) => void) | null = null;
  const early: [Buffer | null, number[]][] = [];
  let channel: NativeChannel;
  try {
    channel = binding.openChannel(syncParent, (data, msgFds) => {
      if (deliver) deliver(data, msgFds);
      else early.push([data, msgFds]);
    });
  } catch (err) {
    // The channel took syncParent even though it failed (and closes it): not closed here, or
    // the number, perhaps reused by then, would be closed twice.
    closeAll(binding, [...stdio.closeAfterSpawn, ...stdio.parentEnds, syncChild, logRead, logWrite]);
    throw err;
  }
  // Whether the helper may have its plan (and so may have forked): see the abort below.
  let planQueued = false;
  const sendPlan = (): void => {
    planQueued = true;
    channel.send(Buffer.from(JSON.stringify(bootstrap)));
  };

  // The clone and the exec of the helper run on a threadpool thread (creating namespaces
  // takes a millisecond or more); whileSpawning's work overlaps with them. A plan that does
  // not wait for onSpawned is queued on the socket at once, so the helper reads it as soon as
  // it runs instead of after our wake-up for the spawn's completion.
  let spawned: SpawnResult;
  try {
    // Started first: work it queues on the threadpool (the v1 cgroup mkdirs) then runs while
    // the clone creates the namespaces, instead of queueing behind the clone for its locks.
    const overlap = (async () => {
      await req.whileSpawning?.();
      if (req.planBeforeSpawned) sendPlan();
    })();
    const spawning = new Promise<SpawnResult>((resolve, reject) => {
      binding.spawnAsync(
        {
          execFd: sealedInitHelper(binding),
          argv: ['nlc-init', String(3 + extra)],
          env: [],
          cloneFlags: req.cloneFlags,
          fds,
          ...(req.cgroupFd !== undefined ? { cgroupFd: req.cgroupFd } : {}),
          ...(req.cpuAffinity ? { cpuAffinity: req.cpuAffinity } : {}),
          ...(req.recordPath !== undefined ? { recordPath: req.recordPath } : {}),
        },
        (err, result) => (err ? reject(err) : resolve(result!)),
      );
    });
    // Both settle before either's failure is handled: a spawned helper must be reaped, and
    // whileSpawning's work must be over before the caller undoes it.
    const [result, overlapResult] = await Promise.allSettled([spawning, overlap]);
    if (result.status === 'rejected') {
      initHelperExecFailed(result.reason);
      throw result.reason;
    }
    spawned = result.value;
    if (overlapResult.status === 'rejected') {
      const first = new Process(binding, spawned.pid, spawned.pidfd);
      await first.kill();
      throw overlapResult.reason;
    }
  } catch (err) {
    channel.close();
    for (const [, msgFds] of early) closeAll(binding, msgFds);
    closeAll(binding, [logRead, ...stdio.parentEnds]);
    throw err;
  } finally {
    closeAll(binding, [...stdio.closeAfterSpawn, syncChild, logWrite]);
  }
  if (logRead >= 0) forwardLogs(binding, logRead);
  debug('spawned helper pid %d (%s mode, clone flags %s)', spawned.pid, req.mode, req.cloneFlags.toString(16));

  // The first child is the final process unless the helper forks (pid namespace joined later).
  // Until a Process's exit watch runs on the loop, an exited helper is an unreaped zombie: its
  // /proc entry (start time included) is still there for onSpawned.
  const forks = bootstrapForks(req.bootstrap);
  const reapFinal = req.reapFinal !== false;
  const first = new Process(binding, spawned.pid, spawned.pidfd, forks || reapFinal);
  let final: Process | null = forks ? null : first;
  if (req.onSpawned) {
    try {
      req.onSpawned(spawned.pid, spawned.startTime, spawned.recorded === true);
    } catch (err) {
      channel.close();
      for (const [, msgFds] of early) closeAll(binding, msgFds);
      closeAll(binding, stdio.parentEnds);
      await first.kill();
      throw err;
    }
  }

  return new Promise<Process>((resolve, reject) => {
    let state = hs.initialState(req.mode, readyAck, req.terminal === true, req.onSeccomp !== undefined);
    let consoleFd = -1;
    // What the helper sent, in order; 'invalid' stands for a message that could not be parsed.
    const inbox: (hs.InitMessage | { type: 'invalid'; error: ContainerError })[] = [];
    let pumping = false;
    let settled = false;

    // An abort kills what runs and reads the socket on to its end (every holder gone), so that
    // a child the helper forked is still seen there, and killed and reaped: the start then fails
    // with the AbortError, whatever the handshake made of the end. A helper that may be forking
    // (it has its plan, and has not reported its child yet) is let be: killed between its fork
    // and its report, it would leave a child of ours that nobody knows of, to become a zombie
    // nobody reaps. It reports (or fails) and exits soon: it waits for nothing of ours.
    let aborted: Error | null = null;
    const onAbort = (): void => {
      if (settled || aborted) return;
      aborted = abortError(req.abort!);
      const targets = final !== null ? new Set([first, final]) : planQueued ? [] : [first];
      for (const p of targets) {
        try {
          p.signal('SIGKILL');
        } catch {
          // gone already
        }
      }
    };
    const finish = async (failure: Error | null): Promise<void> => {
      if (settled) return;
      settled = true;
      req.abort?.removeEventListener('abort', onAbort);
      channel.close();
      // Messages still queued are not read any more: what they carry is closed (or killed).
      for (const msg of inbox.splice(0)) discard(msg);
      let error = aborted ?? failure;
      if (!error && final === null) error = new ProtocolError('init finished its set-up without reporting the container process');
      if (!error) {
        // A helper that forked the final process exits right after: reaped before we resolve
        // (runc's execSetns waits for it too), so it is never listed among the container's
        // processes once the start has resolved.
        if (final !== first) await first.wait();
        attachStreams(final!, stdio.parentEnds);
        // A program that has exited already (before the start resolved) had its exit handled
        // with no stdin to destroy: done here, as at any exit, or its pipe would stay open.
        if (final!.exitStatus !== null) final!.stdin?.destroy();
        if (consoleFd >= 0) attachTerminal(final!, new TerminalStream(binding, consoleFd));
        resolve(final!);
        return;
      }
      closeAll(binding, [consoleFd]);
      // Nothing is left behind: kill what we started and reap it before rejecting. Nothing
      // here may throw past the reject: the promise would never settle.
      try {
        closeAll(binding, stdio.parentEnds);
        const procs = final && final !== first ? [first, final] : [first];
        const exits = await Promise.all(procs.map((p) => p.kill()));
        if (error instanceof ProtocolError && /before procReady/.test(error.message)) {
          const exit = exits[exits.length - 1];
          error.message += exit.signal ? ` (killed by ${exit.signal})` : ` (exit status ${exit.exitCode})`;
        }
      } catch (err) {
        debug('pid %d: cleaning up after a failed start: %s', spawned.pid, (err as Error).message);
      } finally {
        reject(error);
      }
    };

    // A message the handshake will not take: its fds are closed, and a forked child it names
    // (our child too, through CLONE_PARENT) is killed and reaped.
    const discard = (msg: hs.InitMessage | { type: 'invalid' }): void => {
      if (msg.type === 'procConsole') closeAll(binding, msg.fds);
      if (msg.type !== 'child') return;
      const [pidfd, ...rest] = msg.fds;
      closeAll(binding, rest);
      if (pidfd === undefined) return;
      try {
        void new Process(binding, msg.pid, pidfd).kill();
      } catch {
        closeAll(binding, [pidfd]);
      }
    };

    const apply = async (step: hs.Step): Promise<void> => {
      state = step.state;
      if (debug.enabled) debug('pid %d: phase %s, actions %o', spawned.pid, state.phase, step.actions.map((a) => a.kind));
      for (const action of step.actions) {
        switch (action.kind) {
          case 'adoptChild':
            final = new Process(binding, action.pid, action.pidfd, reapFinal);
            debug('final process pid %d', action.pid);
            break;
          case 'adoptConsole':
            consoleFd = action.fd;
            req.onConsole?.(consoleFd);
            break;
          case 'seccomp': {
            // Port of runc's procSeccomp: a copy first, then the helper may go on (a call it
            // makes under the filter waits for the agent), then the agent gets it.
            const listener = final!.takeFd(action.fd);
            try {
              channel.send(Buffer.from(JSON.stringify({ type: 'procSeccompDone' })));
              await req.onSeccomp!(final!.pid, listener);
            } finally {
              closeAll(binding, [listener]);
            }
            break;
          }
          case 'runHooks': {
            const hookState = req.onHooks ? await req.onHooks(final!.pid) : {};
            channel.send(Buffer.from(JSON.stringify({ type: 'procHooksDone', state: hookState })));
            await apply(hs.hooksDone(state));
            break;
          }
          case 'ready':
            if (action.ack) {
              for (const r of req.rlimits) binding.prlimit(final!.pid, r.resource, r.soft, r.hard);
              if (req.onReady) await req.onReady(final!.pid);
              channel.send(Buffer.from(JSON.stringify({ type: 'procRun' })));
            }
            if (req.onRunning) await req.onRunning(final!.pid);
            break;
          case 'resolve':
            await finish(null);
            break;
          case 'reject':
            await finish(action.error);
            break;
        }
      }
    };

    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      try {
        while (inbox.length && !settled) {
          const msg = inbox.shift()!;
          // Aborted: nothing but the end counts; a child announced meanwhile is killed (the
          // helper that forked it exits by itself).
          if (aborted && msg.type !== 'eof') {
            discard(msg);
            continue;
          }
          try {
            if (msg.type === 'invalid') throw msg.error;
            const step = hs.receive(state, msg);
            // A child the handshake did not adopt (one too many, malformed, too late) goes now.
            if (!step.actions.some((a) => a.kind === 'adoptChild' || a.kind === 'adoptConsole')) discard(msg);
            await apply(step);
          } catch (err) {
            // (A step the abort cut short, a hook killed: the helper's end finishes the start.)
            if (aborted) continue;
            const error = err instanceof ContainerError ? err : new ProtocolError(String((err as Error).message ?? err), { cause: err });
            try {
              channel.send(Buffer.from(JSON.stringify({ type: 'procError', message: error.message })));
            } catch {
              // the helper may be gone already
            }
            await apply(hs.parentFailed(state, error));
          }
        }
      } finally {
        pumping = false;
      }
    };

    deliver = (data, msgFds) => {
      if (debug.enabled) debug('pid %d: message %s fds %o', spawned.pid, data === null ? 'EOF' : data.toString(), msgFds);
      if (data === null) {
        inbox.push({ type: 'eof' });
      } else {
        let msg: hs.InitMessage;
        try {
          msg = hs.parseMessage(data, msgFds);
        } catch (err) {
          closeAll(binding, msgFds);
          // In turn, through pump: the helper is told, as for any failure on our side.
          inbox.push({ type: 'invalid', error: err as ContainerError });
          void pump();
          return;
        }
        // Only child (its pidfd) and procConsole (the pty master) carry fds on purpose; any others are closed.
        if (msg.type !== 'child' && msg.type !== 'procConsole') closeAll(binding, msgFds);
        if (settled) {
          discard(msg);
          return;
        }
        inbox.push(msg);
      }
      void pump();
    };
    for (const [data, msgFds] of early.splice(0)) deliver(data, msgFds);
    // An abort from here on ends the start wherever the handshake is (a hook that hangs, say).
    if (req.abort?.aborted) onAbort();
    else req.abort?.addEventListener('abort', onAbort, { once: true });
    if (aborted) return;
    if (!req.planBeforeSpawned) {
      try {
        sendPlan();
      } catch (err) {
        void finish(new ProtocolError(`cannot send bootstrap data to init: ${(err as Error).message}`, { cause: err }));
      }
    }
  });
}

function bootstrapForks(bootstrap: Record<string, unknown>): boolean {
  const ns = bootstrap.namespaces as { forkChild?: boolean } | undefined;
  return Boolean(ns?.forkChild);
}
