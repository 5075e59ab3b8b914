/**
 * Writes to cgroup files that can be undone: before the first write to a file (or, for the
 * per-device list files, to one device's entry in it) the current value is read, and
 * rollback() writes the saved values back in reverse order. This is how set() restores the
 * previous limits when a later write fails.
 */
import * as path from 'node:path';
import createDebug from 'debug';
import { readFile, writeFile, writeFileByLine, writeFileValues } from './file';

const debug = createDebug('node-libcontainer:cgroups');

/** Files holding one line per device ("MAJ:MIN value"), written one device at a time. */
const PER_DEVICE_FILES = new Set([
  'blkio.throttle.read_bps_device',
  'blkio.throttle.write_bps_device',
  'blkio.throttle.read_iops_device',
  'blkio.throttle.write_iops_device',
  'blkio.weight_device',
  'blkio.bfq.weight_device',
  'blkio.leaf_weight_device',
  'io.max',
]);

interface Undo {
  what: string;
  run(): void;
}

export class CgroupWriter {
  private readonly undos: Undo[] = [];
  private readonly seen = new Set<string>();

  /** With track=false, writes are not recorded (stand-alone controller calls). */
  constructor(private readonly track = true) {}

  write(dir: string, file: string, value: string): void {
    if (this.track) this.save(dir, file, value);
    writeFile(dir, file, value);
  }

  /** Several values, one write(2) each over one open (device rules). */
  writeValues(dir: string, file: string, values: readonly string[]): void {
    if (this.track) for (const v of values) this.save(dir, file, v);
    writeFileValues(dir, file, values);
  }

  /** A multi-line value, one write per line (unified keys). */
  writeLines(dir: string, file: string, value: string): void {
    if (this.track) this.save(dir, file, value);
    writeFileByLine(dir, file, value);
  }

  /** Register an undo step that is not a plain file restore (device rules). */
  onRollback(what: string, run: () => void): void {
    if (this.track) this.undos.push({ what, run });
  }

  /**
   * Undo everything recorded, newest first. A restore that fails is tried once more after the
   * others: a file may take its old value only once another has its own back (cpu.weight is
   * refused while cpu.idle is still 1). Best effort: one that fails again is logged and skipped.
   */
  rollback(): void {
    const failed: Undo[] = [];
    while (this.undos.length > 0) {
      const undo = this.undos.pop()!;
      try {
        undo.run();
      } catch {
        failed.push(undo);
      }
    }
    for (const undo of failed) {
      try {
        undo.run();
      } catch (err) {
        debug('rollback of %s failed: %s', undo.what, (err as Error).message);
      }
    }
    this.seen.clear();
  }

  private save(dir: string, file: string, value: string): void {
    const perDevice = PER_DEVICE_FILES.has(file) || (file === 'io.bfq.weight' && /^\d+:\d+\s/.test(value));
    const device = perDevice ? value.trim().split(/\s+/)[0] : '';
    const key = `${path.join(dir, file)}\0${device}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    let old: string;
    try {
      old = readFile(dir, file);
    } catch {
      return; // unreadable (write-only or missing): the write itself will report the problem
    }
    const values = perDevice ? restoreDevice(file, device, old) : restorePlain(file, old);
    if (values.length === 0) return;
    const what = path.join(dir, file);
    this.undos.push({
      what,
      run: () => {
        for (const v of values) writeFile(dir, file, v);
      },
    });
  }
}

function restorePlain(file: string, old: string): string[] {
  if (file === 'memory.oom_control') {
    const m = /^oom_kill_disable\s+(\d+)/m.exec(old);
    return m ? [m[1]] : [];
  }
  const lines = old.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines;
}

/** The old line for this device, or the value that removes the device's entry. */
function restoreDevice(file: string, device: string, old: string): string[] {
  const line = old.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`${device} `));
  if (file === 'io.max') return [line ?? `${device} rbps=max wbps=max riops=max wiops=max`];
  if (file === 'io.bfq.weight') return line ? [line] : [];
  return [line ?? `${device} 0`];
}
