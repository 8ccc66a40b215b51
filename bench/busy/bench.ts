/**
 * Many busy sessions through one server at once (docs/benchmarks.md,
 * "Busy sessions"). For each MPPE variant, in a fresh pair of the lab's
 * namespaces (bench/lab/netns.ts):
 *
 * ```
 * server ns: pptp-ts serve (compiled), one shared TUN, local 198.19.0.1,
 *            user busyN gets the fixed address of session N
 * client ns: N sessions, each with its own TUN pbusyN and its own underlay
 *            address 198.18.M.K: all in one process (clients.ts, the
 *            default) or N × pptp-ts connect (compiled, --local-address)
 *
 * 1. session 1 alone: one iperf3 TCP stream, measured over a window → the
 *    single-session figure
 * 2. sessions 2..N come up (a few at a time)
 * 3. N iperf3 servers (ports 5201..5200+N) on the server side; N iperf3
 *    clients, each bound to its tunnel address and device, started together
 * 4. the common window: once every stream flows (each TUN's tx counter
 *    rises) and --omit s have passed, every TUN counter is read, --time s
 *    later again; each session's rate, the aggregate, Jain's index, the
 *    server's CPU, all over that window
 * 5. everything stopped by PID, namespaces deleted, checked gone
 * ```
 *
 * Why a window: on a loaded machine starting N iperf3 clients takes tens of
 * seconds, so the streams' own averages cover different seconds and their
 * sum is no rate the sessions reached together. Each stream is given a
 * duration (`-t`) that covers a bounded start-up allowance, the warm-up,
 * the window and a margin, and ends by itself: iperf3 reports its
 * receiver's byte count (the through-the-tunnel check below) only for a
 * test that ends normally, not for one stopped by a signal.
 *
 * Each session's TUN counter must have sent, over the whole stream, at
 * least the bytes its iperf3 receiver counted: a session whose traffic went
 * elsewhere fails.
 *
 * One underlay address per client, as separate hosts would have: every raw
 * GRE socket bound to an address gets a copy of every GRE packet to that
 * address (Linux `raw_v4_input`), so clients sharing one address would
 * each be handed, and have to drop, all the sessions' GRE. (Each client's
 * kernel filter keeps only its own Call ID: docs/native-io.md. The copies
 * are still made, one per socket on the address, in the kernel.)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '../lab/contenders/util.js';
import { machineInfo } from '../lab/machine.js';
import { type ExecResult, Lab, type LabProcess, run, waitUntil } from '../lab/netns.js';
import { parseIperfTcp } from '../lab/parse.js';
import { busyPercent, cpuPercent, parseCpuTimes, readProcTable, withDescendants } from '../lab/proc.js';
import type { ClientLine, ClientsSpec } from './clients.js';
import {
  BUSY_SCHEMA,
  type BusyClients,
  type BusyMppe,
  type BusyResult,
  type BusySettings,
  type BusyWindow,
  busyChart,
  type CounterSample,
  describeWindow,
  flowingDevices,
  renderBusyMarkdown,
  type SessionFigure,
  summarizeVariant,
  type VariantResult,
  windowRates,
} from './report.js';

const BIN = fileURLToPath(new URL('../../bin/pptp-ts.js', import.meta.url));
const CLIENTS = fileURLToPath(new URL('./clients.ts', import.meta.url));
const DEFAULT_OUT_DIR = fileURLToPath(new URL('../results', import.meta.url));
const SERVER_ADDRESS = '198.19.0.1';
const SERVER_DEV = 'pbusysrv';
const BASE_PORT = 5200;
/** Sessions brought up at once (each start is a Node process: the machine is the limit). */
const UP_CONCURRENCY = 4;
/** Sessions brought up at once in the one client process (a session start there is a few objects). */
const UP_CONCURRENCY_ONE_PROCESS = 16;
export const MAX_SESSIONS = 1000;
/** Between two readings of the counters while waiting for the streams to flow. */
const POLL_MS = 1000;
/** Each stream's `-t` beyond allowance + warm-up + window: the last poll and the readings take time too. */
const STREAM_MARGIN_SEC = 5;

/**
 * Bound on the wait for `streams` iperf3 streams, started together, all to
 * flow, s: starting one iperf3 takes about 0.2–0.5 s on the loaded 2-core
 * machine (100 took 20–53 s), so 0.8 s each and 10 s on top.
 */
