/**
 * OCI `linux.namespaces` -> the namespace part of the bootstrap plan: which namespaces the
 * clone creates, which the helper joins (setns by path) or unshares, and whether it must
 * fork the final process. See docs/protocol.md and docs/design "Process model".
 */
import { ConfigError } from '../errors';
import {
  CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME,
  CLONE_NEWUSER, CLONE_NEWUTS,
} from './linux';

export interface OciNamespace {
  type: string;
  path?: string;
}

/** Kernel names, as in /proc/PID/ns/<name>. */
export type KernelNamespace = 'user' | 'ipc' | 'uts' | 'net' | 'pid' | 'mnt' | 'cgroup' | 'time';

export interface NamespaceJoin {
  type: KernelNamespace;
  path: string;
}

export interface NamespacePlan {
  /** CLONE_NEW* bits for the clone that starts the helper. */
  cloneFlags: number;
  /** Namespaces the helper enters with setns(open(path)), in this order. */
  join: NamespaceJoin[];
  /** CLONE_NEW* bits the helper unshares itself (after the joins). */
  unshare: number;
  /** Exec mode: CLONE_NEW* bits to join with setns(initPidfd, joinFlags); 0 in init mode. */
  joinFlags: number;
  /** The helper forks the final process (a joined or unshared pid/time ns only applies to children). */
  forkChild: boolean;
  /** The container has its own pid namespace (new or joined). */
  hasPidNs: boolean;
  /** The container has its own uts namespace (new or joined): hostname/domainname may be set. */
  hasUtsNs: boolean;
  /** Init mode: a new network namespace is created, so the helper brings `lo` up (bootstrap `loopback`). */
  hasNetNs: boolean;
}

interface NamespaceKind {
  flag: number;
  kernel: KernelNamespace;
}

// Insertion order is runc's nsexec join order: user first (it grants the rights for the
// rest), mnt late so that the earlier paths are still opened in the host's mount ns.
const namespaceKinds: ReadonlyMap<string, NamespaceKind> = new Map([
  ['user', { flag: CLONE_NEWUSER, kernel: 'user' }],
  ['ipc', { flag: CLONE_NEWIPC, kernel: 'ipc' }],
  ['uts', { flag: CLONE_NEWUTS, kernel: 'uts' }],
  ['network', { flag: CLONE_NEWNET, kernel: 'net' }],
  ['pid', { flag: CLONE_NEWPID, kernel: 'pid' }],
  ['mount', { flag: CLONE_NEWNS, kernel: 'mnt' }],
  ['cgroup', { flag: CLONE_NEWCGROUP, kernel: 'cgroup' }],
  ['time', { flag: CLONE_NEWTIME, kernel: 'time' }],
]);
const joinOrder = [...namespaceKinds.keys()];

/** The CLONE_NEW* bit of an OCI namespace type ("network", "mount", "pid", ...). */
export function namespaceFlag(type: string): number {
  const kind = namespaceKinds.get(type);
  if (!kind) throw new ConfigError('linux.namespaces', `unknown namespace type ${JSON.stringify(type)}`);
  return kind.flag;
}

interface CheckedNamespace {
  type: string;
  kind: NamespaceKind;
  path: string | undefined;
}

// With rejectUser false (exec), a user namespace is validated but left out of the result.
function checkNamespaces(namespaces: readonly OciNamespace[] | undefined, rejectUser: boolean): CheckedNamespace[] {
  if (namespaces === undefined || namespaces === null) return [];
  if (!Array.isArray(namespaces)) throw new ConfigError('linux.namespaces', 'must be an array');
  const seen = new Set<string>();
  return namespaces.map((ns, i) => {
    const field = `linux.namespaces[${i}]`;
    if (typeof ns !== 'object' || ns === null) throw new ConfigError(field, 'must be an object');
    const kind = typeof ns.type === 'string' ? namespaceKinds.get(ns.type) : undefined;
    if (!kind) throw new ConfigError(`${field}.type`, `unknown namespace type ${JSON.stringify(ns.type)}`);
    if (seen.has(ns.type)) throw new ConfigError(field, `duplicate namespace type ${JSON.stringify(ns.type)}`);
    seen.add(ns.type);
    if (kind.flag === CLONE_NEWUSER && rejectUser) throw new ConfigError(field, 'user namespaces are not supported yet');
    let nsPath: string | undefined;
    if (ns.path !== undefined && ns.path !== null && ns.path !== '') {
      if (typeof ns.path !== 'string' || !ns.path.startsWith('/') || ns.path.includes('\0')) {
        throw new ConfigError(`${field}.path`, `${JSON.stringify(ns.path)} is not an absolute path`);
      }
      nsPath = ns.path;
    }
    return { type: ns.type, kind, path: nsPath };
  }).filter((ns) => ns.kind.flag !== CLONE_NEWUSER);
}

