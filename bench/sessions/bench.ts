/**
 * `npm run bench:sessions`: how many PPTP sessions one `pptp-ts serve` holds,
 * how fast they come up, and what they cost at rest
 * (docs/sessions.md).
 *
 * ```
 *   ns pptpbench-PID-N-srv                          ns pptpbench-PID-N-cli
 *   ┌──────────────────────────────┐                ┌──────────────────────────────┐
 *   │ pptp-ts serve                │   veth          │ generator.ts                 │
 *   │  198.18.0.1:1723, raw GRE    ├────────────────┤  N TCP connections, 1 raw GRE│
 *   │  shared TUN pptps0 10.98.0.1 │                │  N client sessions, no TUNs  │
 *   │  pool 10.99.0.0/16           │                │                              │
 *   └──────────────────────────────┘                └──────────────────────────────┘
 * ```
 *
 * Phases: server up → baseline memory → open N sessions (a window of
 * `concurrency` connections in flight) → settle → CPU at rest over
 * `restSec` (all idle, keep-alives running) → idle memory → still all up? → ping
 * through a sample → teardown (LCP Terminate, CCRQ, StopCCRQ each) →
 * server empty? → SIGTERM the server (exit 0?) → nothing left behind?
 *
 * With `storm`, a login storm comes before the settle: open N → SIGKILL the
 * server → wait (bounded) until the generator sees every session down and
 * forget them → start the server again with the same configuration → its
 * baseline → open N again with all N dialling at once; everything after
 * that is measured on the storm's sessions and the new server (storm.ts).
 *
 * Server memory is VmRSS from /proc/PID/status (no forced GC), plus the JS
 * heap after a full GC from a preloaded probe (probe.mjs, SIGUSR2). Server
 * CPU is utime+stime from /proc/PID/stat over the rest window.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sessionsCharts } from '../charts.js';
import { machineInfo } from '../lab/machine.js';
import { Lab, type LabProcess, run, waitUntil } from '../lab/netns.js';
import { parsePidStat, readRss, sampleLoad } from '../lab/proc.js';
import type { GeneratorCommand, GeneratorEvent, GeneratorSpec, OpenedSessions } from './protocol.js';
import {
  BENCH_RADIUS_ADDRESS,
  BENCH_RADIUS_SECRET,
  type BenchRadius,
  benchUsers,
  startBenchRadius,
} from './radius.js';
import {
  cpuMsPer,
  cpuPctOfCore,
  evaluateSessionTargets,
  type MemoryReading,
  perSessionKb,
  quantile,
  renderSessionsMarkdown,
  SESSIONS_SCHEMA,
  type SessionsResult,
  type SessionsSettings,
  type StormFigures,
  setupFigures,
} from './report.js';
import {
  BENCH_POOL,
  clientAddressList,
  fileLimitFor,
  generatorHeapMb,
  POOL_ROUTE,
  sessionsSpaceProblem,
  stormOutcome,
  stormTargetCheck,
} from './storm.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SessionsOptions {
  sessions?: number;
  concurrency?: number;
  callsPerConnection?: number;
  lcpEchoIntervalSec?: number;
  pptpEchoIntervalSec?: number;
  mppe?: boolean;
  settleSec?: number;
  restSec?: number;
  pingSample?: number;
  generatorClock?: 'wheel' | 'node';
  /** Authenticate through a FreeRADIUS in the server's namespace instead of the chap-secrets file (radius.ts). */
  radius?: boolean;
  /** Login storm: open N, kill and restart the server, every client redials at once (storm.ts). */
  storm?: boolean;
  /** TCP source addresses of the generator (default 1): one address has 64,512 ephemeral ports. */
  clientAddresses?: number;
  /** Extra Node options for the server (e.g. `--cpu-prof`). */
  serverNodeOptions?: string[];
  /** The server's `limits.compact-after-burst` (default 0, off). */
  compactAfterBurst?: number;
  /** `pptp.ack-timeout-ms` on both sides (default 100; 0: no acknowledgment-only packets on a timer). */
  ackTimeoutMs?: number;
  /** Write a server heap snapshot at every memory reading into this directory (baseline, idle, after teardown). */
  heapSnapshotDir?: string;
  /** Where to write the JSON and markdown; null: nowhere. */
  outDir?: string | null;
  /** Progress lines (default: stderr). */
  progress?: (line: string) => void;
}

