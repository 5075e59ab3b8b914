import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DirSetup, DirSetupResult, MkdirResult, NativeBinding, SealedExecutable } from './types';

export type { NativeBinding } from './types';

const root = path.resolve(__dirname, '..', '..', '..');
const buildDirs = ['build/Release', 'build-cmake/Release', 'build-cmake', 'build/Debug'];

function findArtifact(name: string): string {
  for (const dir of buildDirs) {
    const candidate = path.join(root, dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(
    `node-libcontainer: native artifact ${name} not found under ${root} (looked in ${buildDirs.join(', ')}); build it with \`npm rebuild node-libcontainer\` (in a checkout of node-libcontainer itself: \`npm run build:native\`); it needs g++, make and python3`,
  );
}

let cached: NativeBinding | undefined;

/** The real addon, loaded on first use (never at module load, so unit tests can inject a fake). */
export function loadBinding(): NativeBinding {
  if (!cached) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require(findArtifact('nlc_addon.node')) as NativeBinding;
  }
  return cached;
}

/**
 * Path of the init helper executable built next to the addon: its musl build where there is
 * one (scripts/build-init-musl.js: a quarter of a millisecond less per container in a VM,
 * where glibc's start-up traps), else the glibc build.
 */
export function initHelperPath(): string {
  const dir = path.dirname(findArtifact('nlc-init'));
  const musl = path.join(dir, 'nlc-init-musl');
  return fs.existsSync(musl) ? musl : path.join(dir, 'nlc-init');
}

let sealed: SealedExecutable | undefined;

/** The read-only copy of the init helper, made once per Node process (CVE-2019-5736). */
export function sealedInitHelper(binding: NativeBinding): number {
  if (sealed === undefined) sealed = binding.sealExecutable(initHelperPath());
  return sealed.fd;
}

/**
 * The exec of the helper failed: if it was refused (EACCES, ETXTBSY) and the copy is a memfd,
 * a container may have made that copy unusable (chmod 0, or an fd open for writing), having got
 * hold of it through /proc/PID/exe while the helper ran as its program. The next start makes a
 * new copy, so one container cannot stop every later start of this process. The old fd is
 * left open: a spawn under way may still be using its number. A tmpfs copy cannot be changed.
 */
export function initHelperExecFailed(err: unknown): void {
  const e = err as NodeJS.ErrnoException | null;
  if (sealed?.kind === 'memfd' && e?.syscall === 'execveat' && (e.code === 'EACCES' || e.code === 'ETXTBSY')) sealed = undefined;
}

/** Removal as one threadpool job (binding.removeAsync): the errno name per path, files first, null where removed. */
export type RemoveEach = (files: string[], dirs: string[]) => Promise<(string | null)[]>;

/** binding.removeAsync as a promise; undefined for a binding without it (a fake in unit tests). */
export function removeEachOf(binding: NativeBinding | undefined): RemoveEach | undefined {
  const remove = binding?.removeAsync;
  if (!remove) return undefined;
  return (files, dirs) =>
    new Promise((resolve, reject) => {
      remove.call(binding, files, dirs, (err, codes) => (err ? reject(err) : resolve(codes!)));
    });
}

/**
 * mkdir -p of each directory as one threadpool job (binding.mkdirAsync): per directory, the
 * errno name or null, the directories made (top first), and what its setup did (where given).
 */
export type MakeDirs = (dirs: string[], setups?: (DirSetup | null)[]) => Promise<{ code: string | null; created: string[]; setup?: DirSetupResult }[]>;

/** binding.mkdirAsync (mode 0755) as a promise; undefined for a binding without it (a fake in unit tests). */
export function makeDirsOf(binding: NativeBinding | undefined): MakeDirs | undefined {
  const make = binding?.mkdirAsync;
  if (!make) return undefined;
  return (dirs, setups) =>
    new Promise((resolve, reject) => {
      // One object shape whether or not a setup was given (V8 deoptimises its readers otherwise).
      const done = (err: Error | null, results?: MkdirResult[]) => (err ? reject(err) : resolve(results!.map(([code, created, setup]) => ({ code, created, setup }))));
      make.call(binding, dirs, 0o755, done, setups);
    });
}
