/** OCI `process.rlimits` -> resource limits for prlimit (set by the parent at procReady). */
import { ConfigError } from '../errors';
import { RLIMITS, RLIM_INFINITY } from './linux';

export interface OciRlimit {
  type: string;
  hard: number | bigint;
  soft: number | bigint;
}

export interface RlimitPlan {
  resource: number;
  soft: bigint;
  hard: bigint;
}

// JSON numbers past 2^53 lose precision: 18446744073709551615 parses as 2^64, so anything
// at or above 2^64-1 (and the conventional -1) means unlimited.
function limitValue(value: unknown, field: string): bigint {
  let v: bigint;
  if (typeof value === 'bigint') {
    v = value;
  } else if (typeof value === 'number' && Number.isInteger(value)) {
    if (value >= 2 ** 64) return RLIM_INFINITY;
    v = BigInt(value);
  } else {
    throw new ConfigError(field, `${String(value)} is not an integer`);
  }
  if (v === -1n || v >= RLIM_INFINITY) return RLIM_INFINITY;
  if (v < 0n) throw new ConfigError(field, `${v} is negative`);
  return v;
}

/**
 * Validate and convert rlimits (`field` is e.g. "process.rlimits"). Like runc's config
 * validator, a resource listed twice is an error, as is soft > hard.
 */
export function convertRlimits(rlimits: readonly OciRlimit[] | undefined | null, field: string): RlimitPlan[] {
  if (rlimits === undefined || rlimits === null) return [];
  if (!Array.isArray(rlimits)) throw new ConfigError(field, 'must be an array');
  const seen = new Set<string>();
  return rlimits.map((r, i) => {
    const at = `${field}[${i}]`;
    if (typeof r !== 'object' || r === null) throw new ConfigError(at, 'must be an object');
    const type: unknown = r.type;
    const resource = typeof type === 'string' && Object.hasOwn(RLIMITS, type) ? RLIMITS[type] : undefined;
    if (resource === undefined) throw new ConfigError(`${at}.type`, `unknown rlimit type ${JSON.stringify(type)}`);
    if (seen.has(r.type)) throw new ConfigError(`${at}.type`, `duplicate rlimit type ${r.type}`);
    seen.add(r.type);
    const soft = limitValue(r.soft, `${at}.soft`);
    const hard = limitValue(r.hard, `${at}.hard`);
    if (soft > hard) throw new ConfigError(at, `soft limit ${soft} is greater than hard limit ${hard}`);
    return { resource, soft, hard };
  });
}
