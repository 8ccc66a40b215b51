/**
 * The I/O levers lab (docs/performance.md): two network namespaces joined by
 * a veth pair, a bench/io/forwarder.ts end in each, and iperf3 TCP through
 * the tunnel, for each variant in turn, interleaved over several rounds:
 *
 *   node --import tsx bench/io/run.ts [--rounds 3] [--seconds 5] [--streams 1]
 *        [--variants plain,gso,gro,...] [--mtu 1440] [--nice N] [--idle PCT [--idle-wait S]]
 *        [--json FILE] [--md FILE]
 *
 * `--idle PCT` waits before each run (up to `--idle-wait` seconds, default
 * 120) until the machine was at most PCT % busy over the last second; the
 * busy share actually seen is reported with each run.
 *
 * Variants: `plain-nobatch` (one packet per read/send), `plain` (today's
 * batched rings, no offload), `gso` (TUN offload, segmentation only), `gro`
 * (segmentation + coalescing with checksum verification), `gro-noverify`,
 * `gro-workers` (gro, one worker thread per direction), and two references
 * measured in the same lab: `openvpn` (OpenVPN 2.6 cleartext, UDP) and
 * `veth` (no tunnel at all).
 *
 * Reported per variant: iperf3 receiver Mbit/s (median, min–max over the
 * rounds), sender retransmits, and the CPU each tunnel process used during
 * the run (% of one core, from /proc/PID/stat), plus the load average and
 * the machine's busy share before each run: the numbers are only as good
 * as the machine is idle. Figures are printed, never asserted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsLab, run, type Spawned } from '../../test/helpers/netns.js';
import { finiteNumber, flagValue, parseBenchArgs, wholeNumber } from '../args.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FORWARDER = join(HERE, 'forwarder.ts');
/** tsx's loader by absolute URL, so the forwarders start from any working directory. */
const TSX = import.meta.resolve('tsx');
/** Extra Node options for the forwarders, e.g. BENCH_IO_NODE_ARGS=--perf-basic-prof for `perf`. */
const NODE_ARGS = (process.env.BENCH_IO_NODE_ARGS ?? '').split(' ').filter(Boolean);

const UNDERLAY = { a: '192.168.91.1', b: '192.168.91.2' };
const INNER = { a: '10.201.0.1', b: '10.201.0.2' };

interface Variant {
  id: string;
  label: string;
  /** Forwarder flags, or a special contender. */
  kind: 'forwarder' | 'openvpn' | 'veth';
  flags?: string[];
}

const VARIANTS: Variant[] = [
  {
    id: 'plain-nobatch',
    label: 'no offload, one packet per syscall',
    kind: 'forwarder',
    flags: ['--batch', 'off'],
  },
  { id: 'plain', label: 'no offload, batched rings (today)', kind: 'forwarder', flags: [] },
  {
    id: 'gso',
    label: 'TUN offload: segmentation (GSO) only',
    kind: 'forwarder',
    flags: ['--offload', 'gso'],
  },
  {
    id: 'gro',
    label: 'GSO + coalescing (GRO), checksums verified',
    kind: 'forwarder',
    flags: ['--offload', 'gro'],
  },
  {
    id: 'gro-noverify',
    label: 'GSO + GRO, no checksum verification',
    kind: 'forwarder',
    flags: ['--offload', 'gro-noverify'],
  },
  {
    id: 'gro-workers',
    label: 'GSO + GRO, a worker thread per direction',
    kind: 'forwarder',
    flags: ['--offload', 'gro', '--workers'],
  },
  {
    id: 'gro-rps',
    label: 'GSO + GRO, RPS on the TUN (host stack work on any CPU)',
    kind: 'forwarder',
    flags: ['--offload', 'gro', '--rps', ((1 << cpus().length) - 1).toString(16)],
  },
  { id: 'openvpn', label: 'OpenVPN 2.6 cleartext (reference)', kind: 'openvpn' },
  { id: 'veth', label: 'veth, no tunnel (reference)', kind: 'veth' },
];

