/**
 * The OCI runtime command line, runc's (1.1) in its commands, flags, output and exit
 * statuses, so that container engines can use it in runc's place. Each command is a thin
 * layer over the library (createContainer, loadContainer, listContainers, the Container verbs).
 *
 * Errors go to the log (--log, default stderr) in its format, and to stderr as well when the
 * log is a file, as runc's fatal does; the exit status is 1 (exec: 255), or the container
 * process's own for run and exec in the foreground.
 */
import * as path from 'node:path';
import { ParsedFlags, UsageError, describeFlags, parseFlags, type FlagSpec } from './args';
import type { Command, CommandContext } from './command';
import { COMMANDS } from './commands';
import { Logger, parseLogFormat } from './log';
import { COMMIT, VERSION } from './version';
import { OCI_VERSION } from '../lib';

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'debug', type: 'bool', help: 'enable debug logging' },
  { name: 'log', type: 'string', help: "set the log file to write runtime logs to (default is '/dev/stderr')" },
  { name: 'log-format', type: 'string', help: "set the log format ('text' (default), or 'json') (default: \"text\")" },
  { name: 'root', type: 'string', help: 'root directory for storage of container state (this should be located in tmpfs) (default: "/run/node-libcontainer")' },
  { name: 'criu', type: 'string', help: 'path to the criu binary used for checkpoint and restore (checkpoint is not supported)' },
  { name: 'systemd-cgroup', type: 'bool', help: 'enable systemd cgroup support (not supported: refused)' },
  { name: 'rootless', type: 'string', help: "ignore cgroup permission errors ('true', 'false', or 'auto') (only 'false' and 'auto')" },
  { name: 'help', aliases: ['h'], type: 'bool', help: 'show help' },
  { name: 'version', aliases: ['v'], type: 'bool', help: 'print the version' },
];

function programHelp(prog: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'NAME:',
    `   ${prog} - Open Container Initiative runtime (node-libcontainer)`,
    '',
    'USAGE:',
    `   ${prog} [global options] command [command options] [arguments...]`,
    '',
    'VERSION:',
    `   ${VERSION}`,
    '',
    'COMMANDS:',
    ...COMMANDS.map((c) => `   ${c.name.padEnd(width)}  ${c.description}`),
    '',
    'GLOBAL OPTIONS:',
    describeFlags(GLOBAL_FLAGS),
    '',
  ].join('\n');
}

function commandHelp(prog: string, c: Command): string {
  const lines = ['NAME:', `   ${prog} ${c.name} - ${c.description}`, '', 'USAGE:', `   ${prog} ${c.name}${c.flags.length ? ' [command options]' : ''} ${c.usage}`.trimEnd(), ''];
  if (c.flags.length) lines.push('OPTIONS:', describeFlags(c.flags), '');
  return lines.join('\n');
}

/** runc's "requires exactly/a minimum of/a maximum of N argument(s)". */
export function checkArgCount(prog: string, c: Command, n: number): void {
  const spec = c.args;
  if ('exactly' in spec) {
    if (n !== spec.exactly) throw new UsageError(`${prog}: ${JSON.stringify(c.name)} requires exactly ${spec.exactly} argument(s)`);
    return;
  }
  if (n < spec.min) throw new UsageError(`${prog}: ${JSON.stringify(c.name)} requires a minimum of ${spec.min} argument(s)`);
  if (spec.max !== undefined && n > spec.max) throw new UsageError(`${prog}: ${JSON.stringify(c.name)} requires a maximum of ${spec.max} argument(s)`);
}

/** How a command's failure is worded and what it exits with. */
function failure(prog: string, c: Command, err: unknown): { message: string; exitCode: number } {
  const message = err instanceof Error ? err.message : String(err);
  return { message: `${c.errorPrefix?.(prog) ?? ''}${message}`, exitCode: c.errorExitCode ?? 1 };
}

function report(logger: Logger | null, message: string): void {
  if (logger) logger.error(message);
  if (!logger || !logger.toStderr) process.stderr.write(`${message}\n`);
}

/** Run the command line (argv without node and the script); resolves with the exit status. */
export async function main(argv: readonly string[], prog = 'node-libcontainer'): Promise<number> {
  let logger: Logger | null = null;
  let globals: ParsedFlags;
  try {
    globals = parseFlags(argv, GLOBAL_FLAGS, { interspersed: false });
    logger = new Logger({ file: globals.string('log'), format: parseLogFormat(globals.string('log-format')), debug: globals.bool('debug') });
  } catch (err) {
    report(logger, (err as Error).message);
    return 1;
  }
  if (globals.bool('version')) {
    // runc's lines, with what stands for its go and libseccomp ones here (the runtime).
    process.stdout.write(`${prog} version ${VERSION}\ncommit: ${COMMIT}\nspec: ${OCI_VERSION}\nnode: ${process.version}\n`);
    return 0;
  }
  const [name, ...rest] = globals.positionals;
  if (name === undefined || globals.bool('help') || name === 'help' || name === 'h') {
    const c = name === 'help' || name === 'h' ? COMMANDS.find((x) => x.name === rest[0]) : undefined;
    process.stdout.write(c ? commandHelp(prog, c) : programHelp(prog));
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    report(logger, `No help topic for '${name}'`);
    return 3;
  }
  try {
    if (globals.bool('systemd-cgroup')) {
      throw new UsageError('--systemd-cgroup: the systemd cgroup driver is not supported; use the cgroupfs driver (give linux.cgroupsPath as a path)');
    }
    const rootless = globals.string('rootless');
    if (rootless !== undefined && rootless !== 'false' && rootless !== 'auto') throw new UsageError(`--rootless ${rootless}: rootless containers are not supported`);
    const flags = parseFlags(rest, [...command.flags, { name: 'help', aliases: ['h'], type: 'bool', help: 'show help' }], { interspersed: command.interspersed ?? true });
    if (flags.bool('help')) {
      process.stdout.write(commandHelp(prog, command));
      return 0;
    }
    checkArgCount(prog, command, flags.positionals.length);
    const root = globals.string('root');
    const ctx: CommandContext = { root: root === undefined ? undefined : path.resolve(root), logger, prog };
    process.on('warning', (w) => logger!.warn(w.message));
    return await command.run(ctx, flags);
  } catch (err) {
    const { message, exitCode } = failure(prog, command, err);
    report(logger, message);
    logger.debug(err instanceof Error && err.stack ? err.stack : String(err));
    return exitCode;
  }
}