export function startAllowanceSec(streams: number): number {
  return Math.ceil(10 + streams * 0.8);
}

/**
 * Each iperf3 stream's `-t`: long enough that the first stream started is
 * still running when the window closes, however late the last one flowed
 * within the allowance.
 */
export function streamSeconds(allowanceSec: number, omitSec: number, timeSec: number): number {
  return allowanceSec + omitSec + timeSec + STREAM_MARGIN_SEC;
}

export interface BusyOptions {
  sessions?: number;
  timeSec?: number;
  omitSec?: number;
  mppe?: 'both' | BusyMppe;
  mtu?: number;
  /** Where the client sessions run (default one-process: bench/busy/clients.ts). */
  clients?: BusyClients;
  /** Bound on one session coming up (default 60 s: the machine may be shared). */
  upTimeoutMs?: number;
  outDir?: string | null;
  log?: (line: string) => void;
}

/** The bench cannot run here (not root, a tool missing, a bad option). */
export class BusySetupError extends Error {
  override readonly name = 'BusySetupError';
}

/** Session i's (1-based) tunnel address: 250 to a /24 from 198.19.1.2 (RFC 2544's range). */
export function sessionAddress(i: number): string {
  const k = i - 1;
  return `198.19.${1 + Math.floor(k / 250)}.${(k % 250) + 2}`;
}

/**
 * Client i's (1-based) underlay address, which its `pptp-ts connect
 * --local-address` binds to: 250 to a /24 from 198.18.1.2, next to the
 * lab's underlay 198.18.0.0/24 (RFC 2544's range; the tunnels use 198.19).
 */
export function clientUnderlayAddress(i: number): string {
  const k = i - 1;
  return `198.18.${1 + Math.floor(k / 250)}.${(k % 250) + 2}`;
}

/** The prefix that holds every {@link clientUnderlayAddress} (and the lab's underlay): the server's route back. */
export const CLIENT_UNDERLAY_ROUTE = '198.18.0.0/16';

/**
 * `ip -batch` lines that give the client namespace's `dev` the clients'
 * underlay addresses (host addresses: the lab's /24 route reaches the server).
 */
export function clientAddressBatch(n: number, dev: string): string {
  let out = '';
  for (let i = 1; i <= n; i++) out += `addr add ${clientUnderlayAddress(i)}/32 dev ${dev}\n`;
  return out;
}

/** The server's pool: exactly the sessions' addresses, as ranges. */
export function poolSpec(n: number): string {
  const parts: string[] = [];
  for (let first = 1; first <= n; first += 250) {
    const last = Math.min(n, first + 249);
    parts.push(`${sessionAddress(first)}-${sessionAddress(last)}`);
  }
  return parts.join(',');
}

function settingsOf(o: BusyOptions): BusySettings {
  const s: BusySettings = {
    sessions: o.sessions ?? 100,
    timeSec: o.timeSec ?? 10,
    omitSec: o.omitSec ?? 1,
    mppe: o.mppe === 'on' ? ['on'] : o.mppe === 'off' ? ['off'] : ['on', 'off'],
    mtu: o.mtu ?? 1400,
    clients: o.clients ?? 'one-process',
  };
  const bad = (w: string) => {
    throw new BusySetupError(`bench busy: ${w}`);
  };
  if (!Number.isInteger(s.sessions) || s.sessions < 1 || s.sessions > MAX_SESSIONS)
    bad(`sessions must be 1..${MAX_SESSIONS}`);
  if (!Number.isInteger(s.timeSec) || s.timeSec < 1 || s.timeSec > 600) bad('time must be 1..600 s');
  if (!Number.isInteger(s.omitSec) || s.omitSec < 0 || s.omitSec > 60) bad('omit must be 0..60 s');
  if (!Number.isInteger(s.mtu) || s.mtu < 576 || s.mtu > 1450) bad('mtu must be 576..1450');
  return s;
}

