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

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false), opts: { verify?: boolean } = {}): void {
  const target = DeviceEmulator.fromRules(effectiveDeviceRules(resources.devices));
  const before = DeviceEmulator.fromList(readFile(dir, 'devices.list'));
  w.onRollback(`${dir}/devices.list`, () => {
    const now = DeviceEmulator.fromList(readFile(dir, 'devices.list'));
    writeRules(dir, now.transition(before), new CgroupWriter(false));
  });
  writeRules(dir, before.transition(target), w);
  if (opts.verify === false) return;
  // As runc: an allow-list must match exactly; for a deny-list at least the mode must.
  const after = DeviceEmulator.fromList(readFile(dir, 'devices.list'));
  if (!target.isBlacklist && !after.equals(target)) {
    throw new CgroupError(`${dir}/devices.list`, 'the resulting devices cgroup does not match the requested rules');
  }
  if (target.isBlacklist !== after.isBlacklist) {
    throw new CgroupError(`${dir}/devices.list`, 'the resulting devices cgroup is not in the requested (allow/deny-list) mode');
  }
}
