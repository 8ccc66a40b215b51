/**
 * Measuring one tunnel that is up: ping RTT, iperf3 TCP (1 and 4 streams)
 * and UDP (1400-byte and 64-byte datagrams), the CPU the tunnel's processes
 * used during each run, and their memory at the end.
 *
 * Every figure is checked against the kernel's own view before it is kept:
 * the route to the target must leave through the tunnel device, and the
 * tunnel devices' counters (and, for encapsulating tunnels, the underlay's)
 * must have carried at least what iperf3 says arrived. A contender that
 * somehow bypasses its tunnel fails instead of posting a figure.
 */
import { readFileSync } from 'node:fs';
import type { Tunnel } from './contender.js';
import { type ExecResult, type Lab, waitUntil } from './netns.js';
import {
  type LinkCounters,
  type PingRun,
  parseIperfTcp,
  parseIperfUdp,
  parseLinkCounters,
  parsePing,
  type TcpRun,
  type UdpRun,
} from './parse.js';
import {
  type CpuTimes,
  cpuByProcess,
  type ProcessCpu,
  type ProcTable,
  parseCpuTimes,
  readProcTable,
  readRss,
  withDescendants,
} from './proc.js';

/** The measurements the lab knows, in the order it takes them. */
export const METRICS = ['ping', 'tcp1', 'tcp4', 'udp1400', 'udp64'] as const;
export type Metric = (typeof METRICS)[number];

/** How to measure (the lab's options, resolved). */
export interface MeasureConfig {
  readonly metrics: ReadonlySet<Metric>;
  /** Seconds each iperf3 run measures. */
  readonly durationSec: number;
  /** Seconds of warm-up iperf3 runs first and leaves out (`-O`), TCP only. */
  readonly omitSec: number;
  /** Offered UDP rate in bit/s; 0 = as fast as iperf3 can send. */
  readonly udpRateBps: number;
  readonly pingCount: number;
  readonly pingIntervalSec: number;
  /** How long the tunnel may take to answer its first ping (WireGuard's handshake, PPP negotiation). */
  readonly reachTimeoutMs: number;
}

/** A run's figures were not carried by the tunnel (or could not be checked). */
export class BypassError extends Error {
  override readonly name = 'BypassError';
}

/** CPU use of the tunnel's processes during one iperf3 run. */
export interface TunnelCpu {
  /** Sum over the tunnel's processes (both ends), percent of one core; null for kernel tunnels. */
  readonly pctOfCore: number | null;
  readonly byProcess: readonly ProcessCpu[];
  /** Everything busy on the machine during the run, percent of all CPUs. */
  readonly machineBusyPct: number;
}

/** Counter deltas over one iperf3 run. */
export interface CounterCheck {
  readonly clientDevice: LinkCounters;
  readonly serverDevice: LinkCounters;
  readonly clientUnderlay: LinkCounters;
}

export interface TcpMeasurement extends TcpRun {
  readonly cpu: TunnelCpu;
  readonly counters: CounterCheck;
}

export interface UdpMeasurement extends UdpRun {
  /** Offered rate, bit/s (0 = unlimited). */
  readonly offeredBps: number;
  readonly cpu: TunnelCpu;
  readonly counters: CounterCheck;
}

/** Memory of one tunnel process (or child) after a round. */
export interface ProcessRss {
  readonly side: 'server' | 'client';
  readonly pid: number;
  readonly comm: string;
  readonly rssKb: number;
  readonly hwmKb: number;
}

/** Everything measured in one round of one contender. */
export interface Measurements {
  ping?: PingRun;
  tcp1?: TcpMeasurement;
  tcp4?: TcpMeasurement;
  udp1400?: UdpMeasurement;
  udp64?: UdpMeasurement;
  /** Memory of the tunnel's processes (not their children) after the runs. */
  rss?: readonly ProcessRss[];
}

const IPERF_PORT = 5201;

