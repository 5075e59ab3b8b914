/**
 * A container process's terminal: the master end of the pty its helper made inside the
 * container (procConsole), as one Duplex. Read straight off the fd when it polls readable (a
 * pty master is not something libuv's pipes or sockets take); written through fs.write. When
 * every process on the terminal has gone, reads fail with EIO: that is the stream's end.
 */
import { outOfRange } from '../errors';
import * as fs from 'node:fs';
import { Duplex } from 'node:stream';
import type { NativeBinding, WatchHandle } from '../native/types';

export interface TerminalSize {
  cols: number;
  rows: number;
}

export class TerminalStream extends Duplex {
  #fd: number;
  #binding: NativeBinding;
  #watch: WatchHandle | null = null;
  #buf = Buffer.allocUnsafe(16 * 1024);
  /** fs.writes in flight: the fd is closed only after them (else a write could hit a reused number). */
  #writing = 0;
  #closeWhenIdle = false;

  /** Takes ownership of fd (the pty master). */
  constructor(binding: NativeBinding, fd: number) {
    super({ allowHalfOpen: true });
    this.#binding = binding;
    this.#fd = fd;
  }

  /** The master's fd (owned by the stream: closed when it is destroyed). */
  get fd(): number {
    return this.#fd;
  }

  /** The terminal's size in characters (TIOCSWINSZ; the process gets SIGWINCH). */
  resize(size: TerminalSize): void {
    for (const key of ['cols', 'rows'] as const) {
      const v = size?.[key];
      if (!Number.isInteger(v) || v < 1 || v > 65535) throw outOfRange(`terminal size ${key} must be an integer from 1 to 65535, got ${JSON.stringify(v)}`);
    }
    if (this.#fd < 0) throw new Error('the terminal is closed');
    if (!this.#binding.setWinsize) throw new Error('this native binding cannot resize terminals');
    this.#binding.setWinsize(this.#fd, size.rows, size.cols);
  }

  override _read(): void {
    if (this.#watch || this.#fd < 0) return;
    this.#watch = this.#binding.watchReadable(this.#fd, () => this.#drain());
  }

  #drain(): void {
    let n: number;
    try {
      n = fs.readSync(this.#fd, this.#buf, 0, this.#buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EINTR') return;
      // EIO: the last process on the terminal is gone. Anything else ends it too.
      n = 0;
    }
    if (n === 0) {
      this.#stopWatching();
      this.push(null);
      // Nothing can be written to a terminal without processes either: both sides end, and
      // the stream closes the master once its last data has been read.
      this.end();
      return;
    }
    if (!this.push(Buffer.from(this.#buf.subarray(0, n)))) this.#stopWatching();
  }

  #stopWatching(): void {
    this.#watch?.cancel();
    this.#watch = null;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#fd < 0 || this.#closeWhenIdle) return callback(new Error('the terminal is closed'));
    const writeRest = (offset: number): void => {
      this.#writing++;
      fs.write(this.#fd, chunk, offset, chunk.length - offset, null, (err, written) => {
        this.#writing--;
        if (this.#closeWhenIdle) {
          this.#closeFd();
          return callback(err ?? new Error('the terminal is closed'));
        }
        if (err) return callback(err);
        if (offset + written < chunk.length) writeRest(offset + written);
        else callback();
      });
    };
    writeRest(0);
  }

  #closeFd(): void {
    if (this.#fd < 0 || this.#writing > 0) return;
    try {
      this.#binding.close(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = -1;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopWatching();
    if (this.#writing > 0) this.#closeWhenIdle = true;
    else this.#closeFd();
    callback(error);
  }
}
