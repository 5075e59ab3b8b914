/**
 * How a container process meets the caller, as runc's runner (utils_linux.go): without a
 * terminal it gets this process's own stdio; with one, the pty master goes to
 * --console-socket (detached) or is proxied to this process's stdio (foreground).
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Process, ProcessExit, ProcessOptions } from '../lib';
import { kLeaveExitToReaper, kOnConsole } from '../lib/process/options';
import { loadBinding } from '../lib/native/binding';
import { UsageError } from './args';

/** runc's checkTerminal: a detached terminal needs a console socket, and a console socket needs a detached terminal. */
export function checkTerminal(detach: boolean, terminal: boolean, consoleSocket: string | undefined): void {
  if (detach && terminal && !consoleSocket) throw new UsageError('cannot allocate tty if runc will detach without setting console socket');
  if ((!detach || !terminal) && consoleSocket) throw new UsageError('cannot use console socket if runc will not detach or allocate tty');
}

/**
 * The fds the container gets beyond stdio, as runc: systemd's socket-activation fds first
 * (LISTEN_FDS, when LISTEN_PID is us), then --preserve-fds more; with LISTEN_FDS the process
 * also gets LISTEN_FDS=n and LISTEN_PID=1.
 */
export function extraFiles(preserveFds: number, env: NodeJS.ProcessEnv = process.env, pid = process.pid): { fds: number[]; env: string[] } {
  if (!Number.isInteger(preserveFds) || preserveFds < 0) throw new UsageError(`--preserve-fds must be a non-negative integer, got ${preserveFds}`);
  const listen = env.LISTEN_FDS && env.LISTEN_PID === String(pid) ? Number(env.LISTEN_FDS) : 0;
  const count = (Number.isInteger(listen) && listen > 0 ? listen : 0) + preserveFds;
  const fds = Array.from({ length: count }, (_, i) => 3 + i);
  return { fds, env: listen > 0 ? [`LISTEN_FDS=${listen}`, 'LISTEN_PID=1'] : [] };
}

/** runc's createPidFile: written to a hidden temporary beside it, then renamed over it (readers never see it half-written). */
export function writePidFile(file: string, pid: number): void {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}`);
  const fd = fs.openSync(tmp, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR | fs.constants.O_SYNC, 0o666);
  try {
    fs.writeSync(fd, String(pid));
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
}

/** Hand the process's pty master to the console socket (runc's utils.SendFile) and close our copy. */
export function sendTerminal(proc: Process, socketPath: string): void {
  const terminal = proc.terminal;
  if (!terminal) throw new Error(`process ${proc.pid} has no terminal to send to ${socketPath}`);
  const binding = loadBinding();
  if (!binding.sendFdToUnixSocket) throw new Error('this native binding cannot send a file descriptor to a console socket');
  try {
    binding.sendFdToUnixSocket(path.resolve(socketPath), Buffer.from('/dev/ptmx'), terminal.fd);
  } finally {
    terminal.destroy();
  }
}

/**
 * The process's stdio, as runc's: without a terminal, our own. A terminal we proxy in the
 * foreground passes "\n" as it is (runc's console.ClearONLCR on the pty it receives, before the
 * program runs), so output sent to a file is the program's bytes. A process we leave running
 * (detached) is left to our caller, an engine that is child subreaper of ours, even if it
 * exits before we do: collected here, its exit status would be lost to it.
 */
export function setProcessStdio(options: ProcessOptions, terminal: boolean, detach: boolean, consoleSocket: string | undefined): void {
  if (!terminal) options.stdio = 'inherit';
  else if (!detach && !consoleSocket) {
    options[kOnConsole] = (fd) => {
      try {
        loadBinding().clearOnlcr?.(fd);
      } catch {
        // cosmetic: the output keeps its "\r"
      }
    };
  }
  if (detach) options[kLeaveExitToReaper] = true;
}

/** Proxy a foreground process's terminal to our stdio (raw, following the window's size) until it ends. */
export function proxyTerminal(proc: Process): () => void {
  const terminal = proc.terminal!;
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  // The container's pty passes "\n" as it is (setProcessStdio): our own terminal, whose
  // output processing libuv's raw mode keeps, adds the "\r" to what it shows.
  if (raw) stdin.setRawMode(true);
  const resize = (): void => {
    if (process.stdout.isTTY) {
      try {
        proc.resize({ cols: process.stdout.columns, rows: process.stdout.rows });
      } catch {
        // gone meanwhile
      }
    }
  };
  resize();
  process.on('SIGWINCH', resize);
  // Our stdin at its end does not end the terminal (a pty has no half-close): the program decides when it is done.
  stdin.pipe(terminal, { end: false });
  terminal.pipe(process.stdout, { end: false });
  return () => {
    process.off('SIGWINCH', resize);
    stdin.unpipe(terminal);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    stdin.destroy();
  };
}

/**
 * Signals this process passes on to the container process while it runs in the foreground, as
 * runc's signal handler does (the ones Node lets a program handle; SIGWINCH resizes instead).
 */
const FORWARDED: readonly NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU',
  'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ', 'SIGIO', 'SIGPWR',
];

export interface SignalForwarder {
  /** From now on (and for what came before) signals go to proc. */
  attach(proc: Process): void;
  stop(): void;
}

/**
 * Installed before the process is started, as runc installs its handler before it starts the
 * container: a signal that comes while the start is under way (the program may already have
 * run and printed) is held, and sent once the process is known, instead of ending us with the
 * default action and leaving the container behind.
 */
export function forwardSignals(): SignalForwarder {
  let target: Process | null = null;
  const held: NodeJS.Signals[] = [];
  const send = (proc: Process, sig: NodeJS.Signals): void => {
    try {
      proc.signal(sig);
    } catch {
      // gone meanwhile: its exit ends us
    }
  };
  const handlers = FORWARDED.map((sig) => {
    const handler = (): void => {
      if (target) send(target, sig);
      else held.push(sig);
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return {
    attach(proc) {
      target = proc;
      for (const sig of held.splice(0)) send(proc, sig);
    },
    stop() {
      for (const [sig, handler] of handlers) process.off(sig, handler);
    },
  };
}

/** The shell's convention, as runc: the exit code, or 128 + the signal's number. */
export function exitStatus(exit: ProcessExit): number {
  if (exit.exitCode !== null) return exit.exitCode;
  if (exit.signal !== null) {
    const num = (osConstants.signals as Record<string, number>)[exit.signal];
    return 128 + (num ?? 0);
  }
  return 255;
}

/**
 * Run a process in the foreground to its end: signals forwarded (the forwarder was installed
 * before the start), its terminal (if any) on our stdio. Resolves with its exit status.
 */
export async function waitInForeground(proc: Process, forwarder: SignalForwarder): Promise<number> {
  forwarder.attach(proc);
  const stopProxy = proc.terminal ? proxyTerminal(proc) : null;
  try {
    const exit = await proc.wait();
    // What the program wrote last is still in the pty: read to the terminal's end (EIO).
    if (proc.terminal && !proc.terminal.readableEnded) await Promise.race([once(proc.terminal, 'end'), sleep(500, undefined, { ref: false })]);
    return exitStatus(exit);
  } finally {
    forwarder.stop();
    stopProxy?.();
  }
}
