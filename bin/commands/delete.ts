/**
 * `delete ID`: remove a stopped container (a created one is killed first, as runc); --force
 * kills a running or paused one; a missing one with --force is not an error.
 */
import { ContainerNotFoundError, loadContainer } from '../../lib';
import { containerOptions, type Command } from '../command';

export const del: Command = {
  name: 'delete',
  usage: '<container-id>',
  description: 'delete any resources held by the container often used with detached container',
  flags: [{ name: 'force', aliases: ['f'], type: 'bool', help: 'Forcibly deletes the container if it is still running (uses SIGKILL)' }],
  args: { exactly: 1 },
  async run(ctx, flags) {
    const id = flags.positionals[0]!;
    const force = flags.bool('force');
    let container;
    try {
      container = await loadContainer(id, containerOptions(ctx));
    } catch (err) {
      if (force && err instanceof ContainerNotFoundError) return 0;
      throw err;
    }
    if (!force) {
      const status = await container.status();
      if (status !== 'stopped' && status !== 'created') throw new Error(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    // destroy() kills what is left (SIGKILL, thawing a paused container) before removing it.
    await container.destroy();
    return 0;
  },
};
