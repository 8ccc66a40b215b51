/**
 * The figures of `npm run bench:sessions` (schema `pptp-ts/bench-sessions/1`):
 * the result file's shape, the pure arithmetic that turns the generator's
 * per-session times and the server's /proc readings into figures, the
 * target checks, and the markdown report.
 */
import type { MachineInfo } from '../lab/result.js';

/** The storm's failures, sorted by whether the server refused them for a configured limit. */
export interface StormOutcome {
  /** Set-ups the server refused (call or control connection refused) and counted as refused for a limit. */
  readonly refusedForLimit: number;
  /** Every other failure: refusals the server did not count, time-outs, TCP errors... */
  readonly otherFailures: number;
  /** The server's refusal counters (callsRefused + connectionsRefused): max-sessions, per-address and starting limits. */
  readonly serverRefusals: number;
}

/** What the storm adds to a result. */
export interface StormFigures {
  /** Phase 1: the N sessions opened before the server was killed. */
  readonly first: SetupFigures;
  /** The server killed (SIGKILL), and the one started after it. */
  readonly killedPid: number;
  readonly restartedPid: number;
  /** SIGKILL → the generator saw every session down, ms (or the wait's bound when some were still up). */
  readonly downAfterMs: number;
  /** Sessions the generator still saw up when the wait ended (0: all down). */
  readonly stillUp: number;
  /** Sessions the generator forgot before redialling. */
  readonly forgotten: number;
  /** Restart → listening, ms. */
  readonly restartMs: number;
  readonly outcome: StormOutcome;
}

export const SESSIONS_SCHEMA = 'pptp-ts/bench-sessions/1';

/** The session targets: concurrent sessions, set-up rate, RSS per idle session, CPU at rest (docs/sessions.md). */
export const SESSION_TARGETS = {
  sessions: 10_000,
  setupsPerSec: 300,
  rssKbPerSession: 16,
  restCpuPct: 5,
} as const;

export interface SessionsSettings {
  readonly sessions: number;
  /** Connections being set up at once. */
  readonly concurrency: number;
  readonly callsPerConnection: number;
  readonly lcpEchoIntervalSec: number;
  readonly pptpEchoIntervalSec: number;
  readonly mppe: boolean;
  /** Wait between the last session up and the "idle" memory reading. */
  readonly settleSec: number;
  /** The CPU-at-rest window. */
  readonly restSec: number;
  readonly pingSample: number;
  /** The generator's clock (`wheel` = one BatchClock per process, `node` = a Node timer per engine timer). */
  readonly generatorClock: 'wheel' | 'node';
  /** Extra Node options the server ran with (e.g. for profiling). */
  readonly serverNodeOptions: readonly string[];
  /** Where users are looked up: the chap-secrets file, or a FreeRADIUS (`--radius`). Absent in older results: chap-secrets. */
  readonly auth?: 'chap-secrets' | 'radius';
  /** `--storm`: the figures are those of every client redialling at once after a server restart. */
  readonly storm?: boolean;
  /** `--client-addresses`: TCP source addresses the generator spreads its connections over (absent: 1). */
  readonly clientAddresses?: number;
  /** `--compact-after-burst`: the server's `limits.compact-after-burst` (absent: 0, off). */
  readonly compactAfterBurst?: number;
  /** `--ack-timeout-ms`: both sides' `pptp.ack-timeout-ms` (absent: 100, the default). */
  readonly ackTimeoutMs?: number;
}

export interface SetupFigures {
  readonly up: number;
  readonly failed: number;
  /** Sessions up per second from the first TCP connect to the last session up. */
  readonly overallPerSec: number;
  /** Sessions up in each whole second of the set-up phase (the last, partial second left out). */
  readonly perSecond: readonly number[];
  /** TCP connect → IPCP up, ms, over the sessions that came up. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly durationMs: number;
  /** CPU of the server and the generator while the sessions were opened, percent of one core. */
  readonly serverCpuPct?: number;
  readonly generatorCpuPct?: number;
  /** The same CPU time divided by the sessions that came up: ms of CPU per set-up. */
  readonly serverCpuMsPerSetup?: number;
  readonly generatorCpuMsPerSetup?: number;
}

