import * as path from 'node:path';
import { ConfigError } from '../errors';

const ID_PATTERN = /^[A-Za-z0-9_.+-]+$/;
// The id names the state directory and the default cgroup: one path component (NAME_MAX).
const MAX_ID_LENGTH = 255;

/**
 * Port of runc's validateID: the id becomes a directory name under the state root, so it must
 * never be able to name anything outside it (`.`, `..`, `/`) nor be absurdly long.
 */
export function validateId(id: unknown): string {
  if (typeof id !== 'string') {
    throw new ConfigError('id', `must be a string, got ${id === null ? 'null' : typeof id}`);
  }
  if (id.length === 0) throw new ConfigError('id', 'must not be empty');
  if (id.length > MAX_ID_LENGTH) {
    throw new ConfigError('id', `must be at most ${MAX_ID_LENGTH} characters, got ${id.length}`);
  }
  if (id === '.' || id === '..') throw new ConfigError('id', `${JSON.stringify(id)} is not a valid id`);
  if (!ID_PATTERN.test(id)) {
    throw new ConfigError('id', `${JSON.stringify(id)} may contain only letters, digits and _ . + -`);
  }
  return id;
}

/**
 * `/run/node-libcontainer` for root; otherwise under `$XDG_RUNTIME_DIR`, since an unprivileged
 * user cannot write /run and a shared /tmp would let other users pre-create our directories.
 */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1): string {
  if (uid === 0) return '/run/node-libcontainer';
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (!runtimeDir) {
    throw new ConfigError('root', 'XDG_RUNTIME_DIR is not set: pass an explicit state root when not running as root');
  }
  return path.join(runtimeDir, 'node-libcontainer');
}
