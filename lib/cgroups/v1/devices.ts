/**
 * v1 devices controller (port of runc's devices.setV1): compute the minimal devices.allow /
 * devices.deny writes from the current devices.list to the target, write them, and check the
 * result. A fresh cgroup (allow-all) gets "a *:* rwm" denied, then one allow per rule.
 */
import * as path from 'node:path';
import type { LinuxResources } from '../../../types/oci';
import { CgroupError } from '../errors';
import { DeviceEmulator } from '../devices/emulator';
import { cgroupString, effectiveDeviceRules, type DeviceRule } from '../devices/rules';
import { readFile } from '../file';
import { CgroupWriter } from '../writer';

/** The rules as runs for one file each, in order: one open per run. */
function runsOf(rules: DeviceRule[]): DeviceRun[] {
  const runs: DeviceRun[] = [];
  for (const rule of rules) {
    const file = rule.allow ? 'devices.allow' : 'devices.deny';
    const last = runs[runs.length - 1];
    if (last && last[0] === file) last[1].push(cgroupString(rule));
    else runs.push([file, [cgroupString(rule)]]);
  }
  return runs;
}

/** [file, one value per write(2)]: a dozen writes to devices.allow per start share one open. */
export type DeviceRun = [file: 'devices.allow' | 'devices.deny', values: string[]];

function writeRuns(dir: string, runs: DeviceRun[], w: CgroupWriter): void {
  for (const [file, values] of runs) {
    // A stand-in writer (tests) sees one write per rule.
    const sink: Pick<CgroupWriter, 'write'> = w;
    if (w instanceof CgroupWriter) w.writeValues(dir, file, values);
    else for (const v of values) sink.write(dir, file, v);
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
  writes: DeviceRun[];
  /** A devices.list text already checked against target. */
  verified: string | null;
}
const plans = new Map<string, Plan>();
/** Per rule set and parent directory, the devices.list the last directory made there started from (the parent's). */
const lastBefore = new Map<string, string>();
const MAX_PLANS = 64;

const rulesKey = (resources: LinuxResources) => JSON.stringify(resources.devices ?? null);

function planFor(resources: LinuxResources, beforeText: string, rules = rulesKey(resources)): Plan {
  const key = `${rules}\0${beforeText}`;
  let plan = plans.get(key);
  if (!plan) {
    const target = DeviceEmulator.fromRules(effectiveDeviceRules(resources.devices));
    plan = { target, writes: runsOf(DeviceEmulator.fromList(beforeText).transition(target)), verified: null };
    if (plans.size >= MAX_PLANS) plans.clear();
    plans.set(key, plan);
  }
  return plan;
}

/** What the native mkdir job (binding.mkdirAsync's setup) does for a fresh devices cgroup. */
export interface FreshDevices {
  expect: [file: 'devices.list', text: string];
  writes: DeviceRun[];
  readBack: 'devices.list';
}

/**
 * The writes a directory about to be made will need, decided from the list the previous one
 * of this rule set started with: a new v1 devices cgroup starts as a copy of its parent, so
 * this is right whenever the parent has not changed, and the job checks that it has not
 * before writing. Undefined until a first directory has been set up the ordinary way.
 */
export function freshSetup(dir: string, resources: LinuxResources): FreshDevices | undefined {
  const rules = rulesKey(resources);
  const before = lastBefore.get(`${rules}\0${path.dirname(dir)}`);
  if (before === undefined) return undefined;
  return { expect: ['devices.list', before], writes: planFor(resources, before, rules).writes, readBack: 'devices.list' };
}

/** What the job reported: the list it read, whether it made the writes, the list after them. */
export interface FreshDevicesDone {
  read?: string;
  wrote: boolean;
  after?: string;
}

/**
 * Make dir's device rules those of resources. `done`: what the native mkdir job already did
 * for this fresh directory (the list it read and, if that was the expected one, the writes
 * and the list after them); the rest is done here, and the result is verified either way.
 */
export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false), opts: { verify?: boolean; done?: FreshDevicesDone } = {}): void {
  const { done } = opts;
  const rules = rulesKey(resources);
  const beforeText = done?.read ?? readFile(dir, 'devices.list');
  const plan = planFor(resources, beforeText, rules);
  if (lastBefore.size >= MAX_PLANS) lastBefore.clear();
  lastBefore.set(`${rules}\0${path.dirname(dir)}`, beforeText);
  w.onRollback(`${dir}/devices.list`, () => {
    const now = DeviceEmulator.fromList(readFile(dir, 'devices.list'));
    writeRuns(dir, runsOf(now.transition(DeviceEmulator.fromList(beforeText))), new CgroupWriter(false));
  });
  const wrote = done?.read !== undefined && done.wrote;
  if (!wrote) writeRuns(dir, plan.writes, w);
  if (opts.verify === false) return;
  const afterText = (wrote ? done?.after : undefined) ?? readFile(dir, 'devices.list');
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
