import { constants as osConstants } from 'node:os';

const signals = osConstants.signals as Record<string, number>;

/** 'SIGTERM', 'TERM', 'term' or 15 -> 15; anything else is a RangeError naming the input. */
export function parseSignal(sig: string | number): number {
  if (typeof sig === 'number') {
    if (Number.isInteger(sig) && sig > 0 && sig <= 64) return sig;
    throw new RangeError(`invalid signal number ${sig}`);
  }
  if (typeof sig === 'string') {
    const upper = sig.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    const num = signals[name];
    if (num !== undefined) return num;
    if (/^\d+$/.test(sig)) return parseSignal(Number(sig));
  }
  throw new RangeError(`invalid signal ${JSON.stringify(sig)}`);
}