/** The lab could not be built or the server/generator could not start. */
export class SessionsSetupError extends Error {}

const SERVER_TUNNEL_IP = '10.98.0.1';
const USER_PREFIX = 'load';
const PASSWORD_PREFIX = 'secret-';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function cpuTicks(pid: number): number {
  const s = parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return s.utime + s.stime;
}

/** Packets the kernel dropped on the raw sockets of a namespace (/proc/net/raw "drops": receive buffer full). */
async function rawDrops(lab: Lab, ns: string): Promise<number> {
  const r = await lab.exec(ns, ['cat', '/proc/net/raw'], { allowFail: true });
  let drops = 0;
  for (const line of r.stdout.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 13) drops += Number(f[f.length - 1]) || 0;
  }
  return drops;
}

function fileLimitOf(pid: number): string {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m ? `${m[1]}/${m[2]}` : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The generator process: JSON lines in, JSON lines out. */
class Generator {
  private readonly waiters: { ev: string; resolve: (e: GeneratorEvent) => void }[] = [];
  private readonly events: GeneratorEvent[] = [];
  private stderr = '';
  readonly exited: Promise<number | null>;
  /** Called with the number of sessions up at each progress report of an `open`. */
  onProgress: ((up: number) => void) | undefined;

  constructor(
    readonly child: ChildProcess,
    private readonly progress: (line: string) => void,
  ) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let e: GeneratorEvent;
      try {
        e = JSON.parse(line) as GeneratorEvent;
      } catch {
        this.progress(`generator: ${line}`);
        return;
      }
      if (e.ev === 'progress') {
        this.progress(`  ${e.up} up, ${e.failed} failed after ${(e.elapsedMs / 1000).toFixed(1)} s`);
        this.onProgress?.(e.up);
        return;
      }
      if (e.ev === 'error') this.progress(`generator error: ${e.message}`);
      const i = this.waiters.findIndex((w) => w.ev === e.ev);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(e);
      else this.events.push(e);
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-16384);
    });
    this.exited = new Promise((r) => child.on('close', (code) => r(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get log(): string {
    return this.stderr;
  }

  send(c: GeneratorCommand): void {
    this.child.stdin!.write(`${JSON.stringify(c)}\n`);
  }

  /** The next event `ev` (or a rejection when the generator exits first or `ms` passes). */
  next<E extends GeneratorEvent['ev']>(ev: E, ms: number): Promise<Extract<GeneratorEvent, { ev: E }>> {
    const i = this.events.findIndex((e) => e.ev === ev);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0] as Extract<GeneratorEvent, { ev: E }>);
    return new Promise((resolve, reject) => {
      const w = { ev, resolve: resolve as (e: GeneratorEvent) => void };
      this.waiters.push(w);
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`generator: no '${ev}' within ${ms / 1000} s\n${this.stderr.slice(-2000)}`));
      }, ms);
      void this.exited.then((code) => {
        clearTimeout(t);
        if (this.waiters.includes(w)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          reject(new Error(`generator exited (${code}) before '${ev}'\n${this.stderr.slice(-2000)}`));
        }
      });
      const orig = w.resolve;
      w.resolve = (e) => {
        clearTimeout(t);
        orig(e);
      };
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      this.send({ cmd: 'exit' });
      this.child.stdin!.end();
    } catch {}
    const t = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {}
    }, 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** The server's stdout, line by line: the `status` line after SIGUSR1. */
class ServerStatus {
  private waiting: ((fields: Record<string, number>) => void) | undefined;
  private current: Record<string, number> | undefined;