function diff(a: LinkCounters, b: LinkCounters): LinkCounters {
  return {
    rxBytes: b.rxBytes - a.rxBytes,
    rxPackets: b.rxPackets - a.rxPackets,
    txBytes: b.txBytes - a.txBytes,
    txPackets: b.txPackets - a.txPackets,
  };
}

async function counters(lab: Lab, ns: string, dev: string): Promise<LinkCounters> {
  const r = await lab.ip(ns, ['-s', '-j', 'link', 'show', 'dev', dev]);
  return parseLinkCounters(r.stdout);
}

interface Snapshot {
  readonly client: LinkCounters;
  readonly server: LinkCounters;
  readonly underlay: LinkCounters;
  readonly procs: ProcTable;
  readonly cpu: CpuTimes;
  readonly t: number;
}

async function snapshot(lab: Lab, tunnel: Tunnel): Promise<Snapshot> {
  const [client, server, underlay] = await Promise.all([
    counters(lab, lab.clientNs, tunnel.clientDevice),
    counters(lab, lab.serverNs, tunnel.serverDevice),
    counters(lab, lab.clientNs, lab.underlayDevice),
  ]);
  return {
    client,
    server,
    underlay,
    procs: readProcTable(),
    cpu: parseCpuTimes(readFileSync('/proc/stat', 'utf8')),
    t: performance.now(),
  };
}

function tunnelCpu(tunnel: Tunnel, a: Snapshot, b: Snapshot): TunnelCpu {
  const wallMs = b.t - a.t;
  const sum = (c: CpuTimes) => c.user + c.nice + c.system + c.idle + c.iowait + c.irq + c.softirq + c.steal;
  const total = sum(b.cpu) - sum(a.cpu);
  const idle = b.cpu.idle + b.cpu.iowait - (a.cpu.idle + a.cpu.iowait);
  const machineBusyPct = total > 0 ? ((total - idle) / total) * 100 : 0;
  if (tunnel.processes.length === 0) return { pctOfCore: null, byProcess: [], machineBusyPct };
  const pids = withDescendants(
    b.procs,
    tunnel.processes.map((p) => p.pid),
  );
  const byProcess = cpuByProcess(a.procs, b.procs, pids, wallMs);
  return { pctOfCore: byProcess.reduce((s, p) => s + p.pctOfCore, 0), byProcess, machineBusyPct };
}

/**
 * The kernel's check on one run: the tunnel devices on both ends, and the
 * client's underlay for a tunnel that encapsulates, carried at least what
 * iperf3 says arrived (in bytes for TCP, in datagrams for UDP).
 */
export function checkCounters(
  what: string,
  tunnel: Pick<Tunnel, 'clientDevice' | 'serverDevice'>,
  underlayDevice: string,
  c: CounterCheck,
  arrived: { bytes: number } | { packets: number },
): void {
  const problems: string[] = [];
  const need = (label: string, have: number, want: number, unit: string) => {
    if (have < want) problems.push(`${label} carried ${have} ${unit}, iperf3 received ${want}`);
  };
  if ('bytes' in arrived) {
    need(`client ${tunnel.clientDevice} tx`, c.clientDevice.txBytes, arrived.bytes, 'bytes');
    need(`server ${tunnel.serverDevice} rx`, c.serverDevice.rxBytes, arrived.bytes, 'bytes');
    if (tunnel.clientDevice !== underlayDevice)
      need(`client underlay ${underlayDevice} tx`, c.clientUnderlay.txBytes, arrived.bytes, 'bytes');
  } else {
    need(`client ${tunnel.clientDevice} tx`, c.clientDevice.txPackets, arrived.packets, 'packets');
    need(`server ${tunnel.serverDevice} rx`, c.serverDevice.rxPackets, arrived.packets, 'packets');
    if (tunnel.clientDevice !== underlayDevice)
      need(`client underlay ${underlayDevice} tx`, c.clientUnderlay.txPackets, arrived.packets, 'packets');
  }
  if (problems.length > 0)
    throw new BypassError(`${what}: not carried by the tunnel: ${problems.join('; ')}`);
}

