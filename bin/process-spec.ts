/**
 * The OCI `process` object (config.json's, or `exec --process FILE`) as the library's
 * ProcessOptions, and `exec`'s flags applied over the config's process (runc's getProcess).
 */
import type { ProcessOptions } from '../lib';
import type { Process as OciProcess } from '../types/oci';
import { UsageError } from './args';

/** Every field of an OCI process the library takes, as ProcessOptions. Fields it refuses (apparmorProfile, selinuxLabel) are passed on, so that it refuses them by name. */
export function processOptionsFromSpec(p: OciProcess): ProcessOptions {
  const options: ProcessOptions & Record<string, unknown> = {
    args: p.args ?? [],
    env: p.env ?? [],
    cwd: p.cwd,
    terminal: p.terminal === true,
  };
  if (p.user) {
    const { uid = 0, gid = 0, additionalGids, umask } = p.user;
    options.user = { uid, gid, ...(additionalGids ? { additionalGids } : {}), ...(umask !== undefined ? { umask } : {}) };
  }
  if (p.consoleSize) options.consoleSize = p.consoleSize;
  if (p.capabilities) options.capabilities = p.capabilities;
  if (p.rlimits) options.rlimits = p.rlimits;
  if (p.noNewPrivileges !== undefined) options.noNewPrivileges = p.noNewPrivileges;
  if (p.oomScoreAdj !== undefined) options.oomScoreAdj = p.oomScoreAdj;
  if (p.ioPriority) options.ioPriority = p.ioPriority;
  if (p.scheduler) options.scheduler = p.scheduler;
  if (p.execCPUAffinity) options.execCPUAffinity = p.execCPUAffinity;
  if (p.apparmorProfile) options.apparmorProfile = p.apparmorProfile;
  if (p.selinuxLabel) options.selinuxLabel = p.selinuxLabel;
  return options;
}

/** `--user UID[:GID]` (numbers only, as runc 1.1). */
export function parseUser(value: string): { uid: number; gid?: number } {
  const [u, g] = value.split(':', 2) as [string, string | undefined];
  const num = (s: string, what: string): number => {
    if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw new UsageError(`invalid ${what} ${JSON.stringify(s)} in --user ${JSON.stringify(value)}`);
    return Number(s);
  };
  const uid = num(u, 'uid');
  return g === undefined ? { uid } : { uid, gid: num(g, 'gid') };
}

export interface ExecOverrides {
  args: string[];
  cwd?: string;
  env: string[];
  user?: string;
  additionalGids: string[];
  caps: string[];
  tty?: boolean;
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
}

/**
 * The config's process with exec's flags over it, as runc's getProcess: args replaced, env
 * appended to, cwd and user replaced, added capabilities in the bounding, effective, permitted
 * and ambient sets, no terminal unless --tty.
 */
export function execProcess(base: OciProcess, o: ExecOverrides): OciProcess {
  const p: OciProcess = structuredClone(base);
  p.args = o.args;
  if (o.cwd) p.cwd = o.cwd;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  if (o.caps.length > 0) {
    const caps = (p.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) caps[set] = [...(caps[set] ?? []), ...o.caps];
  }
  p.env = [...(p.env ?? []), ...o.env];
  p.terminal = o.tty ?? false;
  if (o.noNewPrivs !== undefined) p.noNewPrivileges = o.noNewPrivs;
  if (o.user) {
    const { uid, gid } = parseUser(o.user);
    p.user = { ...p.user, uid, ...(gid !== undefined ? { gid } : {}) };
  }
  if (o.additionalGids.length > 0) {
    const gids = o.additionalGids.map((g) => {
      if (!/^\d+$/.test(g)) throw new UsageError(`invalid value ${JSON.stringify(g)} for flag -additional-gids: parse error`);
      return Number(g);
    });
    p.user = { ...p.user, additionalGids: [...(p.user?.additionalGids ?? []), ...gids] };
  }
  return p;
}

/** runc's validateProcessSpec, the part a command line can get wrong. */
export function checkProcess(p: OciProcess): void {
  if (!p.args || p.args.length === 0) throw new UsageError('process args cannot be empty');
  if (typeof p.cwd !== 'string' || !p.cwd.startsWith('/')) throw new UsageError('cwd property must not be empty and must be an absolute path');
}
