/**
 * OCI `mounts[]` -> the `mounts` entries of the bootstrap message (docs/protocol.md).
 * Port of runc's parseMountOptions / createLibcontainerMount (libcontainer/specconv).
 */
import * as path from 'node:path';
import { ConfigError } from '../errors';
import {
  MS_BIND, MS_DIRSYNC, MS_I_VERSION, MS_LAZYTIME, MS_MANDLOCK, MS_NOATIME, MS_NODEV,
  MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_POSIXACL, MS_PRIVATE, MS_RDONLY,
  MS_REC, MS_RELATIME, MS_REMOUNT, MS_SHARED, MS_SILENT, MS_SLAVE, MS_STRICTATIME,
  MS_SYNCHRONOUS, MS_UNBINDABLE,
} from './linux';

/** The part of an OCI mount we read; kept structural so any generated type fits. */
export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** One mount of the bootstrap plan, exactly as the init helper reads it. */
export interface MountPlanJson {
  source: string;
  destination: string;
  type: string;
  flags: number;
  data: string;
  propagation: number[];
  remountFlags: number;
  isBind: boolean;
  isFile: boolean;
  /** tmpcopyup: the new tmpfs starts with a copy of what the directory under it held. */
  copyUp: boolean;
  /** MOUNT_ATTR_* bits mount_setattr(2) sets and clears on the whole mount tree (rro, rnosuid, ...); 0 and 0: none. */
  recAttrSet: number;
  recAttrClr: number;
}

export type SourceKind = 'dir' | 'file' | 'missing';
/** Tells what is at a (host) bind-mount source; the caller does the stat. */
export type StatSource = (source: string) => SourceKind;

/** Options that set (set: true) or clear a mount flag. */
const mountFlagOptions: ReadonlyMap<string, { set: boolean; flag: number }> = new Map([
  ['acl', { set: true, flag: MS_POSIXACL }],
  ['noacl', { set: false, flag: MS_POSIXACL }],
  ['async', { set: false, flag: MS_SYNCHRONOUS }],
  ['sync', { set: true, flag: MS_SYNCHRONOUS }],
  ['atime', { set: false, flag: MS_NOATIME }],
  ['noatime', { set: true, flag: MS_NOATIME }],
  ['bind', { set: true, flag: MS_BIND }],
  ['rbind', { set: true, flag: MS_BIND | MS_REC }],
  ['defaults', { set: true, flag: 0 }],
  ['dev', { set: false, flag: MS_NODEV }],
  ['nodev', { set: true, flag: MS_NODEV }],
  ['diratime', { set: false, flag: MS_NODIRATIME }],
  ['nodiratime', { set: true, flag: MS_NODIRATIME }],
  ['dirsync', { set: true, flag: MS_DIRSYNC }],
  ['exec', { set: false, flag: MS_NOEXEC }],
  ['noexec', { set: true, flag: MS_NOEXEC }],
  ['iversion', { set: true, flag: MS_I_VERSION }],
  ['noiversion', { set: false, flag: MS_I_VERSION }],
  ['lazytime', { set: true, flag: MS_LAZYTIME }],
  ['nolazytime', { set: false, flag: MS_LAZYTIME }],
  ['loud', { set: false, flag: MS_SILENT }],
  ['silent', { set: true, flag: MS_SILENT }],
  ['mand', { set: true, flag: MS_MANDLOCK }],
  ['nomand', { set: false, flag: MS_MANDLOCK }],
  ['relatime', { set: true, flag: MS_RELATIME }],
  ['norelatime', { set: false, flag: MS_RELATIME }],
  ['strictatime', { set: true, flag: MS_STRICTATIME }],
  ['nostrictatime', { set: false, flag: MS_STRICTATIME }],
  ['remount', { set: true, flag: MS_REMOUNT }],
  ['ro', { set: true, flag: MS_RDONLY }],
  ['rw', { set: false, flag: MS_RDONLY }],
  ['suid', { set: false, flag: MS_NOSUID }],
  ['nosuid', { set: true, flag: MS_NOSUID }],
  ['symfollow', { set: false, flag: MS_NOSYMFOLLOW }],
  ['nosymfollow', { set: true, flag: MS_NOSYMFOLLOW }],
]);