/**
 * Plan the namespaces of a new container (mode "init") or of a process exec'd into one
 * (mode "exec", see `execJoinFlags`).
 *
 * Init: when nothing is joined by path and there is no time namespace, the clone itself
 * creates every namespace (cheapest, no fork in the helper). Otherwise the clone creates
 * none: the helper joins the given paths in runc's nsexec order, unshares the rest, and
 * forks when a pid namespace (or an unshared time namespace) is involved, since those only
 * apply to children.
 */
export function planNamespaces(namespaces: readonly OciNamespace[] | undefined, mode: 'init' | 'exec'): NamespacePlan {
  const checked = checkNamespaces(namespaces, mode === 'init');
  const hasPidNs = checked.some((ns) => ns.kind.flag === CLONE_NEWPID);
  const hasUtsNs = checked.some((ns) => ns.kind.flag === CLONE_NEWUTS);
  const plan: NamespacePlan = {
    cloneFlags: 0, join: [], unshare: 0, joinFlags: 0, forkChild: false, hasPidNs, hasUtsNs, hasNetNs: false,
  };
  if (mode === 'exec') {
    const exec = joinFlagsOf(checked);
    plan.joinFlags = exec.flags;
    plan.forkChild = exec.forkChild;
    return plan;
  }
  // A joined network namespace belongs to someone else: leave its interfaces alone.
  plan.hasNetNs = checked.some((ns) => ns.kind.flag === CLONE_NEWNET && ns.path === undefined);

  // A time namespace always goes the unshare way: CLONE_NEWTIME (0x80) collides with the
  // exit-signal byte of clone(2), and timens_offsets can only be written before any process
  // is in the namespace. The helper then cannot be the pid-ns init either, because an init
  // may not clone with CLONE_PARENT, so everything is unshared.
  const hasTimeNs = checked.some((ns) => ns.kind.flag === CLONE_NEWTIME);
  if (!hasTimeNs && checked.every((ns) => ns.path === undefined)) {
    for (const ns of checked) plan.cloneFlags |= ns.kind.flag;
    return plan;
  }
  const ordered = [...checked].sort((a, b) => joinOrder.indexOf(a.type) - joinOrder.indexOf(b.type));
  for (const ns of ordered) {
    if (ns.path !== undefined) plan.join.push({ type: ns.kind.kernel, path: ns.path });
    else plan.unshare |= ns.kind.flag;
  }
  // unshare(CLONE_NEWTIME) moves only the children; setns into a time ns moves the caller.
  plan.forkChild = hasPidNs || (plan.unshare & CLONE_NEWTIME) !== 0;
  return plan;
}

export interface ExecJoin {
  /** CLONE_NEW* bits for setns(initPidfd, flags): the bootstrap `joinFlags`. */
  flags: number;
  forkChild: boolean;
}

function joinFlagsOf(checked: readonly CheckedNamespace[]): ExecJoin {
  let flags = 0;
  for (const ns of checked) flags |= ns.kind.flag;
  return { flags, forkChild: (flags & CLONE_NEWPID) !== 0 };
}

/**
 * Exec into a running container: every namespace type in the container's config is
 * joined from the init with setns(pidfd, joinFlags) (whether the init created or joined
 * it); namespaces not listed are the host's, which the helper already has. A user
 * namespace is left out (not supported yet). A joined pid
 * namespace only applies to children, hence forkChild.
 */
export function execJoinFlags(namespaces: readonly OciNamespace[] | undefined): ExecJoin {
  return joinFlagsOf(checkNamespaces(namespaces, false));
}
