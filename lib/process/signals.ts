import { unknownSignal } from '../errors';
import { constants as osConstants } from 'node:os';

const signals = osConstants.signals as Record<string, number>;

// Linux's real-time range as user space sees it: glibc keeps 32 and 33 for itself.
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/**
 * 'SIGTERM', 'TERM', 'term' or 15 -> 15; the real-time names as kill(1) and runc take them
 * ('SIGRTMIN', 'RTMIN+3', 'SIGRTMAX-1'); anything else is a RangeError naming the input.
 * With `zero`, 0 too: kill(2)'s check that the process exists, as runc kill and
 * process.kill(pid, 0) take it (not for a signal meant to end a process).
 */
export function parseSignal(sig: string | number, { zero = false } = {}): number {
  if (typeof sig === 'number') {
    if (Number.isInteger(sig) && (sig > 0 || (zero && sig === 0)) && sig <= 64) return sig;
    throw unknownSignal(`invalid signal number ${sig}`);
  }
  if (typeof sig === 'string') {
    const upper = sig.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    const num = signals[name];
    if (num !== undefined) return num;
    const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d{1,2}))?$/.exec(name);
    if (rt) {
      const offset = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1);
      const n = (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + offset;
      if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
    }
    if (/^\d+$/.test(sig)) return parseSignal(Number(sig), { zero });
  }
  throw unknownSignal(`invalid signal ${JSON.stringify(sig)}`);
}
