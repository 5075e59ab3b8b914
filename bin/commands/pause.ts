/** `pause ID` and `resume ID`: the cgroup freezer. */
import { loadContainer } from '../../lib';
import { containerOptions, type Command } from '../command';

export const pause: Command = {
  name: 'pause',
  usage: '<container-id>',
  description: 'pause suspends all processes inside the container',
  flags: [],
  args: { exactly: 1 },
  async run(ctx, flags) {
    await (await loadContainer(flags.positionals[0]!, containerOptions(ctx))).pause();
    return 0;
  },
};

export const resume: Command = {
  name: 'resume',
  usage: '<container-id>',
  description: 'resumes all processes that have been previously paused',
  flags: [],
  args: { exactly: 1 },
  async run(ctx, flags) {
    await (await loadContainer(flags.positionals[0]!, containerOptions(ctx))).resume();
    return 0;
  },
};