/** Propagation options; also the values accepted for `linux.rootfsPropagation`. */
const propagationOptions: ReadonlyMap<string, number> = new Map([
  ['private', MS_PRIVATE],
  ['rprivate', MS_PRIVATE | MS_REC],
  ['shared', MS_SHARED],
  ['rshared', MS_SHARED | MS_REC],
  ['slave', MS_SLAVE],
  ['rslave', MS_SLAVE | MS_REC],
  ['unbindable', MS_UNBINDABLE],
  ['runbindable', MS_UNBINDABLE | MS_REC],
]);

// mount_setattr(2)'s MOUNT_ATTR_* bits.
const MOUNT_ATTR_RDONLY = 0x1;
const MOUNT_ATTR_NOSUID = 0x2;
const MOUNT_ATTR_NODEV = 0x4;
const MOUNT_ATTR_NOEXEC = 0x8;
const MOUNT_ATTR__ATIME = 0x70;
const MOUNT_ATTR_RELATIME = 0x0;
const MOUNT_ATTR_NOATIME = 0x10;
const MOUNT_ATTR_STRICTATIME = 0x20;
const MOUNT_ATTR_NODIRATIME = 0x80;
const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

/**
 * Recursive mount attributes, applied with mount_setattr(2) and AT_RECURSIVE to the mount and
 * everything below it (port of runc's recAttrFlags): "rro" makes an rbind read-only all the
 * way down, where "ro" reaches only its top mount.
 */
const recursiveAttrOptions: ReadonlyMap<string, { clear: boolean; attr: number }> = new Map([
  ['rro', { clear: false, attr: MOUNT_ATTR_RDONLY }],
  ['rrw', { clear: true, attr: MOUNT_ATTR_RDONLY }],
  ['rnosuid', { clear: false, attr: MOUNT_ATTR_NOSUID }],
  ['rsuid', { clear: true, attr: MOUNT_ATTR_NOSUID }],
  ['rnodev', { clear: false, attr: MOUNT_ATTR_NODEV }],
  ['rdev', { clear: true, attr: MOUNT_ATTR_NODEV }],
  ['rnoexec', { clear: false, attr: MOUNT_ATTR_NOEXEC }],
  ['rexec', { clear: true, attr: MOUNT_ATTR_NOEXEC }],
  ['rnodiratime', { clear: false, attr: MOUNT_ATTR_NODIRATIME }],
  ['rdiratime', { clear: true, attr: MOUNT_ATTR_NODIRATIME }],
  ['rrelatime', { clear: false, attr: MOUNT_ATTR_RELATIME }],
  ['rnorelatime', { clear: true, attr: MOUNT_ATTR_RELATIME }],
  ['rnoatime', { clear: false, attr: MOUNT_ATTR_NOATIME }],
  ['ratime', { clear: true, attr: MOUNT_ATTR_NOATIME }],
  ['rstrictatime', { clear: false, attr: MOUNT_ATTR_STRICTATIME }],
  ['rnostrictatime', { clear: true, attr: MOUNT_ATTR_STRICTATIME }],
  ['rnosymfollow', { clear: false, attr: MOUNT_ATTR_NOSYMFOLLOW }],
  ['rsymfollow', { clear: true, attr: MOUNT_ATTR_NOSYMFOLLOW }],
]);

const unsupportedOptions: ReadonlyMap<string, string> = new Map([
  ['idmap', 'idmapped mounts ("idmap") are not supported yet'],
  ['ridmap', 'idmapped mounts ("ridmap") are not supported yet'],
]);

/** Every mount option taken (data options such as mode=755 aside), for `features`. */
export const MOUNT_OPTION_NAMES: readonly string[] = [
  ...mountFlagOptions.keys(), ...propagationOptions.keys(), ...recursiveAttrOptions.keys(), 'tmpcopyup',
].sort();

const fsTypePattern = /^[A-Za-z0-9._-]+$/;

/**
 * Check that `value` is an absolute path with no `..` component and return it cleaned
 * (`path.posix.normalize`, no trailing slash). `..` is refused outright, even where it
 * would stay inside `/`, because such a path almost always means a config built from
 * untrusted input.
 */
export function cleanContainerPath(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'must be a non-empty string');
  if (value.includes('\0')) throw new ConfigError(field, 'must not contain NUL bytes');
  if (!value.startsWith('/')) throw new ConfigError(field, `${JSON.stringify(value)} is not an absolute path`);
  if (value.split('/').includes('..')) throw new ConfigError(field, `${JSON.stringify(value)} must not contain ".." components`);
  const cleaned = path.posix.normalize(value);
  return cleaned.length > 1 && cleaned.endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

