import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerError, ContainerExistsError, ContainerNotFoundError, withCleanupError } from '../errors';
import { validateId } from './id';
import { readProcStat } from './proc';
import { parseJson, stringifyJson } from './json';
import type { RemoveEach } from '../native/binding';

export const STATE_FILE = 'state.json';
let tmpCounter = 0;
/** The init's identity, written once when it is ready (see StateDir.writeInit). */
export const INIT_FILE = 'init.json';
export const EXEC_FIFO = 'exec.fifo';
/** A start's init, noted as soon as it is cloned (see StateDir.writeStarting). */
export const STARTING_FILE = 'starting.json';

/**
 * What `state.json` holds: enough for another process to load the container. The status is
 * not stored; it is derived from the live facts each time (see `deriveStatus`).
 */
export interface SavedState<Config extends object = object> {
  id: string;
  ociVersion: string;
  bundle: string;
  rootfs: string;
  /** ISO 8601. */
  created: string;
  initPid: number;
  /** Field 22 of /proc/PID/stat at start, so a reused pid is never taken for our init. */
  initStartTime: string;
  /** The OCI runtime config the container was created with. */
  config: Config;
  /** Namespace type (OCI name) -> /proc/PID/ns/... path. */
  namespacePaths: Record<string, string>;
  annotations: Record<string, string>;
  /** Controller (or '' on cgroup v2) -> cgroup directory; may be empty. */
  cgroupPaths: Record<string, string>;
}

/** What StateDir.writeInit records: the SavedState fields that change when the init starts. */
export type InitRecord = Pick<SavedState, 'initPid' | 'initStartTime' | 'created'>;

