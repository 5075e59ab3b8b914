/**
 * Builds the bootstrap plan the init helper applies (docs/protocol.md): all option parsing
 * and validation happens here, in TS, before any native code runs. Port of the parts of
 * runc's newInitConfig / bootstrapData / specconv that shape what the child does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { cleanContainerPath, convertMount, isBindMount, resolveBindSource, rootPropagationFlags } from '../spec/mounts';
import { planNamespaces, execJoinFlags } from '../spec/namespaces';
import { convertCapabilities } from '../spec/capabilities';
import { convertRlimits } from '../spec/rlimits';
import { convertIoPriority, convertMemoryPolicy, convertPersonality, convertScheduler, type SchedulerPlan } from '../spec/scheduling';
import { checkConsoleSize, checkIoPriority, checkScheduler } from '../spec/validate';
import { rejectUnsupportedOptions } from '../spec/unsupported';
import { convertDevices, defaultDevicesWanted } from '../spec/devices';
import { sysctlDotForm, sysctlNameProblem } from '../spec/sysctl';
import type { Spec } from '../../types/oci';
import type { ProcessOptions } from './options';
import type { Rlimit } from './start';

export interface ResolvedProcess {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask: number | null;
  noNewPrivileges: boolean;
  capabilities: ReturnType<typeof convertCapabilities>;
  oomScoreAdj: number | null;
  rlimits: Rlimit[];
  ioPriority: number | null;
  scheduler: SchedulerPlan | null;
  terminal: boolean;
  consoleSize: { height: number; width: number } | null;
}

function checkStrings(value: unknown, field: string, { nonEmpty = false } = {}): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new ConfigError(field, 'must be an array of strings');
  }
  if (nonEmpty && value.length === 0) throw new ConfigError(field, 'must not be empty');
  return value as string[];
}

function checkId(value: unknown, field: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0xfffffffe) {
    throw new ConfigError(field, `must be an integer from 0 to 4294967294, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/**
 * The process to run: `opts` over the config's `process` (runc exec takes the config's
 * env, cwd, user, capabilities, rlimits and no_new_privs as defaults too).
 */
