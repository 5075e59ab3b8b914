/**
 * Command-line flags as runc's (urfave/cli v1 over Go's flag package) takes them: `-name` and
 * `--name` alike, `--name=value` or `--name value`, booleans as `-d` or `-d=false` (never
 * taking the next argument), repeatable list flags (`-e A=1 -e B=2`), `--` ending the flags.
 * Most commands take flags anywhere among their arguments (urfave's argument reordering);
 * `exec` stops at its first positional, so that the program's own flags stay its own.
 */

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagSpec {
  /** The long name, without dashes (`bundle`). */
  name: string;
  /** Other names (`b`). */
  aliases?: readonly string[];
  type: FlagType;
  help: string;
}

/** A command line that cannot be taken: the message is what runc's flag package says. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type FlagValue = boolean | string | number | string[];

export class ParsedFlags {
  readonly #values: ReadonlyMap<string, FlagValue>;
  readonly positionals: readonly string[];

  constructor(values: ReadonlyMap<string, FlagValue>, positionals: readonly string[]) {
    this.#values = values;
    this.positionals = positionals;
  }

  /** Whether the flag was given at all (`--tty=false` counts). */
  isSet(name: string): boolean {
    return this.#values.has(name);
  }

  bool(name: string): boolean {
    return this.#values.get(name) === true;
  }

  /** The last value given, or undefined. */
  string(name: string): string | undefined {
    const v = this.#values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  int(name: string, fallback = 0): number {
    const v = this.#values.get(name);
    return typeof v === 'number' ? v : fallback;
  }

  list(name: string): string[] {
    const v = this.#values.get(name);
    return Array.isArray(v) ? [...v] : [];
  }
}

export interface ParseOptions {
  /** Flags may follow positionals (urfave's reordering); false: the first positional ends them. */
  interspersed: boolean;
}

function parseBool(raw: string, flag: string): boolean {
  // strconv.ParseBool's spellings.
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(raw)) return false;
  throw new UsageError(`invalid boolean value ${JSON.stringify(raw)} for -${flag}: parse error`);
}

function parseInt10(raw: string, flag: string): number {
  if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`invalid value ${JSON.stringify(raw)} for flag -${flag}: parse error`);
  }
  return Number(raw);
}

/** Parse argv against the flag specs; throws UsageError for an unknown flag or a missing or bad value. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], options: ParseOptions): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) {
    byName.set(spec.name, spec);
    for (const alias of spec.aliases ?? []) byName.set(alias, spec);
  }
  const values = new Map<string, FlagValue>();
  const positionals: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i++]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i));
      break;
    }
    if (arg.length < 2 || !arg.startsWith('-')) {
      positionals.push(arg);
      if (!options.interspersed) {
        positionals.push(...argv.slice(i));
        break;
      }
      continue;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) throw new UsageError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`);
    if (spec.type === 'bool') {
      values.set(spec.name, inline === undefined ? true : parseBool(inline, name));
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      raw = argv[i++]!;
    }
    if (spec.type === 'string') values.set(spec.name, raw);
    else if (spec.type === 'int') values.set(spec.name, parseInt10(raw, name));
    else values.set(spec.name, [...((values.get(spec.name) as string[] | undefined) ?? []), raw]);
  }
  return new ParsedFlags(values, positionals);
}

/** The flag list for `--help`: `--bundle value, -b value  path to ...`. */
export function describeFlags(specs: readonly FlagSpec[]): string {
  const names = specs.map((s) => {
    const value = s.type === 'bool' ? '' : ' value';
    return [s.name, ...(s.aliases ?? [])].map((n) => `${n.length === 1 ? '-' : '--'}${n}${value}`).join(', ');
  });
  const width = Math.max(0, ...names.map((n) => n.length));
  return specs.map((s, i) => `   ${names[i]!.padEnd(width)}  ${s.help}`).join('\n');
}
