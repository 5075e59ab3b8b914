import { ConfigError } from '../errors';
import { sysctlDotForm, sysctlNameProblem } from './sysctl';
import type {
  IOPriorityClass,
  LinuxDeviceType,
  LinuxMemoryPolicyFlag,
  LinuxMemoryPolicyMode,
  LinuxNamespaceType,
  LinuxPersonalityDomain,
  LinuxRootfsPropagation,
  LinuxSchedulerFlag,
  LinuxSchedulerPolicy,
  LinuxSeccompAction,
  LinuxSeccompArch,
  LinuxSeccompFlag,
  LinuxSeccompOperator,
  Spec,
} from '../../types/oci';

/**
 * Checks an OCI config.json for what a Linux runtime needs: the schema's shapes, types and
 * ranges, plus the rules the spec text and runc add (absolute paths, no duplicate namespaces,
 * namespaces that settings depend on...). Unknown properties are ignored, as the spec requires.
 * Throws a ConfigError whose `field` names the first offending field (`linux.namespaces[2].type`).
 */
export function validateConfig(config: unknown, options: ValidateOptions = {}): Spec {
  const spec = asObject(config, '');
  for (const [key, platform] of Object.entries(OTHER_PLATFORMS)) {
    // A config for another OS would run here without the isolation it asks for.
    if (spec[key] !== undefined) fail(key, `is a ${platform} section; this runtime runs Linux containers only`);
  }
  checkSpec(config, '');
  if (options.requireProcess && spec.process === undefined) fail('process', 'is required to create a container');
  return config as Spec;
}

export interface ValidateOptions {
  /** Require `process` (create and run need one; a stored config need not have it). */
  requireProcess?: boolean;
}

const OTHER_PLATFORMS: Record<string, string> = {
  windows: 'Windows',
  solaris: 'Solaris',
  vm: 'virtual-machine',
  zos: 'z/OS',
  freebsd: 'FreeBSD',
};

// --- Check combinators -------------------------------------------------------------------

/** Validates `value`, found at `field`, or throws ConfigError. */
type Check = (value: unknown, field: string) => void;
type JsonObject = Record<string, unknown>;

function fail(field: string, message: string): never {
  throw new ConfigError(field || '(config)', message);
}

