/**
 * `npm run bench:busy [-- options]` (`node --import tsx bench/busy/run.ts`):
 * many sessions through one `pptp-ts serve`, each carrying one iperf3 TCP
 * stream, all measured over one common window (bench.ts, docs/benchmarks.md
 * "Busy sessions").
 * Progress on stderr, the markdown report on stdout,
 * bench/results/busy-STAMP.{json,md} and busy-STAMP-sessions.svg.
 *
 * Exit status: 0 every session flowed in the window and carried traffic
 * through its own tunnel, and nothing was left behind
 * (the targets are reported, not enforced: they are judged on a quiet
 * machine); 1 otherwise (figures still written); 2 bad usage or the bench
 * cannot run here.
 */
import { pathToFileURL } from 'node:url';
import { benchMain, flagValue, parseBenchArgs, wholeNumber } from '../args.js';
import { ensureDist } from '../dist.js';
import { type BusyOptions, BusySetupError, MAX_SESSIONS, runBusyBench } from './bench.js';
import { renderBusyMarkdown } from './report.js';

export const USAGE = `usage: npm run bench:busy -- [options]

  --sessions N     sessions at once, each with its own TUN (default 100, at most ${MAX_SESSIONS})
  --time S         length of the common measuring window, s (default 10)
  --omit S         warm-up once every stream flows, before the window opens, s (default 1)
  --mppe M         both (default), on (MPPE-128 stateless) or off
  --mtu N          MTU and MRU of every session (default 1400)
  --clients C      one-process (default: every client session in one process, one GRE socket)
                   or per-session (one pptp-ts connect process each)
  --out DIR        where to write the JSON, markdown and SVG (default bench/results)
  --no-write       write no files
  -h, --help       this text
`;

const BUSY_FLAGS = {
  help: 'boolean',
  sessions: 'string',
  time: 'string',
  omit: 'string',
  mppe: 'string',
  clients: 'string',
  mtu: 'string',
  out: 'string',
  'no-write': 'boolean',
} as const;

/** Parses the command line; throws with one clear line on bad input. */
export function parseBusyArgs(argv: readonly string[]): BusyOptions | 'help' {
  const o: BusyOptions = {};
  const { flags } = parseBenchArgs(argv, BUSY_FLAGS);
  if (flags.some((f) => f.name === '--help')) return 'help';
  for (const f of flags) {
    switch (f.name) {
      case '--sessions':
        o.sessions = wholeNumber(f, 1);
        if (o.sessions > MAX_SESSIONS) throw new Error(`--sessions: at most ${MAX_SESSIONS}`);
        break;
      case '--time':
        o.timeSec = wholeNumber(f, 1);
        break;
      case '--omit':
        o.omitSec = wholeNumber(f);
        break;
      case '--mppe': {
        const v = flagValue(f);
        if (v !== 'both' && v !== 'on' && v !== 'off') throw new Error(`--mppe: both, on or off, not ${v}`);
        o.mppe = v;
        break;
      }
      case '--clients': {
        const v = flagValue(f);
        if (v !== 'one-process' && v !== 'per-session')
          throw new Error(`--clients: one-process or per-session, not ${v}`);
        o.clients = v;
        break;
      }
      case '--mtu':
        o.mtu = wholeNumber(f, 1);
        break;
      case '--out':
        o.outDir = flagValue(f);
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
    name: 'bench busy',
    usage: USAGE,
    parse: parseBusyArgs,
    run: async (o) => {
      ensureDist();
      const result = await runBusyBench(o);
      process.stdout.write(`\n${renderBusyMarkdown(result)}`);
      if (result.files)
        process.stderr.write(
          `bench busy: wrote ${result.files.json}, ${result.files.markdown} and ${result.files.chart}\n`,
        );
      return result.ok ? 0 : 1;
    },
    exits: [{ error: BusySetupError, status: 2 }],
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
