/**
 * A model of the v1 devices controller (port of runc's devices emulator): it turns a rule
 * list into the state the kernel would reach, reads that state back from devices.list, and
 * computes the minimal writes from one state to another, so an update never passes through
 * "deny everything" while the container runs. The v2 program is generated from the same
 * cleaned rules, so both versions accept exactly the same devices.
 */
import { CgroupError } from '../errors';
import type { DeviceRule, DeviceType } from './rules';

const R = 1;
const W = 2;
const M = 4;

function toBits(access: string): number {
  let bits = 0;
  for (const ch of access) bits |= ch === 'r' ? R : ch === 'w' ? W : ch === 'm' ? M : 0;
  return bits;
}

function toAccess(bits: number): string {
  return `${bits & R ? 'r' : ''}${bits & W ? 'w' : ''}${bits & M ? 'm' : ''}`;
}

interface Meta {
  type: Exclude<DeviceType, 'a'>;
  major: number;
  minor: number;
}

const keyOf = (m: Meta) => `${m.type} ${m.major} ${m.minor}`;

export class DeviceEmulator {
  /** true: everything is allowed except the rules (blacklist); false: only the rules are allowed. */
  defaultAllow = false;
  private entries = new Map<string, { meta: Meta; bits: number }>();

  static fromRules(rules: DeviceRule[]): DeviceEmulator {
    const emu = new DeviceEmulator();
    for (const r of rules) emu.apply(r);
    return emu;
  }

  /** Parse devices.list: each line is an allowed entry; "a *:* rwm" means allow-all. */
  static fromList(list: string): DeviceEmulator {
    const emu = new DeviceEmulator();
    for (const raw of list.split('\n')) {
      const line = raw.trim();
      if (line === '') continue;
      const f = line.split(/[ :]/);
      if (f.length !== 4 || !/^[rwm]+$/.test(f[3])) throw new CgroupError('devices.list', `malformed devices.list line ${JSON.stringify(line)}`);
      if (f[0] === 'a') {
        emu.reset(true);
        continue;
      }
      if (f[0] !== 'b' && f[0] !== 'c') throw new CgroupError('devices.list', `unknown device type in ${JSON.stringify(line)}`);
      const n = (s: string) => (s === '*' ? -1 : Number(s));
      emu.apply({ type: f[0], major: n(f[1]), minor: n(f[2]), access: f[3], allow: true });
    }
    return emu;
  }

  get isBlacklist(): boolean {
    return this.defaultAllow;
  }

  apply(rule: DeviceRule): void {
    if (rule.type === 'a') {
      this.reset(rule.allow);
      return;
    }
    const meta: Meta = { type: rule.type, major: rule.major, minor: rule.minor };
    const bits = toBits(rule.access);
    // An allow rule in allow-all mode removes a deny exception, and vice versa.
    if (rule.allow === this.defaultAllow) this.remove(meta, bits);
    else this.add(meta, bits);
  }

  /** The rules (as writes to a fresh, deny-all cgroup) that reproduce this state. */
  rules(): DeviceRule[] {
    return new DeviceEmulator().transition(this);
  }

  /** The writes that take a cgroup from this state to target (runc's emulator.Transition). */
  transition(target: DeviceEmulator): DeviceRule[] {
    const out: DeviceRule[] = [];
    let old = this.entries;
    if (this.defaultAllow || this.defaultAllow !== target.defaultAllow) {
      out.push({ type: 'a', major: -1, minor: -1, access: 'rwm', allow: target.defaultAllow });
      old = new Map();
    }
    for (const { meta, bits } of ordered(old)) {
      const dropped = bits & ~(target.entries.get(keyOf(meta))?.bits ?? 0);
      if (dropped) out.push({ ...meta, access: toAccess(dropped), allow: target.defaultAllow });
    }
    for (const { meta, bits } of ordered(target.entries)) {
      const gained = bits & ~(old.get(keyOf(meta))?.bits ?? 0);
      if (gained) out.push({ ...meta, access: toAccess(gained), allow: !target.defaultAllow });
    }
    return out;
  }

  equals(other: DeviceEmulator): boolean {
    if (this.defaultAllow !== other.defaultAllow || this.entries.size !== other.entries.size) return false;
    for (const [k, v] of this.entries) if (other.entries.get(k)?.bits !== v.bits) return false;
    return true;
  }

  private reset(defaultAllow: boolean): void {
    this.defaultAllow = defaultAllow;
    this.entries = new Map();
  }

  private add(meta: Meta, bits: number): void {
    const k = keyOf(meta);
    this.entries.set(k, { meta, bits: bits | (this.entries.get(k)?.bits ?? 0) });
  }

  private remove(meta: Meta, bits: number): void {
    // The kernel cannot take a permission away from one device while a wildcard entry grants it.
    for (const partial of [
      { type: meta.type, major: -1, minor: meta.minor },
      { type: meta.type, major: meta.major, minor: -1 },
      { type: meta.type, major: -1, minor: -1 },
    ]) {
      if (keyOf(partial) === keyOf(meta)) continue;
      const p = this.entries.get(keyOf(partial));
      if (p && p.bits & bits) {
        throw new CgroupError(
          'devices',
          `device rule ${keyOf(meta)} ${toAccess(bits)} cannot punch a hole in the wildcard rule ${keyOf(partial)} ${toAccess(p.bits)}`,
        );
      }
    }
    const k = keyOf(meta);
    const left = (this.entries.get(k)?.bits ?? 0) & ~bits;
    if (left) this.entries.set(k, { meta, bits: left });
    else this.entries.delete(k);
  }
}

function ordered(entries: Map<string, { meta: Meta; bits: number }>): { meta: Meta; bits: number }[] {
  return [...entries.values()].sort(
    (a, b) => a.meta.major - b.meta.major || a.meta.minor - b.meta.minor || a.meta.type.localeCompare(b.meta.type),
  );
}