export function resolveProcess(spec: Spec, opts: ProcessOptions, prefix = 'process', inheritTerminal = true): ResolvedProcess {
  const base = spec.process;
  rejectUnsupportedOptions(opts, prefix);
  const args = checkStrings(opts.args ?? base?.args, `${prefix}.args`, { nonEmpty: true });
  const env = checkStrings(opts.env ?? base?.env ?? [], `${prefix}.env`);
  env.forEach((e, i) => {
    if (!e.includes('=') || e.startsWith('=')) throw new ConfigError(`${prefix}.env[${i}]`, `must be KEY=value, got ${JSON.stringify(e)}`);
  });
  const cwd = opts.cwd ?? base?.cwd ?? '/';
  if (typeof cwd !== 'string' || !path.posix.isAbsolute(cwd)) {
    throw new ConfigError(`${prefix}.cwd`, `must be an absolute path, got ${JSON.stringify(cwd)}`);
  }
  const user = opts.user ?? base?.user ?? { uid: 0, gid: 0 };
  const uid = checkId(user.uid, `${prefix}.user.uid`);
  const gid = checkId(user.gid, `${prefix}.user.gid`);
  const additionalGids = (user.additionalGids ?? []).map((g, i) => checkId(g, `${prefix}.user.additionalGids[${i}]`));
  // runc's umask is the container's (Config.Umask), whoever the process runs as: a user given
  // without one keeps the config's.
  // Any uint32, as runc takes it: umask(2) keeps the permission bits (0o1777 is 0o777).
  const givenUmask = user.umask ?? base?.user?.umask ?? null;
  if (givenUmask !== null && (!Number.isInteger(givenUmask) || givenUmask < 0 || givenUmask > 0xffffffff)) {
    throw new ConfigError(`${prefix}.user.umask`, `must be an integer from 0 to 4294967295`);
  }
  const umask = givenUmask === null ? null : givenUmask & 0o777;
  const noNewPrivileges = opts.noNewPrivileges ?? base?.noNewPrivileges ?? false;
  if (typeof noNewPrivileges !== 'boolean') throw new ConfigError(`${prefix}.noNewPrivileges`, 'must be a boolean');
  const oomScoreAdj = opts.oomScoreAdj ?? base?.oomScoreAdj ?? null;
  if (oomScoreAdj !== null && (!Number.isInteger(oomScoreAdj) || oomScoreAdj < -1000 || oomScoreAdj > 1000)) {
    throw new ConfigError(`${prefix}.oomScoreAdj`, 'must be an integer from -1000 to 1000');
  }
  // An option's own value is checked here; the config's was checked with the config.
  if (opts.ioPriority !== undefined) checkIoPriority(opts.ioPriority, `${prefix}.ioPriority`);
  if (opts.scheduler !== undefined) checkScheduler(opts.scheduler, `${prefix}.scheduler`);
  if (opts.consoleSize !== undefined) checkConsoleSize(opts.consoleSize, `${prefix}.consoleSize`);
  const terminal = opts.terminal ?? (inheritTerminal ? base?.terminal : undefined) ?? false;
  if (typeof terminal !== 'boolean') throw new ConfigError(`${prefix}.terminal`, 'must be a boolean');
  const consoleSize = opts.consoleSize ?? base?.consoleSize ?? null;
  const ioPriority = opts.ioPriority ?? base?.ioPriority;
  const scheduler = opts.scheduler ?? base?.scheduler;
  return {
    args,
    env,
    cwd,
    uid,
    gid,
    additionalGids,
    umask,
    noNewPrivileges,
    capabilities: convertCapabilities(opts.capabilities ?? base?.capabilities, `${prefix}.capabilities`),
    oomScoreAdj,
    rlimits: convertRlimits(opts.rlimits ?? base?.rlimits, `${prefix}.rlimits`),
    ioPriority: convertIoPriority(ioPriority),
    scheduler: convertScheduler(scheduler, `${prefix}.scheduler`),
    terminal,
    consoleSize: terminal && consoleSize ? { height: consoleSize.height, width: consoleSize.width } : null,
  };
}

/** The process part of a plan: the resolved process, and the config's linux settings that apply to every process. */
function processPlan(p: ResolvedProcess, linux: Spec['linux']): Record<string, unknown> {
  return {
    ...processJson(p),
    personality: convertPersonality(linux?.personality, 'linux.personality'),
    memoryPolicy: convertMemoryPolicy(linux?.memoryPolicy, 'linux.memoryPolicy'),
  };
}

function processJson(p: ResolvedProcess): Record<string, unknown> {
  return {
    args: p.args,
    env: p.env,
    cwd: p.cwd,
    uid: p.uid,
    gid: p.gid,
    additionalGids: p.additionalGids,
    umask: p.umask,
    noNewPrivileges: p.noNewPrivileges,
    capabilities: p.capabilities,
    oomScoreAdj: p.oomScoreAdj,
    ioPriority: p.ioPriority,
    scheduler: p.scheduler,
    terminal: p.terminal,
    consoleSize: p.consoleSize,
  };
}