interface Options {
  rounds: number;
  seconds: number;
  streams: number;
  mtu: number;
  variants: string[];
  json?: string;
  md?: string;
  /**
   * Before each run, wait (at most `idleWaitS` seconds) until the machine's
   * busy share over one second is at most this percentage (100: no wait).
   */
  idleBusy: number;
  idleWaitS: number;
  /** Niceness of every process that carries the traffic (tunnels and iperf3 alike), e.g. -10 on a shared machine. */
  nice: number;
}

interface RunResult {
  variant: string;
  round: number;
  mbps: number;
  retransmits: number;
  /** CPU of each tunnel process, % of one core. */
  cpu: number[];
  /** Of which in the kernel (system time), % of one core. */
  sys: number[];
  /** iperf3's own CPU (client, server), % of one core, as iperf3 reports it. */
  iperfCpu: [number, number];
  /**
   * CPU of everything that moves the bytes (both tunnel processes, both
   * iperf3s, with the softirq work charged to them), in core-seconds per
   * gigabit: an efficiency figure that a busy machine distorts less than
   * throughput.
   */
  cpuPerGbit: number;
  /** Load average (1 min) and the machine's busy % over 1 s, before the run. */
  load1: number;
  busyBefore: number;
  /** Forwarder counters (JSON lines they print on exit). */
  counters?: unknown[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rounds: 3,
    seconds: 5,
    streams: 1,
    mtu: 1440,
    variants: ['plain-nobatch', 'plain', 'gso', 'gro', 'gro-noverify', 'gro-workers', 'openvpn'],
    nice: 0,
    idleBusy: 100,
    idleWaitS: 120,
  };
  const { flags } = parseBenchArgs(argv, {
    rounds: 'string',
    seconds: 'string',
    streams: 'string',
    mtu: 'string',
    variants: 'string',
    json: 'string',
    md: 'string',
    nice: 'string',
    idle: 'string',
    'idle-wait': 'string',
  });
  for (const f of flags) {
    const v = () => flagValue(f);
    if (f.name === '--rounds') o.rounds = wholeNumber(f, 1);
    else if (f.name === '--seconds') o.seconds = finiteNumber(f);
    else if (f.name === '--streams') o.streams = wholeNumber(f, 1);
    else if (f.name === '--mtu') o.mtu = wholeNumber(f);
    else if (f.name === '--variants') o.variants = v().split(',');
    else if (f.name === '--json') o.json = v();
    else if (f.name === '--md') o.md = v();
    else if (f.name === '--nice') o.nice = finiteNumber(f);
    else if (f.name === '--idle') o.idleBusy = finiteNumber(f);
    else if (f.name === '--idle-wait') o.idleWaitS = finiteNumber(f);
  }
  for (const id of o.variants)
    if (!VARIANTS.some((x) => x.id === id)) throw new Error(`unknown variant ${id}`);
  return o;
}

/** A `nice -n N` prefix (none for 0). The PID stays the command's own: nice execs it. */
function niced(o: Options): string[] {
  return o.nice ? ['nice', '-n', String(o.nice)] : [];
}

/** [utime, stime] of a process (all its threads), in seconds. */
function cpuSeconds(pid: number): [number, number] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(f[11]) / 100, Number(f[12]) / 100]; // fields 14, 15; USER_HZ = 100 on Linux
  } catch {
    return [0, 0];
  }
}

function cpuOf(pids: number[]): [number, number][] {
  return pids.map(cpuSeconds);
}

