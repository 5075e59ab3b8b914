/** v1 blkio controller (port of runc's fs.BlkioGroup). */
import * as path from 'node:path';
import type { LinuxResources, LinuxThrottleDevice } from '../../../types/oci';
import { CgroupError } from '../errors';
import { fileExists, intString, readFileIfExists } from '../file';
import type { IoEntry, IoStats } from '../types';
import { CgroupWriter } from '../writer';

const throttleLine = (d: LinuxThrottleDevice) => `${d.major}:${d.minor} ${intString(d.rate ?? 0)}`;

export function set(dir: string, resources: LinuxResources, w = new CgroupWriter(false)): void {
  const b = resources.blockIO;
  if (!b) return;
  // Without CFQ, BFQ offers the same knobs under a bfq. prefix.
  const cfq = fileExists(dir, 'blkio.weight');
  const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  if (b.weight) w.write(dir, weightFile, String(b.weight));
  if (b.leafWeight) w.write(dir, 'blkio.leaf_weight', String(b.leafWeight));
  for (const d of b.weightDevice ?? []) {
    if (d.weight) w.write(dir, weightDeviceFile, `${d.major}:${d.minor} ${d.weight}`);
    if (d.leafWeight) w.write(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
  }
  for (const d of b.throttleReadBpsDevice ?? []) w.write(dir, 'blkio.throttle.read_bps_device', throttleLine(d));
  for (const d of b.throttleWriteBpsDevice ?? []) w.write(dir, 'blkio.throttle.write_bps_device', throttleLine(d));
  for (const d of b.throttleReadIOPSDevice ?? []) w.write(dir, 'blkio.throttle.read_iops_device', throttleLine(d));
  for (const d of b.throttleWriteIOPSDevice ?? []) w.write(dir, 'blkio.throttle.write_iops_device', throttleLine(d));
}

/** "8:0 Read 1282048" lines; the bare "Total N" line is skipped. */
export function parseBlkioStat(text: string, where: string): IoEntry[] {
  const out: IoEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/[ :]+/).filter((s) => s !== '');
    if (f.length === 0 || (f.length === 2 && f[0] === 'Total')) continue;
    if (f.length < 3 || f.length > 4 || !f.every((s, i) => (f.length === 4 && i === 2) || /^\d+$/.test(s))) {
      throw new CgroupError(where, `malformed line in ${where}: ${JSON.stringify(line)}`);
    }
    const [major, minor] = [Number(f[0]), Number(f[1])];
    out.push(f.length === 4 ? { major, minor, op: f[2], value: Number(f[3]) } : { major, minor, op: '', value: Number(f[2]) });
  }
  return out;
}

/** The first pair of files present, as runc tries: BFQ, then the throttle policy (recursive first). */
const STAT_SOURCES: Array<[bytes: string, ios: string]> = [
  ['blkio.bfq.io_service_bytes_recursive', 'blkio.bfq.io_serviced_recursive'],
  ['blkio.io_service_bytes_recursive', 'blkio.io_serviced_recursive'],
  ['blkio.throttle.io_service_bytes_recursive', 'blkio.throttle.io_serviced_recursive'],
  ['blkio.throttle.io_service_bytes', 'blkio.throttle.io_serviced'],
];

export function stats(dir: string): IoStats {
  for (const [bytesFile, iosFile] of STAT_SOURCES) {
    const bytes = readFileIfExists(dir, bytesFile);
    const ios = readFileIfExists(dir, iosFile);
    if (bytes === undefined || ios === undefined) continue;
    // CFQ's files exist but stay empty when another scheduler is in use: fall through.
    if (bytes.trim() === '' && bytesFile === 'blkio.io_service_bytes_recursive') continue;
    return {
      serviceBytes: parseBlkioStat(bytes, path.join(dir, bytesFile)),
      serviced: parseBlkioStat(ios, path.join(dir, iosFile)),
    };
  }
  return { serviceBytes: [], serviced: [] };
}
