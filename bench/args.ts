/**
 * The one command-line reader of every bench command (`npm run bench:*`,
 * the io forwarder): node:util's parseArgs, with the same rules everywhere.
 *
 *  - Long flags only (`--rounds 3` or `--rounds=3`), plus `-h` for `--help`
 *    where the command has one.
 *  - A flag that takes a value needs one: a missing value, or a value that
 *    looks like a long flag (`--rounds --allow-busy`), is an error, unless
 *    the command lists the flag in `dashValues` (a Node option such as
 *    `--cpu-prof`); `--flag=--x` always works. A value with one dash
 *    (`--nice -5`) is a value, for the flag's own check to judge.
 *  - A flag without a value refuses `--flag=x`.
 *  - Anything unknown is an error; words that are not flags only where the
 *    command takes them (`positionals`).
 *
 * The flags come back in command-line order, so each command keeps its own
 * value checks and "last one wins" rules in a plain switch.
 */
import { parseArgs } from 'node:util';

/** A command's flags: long name without `--` → whether it takes a value. */
export type FlagSpec = Readonly<Record<string, 'string' | 'boolean'>>;

export interface ParseOptions {
  /** Words that are not flags are allowed (and returned); default: an error. */
  readonly positionals?: boolean;
  /** String flags whose value may start with `--`. */
  readonly dashValues?: readonly string[];
}

/** One flag as given: `name` with its `--` (`--help` for `-h`); `value` undefined for a flag without one. */
export interface BenchFlag {
  readonly name: string;
  readonly value: string | undefined;
}

export interface BenchArgs {
  readonly flags: readonly BenchFlag[];
  readonly positionals: readonly string[];
}

/** Reads `argv` (the arguments after the script) against `spec`; throws an Error with one clear line on bad input. */
export function parseBenchArgs(argv: readonly string[], spec: FlagSpec, opts: ParseOptions = {}): BenchArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, type] of Object.entries(spec)) options[name] = { type };
  if (spec.help === 'boolean') options.help = { type: 'boolean', short: 'h' };
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const flags: BenchFlag[] = [];
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (!opts.positionals) throw new Error(`unknown option ${t.value}`);
      positionals.push(t.value);
      continue;
    }
    const type = Object.hasOwn(spec, t.name) ? spec[t.name] : undefined;
    if (
      type === undefined ||
      (t.rawName.startsWith('-') && !t.rawName.startsWith('--') && t.name !== 'help')
    ) {
      throw new Error(`unknown option ${t.rawName}`);
    }
    const name = `--${t.name}`;
    if (type === 'boolean') {
      if (t.value !== undefined) throw new Error(`${name} takes no value`);
      flags.push({ name, value: undefined });
      continue;
    }
    const dashOk = t.inlineValue || opts.dashValues?.includes(t.name);
    if (t.value === undefined || (t.value.startsWith('--') && !dashOk))
      throw new Error(`${name} needs a value`);
    flags.push({ name, value: t.value });
  }
  return { flags, positionals };
}

/** The value of a string flag (parseBenchArgs guarantees one). */
export function flagValue(f: BenchFlag): string {
  if (f.value === undefined) throw new Error(`${f.name} needs a value`);
  return f.value;
}

/** A flag's value as a whole number of at least `min` (digits only: no sign, no fraction, no exponent). */
export function wholeNumber(f: BenchFlag, min = 0): number {
  const v = flagValue(f);
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw new Error(`${f.name}: not a whole number${min > 0 ? ` ≥ ${min}` : ''}: ${v}`);
  }
  return n;
}

/** A flag's value as a finite number. */
export function finiteNumber(f: BenchFlag): number {
  const v = flagValue(f);
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`${f.name}: not a number: ${v}`);
  return n;
}

/** An error class a bench command ends on with a message instead of a stack: its exit status, and a prefix for the message. */
export interface BenchExit {
  readonly error: abstract new (...args: never[]) => Error;
  readonly status: number;
  readonly prefix?: string;
}

/** One bench command: its name (the prefix of a command-line error), usage text, reader and run. */
export interface BenchCommand<O> {
  readonly name: string;
  readonly usage: string;
  parse(argv: readonly string[]): O | 'help';
  /** Runs it; resolves with the exit status. */
  run(o: O): Promise<number>;
  /** Refused (3) or could not set up (2), as each command defines them. */
  readonly exits: readonly BenchExit[];
}

/**
 * The frame every bench command shares: a bad command line is one line and
 * the usage on stderr with status 2, `--help` prints the usage, and the
 * errors in `exits` end the run with their message and status.
 */
export async function benchMain<O>(argv: readonly string[], c: BenchCommand<O>): Promise<number> {
  let o: O | 'help';
  try {
    o = c.parse(argv);
  } catch (e) {
    process.stderr.write(`${c.name}: ${(e as Error).message}\n${c.usage}`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(c.usage);
    return 0;
  }
  try {
    return await c.run(o);
  } catch (e) {
    const exit = c.exits.find((x) => e instanceof x.error);
    if (!exit) throw e;
    process.stderr.write(`${exit.prefix ?? ''}${(e as Error).message}\n`);
    return exit.status;
  }
}