export function statKind(p: string): 'dir' | 'file' | 'missing' {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

export interface InitPlan {
  cloneFlags: number;
  bootstrap: Record<string, unknown>;
  rlimits: Rlimit[];
}

function hooksJson(hooks: Spec['hooks'], name: 'createContainer' | 'startContainer'): unknown[] {
  return (hooks?.[name] ?? []).map((h) => ({
    path: h.path,
    args: h.args ?? [h.path],
    // Absent: the helper gives the hook the process's env, as runc's init does.
    ...(h.env !== undefined ? { env: h.env } : {}),
    ...(h.timeout !== undefined ? { timeout: h.timeout } : {}),
  }));
}

/** The init's plan: rootfs and bundle are absolute host paths; fifo is the exec fifo path. */
export function buildInitPlan(spec: Spec, rootfs: string, bundle: string, opts: ProcessOptions, fifo: string | null): InitPlan {
  const proc = resolveProcess(spec, opts);
  const linux = spec.linux ?? {};
  const ns = planNamespaces(linux.namespaces ?? [], 'init');
  const mounts = (spec.mounts ?? []).map((m, i) => {
    // Only bind sources are host paths (runc resolves relative ones against the bundle).
    const source = m.source && isBindMount(m) ? resolveBindSource(m.source, bundle) : m.source;
    return convertMount({ ...m, source }, i, statKind);
  });
  // The helper takes the dot form (a "/" in it stands for a "." in a name).
  const sysctl: Record<string, string> = {};
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    const problem = sysctlNameProblem(key);
    if (problem) throw new ConfigError(`linux.sysctl[${JSON.stringify(key)}]`, problem);
    sysctl[sysctlDotForm(key)] = value;
  }
  const bootstrap = {
    namespaces: { join: ns.join, unshare: ns.unshare, forkChild: ns.forkChild },
    joinFlags: 0,
    oomScoreAdj: proc.oomScoreAdj,
    loopback: ns.hasNetNs,
    timeOffsets: timeOffsetsOf(linux),
    rootfs,
    rootPropagation: rootPropagationFlags(linux.rootfsPropagation),
    readonlyRoot: spec.root?.readonly === true,
    mounts,
    defaultDevices: defaultDevicesWanted(spec.mounts ?? []),
    devices: convertDevices(linux.devices ?? [], 'linux.devices'),
    maskedPaths: (linux.maskedPaths ?? []).map((p, i) => cleanContainerPath(p, `linux.maskedPaths[${i}]`)),
    readonlyPaths: (linux.readonlyPaths ?? []).map((p, i) => cleanContainerPath(p, `linux.readonlyPaths[${i}]`)),
    hostname: spec.hostname ?? null,
    domainname: spec.domainname ?? null,
    sysctl,
    execFifo: fifo ?? '',
    hooks: {
      createContainer: hooksJson(spec.hooks, 'createContainer'),
      startContainer: hooksJson(spec.hooks, 'startContainer'),
    },
    process: processPlan(proc, linux),
  };
  if ((spec.hostname || spec.domainname) && !ns.hasUtsNs) {
    throw new ConfigError(spec.hostname ? 'hostname' : 'domainname', 'requires a private uts namespace');
  }
  return { cloneFlags: ns.cloneFlags, bootstrap, rlimits: proc.rlimits };
}

/**
 * linux.timeOffsets as the helper writes them to timens_offsets, for a time namespace it
 * creates (a joined one has its clocks already, and a namespace in use cannot change them).
 */
function timeOffsetsOf(linux: NonNullable<Spec['linux']>): { clock: string; secs: number; nanosecs: number }[] {
  const offsets = linux.timeOffsets;
  if (!offsets) return [];
  const timeNs = (linux.namespaces ?? []).find((n) => n.type === 'time');
  if (timeNs?.path) throw new ConfigError('linux.timeOffsets', 'can only be set for a new time namespace, not one joined by path');
  const out: { clock: string; secs: number; nanosecs: number }[] = [];
  for (const clock of ['monotonic', 'boottime'] as const) {
    const o = offsets[clock];
    if (!o) continue;
    const secs = Number(o.secs ?? 0);
    if (!Number.isSafeInteger(secs)) throw new ConfigError(`linux.timeOffsets.${clock}.secs`, `${o.secs} is beyond what this runtime passes on (2^53 - 1)`);
    out.push({ clock, secs, nanosecs: o.nanosecs ?? 0 });
  }
  return out;
}

/** A process exec'd into the running container (runc's setnsProcess). */
export function buildExecPlan(spec: Spec, opts: ProcessOptions): InitPlan {
  // As runc exec: a terminal only when asked for, not because the init has one.
  const proc = resolveProcess(spec, opts, 'process', false);
  const join = execJoinFlags(spec.linux?.namespaces ?? []);
  const bootstrap = {
    namespaces: { join: [], unshare: 0, forkChild: join.forkChild },
    joinFlags: join.flags,
    oomScoreAdj: proc.oomScoreAdj,
    loopback: false,
    process: processPlan(proc, spec.linux),
  };
  return { cloneFlags: 0, bootstrap, rlimits: proc.rlimits };
}
