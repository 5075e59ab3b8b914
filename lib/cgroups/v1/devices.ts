/**
 * v1 devices controller (port of runc's devices.setV1): compute the minimal devices.allow /
 * devices.deny writes from the current devices.list to the target, write them, and check the
 * result. A fresh cgroup (allow-all) gets "a *:* rwm" denied, then one allow per rule.
 */
import type { LinuxResources } from '../../../types/oci';
import { CgroupError } from '../errors';
import { DeviceEmulator } from '../devices/emulator';
import { cgroupString, effectiveDeviceRules, type DeviceRule } from '../devices/rules';
import { readFile } from '../file';
import { CgroupWriter } from '../writer';

/** Each run of rules for the same file shares one open (a dozen writes to devices.allow per start). */
function writeRules(dir: string, rules: DeviceRule[], w: CgroupWriter): void {
  let i = 0;
  while (i < rules.length) {
    const allow = rules[i].allow;
    const run: string[] = [];
    for (; i < rules.length && rules[i].allow === allow; i++) run.push(cgroupString(rules[i]));
    const file = allow ? 'devices.allow' : 'devices.deny';
    // A stand-in writer (tests) sees one write per rule.
    const sink: Pick<CgroupWriter, 'write'> = w;
    if (w instanceof CgroupWriter) w.writeValues(dir, file, run);
    else for (const v of run) sink.write(dir, file, v);
  }
}

/**
 * What a rule set means from one devices.list state: the writes to make and the devices.list
 * that proves them. Containers started from one config meet the same parent state every
 * time, so the emulation (parse, transition, compare) runs once per config, not per start;
 * the kernel's lists are still read before and after each time.
 */
interface Plan {
  target: DeviceEmulator;
  writes: DeviceRule[];
  /** A devices.list text already checked against target. */
  verified: string | null;
}
const plans = new Map<string, Plan>();
const MAX_PLANS = 64;

function planFor(resources: LinuxResources, beforeText: string): Plan {
  const key = `${JSON.stringify(resources.devices ?? null)}\0${beforeText}`;
  let plan = plans.get(key);
  if (!plan) {
    const target = DeviceEmulator.fromRules(effectiveDeviceRules(resources.devices));
    plan = { target, writes: DeviceEmulator.fromList(beforeText).transition(target), verified: null };
    if (plans.size >= MAX_PLANS) plans.clear();
    plans.set(key, plan);
  }
  return plan;
}

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false), opts: { verify?: boolean } = {}): void {
  const beforeText = readFile(dir, 'devices.list');
  const plan = planFor(resources, beforeText);
  w.onRollback(`${dir}/devices.list`, () => {
    const now = DeviceEmulator.fromList(readFile(dir, 'devices.list'));
    writeRules(dir, now.transition(DeviceEmulator.fromList(beforeText)), new CgroupWriter(false));
  });
  writeRules(dir, plan.writes, w);
  if (opts.verify === false) return;
  const afterText = readFile(dir, 'devices.list');
  if (afterText === plan.verified) return;
  // As runc: an allow-list must match exactly; for a deny-list at least the mode must.
  const { target } = plan;
  const after = DeviceEmulator.fromList(afterText);
  if (!target.isBlacklist && !after.equals(target)) {
    throw new CgroupError(`${dir}/devices.list`, 'the resulting devices cgroup does not match the requested rules');
  }
  if (target.isBlacklist !== after.isBlacklist) {
    throw new CgroupError(`${dir}/devices.list`, 'the resulting devices cgroup is not in the requested (allow/deny-list) mode');
  }
  plan.verified = afterText;
}
