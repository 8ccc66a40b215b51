/**
 * The busy-sessions bench's figures, pure (numbers in, numbers and text
 * out) so the tests can feed them by hand: the common measuring window
 * (which sessions flow, each one's rate from two readings of the TUN
 * counters), Jain's fairness index, the summary of one variant's run
 * against its single-session figure, the targets, the markdown report and
 * the per-session chart.
 */
import type { TopLevelSpec } from 'vega-lite';
import { type Chart, renderSvg } from '../charts.js';

/** Schema tag of the result file. */
export const BUSY_SCHEMA = 'pptp-ts/bench-busy/2';

/** The targets: all sessions together carry at least this share of one session alone... */
export const TARGET_AGGREGATE_RATIO = 0.9;
/** ...and share it at least this fairly (Jain's index). */
export const TARGET_JAIN = 0.9;

/**
 * Jain's fairness index of `xs`: (Σx)² / (n·Σx²). 1 when every session got
 * the same, 1/n when one got everything. Throws on an empty list or a
 * negative or non-finite value; 0 when nobody got anything (no traffic is
 * no sharing to judge, and must not pass as fair).
 */
export function jainIndex(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('Jain index of no sessions');
  let sum = 0;
  let squares = 0;
  for (const x of xs) {
    if (!Number.isFinite(x) || x < 0) throw new Error(`Jain index: not a throughput: ${x}`);
    sum += x;
    squares += x * x;
  }
  if (squares === 0) return 0;
  return (sum * sum) / (xs.length * squares);
}

/** One reading of every TUN's tx byte counter (`ip -s -j link` in the client namespace). */
export interface CounterSample {
  /** When it was read, ms on a monotonic clock (the middle of the `ip` call). */
  readonly atMs: number;
  /** Bytes sent so far, by interface name. */
  readonly tx: ReadonlyMap<string, number>;
}

/**
 * Bytes `device` sent from sample `a` to sample `b`: 0 when the device is
 * missing from either (its client gone) or its counter went back (a new
 * device under the old name): neither is traffic of the session measured.
 */
export function sentBetween(a: CounterSample, b: CounterSample, device: string): number {
  const x = a.tx.get(device);
  const y = b.tx.get(device);
  if (x === undefined || y === undefined || y < x) return 0;
  return y - x;
}

/**
 * A session counts as flowing once its TUN sent at least this much between
 * two readings about a second apart: more than iperf3's control exchange,
 * LCP echoes and TCP handshakes (a few hundred bytes), about 0.25 Mbit/s.
 */
export const FLOWING_BYTES = 32 * 1024;

/** The devices (of `devices`) that sent at least `minBytes` from `a` to `b`. */
export function flowingDevices(
  a: CounterSample,
  b: CounterSample,
  devices: readonly string[],
  minBytes = FLOWING_BYTES,
): string[] {
  return devices.filter((d) => sentBetween(a, b, d) >= minBytes);
}

/** Every device's traffic over one window, between two counter samples. */
export interface WindowRates {
  readonly seconds: number;
  /** Bytes each device sent in the window, in the order asked. */
  readonly bytes: readonly number[];
  /** The same as Mbit/s (1e6 bit/s) over the window. */
  readonly mbps: readonly number[];
}

/** The rate of each of `devices` over the window from `a` to `b`: bytes × 8 / (t1 − t0). */
export function windowRates(a: CounterSample, b: CounterSample, devices: readonly string[]): WindowRates {
  const seconds = (b.atMs - a.atMs) / 1000;
  if (!(seconds > 0)) throw new Error(`measuring window of ${seconds} s`);
  const bytes = devices.map((d) => sentBetween(a, b, d));
  return { seconds, bytes, mbps: bytes.map((x) => (x * 8) / seconds / 1e6) };
}

export type BusyMppe = 'on' | 'off';