function procStatBusy(): { busy: number; total: number } {
  const l = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = l[3]! + l[4]!;
  const total = l.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function busyShare(ms: number): Promise<number> {
  const a = procStatBusy();
  await new Promise((r) => setTimeout(r, ms));
  const b = procStatBusy();
  return (100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
}

async function waitOutput(p: Spawned, re: RegExp, ms: number): Promise<void> {
  await p.waitFor(re, ms);
}

/** Starts the tunnel of one variant; returns its processes and where iperf3 should connect. */
async function up(
  lab: NetnsLab,
  ns: { a: string; b: string },
  v: Variant,
  o: Options,
): Promise<{ procs: Spawned[]; target: string }> {
  if (v.kind === 'veth') return { procs: [], target: UNDERLAY.b };
  const procs: Spawned[] = [];
  if (v.kind === 'forwarder') {
    for (const side of ['a', 'b'] as const) {
      const other = side === 'a' ? 'b' : 'a';
      procs.push(
        lab.spawn(ns[side], [
          ...niced(o),
          process.execPath,
          ...NODE_ARGS,
          '--import',
          TSX,
          FORWARDER,
          '--tun-name',
          `fwd${side}0`,
          '--tun-address',
          INNER[side],
          '--tun-peer',
          INNER[other],
          '--local',
          UNDERLAY[side],
          '--peer',
          UNDERLAY[other],
          '--mtu',
          String(o.mtu),
          ...(v.flags ?? []),
        ]),
      );
    }
    for (const p of procs) await waitOutput(p, /ready/, 20_000);
  } else {
    for (const side of ['a', 'b'] as const) {
      const other = side === 'a' ? 'b' : 'a';
      procs.push(
        lab.spawn(ns[side], [
          ...niced(o),
          'openvpn',
          '--dev',
          `ovpn${side}0`,
          '--dev-type',
          'tun',
          '--proto',
          'udp',
          '--local',
          UNDERLAY[side],
          '--lport',
          '1194',
          '--remote',
          UNDERLAY[other],
          '--rport',
          '1194',
          '--ifconfig',
          INNER[side],
          INNER[other],
          '--cipher',
          'none',
          '--auth',
          'none',
          '--data-ciphers',
          'none',
          '--tun-mtu',
          String(o.mtu),
          '--mssfix',
          '0',
          '--disable-dco',
          '--verb',
          '3',
        ]),
      );
    }
    for (const p of procs) await waitOutput(p, /Initialization Sequence Completed/, 20_000);
  }
  // The path works before we measure it.
  await lab.exec(ns.a, ['ping', '-c', '1', '-W', '3', INNER.b]);
  return { procs, target: INNER.b };
}

async function once(lab: NetnsLab, ns: { a: string; b: string }, v: Variant, o: Options, round: number) {
  const load1 = loadavg()[0]!;
  let busyBefore = await busyShare(1000);
  for (const end = Date.now() + o.idleWaitS * 1000; busyBefore > o.idleBusy && Date.now() < end; ) {
    busyBefore = await busyShare(1000);
  }
  const { procs, target } = await up(lab, ns, v, o);
  const server = lab.spawn(ns.b, [
    ...niced(o),
    'iperf3',
    '-s',
    '-1',
    '--forceflush',
    '-B',
    target,
    '-p',
    '5201',
  ]);
  let result: RunResult | undefined;
  try {
    await waitOutput(server, /Server listening/, 10_000);
    const pids = procs.map((p) => p.pid);
    const cpu0 = cpuOf(pids);
    const t0 = performance.now();
    const client = await lab.exec(
      ns.a,
      [
        ...niced(o),
        'iperf3',
        '-c',
        target,
        '-p',
        '5201',
        '-t',
        String(o.seconds),
        '-O',
        '1',
        '-P',
        String(o.streams),
        '-J',
      ],
      { timeoutMs: (o.seconds + 30) * 1000, allowFail: true },
    );
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = cpuOf(pids);
    const j = JSON.parse(client.stdout) as {
      error?: string;
      end?: {
        sum_received?: { bits_per_second: number };
        sum_sent?: { retransmits?: number };
        cpu_utilization_percent?: { host_total: number; remote_total: number };
      };
    };
    if (j.error || !j.end?.sum_received) throw new Error(`iperf3: ${j.error ?? client.stderr}`);
    const cpu = cpu1.map((c, i) => (100 * (c[0] + c[1] - cpu0[i]![0] - cpu0[i]![1])) / wall);
    const iperfCpu: [number, number] = [
      j.end.cpu_utilization_percent?.host_total ?? 0,
      j.end.cpu_utilization_percent?.remote_total ?? 0,
    ];
    const gbps = j.end.sum_received.bits_per_second / 1e9;
    result = {
      iperfCpu,
      cpuPerGbit: (cpu.reduce((a, b) => a + b, 0) + iperfCpu[0] + iperfCpu[1]) / 100 / gbps,
      variant: v.id,
      round,
      mbps: j.end.sum_received.bits_per_second / 1e6,
      retransmits: j.end.sum_sent?.retransmits ?? 0,
      cpu,
      sys: cpu1.map((c, i) => (100 * (c[1] - cpu0[i]![1])) / wall),
      load1,
      busyBefore,
    };
  } finally {
    await server.kill();
    const counters: unknown[] = [];
    for (const p of procs) {
      const r = await p.kill(5000);
      const line = r.stdout
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (line) counters.push(JSON.parse(line));
    }
    if (result && counters.length) result.counters = counters;
  }
  return result;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function table(results: RunResult[], o: Options): string {
  const rows: string[] = [
    `| variant | TCP ${o.streams}-stream Mbit/s (median, min–max) | retransmits | CPU % tunnel A / B (sys) | CPU % iperf3 client / server | core-s per Gbit (all) | vs plain | vs OpenVPN |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  const med = (id: string) => {
    const r = results.filter((x) => x.variant === id);
    return r.length ? median(r.map((x) => x.mbps)) : undefined;
  };
  const plain = med('plain');
  const ovpn = med('openvpn');
  for (const id of o.variants) {
    const r = results.filter((x) => x.variant === id);
    if (!r.length) continue;
    const v = VARIANTS.find((x) => x.id === id)!;
    const m = median(r.map((x) => x.mbps));
    const lo = Math.min(...r.map((x) => x.mbps));
    const hi = Math.max(...r.map((x) => x.mbps));
    const medOf = (f: (x: RunResult) => number) => median(r.map(f));
    const cpu =
      r[0]!.cpu
        .map(
          (_, i) => `${medOf((x) => x.cpu[i] ?? 0).toFixed(0)} (${medOf((x) => x.sys[i] ?? 0).toFixed(0)})`,
        )
        .join(' / ') || '–';
    const ip = `${medOf((x) => x.iperfCpu[0]).toFixed(0)} / ${medOf((x) => x.iperfCpu[1]).toFixed(0)}`;
    const ratio = (base: number | undefined) => (base ? `${(m / base).toFixed(2)}×` : '–');
    rows.push(
      `| ${id}: ${v.label} | ${m.toFixed(0)} (${lo.toFixed(0)}–${hi.toFixed(0)}) | ${medOf((x) => x.retransmits).toFixed(0)} | ${cpu} | ${ip} | ${medOf((x) => x.cpuPerGbit).toFixed(2)} | ${ratio(plain)} | ${ratio(ovpn)} |`,
    );
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const lab = new NetnsLab('iobench');
  const results: RunResult[] = [];
  try {
    const ns = { a: await lab.addNamespace('a'), b: await lab.addNamespace('b') };
    await lab.addVeth(ns.a, 'va0', ns.b, 'vb0');
    await run(['ip', '-n', ns.a, 'addr', 'add', `${UNDERLAY.a}/24`, 'dev', 'va0']);
    await run(['ip', '-n', ns.b, 'addr', 'add', `${UNDERLAY.b}/24`, 'dev', 'vb0']);
    await lab.exec(ns.a, ['ping', '-c', '1', '-W', '2', UNDERLAY.b]);
    for (let round = 1; round <= o.rounds; round++) {
      for (const id of o.variants) {
        const v = VARIANTS.find((x) => x.id === id)!;
        const r = await once(lab, ns, v, o, round);
        if (!r) continue;
        results.push(r);
        console.error(
          `round ${round} ${id}: ${r.mbps.toFixed(0)} Mbit/s, retr ${r.retransmits}, cpu ${r.cpu.map((c) => c.toFixed(0)).join('/')}% (sys ${r.sys.map((c) => c.toFixed(0)).join('/')}%), load ${r.load1.toFixed(1)}, busy before ${r.busyBefore.toFixed(0)}%`,
        );
      }
    }
  } finally {
    await lab.cleanup();
  }
  const md = [
    `Machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, Linux ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, Node ${process.version}.`,
    `iperf3 TCP, ${o.streams} stream(s), ${o.seconds} s per run (first second omitted), inner MTU ${o.mtu}, ${o.rounds} interleaved rounds${o.nice ? `, every traffic process at nice ${o.nice}` : ''}.`,
    `Load average before the runs: ${results.map((r) => r.load1.toFixed(1)).join(', ')}; machine busy before each run: ${results.map((r) => r.busyBefore.toFixed(0)).join(', ')} %.`,
    '',
    table(results, o),
  ].join('\n');
  console.log(md);
  if (o.md) writeFileSync(o.md, `${md}\n`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, results }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
