/**
 * Where a ping's round trip through a pptp-ts tunnel goes, hop by hop
 * (docs/performance.md "Latency"). Brings one pptp-ts contender up in a
 * bench lab (two namespaces over veth), captures in both namespaces at once
 * (`tcpdump -i any`: the TUN and the veth, kernel time stamps in
 * nanoseconds, one clock for both), pings through the tunnel, and matches
 * each echo request and reply by its ICMP sequence number at the four
 * points it crosses (inner on the TUN, outer as GRE on the veth; tshark
 * decodes the ICMP inside the GRE):
 *
 * ```
 * client TUN out -> client GRE out   the client process, request (TUN read -> sendmmsg)
 * client GRE out -> server GRE in    the wire (veth)
 * server GRE in  -> server TUN in    the server process, request (recvmmsg -> TUN write)
 * server TUN in  -> server TUN out   the server's kernel answers the echo
 * server TUN out -> server GRE out   the server process, reply
 * server GRE out -> client GRE in    the wire
 * client GRE in  -> client TUN in    the client process, reply
 * ```
 *
 * Run (root): `node --import tsx bench/lab/latency-split.ts [--only pptp-ts|pptp-ts-bp300|...]
 * [--ping-count N] [--ping-interval S] [--rounds N] [--idle S]`. Prints medians and
 * 10th/90th percentiles in microseconds per hop, and the CPU time each end
 * spent per ping and at rest (`--idle` seconds without traffic, default 10).
 * Writes nothing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Contender, TunnelPlan } from './contender.js';
import { CONTENDERS, VARIANTS } from './contenders/index.js';
import { Lab, type LabProcess } from './netns.js';
import { parsePidStat } from './proc.js';

/** CPU time (user + system, all threads) of `pid` so far, in milliseconds. */
function cpuMs(pid: number): number {
  const s = parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return ((s.utime + s.stime) * 1000) / TICKS_PER_SECOND;
}
/** USER_HZ: 100 on every Linux architecture this runs on. */
const TICKS_PER_SECOND = 100;

type Point = 'tunOut' | 'greOut' | 'greIn' | 'tunIn';
/** Per ICMP sequence number, per echo type (8 request, 0 reply), the time of each point (seconds). */
type Times = Map<number, Map<string, number>>;

/** Reads a capture with tshark: every ICMP echo seen, bare or inside GRE, with direction and time. */
export function readCapture(file: string): Times {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-E',
      'aggregator=;',
      '-e',
      'frame.time_epoch',
      '-e',
      'ip.proto',
      '-e',
      'sll.pkttype',
      '-e',
      'icmp.type',
      '-e',
      'icmp.seq',
    ],
    { encoding: 'utf8', maxBuffer: 256 << 20 },
  );
  return parseFields(out);
}

/** The parsing half of {@link readCapture}: `time|protos|pkttype|icmp types|icmp seqs` lines. */
export function parseFields(text: string): Times {
  const times: Times = new Map();
  for (const line of text.split('\n')) {
    const [t, proto, pkttype, type, seq] = line.split('|');
    if (!t || !seq || !type) continue;
    const last = (s: string) => s.split(';').at(-1)!;
    const gre = proto!.split(';')[0] === '47';
    const out = pkttype === '4'; // PACKET_OUTGOING
    const point: Point = gre ? (out ? 'greOut' : 'greIn') : out ? 'tunOut' : 'tunIn';
    const n = Number(last(seq));
    let m = times.get(n);
    if (!m) {
      m = new Map();
      times.set(n, m);
    }
    m.set(`${last(type)}:${point}`, Number(t));
  }
  return times;
}

/** The hops of a round trip: [label, from side, from key, to side, to key]. */
const HOPS: readonly [string, 'c' | 's', string, 'c' | 's', string][] = [
  ['client process, request (TUN -> GRE)', 'c', '8:tunOut', 'c', '8:greOut'],
  ['wire, request', 'c', '8:greOut', 's', '8:greIn'],
  ['server process, request (GRE -> TUN)', 's', '8:greIn', 's', '8:tunIn'],
  ['server kernel, echo', 's', '8:tunIn', 's', '0:tunOut'],
  ['server process, reply (TUN -> GRE)', 's', '0:tunOut', 's', '0:greOut'],
  ['wire, reply', 's', '0:greOut', 'c', '0:greIn'],
  ['client process, reply (GRE -> TUN)', 'c', '0:greIn', 'c', '0:tunIn'],
  ['round trip, client TUN to TUN', 'c', '8:tunOut', 'c', '0:tunIn'],
];

export interface HopFigures {
  readonly hop: string;
  readonly n: number;
  readonly medianUs: number;
  readonly p10Us: number;
  readonly p90Us: number;
}

