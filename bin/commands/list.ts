/** `list`: the containers under the root, as runc's table, JSON (`null` when none, as runc) or ids (-q). */
import { listContainers } from '../../lib';
import { UsageError } from '../args';
import { containerOptions, type Command } from '../command';
import { formatTable } from '../table';
import { runcState } from './state-json';

export const list: Command = {
  name: 'list',
  usage: '',
  description: 'lists containers started with the given root',
  flags: [
    { name: 'format', aliases: ['f'], type: 'string', help: 'select one of: table or json (default: "table")' },
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'display only container IDs' },
  ],
  args: { exactly: 0 },
  async run(ctx, flags) {
    const format = flags.string('format') ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`invalid format option: ${format}`);
    const states = (await listContainers(containerOptions(ctx))).map((s) => runcState(s, s.owner));
    if (flags.bool('quiet')) {
      for (const s of states) process.stdout.write(`${s.id}\n`);
      return 0;
    }
    if (format === 'json') {
      process.stdout.write(`${states.length === 0 ? 'null' : JSON.stringify(states)}\n`);
      return 0;
    }
    const rows = states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
    process.stdout.write(formatTable([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows]));
    return 0;
  },
};
