/** The codes of ContainerError and its subclasses (a switch over them can be checked exhaustive). */
export type ContainerErrorCode =
  | 'ERR_CONFIG'
  | 'ERR_CONTAINER_EXISTS'
  | 'ERR_CONTAINER_NOT_FOUND'
  | 'ERR_CONTAINER_STATE'
  | 'ERR_INIT'
  | 'ERR_HOOK'
  | 'ERR_PROTOCOL'
  | 'ERR_CGROUP'
  | 'ERR_OOM'
  | 'ERR_NOT_PRIVILEGED'
  | 'ERR_SANDBOX_BUSY'
  | 'ERR_STATE_ROOT'
  | 'ERR_STATE_WRITE'
  | 'ERR_STATE_CORRUPT';

/** One error hierarchy owned by JS; every error has a `code` programs can switch on. */
export class ContainerError extends Error {
  readonly code: ContainerErrorCode;
  /** A clean-up that failed after this error (see withCleanupError): kept here, never thrown instead. */
  cleanupError?: unknown;
  constructor(code: ContainerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The clean-up after a failure failed too (removing a half-made state directory from a
 * filesystem that went read-only): the first error is the one to throw, the clean-up's is
 * kept on it as `cleanupError` and said at the end of its message. Returns err.
 */
export function withCleanupError<E>(err: E, cleanupErr: unknown): E {
  if (err instanceof Error) {
    const e = err as Error & { cleanupError?: unknown };
    if (e.cleanupError === undefined) e.cleanupError = cleanupErr;
    const code = (cleanupErr as NodeJS.ErrnoException | null)?.code;
    e.message += ` (the clean-up failed too: ${code ?? (cleanupErr as Error | null)?.message ?? String(cleanupErr)})`;
  }
  return err;
}

/**
 * Bad arguments to a function (an option of the wrong type, an unknown option, a number out of
 * range) are thrown as Node's own APIs throw them: a TypeError or RangeError carrying Node's
 * code, so that `err.code` can be switched on for every error this library throws.
 */
export type ArgumentErrorCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE' | 'ERR_UNKNOWN_SIGNAL';

/** An argument of the wrong type (`ERR_INVALID_ARG_TYPE`). */
export function invalidArgType(message: string): TypeError & { code: 'ERR_INVALID_ARG_TYPE' } {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' as const });
}

/** An argument of the right type whose value is refused, an unknown option among them (`ERR_INVALID_ARG_VALUE`). */
export function invalidArgValue(message: string): TypeError & { code: 'ERR_INVALID_ARG_VALUE' } {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' as const });
}

/** A number outside what is allowed (`ERR_OUT_OF_RANGE`). */
export function outOfRange(message: string): RangeError & { code: 'ERR_OUT_OF_RANGE' } {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' as const });
}

/** A signal name or number that is not a signal (`ERR_UNKNOWN_SIGNAL`, the code Node's process.kill uses). */
export function unknownSignal(message: string): RangeError & { code: 'ERR_UNKNOWN_SIGNAL' } {
  return Object.assign(new RangeError(message), { code: 'ERR_UNKNOWN_SIGNAL' as const });
}

/** Bad input: an invalid config, id or option. `field` names the offending field (e.g. `mounts[2].options`). */
export class ConfigError extends ContainerError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', `${field}: ${message}`, options);
    this.field = field;
  }
}

export class ContainerExistsError extends ContainerError {
  constructor(id: string) {
    super('ERR_CONTAINER_EXISTS', `container with id ${JSON.stringify(id)} already exists`);
  }
}

export class ContainerNotFoundError extends ContainerError {
  constructor(id: string) {
    super('ERR_CONTAINER_NOT_FOUND', `container ${JSON.stringify(id)} does not exist`);
  }
}

/** The verb is not allowed in the container's current status. */
export class ContainerStateError extends ContainerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONTAINER_STATE', message, options);
  }
}

export interface InitFailure {
  stage: string;
  syscall: string;
  errno: number;
  path: string;
  message: string;
}

/** A failure inside the init helper, carried up over the sync socket. */
export class InitError extends ContainerError {
  readonly stage: string;
  readonly syscall: string;
  readonly errno: number;
  readonly path: string;
  constructor(failure: InitFailure, options?: { cause?: unknown }) {
    const where = failure.path ? ` ${failure.path}` : '';
    const sys = failure.syscall ? ` (${failure.syscall}${failure.errno ? `: ${errnoName(failure.errno)}` : ''})` : '';
    super('ERR_INIT', `container init failed at ${failure.stage}:${where}${where ? ':' : ''} ${failure.message}${sys}`, options);
    this.stage = failure.stage;
    this.syscall = failure.syscall;
    this.errno = failure.errno;
    this.path = failure.path;
  }
}

/** A hook failed or timed out. */
export class HookError extends ContainerError {
  readonly hook: string;
  constructor(hook: string, message: string, options?: { cause?: unknown }) {
    super('ERR_HOOK', `${hook} hook ${message}`, options);
    this.hook = hook;
  }
}

/** The parent/init handshake went wrong (unexpected message, early EOF). */
export class ProtocolError extends ContainerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PROTOCOL', message, options);
  }
}

import { constants } from 'node:os';

const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, num]) => [num as number, name]),
);

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}