/**
 * A mount destination as runc 1.1 takes it: a relative one is relative to the container's
 * root (runc warns that it may stop taking them: see relativeDestinationWarnings), and `..`
 * is cleaned lexically from "/" (Go's filepath.Clean("/" + dest)), so "/../etc/x" is
 * "/etc/x" and "../../x" is "/x". Only then is the path resolved, by the helper, inside the
 * rootfs (openat2 RESOLVE_IN_ROOT): a symlink on the way cannot lead out of it either.
 */
export function cleanMountDestination(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'must be a non-empty string');
  if (value.includes('\0')) throw new ConfigError(field, 'must not contain NUL bytes');
  const cleaned = path.posix.normalize(`/${value}`);
  return cleaned.length > 1 && cleaned.endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

/** runc's warning for each relative mount destination (taken, as relative to the container's root). */
export function relativeDestinationWarnings(mounts: readonly OciMount[] | undefined): string[] {
  return (mounts ?? [])
    .map((m, i) => ({ dest: m?.destination, i }))
    .filter(({ dest }) => typeof dest === 'string' && dest !== '' && !dest.startsWith('/'))
    .map(({ dest, i }) => `mounts[${i}].destination ${JSON.stringify(dest)} is not absolute: taken as ${JSON.stringify(cleanMountDestination(dest, ''))} in the container, as runc does (which warns that support for it will be removed)`);
}

/**
 * Resolve a relative bind-mount source against the bundle directory, as runc does
 * (createLibcontainerMount). `convertMount` leaves `source` as given; callers that accept
 * relative sources map the mount through this first (and stat the resolved path).
 */
export function resolveBindSource(source: string, bundle: string): string {
  return path.isAbsolute(source) ? source : path.resolve(bundle, source);
}

/** A bind mount: type "bind", or a bind/rbind option (no option clears MS_BIND). */
export function isBindMount(m: Pick<OciMount, 'type' | 'options'>): boolean {
  return m.type === 'bind' || (Array.isArray(m.options) && (m.options.includes('bind') || m.options.includes('rbind')));
}

interface ParsedOptions {
  flags: number;
  propagation: number[];
  data: string[];
  recAttrSet: number;
  recAttrClr: number;
  copyUp: boolean;
}

// port of runc's parseMountOptions: known flags set or clear MS_* bits, propagation options
// are applied after the mount, and everything else is handed to the filesystem as data.
function parseMountOptions(options: unknown, field: string): ParsedOptions {
  const parsed: ParsedOptions = { flags: 0, propagation: [], data: [], recAttrSet: 0, recAttrClr: 0, copyUp: false };
  if (options === undefined || options === null) return parsed;
  if (!Array.isArray(options)) throw new ConfigError(field, 'must be an array of strings');
  options.forEach((option: unknown, j) => {
    const optField = `${field}[${j}]`;
    if (typeof option !== 'string') throw new ConfigError(optField, 'must be a string');
    if (option.includes('\0')) throw new ConfigError(optField, 'must not contain NUL bytes');
    if (option === '') return;
    const flagOption = mountFlagOptions.get(option);
    if (flagOption) {
      parsed.flags = flagOption.set ? parsed.flags | flagOption.flag : parsed.flags & ~flagOption.flag;
      return;
    }
    const propagation = propagationOptions.get(option);
    if (propagation !== undefined) {
      parsed.propagation.push(propagation);
      return;
    }
    if (option === 'tmpcopyup') {
      parsed.copyUp = true;
      return;
    }
    const recursive = recursiveAttrOptions.get(option);
    if (recursive) {
      if (recursive.clear) {
        parsed.recAttrClr |= recursive.attr;
      } else {
        parsed.recAttrSet |= recursive.attr;
        // mount_setattr(2): an access-time setting also needs MOUNT_ATTR__ATIME cleared.
        if ((recursive.attr & MOUNT_ATTR__ATIME) === recursive.attr) parsed.recAttrClr |= MOUNT_ATTR__ATIME;
      }
      return;
    }
    const unsupported = unsupportedOptions.get(option);
    if (unsupported) throw new ConfigError(optField, unsupported);
    parsed.data.push(option);
  });
  return parsed;
}

