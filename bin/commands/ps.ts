/** `ps ID [ps options]`: the container's processes, as ps(1) shows them (default `-ef`), or their host pids as JSON. */
import { execFileSync } from 'node:child_process';
import { loadContainer } from '../../lib';
import { UsageError } from '../args';
import { containerOptions, type Command } from '../command';

/** The lines of ps's output whose PID column is one of pids (runc's ps). */
export function filterPsOutput(output: string, pids: ReadonlySet<number>): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new Error("couldn't find PID field in ps output");
  const kept = lines.slice(1).filter((line) => {
    const field = line.trim().split(/\s+/)[pidIndex];
    return field !== undefined && pids.has(Number(field));
  });
  return [header, ...kept].join('\n') + '\n';
}

export const ps: Command = {
  name: 'ps',
  usage: '<container-id> [ps options]',
  description: 'ps displays the processes running inside a container',
  flags: [{ name: 'format', aliases: ['f'], type: 'string', help: 'select one of: table or json (default: "table")' }],
  args: { min: 1 },
  interspersed: false,
  async run(ctx, flags) {
    const [id, ...psArgs] = flags.positionals as [string, ...string[]];
    const format = flags.string('format') ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`invalid format option: ${format}`);
    const container = await loadContainer(id, containerOptions(ctx));
    const pids = await container.processes();
    if (format === 'json') {
      // As runc (Go's encoding of a nil slice): null when there is none; ps options are not used.
      process.stdout.write(`${pids.length === 0 ? 'null' : JSON.stringify(pids)}\n`);
      return 0;
    }
    const output = execFileSync('ps', psArgs.length > 0 ? psArgs : ['-ef'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(filterPsOutput(output, new Set(pids)));
    return 0;
  },
};
