/** `kill ID [SIGNAL]` (default SIGTERM), `--all` for every process of the container. */
import { loadContainer } from '../../lib';
import { parseSignal } from '../../lib/process/signals';
import { containerOptions, type Command } from '../command';

export const kill: Command = {
  name: 'kill',
  usage: '<container-id> [signal]',
  description: "kill sends the specified signal (default: SIGTERM) to the container's init process",
  flags: [{ name: 'all', aliases: ['a'], type: 'bool', help: 'send the specified signal to all processes inside the container' }],
  args: { min: 1, max: 2 },
  async run(ctx, flags) {
    const [id, sig = 'SIGTERM'] = flags.positionals as [string, string?];
    let num: number;
    try {
      num = parseSignal(sig, { zero: true });
    } catch {
      throw new Error(`unknown signal ${JSON.stringify(sig)}`);
    }
    const container = await loadContainer(id, containerOptions(ctx));
    const all = flags.bool('all');
    // runc's ErrNotRunning: engines match on its text ("container not running").
    if (!all && (await container.status()) === 'stopped') throw new Error('container not running');
    await container.signal(num, { all });
    return 0;
  },
};