  constructor(readonly proc: LabProcess) {
    const lines = createInterface({ input: proc.child.stdout! });
    lines.on('line', (line) => {
      if (process.env.BENCH_SESSIONS_DEBUG) process.stderr.write(`server stdout: ${line.slice(0, 200)}\n`);
      if (line === 'status end') {
        const w = this.waiting;
        this.waiting = undefined;
        if (this.current) w?.(this.current);
      } else if (line.startsWith('status ')) {
        const f: Record<string, number> = {};
        for (const kv of line.slice(7).split(' ')) {
          const [k, v] = kv.split('=');
          if (k && v !== undefined && /^\d+$/.test(v)) f[k] = Number(v);
        }
        this.current = f;
      }
    });
  }

  /** Asks (SIGUSR1) and returns the status counters. */
  read(ms = 30_000): Promise<Record<string, number>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('server: no status answer')), ms);
      this.waiting = (f) => {
        clearTimeout(t);
        resolve(f);
      };
      process.kill(this.proc.pid, 'SIGUSR1');
    });
  }
}

async function readMemory(pid: number, probePath: string): Promise<MemoryReading> {
  const rss = readRss(pid);
  if (!rss) throw new Error(`server ${pid} is gone`);
  // The heap (after a full GC) from the preloaded probe.
  try {
    writeFileSync(probePath, '');
  } catch {}
  process.kill(pid, 'SIGUSR2');
  let heap:
    | {
        before: { heapTotal: number; heapUsed: number };
        after: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
        spaces: Record<string, { size: number; used: number }>;
      }
    | undefined;
  await waitUntil(
    'the memory probe',
    () => {
      const t = readFileSync(probePath, 'utf8');
      if (!t) return false;
      heap = JSON.parse(t) as typeof heap;
      return true;
    },
    120_000,
    50,
  ).catch(() => {});
  return {
    rssKb: rss.rssKb,
    ...(heap
      ? {
          heapUsedKb: heap.after.heapUsed / 1024,
          heapTotalKb: heap.before.heapTotal / 1024,
          externalKb: heap.after.external / 1024,
          arrayBuffersKb: heap.after.arrayBuffers / 1024,
          spacesKb: Object.fromEntries(
            Object.entries(heap.spaces).map(([k, v]) => [k, { size: v.size >> 10, used: v.used >> 10 }]),
          ),
        }
      : {}),
  };
}

