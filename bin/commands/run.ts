/**
 * `run ID`: create and start. In the foreground we forward signals, wait for the program and
 * remove the container (unless --keep), exiting with the program's status (128 + signal when
 * it was killed); with --detach we exit at once and it runs on.
 */
import type { FlagSpec } from '../args';
import type { Command } from '../command';
import { forwardSignals, waitInForeground } from '../stdio';
import { CREATE_FLAGS, startInit } from './start-init';

const RUN_FLAGS: readonly FlagSpec[] = [
  ...CREATE_FLAGS,
  { name: 'detach', aliases: ['d'], type: 'bool', help: "detach from the container's process" },
  { name: 'keep', type: 'bool', help: 'do not delete the container after it exits' },
  { name: 'no-subreaper', type: 'bool', help: 'disable the use of the subreaper used to reap reparented processes (accepted: the init is our child)' },
];

export const run: Command = {
  name: 'run',
  usage: '<container-id>',
  description: 'create and run a container',
  flags: RUN_FLAGS,
  args: { exactly: 1 },
  errorPrefix: (prog) => `${prog} run failed: `,
  async run(ctx, flags) {
    const detach = flags.bool('detach');
    const forwarder = detach ? null : forwardSignals();
    let started;
    try {
      started = await startInit(ctx, flags, 'run', detach);
    } catch (err) {
      forwarder?.stop();
      throw err;
    }
    const { container, init } = started;
    if (!forwarder) {
      init.unref();
      return 0;
    }
    const status = await waitInForeground(init, forwarder);
    if (!flags.bool('keep')) await container.destroy();
    return status;
  },
};