/** One session of the busy phase. */
export interface SessionFigure {
  /** 1-based session number (its user is `busyN`, its port 5200+N). */
  readonly session: number;
  readonly address: string;
  readonly device: string;
  /**
   * The client's own underlay address (`--local-address`), when the server
   * saw its control connection come from it (absent in older results).
   */
  readonly underlay?: string;
  /**
   * What the session's TUN sent over the common measuring window, Mbit/s (IP
   * packets, headers included); 0 when the session failed or did not flow
   * by the start-up allowance (see error).
   */
  readonly mbps: number;
  /** Bytes the session's TUN sent in the window. */
  readonly windowBytes: number;
  /** iperf3's own receiver goodput, Mbit/s, averaged over its whole stream (which started when it could). */
  readonly iperfMbps: number;
  /** Payload bytes the iperf3 receiver got over the whole stream. */
  readonly bytes: number;
  readonly retransmits: number;
  /** Bytes the session's TUN sent over the whole stream (kernel counter, the through-the-tunnel check). */
  readonly deviceTxBytes: number;
  readonly error?: string;
}

/** The common measuring window of one phase. */
export interface BusyWindow {
  /** iperf3 streams started (the sessions that came up). */
  readonly streams: number;
  /** Length, s (between the two counter readings). */
  readonly seconds: number;
  /** Warm-up waited once every stream flowed, before the window opened, s. */
  readonly warmupSec: number;
  /** Seconds from starting the iperf3 clients until every one flowed (absent when some never did). */
  readonly allFlowingAfterSec?: number;
  /** Bound on that wait, s. */
  readonly allowanceSec: number;
  /** Each iperf3 stream's `-t`, s: allowance + warm-up + window + margin. */
  readonly streamSec: number;
  /** Sessions not flowing by the allowance (counted as 0). */
  readonly notFlowing: readonly number[];
  /** Sessions whose stream ended before the window closed (counted as 0). */
  readonly endedInside: readonly number[];
}

/** One variant's run (MPPE on or off). */
export interface VariantResult {
  readonly mppe: BusyMppe;
  /**
   * The single-session TCP ×1 figure, Mbit/s: session 1 alone (same server,
   * measured first), its TUN counter over a window after its warm-up, as
   * the busy phase's sessions are measured.
   */
  readonly singleMbps: number;
  /** iperf3's own goodput for that run, Mbit/s. */
  readonly singleIperfMbps: number;
  readonly singleWindow?: BusyWindow;
  readonly sessions: readonly SessionFigure[];
  /** The busy phase's common window (absent when the phase did not get that far). */
  readonly window?: BusyWindow;
  /** CPU of the `pptp-ts serve` process during the busy phase's window, percent of one core. */
  readonly serverCpuPct: number;
  /** CPU of every client session process during that window, percent of one core (absent in older results). */
  readonly clientCpuPct?: number;
  /** Client processes that carried the sessions (1 with `--clients one-process`). */
  readonly clientProcesses?: number;
  /** Everything busy on the machine during the busy phase's window, percent of all CPUs. */
  readonly machineBusyPct: number;
  /** Wall time of the busy phase, from starting the iperf3 clients until the last finished, s. */
  readonly busyWallSec?: number;
  readonly summary: VariantSummary;
  /** Things left behind after the variant, before they were removed; empty when clean. */
  readonly residue: readonly string[];
  readonly error?: string;
}

export interface VariantSummary {
  readonly sessions: number;
  /** Sessions that flowed in the window, through their own tunnel, with an iperf3 run that succeeded. */
  readonly carried: number;
  readonly aggregateMbps: number;
  readonly meanMbps: number;
  readonly minMbps: number;
  readonly maxMbps: number;
  readonly jain: number;
  /** aggregate / single; NaN-free: 0 when the single figure is 0. */
  readonly aggregateRatio: number;
  readonly aggregateTargetMet: boolean;
  readonly jainTargetMet: boolean;
}

/** Summarizes one variant's per-session figures against its single-session figure. */
export function summarizeVariant(
  singleMbps: number,
  sessions: readonly { mbps: number; bytes: number; error?: string }[],
): VariantSummary {
  const xs = sessions.map((s) => s.mbps);
  const aggregateMbps = xs.reduce((a, b) => a + b, 0);
  const n = xs.length;
  const jain = n > 0 ? jainIndex(xs) : 0;
  const aggregateRatio = singleMbps > 0 ? aggregateMbps / singleMbps : 0;
  return {
    sessions: n,
    carried: sessions.filter((s) => s.error === undefined && s.bytes > 0).length,
    aggregateMbps,
    meanMbps: n > 0 ? aggregateMbps / n : 0,
    minMbps: n > 0 ? Math.min(...xs) : 0,
    maxMbps: n > 0 ? Math.max(...xs) : 0,
    jain,
    aggregateRatio,
    aggregateTargetMet: n > 0 && aggregateRatio >= TARGET_AGGREGATE_RATIO,
    jainTargetMet: n > 0 && jain >= TARGET_JAIN,
  };
}

