/**
 * linux.seccomp: the OCI profile in libseccomp's numbers (port of runc's specconv
 * SetupSeccomp and libcontainer/seccomp's InitSeccomp), compiled once per profile by the
 * addon (binding.seccompCompile, libseccomp loaded at run time) into the BPF program the init
 * helper loads. The helper loads it where runc does: before the capabilities are dropped
 * without no_new_privs, else just before the program is exec'd.
 *
 * SCMP_ACT_NOTIFY rules need a listenerPath: the filter is then loaded with a listener, which
 * the parent takes from the helper (procSeccomp, pidfd_getfd) and sends to the seccomp agent
 * listening there, with the container's state (runc's sendContainerProcessState).
 */
import createDebug from 'debug';
import type { LinuxSeccomp, LinuxSeccompAction } from '../../types/oci';
import { ConfigError } from '../errors';
import type { NativeBinding, SeccompRequest } from '../native/types';

const debug = createDebug('node-libcontainer:seccomp');

/** What the helper gets: the program (struct sock_filter[], base64) and seccomp(2)'s flags. */
export interface SeccompPlan {
  filter: string;
  flags: number;
  /** The filter has SCMP_ACT_NOTIFY rules: it is loaded with a listener for the agent. */
  notify: boolean;
}

const ACTIONS: Record<LinuxSeccompAction, number> = {
  SCMP_ACT_KILL: 0x00000000, // as runc: the thread
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

/** The names this runtime takes, for `features`. */
export const SECCOMP_ACTIONS: readonly string[] = Object.keys(ACTIONS);
export const SECCOMP_OPERATORS: readonly string[] = Object.keys(OPERATORS);
export const SECCOMP_FLAGS: readonly string[] = Object.keys(FLAGS);

const EPERM = 1;
const ENOSYS = 38;

/**
 * Default actions that let an unknown call through (to the program, a log, a tracer or the
 * agent): a profile with one of them needs no ENOSYS stub (runc's isAllowAction, and the agent
 * decides for a notify default).
 */
const LETS_THROUGH = new Set<LinuxSeccompAction>(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_NOTIFY']);

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * An argument value as the addon takes it (a decimal uint64). JSON numbers past 2^53 lose
 * precision: 18446744073709551615 (all bits set, a common mask) parses as 2^64, which is
 * taken back to it, as rlimits take it to unlimited.
 */
function argValue(value: number | bigint, field: string): string {
  const v = value === 2 ** 64 ? UINT64_MAX : BigInt(value);
  if (v < 0n || v > UINT64_MAX) throw new ConfigError(field, `must be from 0 to ${UINT64_MAX}, got ${v}`);
  return v.toString();
}

/** An action with its return value: SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry one (EPERM unless given). */
function actionValue(action: LinuxSeccompAction, errnoRet: number | undefined, field: string, errnoField: string): number {
  const base = ACTIONS[action];
  if (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') return (base | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
  if (errnoRet !== undefined) throw new ConfigError(errnoField, `is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${action}`);
  return base;
}

/** The profile in libseccomp's numbers, and the flags for seccomp(2). Throws ConfigError naming the field. */
export function seccompRequest(seccomp: LinuxSeccomp): { request: SeccompRequest; flags: number; notify: boolean } {
  const field = 'linux.seccomp';
  const notify = (seccomp.syscalls ?? []).some((s) => s.action === 'SCMP_ACT_NOTIFY');
  // As runc: notify rules need an agent to answer them, and a listener path is a unix socket's.
  if (notify && !seccomp.listenerPath) throw new ConfigError(`${field}.listenerPath`, 'is required with SCMP_ACT_NOTIFY rules: the seccomp agent that answers them');
  if (seccomp.listenerPath !== undefined && !seccomp.listenerPath.startsWith('/')) throw new ConfigError(`${field}.listenerPath`, 'must be an absolute path');
  let flags = 0;
  (seccomp.flags ?? []).forEach((flag, i) => {
    const value = FLAGS[flag];
    if (value === undefined) throw new ConfigError(`${field}.flags[${i}]`, `unknown flag ${flag}`);
    if (flag === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV' && !notify) throw new ConfigError(`${field}.flags[${i}]`, `${flag} is only valid with SCMP_ACT_NOTIFY rules`);
    flags |= value;
  });
  const defaultAction = actionValue(seccomp.defaultAction, seccomp.defaultErrnoRet, `${field}.defaultAction`, `${field}.defaultErrnoRet`);
  // libseccomp's names: SCMP_ARCH_X86_64 is "x86_64". The native architecture is always in.
  const architectures = (seccomp.architectures ?? []).map((a) => a.replace(/^SCMP_ARCH_/, '').toLowerCase());
  const rules: SeccompRequest['rules'] = [];
  (seccomp.syscalls ?? []).forEach((entry, i) => {
    const at = `${field}.syscalls[${i}]`;
    const action = actionValue(entry.action, entry.errnoRet, `${at}.action`, `${at}.errnoRet`);
    // As runc: a rule that does what the default does adds nothing (libseccomp refuses it).
    if (action === defaultAction) return;
    const args = (entry.args ?? []).map((a, j): [number, number, string, string] => [
      a.index,
      OPERATORS[a.op],
      argValue(a.value, `${at}.args[${j}].value`),
      argValue(a.valueTwo ?? 0, `${at}.args[${j}].valueTwo`),
    ]);
    // As runc: conditions on different arguments must all hold (one rule); several on the
    // same argument are alternatives (a rule each), as libseccomp cannot AND those.
    const indexes = args.map(([index]) => index);
    const alternatives = new Set(indexes).size < indexes.length;
    for (const syscall of entry.names) {
      if (alternatives) for (const arg of args) rules.push({ syscall, action, args: [arg] });
      else rules.push({ syscall, action, args });
    }
  });
  // runc's patchbpf: calls newer than every one the profile names get ENOSYS, so that libc
  // falls back to an older call (clone3 to clone, say) where the default's EPERM would fail.
  const needsStub = !LETS_THROUGH.has(seccomp.defaultAction) && !(seccomp.defaultAction === 'SCMP_ACT_ERRNO' && seccomp.defaultErrnoRet === ENOSYS);
  const request: SeccompRequest = { defaultAction, architectures, rules };
  if (needsStub) request.enosys = [...new Set((seccomp.syscalls ?? []).flatMap((s) => s.names))];
  return { request, flags, notify };
}

/** Compiled programs per binding and profile: the first container of a profile compiles it. */
const compiled = new WeakMap<NativeBinding, Map<string, SeccompPlan>>();
const MAX_PROFILES = 64;

const profileKey = (seccomp: LinuxSeccomp) => JSON.stringify(seccomp, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** The compiled filter for this profile (cached), or ConfigError naming why it cannot be. */
export function compileSeccomp(seccomp: LinuxSeccomp, binding: NativeBinding): SeccompPlan {
  // A frozen profile (a prepared config's) cannot change: its plan is found without
  // serialising it again (0.1 ms for a 180-syscall profile) at every start.
  const frozen = Object.isFrozen(seccomp) ? byFrozenProfile.get(seccomp) : undefined;
  if (frozen?.binding === binding) return frozen.plan;
  const plan = compileByKey(seccomp, binding);
  if (Object.isFrozen(seccomp)) byFrozenProfile.set(seccomp, { binding, plan });
  return plan;
}

const byFrozenProfile = new WeakMap<LinuxSeccomp, { binding: NativeBinding; plan: SeccompPlan }>();

function compileByKey(seccomp: LinuxSeccomp, binding: NativeBinding): SeccompPlan {
  let cache = compiled.get(binding);
  if (!cache) compiled.set(binding, (cache = new Map()));
  const key = profileKey(seccomp);
  const hit = cache.get(key);
  if (hit) return hit;
  const { request, flags, notify } = seccompRequest(seccomp);
  if (!binding.seccompCompile) throw new ConfigError('linux.seccomp', 'this native binding cannot compile seccomp profiles');
  let result: ReturnType<NonNullable<NativeBinding['seccompCompile']>>;
  try {
    result = binding.seccompCompile(request);
  } catch (err) {
    const e = err as Error & { code?: string; rule?: number };
    if (e.rule !== undefined) {
      // Back from the request's rule to the profile's entry.
      const name = request.rules[e.rule]?.syscall;
      const index = (seccomp.syscalls ?? []).findIndex((s) => s.names.includes(name ?? ''));
      throw new ConfigError(index >= 0 ? `linux.seccomp.syscalls[${index}]` : 'linux.seccomp.syscalls', `libseccomp refused the rule for ${name}: ${e.message}`, { cause: err });
    }
    throw new ConfigError('linux.seccomp', e.message, { cause: err });
  }
  // As runc: a syscall this libseccomp does not know is left out (a newer kernel's, or another
  // architecture's); so is an architecture it does not know.
  if (result.unknownSyscalls.length) debug('syscalls unknown to libseccomp, left out: %s', result.unknownSyscalls.join(', '));
  if (result.unknownArchitectures.length) debug('architectures unknown to libseccomp, left out: %s', result.unknownArchitectures.join(', '));
  const plan = { filter: result.filter.toString('base64'), flags, notify };
  if (cache.size >= MAX_PROFILES) cache.clear();
  cache.set(key, plan);
  return plan;
}