/** `linux` + `namespaces` -> `linux.namespaces`; keys that are not identifiers are quoted. */
function join(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: unknown, field: string): JsonObject {
  if (!isObject(value)) fail(field, `must be an object, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

/**
 * An object with the given property checks; `refine` runs after every property passed, for rules
 * that relate several properties.
 */
function object(props: Record<string, Check>, required: string[] = [], refine?: (o: JsonObject, field: string) => void): Check {
  return (value, field) => {
    const o = asObject(value, field);
    for (const key of required) if (o[key] === undefined) fail(join(field, key), 'is required');
    for (const [key, check] of Object.entries(props)) if (o[key] !== undefined) check(o[key], join(field, key));
    refine?.(o, field);
  };
}

function arrayOf(item: Check, opts: { nonEmpty?: boolean } = {}): Check {
  return (value, field) => {
    if (!Array.isArray(value)) fail(field, `must be an array, got ${describe(value)}`);
    if (opts.nonEmpty && value.length === 0) fail(field, 'must not be empty');
    value.forEach((v, i) => item(v, join(field, i)));
  };
}

function mapOf(item: Check, checkKey?: (key: string, field: string) => void): Check {
  return (value, field) => {
    const o = asObject(value, field);
    for (const [key, v] of Object.entries(o)) {
      const at = join(field, key);
      checkKey?.(key, at);
      item(v, at);
    }
  };
}

const bool: Check = (value, field) => {
  if (typeof value !== 'boolean') fail(field, `must be a boolean, got ${describe(value)}`);
};

const str: Check = (value, field) => {
  if (typeof value !== 'string') fail(field, `must be a string, got ${describe(value)}`);
};

/** A string handed to the kernel or to exec, where a NUL byte would silently cut it short. */
const cstr: Check = (value, field) => {
  str(value, field);
  if ((value as string).includes('\0')) fail(field, 'must not contain a NUL byte');
};

const nonEmptyStr: Check = (value, field) => {
  cstr(value, field);
  if (value === '') fail(field, 'must not be empty');
};

const absPath: Check = (value, field) => {
  cstr(value, field);
  if (!(value as string).startsWith('/')) fail(field, `must be an absolute path, got ${JSON.stringify(value)}`);
};

function pattern(re: RegExp, what: string): Check {
  return (value, field) => {
    str(value, field);
    if (!re.test(value as string)) fail(field, `must be ${what}, got ${JSON.stringify(value)}`);
  };
}

/**
 * A string enum. Taking a Record over the generated union makes the compiler reject a list that
 * misses or invents a member.
 */
function oneOf<T extends string>(members: Record<T, true>): Check {
  const values = Object.keys(members);
  return (value, field) => {
    if (typeof value !== 'string' || !values.includes(value)) {
      fail(field, `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(value)}`);
    }
  };
}

/**
 * An integer in [min, max]. 64-bit kinds also take a bigint, exact; a number is compared with the
 * bounds rounded to doubles, since JSON.parse already rounded it: 18446744073709551615 (RLIM_INFINITY
 * as a uint64) parses to 2^64 and must still be accepted as the uint64 maximum.
 */
function integer(min: bigint, max: bigint, acceptBigint = false): Check {
  const range = `an integer from ${min} to ${max}`;
  return (value, field) => {
    if (typeof value === 'bigint') {
      if (!acceptBigint) fail(field, `must be ${range} (a number, not a bigint)`);
      if (value < min || value > max) fail(field, `must be ${range}, got ${value}`);
      return;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) fail(field, `must be ${range}, got ${describe(value)}`);
    if (value < Number(min) || value > Number(max)) fail(field, `must be ${range}, got ${value}`);
  };
}

const uint16 = integer(0n, 0xffffn);
const uint32 = integer(0n, 0xffffffffn);
const int32 = integer(-(2n ** 31n), 2n ** 31n - 1n);
const int64 = integer(-(2n ** 63n), 2n ** 63n - 1n, true);
const uint64 = integer(0n, 2n ** 64n - 1n, true);
const safeInteger = (min: bigint) => integer(min, BigInt(Number.MAX_SAFE_INTEGER));
/** A device number. The schema says int64, but a Linux dev_t major is 12 bits and a minor 20. */
const deviceNumber = uint32;
/** In the device cgroup, -1 is the wildcard (`*`), like an unset major or minor. */
const deviceNumberOrWildcard = integer(-1n, 0xffffffffn);

/**
 * integer(min, max), or one of the `special` values outside that range (-1: no limit, 0: not
 * set), each named in the message.
 */
function integerOr(special: Array<[value: bigint, meaning: string]>, min: bigint, max: bigint, acceptBigint = false): Check {
  const inRange = integer(min, max, acceptBigint);
  const what = `${special.map(([v, meaning]) => `${v} (${meaning})`).join(', ')} or an integer from ${min} to ${max}`;
  return (value, field) => {
    const isInteger = typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
    if (isInteger && special.some(([v]) => toBigInt(value) === v)) return;
    try {
      inRange(value, field);
    } catch (err) {
      // The range alone would hide the special values; a refused bigint keeps its own reason.
      if (typeof value === 'bigint' && !acceptBigint) throw err;
      fail(field, `must be ${what}, got ${describe(value)}`);
    }
  };
}

function toBigInt(value: unknown): bigint {
  return typeof value === 'bigint' ? value : BigInt(value as number);
}

// --- Shared pieces -----------------------------------------------------------------------

/** `KEY=value`: what execve and runc's prepareEnv expect. */
const envEntry: Check = (value, field) => {
  cstr(value, field);
  const eq = (value as string).indexOf('=');
  if (eq < 0) fail(field, `must have the form KEY=value, got ${JSON.stringify(value)}`);
  if (eq === 0) fail(field, 'must have a non-empty name before "="');
};

const stringMap = mapOf(str, (key, field) => {
  if (key === '') fail(field, 'keys must not be empty');
});

const idMapping = object({ containerID: uint32, hostID: uint32, size: uint32 }, ['containerID', 'hostID', 'size']);

/** The kernel's dev_valid_name: what an interface may be called. */
function checkInterfaceName(name: string, field: string): void {
  if (name === '' || Buffer.byteLength(name) > 15) {
    fail(field, `must be an interface name of 1 to 15 bytes, got ${JSON.stringify(name)}`);
  }
  if (name === '.' || name === '..' || /[/:\s]/.test(name)) {
    fail(field, `must be a valid interface name (not "." or "..", no "/", ":" or whitespace), got ${JSON.stringify(name)}`);
  }
}

// --- Process -----------------------------------------------------------------------------

const capabilityList = arrayOf(pattern(/^CAP_[A-Z_]+$/, 'a capability name like CAP_CHOWN'));

// getrlimit(2) resources; the spec requires an error for a type the kernel cannot map.
const RLIMITS = new Set([
  'RLIMIT_AS', 'RLIMIT_CORE', 'RLIMIT_CPU', 'RLIMIT_DATA', 'RLIMIT_FSIZE', 'RLIMIT_LOCKS',
  'RLIMIT_MEMLOCK', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_RSS',
  'RLIMIT_RTPRIO', 'RLIMIT_RTTIME', 'RLIMIT_SIGPENDING', 'RLIMIT_STACK',
]);

const rlimit = object(
  {
    type: (value, field) => {
      pattern(/^RLIMIT_[A-Z]+$/, 'an rlimit name like RLIMIT_NOFILE')(value, field);
      if (!RLIMITS.has(value as string)) fail(field, `is not a Linux resource limit: ${JSON.stringify(value)}`);
    },
    hard: uint64,
    soft: uint64,
  },
  ['type', 'soft', 'hard'],
  (r, field) => {
    if (toBigInt(r.soft) > toBigInt(r.hard)) fail(join(field, 'soft'), 'must not exceed the hard limit');
  },
);

const rlimits: Check = (value, field) => {
  arrayOf(rlimit)(value, field);
  const seen = new Set<string>();
  (value as JsonObject[]).forEach((r, i) => {
    if (seen.has(r.type as string)) fail(join(join(field, i), 'type'), `duplicates ${r.type}`);
    seen.add(r.type as string);
  });
};

const schedulerPolicy = oneOf<LinuxSchedulerPolicy>({
  SCHED_OTHER: true, SCHED_FIFO: true, SCHED_RR: true, SCHED_BATCH: true, SCHED_ISO: true, SCHED_IDLE: true, SCHED_DEADLINE: true,
});
const schedulerFlag = oneOf<LinuxSchedulerFlag>({
  SCHED_FLAG_RESET_ON_FORK: true, SCHED_FLAG_RECLAIM: true, SCHED_FLAG_DL_OVERRUN: true, SCHED_FLAG_KEEP_POLICY: true,
  SCHED_FLAG_KEEP_PARAMS: true, SCHED_FLAG_UTIL_CLAMP_MIN: true, SCHED_FLAG_UTIL_CLAMP_MAX: true,
});

// Port of runc's validate.scheduler (sched_setattr(2) rules).
const scheduler = object(
  {
    policy: schedulerPolicy,
    nice: integer(-20n, 19n),
    priority: int32,
    flags: arrayOf(schedulerFlag),
    runtime: uint64,
    deadline: uint64,
    period: uint64,
  },
  ['policy'],
  (s, field) => {
    const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
    if (s.priority !== undefined && s.priority !== 0 && !realtime) {
      fail(join(field, 'priority'), 'can only be set with policy SCHED_FIFO or SCHED_RR');
    }
    for (const key of ['runtime', 'deadline', 'period']) {
      if (s[key] !== undefined && toBigInt(s[key]) !== 0n && s.policy !== 'SCHED_DEADLINE') {
        fail(join(field, key), 'can only be set with policy SCHED_DEADLINE');
      }
    }
  },
);

const ioPriority = object(
  {
    class: oneOf<IOPriorityClass>({ IOPRIO_CLASS_RT: true, IOPRIO_CLASS_BE: true, IOPRIO_CLASS_IDLE: true }),
    // ioprio_set(2) has eight levels per class.
    priority: integer(0n, 7n),
  },
  ['class'],
);

// struct winsize: 16-bit rows and columns.
const consoleSize = object({ height: uint16, width: uint16 }, ['height', 'width']);

const cpuList = pattern(/^[0-9, -]*$/, 'a CPU list like "0-3,7"');

const processCheck = object(
  {
    args: arrayOf(cstr),
    commandLine: str,
    consoleSize,
    cwd: absPath,
    env: arrayOf(envEntry),
    terminal: bool,
    user: object({ uid: uint32, gid: uint32, umask: uint32, additionalGids: arrayOf(uint32), username: str }),
    capabilities: object({
      bounding: capabilityList,
      permitted: capabilityList,
      effective: capabilityList,
      inheritable: capabilityList,
      ambient: capabilityList,
    }),
    apparmorProfile: str,
    oomScoreAdj: integer(-1000n, 1000n),
    selinuxLabel: str,
    ioPriority,
    noNewPrivileges: bool,
    scheduler,
    rlimits,
    execCPUAffinity: object({ initial: cpuList, final: cpuList }),
  },
  ['cwd'],
  (p, field) => {
    // Port of runc's validateProcessSpec: there must be something to exec.
    if (p.args === undefined || (p.args as unknown[]).length === 0) {
      fail(join(field, 'args'), 'must be a non-empty array: the program to run and its arguments');
    }
  },
);

// --- Mounts and hooks --------------------------------------------------------------------

const mount = object(
  {
    source: cstr,
    // Relative or with "..": taken as runc takes them (cleanMountDestination).
    destination: nonEmptyStr,
    options: arrayOf(cstr),
    type: cstr,
    uidMappings: arrayOf(idMapping),
    gidMappings: arrayOf(idMapping),
  },
  ['destination'],
  (m, field) => {
    // Port of runc's checkIDMapMounts, the parts that need no host state.
    if (m.uidMappings === undefined && m.gidMappings === undefined) return;
    if (m.uidMappings === undefined || m.gidMappings === undefined) {
      const missing = m.uidMappings === undefined ? 'uidMappings' : 'gidMappings';
      fail(join(field, missing), 'is required with an idmapped mount (both maps are)');
    }
    const opts = (m.options as string[] | undefined) ?? [];
    if (!opts.includes('bind') && !opts.includes('rbind')) {
      fail(join(field, 'options'), 'must include "bind" or "rbind" for an idmapped mount');
    }
    if (typeof m.source !== 'string' || !m.source.startsWith('/')) {
      fail(join(field, 'source'), 'must be an absolute path for an idmapped mount');
    }
  },
);

const hook = object(
  {
    path: absPath,
    args: arrayOf(cstr),
    env: arrayOf(envEntry),
    timeout: safeInteger(1n),
  },
  ['path'],
);

const hookList = arrayOf(hook);
const hooks = object({
  prestart: hookList,
  createRuntime: hookList,
  createContainer: hookList,
  startContainer: hookList,
  poststart: hookList,
  poststop: hookList,
});

// --- Linux -------------------------------------------------------------------------------

const namespaceType = oneOf<LinuxNamespaceType>({
  mount: true, pid: true, network: true, uts: true, ipc: true, user: true, cgroup: true, time: true,
});

const namespaces: Check = (value, field) => {
  arrayOf(object({ type: namespaceType, path: absPath }, ['type']))(value, field);
  const seen = new Set<string>();
  (value as JsonObject[]).forEach((ns, i) => {
    if (seen.has(ns.type as string)) fail(join(join(field, i), 'type'), `duplicates namespace ${JSON.stringify(ns.type)}`);
    seen.add(ns.type as string);
  });
};

const device = object(
  {
    type: oneOf<LinuxDeviceType>({ c: true, b: true, u: true, p: true }),
    path: absPath,
    // Engines (podman --device, --privileged) give the file type bits too (0o020600): runc
    // strips S_IFMT, and keeps setuid, setgid and sticky.
    fileMode: uint32,
    major: deviceNumber,
    minor: deviceNumber,
    uid: uint32,
    gid: uint32,
  },
  ['type', 'path'],
  (d, field) => {
    if (d.type === 'p') return;
    for (const key of ['major', 'minor']) {
      if (d[key] === undefined) fail(join(field, key), `is required for a device of type ${JSON.stringify(d.type)}`);
    }
  },
);

const deviceCgroup = object(
  {
    allow: bool,
    type: oneOf<'a' | 'b' | 'c'>({ a: true, b: true, c: true }),
    major: deviceNumberOrWildcard,
    minor: deviceNumberOrWildcard,
    access: pattern(/^[rwm]{0,3}$/, 'a combination of r, w and m'),
  },
  ['allow'],
);

const blockIODevice = { major: deviceNumber, minor: deviceNumber };

// What the kernel takes, checked here so that a bad value fails createContainer and set()
// naming its field, not the start with the kernel's EINVAL (or nothing, where the kernel
// clamps). 0 is "not set" where the cgroup code skips it.
/** A v1 memory limit: the kernel reads a negative other than -1 as a huge size. */
const memoryLimit = integerOr([[-1n, 'unlimited']], 0n, 2n ** 63n - 1n, true);
/** blkio weights (CFQ/BFQ's CFQ_WEIGHT_MIN..MAX). */
const blkioWeight = integerOr([[0n, 'not set']], 10n, 1000n);
/** cfs_quota_us: the kernel's minimum is 1 ms. */
const cpuQuota = integerOr([[-1n, 'no limit'], [0n, 'not set']], 1000n, 2n ** 63n - 1n, true);
/** cpu.shares: the kernel's MIN_SHARES..MAX_SHARES (it clamps, so 1 would silently be 2). */
const cpuShares = integerOr([[0n, 'not set']], 2n, 262144n, true);
/** cfs_period_us: 1 ms to 1 s. */
const cpuPeriod = integerOr([[0n, 'not set']], 1000n, 1_000_000n, true);

/**
 * A cpuset list as the kernel parses it (bitmap_parselist): "0-3,7", each range low to high;
 * "" leaves it unset. Whether those CPUs or nodes exist is for the kernel to say at start.
 */
function cpusetList(what: string): Check {
  return (value, field) => {
    str(value, field);
    const s = value as string;
    if (s === '') return;
    const items = s.trim().split(',');
    for (const item of items) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(item);
      if (!m) fail(field, `must be a list of ${what} like "0-3,7", got ${JSON.stringify(s)}`);
      if (m[2] !== undefined && BigInt(m[1]) > BigInt(m[2])) fail(field, `has a range that ends before it starts: ${JSON.stringify(item)}`);
    }
  };
}

const resources = object({
  unified: stringMap,
  devices: arrayOf(deviceCgroup),
  pids: object({ limit: int64 }, ['limit']),
  blockIO: object({
    weight: blkioWeight,
    leafWeight: blkioWeight,
    throttleReadBpsDevice: arrayOf(object({ ...blockIODevice, rate: uint64 }, ['major', 'minor'])),
    throttleWriteBpsDevice: arrayOf(object({ ...blockIODevice, rate: uint64 }, ['major', 'minor'])),
    throttleReadIOPSDevice: arrayOf(object({ ...blockIODevice, rate: uint64 }, ['major', 'minor'])),
    throttleWriteIOPSDevice: arrayOf(object({ ...blockIODevice, rate: uint64 }, ['major', 'minor'])),
    weightDevice: arrayOf(
      object({ ...blockIODevice, weight: blkioWeight, leafWeight: blkioWeight }, ['major', 'minor'], (w, field) => {
        if (w.weight === undefined && w.leafWeight === undefined) fail(join(field, 'weight'), 'or leafWeight is required');
      }),
    ),
  }),
  cpu: object(
    {
      cpus: cpusetList('CPUs'),
      mems: cpusetList('memory nodes'),
      period: cpuPeriod,
      quota: cpuQuota,
      burst: uint64,
      realtimePeriod: uint64,
      realtimeRuntime: int64,
      shares: cpuShares,
      idle: integer(0n, 1n),
    },
    [],
    (c, field) => {
      if (c.quota !== undefined && c.burst !== undefined && toBigInt(c.quota) > 0n && toBigInt(c.burst) > toBigInt(c.quota)) {
        fail(join(field, 'burst'), 'must not be larger than a positive quota');
      }
    },
  ),
  hugepageLimits: arrayOf(
    object({ pageSize: pattern(/^[1-9][0-9]*[KMG]B$/, 'a page size like 2MB or 1GB'), limit: uint64 }, ['pageSize', 'limit']),
  ),
  memory: object({
    kernel: memoryLimit,
    kernelTCP: int64,
    limit: memoryLimit,
    reservation: memoryLimit,
    swap: memoryLimit,
    swappiness: integer(0n, 100n, true),
    disableOOMKiller: bool,
    useHierarchy: bool,
    checkBeforeUpdate: bool,
  }, [], (m, field) => {
    // runc's check: swap is memory + swap, so it cannot be below the memory limit.
    const limit = m.limit as number | bigint | undefined;
    const swap = m.swap as number | bigint | undefined;
    if (limit !== undefined && swap !== undefined && toBigInt(limit) > 0n && toBigInt(swap) > 0n && toBigInt(swap) < toBigInt(limit)) {
      fail(join(field, 'swap'), `(memory + swap) must be at least memory.limit ${limit}, got ${swap} (it is memory and swap together: a new limit may need a new swap too)`);
    }
  }),
  network: object({
    classID: uint32,
    priorities: arrayOf(object({ name: str, priority: uint32 }, ['name', 'priority'])),
  }),
  rdma: mapOf(
    object({ hcaHandles: uint32, hcaObjects: uint32 }, [], (r, field) => {
      if (r.hcaHandles === undefined && r.hcaObjects === undefined) fail(join(field, 'hcaHandles'), 'or hcaObjects is required');
    }),
    // A device name is one word of an rdma.max line: a space or newline would write another limit.
    (key, field) => {
      if (!/^[^\s]+$/.test(key)) fail(field, 'must be an RDMA device name (no spaces)');
    },
  ),
});

const seccompAction = oneOf<LinuxSeccompAction>({
  SCMP_ACT_KILL: true, SCMP_ACT_KILL_PROCESS: true, SCMP_ACT_KILL_THREAD: true, SCMP_ACT_TRAP: true,
  SCMP_ACT_ERRNO: true, SCMP_ACT_TRACE: true, SCMP_ACT_ALLOW: true, SCMP_ACT_LOG: true, SCMP_ACT_NOTIFY: true,
});
const seccompFlag = oneOf<LinuxSeccompFlag>({
  SECCOMP_FILTER_FLAG_TSYNC: true, SECCOMP_FILTER_FLAG_LOG: true, SECCOMP_FILTER_FLAG_SPEC_ALLOW: true,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: true,
});
/** The architectures linux.seccomp may name (features lists them). */
export const SECCOMP_ARCHITECTURES: Readonly<Record<LinuxSeccompArch, true>> = {
  SCMP_ARCH_X86: true, SCMP_ARCH_X86_64: true, SCMP_ARCH_X32: true, SCMP_ARCH_ARM: true, SCMP_ARCH_AARCH64: true,
  SCMP_ARCH_LOONGARCH64: true, SCMP_ARCH_M68K: true, SCMP_ARCH_MIPS: true, SCMP_ARCH_MIPS64: true,
  SCMP_ARCH_MIPS64N32: true, SCMP_ARCH_MIPSEL: true, SCMP_ARCH_MIPSEL64: true, SCMP_ARCH_MIPSEL64N32: true,
  SCMP_ARCH_PPC: true, SCMP_ARCH_PPC64: true, SCMP_ARCH_PPC64LE: true, SCMP_ARCH_S390: true, SCMP_ARCH_S390X: true,
  SCMP_ARCH_SH: true, SCMP_ARCH_SHEB: true, SCMP_ARCH_PARISC: true, SCMP_ARCH_PARISC64: true, SCMP_ARCH_RISCV64: true,
};
const seccompArch = oneOf<LinuxSeccompArch>(SECCOMP_ARCHITECTURES);
const seccompOperator = oneOf<LinuxSeccompOperator>({
  SCMP_CMP_NE: true, SCMP_CMP_LT: true, SCMP_CMP_LE: true, SCMP_CMP_EQ: true, SCMP_CMP_GE: true, SCMP_CMP_GT: true,
  SCMP_CMP_MASKED_EQ: true,
});

const syscall = object(
  {
    names: arrayOf(nonEmptyStr, { nonEmpty: true }),
    action: seccompAction,
    errnoRet: uint32,
    // A syscall has at most six arguments.
    args: arrayOf(
      object({ index: integer(0n, 5n), value: uint64, valueTwo: uint64, op: seccompOperator }, ['index', 'value', 'op']),
    ),
  },
  ['names', 'action'],
  (s, field) => {
    // Port of runc's seccomp setup checks: the init reports to its parent with write(2) after
    // the filter is loaded, so notifying on write would wedge it.
    if (s.action === 'SCMP_ACT_NOTIFY' && (s.names as string[]).includes('write')) {
      fail(join(field, 'names'), 'SCMP_ACT_NOTIFY cannot be used for the write syscall');
    }
  },
);

const seccomp = object(
  {
    defaultAction: seccompAction,
    defaultErrnoRet: uint32,
    flags: arrayOf(seccompFlag),
    listenerPath: absPath,
    listenerMetadata: str,
    architectures: arrayOf(seccompArch),
    syscalls: arrayOf(syscall),
  },
  ['defaultAction'],
  (s, field) => {
    if (s.defaultAction === 'SCMP_ACT_NOTIFY') fail(join(field, 'defaultAction'), 'SCMP_ACT_NOTIFY cannot be the default action');
    if (s.listenerMetadata !== undefined && s.listenerPath === undefined) {
      fail(join(field, 'listenerMetadata'), 'must not be set without listenerPath');
    }
  },
);

const netDevices: Check = mapOf(
  object({ name: (value, field) => (str(value, field), checkInterfaceName(value as string, field)) }),
  (key, field) => checkInterfaceName(key, field),
);

const timeOffset = object({ secs: int64, nanosecs: integer(0n, 999_999_999n) });

const linuxCheck = object({
  devices: arrayOf(device),
  netDevices,
  uidMappings: arrayOf(idMapping),
  gidMappings: arrayOf(idMapping),
  namespaces,
  resources,
  cgroupsPath: cstr,
  rootfsPropagation: oneOf<LinuxRootfsPropagation>({
    private: true, shared: true, slave: true, unbindable: true, rprivate: true, rshared: true, rslave: true, runbindable: true,
  }),
  seccomp,
  sysctl: stringMap,
  maskedPaths: arrayOf(absPath),
  readonlyPaths: arrayOf(absPath),
  mountLabel: str,
  intelRdt: object({
    // Port of runc's intelrdtCheck: the CLOS id becomes a directory name under /sys/fs/resctrl.
    closID: (value, field) => {
      str(value, field);
      if (value === '.' || value === '..' || (value as string).includes('/')) {
        fail(field, `must be a plain directory name, got ${JSON.stringify(value)}`);
      }
    },
    schemata: arrayOf(str),
    l3CacheSchema: str,
    memBwSchema: pattern(/^MB:[^\n]*$/, 'a single line starting with "MB:"'),
    enableMonitoring: bool,
  }),
  memoryPolicy: object({
    mode: oneOf<LinuxMemoryPolicyMode>({
      MPOL_DEFAULT: true, MPOL_BIND: true, MPOL_INTERLEAVE: true, MPOL_WEIGHTED_INTERLEAVE: true, MPOL_PREFERRED: true,
      MPOL_PREFERRED_MANY: true, MPOL_LOCAL: true,
    }),
    nodes: str,
    flags: arrayOf(
      oneOf<LinuxMemoryPolicyFlag>({ MPOL_F_NUMA_BALANCING: true, MPOL_F_RELATIVE_NODES: true, MPOL_F_STATIC_NODES: true }),
    ),
  }),
  personality: object({ domain: oneOf<LinuxPersonalityDomain>({ LINUX: true, LINUX32: true }), flags: arrayOf(str) }, ['domain']),
  timeOffsets: object({ boottime: timeOffset, monotonic: timeOffset }),
});

// --- The whole config --------------------------------------------------------------------

const checkSpec = object(
  {
    ociVersion: nonEmptyStr,
    root: object({ path: nonEmptyStr, readonly: bool }, ['path']),
    process: processCheck,
    hostname: cstr,
    domainname: cstr,
    mounts: arrayOf(mount),
    hooks,
    annotations: stringMap,
    linux: linuxCheck,
  },
  // The schema leaves root optional for Windows' sake; every other platform requires it.
  ['ociVersion', 'root'],
  (spec) => checkNamespaceDependencies(spec),
);

/**
 * Settings that only make sense in a namespace of their own. Port of runc's validate.uts,
 * .security, .namespaces and .sysctl (without the host-netns stat).
 */
function checkNamespaceDependencies(spec: JsonObject): void {
  const linux = (spec.linux ?? {}) as JsonObject;
  const list = (linux.namespaces ?? []) as JsonObject[];
  const has = (type: LinuxNamespaceType) => list.some((ns) => ns.type === type);
  const needs = (field: string, type: LinuxNamespaceType, what: string) => {
    if (!has(type)) fail(field, `${what} needs a ${type} namespace (add {"type": "${type}"} to linux.namespaces)`);
  };

  if (spec.hostname) needs('hostname', 'uts', 'setting the hostname');
  if (spec.domainname) needs('domainname', 'uts', 'setting the domain name');
  if (linux.uidMappings !== undefined) needs('linux.uidMappings', 'user', 'a uid mapping');
  if (linux.gidMappings !== undefined) needs('linux.gidMappings', 'user', 'a gid mapping');
  if (linux.timeOffsets !== undefined) needs('linux.timeOffsets', 'time', 'a clock offset');
  if (((linux.maskedPaths ?? []) as unknown[]).length > 0) needs('linux.maskedPaths', 'mount', 'masking paths');
  if (((linux.readonlyPaths ?? []) as unknown[]).length > 0) needs('linux.readonlyPaths', 'mount', 'making paths read-only');

  // runc also refuses netDevices without a network namespace; that waits for create (where
  // the host's namespace can be told apart), since the spec's own fixtures omit the namespace.
  if (linux.netDevices !== undefined) {
    const names = new Map<string, string>();
    for (const [key, dev] of Object.entries(linux.netDevices as Record<string, JsonObject>)) {
      const name = (dev.name as string | undefined) ?? key;
      const field = join(join('linux.netDevices', key), 'name');
      if (names.has(name)) fail(field, `gives ${JSON.stringify(name)} to a second device (also ${names.get(name)})`);
      names.set(name, key);
    }
  }

  for (const rawKey of Object.keys((linux.sysctl ?? {}) as JsonObject)) {
    checkSysctlNamespace(rawKey, join('linux.sysctl', rawKey), has);
  }
}

const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/** A sysctl may only be set where /proc/sys is namespaced for it, else it would change the host. */
function checkSysctlNamespace(rawKey: string, field: string, has: (type: LinuxNamespaceType) => boolean): void {
  const problem = sysctlNameProblem(rawKey);
  if (problem) fail(field, problem);
  const key = sysctlDotForm(rawKey);
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
    if (!has('ipc')) fail(field, 'is only allowed with an ipc namespace');
    return;
  }
  if (key.startsWith('net.')) {
    // A joined network namespace might be the host's; runc stats the path to tell, which the
    // runtime does when it opens the namespace, not here.
    if (!has('network')) fail(field, 'is only allowed with a network namespace');
    return;
  }
  if (has('uts')) {
    if (key === 'kernel.domainname') return;
    if (key === 'kernel.hostname') fail(field, 'conflicts with the hostname field; set that instead');
  }
  fail(field, 'is not in a kernel namespace of the container, so setting it would change the host');
}

/** process.scheduler's checks, for a run() or exec option of the same shape. */
export function checkScheduler(value: unknown, field: string): void {
  scheduler(value, field);
}

/** process.consoleSize's checks, for a run() or exec option of the same shape. */
export function checkConsoleSize(value: unknown, field: string): void {
  consoleSize(value, field);
}

/** process.ioPriority's checks, for a run() or exec option of the same shape. */
export function checkIoPriority(value: unknown, field: string): void {
  ioPriority(value, field);
}
