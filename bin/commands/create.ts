/** `create ID`: the container is made and its init waits for `start` (status created); we exit, it stays. */
import type { Command } from '../command';
import { CREATE_FLAGS, startInit } from './start-init';

export const create: Command = {
  name: 'create',
  usage: '<container-id>',
  description: 'create a container',
  flags: CREATE_FLAGS,
  args: { exactly: 1 },
  errorPrefix: (prog) => `${prog} create failed: `,
  async run(ctx, flags) {
    const { init } = await startInit(ctx, flags, 'create', true);
    // The init outlives us (its exit is for whoever reaps it next): do not wait for it.
    init.unref();
    return 0;
  },
};