/** Per hop, the distribution over every sequence number seen at both of its points. */
export function splitHops(client: Times, server: Times): HopFigures[] {
  return HOPS.map(([hop, fs, fk, ts, tk]) => {
    const from = fs === 'c' ? client : server;
    const to = ts === 'c' ? client : server;
    const d: number[] = [];
    for (const [seq, m] of from) {
      const a = m.get(fk);
      const b = to.get(seq)?.get(tk);
      if (a !== undefined && b !== undefined) d.push((b - a) * 1e6);
    }
    d.sort((x, y) => x - y);
    const at = (q: number) => (d.length ? d[Math.min(d.length - 1, Math.floor(d.length * q))]! : Number.NaN);
    return { hop, n: d.length, medianUs: at(0.5), p10Us: at(0.1), p90Us: at(0.9) };
  });
}

function arg(argv: readonly string[], name: string, dflt: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
}

async function capture(lab: Lab, ns: string, file: string): Promise<LabProcess> {
  const p = lab.spawn(
    ns,
    [
      'tcpdump',
      '-Z',
      'root',
      '-i',
      'any',
      '-n',
      '-U',
      '--time-stamp-precision=nano',
      '-w',
      file,
      'icmp or proto 47',
    ],
    `tcpdump ${ns}`,
  );
  const t0 = Date.now();
  while (!/listening on/.test(p.output()) && Date.now() - t0 < 10_000) {
    if (p.exited()) throw new Error(`tcpdump failed: ${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return p;
}

async function main(argv: readonly string[]): Promise<void> {
  const ids = arg(argv, '--only', 'pptp-ts').split(',');
  const count = Number(arg(argv, '--ping-count', '200'));
  const interval = arg(argv, '--ping-interval', '0.05');
  const rounds = Number(arg(argv, '--rounds', '1'));
  const idleSec = Number(arg(argv, '--idle', '10'));
  const all: Contender[] = [...CONTENDERS, ...VARIANTS];
  const picked = ids.map((id) => {
    const c = all.find((x) => x.id === id && x.id.startsWith('pptp-ts'));
    if (!c) throw new Error(`latency-split: ${id} is not a pptp-ts contender`);
    return c;
  });
  const lab = await Lab.create();
  try {
    for (let r = 1; r <= rounds; r++) {
      for (const c of picked) {
        const plan: TunnelPlan = {
          serverAddress: '198.19.1.1',
          clientAddress: '198.19.1.2',
          prefixLength: 24,
          subnet: '198.19.1.0/24',
          mtu: 1440,
          unique: lab.unique,
          upTimeoutMs: 60_000,
        };
        const t = await c.up(lab, plan);
        const files = [join(lab.tmpDir, 'c.pcap'), join(lab.tmpDir, 's.pcap')];
        try {
          // Warm-up, as the lab's reachability check does, then the measured pings.
          await lab.exec(lab.clientNs, ['ping', '-c', '3', '-i', '0.2', '-W', '2', t.serverAddress]);
          const caps = [
            await capture(lab, lab.clientNs, files[0]!),
            await capture(lab, lab.serverNs, files[1]!),
          ];
          const pids = t.processes.map((p) => p.pid);
          const cpu0 = pids.map(cpuMs);
          const res = await lab.exec(
            lab.clientNs,
            ['ping', '-q', '-n', '-c', String(count), '-i', interval, '-W', '2', t.serverAddress],
            { allowFail: true, timeoutMs: count * Number(interval) * 1000 + 20_000 },
          );
          const cpu1 = pids.map(cpuMs);
          await new Promise((r2) => setTimeout(r2, 300));
          for (const p of caps) await p.stop(2000);
          await new Promise((r2) => setTimeout(r2, 1000));
          const cpu2 = pids.map(cpuMs);
          await new Promise((r2) => setTimeout(r2, idleSec * 1000));
          const cpu3 = pids.map(cpuMs);
          const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(res.stdout);
          console.log(
            `round ${r}, ${c.label}: ping ${count} x ${interval} s, min/avg/max ${rtt?.slice(1).join('/')} ms`,
          );
          for (const h of splitHops(readCapture(files[0]!), readCapture(files[1]!))) {
            console.log(
              `  ${h.hop.padEnd(40)} n=${String(h.n).padStart(5)}  median ${h.medianUs.toFixed(1).padStart(7)} µs` +
                `  p10 ${h.p10Us.toFixed(1).padStart(7)}  p90 ${h.p90Us.toFixed(1).padStart(7)}`,
            );
          }
          t.processes.forEach((p, i) => {
            const perPing = (cpu1[i]! - cpu0[i]!) / count;
            const idlePct = ((cpu3[i]! - cpu2[i]!) / (idleSec * 1000)) * 100;
            console.log(
              `  CPU of the ${p.side}: ${(perPing * 1000).toFixed(0)} µs per ping ` +
                `(${((perPing / (Number(interval) * 1000)) * 100).toFixed(2)} % of a core at this rate), ` +
                `${idlePct.toFixed(2)} % of a core at rest over ${idleSec} s`,
            );
          });
        } finally {
          for (const f of files) rmSync(f, { force: true });
          await t.down();
        }
      }
    }
  } finally {
    await lab.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`latency-split: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
