import { ContainerError } from '../errors';

/**
 * A cgroup file could not be read or written, or a controller refused a value. `path` is the
 * file (or directory) involved; `cause` keeps the underlying SystemError with its errno code.
 */
export class CgroupError extends ContainerError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_CGROUP', message, options);
    this.path = path;
  }
}

/** The errno name (`EBUSY`, ...) of a Node SystemError, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (err instanceof CgroupError) return errnoCode(err.cause);
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
