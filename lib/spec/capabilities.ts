/** OCI `process.capabilities` -> capability numbers for the bootstrap `process.capabilities`. */
import { ConfigError } from '../errors';
import { CAPABILITIES } from './linux';

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface CapabilitiesPlan {
  bounding: number[];
  effective: number[];
  permitted: number[];
  inheritable: number[];
  ambient: number[];
}

const capabilitySets = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;

/**
 * Map each set's names ("CAP_NET_ADMIN") to numbers, deduplicated and sorted. Unlike runc,
 * which warns about and drops unknown names, an unknown name is an error: a silently
 * missing capability is hard to debug. `field` is the path of the object
 * (e.g. "process.capabilities"). No capabilities object means no capabilities at all, as in
 * runc (capabilities.New(nil) drops every set): never the full set the helper runs with.
 */
export function convertCapabilities(caps: OciCapabilities | undefined | null, field: string): CapabilitiesPlan {
  if (caps === undefined || caps === null) return { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
  if (typeof caps !== 'object' || Array.isArray(caps)) throw new ConfigError(field, 'must be an object');
  const plan: CapabilitiesPlan = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
  for (const set of capabilitySets) {
    const names: unknown = caps[set];
    if (names === undefined || names === null) continue;
    if (!Array.isArray(names)) throw new ConfigError(`${field}.${set}`, 'must be an array of capability names');
    const numbers = new Set<number>();
    names.forEach((name: unknown, i) => {
      const num = typeof name === 'string' && Object.hasOwn(CAPABILITIES, name) ? CAPABILITIES[name] : undefined;
      if (num === undefined) throw new ConfigError(`${field}.${set}[${i}]`, `unknown capability ${JSON.stringify(name)}`);
      numbers.add(num);
    });
    plan[set] = [...numbers].sort((a, b) => a - b);
  }
  // capset(2) refuses an effective capability that is not permitted: said here, naming it,
  // rather than as the init's capset EPERM at the start (runc fails there).
  const permitted = new Set(plan.permitted);
  (caps.effective ?? []).forEach((name, i) => {
    if (!permitted.has(CAPABILITIES[name])) throw new ConfigError(`${field}.effective[${i}]`, `${name} is not in ${field}.permitted (capset refuses an effective capability that is not permitted)`);
  });
  return plan;
}