/** A server memory reading (/proc/PID/status VmRSS, and the heap when the probe answered). */
export interface MemoryReading {
  readonly rssKb: number;
  /** After a full GC. */
  readonly heapUsedKb?: number;
  /** Before that GC: what V8 had reserved. */
  readonly heapTotalKb?: number;
  readonly externalKb?: number;
  readonly arrayBuffersKb?: number;
  /** V8's heap spaces before that GC (size reserved, used), KiB. */
  readonly spacesKb?: Readonly<Record<string, { readonly size: number; readonly used: number }>>;
}

export interface SessionsResult {
  readonly schema: typeof SESSIONS_SCHEMA;
  readonly startedAt: string;
  readonly settings: SessionsSettings;
  /** With `--radius`: accepted Access-Requests FreeRADIUS logged (`Login OK`) by the time every session was up. */
  readonly radius?: { readonly logins: number };
  readonly machine: MachineInfo;
  /** The server's RSS as sessions came up: [sessions up, KiB], the baseline first (the RSS chart). */
  readonly rssRamp?: readonly { readonly up: number; readonly rssKb: number }[];
  readonly server: {
    readonly pid: number;
    /** The file limit the server logged after raising it ("soft/hard"). */
    readonly fileLimit: string;
    readonly baseline: MemoryReading;
    readonly idle: MemoryReading;
    readonly afterClose: MemoryReading;
    /** (idle − baseline) / sessions up, KiB. */
    readonly rssKbPerSession: number;
    readonly heapKbPerSession: number | undefined;
    /** utime+stime over the rest window, percent of one core. */
    readonly restCpuPct: number;
    readonly restWallMs: number;
    /** The rest window on CLOCK_MONOTONIC, µs (the clock of V8's CPU profiles, to cut a --cpu-prof profile to it). */
    readonly restWindowMonotonicUs: readonly [number, number];
    /** With `compactAfterBurst`: the pause of each compaction the server ran before the idle reading, ms. */
    readonly compactionsMs?: readonly number[];
    /** The server's counters at the end (`status` line). */
    readonly counters: Readonly<Record<string, number>>;
    readonly exitCode: number | null;
  };
  readonly generator: {
    readonly fileLimit: string;
    readonly rssKbIdle: number;
    readonly heapUsedKbIdle: number;
    readonly restCpuPct: number;
  };
  readonly setup: SetupFigures;
  /** Sessions up by the generator's TCP source address (absent in older results). */
  readonly sources?: Readonly<Record<string, number>>;
  /** `--storm`: phase 1, the kill, the restart (`setup`, `failures` and the rest are the storm's). */
  readonly storm?: StormFigures;
  readonly failures: Readonly<Record<string, number>>;
  /** Sessions that came up and were lost before the teardown, with reasons. */
  readonly lostWhileIdle: number;
  readonly lostReasons: Readonly<Record<string, number>>;
  readonly ping: { readonly sessions: number; readonly replied: number; readonly rttP50Ms: number };
  readonly teardown: { readonly closed: number; readonly clean: number; readonly durationMs: number };
  /** Other processes' CPU during the rest window (percent of all CPUs). */
  readonly othersCpuPct: number;
  /** What was left behind after everything stopped (empty = nothing). */
  readonly residue: readonly string[];
  readonly targets: readonly TargetCheck[];
  readonly ok: boolean;
}

export interface TargetCheck {
  readonly subject: string;
  readonly target: string;
  readonly measured: string;
  readonly status: 'pass' | 'fail' | 'n/a';
  readonly why?: string;
}

/** The `q` quantile (0..1) of `v` (nearest rank); NaN when empty. */
export function quantile(v: readonly number[], q: number): number {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[rank]!;
}

/**
 * Set-up figures from the generator's per-session times (ms after the open
 * command; `upMs` −1 for a session that failed).
 */
