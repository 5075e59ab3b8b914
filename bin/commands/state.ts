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
    const s = await container.state();
    // While a create is under way the library says stopped (as libcontainer); the runtime
    // spec's state says creating (runc has no state file yet and says it does not exist).
    const status = s.status === 'stopped' && (await container.ociState()).status === 'creating' ? 'creating' : s.status;
    process.stdout.write(JSON.stringify({ ...runcState(s), status }, null, 2));
    return 0;
  },
};
