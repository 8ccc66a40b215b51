/**
 * Reading a command's own arguments, the same way for every command:
 * `node:util` parseArgs, strict (an unknown option or a missing value is an
 * error), then `--help`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A command's own options, as parseArgs takes them. */
type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** `-h` / `--help`, which every command takes: {@link commandArgs} adds it. */
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** The parseArgs config {@link commandArgs} builds from a command's own options. */
type CommandConfig<O extends CommandOptions, P extends boolean> = {
  args: string[];
  strict: true;
  allowPositionals: P;
  options: O & typeof HELP_OPTION;
};

/**
 * The values and positionals of `argv`, read with the command's own
 * `options` and `--help` (positionals only where `positionals` is true); or, when the command has nothing more to do, its exit code:
 * what `fail` returns after it wrote the one-line error of a bad command
 * line, or 0 after `usage` went to stdout for `--help`.
 */
export function commandArgs<O extends CommandOptions, P extends boolean = false>(
  argv: readonly string[],
  spec: { readonly options: O; readonly positionals?: P },
  usage: string,
  fail: (message: string) => number,
): ReturnType<typeof parseArgs<CommandConfig<O, P>>> | number {
  const config: CommandConfig<O, P> = {
    args: [...argv],
    strict: true,
    allowPositionals: (spec.positionals ?? false) as P,
    options: { ...spec.options, ...HELP_OPTION },
  };
  let parsed: ReturnType<typeof parseArgs<CommandConfig<O, P>>>;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    return fail((e as Error).message);
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}

/**
 * The usual `fail` for {@link commandArgs}: `pptp-ts COMMAND: message`, then
 * `after` (the usage, or where to find it), on stderr; exit code 2.
 */
export function usageError(command: string, after: string): (message: string) => number {
  return (message) => {
    process.stderr.write(`pptp-ts ${command}: ${message}\n${after}`);
    return 2;
  };
}