export interface BusySettings {
  readonly sessions: number;
  readonly timeSec: number;
  readonly omitSec: number;
  readonly mppe: readonly BusyMppe[];
  readonly mtu: number;
  /**
   * Where the client sessions run: one `pptp-ts connect` process each, or
   * all in one process (bench/busy/clients.ts). Absent in older results: per-session.
   */
  readonly clients?: BusyClients;
}

export type BusyClients = 'per-session' | 'one-process';

export interface BusyResult {
  readonly schema: typeof BUSY_SCHEMA;
  readonly startedAt: string;
  finishedAt: string;
  readonly settings: BusySettings;
  readonly machine: { readonly cpuModel: string; readonly cpus: number; readonly kernel: string };
  readonly variants: VariantResult[];
  /** Network namespaces and processes still present after the whole run; empty when clean. */
  leftBehind: string[];
  ok: boolean;
  files?: { json: string; markdown: string; chart?: string };
}

const f1 = (x: number) => x.toFixed(1);
const f3 = (x: number) => x.toFixed(3);

function label(m: BusyMppe): string {
  return m === 'on' ? 'MPPE-128 stateless' : 'MPPE off';
}

function sessionList(ns: readonly number[]): string {
  return ns.length <= 20 ? ns.join(', ') : `${ns.slice(0, 20).join(', ')} and ${ns.length - 20} more`;
}

/** How a window was taken, for the report: length, and whether every stream flowed during it. */
export function describeWindow(w: BusyWindow): string {
  const streams = w.streams;
  const all = w.notFlowing.length === 0 && w.endedInside.length === 0;
  const head = `${f1(w.seconds)} s, opened ${w.warmupSec} s after `;
  const flowed =
    w.allFlowingAfterSec !== undefined
      ? `all ${streams} stream${streams === 1 ? '' : 's'} flowed (${f1(w.allFlowingAfterSec)} s after they were started)`
      : `the ${w.allowanceSec} s start-up allowance ran out`;
  const missing = [
    ...(w.notFlowing.length > 0
      ? [`NOT flowing by then: session${w.notFlowing.length === 1 ? '' : 's'} ${sessionList(w.notFlowing)}`]
      : []),
    ...(w.endedInside.length > 0 ? [`ended inside the window: ${sessionList(w.endedInside)}`] : []),
  ];
  return `${head}${flowed}; ${all ? `all ${streams} flowed throughout` : `${missing.join('; ')} (counted as 0)`}; each iperf3 ran ${w.streamSec} s`;
}