/**
 * Convert `mounts[index]` of an OCI config into a bootstrap mount.
 *
 * A mount is a bind mount when its type is "bind" or its options hold bind/rbind; its
 * type is then reported as "bind" (the kernel ignores it) and it must have a `source`.
 * A relative bind source is kept as given: resolve it with `resolveBindSource` first.
 * With `statSource`, a bind source is checked to exist and `isFile` is set for
 * non-directories (the helper then creates an empty file as the target); without it,
 * `isFile` is false.
 */
export function convertMount(m: OciMount, index: number, statSource?: StatSource): MountPlanJson {
  const field = `mounts[${index}]`;
  if (typeof m !== 'object' || m === null) throw new ConfigError(field, 'must be an object');
  const destination = cleanMountDestination(m.destination, `${field}.destination`);
  const { flags: parsedFlags, propagation, data, recAttrSet, recAttrClr, copyUp } = parseMountOptions(m.options, `${field}.options`);

  if (m.type !== undefined && typeof m.type !== 'string') throw new ConfigError(`${field}.type`, 'must be a string');
  if (m.source !== undefined && typeof m.source !== 'string') throw new ConfigError(`${field}.source`, 'must be a string');
  if (m.source?.includes('\0')) throw new ConfigError(`${field}.source`, 'must not contain NUL bytes');

  const isBind = m.type === 'bind' || (parsedFlags & MS_BIND) !== 0;
  const flags = isBind ? parsedFlags | MS_BIND : parsedFlags;
  let type: string;
  let source: string;
  let isFile = false;
  if (isBind) {
    type = 'bind';
    if (!m.source) throw new ConfigError(`${field}.source`, 'a bind mount needs a source');
    source = m.source;
    if (statSource) {
      const kind = statSource(source);
      if (kind === 'missing') throw new ConfigError(`${field}.source`, `${JSON.stringify(source)} does not exist`);
      isFile = kind === 'file';
    }
  } else {
    if (!m.type || !fsTypePattern.test(m.type)) {
      throw new ConfigError(`${field}.type`, `${JSON.stringify(m.type ?? '')} is not a valid filesystem type`);
    }
    type = m.type;
    // Pseudo filesystems (proc, tmpfs, ...) ignore the source; mount(2) still wants a string.
    source = m.source ?? m.type;
  }

  if (copyUp && type !== 'tmpfs') throw new ConfigError(`${field}.options`, `"tmpcopyup" is for tmpfs mounts, not ${type}`);

  // runc (mountToRootfs) remounts a bind mount when any flag beyond MS_BIND/MS_REC is
  // asked for, since the kernel ignores ro, nosuid, ... on the bind itself.
  const remountFlags = isBind ? flags & ~(MS_BIND | MS_REC | MS_REMOUNT) : 0;

  return { source, destination, type, flags, data: data.join(','), propagation, remountFlags, isBind, isFile, copyUp, recAttrSet, recAttrClr };
}

/** Convert every mount of the config (`mounts` may be absent). */
export function convertMounts(mounts: readonly OciMount[] | undefined, statSource?: StatSource): MountPlanJson[] {
  if (mounts === undefined || mounts === null) return [];
  if (!Array.isArray(mounts)) throw new ConfigError('mounts', 'must be an array');
  return mounts.map((m, i) => convertMount(m, i, statSource));
}

/**
 * Mount flags for "/" before the rootfs is set up (runc's prepareRoot and the specconv
 * rootfsPropagation mapping): default MS_SLAVE|MS_REC, so host mount events still reach
 * the container but nothing it mounts leaks back.
 */
export function rootPropagationFlags(value?: string): number {
  if (value === undefined || value === null || value === '') return MS_SLAVE | MS_REC;
  const flags = typeof value === 'string' ? propagationOptions.get(value) : undefined;
  if (flags === undefined) {
    throw new ConfigError('linux.rootfsPropagation', `${JSON.stringify(value)} is not one of ${[...propagationOptions.keys()].join(', ')}`);
  }
  // The rootfs is bind-mounted onto itself for pivot_root, which an unbindable tree refuses:
  // runc fails such a start with EINVAL, and making "/" private for that bind would undo it.
  if (flags & MS_UNBINDABLE) {
    throw new ConfigError('linux.rootfsPropagation', `${JSON.stringify(value)} cannot be used: the rootfs must be bind-mounted for pivot_root, which an unbindable mount refuses`);
  }
  return flags;
}
