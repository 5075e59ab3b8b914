/**
 * The runtime's log, as runc's (logrus): `--log FILE` (default stderr), `--log-format text`
 * (`time="..." level=error msg="..."`) or `json` (`{"level":"error","msg":"...","time":"..."}`,
 * one object a line: containerd's shim reads the last error from it). `--debug` adds the
 * library's debug lines (node-libcontainer:*) at level debug.
 */
import * as fs from 'node:fs';
import * as util from 'node:util';
import createDebug from 'debug';
import { UsageError } from './args';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export function parseLogFormat(value: string | undefined): LogFormat {
  if (value === undefined || value === 'text') return 'text';
  if (value === 'json') return 'json';
  throw new UsageError(`invalid log-format: ${value}`);
}

/** Go's RFC 3339 without fractional seconds, as logrus's default timestamps. */
function timestamp(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function formatLogLine(format: LogFormat, level: LogLevel, msg: string, now = new Date()): string {
  if (format === 'json') return `${JSON.stringify({ level, msg, time: timestamp(now) })}\n`;
  return `time="${timestamp(now)}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

export class Logger {
  readonly #fd: number;
  readonly #format: LogFormat;
  readonly #debug: boolean;
  /** Whether the log is stderr itself (then errors are not printed twice). */
  readonly toStderr: boolean;

  constructor(options: { file?: string; format: LogFormat; debug: boolean }) {
    this.#format = options.format;
    this.#debug = options.debug;
    const file = options.file;
    this.toStderr = file === undefined || file === '' || file === '/dev/stderr';
    // O_APPEND: the engine reads the file after each call of ours; keep what earlier ones wrote.
    this.#fd = this.toStderr ? 2 : fs.openSync(file!, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
    if (options.debug) this.#routeLibraryDebug();
  }

  log(level: LogLevel, msg: string): void {
    if (level === 'debug' && !this.#debug) return;
    try {
      fs.writeSync(this.#fd, formatLogLine(this.#format, level, msg));
    } catch {
      // A log that cannot be written must not turn into a second failure.
    }
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }

  warn(msg: string): void {
    this.log('warning', msg);
  }

  error(msg: string): void {
    this.log('error', msg);
  }

  /** The library's `debug` output goes into this log, at level debug. */
  #routeLibraryDebug(): void {
    createDebug.log = (...args: unknown[]) => this.debug(util.format(...args));
    createDebug.enable('node-libcontainer:*');
    // The debug module's own colours and time prefix are noise in a log with its own.
    createDebug.formatArgs = function formatArgs(this: createDebug.Debugger, args: unknown[]) {
      args[0] = `${this.namespace} ${String(args[0])}`;
    };
  }
}