function isValidId(name: string): boolean {
  try {
    validateId(name);
    return true;
  } catch {
    return false;
  }
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function corrupt(file: string, why: string, cause?: unknown): ContainerError {
  return new ContainerError('ERR_STATE_CORRUPT', `${file}: ${why}`, cause === undefined ? undefined : { cause });
}

/**
 * A failure of the state storage (a file in the way, a read-only or full filesystem), typed
 * with the errno as cause: ERR_STATE_ROOT when no container can be made under the root,
 * ERR_STATE_WRITE when a container's own files cannot be saved or removed.
 */
function storageError(code: 'ERR_STATE_ROOT' | 'ERR_STATE_WRITE', what: string, cause: unknown): ContainerError {
  return new ContainerError(code, `${what}: ${errnoCode(cause) ?? (cause as Error).message}`, { cause });
}

const unusableRoot = (root: string, cause: unknown): ContainerError =>
  storageError('ERR_STATE_ROOT', `cannot make a container's state directory under the state root ${root}`, cause);
const unsaved = (file: string, cause: unknown): ContainerError => storageError('ERR_STATE_WRITE', `cannot save ${file}`, cause);
const unremovable = (dir: string, cause: unknown): ContainerError => storageError('ERR_STATE_WRITE', `cannot remove the state directory ${dir}`, cause);

/** rm -rf after a failure: a failing one is kept on err, never thrown in its place. */
function removeAfter(err: unknown, file: string): void {
  try {
    fs.rmSync(file, { recursive: true, force: true });
  } catch (cleanupErr) {
    withCleanupError(err, cleanupErr);
  }
}

function checkShape(value: unknown, file: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(file, 'not a JSON object');
  const v = value as Record<string, unknown>;
  const expect = (key: string, ok: boolean): void => {
    if (!ok) throw corrupt(file, `field ${JSON.stringify(key)} is missing or has the wrong type`);
  };
  expect('id', typeof v.id === 'string');
  expect('initPid', typeof v.initPid === 'number');
  expect('initStartTime', typeof v.initStartTime === 'string');
  expect('config', typeof v.config === 'object' && v.config !== null);
}

/**
 * One container's directory under the state root: `ROOT/ID/{state.json,init.json,exec.fifo}`.
 * Synchronous on purpose, like runc: a few small files (on tmpfs where /run is one), where a threadpool
 * round trip would cost more than the syscalls, and callers need no await between a check
 * and the write that follows it.
 */
export class StateDir {
  readonly id: string;
  readonly path: string;

  private constructor(root: string, id: string) {
    this.id = id;
    this.path = path.join(root, id);
  }

  /**
   * Make the container's directory with its state.json, whole: it is built under a name no id
   * can have (`ID@new-PID-N`) and renamed into place, so another process sees no container or
   * a complete one, never a directory without state (which it could neither load nor
   * destroy, and which would hold the id). rename(2) is atomic and refuses a directory that is
   * not empty: two concurrent creates of one id cannot both succeed. A directory left without
   * state.json (a create or destroy that was killed half-way) is no container: replaced.
   */
  static create(root: string, id: string, state: SavedState<object>): StateDir {
    validateId(id);
    const dir = new StateDir(root, id);
    const text = stringifyJson(state);
    const tmp = path.join(root, tempDirName(id));
    for (let attempt = 0; ; attempt++) {
      try {
        // 0711 as in runc: others may traverse to the fifo, never list.
        fs.mkdirSync(tmp, { mode: 0o711 });
        break;
      } catch (err) {
        // The root is made on first use (not on every create: it is there almost always).
        if (errnoCode(err) !== 'ENOENT' || attempt > 0) throw unusableRoot(root, err);
        try {
          fs.mkdirSync(root, { recursive: true, mode: 0o700 });
        } catch (mkdirErr) {
          throw unusableRoot(root, mkdirErr);
        }
      }
    }
    // false: a directory that is not empty holds the name.
    const placed = (): boolean => {
      try {
        fs.renameSync(tmp, dir.path);
        return true;
      } catch (err) {
        if (errnoCode(err) === 'ENOTEMPTY' || errnoCode(err) === 'EEXIST') return false;
        throw err;
      }
    };
    try {
      fs.writeFileSync(path.join(tmp, STATE_FILE), text, { mode: 0o600, flag: 'wx' });
      if (!placed()) {
        if (fs.existsSync(dir.stateFile)) throw new ContainerExistsError(id);
        fs.rmSync(dir.path, { recursive: true, force: true });
        if (!placed()) throw new ContainerExistsError(id);
      }
    } catch (err) {
      // A full or read-only filesystem under the new directory is the root's too.
      const typed = err instanceof ContainerError ? err : unusableRoot(root, err);
      removeAfter(typed, tmp);
      throw typed;
    }
    return dir;
  }

  /**
   * Take the container's lock (flock on its directory), which a start holds until its init is
   * recorded or its failure cleaned up, and a destroy while it removes: neither acts on what
   * the other is changing, in this process or another, and a process killed holding it lets
   * go. Returns the fd that holds it (close it to let go), null where the binding cannot lock
   * (a fake), 'busy' when another holds it. ContainerNotFoundError when the container is gone.
   */
  tryLock(binding: { tryLock?(fd: number): boolean }): number | null | 'busy' {
    if (!binding.tryLock) return null;
    let fd: number;
    try {
      fd = fs.openSync(this.path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new ContainerNotFoundError(this.id);
      throw err;
    }
    let held = false;
    try {
      held = binding.tryLock(fd);
    } finally {
      if (!held) fs.closeSync(fd);
    }
    return held ? fd : 'busy';
  }

  static open(root: string, id: string): StateDir {
    validateId(id);
    const dir = new StateDir(root, id);
    let isDir: boolean;
    try {
      isDir = fs.statSync(dir.path).isDirectory();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') throw new ContainerNotFoundError(id);
      throw err;
    }
    if (!isDir) throw new ContainerNotFoundError(id);
    return dir;
  }

  /**
   * Ids of the containers under root that have saved a state; [] when root does not exist.
   * The directory a create was building when its process died is removed on the way.
   */
  static list(root: string): string[] {
    let entries;
    try {
      entries = fs.readdirSync(root, { withFileTypes: true });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    const ids: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      // A directory a create was building when its process died: nobody will rename it.
      const building = TEMP_NAME.exec(entry.name);
      if (building && readProcStat(Number(building[1])) === null) {
        fs.rmSync(path.join(root, entry.name), { recursive: true, force: true });
        continue;
      }
      // Skip what is not a container, or one still being created.
      if (isValidId(entry.name) && fs.existsSync(path.join(root, entry.name, STATE_FILE))) ids.push(entry.name);
    }
    return ids.sort();
  }

  get stateFile(): string {
    return path.join(this.path, STATE_FILE);
  }

  /** Where a start notes its init as soon as it is cloned (see writeStarting). */
  get startingFile(): string {
    return path.join(this.path, STARTING_FILE);
  }

  get execFifo(): string {
    return path.join(this.path, EXEC_FIFO);
  }

  /**
   * Port of runc's saveState: write a temp file and rename it over state.json, so a reader
   * sees the old state or the new one, never half of one.
   */
  write(state: SavedState<object>): void {
    this.#writeFile(STATE_FILE, stringifyJson(state));
  }

  /**
   * Record the started init (pid, start time, creation time) in its own file, written once
   * per container under a name that does not exist yet. Renaming over an existing file makes
   * ext4 (auto_da_alloc) start writeback of the new one at once, which the unlink in destroy()
   * then waits for: about 0.5 ms per container where /run is not a tmpfs. A rename to a new
   * name is as atomic for readers, who merge this file over state.json.
   */
  writeInit(init: InitRecord): void {
    this.#writeFile(INIT_FILE, stringifyJson(init));
  }

  /**
   * Note the init a start has just cloned, before it is the container's init (init.json, once
   * the start has finished): if the starting process dies half-way, a destroy finds it here.
   * One small write(2) of a new file, no rename: a reader that finds it torn takes it as absent.
   */
  writeStarting(init: Pick<InitRecord, 'initPid' | 'initStartTime'>): void {
    const file = path.join(this.path, STARTING_FILE);
    try {
      fs.writeFileSync(file, stringifyJson(init), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      throw unsaved(file, err);
    }
  }

  /** What writeStarting noted, or null (none, or torn by a crash during the write). */
  readStarting(): Pick<InitRecord, 'initPid' | 'initStartTime'> | null {
    let value: unknown;
    try {
      value = this.#readJson(STARTING_FILE, false);
    } catch {
      return null;
    }
    if (typeof value !== 'object' || value === null) return null;
    const { initPid, initStartTime } = value as Record<string, unknown>;
    return typeof initPid === 'number' && initPid > 0 && typeof initStartTime === 'string' ? { initPid, initStartTime } : null;
  }

  /**
   * Whether an init was recorded, by any handle or process: what a start must check, for the
   * price of an access(2) instead of reading and parsing the whole state. Throws
   * ContainerNotFoundError when the container is gone.
   */
  initRecorded(): boolean {
    // existsSync: a missing file is the common answer, and a thrown ENOENT costs more than the syscall.
    if (fs.existsSync(path.join(this.path, INIT_FILE))) return true;
    if (!fs.existsSync(this.stateFile)) throw new ContainerNotFoundError(this.id);
    return false;
  }

  #writeFile(name: string, text: string): void {
    // Unique within this process by the counter, across processes by the pid; 'wx' refuses a clash.
    const tmp = path.join(this.path, `${name}.tmp-${process.pid}-${++tmpCounter}`);
    const file = path.join(this.path, name);
    try {
      fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
      fs.renameSync(tmp, file);
    } catch (err) {
      const typed = unsaved(file, err);
      removeAfter(typed, tmp);
      throw typed;
    }
  }

  read<Config extends object = object>(): SavedState<Config> {
    const value = this.#readJson(STATE_FILE, true);
    checkShape(value, this.stateFile);
    const init = this.readInit();
    return init ? { ...(value as SavedState<Config>), ...init } : (value as SavedState<Config>);
  }

  /** init.json alone (null before the init is recorded): the facts a status needs, without the config. */
  readInit(): InitRecord | null {
    const init = this.#readJson(INIT_FILE, false);
    if (init === null) return null;
    const file = path.join(this.path, INIT_FILE);
    if (typeof init !== 'object' || Array.isArray(init)) throw corrupt(file, 'not a JSON object');
    const { initPid, initStartTime, created } = init as Record<string, unknown>;
    if (typeof initPid !== 'number' || typeof initStartTime !== 'string' || typeof created !== 'string') {
      throw corrupt(file, 'initPid, initStartTime or created is missing or has the wrong type');
    }
    return { initPid, initStartTime, created };
  }

  #readJson(name: string, required: boolean): unknown {
    const file = path.join(this.path, name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      if (required) throw new ContainerNotFoundError(this.id);
      return null;
    }
    try {
      return parseJson(text);
    } catch (err) {
      throw corrupt(file, `invalid JSON: ${(err as Error).message}`, err);
    }
  }

  /** rm -rf of the container's directory; a missing one is fine (destroy is idempotent). */
  remove(): void {
    // The directory holds plain files only (state.json, the exec fifo): unlink them by name,
    // which costs a fraction of rmSync's recursive walk (an lstat and a failed rmdir per
    // entry). Anything else (a sub-directory, a race) falls back to the full walk.
    try {
      for (const name of fs.readdirSync(this.path)) fs.unlinkSync(path.join(this.path, name));
      fs.rmdirSync(this.path);
      return;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' && !fs.existsSync(this.path)) return;
    }
    try {
      fs.rmSync(this.path, { recursive: true, force: true });
    } catch (err) {
      throw unremovable(this.path, err);
    }
  }

  /**
   * remove() on the threadpool, the files at once: where the state root is not a tmpfs (ext4
   * here) each unlink and the rmdir take a journal handle, 0.1-0.4 ms under load.
   */
  async removeAsync(removeEach?: RemoveEach): Promise<void> {
    if (removeEach) {
      // The files a state directory holds, then the directory, as one threadpool job. A name
      // that is not there is fine; anything else there (a temp file left by a crash) makes the
      // rmdir fail, and the way below removes it.
      const codes = await removeEach([STATE_FILE, INIT_FILE, STARTING_FILE, EXEC_FIFO].map((name) => path.join(this.path, name)), [this.path]);
      const dir = codes[codes.length - 1];
      if (dir === null || dir === 'ENOENT') return;
    }
    try {
      const names = await fs.promises.readdir(this.path);
      await Promise.all(names.map((name) => fs.promises.unlink(path.join(this.path, name))));
      await fs.promises.rmdir(this.path);
      return;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' && !fs.existsSync(this.path)) return;
    }
    try {
      await fs.promises.rm(this.path, { recursive: true, force: true });
    } catch (err) {
      throw unremovable(this.path, err);
    }
  }

  /** False once the directory was removed (by this or another process). */
  exists(): boolean {
    return fs.existsSync(this.path);
  }
}

/**
 * The name create() builds a state directory under, ID@new-PID-N, and its pattern (list()
 * removes the ones whose process is gone). The id is cut short: with the suffix a 255-byte id
 * would not fit in a name.
 */
function tempDirName(id: string): string {
  return `${id.slice(0, 200)}@new-${process.pid}-${++tmpCounter}`;
}
const TEMP_NAME = /@new-(\d+)-\d+$/;
