/**
 * Device cgroup rules: the OCI `linux.resources.devices` list normalized, plus runc's default
 * allow list (specconv.AllowedDevices), which runc appends after the user's rules for every
 * container. v1 (devices.allow/deny) and v2 (the eBPF program) use the same list.
 */
import type { LinuxDeviceCgroup } from '../../../types/oci';
import { ConfigError } from '../../errors';

export type DeviceType = 'a' | 'b' | 'c';

export interface DeviceRule {
  type: DeviceType;
  /** -1 = any. */
  major: number;
  /** -1 = any. */
  minor: number;
  /** Some of "rwm". */
  access: string;
  allow: boolean;
}

/** runc's AllowedDevices, in its order. */
export function defaultDeviceRules(): LinuxDeviceCgroup[] {
  const c = (major: number, minor: number | undefined, access: string): LinuxDeviceCgroup =>
    minor === undefined ? { allow: true, type: 'c', major, access } : { allow: true, type: 'c', major, minor, access };
  return [
    { allow: true, type: 'c', access: 'm' }, // mknod of any char device
    { allow: true, type: 'b', access: 'm' }, // mknod of any block device
    c(1, 3, 'rwm'), // /dev/null
    c(1, 8, 'rwm'), // /dev/random
    c(1, 7, 'rwm'), // /dev/full
    c(5, 0, 'rwm'), // /dev/tty
    c(1, 5, 'rwm'), // /dev/zero
    c(1, 9, 'rwm'), // /dev/urandom
    c(136, undefined, 'rwm'), // /dev/pts/*
    c(5, 2, 'rwm'), // /dev/ptmx
    c(10, 200, 'rwm'), // /dev/net/tun (kept by runc for compatibility)
  ];
}

function toRule(d: LinuxDeviceCgroup, field: string): DeviceRule {
  const type = d.type ?? 'a';
  if (type !== 'a' && type !== 'b' && type !== 'c') throw new ConfigError(`${field}.type`, `invalid device type ${JSON.stringify(type)}`);
  const num = (v: number | undefined, name: string): number => {
    if (v === undefined || v === -1) return -1;
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ConfigError(`${field}.${name}`, `invalid ${name} ${v}`);
    return v;
  };
  const access = d.access ?? '';
  if (access === '' || !/^[rwm]+$/.test(access)) {
    throw new ConfigError(`${field}.access`, `must be a non-empty combination of "rwm", got ${JSON.stringify(access)}`);
  }
  return { type, major: num(d.major, 'major'), minor: num(d.minor, 'minor'), access, allow: d.allow === true };
}

/** The rules the kernel gets: the user's, then the defaults (specconv.CreateCgroupConfig). */
export function effectiveDeviceRules(devices: LinuxDeviceCgroup[] | undefined): DeviceRule[] {
  const user = (devices ?? []).map((d, i) => toRule(d, `linux.resources.devices[${i}]`));
  return [...user, ...defaultDeviceRules().map((d) => toRule(d, 'default device rule'))];
}

/** The devices.allow / devices.deny syntax ("c 1:3 rwm", "a *:* rwm"). */
export function cgroupString(rule: DeviceRule): string {
  const n = (v: number) => (v < 0 ? '*' : String(v));
  return `${rule.type} ${n(rule.major)}:${n(rule.minor)} ${rule.access}`;
}