/** The markdown report: a summary table per variant, then every session's figure. */
export function renderBusyMarkdown(r: BusyResult, chart?: Chart): string {
  const s = r.settings;
  const out: string[] = [
    `# pptp-ts, ${s.sessions} busy sessions at once`,
    '',
    `${r.startedAt}; ${r.machine.cpuModel}, ${r.machine.cpus} CPUs, Linux ${r.machine.kernel}. ` +
      `${
        s.clients === 'one-process'
          ? 'Each session: a library `PptpClient` (own TUN, own underlay address), all of them in one client process sharing one raw GRE socket, '
          : 'Each session: one `pptp-ts connect` (own TUN) '
      }to one \`pptp-ts serve\`, one iperf3 TCP stream, MTU ${s.mtu}. ` +
      `All streams are started together; once every one carries traffic and ${s.omitSec} s of warm-up have passed, ` +
      `each session's TUN counter is read at the start and the end of one ${s.timeSec} s window, ` +
      `so every figure is a rate over the same seconds (IP packets, headers included). ` +
      `Targets: aggregate ≥ ${TARGET_AGGREGATE_RATIO * 100} % of one session alone, Jain ≥ ${TARGET_JAIN}.`,
    '',
  ];
  for (const v of r.variants) {
    const m = v.summary;
    const yes = (b: boolean) => (b ? 'met' : 'NOT met');
    out.push(
      `## ${label(v.mppe)}`,
      '',
      '| figure | value |',
      '| --- | --- |',
      ...(v.window ? [`| measuring window | ${describeWindow(v.window)} |`] : []),
      `| sessions that carried traffic in it | ${m.carried} / ${m.sessions} |`,
      `| one session alone, TCP ×1 | ${f1(v.singleMbps)} Mbit/s over ${v.singleWindow ? `its ${f1(v.singleWindow.seconds)} s window` : 'no window'} (iperf3: ${f1(v.singleIperfMbps)} Mbit/s goodput) |`,
      `| aggregate of all sessions | ${f1(m.aggregateMbps)} Mbit/s (${f1(m.aggregateRatio * 100)} % of one alone: target ${yes(m.aggregateTargetMet)}) |`,
      `| per session, mean (min–max) | ${f1(m.meanMbps)} (${f1(m.minMbps)}–${f1(m.maxMbps)}) Mbit/s |`,
      `| Jain's fairness index | ${f3(m.jain)} (target ${yes(m.jainTargetMet)}) |`,
      `| server CPU (pptp-ts serve), in the window | ${f1(v.serverCpuPct)} % of one core |`,
      ...(v.clientCpuPct !== undefined
        ? [
            `| client CPU (${v.clientProcesses ?? '?'} process${v.clientProcesses === 1 ? '' : 'es'}), in the window | ${f1(v.clientCpuPct)} % of one core |`,
          ]
        : []),
      `| machine busy, in the window | ${f1(v.machineBusyPct)} % of all CPUs |`,
      ...(v.busyWallSec !== undefined
        ? [`| busy phase | ${f1(v.busyWallSec)} s from starting the streams until the last ended |`]
        : []),
      `| left behind | ${v.residue.length === 0 ? 'nothing' : v.residue.join(', ')} |`,
      ...(v.error ? [`| error | ${v.error.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`] : []),
      '',
    );
  }
  out.push(
    `Left behind after the run: ${r.leftBehind.length === 0 ? 'nothing' : r.leftBehind.join(', ')}.`,
    '',
  );
  if (chart) out.push(`![${chart.title}](${chart.file})`, '');
  out.push(
    "### Per session, over the window (Mbit/s; iperf3's own average over its whole stream in brackets)",
    '',
    `| session | ${r.variants.map((v) => label(v.mppe)).join(' | ')} |`,
  );
  out.push(`| --- |${r.variants.map(() => ' --- |').join('')}`);
  for (let i = 0; i < s.sessions; i++) {
    const cells = r.variants.map((v) => {
      const x = v.sessions[i];
      if (!x) return '–';
      return x.error
        ? `failed: ${x.error.slice(0, 80).replace(/\|/g, '\\|')}`
        : `${f1(x.mbps)} (${f1(x.iperfMbps)})`;
    });
    out.push(`| ${i + 1} | ${cells.join(' | ')} |`);
  }
  return `${out.join('\n')}\n`;
}

/** The Vega-Lite specification of the per-session throughput chart. */
export function busyChartSpec(r: BusyResult): TopLevelSpec {
  const rows = r.variants.flatMap((v) =>
    v.sessions.map((s) => ({ session: s.session, series: label(v.mppe), mbps: s.mbps })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Throughput of each of ${r.settings.sessions} sessions over one common ${r.settings.timeSec} s window (one TCP stream each)`,
    width: Math.max(300, Math.min(1200, r.settings.sessions * 10)),
    height: 260,
    config: { font: 'DejaVu Sans, Verdana, sans-serif', view: { stroke: 'transparent' } },
    data: { values: rows },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'session', type: 'ordinal', title: 'session' },
      xOffset: { field: 'series', type: 'nominal' },
      y: { field: 'mbps', type: 'quantitative', title: 'Mbit/s' },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** The per-session chart as SVG. */
export async function busyChart(r: BusyResult, stem: string): Promise<Chart> {
  const spec = busyChartSpec(r);
  return { file: `${stem}-sessions.svg`, title: String(spec.title), svg: await renderSvg(spec) };
}
