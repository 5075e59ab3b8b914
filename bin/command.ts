/** What every command gets, and the shape of a command. */
import type { ContainerOptions } from '../lib';
import type { FlagSpec, ParsedFlags } from './args';
import type { Logger } from './log';

export interface CommandContext {
  /** The state root (--root), or undefined for the library's default. */
  root: string | undefined;
  logger: Logger;
  /** The program's name in messages. */
  prog: string;
}

export function containerOptions(ctx: CommandContext, extra: ContainerOptions = {}): ContainerOptions {
  return ctx.root === undefined ? { ...extra } : { root: ctx.root, ...extra };
}

export interface Command {
  name: string;
  /** After the command's name in USAGE (`<container-id>`). */
  usage: string;
  description: string;
  flags: readonly FlagSpec[];
  /** How many positionals: runc's "requires exactly/a minimum of N argument(s)". */
  args: { exactly: number } | { min: number; max?: number };
  /** false: flags end at the first positional (exec: the program's flags are its own). Default true. */
  interspersed?: boolean;
  /** How a failure is worded, as runc's create, run and exec wrap theirs ("runc run failed: ..."). */
  errorPrefix?: (prog: string) => string;
  /** The exit status of a failure (default 1; runc's exec fails with 255). */
  errorExitCode?: number;
  /** Resolves with the exit status. A thrown error is reported as runc reports it. */
  run(ctx: CommandContext, flags: ParsedFlags): Promise<number>;
}
