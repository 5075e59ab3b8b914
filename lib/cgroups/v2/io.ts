/** v2 io controller (port of runc's fs2 setIo/statIo). */
import type { LinuxResources, LinuxThrottleDevice } from '../../../types/oci';
import { intString, readFileIfExists, toBig } from '../file';
import type { IoEntry, IoStats } from '../types';
import { CgroupWriter } from '../writer';

/** blkio weight [10, 1000] to io.weight [1, 10000] (runc's ConvertBlkIOToIOWeightValue). */
export function convertBlkioWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

function maxLine(d: LinuxThrottleDevice, key: string): string {
  const rate = toBig(d.rate ?? 0);
  // 0 removes a v1 throttle; "max" is how v2 says the same.
  return `${d.major}:${d.minor} ${key}=${rate === 0n ? 'max' : intString(rate)}`;
}

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  const b = resources.blockIO;
  if (!b) return;
  // With the BFQ scheduler, io.bfq.weight takes blkio weights as they are.
  const bfqText = readFileIfExists(dir, 'io.bfq.weight');
  const bfq = bfqText !== undefined;
  if (b.weight) {
    if (bfq) w.write(dir, 'io.bfq.weight', String(b.weight));
    else w.write(dir, 'io.weight', String(convertBlkioWeight(b.weight)));
  }
  // Per-device BFQ weights exist when the file shows "default N" rather than a bare number.
  if (bfq && !/^\s*\d+\s*$/.test(bfqText)) {
    for (const d of b.weightDevice ?? []) if (d.weight) w.write(dir, 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`);
  }
  for (const d of b.throttleReadBpsDevice ?? []) w.write(dir, 'io.max', maxLine(d, 'rbps'));
  for (const d of b.throttleWriteBpsDevice ?? []) w.write(dir, 'io.max', maxLine(d, 'wbps'));
  for (const d of b.throttleReadIOPSDevice ?? []) w.write(dir, 'io.max', maxLine(d, 'riops'));
  for (const d of b.throttleWriteIOPSDevice ?? []) w.write(dir, 'io.max', maxLine(d, 'wiops'));
}

/** io.stat: "8:0 rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per device. */
export function stats(dir: string): IoStats {
  const out: IoStats = { serviceBytes: [], serviced: [] };
  const text = readFileIfExists(dir, 'io.stat');
  if (text === undefined) return out;
  for (const line of text.split('\n')) {
    const [dev, ...items] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    for (const item of items) {
      const [key, val] = item.split('=');
      const entry = (op: string): IoEntry => ({ major: Number(m[1]), minor: Number(m[2]), op, value: Number(val) });
      if (key === 'rbytes') out.serviceBytes.push(entry('Read'));
      else if (key === 'wbytes') out.serviceBytes.push(entry('Write'));
      else if (key === 'rios') out.serviced.push(entry('Read'));
      else if (key === 'wios') out.serviced.push(entry('Write'));
    }
  }
  return out;
}

