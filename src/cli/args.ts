/**
 * Reading a command's own arguments, the same way for every command:
 * `node:util` parseArgs, strict (an unknown option or a missing value is an
 * error), then `--help`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * The values and positionals of `config.args`; or, when the command has
 * nothing more to do, its exit code: what `fail` returns after it wrote the
 * one-line error of a bad command line, or 0 after `usage` went to stdout
 * for `--help`.
 */
export function commandArgs<T extends ParseArgsConfig>(
  config: T,
  usage: string,
  fail: (message: string) => number,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
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
