/** `state ID`: the container's state as JSON (runc's containerState, indented, no newline at the end). */
import { loadContainer } from '../../lib';
import { containerOptions, type Command } from '../command';
import { runcState } from './state-json';

export const state: Command = {
  name: 'state',
  usage: '<container-id>',
  description: 'output the state of a container',
  flags: [],
  args: { exactly: 1 },
  async run(ctx, flags) {
    const container = await loadContainer(flags.positionals[0]!, containerOptions(ctx));
    process.stdout.write(JSON.stringify(runcState(await container.state()), null, 2));
    return 0;
  },
};
