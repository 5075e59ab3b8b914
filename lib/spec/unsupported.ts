/**
 * What a valid config may ask for that this runtime does not do yet. Each is refused with a
 * ConfigError naming the field: a container started without the confinement, label, limit or
 * device its config asked for would look as if it had them (runc refuses an SELinux label on
 * a host without SELinux the same way). An empty value asks for nothing and is accepted.
 */
import type { Spec } from '../../types/oci';
import { ConfigError } from '../errors';
import type { ProcessOptions } from '../process/options';

type Section = Record<string, unknown> | undefined;

/** [section, key, why]: the field is refused when it holds anything. */
const REFUSED: ReadonlyArray<[section: 'process' | 'linux', key: string, why: string]> = [
  ['process', 'apparmorProfile', 'AppArmor profiles are not supported yet: the process would run unconfined'],
  ['process', 'selinuxLabel', 'SELinux labels are not supported: the process would run with the runtime\'s label'],
  ['linux', 'mountLabel', 'SELinux mount labels are not supported'],
  ['linux', 'intelRdt', 'Intel RDT (resctrl) is not supported'],
  ['linux', 'netDevices', 'moving network devices into the container is not supported yet'],
];

/** Whether a value asks for something: not undefined, false, '', [] or {}. */
function asksForSomething(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Throws ConfigError for the first field of `spec` that asks for something not supported. */
export function rejectUnsupported(spec: Spec): void {
  for (const [section, key, why] of REFUSED) {
    const value = (spec[section] as Section)?.[key];
    if (asksForSomething(value)) throw new ConfigError(`${section}.${key}`, why);
  }
}

const UNSUPPORTED_OPTIONS: ReadonlyArray<[key: string, what: string]> = [
  ['apparmorProfile', 'an AppArmor profile'],
  ['label', 'an SELinux label'],
  ['selinuxLabel', 'an SELinux label'],
];

/** Their names: process options that are known, and refused by rejectUnsupportedOptions. */
export const UNSUPPORTED_OPTION_KEYS: ReadonlySet<string> = new Set(UNSUPPORTED_OPTIONS.map(([key]) => key));

/**
 * Options a caller may know from runc's Process or the OCI process that are not done yet:
 * refused rather than dropped (the process would run without them).
 */
export function rejectUnsupportedOptions(opts: ProcessOptions, prefix = 'process'): void {
  for (const [key, what] of UNSUPPORTED_OPTIONS) {
    const value = (opts as Record<string, unknown>)[key];
    if (asksForSomething(value)) throw new ConfigError(`${prefix}.${key}`, `${what} is not supported yet`);
  }
}