/** Checks that the route from each end to the other's tunnel address leaves through the tunnel device. */
export async function checkRoutes(lab: Lab, tunnel: Tunnel): Promise<void> {
  const via = async (ns: string, to: string) => {
    const r = await lab.ip(ns, ['-j', 'route', 'get', to]);
    const routes = JSON.parse(r.stdout) as { dev?: string }[];
    return routes[0]?.dev;
  };
  const c = await via(lab.clientNs, tunnel.serverAddress);
  if (c !== tunnel.clientDevice)
    throw new BypassError(`route to ${tunnel.serverAddress} leaves through ${c}, not ${tunnel.clientDevice}`);
  const s = await via(lab.serverNs, tunnel.clientAddress);
  if (s !== tunnel.serverDevice)
    throw new BypassError(`route to ${tunnel.clientAddress} leaves through ${s}, not ${tunnel.serverDevice}`);
}

/** Waits (bounded) until the tunnel answers a ping. */
export async function waitReachable(lab: Lab, tunnel: Tunnel, timeoutMs: number): Promise<void> {
  await waitUntil(
    `${tunnel.serverAddress} to answer a ping through ${tunnel.clientDevice}`,
    async () =>
      (
        await lab.exec(lab.clientNs, ['ping', '-c', '1', '-W', '1', tunnel.serverAddress], {
          allowFail: true,
          timeoutMs: 3000,
        })
      ).code === 0,
    timeoutMs,
    100,
  );
}

async function pingRun(lab: Lab, tunnel: Tunnel, cfg: MeasureConfig): Promise<PingRun> {
  const r = await lab.exec(
    lab.clientNs,
    [
      'ping',
      '-q',
      '-n',
      '-c',
      String(cfg.pingCount),
      '-i',
      String(cfg.pingIntervalSec),
      '-W',
      '2',
      tunnel.serverAddress,
    ],
    { allowFail: true, timeoutMs: Math.ceil(cfg.pingCount * cfg.pingIntervalSec * 1000) + 10_000 },
  );
  return parsePing(r.stdout);
}

/**
 * One iperf3 run: a one-shot server (`-1`) bound to the tunnel address in
 * the server namespace, the client in the client namespace, snapshots of
 * counters and CPU around the client.
 */
async function iperfRun(
  lab: Lab,
  tunnel: Tunnel,
  cfg: MeasureConfig,
  args: readonly string[],
  omitSec: number,
): Promise<{ result: ExecResult; a: Snapshot; b: Snapshot }> {
  const server = lab.spawn(
    lab.serverNs,
    ['iperf3', '-s', '-1', '-B', tunnel.serverAddress, '-p', String(IPERF_PORT)],
    'iperf3 server',
  );
  try {
    await waitUntil(
      `iperf3 to listen on ${tunnel.serverAddress}:${IPERF_PORT}`,
      async () => {
        if (server.exited()) throw new Error(`iperf3 server exited: ${server.output().trim()}`);
        const r = await lab.exec(lab.serverNs, ['ss', '-Hltn', `sport = :${IPERF_PORT}`], {
          timeoutMs: 3000,
        });
        return r.stdout.includes(`:${IPERF_PORT}`);
      },
      5000,
    );
    const a = await snapshot(lab, tunnel);
    const result = await lab.exec(
      lab.clientNs,
      [
        'iperf3',
        '-c',
        tunnel.serverAddress,
        '-p',
        String(IPERF_PORT),
        '-t',
        String(cfg.durationSec),
        '-O',
        String(omitSec),
        '--connect-timeout',
        '5000',
        '-J',
        ...args,
      ],
      { allowFail: true, timeoutMs: (cfg.durationSec + omitSec + 20) * 1000 },
    );
    const b = await snapshot(lab, tunnel);
    return { result, a, b };
  } finally {
    await server.stop(2000);
  }
}

function counterCheck(a: Snapshot, b: Snapshot): CounterCheck {
  return {
    clientDevice: diff(a.client, b.client),
    serverDevice: diff(a.server, b.server),
    clientUnderlay: diff(a.underlay, b.underlay),
  };
}