export function setupFigures(startMs: readonly number[], upMs: readonly number[]): SetupFigures {
  const times: number[] = [];
  const ups: number[] = [];
  for (let i = 0; i < upMs.length; i++) {
    if (upMs[i]! < 0) continue;
    ups.push(upMs[i]!);
    times.push(upMs[i]! - startMs[i]!);
  }
  const first = startMs.length ? Math.min(...startMs) : 0;
  const last = ups.length ? Math.max(...ups) : first;
  const durationMs = last - first;
  const perSecond: number[] = [];
  const whole = Math.floor(durationMs / 1000);
  for (let s = 0; s < whole; s++) perSecond.push(0);
  for (const u of ups) {
    const s = Math.floor((u - first) / 1000);
    if (s < whole) perSecond[s]!++;
  }
  return {
    up: ups.length,
    failed: upMs.length - ups.length,
    overallPerSec: durationMs > 0 ? (ups.length * 1000) / durationMs : 0,
    perSecond,
    p50Ms: quantile(times, 0.5),
    p99Ms: quantile(times, 0.99),
    maxMs: times.length ? Math.max(...times) : Number.NaN,
    durationMs,
  };
}

/** (idle − baseline) / n in KiB, or NaN when n is 0. */
export function perSessionKb(baselineKb: number, idleKb: number, n: number): number {
  return n > 0 ? (idleKb - baselineKb) / n : Number.NaN;
}

/** CPU ticks (USER_HZ) over a wall-clock window as percent of one core. */
export function cpuPctOfCore(ticks: number, wallMs: number, hz = 100): number {
  return wallMs > 0 ? (ticks / hz / (wallMs / 1000)) * 100 : Number.NaN;
}

/** CPU ms per unit of work from clock ticks (`/proc/PID/stat`, `hz` a second). */
export function cpuMsPer(ticks: number, units: number, hz = 100): number {
  return units > 0 ? ((ticks / hz) * 1000) / units : Number.NaN;
}

