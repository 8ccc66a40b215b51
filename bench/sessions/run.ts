/**
 * `npm run bench:sessions [-- options]` (`node --import tsx
 * bench/sessions/run.ts`): N concurrent PPTP sessions against one
 * `pptp-ts serve` (bench.ts, docs/sessions.md). Progress on stderr, the
 * markdown report on stdout, bench/results/sessions-STAMP.{json,md}.
 *
 * Exit status: 0 every session came up, stayed up, answered the ping and
 * closed cleanly with nothing left behind; 1 otherwise (figures still
 * written); 2 bad usage or the bench cannot run here.
 */
import { pathToFileURL } from 'node:url';
import { benchMain, flagValue, parseBenchArgs, wholeNumber } from '../args.js';
import { ensureDist } from '../dist.js';
import { runSessionsBench, type SessionsOptions, SessionsSetupError } from './bench.js';
import { renderSessionsMarkdown } from './report.js';
import { CLIENT_PORTS_PER_ADDRESS, MAX_CLIENT_ADDRESSES, sessionsSpaceProblem } from './storm.js';

export const USAGE = `usage: npm run bench:sessions -- [options]

  --sessions N            concurrent sessions (default 10000)
  --concurrency N         connections being set up at once (default 200)
  --calls-per-connection N  calls per control connection (default 1: one TCP connection per session)
  --lcp-echo-interval S   LCP echo interval on both sides (default 30, pppd's)
  --pptp-echo-interval S  PPTP echo interval on both sides (default 60, RFC 2637)
  --no-mppe               MPPE off (default: MPPE-128 stateless required)
  --radius                users in a FreeRADIUS (in the server's namespace) instead of the
                          chap-secrets file; the report names the mode
  --storm                 login storm: open N, SIGKILL the server, restart it, and every client
                          redials at once (concurrency N); the figures are the storm's
  --client-addresses K    spread the generator's TCP connections over K source addresses
                          (default 1, at most ${MAX_CLIENT_ADDRESSES}; one address has ${CLIENT_PORTS_PER_ADDRESS} ephemeral ports)
  --settle S              wait after the last session is up before reading memory and measuring
                          CPU at rest (default 60: both keep-alives reach their steady state)
  --rest S                CPU-at-rest window (default 30)
  --ping N                sessions that ping through the tunnel (default 100)
  --compact-after-burst N the server's limits.compact-after-burst: one compacting collection after
                          a burst of at least N set-ups (default 0: off, as the server's default)
  --ack-timeout-ms MS     pptp.ack-timeout-ms on both sides (default 100; 0: acknowledgments
                          ride on data packets only, as Linux's pptp driver)
  --generator-clock C     wheel (one BatchClock, default) or node (a Node timer per engine timer)
  --server-node-option O  extra Node option for the server, repeatable (e.g. --cpu-prof)
  --heap-snapshots DIR    write server heap snapshots at each memory reading (profiling)
  --out DIR               where to write the JSON and markdown (default bench/results)
  --no-write              write no files
  -h, --help              this text
`;

const SESSIONS_FLAGS = {
  help: 'boolean',
  sessions: 'string',
  concurrency: 'string',
  'calls-per-connection': 'string',
  'lcp-echo-interval': 'string',
  'pptp-echo-interval': 'string',
  'no-mppe': 'boolean',
  radius: 'boolean',
  storm: 'boolean',
  'client-addresses': 'string',
  settle: 'string',
  rest: 'string',
  ping: 'string',
  'compact-after-burst': 'string',
  'ack-timeout-ms': 'string',
  'generator-clock': 'string',
  'server-node-option': 'string',
  'heap-snapshots': 'string',
  out: 'string',
  'no-write': 'boolean',
} as const;

export function parseSessionsArgs(argv: readonly string[]): SessionsOptions | 'help' {
  const o: SessionsOptions = {};
  const { flags } = parseBenchArgs(argv, SESSIONS_FLAGS, { dashValues: ['server-node-option'] });
  if (flags.some((f) => f.name === '--help')) return 'help';
  for (const f of flags) {
    const value = () => flagValue(f);
    const int = (min = 0) => wholeNumber(f, min);
    switch (f.name) {
      case '--sessions':
        o.sessions = int(1);
        break;
      case '--concurrency':
        o.concurrency = int(1);
        break;
      case '--calls-per-connection':
        o.callsPerConnection = int(1);
        break;
      case '--lcp-echo-interval':
        o.lcpEchoIntervalSec = int();
        break;
      case '--pptp-echo-interval':
        o.pptpEchoIntervalSec = int(1);
        break;
      case '--no-mppe':
        o.mppe = false;
        break;
      case '--radius':
        o.radius = true;
        break;
      case '--storm':
        o.storm = true;
        break;
      case '--client-addresses': {
        const k = int(1);
        if (k > MAX_CLIENT_ADDRESSES)
          throw new Error(`--client-addresses: at most ${MAX_CLIENT_ADDRESSES}, not ${k}`);
        o.clientAddresses = k;
        break;
      }
      case '--settle':
        o.settleSec = int();
        break;
      case '--rest':
        o.restSec = int(1);
        break;
      case '--ping':
        o.pingSample = int();
        break;
      case '--compact-after-burst':
        o.compactAfterBurst = int();
        break;
      case '--ack-timeout-ms':
        o.ackTimeoutMs = int();
        if (o.ackTimeoutMs > 10_000)
          throw new Error(`--ack-timeout-ms: at most 10000, not ${o.ackTimeoutMs}`);
        break;
      case '--generator-clock': {
        const v = value();
        if (v !== 'wheel' && v !== 'node') throw new Error(`--generator-clock: wheel or node, not ${v}`);
        o.generatorClock = v;
        break;
      }
      case '--server-node-option':
        o.serverNodeOptions = [...(o.serverNodeOptions ?? []), value()];
        break;
      case '--heap-snapshots':
        o.heapSnapshotDir = value();
        break;
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
  const space = sessionsSpaceProblem(o.sessions ?? 10_000, o.callsPerConnection ?? 1, o.clientAddresses ?? 1);
  if (space) throw new Error(space);
  return o;
}

export function main(argv: readonly string[]): Promise<number> {
  return benchMain(argv, {
    name: 'bench:sessions',
    usage: USAGE,
    parse: parseSessionsArgs,
    run: async (o) => {
      // The pptp-ts it starts is the compiled build (bin/pptp-ts.js → dist/): bring dist/ up to date.
      ensureDist();
      const r = await runSessionsBench(o);
      process.stdout.write(`\n${renderSessionsMarkdown(r)}\n`);
      if (r.files) process.stderr.write(`bench:sessions: wrote ${r.files.json} and ${r.files.markdown}\n`);
      return r.ok ? 0 : 1;
    },
    exits: [{ error: SessionsSetupError, status: 2, prefix: 'bench:sessions: ' }],
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
