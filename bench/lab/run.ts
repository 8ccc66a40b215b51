/**
 * `node --import tsx bench/lab/run.ts [options]`: the benchmark lab against
 * real tunnels (docs/benchmarks.md). Prints progress on stderr, the markdown
 * table on stdout, and writes bench/results/lab-STAMP.{json,md}.
 *
 * Exit status: 0 all runs succeeded; 1 some contender failed a round
 * (figures still written); 2 bad usage or the lab cannot run here;
 * 3 the machine was busy and the lab refused to measure.
 */
import { pathToFileURL } from 'node:url';
import { benchMain, flagValue, parseBenchArgs, wholeNumber } from '../args.js';
import { ensureDist } from '../dist.js';
import { type LabOptions, LabRefusedError, LabSetupError, runLab } from './lab.js';
import { METRICS, type Metric } from './measure.js';
import { parseRate } from './parse.js';
import { renderMarkdown } from './report.js';

export const USAGE = `usage: node --import tsx bench/lab/run.ts [options]

  --rounds N            interleaved rounds (default 3)
  --duration S          seconds per iperf3 run (default 5)
  --omit S              seconds of iperf3 warm-up left out (default 1)
  --only ID,ID          contenders to run: veth, vxlan, socat, openvpn, wireguard-go,
                        pptp-ts, pptp-ts-mppe128 (default: all); variants only
                        when named: pptp-ts[-mppe128]-bp100|-bp300|-bp1000 (busy-poll µs)
  --metrics M,M         ${METRICS.join(', ')} (default: all)
  --mtu N               inner MTU of every tunnel (default 1440)
  --udp-rate R          offered UDP rate, e.g. 0 (unlimited, default), 800M, 2G
  --ping-count N        pings for the RTT figure (default 20)
  --ping-interval S     seconds between them (default 0.05; 0.002..10: idle vs busy latency)
  --allow-busy          measure even on a busy machine; results are marked and written as *.tmp
  --busy-threshold PCT  others' CPU (% of all CPUs) that counts as busy (default 10)
  --out DIR             where to write the JSON and markdown (default bench/results)
  --no-write            write no files
  -h, --help            this text
`;

/** Parses the command line into {@link LabOptions}. Throws with a message on a bad option. */
const LAB_FLAGS = {
  help: 'boolean',
  rounds: 'string',
  duration: 'string',
  omit: 'string',
  only: 'string',
  metrics: 'string',
  mtu: 'string',
  'udp-rate': 'string',
  'ping-count': 'string',
  'ping-interval': 'string',
  'allow-busy': 'boolean',
  'busy-threshold': 'string',
  out: 'string',
  'no-write': 'boolean',
} as const;

export function parseLabArgs(argv: readonly string[]): LabOptions | 'help' {
  const o: LabOptions = {};
  const { flags } = parseBenchArgs(argv, LAB_FLAGS);
  if (flags.some((f) => f.name === '--help')) return 'help';
  for (const f of flags) {
    const int = () => wholeNumber(f);
    const value = () => flagValue(f);
    const list = () =>
      value()
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    switch (f.name) {
      case '--rounds':
        o.rounds = int();
        break;
      case '--duration':
        o.durationSec = int();
        break;
      case '--omit':
        o.omitSec = int();
        break;
      case '--only':
        o.contenders = list();
        break;
      case '--metrics': {
        const ms = list();
        const bad = ms.filter((m) => !(METRICS as readonly string[]).includes(m));
        if (bad.length > 0)
          throw new Error(`--metrics: unknown ${bad.join(', ')} (known: ${METRICS.join(', ')})`);
        o.metrics = ms as Metric[];
        break;
      }
      case '--mtu':
        o.mtu = int();
        break;
      case '--udp-rate':
        o.udpRateBps = parseRate(value());
        break;
      case '--ping-count':
        o.pingCount = int();
        break;
      case '--ping-interval': {
        const v = value();
        const n = Number(v);
        if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n))
          throw new Error(`--ping-interval: not a number of seconds: ${v}`);
        o.pingIntervalSec = n;
        break;
      }
      case '--allow-busy':
        o.allowBusy = true;
        break;
      case '--busy-threshold': {
        const v = Number(value());
        if (!Number.isFinite(v)) throw new Error('--busy-threshold: not a number');
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

/** The command: returns the exit status. */
export function main(argv: readonly string[]): Promise<number> {
  return benchMain(argv, {
    name: 'bench lab',
    usage: USAGE,
    parse: parseLabArgs,
    run: async (o) => {
      // The pptp-ts it starts is the compiled build (bin/pptp-ts.js → dist/): bring dist/ up to date.
      ensureDist();
      const result = await runLab(o);
      process.stdout.write(`\n${renderMarkdown(result)}\n`);
      if (result.files)
        process.stderr.write(`bench lab: wrote ${result.files.json} and ${result.files.markdown}\n`);
      return result.ok ? 0 : 1;
    },
    exits: [
      { error: LabRefusedError, status: 3 },
      { error: LabSetupError, status: 2 },
    ],
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
