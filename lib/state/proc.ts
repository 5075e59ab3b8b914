import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** One letter: R, S, D, Z, X, T, ... */
  state: string;
  /** Field 22 (starttime, clock ticks since boot), kept as a string: it identifies a pid incarnation. */
  startTime: string;
  ppid: number;
}

export type ProcStatReader = (pid: number) => ProcStat | null;

/** Parse the text of /proc/PID/stat; null when it is malformed. */
export function parseProcStat(text: string): ProcStat | null {
  // comm (field 2) may contain spaces and parentheses, but the kernel adds nothing after the
  // closing one, so the fields start after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 1).trim().split(/\s+/);
  // fields[0] is field 3 (state), fields[1] field 4 (ppid), fields[19] field 22 (starttime).
  if (fields.length < 20) return null;
  const ppid = Number(fields[1]);
  if (!Number.isInteger(ppid) || !/^[0-9]+$/.test(fields[19])) return null;
  return { state: fields[0], startTime: fields[19], ppid };
}

/** Port of runc's system.Stat: null when the process is gone. */
export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    // A few hundred bytes from procfs: cheaper than a threadpool round trip.
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw err;
  }
  return parseProcStat(text);
}

export type ProcessStatus = 'gone' | 'zombie' | 'alive';

/**
 * The liveness half of runc's hasInit. A pid whose start time differs from the recorded one
 * was reused by another process, so our process is gone.
 */
export function processStatus(pid: number, startTime: string, stat: ProcStatReader = readProcStat): ProcessStatus {
  const st = stat(pid);
  if (st === null || st.startTime !== startTime) return 'gone';
  if (st.state === 'Z' || st.state === 'X') return 'zombie';
  return 'alive';
}

/** What refreshState can derive; OCI's `creating` exists only while create is under way. */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'stopped';

/**
 * What refreshState looks at. The init's liveness is given either as the result of
 * `processStatus` (`alive`) or as the recorded pid and start time, checked here.
 */
export type StatusFacts = {
  /** The exec fifo still exists: init has not been released by `start` yet. */
  fifoExists: boolean;
  /** The cgroup freezer reports frozen. */
  paused: boolean;
} & ({ alive: ProcessStatus } | { initPid: number; initStartTime: string });

/**
 * Port of runc's (*Container).refreshState. As in runc, a frozen cgroup wins over everything
 * else (a created container can be paused, and resume then brings back `created`).
 */
export function deriveStatus(facts: StatusFacts, stat: ProcStatReader = readProcStat): ContainerStatus {
  if (facts.paused) return 'paused';
  const alive =
    'alive' in facts
      ? facts.alive
      : facts.initPid > 0
        ? processStatus(facts.initPid, facts.initStartTime, stat)
        : 'gone';
  if (alive !== 'alive') return 'stopped';
  if (facts.fifoExists) return 'created';
  return 'running';
}
