/**
 * Many busy sessions through one server at once (docs/benchmarks.md,
 * "Busy sessions"). For each MPPE variant, in a fresh pair of the lab's
 * namespaces (bench/lab/netns.ts):
 *
 * ```
 * server ns: pptp-ts serve (compiled), one shared TUN, local 198.19.0.1,
 *            user busyN gets the fixed address of session N
 * client ns: N × pptp-ts connect (compiled), each with its own TUN pbusyN
 *            and its own underlay address 198.18.M.K (--local-address)
 *
 * 1. session 1 alone: iperf3 TCP ×1 for --time s → the single-session figure
 * 2. sessions 2..N come up (a few at a time)
 * 3. N iperf3 servers (ports 5201..5200+N) on the server side; N iperf3
 *    clients, each bound to its tunnel address and device, started together
 * 4. every session's goodput, the aggregate, Jain's index, the server's CPU
 * 5. everything stopped by PID, namespaces deleted, checked gone
 * ```
 *
 * Each session's TUN counter must have sent at least the bytes its iperf3
 * receiver counted: a session whose traffic went elsewhere fails.
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
import { Lab, type LabProcess, run, waitUntil } from '../lab/netns.js';
import { parseIperfTcp } from '../lab/parse.js';
import { type CpuTimes, cpuByProcess, parseCpuTimes, readProcTable, withDescendants } from '../lab/proc.js';
import {
  BUSY_SCHEMA,
  type BusyMppe,
  type BusyResult,
  type BusySettings,
  busyChart,
  renderBusyMarkdown,
  type SessionFigure,
  streamsOverlap,
  summarizeVariant,
  type VariantResult,
} from './report.js';

const BIN = fileURLToPath(new URL('../../bin/pptp-ts.js', import.meta.url));
const DEFAULT_OUT_DIR = fileURLToPath(new URL('../results', import.meta.url));
const SERVER_ADDRESS = '198.19.0.1';
const SERVER_DEV = 'pbusysrv';
const BASE_PORT = 5200;
/** Sessions brought up at once (each start is a Node process: the machine is the limit). */
const UP_CONCURRENCY = 4;
export const MAX_SESSIONS = 1000;

export interface BusyOptions {
  sessions?: number;
  timeSec?: number;
  omitSec?: number;
  mppe?: 'both' | BusyMppe;
  mtu?: number;
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

/** Bytes each interface in `ns` has sent (`ip -s -j link`), by name. */
async function txBytes(lab: Lab, ns: string): Promise<Map<string, number>> {
  const r = await lab.ip(ns, ['-s', '-j', 'link', 'show']);
  const out = new Map<string, number>();
  for (const l of JSON.parse(r.stdout) as { ifname: string; stats64?: { tx?: { bytes?: number } } }[]) {
    out.set(l.ifname, l.stats64?.tx?.bytes ?? 0);
  }
  return out;
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
  let figures: SessionFigure[] = [];
  let serverCpuPct = 0;
  let machineBusyPct = 0;
  let busyWallSec: number | undefined;
  let overlapSec: number | undefined;
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

    const up = async (x: Session) => {
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

    const iperfClient = (x: Session) =>
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
          String(s.timeSec),
          '-O',
          String(s.omitSec),
          '--connect-timeout',
          '10000',
          '-J',
        ],
        { allowFail: true, timeoutMs: (s.timeSec + s.omitSec + 60) * 1000 },
      );

    // 1. One session alone.
    const first = sessions[0]!;
    await up(first);
    await iperfServer([first]);
    const alone = parseIperfTcp((await iperfClient(first)).stdout);
    singleMbps = alone.mbps;
    log(`  one session alone: ${singleMbps.toFixed(1)} Mbit/s`);

    // 2. The others come up, a few at a time.
    // A session that does not come up is measured as carrying nothing (it counts against the
    // aggregate and the fairness), and the others go on.
    const rest = sessions.slice(1);
    const notUp = new Map<number, string>();
    for (let k = 0; k < rest.length; k += UP_CONCURRENCY) {
      const group = rest.slice(k, k + UP_CONCURRENCY);
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
    const tx0 = await txBytes(lab, lab.clientNs);
    const p0 = readProcTable();
    const c0 = parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
    const t0 = performance.now();
    const byN = new Map(
      (await Promise.all(live.map(async (x) => [x.n, await iperfClient(x)] as const))).map(([n, r]) => [
        n,
        r,
      ]),
    );
    const wallMs = performance.now() - t0;
    const p1 = readProcTable();
    const c1 = parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
    const tx1 = await txBytes(lab, lab.clientNs);
    serverCpuPct = cpuByProcess(p0, p1, withDescendants(p1, [srv.pid]), wallMs).reduce(
      (a, p) => a + p.pctOfCore,
      0,
    );
    const ticks = (t: CpuTimes) =>
      t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
    const total = ticks(c1) - ticks(c0);
    const busy = total - (c1.idle - c0.idle) - (c1.iowait - c0.iowait);
    machineBusyPct = total > 0 ? (busy / total) * 100 : 0;
    busyWallSec = wallMs / 1000;
    overlapSec = streamsOverlap(
      live.map((x) => {
        try {
          return parseIperfTcp(byN.get(x.n)?.stdout ?? '').startedAtSec;
        } catch {
          return undefined;
        }
      }),
      s.omitSec + s.timeSec,
    );

    figures = sessions.map((x) => {
      const deviceTxBytes = (tx1.get(x.device) ?? 0) - (tx0.get(x.device) ?? 0);
      const ownAddress = peers.has(x.underlay);
      const base = {
        session: x.n,
        address: x.address,
        device: x.device,
        ...(ownAddress ? { underlay: x.underlay } : {}),
        deviceTxBytes,
      };
      try {
        const result = byN.get(x.n);
        if (!result) throw new Error(notUp.get(x.n) ?? 'not measured');
        if (!ownAddress) throw new Error(`the server saw no control connection from ${x.underlay}`);
        const r = parseIperfTcp(result.stdout);
        if (deviceTxBytes < r.bytes)
          throw new Error(
            `${x.device} sent ${deviceTxBytes} bytes but iperf3 received ${r.bytes}: not through the tunnel`,
          );
        return { ...base, mbps: r.mbps, bytes: r.bytes, retransmits: r.retransmits };
      } catch (e) {
        return { ...base, mbps: 0, bytes: 0, retransmits: 0, error: errorText(e) };
      }
    });
  } catch (e) {
    error = errorText(e);
    const said = [server, ...sessions.map((x) => x.client)]
      .filter((p): p is LabProcess => p !== undefined)
      .slice(0, 3)
      .map((p) => `${p.label}: ${p.output().trim().slice(-300) || '(nothing)'}`)
      .join(' | ');
    log(`  FAILED: ${error}; ${said}`);
    error = `${error}; ${said}`;
  }
  // Clients first (they hang up cleanly), then the iperf3 servers and the server.
  const clients = sessions.map((x) => x.client).filter((p): p is LabProcess => p !== undefined);
  await Promise.all(clients.map((p) => p.stop(5000)));
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
    sessions: figures,
    serverCpuPct,
    machineBusyPct,
    ...(busyWallSec !== undefined ? { busyWallSec } : {}),
    ...(overlapSec !== undefined ? { overlapSec } : {}),
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
