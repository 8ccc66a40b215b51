/**
 * `npm run bench:startup [-- options]` (bench/startup/bench.ts): start-up
 * of `pptp-ts --version`, time to tunnel up and RSS of a client tunnel
 * process, compiled build against tsx. Progress on stderr, the markdown
 * report on stdout, bench/results/startup-STAMP.{json,md}.
 *
 * Exit status: 0 measured; 2 bad usage or cannot run here (not root);
 * 3 the machine was busy (see --allow-busy).
 */
import { pathToFileURL } from 'node:url';
import { benchMain, flagValue, parseBenchArgs, wholeNumber } from '../args.js';
import {
  renderStartupMarkdown,
  runStartupBench,
  type StartupOptions,
  StartupRefusedError,
  StartupSetupError,
} from './bench.js';

export const USAGE = `usage: npm run bench:startup -- [options]

  --runs N             timed \`pptp-ts --version\` runs per variant (default 20)
  --tunnels N          tunnels brought up per variant (default 5)
  --allow-busy         measure on a busy machine (marked; files written as *.tmp)
  --busy-threshold P   others' CPU, % of all CPUs, that counts as busy (default 10)
  --out DIR            where to write the JSON and markdown (default bench/results)
  --no-write           write no files
  -h, --help           this text
`;

const STARTUP_FLAGS = {
  help: 'boolean',
  runs: 'string',
  tunnels: 'string',
  'allow-busy': 'boolean',
  'busy-threshold': 'string',
  out: 'string',
  'no-write': 'boolean',
} as const;

export function parseStartupArgs(argv: readonly string[]): StartupOptions | 'help' {
  const o: StartupOptions = {};
  const { flags } = parseBenchArgs(argv, STARTUP_FLAGS);
  if (flags.some((f) => f.name === '--help')) return 'help';
  for (const f of flags) {
    const value = () => flagValue(f);
    const int = () => wholeNumber(f, 1);
    switch (f.name) {
      case '--runs':
        o.runs = int();
        break;
      case '--tunnels':
        o.tunnels = int();
        break;
      case '--allow-busy':
        o.allowBusy = true;
        break;
      case '--busy-threshold': {
        const v = Number(value());
        if (!(v > 0 && v <= 100)) throw new Error('--busy-threshold: a percentage in (0, 100]');
        o.busyThresholdPct = v;
        break;
      }
      case '--out':
        o.outDir = value();
        break;
      case '--no-write':
        o.outDir = null;
        break;
      default:
        throw new Error(`unknown option ${f.name}`);
    }
  }
  return o;
}

export function main(argv: readonly string[]): Promise<number> {
  return benchMain(argv, {
    name: 'bench:startup',
    usage: USAGE,
    parse: parseStartupArgs,
    run: async (o) => {
      const r = await runStartupBench(o);
      process.stdout.write(`\n${renderStartupMarkdown(r)}\n`);
      if (r.files) process.stderr.write(`bench:startup: wrote ${r.files.json} and ${r.files.markdown}\n`);
      return 0;
    },
    exits: [
      { error: StartupRefusedError, status: 3 },
      { error: StartupSetupError, status: 2 },
    ],
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