function checkHost(): void {
  if (process.getuid?.() !== 0)
    throw new BusySetupError('bench busy: needs root (network namespaces, TUN devices)');
  const tools: [string, string][] = [
    ['ip', 'iproute2'],
    ['ss', 'iproute2'],
    ['iperf3', 'iperf3'],
  ];
  const gone = tools.filter(([b]) => which(b) === undefined);
  if (gone.length > 0)
    throw new BusySetupError(
      `bench busy: ${gone.map(([b]) => b).join(', ')} not installed ` +
        `(apt-get install -y ${[...new Set(gone.map(([, p]) => p))].join(' ')})`,
    );
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Bytes each interface in `ns` has sent (`ip -s -j link`, one call for all), by name, and when. */
async function txBytes(lab: Lab, ns: string): Promise<CounterSample> {
  const before = performance.now();
  const r = await lab.ip(ns, ['-s', '-j', 'link', 'show']);
  const atMs = (before + performance.now()) / 2;
  const tx = new Map<string, number>();
  for (const l of JSON.parse(r.stdout) as { ifname: string; stats64?: { tx?: { bytes?: number } } }[]) {
    tx.set(l.ifname, l.stats64?.tx?.bytes ?? 0);
  }
  return { atMs, tx };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What `measureStreams` measured: the window, and each stream's whole run. */
interface StreamsRun {
  readonly window: BusyWindow;
  /** Each session's rate and bytes over the window, by session number (0 for one not flowing). */
  readonly rate: Map<number, { mbps: number; bytes: number }>;
  /** Each iperf3 client's output, by session number. */
  readonly results: Map<number, ExecResult>;
  /** TUN bytes over the whole run, from before the first stream started to after the last ended. */
  readonly wholeTx: (device: string) => number;
  readonly serverCpuPct: number;
  readonly clientCpuPct: number;
  readonly machineBusyPct: number;
  readonly wallSec: number;
}

/** The remote addresses of the established TCP connections to local port `port` in `ns`. */
async function tcpPeers(lab: Lab, ns: string, port: number): Promise<Set<string>> {
  const r = await lab.exec(ns, ['ss', '-Htn4', 'state', 'established', `( sport = :${port} )`], {
    timeoutMs: 5000,
  });
  const peers = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const m = /(\d+\.\d+\.\d+\.\d+):\d+\s*$/.exec(line.trim());
    if (m) peers.add(m[1]!);
  }
  return peers;
}

/** Ports listening on TCP in `ns`. */
async function listening(lab: Lab, ns: string): Promise<Set<number>> {
  const r = await lab.exec(ns, ['ss', '-Hltn'], { timeoutMs: 5000 });
  const ports = new Set<number>();
  for (const m of r.stdout.matchAll(/:(\d+)\s/g)) ports.add(Number(m[1]));
  return ports;
}

async function hasAddress(lab: Lab, ns: string, dev: string, address: string): Promise<boolean> {
  const r = await lab.ip(ns, ['-j', '-4', 'addr', 'show', 'dev', dev], { allowFail: true });
  if (r.code !== 0) return false;
  const links = JSON.parse(r.stdout) as { addr_info?: { local?: string }[] }[];
  return links.some((l) => (l.addr_info ?? []).some((a) => a.local === address));
}

interface Session {
  readonly n: number;
  readonly address: string;
  readonly device: string;
  /** The client's own underlay address (`--local-address`). */
  readonly underlay: string;
  client?: LabProcess;
}

/** The distinct client processes carrying `group`'s sessions. */
function clientPids(group: readonly Session[]): number[] {
  return [...new Set(group.map((x) => x.client?.pid).filter((p): p is number => p !== undefined))];
}

/** One variant in its own namespaces; always cleans up. */
async function runVariant(
  mppe: BusyMppe,
  s: BusySettings,
  upTimeoutMs: number,
  log: (l: string) => void,
  started: number[],
): Promise<VariantResult> {
  const lab = await Lab.create();
  const sessions: Session[] = Array.from({ length: s.sessions }, (_, k) => ({
    n: k + 1,
    address: sessionAddress(k + 1),
    device: `pbusy${k + 1}`,
    underlay: clientUnderlayAddress(k + 1),
  }));
  let singleMbps = 0;
  let singleIperfMbps = 0;
  let singleWindow: BusyWindow | undefined;
  let busyWindow: BusyWindow | undefined;
  let figures: SessionFigure[] = [];
  let serverCpuPct = 0;
  let clientCpuPct: number | undefined;
  let machineBusyPct = 0;
  let busyWallSec: number | undefined;
  let error: string | undefined;
  const iperfServers: LabProcess[] = [];
  let server: LabProcess | undefined;
  try {
    log(
      `bench busy: ${mppe === 'on' ? 'MPPE-128 stateless' : 'MPPE off'}: namespaces ${lab.serverNs}, ${lab.clientNs}`,
    );
    const password = randomBytes(12).toString('hex');
    const secrets = join(lab.tmpDir, 'chap-secrets');
    writeFileSync(secrets, sessions.map((x) => `busy${x.n} * ${password} ${x.address}\n`).join(''), {
      mode: 0o600,
    });
    const passwordFile = join(lab.tmpDir, 'password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    const n = s.sessions;
    const config = {
      listen: lab.serverUnderlay,
      name: 'pptp-ts',
      'local-ip': SERVER_ADDRESS,
      pool: poolSpec(n),
      secrets,
      interface: { mode: 'shared', name: SERVER_DEV },
      ppp:
        mppe === 'off'
          ? { nomppe: true, 'require-mppe-128': false, mtu: s.mtu, mru: s.mtu }
          : { 'require-mppe-128': true, 'mppe-stateful': false, mtu: s.mtu, mru: s.mtu },
      // Every client comes from its own address: the per-address limits stay at their defaults.
      log: { level: 'warn' },
    };
    const configPath = join(lab.tmpDir, 'server.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
    const batch = join(lab.tmpDir, 'client-addresses');
    writeFileSync(batch, clientAddressBatch(n, lab.underlayDevice));
    await lab.ip(lab.clientNs, ['-batch', batch]);
    await lab.ip(lab.serverNs, ['route', 'add', CLIENT_UNDERLAY_ROUTE, 'dev', lab.underlayDevice]);

    const srv = lab.spawn(
      lab.serverNs,
      [process.execPath, BIN, 'serve', '--config', configPath],
      'pptp-ts serve',
    );
    server = srv;
    started.push(srv.pid);
    await waitUntil(
      'pptp-ts serve to listen on TCP 1723',
      async () => {
        if (srv.exited()) throw new Error(`pptp-ts serve exited: ${srv.output().trim().slice(-500)}`);
        return (await listening(lab, lab.serverNs)).has(1723);
      },
      upTimeoutMs,
    );

    // --clients one-process: every session in one client process, started with the first.
    let shared: LabProcess | undefined;
    const clientsProcess = (): LabProcess => {
      if (shared) return shared;
      const spec: ClientsSpec = { server: lab.serverUnderlay, passwordFile, mtu: s.mtu, mppe };
      shared = lab.spawn(
        lab.clientNs,
        [process.execPath, '--import', 'tsx', CLIENTS, JSON.stringify(spec)],
        'client sessions process',
        undefined,
        true,
      );
      started.push(shared.pid);
      return shared;
    };
    const upInOneProcess = async (x: Session) => {
      const c = clientsProcess();
      x.client = c;
      const line: ClientLine = { n: x.n, underlay: x.underlay, user: `busy${x.n}`, device: x.device };
      c.child.stdin!.write(`${JSON.stringify(line)}\n`);
      await waitUntil(
        `session ${x.n} to get ${x.address} on ${x.device}`,
        async () => {
          if (c.exited())
            throw new Error(`the client sessions process exited: ${c.output().trim().slice(-500)}`);
          return hasAddress(lab, lab.clientNs, x.device, x.address);
        },
        upTimeoutMs,
        100,
      );
    };

    const up = async (x: Session) => {
      if (s.clients === 'one-process') return upInOneProcess(x);
      const c = lab.spawn(
        lab.clientNs,
        [
          process.execPath,
          BIN,
          'connect',
          lab.serverUnderlay,
          '--local-address',
          x.underlay,
          '--user',
          `busy${x.n}`,
          '--password-file',
          passwordFile,
          '--ifname',
          x.device,
          '--mtu',
          String(s.mtu),
          '--mru',
          String(s.mtu),
          '--no-host-route',
          '--mppe',
          mppe === 'on' ? 'required,128,stateless' : 'off',
        ],
        `pptp-ts connect #${x.n}`,
      );
      x.client = c;
      started.push(c.pid);
      await waitUntil(
        `session ${x.n} to get ${x.address} on ${x.device}`,
        async () => {
          if (c.exited()) throw new Error(`pptp-ts connect #${x.n} exited: ${c.output().trim().slice(-500)}`);
          return hasAddress(lab, lab.clientNs, x.device, x.address);
        },
        upTimeoutMs,
        100,
      );
    };

    const iperfServer = async (group: readonly Session[]) => {
      for (const x of group) {
        const p = lab.spawn(
          lab.serverNs,
          ['iperf3', '-s', '-1', '-B', SERVER_ADDRESS, '-p', String(BASE_PORT + x.n)],
          `iperf3 server #${x.n}`,
        );
        iperfServers.push(p);
        started.push(p.pid);
      }
      await waitUntil(
        `${group.length} iperf3 server(s) to listen`,
        async () => {
          const ports = await listening(lab, lab.serverNs);
          return group.every((x) => ports.has(BASE_PORT + x.n));
        },
        30_000,
        100,
      );
    };

    const iperfClient = (x: Session, streamSec: number, allowanceSec: number) =>
      lab.exec(
        lab.clientNs,
        [
          'iperf3',
          '-c',
          SERVER_ADDRESS,
          '-p',
          String(BASE_PORT + x.n),
          '-B',
          x.address,
          '--bind-dev',
          x.device,
          '-t',
          String(streamSec),
          '-O',
          String(s.omitSec),
          '--connect-timeout',
          '10000',
          '-J',
        ],
        { allowFail: true, timeoutMs: (streamSec + allowanceSec + 60) * 1000 },
      );

    /**
     * Starts one stream per session of `group` together, waits (bounded)
     * until each flows, the warm-up, then reads every TUN counter at the
     * start and the end of the window; waits for the streams to end.
     */
    const measureStreams = async (group: readonly Session[]): Promise<StreamsRun> => {
      const allowanceSec = startAllowanceSec(group.length);
      const streamSec = streamSeconds(allowanceSec, s.omitSec, s.timeSec);
      const whole0 = await txBytes(lab, lab.clientNs);
      const startMs = performance.now();
      const endedAt = new Map<number, number>();
      const pending = group.map((x) =>
        iperfClient(x, streamSec, allowanceSec).then((r) => {
          endedAt.set(x.n, performance.now());
          return [x.n, r] as const;
        }),
      );

      const measure = async () => {
        // 1. Bounded: until every stream flows (or has ended without, or the allowance runs out).
        const flowing = new Set<number>();
        let prev = whole0;
        const waiting = () => group.filter((x) => !flowing.has(x.n) && !endedAt.has(x.n));
        while (waiting().length > 0 && performance.now() - startMs < allowanceSec * 1000) {
          await sleep(POLL_MS);
          const cur = await txBytes(lab, lab.clientNs);
          const moved = new Set(
            flowingDevices(
              prev,
              cur,
              waiting().map((x) => x.device),
            ),
          );
          for (const x of group) if (moved.has(x.device)) flowing.add(x.n);
          prev = cur;
        }
        const allFlowingAfterSec =
          flowing.size === group.length ? (performance.now() - startMs) / 1000 : undefined;
        // 2. The warm-up, then the window.
        await sleep(s.omitSec * 1000);
        const a = await txBytes(lab, lab.clientNs);
        const p0 = readProcTable();
        const c0 = parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
        await sleep(Math.max(0, s.timeSec * 1000 - (performance.now() - a.atMs)));
        const b = await txBytes(lab, lab.clientNs);
        const p1 = readProcTable();
        const c1 = parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
        const w = windowRates(
          a,
          b,
          group.map((x) => x.device),
        );
        const endedInside = group
          .filter((x) => flowing.has(x.n) && (endedAt.get(x.n) ?? Number.POSITIVE_INFINITY) <= b.atMs)
          .map((x) => x.n);
        const rate = new Map<number, { mbps: number; bytes: number }>();
        group.forEach((x, k) => {
          const counts = flowing.has(x.n) && !endedInside.includes(x.n);
          rate.set(x.n, counts ? { mbps: w.mbps[k]!, bytes: w.bytes[k]! } : { mbps: 0, bytes: 0 });
        });
        const window: BusyWindow = {
          streams: group.length,
          seconds: w.seconds,
          warmupSec: s.omitSec,
          ...(allFlowingAfterSec !== undefined ? { allFlowingAfterSec } : {}),
          allowanceSec,
          streamSec,
          notFlowing: group.filter((x) => !flowing.has(x.n)).map((x) => x.n),
          endedInside,
        };
        return {
          window,
          rate,
          serverCpuPct: cpuPercent(p0, p1, withDescendants(p1, [srv.pid]), b.atMs - a.atMs),
          clientCpuPct: cpuPercent(p0, p1, withDescendants(p1, clientPids(group)), b.atMs - a.atMs),
          machineBusyPct: busyPercent(c0, c1),
        };
      };

      // 3. Every stream ends by itself (its -t), so iperf3 reports what its receiver got; even
      // when a reading failed, none is left running (each ends by its -t or its time-out).
      const measured = await measure().finally(() => Promise.allSettled(pending));
      const results = new Map(await Promise.all(pending));
      const whole1 = await txBytes(lab, lab.clientNs);
      return {
        ...measured,
        results,
        wholeTx: (device) => (whole1.tx.get(device) ?? 0) - (whole0.tx.get(device) ?? 0),
        wallSec: (performance.now() - startMs) / 1000,
      };
    };

    // 1. One session alone, measured as the busy phase is.
    const first = sessions[0]!;
    await up(first);
    await iperfServer([first]);
    const alone = await measureStreams([first]);
    singleWindow = alone.window;
    singleMbps = alone.rate.get(first.n)!.mbps;
    singleIperfMbps = parseIperfTcp(alone.results.get(first.n)?.stdout ?? '').mbps;
    if (singleMbps === 0)
      throw new Error(`session 1 alone carried nothing in its window (${describeWindow(alone.window)})`);
    log(
      `  one session alone: ${singleMbps.toFixed(1)} Mbit/s over ${alone.window.seconds.toFixed(1)} s ` +
        `(iperf3 ${singleIperfMbps.toFixed(1)} Mbit/s)`,
    );

    // 2. The others come up, a few at a time.
    // A session that does not come up is measured as carrying nothing (it counts against the
    // aggregate and the fairness), and the others go on.
    const rest = sessions.slice(1);
    const notUp = new Map<number, string>();
    const upAtOnce = s.clients === 'one-process' ? UP_CONCURRENCY_ONE_PROCESS : UP_CONCURRENCY;
    for (let k = 0; k < rest.length; k += upAtOnce) {
      const group = rest.slice(k, k + upAtOnce);
      const settled = await Promise.allSettled(group.map(up));
      settled.forEach((r, j) => {
        if (r.status === 'rejected') notUp.set(group[j]!.n, `did not come up: ${errorText(r.reason)}`);
      });
    }
    const live = sessions.filter((x) => !notUp.has(x.n));
    log(`  ${live.length} of ${sessions.length} sessions up`);
    // Each client's control connection (and so its GRE) must come from its own address.
    const peers = await tcpPeers(lab, lab.serverNs, 1723);

    // 3. All at once. Session 1's one-shot server has finished: start fresh ones for everybody.
    await iperfServer(live);
    const busyRun = await measureStreams(live);
    busyWindow = busyRun.window;
    serverCpuPct = busyRun.serverCpuPct;
    clientCpuPct = busyRun.clientCpuPct;
    machineBusyPct = busyRun.machineBusyPct;
    busyWallSec = busyRun.wallSec;
    log(`  window: ${describeWindow(busyRun.window)}`);

    const notFlowing = new Set(busyRun.window.notFlowing);
    const ended = new Set(busyRun.window.endedInside);
    figures = sessions.map((x) => {
      const deviceTxBytes = busyRun.wholeTx(x.device);
      const inWindow = busyRun.rate.get(x.n) ?? { mbps: 0, bytes: 0 };
      const ownAddress = peers.has(x.underlay);
      const base = {
        session: x.n,
        address: x.address,
        device: x.device,
        ...(ownAddress ? { underlay: x.underlay } : {}),
        deviceTxBytes,
        windowBytes: inWindow.bytes,
      };
      try {
        const result = busyRun.results.get(x.n);
        if (!result) throw new Error(notUp.get(x.n) ?? 'not measured');
        if (!ownAddress) throw new Error(`the server saw no control connection from ${x.underlay}`);
        const r = parseIperfTcp(result.stdout);
        if (deviceTxBytes < r.bytes)
          throw new Error(
            `${x.device} sent ${deviceTxBytes} bytes but iperf3 received ${r.bytes}: not through the tunnel`,
          );
        const counted = { ...base, iperfMbps: r.mbps, bytes: r.bytes, retransmits: r.retransmits };
        if (notFlowing.has(x.n))
          return {
            ...counted,
            mbps: 0,
            error: `not flowing ${busyRun.window.allowanceSec} s after the start`,
          };
        if (ended.has(x.n)) return { ...counted, mbps: 0, error: 'its stream ended inside the window' };
        return { ...counted, mbps: inWindow.mbps };
      } catch (e) {
        return { ...base, mbps: 0, iperfMbps: 0, bytes: 0, retransmits: 0, error: errorText(e) };
      }
    });
  } catch (e) {
    error = errorText(e);
    const said = [server, ...new Set(sessions.map((x) => x.client))]
      .filter((p): p is LabProcess => p !== undefined)
      .slice(0, 3)
      .map((p) => `${p.label}: ${p.output().trim().slice(-300) || '(nothing)'}`)
      .join(' | ');
    log(`  FAILED: ${error}; ${said}`);
    error = `${error}; ${said}`;
  }
  // Clients first (they hang up cleanly), then the iperf3 servers and the server.
  const clients = [...new Set(sessions.map((x) => x.client))].filter((p): p is LabProcess => p !== undefined);
  // The one client process hangs up all its sessions at once (each step bounded, 8 s in all: clients.ts).
  await Promise.all(clients.map((p) => p.stop(s.clients === 'one-process' ? 10_000 : 5000)));
  await Promise.all(iperfServers.map((p) => p.stop(2000)));
  if (server) await server.stop(5000);
  let residue: string[] = [];
  try {
    residue = await lab.residue();
    if (residue.length > 0) {
      log(`  left behind: ${residue.join(', ')} (removing)`);
      await lab.scrub();
    }
  } finally {
    await lab.close();
  }
  return {
    mppe,
    singleMbps,
    singleIperfMbps,
    ...(singleWindow ? { singleWindow } : {}),
    sessions: figures,
    ...(busyWindow ? { window: busyWindow } : {}),
    serverCpuPct,
    ...(clientCpuPct !== undefined ? { clientCpuPct, clientProcesses: clientPids(sessions).length } : {}),
    machineBusyPct,
    ...(busyWallSec !== undefined ? { busyWallSec } : {}),
    summary: summarizeVariant(singleMbps, figures),
    residue,
    ...(error !== undefined ? { error } : {}),
  };
}

/** Our namespaces and processes still on the host (after every lab is closed). */
async function leftBehind(pids: readonly number[]): Promise<string[]> {
  const out: string[] = [];
  const r = await run(['ip', 'netns', 'list'], { allowFail: true });
  const prefix = `pptpbench-${process.pid}-`;
  for (const line of r.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(prefix)) out.push(`namespace ${name}`);
  }
  for (const pid of pids) {
    let stat = '';
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone
    }
    // A zombie has finished; only its parent's wait is missing.
    if (!/^\d+ \(.*\) [ZX] /s.test(stat)) out.push(`process ${pid} (${/\((.*)\)/s.exec(stat)?.[1] ?? '?'})`);
  }
  return out;
}

function stampOf(iso: string): string {
  return iso.replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
}

/** Runs the bench; writes busy-STAMP.{json,md} and busy-STAMP-sessions.svg under outDir. */
export async function runBusyBench(options: BusyOptions = {}): Promise<BusyResult> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const s = settingsOf(options);
  checkHost();
  const m = await machineInfo();
  const startedAt = new Date().toISOString();
  const variants: VariantResult[] = [];
  // Every long-lived process the bench starts, by PID, to check they are all gone at the end.
  const started: number[] = [];
  for (const mppe of s.mppe)
    variants.push(await runVariant(mppe, s, options.upTimeoutMs ?? 60_000, log, started));
  const left = await leftBehind(started);
  const result: BusyResult = {
    schema: BUSY_SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    settings: s,
    machine: { cpuModel: m.cpuModel, cpus: m.cpus, kernel: m.kernel },
    variants,
    leftBehind: left,
    ok:
      left.length === 0 &&
      variants.every((v) => !v.error && v.residue.length === 0 && v.summary.carried === v.summary.sessions),
  };
  const outDir = options.outDir === undefined ? DEFAULT_OUT_DIR : options.outDir;
  if (outDir !== null) {
    mkdirSync(outDir, { recursive: true });
    const stem = `busy-${stampOf(startedAt)}`;
    const chart = await busyChart(result, stem);
    result.files = {
      json: join(outDir, `${stem}.json`),
      markdown: join(outDir, `${stem}.md`),
      chart: join(outDir, chart.file),
    };
    writeFileSync(result.files.chart!, chart.svg);
    writeFileSync(result.files.json, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(result.files.markdown, renderBusyMarkdown(result, chart));
  }
  return result;
}
