/** `spec`: runc's default config.json written into the bundle (never over an existing one). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../args';
import { SPEC_FILE, bundleDir } from '../bundle';
import type { Command } from '../command';
import { defaultSpec } from '../default-spec';

export const spec: Command = {
  name: 'spec',
  usage: '',
  description: 'create a new specification file',
  flags: [
    { name: 'bundle', aliases: ['b'], type: 'string', help: 'path to the root of the bundle directory' },
    { name: 'rootless', type: 'bool', help: 'generate a configuration for a rootless container (not supported: refused)' },
  ],
  args: { exactly: 0 },
  async run(_ctx, flags) {
    if (flags.bool('rootless')) throw new UsageError('--rootless: rootless containers are not supported');
    const bundle = bundleDir(flags.string('bundle'));
    const file = path.join(bundle, SPEC_FILE);
    // wx: refused if it exists, as runc ("File config.json exists. Remove it first").
    try {
      fs.writeFileSync(file, JSON.stringify(defaultSpec(), null, '\t'), { flag: 'wx', mode: 0o666 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`File ${SPEC_FILE} exists. Remove it first`);
      throw err;
    }
    return 0;
  },
};
