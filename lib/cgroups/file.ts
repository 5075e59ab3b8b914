/**
 * cgroupfs file I/O (port of runc's cgroups.ReadFile / WriteFile / WriteFileByLine and
 * fscommon's parsers). Files are opened without O_CREAT: a missing file means the controller
 * is not there, and creating a plain file in a test dir would hide that.
 */
import { outOfRange } from '../errors';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupError, errnoCode } from './errors';

/** 2^64-1: what runc reports for "max" (no limit). */
export const MAX_U64 = 2n ** 64n - 1n;

export function readFile(dir: string, file: string): string {
  const p = path.join(dir, file);
  try {
    return fs.readFileSync(p, 'utf8');
  } catch (err) {
    throw new CgroupError(p, `cannot read ${p}: ${(err as Error).message}`, { cause: err });
  }
}

/** The file's content, or undefined when it does not exist (ENOENT, or ENODEV on old kernels). */
export function readFileIfExists(dir: string, file: string): string | undefined {
  try {
    return readFile(dir, file);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    throw err;
  }
}

export function fileExists(dir: string, file: string): boolean {
  return fs.existsSync(path.join(dir, file));
}

/**
 * One write(2) of data; the kernel parses each write as one value. O_TRUNC is a no-op on
 * cgroupfs (old runc wrote with it too) and makes a plain test file show the last value.
 */
export function writeFile(dir: string, file: string, data: string): void {
  writeFileValues(dir, file, [data]);
}

/**
 * Several values to one file over one open: still one write(2) per value, so the kernel
 * parses each on its own (the v1 device rules, a dozen writes to devices.allow per start).
 */
export function writeFileValues(dir: string, file: string, values: readonly string[]): void {
  if (values.length === 0) return;
  const p = path.join(dir, file);
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  } catch (err) {
    throw new CgroupError(p, `cannot open ${p}: ${(err as Error).message}`, { cause: err });
  }
  try {
    for (const data of values) {
      const buf = Buffer.from(data);
      for (;;) {
        try {
          fs.writeSync(fd, buf, 0, buf.length, null);
          break;
        } catch (err) {
          if (errnoCode(err) === 'EINTR') continue;
          throw new CgroupError(p, `cannot write ${JSON.stringify(data)} to ${p}: ${(err as Error).message}`, { cause: err });
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Multi-line values (unified keys such as io.max) are written one line per write (runc's WriteFileByLine). */
export function writeFileByLine(dir: string, file: string, data: string): void {
  const lines = data.split('\n').filter((l) => l !== '');
  if (lines.length <= 1) {
    writeFile(dir, file, data);
    return;
  }
  for (const line of lines) writeFile(dir, file, line);
}

/** Block the thread for ms (used only in bounded kernel retry loops that runc also runs synchronously). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** An unsigned value as a number when it is exact, else a bigint; "max" is MAX_U64. */
export function parseUint(text: string, where: string): number | bigint {
  const s = text.trim();
  if (s === 'max') return MAX_U64;
  if (!/^\d+$/.test(s)) {
    // Negative values (e.g. -1 in some v1 files) count as 0, as runc's GetCgroupParamUint.
    if (/^-\d+$/.test(s)) return 0;
    throw new CgroupError(where, `cannot parse ${JSON.stringify(s)} in ${where}`);
  }
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

/** Like parseUint, for counters that fit a number (saturated at MAX_SAFE_INTEGER). */
export function parseCount(text: string, where: string): number {
  return asCount(parseUint(text, where));
}

/** A parsed value as a counter: a bigint (beyond 2^53) saturates at MAX_SAFE_INTEGER; absent is 0. */
export function asCount(value: number | bigint | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'bigint' ? Number.MAX_SAFE_INTEGER : value;
}

export function readUint(dir: string, file: string): number | bigint {
  return parseUint(readFile(dir, file), path.join(dir, file));
}

export function readCount(dir: string, file: string): number {
  return parseCount(readFile(dir, file), path.join(dir, file));
}

/** Parse "key value" lines (cpu.stat, memory.events, ...) of counters (see parseCount). */
export function parseKeyValues(text: string, where: string): Record<string, number> {
  return parseLines(text, where, parseCount);
}

/**
 * Parse "key value" lines exactly (see parseUint): memory.stat, whose limits ("hierarchical_
 * memsw_limit 9223372036854771712") are beyond 2^53 and would come out as another number.
 */
export function parseExactKeyValues(text: string, where: string): Record<string, number | bigint> {
  return parseLines(text, where, parseUint);
}

function parseLines<T>(text: string, where: string, parse: (value: string, where: string) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 2 || fields[0] === '') continue;
    out[fields[0]] = parse(fields[1], where);
  }
  return out;
}

/** The key/value file, or {} when it does not exist. */
export function readKeyValues(dir: string, file: string): Record<string, number> {
  const text = readFileIfExists(dir, file);
  return text === undefined ? {} : parseKeyValues(text, path.join(dir, file));
}

/** readKeyValues, exact (parseExactKeyValues). */
export function readExactKeyValues(dir: string, file: string): Record<string, number | bigint> {
  const text = readFileIfExists(dir, file);
  return text === undefined ? {} : parseExactKeyValues(text, path.join(dir, file));
}

/** A decimal string of an integer config value (number or bigint). */
export function intString(value: number | bigint): string {
  if (typeof value === 'number' && !Number.isInteger(value)) throw outOfRange(`not an integer: ${value}`);
  return typeof value === 'bigint' ? value.toString() : value.toFixed(0);
}

/** Compare integer values of mixed number/bigint types exactly. */
export function toBig(value: number | bigint): bigint {
  return typeof value === 'bigint' ? value : BigInt(value);
}