/** Runs the whole bench; see the module comment. */
export async function runSessionsBench(
  o: SessionsOptions = {},
): Promise<SessionsResult & { files?: { json: string; markdown: string; charts: string[] } }> {
  const say = o.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const settings: SessionsSettings = {
    sessions: o.sessions ?? 10_000,
    concurrency: o.concurrency ?? 200,
    callsPerConnection: o.callsPerConnection ?? 1,
    lcpEchoIntervalSec: o.lcpEchoIntervalSec ?? 30,
    pptpEchoIntervalSec: o.pptpEchoIntervalSec ?? 60,
    mppe: o.mppe ?? true,
    settleSec: o.settleSec ?? 60,
    restSec: o.restSec ?? 30,
    pingSample: o.pingSample ?? 100,
    generatorClock: o.generatorClock ?? 'wheel',
    serverNodeOptions: o.serverNodeOptions ?? [],
    auth: o.radius ? 'radius' : 'chap-secrets',
    ...(o.storm ? { storm: true } : {}),
    ...(o.clientAddresses !== undefined ? { clientAddresses: o.clientAddresses } : {}),
    ...(o.compactAfterBurst ? { compactAfterBurst: o.compactAfterBurst } : {}),
    ...(o.ackTimeoutMs !== undefined && o.ackTimeoutMs !== 100 ? { ackTimeoutMs: o.ackTimeoutMs } : {}),
  };
  const n = settings.sessions;
  const space = sessionsSpaceProblem(n, settings.callsPerConnection, o.clientAddresses ?? 1);
  if (space) throw new SessionsSetupError(space);
  if (process.getuid?.() !== 0)
    throw new SessionsSetupError('bench:sessions needs root (namespaces, TUN, raw sockets)');
  if ((await run(['prlimit', '--version'], { allowFail: true })).code !== 0)
    throw new SessionsSetupError('bench:sessions needs prlimit (util-linux)');
  const startedAt = new Date().toISOString();
  const machine = await machineInfo();
  say(`bench:sessions: ${n} sessions, ${settings.concurrency} at once`);
  const lab = await Lab.create().catch((e: unknown) => {
    throw new SessionsSetupError(`cannot build the lab: ${(e as Error).message}`);
  });
  let generator: Generator | undefined;
  let server: LabProcess | undefined;
  let radius: BenchRadius | undefined;
  try {
    // Kernel limits inside our namespaces only: listen backlog, ephemeral ports.
    await lab.exec(lab.serverNs, ['sysctl', '-q', '-w', 'net.core.somaxconn=65535']);
    await lab.exec(lab.serverNs, ['sysctl', '-q', '-w', 'net.ipv4.tcp_max_syn_backlog=65535']);
    await lab.exec(lab.clientNs, ['sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=1024 65535']);
    const fdHard = fileLimitFor(n, settings.callsPerConnection);
    // The generator's source addresses: the first is the lab's; the others join it on the underlay.
    const sources = clientAddressList(lab.clientUnderlay, o.clientAddresses ?? 1);
    for (const a of sources.slice(1)) {
      await lab.ip(lab.clientNs, ['addr', 'add', `${a}/24`, 'dev', lab.underlayDevice]);
    }

    // The server's config and secrets.
    const secrets = join(lab.tmpDir, 'chap-secrets');
    const lines = ['# bench:sessions: one secret per generated user'];
    if (!o.radius) {
      for (let i = 0; i < n; i++) lines.push(`${USER_PREFIX}${i} * ${PASSWORD_PREFIX}${i} *`);
      writeFileSync(secrets, `${lines.join('\n')}\n`, { mode: 0o600 });
    }
    if (o.radius) {
      say('starting FreeRADIUS in the server namespace…');
      radius = await startBenchRadius(lab, lab.serverNs, benchUsers(n, USER_PREFIX, PASSWORD_PREFIX)).catch(
        (e: unknown) => {
          throw new SessionsSetupError(`FreeRADIUS: ${(e as Error).message}`);
        },
      );
    }
    const configPath = join(lab.tmpDir, 'server.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        listen: lab.serverUnderlay,
        'local-ip': SERVER_TUNNEL_IP,
        pool: BENCH_POOL,
        ...(radius
          ? {
              radius: {
                auth: [
                  {
                    address: `${BENCH_RADIUS_ADDRESS}:${radius.freeradius.authPort}`,
                    secret: BENCH_RADIUS_SECRET,
                  },
                ],
                order: ['radius'],
                timeout: 5,
                retries: 3,
              },
            }
          : { secrets }),
        'ms-dns': [SERVER_TUNNEL_IP],
        ppp: {
          'lcp-echo-interval': settings.lcpEchoIntervalSec,
          ...(settings.mppe ? {} : { nomppe: true, 'require-mppe-128': false }),
        },
        pptp: {
          'echo-interval': settings.pptpEchoIntervalSec,
          'ack-timeout-ms': settings.ackTimeoutMs ?? 100,
        },
        limits: {
          'max-sessions': Math.max(n, 1),
          'max-connections-per-address': Math.max(n, 1),
          // Every generated session comes from one address: lift the per-address and starting limits.
          'max-calls-per-address': Math.max(n, 1),
          'max-starting': Math.max(n, 1),
          'max-starting-per-address': Math.max(n, 1),
          'max-calls-per-connection': Math.max(settings.callsPerConnection, 1),
          'compact-after-burst': settings.compactAfterBurst ?? 0,
          'auth-timeout': 120,
          'handshake-timeout': 120,
          // A storm dials every session at once: room for all of them in the accept queue
          // (the namespace's net.core.somaxconn is raised above).
          'listen-backlog': Math.min(65_535, Math.max(n, 4096)),
        },
      }),
    );
    const probePath = join(lab.tmpDir, 'probe.json');
    // The server writes its snapshots there; a missing folder would make the probe fail.
    if (o.heapSnapshotDir) mkdirSync(o.heapSnapshotDir, { recursive: true });
    const startServer = async (): Promise<{ srv: LabProcess; status: ServerStatus }> => {
      server = lab.spawn(
        lab.serverNs,
        [
          'prlimit',
          `--nofile=1024:${fdHard}`,
          process.execPath,
          '--expose-gc',
          '--import',
          join(ROOT, 'bench/sessions/probe.mjs'),
          ...settings.serverNodeOptions,
          join(ROOT, 'bin/pptp-ts.js'),
          'serve',
          '--config',
          configPath,
        ],
        'pptp-ts serve',
        {
          PPTP_BENCH_PROBE: probePath,
          ...(o.heapSnapshotDir ? { PPTP_BENCH_HEAP_SNAPSHOTS: o.heapSnapshotDir } : {}),
        },
      );
      const srv = server;
      const status = new ServerStatus(srv);
      await waitUntil(
        'the server to listen',
        () => {
          if (srv.exited()) throw new SessionsSetupError(`the server exited: ${srv.output().slice(-2000)}`);
          return /listening on /.test(srv.output());
        },
        30_000,
      ).catch((e: unknown) => {
        throw e instanceof SessionsSetupError
          ? e
          : new SessionsSetupError(`${(e as Error).message}: ${srv.output().slice(-2000)}`);
      });
      return { srv, status };
    };
    let { srv, status } = await startServer();
    await sleep(2000);
    let baseline = await readMemory(srv.pid, probePath);
    say(
      `server ${srv.pid} listening; baseline RSS ${(baseline.rssKb / 1024).toFixed(1)} MiB; file limit ${fileLimitOf(srv.pid)}`,
    );

    // The generator.
    const spec: GeneratorSpec = {
      server: lab.serverUnderlay,
      port: 1723,
      localAddress: lab.clientUnderlay,
      localAddresses: sources,
      userPrefix: USER_PREFIX,
      passwordPrefix: PASSWORD_PREFIX,
      callsPerConnection: settings.callsPerConnection,
      lcpEchoInterval: settings.lcpEchoIntervalSec,
      pptpEchoInterval: settings.pptpEchoIntervalSec,
      ackTimeoutMs: settings.ackTimeoutMs ?? 100,
      setupTimeoutMs: 120_000,
      mppe: settings.mppe,
      clock: settings.generatorClock,
      logLevel: 'warn',
    };
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        lab.clientNs,
        'prlimit',
        `--nofile=${fdHard}:${fdHard}`,
        process.execPath,
        `--max-old-space-size=${generatorHeapMb(n)}`,
        '--import',
        'tsx',
        join(ROOT, 'bench/sessions/generator.ts'),
        JSON.stringify(spec),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT },
    );
    generator = new Generator(child, say);
    const gen = generator;
    const ready = await gen.next('ready', 60_000);

    let storm: StormFigures | undefined;
    let stormPhase1: { setup: ReturnType<typeof setupFigures>; killedPid: number } | undefined;
    let stormDown = { downAfterMs: 0, stillUp: 0, forgotten: 0, restartMs: 0 };
    if (o.storm) {
      // Phase 1: N sessions as usual, then the server dies with them.
      say(`storm, phase 1: opening ${n} sessions…`);
      gen.send({ cmd: 'open', sessions: n, concurrency: settings.concurrency });
      const first = await gen.next('opened', 600_000 + n * 100);
      const firstSetup = setupFigures(first.startMs, first.upMs);
      say(`phase 1: ${firstSetup.up} up, ${firstSetup.failed} failed; killing server ${srv.pid} (SIGKILL)…`);
      const killedPid = srv.pid;
      process.kill(killedPid, 'SIGKILL');
      await srv.done;
      // Bounded: every session's TCP connection was closed by the kernel with the process.
      const k0 = performance.now();
      let stillUp = firstSetup.up;
      await waitUntil(
        'the generator to see every session down',
        async () => {
          gen.send({ cmd: 'status' });
          stillUp = (await gen.next('status', 60_000)).up;
          return stillUp === 0;
        },
        60_000 + n * 5,
        500,
      ).catch((e: unknown) => say(`warning: ${(e as Error).message} (${stillUp} still up)`));
      const downAfterMs = performance.now() - k0;
      gen.send({ cmd: 'forget' });
      const forgot = await gen.next('forgot', 60_000 + n * 5);
      say(
        `all down after ${(downAfterMs / 1000).toFixed(1)} s; ${forgot.sessions} forgotten; restarting the server…`,
      );
      const r0 = performance.now();
      ({ srv, status } = await startServer());
      const restartMs = performance.now() - r0;
      await sleep(2000);
      baseline = await readMemory(srv.pid, probePath);
      say(
        `server ${srv.pid} listening again after ${(restartMs / 1000).toFixed(1)} s; baseline RSS ${(baseline.rssKb / 1024).toFixed(1)} MiB`,
      );
      stormPhase1 = { setup: firstSetup, killedPid };
      stormDown = { downAfterMs, stillUp, forgotten: forgot.sessions, restartMs };
    }
    // The storm: every client at once.
    const openConcurrency = o.storm ? n : settings.concurrency;

    // Open.
    say(`opening ${n} sessions, ${openConcurrency} at once…`);
    const o0 = performance.now();
    const os0 = cpuTicks(srv.pid);
    const og0 = cpuTicks(gen.pid);
    // The server's RSS at each progress report (about once a second): the
    // RSS-against-sessions chart. Reading /proc/PID/status costs the server nothing.
    const rssRamp: { up: number; rssKb: number }[] = [{ up: 0, rssKb: baseline.rssKb }];
    gen.onProgress = (up) => {
      const r = readRss(srv.pid);
      if (r) rssRamp.push({ up, rssKb: r.rssKb });
    };
    gen.send({ cmd: 'open', sessions: n, concurrency: openConcurrency });
    const opened: OpenedSessions = await gen.next('opened', 600_000 + n * 100);
    gen.onProgress = undefined;
    const afterOpen = readRss(srv.pid);
    if (afterOpen) rssRamp.push({ up: opened.upMs.filter((t) => t >= 0).length, rssKb: afterOpen.rssKb });
    const openWallMs = performance.now() - o0;
    const radiusLogins = radius?.logins();
    const serverTicks = cpuTicks(srv.pid) - os0;
    const generatorTicks = cpuTicks(gen.pid) - og0;
    const setup = setupFigures(opened.startMs, opened.upMs);
    const setupCpu = {
      serverPct: cpuPctOfCore(serverTicks, openWallMs),
      generatorPct: cpuPctOfCore(generatorTicks, openWallMs),
      serverMsPerSetup: cpuMsPer(serverTicks, setup.up),
      generatorMsPerSetup: cpuMsPer(generatorTicks, setup.up),
    };
    say(
      `CPU while opening: server ${setupCpu.serverPct.toFixed(0)} %, generator ${setupCpu.generatorPct.toFixed(0)} % of a core ` +
        `(${setupCpu.serverMsPerSetup.toFixed(2)} / ${setupCpu.generatorMsPerSetup.toFixed(2)} ms per set-up); ` +
        `raw GRE socket drops: server ${await rawDrops(lab, lab.serverNs)}, generator ${await rawDrops(lab, lab.clientNs)}`,
    );
    say(
      `${setup.up} up, ${setup.failed} failed in ${(setup.durationMs / 1000).toFixed(1)} s: ` +
        `${setup.overallPerSec.toFixed(0)} sessions/s, set-up p50 ${setup.p50Ms.toFixed(0)} ms p99 ${setup.p99Ms.toFixed(0)} ms; ` +
        `generator GRE ${JSON.stringify(opened.gre)}`,
    );
    if (stormPhase1) {
      const outcome = stormOutcome(opened.failures, await status.read());
      storm = {
        first: stormPhase1.setup,
        killedPid: stormPhase1.killedPid,
        restartedPid: srv.pid,
        ...stormDown,
        outcome,
      };
      say(
        `storm: ${outcome.refusedForLimit} refused for a configured limit, ${outcome.otherFailures} other failures`,
      );
    }

    // CPU at rest, then idle memory: the memory reading forces a full
    // collection in the server (the probe), whose sweeping and the memory
    // reducer's follow-up collections would otherwise fall into the window.
    say(`settling ${settings.settleSec} s…`);
    await sleep(settings.settleSec * 1000);
    say(`CPU at rest over ${settings.restSec} s…`);
    const load = sampleLoad(settings.restSec * 1000);
    const restFromUs = Number(process.hrtime.bigint() / 1000n);
    const t0 = performance.now();
    const s0 = cpuTicks(srv.pid);
    const g0 = cpuTicks(gen.pid);
    await load;
    const restWallMs = performance.now() - t0;
    const restToUs = Number(process.hrtime.bigint() / 1000n);
    const restCpuPct = cpuPctOfCore(cpuTicks(srv.pid) - s0, restWallMs);
    const genCpuPct = cpuPctOfCore(cpuTicks(gen.pid) - g0, restWallMs);
    const others = await load;
    say(`server ${restCpuPct.toFixed(2)} % of a core at rest (generator ${genCpuPct.toFixed(2)} %)`);
    const idle = await readMemory(srv.pid, probePath);
    // The server's own line for each compaction after a burst (limits.compact-after-burst), with its pause.
    const compactionsMs = [...srv.output().matchAll(/heap compacted after a burst[^\n]* in (\d+) ms/g)].map(
      (m) => Number(m[1]),
    );
    const mib = (kb: number | undefined) => ((kb ?? 0) / 1024).toFixed(1);
    say(
      `idle RSS ${mib(idle.rssKb)} MiB: ${perSessionKb(baseline.rssKb, idle.rssKb, setup.up).toFixed(1)} KiB per session; ` +
        `heap ${mib(baseline.heapUsedKb)} → ${mib(idle.heapUsedKb)} MiB used after GC (${mib(baseline.heapTotalKb)} → ${mib(idle.heapTotalKb)} reserved), ` +
        `external ${mib(baseline.externalKb)} → ${mib(idle.externalKb)} MiB`,
    );

    gen.send({ cmd: 'status' });
    const held = await gen.next('status', 60_000);
    const routes = await lab.ip(lab.serverNs, ['-4', 'route', 'show', 'dev', 'pptps0'], { allowFail: true });
    const routed = routes.stdout.split('\n').filter((l) => POOL_ROUTE.test(l)).length;
    say(`${held.up} still up, ${held.lost} lost; ${routed} client routes on the server`);

    gen.send({ cmd: 'ping', sample: settings.pingSample, timeoutMs: 5000 });
    const ping = await gen.next('pinged', 60_000);
    say(`ping: ${ping.replied} of ${ping.sessions} answered`);

    // Teardown.
    say('closing…');
    gen.send({ cmd: 'close', concurrency: settings.concurrency });
    const closed = await gen.next('closed', 600_000 + n * 100);
    say(`${closed.clean} of ${closed.closed} closed cleanly in ${(closed.durationMs / 1000).toFixed(1)} s`);
    let counters: Record<string, number> = {};
    await waitUntil(
      'the server to drop every connection',
      async () => {
        counters = await status.read();
        return counters.connections === 0;
      },
      60_000,
      500,
    ).catch((e: unknown) => say(`warning: ${(e as Error).message}`));
    await sleep(2000);
    const afterClose = await readMemory(srv.pid, probePath);
    const routesAfter = await lab.ip(lab.serverNs, ['-4', 'route', 'show', 'dev', 'pptps0'], {
      allowFail: true,
    });
    const residue: string[] = [];
    const leftRoutes = routesAfter.stdout.split('\n').filter((l) => POOL_ROUTE.test(l)).length;
    if (leftRoutes > 0) residue.push(`${leftRoutes} client routes on the server`);
    if (counters.connections) residue.push(`${counters.connections} control connections on the server`);
    if (closed.greAttached) residue.push(`${closed.greAttached} calls on the generator's GRE endpoint`);
    const genFileLimit = ready.fileLimit;
    await gen.stop();
    generator = undefined;
    const serverFileLimit = fileLimitOf(srv.pid);
    await srv.stop(15_000);
    const exitCode = await srv.done;
    if (exitCode !== 0) residue.push(`server exit code ${exitCode}`);
    if (!/\bstopped\b/.test(srv.output())) residue.push('the server did not report a clean stop');
    server = undefined;
    await radius?.stop();
    radius = undefined;
    residue.push(...(await lab.residue()));

    const partial = {
      settings,
      setup: {
        ...setup,
        serverCpuPct: setupCpu.serverPct,
        generatorCpuPct: setupCpu.generatorPct,
        serverCpuMsPerSetup: setupCpu.serverMsPerSetup,
        generatorCpuMsPerSetup: setupCpu.generatorMsPerSetup,
      },
      sources: opened.sources,
      ...(storm ? { storm } : {}),
      lostWhileIdle: held.lost,
      rssRamp,
      ...(radiusLogins !== undefined ? { radius: { logins: radiusLogins } } : {}),
      server: {
        pid: srv.pid,
        fileLimit: serverFileLimit,
        baseline,
        idle,
        afterClose,
        rssKbPerSession: perSessionKb(baseline.rssKb, idle.rssKb, setup.up),
        heapKbPerSession:
          baseline.heapUsedKb !== undefined && idle.heapUsedKb !== undefined
            ? perSessionKb(baseline.heapUsedKb, idle.heapUsedKb, setup.up)
            : undefined,
        restCpuPct,
        restWallMs,
        restWindowMonotonicUs: [restFromUs, restToUs] as const,
        ...(settings.compactAfterBurst ? { compactionsMs } : {}),
        counters,
        exitCode,
      },
    };
    const targets = [
      ...evaluateSessionTargets(partial),
      ...(storm ? [stormTargetCheck(n, settings.auth ?? 'chap-secrets', setup)] : []),
    ];
    const result: SessionsResult = {
      schema: SESSIONS_SCHEMA,
      startedAt,
      machine,
      ...partial,
      generator: {
        fileLimit: genFileLimit,
        rssKbIdle: held.rssKb,
        heapUsedKbIdle: held.heapUsedKb,
        restCpuPct: genCpuPct,
      },
      failures: opened.failures,
      lostReasons: held.failures,
      ping: { sessions: ping.sessions, replied: ping.replied, rttP50Ms: quantile(ping.rttMs, 0.5) },
      teardown: { closed: closed.closed, clean: closed.clean, durationMs: closed.durationMs },
      othersCpuPct: others.othersPct,
      residue,
      targets,
      ok:
        setup.up === n &&
        (storm === undefined || (storm.stillUp === 0 && storm.first.up === n)) &&
        (radiusLogins === undefined || radiusLogins >= setup.up) &&
        held.lost === 0 &&
        ping.replied === ping.sessions &&
        closed.clean === closed.closed &&
        residue.length === 0,
    };
    if (o.outDir === null) return result;
    const dir = o.outDir ?? join(ROOT, 'bench/results');
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    const stamp = startedAt.replace(/[:.]/g, '-').slice(0, 19);
    const mode = `${settings.auth === 'radius' ? '-radius' : ''}${storm ? '-storm' : ''}`;
    const json = join(dir, `sessions${mode}-${stamp}.json`);
    const markdown = join(dir, `sessions${mode}-${stamp}.md`);
    writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
    const charts = await sessionsCharts(result, `sessions${mode}-${stamp}`, setup.up);
    for (const c of charts) writeFileSync(join(dir, c.file), c.svg);
    writeFileSync(markdown, renderSessionsMarkdown(result, charts));
    return { ...result, files: { json, markdown, charts: charts.map((c) => join(dir, c.file)) } };
  } finally {
    if (generator) {
      try {
        process.kill(generator.pid, 'SIGKILL');
      } catch {}
      await Promise.race([generator.exited, sleep(5000)]);
    }
    if (server && !server.exited()) say(`server output (last lines):\n${server.output().slice(-3000)}`);
    await radius?.stop();
    await lab.close();
  }
}
