/** `update`'s flags as a LinuxResources object (runc's update.go). */
import type { LinuxResources } from '../lib';
import type { FlagSpec, ParsedFlags } from './args';
import { UsageError } from './args';

export const UPDATE_FLAGS: readonly FlagSpec[] = [
  { name: 'resources', aliases: ['r'], type: 'string', help: "path to the file containing the resources to update or '-' to read from the standard input" },
  { name: 'blkio-weight', type: 'string', help: 'Specifies per cgroup weight, range is from 10 to 1000' },
  { name: 'cpu-period', type: 'string', help: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
  { name: 'cpu-quota', type: 'string', help: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
  { name: 'cpu-share', aliases: ['cpu-shares'], type: 'string', help: 'CPU shares (relative weight vs. other containers)' },
  { name: 'cpu-rt-period', type: 'string', help: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
  { name: 'cpu-rt-runtime', type: 'string', help: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
  { name: 'cpuset-cpus', type: 'string', help: 'CPU(s) to use' },
  { name: 'cpuset-mems', type: 'string', help: 'Memory node(s) to use' },
  { name: 'memory', type: 'string', help: 'Memory limit (in bytes)' },
  { name: 'memory-reservation', type: 'string', help: 'Memory reservation or soft_limit (in bytes)' },
  { name: 'memory-swap', type: 'string', help: "Total memory usage (memory + swap); set '-1' to enable unlimited swap" },
  { name: 'pids-limit', type: 'string', help: 'Maximum number of pids allowed in the container' },
  { name: 'l3-cache-schema', type: 'string', help: 'The string of Intel RDT/CAT L3 cache schema (not supported)' },
  { name: 'mem-bw-schema', type: 'string', help: 'The string of Intel RDT/MBA memory bandwidth schema (not supported)' },
];

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** docker/go-units' RAMInBytes: "64m", "1.5g", "512 KiB", "1024" (binary multiples); "-1" as runc takes it (unlimited). */
export function parseBytes(value: string, flag: string): number {
  if (value === '-1') return -1;
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (!m) throw new UsageError(`invalid value for ${flag}: invalid size: '${value}'`);
  return Math.trunc(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!);
}

function parseInteger(value: string, flag: string, min: number): number {
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new UsageError(`invalid value for ${flag}: ${JSON.stringify(value)} is not ${min === 0 ? 'an unsigned' : 'an'} integer`);
  }
  return Number(value);
}

/** The resources the flags ask for; only the flags given (nothing else changes). */
export function resourcesFromFlags(flags: ParsedFlags): LinuxResources {
  for (const rdt of ['l3-cache-schema', 'mem-bw-schema']) {
    if (flags.isSet(rdt)) throw new UsageError(`--${rdt}: Intel RDT (resctrl) is not supported`);
  }
  const r: LinuxResources = {};
  const get = (name: string): string | undefined => flags.string(name);
  const set = <K extends keyof LinuxResources>(key: K, patch: NonNullable<LinuxResources[K]>): void => {
    r[key] = { ...(r[key] as object | undefined), ...patch } as LinuxResources[K];
  };
  let v: string | undefined;
  if ((v = get('blkio-weight')) !== undefined) set('blockIO', { weight: parseInteger(v, 'blkio-weight', 0) });
  if ((v = get('cpu-period')) !== undefined) set('cpu', { period: parseInteger(v, 'cpu-period', 0) });
  if ((v = get('cpu-quota')) !== undefined) set('cpu', { quota: parseInteger(v, 'cpu-quota', -1) });
  if ((v = get('cpu-share')) !== undefined) set('cpu', { shares: parseInteger(v, 'cpu-share', 0) });
  if ((v = get('cpu-rt-period')) !== undefined) set('cpu', { realtimePeriod: parseInteger(v, 'cpu-rt-period', 0) });
  if ((v = get('cpu-rt-runtime')) !== undefined) set('cpu', { realtimeRuntime: parseInteger(v, 'cpu-rt-runtime', -1) });
  if ((v = get('cpuset-cpus')) !== undefined) set('cpu', { cpus: v });
  if ((v = get('cpuset-mems')) !== undefined) set('cpu', { mems: v });
  if ((v = get('memory')) !== undefined) set('memory', { limit: parseBytes(v, 'memory') });
  if ((v = get('memory-reservation')) !== undefined) set('memory', { reservation: parseBytes(v, 'memory-reservation') });
  if ((v = get('memory-swap')) !== undefined) set('memory', { swap: parseBytes(v, 'memory-swap') });
  if ((v = get('pids-limit')) !== undefined) set('pids', { limit: parseInteger(v, 'pids-limit', -1) });
  return r;
}

/** `--resources FILE` (or `-`, the text given): the OCI LinuxResources object. */
export function parseResourcesJson(text: string, source: string): LinuxResources {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source}: not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${source}: the resources must be a JSON object`);
  return value as LinuxResources;
}