async function tcpRun(
  lab: Lab,
  tunnel: Tunnel,
  cfg: MeasureConfig,
  streams: number,
): Promise<TcpMeasurement> {
  const { result, a, b } = await iperfRun(lab, tunnel, cfg, ['-P', String(streams)], cfg.omitSec);
  const run = parseIperfTcp(result.stdout);
  const counters = counterCheck(a, b);
  checkCounters(`TCP ${streams} stream(s)`, tunnel, lab.underlayDevice, counters, { bytes: run.bytes });
  return { ...run, cpu: tunnelCpu(tunnel, a, b), counters };
}

async function udpRun(
  lab: Lab,
  tunnel: Tunnel,
  cfg: MeasureConfig,
  payloadBytes: number,
): Promise<UdpMeasurement> {
  const { result, a, b } = await iperfRun(
    lab,
    tunnel,
    cfg,
    ['-u', '-l', String(payloadBytes), '-b', String(Math.round(cfg.udpRateBps))],
    // No warm-up for UDP: with -O, iperf 3.12's receiver counts lost
    // datagrams of the omitted second but not their bytes, and the figures
    // disagree (bench/lab/test/fixtures/iperf3-udp-1400-omit.out).
    0,
  );
  const run = parseIperfUdp(result.stdout);
  const counters = counterCheck(a, b);
  checkCounters(`UDP ${payloadBytes} B`, tunnel, lab.underlayDevice, counters, {
    packets: run.receivedPackets,
  });
  return { ...run, offeredBps: cfg.udpRateBps, cpu: tunnelCpu(tunnel, a, b), counters };
}

/** Takes every measurement in `cfg.metrics` on a tunnel that is up. */
export async function measureTunnel(
  lab: Lab,
  tunnel: Tunnel,
  cfg: MeasureConfig,
  log: (line: string) => void,
): Promise<Measurements> {
  await checkRoutes(lab, tunnel);
  await waitReachable(lab, tunnel, cfg.reachTimeoutMs);
  const m: Measurements = {};
  for (const metric of METRICS) {
    if (!cfg.metrics.has(metric)) continue;
    switch (metric) {
      case 'ping':
        m.ping = await pingRun(lab, tunnel, cfg);
        log(`    ping        avg ${m.ping.avgMs.toFixed(3)} ms (${m.ping.received}/${m.ping.transmitted})`);
        break;
      case 'tcp1':
      case 'tcp4': {
        const t = await tcpRun(lab, tunnel, cfg, metric === 'tcp1' ? 1 : 4);
        m[metric] = t;
        log(
          `    ${metric === 'tcp1' ? 'TCP 1 ' : 'TCP 4 '}      ${t.mbps.toFixed(0)} Mbit/s, ${t.retransmits} retransmits` +
            (t.cpu.pctOfCore === null ? '' : `, tunnel CPU ${t.cpu.pctOfCore.toFixed(0)} % of a core`),
        );
        break;
      }
      case 'udp1400':
      case 'udp64': {
        const u = await udpRun(lab, tunnel, cfg, metric === 'udp1400' ? 1400 : 64);
        m[metric] = u;
        log(
          `    UDP ${String(u.payloadBytes).padEnd(4)} B  ${(u.receivedPps / 1000).toFixed(1)} kpps received, loss ${u.lossPct.toFixed(1)} %`,
        );
        break;
      }
      default: {
        const never: never = metric;
        throw new Error(`unknown metric ${String(never)}`);
      }
    }
  }
  if (tunnel.processes.length > 0) {
    // The tunnel's own processes only, not their helpers: `pptp-ts serve`
    // keeps an `ip -batch` child for its session routes, which is iproute2's
    // memory, not the tunnel's (CPU still counts children: they work for it).
    const rss: ProcessRss[] = [];
    for (const tp of tunnel.processes) {
      const r = readRss(tp.pid);
      if (r) rss.push({ side: tp.side, ...r });
    }
    m.rss = rss;
  }
  return m;
}
