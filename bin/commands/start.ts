/** `start ID`: release a created container's init (runc start; the library's exec()). */
import { loadContainer } from '../../lib';
import { containerOptions, type Command } from '../command';

export const start: Command = {
  name: 'start',
  usage: '<container-id>',
  description: 'executes the user defined process in a created container',
  flags: [],
  args: { exactly: 1 },
  async run(ctx, flags) {
    const container = await loadContainer(flags.positionals[0]!, containerOptions(ctx));
    // runc's messages for the statuses start refuses.
    const status = await container.status();
    if (status === 'stopped') throw new Error('cannot start a container that has stopped');
    if (status === 'running') throw new Error('cannot start an already running container');
    if (status === 'paused') throw new Error('cannot start a paused container');
    await container.exec();
    return 0;
  },
};
