/**
 * What Container.set() (runc update) takes: OCI LinuxResources and nothing else. A config may
 * carry fields a runtime does not know (the spec says so), but an update is an argument: a
 * misspelt or invented key (`cpuset`, `memory.limt`) would change nothing while the call
 * succeeds, and be saved with the config. It is refused, naming it, as an unknown run() option is.
 */
import { invalidArgType, invalidArgValue } from '../errors';
import { filesOfTypedFields } from '../cgroups/v2/unified';
import type {
  LinuxBlockIO,
  LinuxCPU,
  LinuxDeviceCgroup,
  LinuxHugepageLimit,
  LinuxInterfacePriority,
  LinuxMemory,
  LinuxNetwork,
  LinuxPids,
  LinuxRdma,
  LinuxResources,
  LinuxThrottleDevice,
  LinuxWeightDevice,
} from '../../types/oci';

/** A map whose keys are names (RDMA devices), each value of the given shape. */
const EVERY_KEY = Symbol('every key');

/**
 * What may be under a key: any value (true), or objects (alone or in an array) with the given
 * keys. Each list `satisfies` its generated type, so the compiler rejects one that misses or
 * invents a field.
 */
type Known = true | { readonly [key: string]: Known } | { readonly [EVERY_KEY]: Known };

const THROTTLE_DEVICE = { major: true, minor: true, rate: true } as const satisfies Record<keyof LinuxThrottleDevice, Known>;

const RESOURCES = {
  devices: { allow: true, type: true, major: true, minor: true, access: true } satisfies Record<keyof LinuxDeviceCgroup, Known>,
  memory: {
    kernel: true, kernelTCP: true, limit: true, reservation: true, swap: true, swappiness: true, disableOOMKiller: true,
    useHierarchy: true, checkBeforeUpdate: true,
  } satisfies Record<keyof LinuxMemory, Known>,
  cpu: {
    cpus: true, mems: true, period: true, quota: true, burst: true, realtimePeriod: true, realtimeRuntime: true, shares: true, idle: true,
  } satisfies Record<keyof LinuxCPU, Known>,
  pids: { limit: true } satisfies Record<keyof LinuxPids, Known>,
  blockIO: {
    weight: true,
    leafWeight: true,
    throttleReadBpsDevice: THROTTLE_DEVICE,
    throttleWriteBpsDevice: THROTTLE_DEVICE,
    throttleReadIOPSDevice: THROTTLE_DEVICE,
    throttleWriteIOPSDevice: THROTTLE_DEVICE,
    weightDevice: { major: true, minor: true, weight: true, leafWeight: true } satisfies Record<keyof LinuxWeightDevice, Known>,
  } satisfies Record<keyof LinuxBlockIO, Known>,
  hugepageLimits: { pageSize: true, limit: true } satisfies Record<keyof LinuxHugepageLimit, Known>,
  network: {
    classID: true,
    priorities: { name: true, priority: true } satisfies Record<keyof LinuxInterfacePriority, Known>,
  } satisfies Record<keyof LinuxNetwork, Known>,
  rdma: { [EVERY_KEY]: { hcaHandles: true, hcaObjects: true } satisfies Record<keyof LinuxRdma, Known> },
  // File names of the v2 tree: any may be written.
  unified: true,
} as const satisfies Record<keyof LinuxResources, Known>;

/** TypeError naming the first key of a set() argument that is not a LinuxResources field. */
export function rejectUnknownResources(resources: unknown): void {
  if (typeof resources !== 'object' || resources === null || Array.isArray(resources)) {
    throw invalidArgType('resources must be an object (OCI LinuxResources)');
  }
  rejectUnknownKeys(resources, RESOURCES, '');
}

function rejectUnknownKeys(value: unknown, known: Known, at: string): void {
  if (known === true) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => rejectUnknownKeys(item, known, `${at}[${i}]`));
    return;
  }
  // A value of the wrong type is the validator's to report, with its field.
  if (typeof value !== 'object' || value === null) return;
  const every = (known as { [EVERY_KEY]?: Known })[EVERY_KEY];
  for (const [key, v] of Object.entries(value)) {
    const field = at ? `${at}.${key}` : key;
    if (every !== undefined) {
      rejectUnknownKeys(v, every, field);
    } else if (Object.hasOwn(known, key)) {
      rejectUnknownKeys(v, (known as Record<string, Known>)[key], field);
    } else {
      const names = Object.keys(known).join(', ');
      throw invalidArgValue(`unknown resources field ${JSON.stringify(field)} (${at ? `${at} has` : 'resources are'} ${names})`);
    }
  }
}

/**
 * `update` semantics: each resource group given replaces that group's fields, the rest stay;
 * a unified key saved earlier for a file a typed field of the request writes is dropped.
 * One exception, runc's: a memory limit lifted (-1) without a swap value lifts the swap limit
 * too (setMemoryAndSwap), where the old memory+swap total would be kept below it (v1 refuses
 * that; on v2 it would become a larger swap-only limit).
 */
export function mergeResources(current: LinuxResources, update: LinuxResources): LinuxResources {
  const out: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    const prev = (current as Record<string, unknown>)[key];
    out[key] = value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object' && !Array.isArray(prev)
      ? { ...(prev as object), ...(value as object) }
      : value;
  }
  // Earlier unified keys for the files this request's typed fields write give way to them.
  const overridden = filesOfTypedFields(update);
  if (current.unified && overridden.size > 0) {
    const kept = Object.fromEntries(Object.entries(current.unified).filter(([key]) => !overridden.has(key)));
    out.unified = { ...kept, ...(update.unified ?? {}) };
  }
  const memory = update.memory;
  if (memory && memory.swap === undefined && memory.limit !== undefined && BigInt(memory.limit) === -1n && (out.memory as { swap?: unknown }).swap !== undefined) {
    out.memory = { ...(out.memory as object), swap: -1 };
  }
  return out as LinuxResources;
}
