/** OCI `linux.devices` -> device nodes the init helper creates in the container's /dev. */
import { ConfigError } from '../errors';
import * as path from 'node:path';
import { cleanContainerPath, isBindMount, type OciMount } from './mounts';

export interface OciDevice {
  path: string;
  type: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface DevicePlan {
  path: string;
  /** "u" (unbuffered char device) is reported as "c": both are S_IFCHR for mknod. */
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

function uint(value: unknown, field: string, max: number, fallback?: number): number {
  if (value === undefined || value === null) {
    if (fallback === undefined) throw new ConfigError(field, 'is required');
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new ConfigError(field, `${String(value)} is not an integer in 0..${max}`);
  }
  return value;
}

const UINT32_MAX = 0xffffffff;

/** Validate `linux.devices` (`field` is e.g. "linux.devices"); defaults: fileMode 0o666, uid 0, gid 0. */
export function convertDevices(devices: readonly OciDevice[] | undefined | null, field: string): DevicePlan[] {
  if (devices === undefined || devices === null) return [];
  if (!Array.isArray(devices)) throw new ConfigError(field, 'must be an array');
  return devices.map((d, i) => {
    const at = `${field}[${i}]`;
    if (typeof d !== 'object' || d === null) throw new ConfigError(at, 'must be an object');
    const devPath = cleanContainerPath(d.path, `${at}.path`);
    if (d.type !== 'c' && d.type !== 'b' && d.type !== 'u' && d.type !== 'p') {
      throw new ConfigError(`${at}.type`, `${JSON.stringify(d.type)} is not one of c, b, u, p`);
    }
    const type = d.type === 'u' ? 'c' : d.type;
    // A fifo has no device number; mknod ignores it.
    const numberDefault = type === 'p' ? 0 : undefined;
    return {
      path: devPath,
      type,
      // Linux dev_t: 12-bit major, 20-bit minor.
      major: uint(d.major, `${at}.major`, 0xfff, numberDefault),
      minor: uint(d.minor, `${at}.minor`, 0xfffff, numberDefault),
      // The permission bits (and setuid, setgid, sticky): the type comes from `type`, and the
      // file type bits engines add (podman: 0o020600 for a character device) go, as runc's
      // specconv strips S_IFMT.
      fileMode: uint(d.fileMode, `${at}.fileMode`, UINT32_MAX, 0o666) & 0o7777,
      uid: uint(d.uid, `${at}.uid`, UINT32_MAX, 0),
      gid: uint(d.gid, `${at}.gid`, UINT32_MAX, 0),
    };
  });
}

/**
 * Whether the helper creates the default device nodes (null, zero, full, tty, random,
 * urandom) and the /dev symlinks: unless /dev is a bind mount, as runc's needsSetupDev. Without
 * a /dev mount they go into the rootfs's own /dev, as runc puts them there (what the image has
 * at those paths already is kept): masked paths need its /dev/null, and programs the rest.
 */
export function defaultDevicesWanted(mounts: readonly OciMount[] | undefined): boolean {
  let wanted = true;
  for (const m of mounts ?? []) {
    if (typeof m?.destination !== 'string' || m.destination === '') continue;
    // Cleaned as cleanMountDestination does: "dev" and "/../dev" are /dev too.
    if (path.posix.normalize(`/${m.destination}`).replace(/(.)\/$/, '$1') !== '/dev') continue;
    wanted = !isBindMount(m);
  }
  return wanted;
}
