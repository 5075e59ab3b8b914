/** `update ID`: live resources from flags, or from `--resources FILE` (`-`: stdin; then the other flags are ignored, as runc). */
import * as fs from 'node:fs';
import { loadContainer } from '../../lib';
import { containerOptions, type Command } from '../command';
import { UPDATE_FLAGS, parseResourcesJson, resourcesFromFlags } from '../resources';

export const update: Command = {
  name: 'update',
  usage: '<container-id>',
  description: 'update container resource constraints',
  flags: UPDATE_FLAGS,
  args: { exactly: 1 },
  async run(ctx, flags) {
    const file = flags.string('resources');
    const resources = file
      ? parseResourcesJson(fs.readFileSync(file === '-' ? 0 : file, 'utf8'), file === '-' ? 'standard input' : file)
      : resourcesFromFlags(flags);
    const container = await loadContainer(flags.positionals[0]!, containerOptions(ctx));
    await container.set(resources);
    return 0;
  },
};
