/** A bundle's config.json, read as runc's loadSpec does. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../types/oci';

export const SPEC_FILE = 'config.json';

/** The bundle directory (--bundle, default the working directory), absolute. */
export function bundleDir(flag: string | undefined): string {
  return path.resolve(flag === undefined || flag === '' ? '.' : flag);
}

/** The parsed config.json of the bundle; the library validates it (a ConfigError names the field). */
export function loadSpec(bundle: string): Spec {
  const file = path.join(bundle, SPEC_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`JSON specification file ${SPEC_FILE} not found in ${bundle}`);
    throw new Error(`cannot read ${file}: ${e.message}`);
  }
  try {
    return JSON.parse(text) as Spec;
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
}