/** The session targets against a result's figures. */
export function evaluateSessionTargets(
  r: Pick<SessionsResult, 'settings' | 'setup' | 'server' | 'lostWhileIdle'>,
): TargetCheck[] {
  const t = SESSION_TARGETS;
  const s = r.settings;
  const full = s.sessions >= t.sessions;
  const defaults = s.lcpEchoIntervalSec === 30 && s.pptpEchoIntervalSec === 60;
  const small = full ? undefined : `ran ${s.sessions} sessions, the target is for ${t.sessions}`;
  const check = (
    subject: string,
    target: string,
    measured: string,
    pass: boolean,
    na?: string,
  ): TargetCheck =>
    na
      ? { subject, target, measured, status: 'n/a', why: na }
      : { subject, target, measured, status: pass ? 'pass' : 'fail' };
  const allUp = r.setup.up === s.sessions && r.lostWhileIdle === 0;
  return [
    check(
      'concurrent sessions',
      `${t.sessions.toLocaleString('en-US')} up at once`,
      `${r.setup.up.toLocaleString('en-US')} of ${s.sessions.toLocaleString('en-US')} up, ${r.lostWhileIdle} lost while idle`,
      allUp && full,
      full ? undefined : small,
    ),
    check(
      'set-up rate',
      `≥ ${t.setupsPerSec} sessions/s`,
      `${r.setup.overallPerSec.toFixed(0)} sessions/s`,
      r.setup.overallPerSec >= t.setupsPerSec,
      full ? undefined : small,
    ),
    check(
      'server RSS per idle session',
      `≤ ${t.rssKbPerSession} KiB beyond the baseline`,
      `${r.server.rssKbPerSession.toFixed(1)} KiB`,
      r.server.rssKbPerSession <= t.rssKbPerSession,
      full ? undefined : small,
    ),
    check(
      'server CPU at rest',
      `≤ ${t.restCpuPct} % of one core, all idle, keep-alives running`,
      `${r.server.restCpuPct.toFixed(2)} %`,
      r.server.restCpuPct <= t.restCpuPct,
      !full
        ? small
        : defaults
          ? undefined
          : `keep-alives every ${s.lcpEchoIntervalSec} s (LCP) / ${s.pptpEchoIntervalSec} s (PPTP), not the defaults 30 / 60`,
    ),
  ];
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The markdown report. */
export function renderSessionsMarkdown(
  r: SessionsResult,
  charts: readonly { file: string; title: string }[] = [],
): string {
  const s = r.settings;
  const m = r.machine;
  const srv = r.server;
  const out: string[] = [];
  const viaRadius = s.auth === 'radius';
  out.push(
    `## Sessions: ${fmt(s.sessions)} PPTP sessions on one server, ${viaRadius ? 'users in RADIUS (FreeRADIUS)' : 'users in chap-secrets'}${r.storm ? ', login storm' : ''} (${r.startedAt.slice(0, 16).replace('T', ' ')} UTC)`,
  );
  out.push('');
  out.push(
    `${m.cpuModel}, ${m.cpus} CPUs, ${m.memoryGiB.toFixed(0)} GiB, Linux ${m.kernel}, ${m.os}, Node ${m.node}; pptp-ts ${m.commit}.`,
  );
  out.push(
    `MS-CHAP-v2 + ${s.mppe ? 'MPPE-128 stateless' : 'no MPPE'}; ${s.callsPerConnection === 1 ? 'one control connection (TCP) per session' : `${s.callsPerConnection} calls per control connection`}; ` +
      `${s.concurrency} connections set up at once; LCP echo every ${s.lcpEchoIntervalSec} s, PPTP echo every ${s.pptpEchoIntervalSec} s; ` +
      `CPU at rest over ${s.restSec} s from ${s.settleSec} s after the last session came up, memory read after it; ` +
      `other processes used ${r.othersCpuPct.toFixed(1)} % of the CPUs meanwhile` +
      `${(s.clientAddresses ?? 1) > 1 ? `; the generator's connections spread over ${s.clientAddresses} source addresses` : ''}` +
      `${s.compactAfterBurst ? `; the server compacts its heap after a burst of ${s.compactAfterBurst} set-ups (limits.compact-after-burst)` : ''}` +
      `${s.ackTimeoutMs === undefined ? '' : s.ackTimeoutMs === 0 ? '; no acknowledgment-only GRE packets on a timer, either side (pptp.ack-timeout-ms 0)' : `; acknowledgment-only GRE packets after ${s.ackTimeoutMs} ms (pptp.ack-timeout-ms)`}.`,
  );
  const st = r.storm;
  if (st) {
    out.push('');
    out.push(
      `Login storm: ${fmt(s.sessions)} sessions opened (phase 1), the server killed (SIGKILL), restarted with the same ` +
        "configuration, and every client redialling at once; the figures below are the storm's, on the new server.",
    );
  }
  out.push('');
  const ps = r.setup.perSecond;
  const sorted = [...ps].sort((a, b) => a - b);
  out.push(
    table(
      ['figure', 'value'],
      [
        ['sessions up / asked', `${fmt(r.setup.up)} / ${fmt(s.sessions)}`],
        ...(st
          ? [
              [
                'phase 1 (before the restart)',
                `${fmt(st.first.up)} of ${fmt(s.sessions)} up at ${fmt(st.first.overallPerSec)} sessions/s, ${s.concurrency} at once`,
              ],
              [
                'server killed → generator saw every session down',
                st.stillUp === 0
                  ? `${fmt(st.downAfterMs / 1000, 1)} s, ${fmt(st.forgotten)} forgotten`
                  : `${fmt(st.stillUp)} still up after ${fmt(st.downAfterMs / 1000, 1)} s`,
              ],
              [
                'server restart → listening',
                `${fmt(st.restartMs / 1000, 1)} s (pid ${st.killedPid} → ${st.restartedPid})`,
              ],
              [
                'storm failures: refused for a configured limit / anything else',
                `${fmt(st.outcome.refusedForLimit)} / ${fmt(st.outcome.otherFailures)} (the server counted ${fmt(st.outcome.serverRefusals)} refusals)`,
              ],
              [
                'storm set-ups in each second',
                r.setup.perSecond.length
                  ? `${r.setup.perSecond.slice(0, 30).join(', ')}${r.setup.perSecond.length > 30 ? ', …' : ''}`
                  : '— (under a second)',
              ],
            ]
          : []),
        ...(r.sources
          ? [
              [
                'sessions up by client source address',
                Object.entries(r.sources)
                  .map(([a, k]) => `${a}: ${fmt(k)}`)
                  .join(', ') || '—',
              ],
            ]
          : []),
        [
          'authentication',
          viaRadius
            ? `RADIUS: FreeRADIUS in the server's namespace, ${fmt(r.radius?.logins)} Access-Accepts (Login OK) logged`
            : 'chap-secrets file',
        ],
        [
          'set-up rate, overall',
          `${fmt(r.setup.overallPerSec)} sessions/s over ${fmt(r.setup.durationMs / 1000, 1)} s`,
        ],
        [
          'set-up rate, per second (min / median / max)',
          ps.length
            ? `${fmt(sorted[0])} / ${fmt(quantile(ps, 0.5))} / ${fmt(sorted[sorted.length - 1])}`
            : '—',
        ],
        [
          'CPU while opening: server / generator',
          `${fmt(r.setup.serverCpuPct)} / ${fmt(r.setup.generatorCpuPct)} % of one core`,
        ],
        ...(r.setup.serverCpuMsPerSetup !== undefined && r.setup.generatorCpuMsPerSetup !== undefined
          ? [
              [
                'CPU per session set-up: server / generator',
                `${fmt(r.setup.serverCpuMsPerSetup, 2)} / ${fmt(r.setup.generatorCpuMsPerSetup, 2)} ms`,
              ] as [string, string],
            ]
          : []),
        [
          'set-up time p50 / p99 / max (TCP connect → IPCP up)',
          `${fmt(r.setup.p50Ms)} / ${fmt(r.setup.p99Ms)} / ${fmt(r.setup.maxMs)} ms`,
        ],
        [
          'server RSS: baseline → all idle → after teardown',
          `${fmt(srv.baseline.rssKb / 1024, 1)} → ${fmt(srv.idle.rssKb / 1024, 1)} → ${fmt(srv.afterClose.rssKb / 1024, 1)} MiB`,
        ],
        ['server RSS per idle session', `${fmt(srv.rssKbPerSession, 1)} KiB`],
        [
          'server JS heap per idle session',
          srv.heapKbPerSession === undefined ? '—' : `${fmt(srv.heapKbPerSession, 1)} KiB`,
        ],
        ...(srv.compactionsMs
          ? [
              [
                'heap compactions after the burst (pause each)',
                srv.compactionsMs.length ? srv.compactionsMs.map((ms) => `${fmt(ms)} ms`).join(', ') : 'none',
              ] as [string, string],
            ]
          : []),
        ['server CPU at rest', `${fmt(srv.restCpuPct, 2)} % of one core`],
        ['generator CPU at rest', `${fmt(r.generator.restCpuPct, 2)} % of one core`],
        [
          'ping through the tunnel',
          `${fmt(r.ping.replied)} of ${fmt(r.ping.sessions)} sessions answered, RTT p50 ${fmt(r.ping.rttP50Ms, 2)} ms`,
        ],
        ['lost while idle', fmt(r.lostWhileIdle)],
        [
          'teardown',
          `${fmt(r.teardown.clean)} of ${fmt(r.teardown.closed)} clean in ${fmt(r.teardown.durationMs / 1000, 1)} s`,
        ],
        ['left behind', r.residue.length ? r.residue.join(', ') : 'nothing'],
      ],
    ),
  );
  out.push('');
  out.push('### Targets');
  out.push('');
  out.push(
    table(
      ['subject', 'target', 'measured', 'status'],
      r.targets.map((t) => [
        t.subject,
        t.target,
        t.measured,
        t.status === 'n/a' ? `n/a: ${t.why}` : t.status,
      ]),
    ),
  );
  const fails = Object.entries(r.failures);
  const lost = Object.entries(r.lostReasons);
  if (fails.length || lost.length) {
    out.push('');
    out.push('### Failures');
    out.push('');
    for (const [k, v] of fails) out.push(`- set-up: ${v} × ${k}`);
    for (const [k, v] of lost) out.push(`- while idle: ${v} × ${k}`);
  }
  for (const c of charts) {
    out.push('');
    out.push(`![${c.title}](${c.file})`);
  }
  out.push('');
  return out.join('\n');
}
