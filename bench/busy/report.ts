/**
 * The busy-sessions bench's figures, pure (numbers in, numbers and text
 * out) so the tests can feed them by hand: Jain's fairness index, the
 * summary of one variant's run against its single-session figure, the
 * targets, the markdown report and the per-session chart.
 */
import type { TopLevelSpec } from 'vega-lite';
import { type Chart, renderSvg } from '../charts.js';

/** Schema tag of the result file. */
export const BUSY_SCHEMA = 'pptp-ts/bench-busy/1';

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
  /** Receiver goodput, Mbit/s; 0 when the run failed (see error). */
  readonly mbps: number;
  /** Payload bytes the iperf3 receiver got. */
  readonly bytes: number;
  readonly retransmits: number;
  /** Bytes the session's TUN sent during the run (kernel counter, an independent check). */
  readonly deviceTxBytes: number;
  readonly error?: string;
}

/** One variant's run (MPPE on or off). */
export interface VariantResult {
  readonly mppe: BusyMppe;
  /** The single-session TCP ×1 figure, Mbit/s (one session alone, same server, measured first). */
  readonly singleMbps: number;
  readonly sessions: readonly SessionFigure[];
  /** CPU of the `pptp-ts serve` process during the busy phase, percent of one core. */
  readonly serverCpuPct: number;
  /** Everything busy on the machine during the busy phase, percent of all CPUs. */
  readonly machineBusyPct: number;
  /** Wall time of the busy phase, from starting the iperf3 clients until the last finished, s. */
  readonly busyWallSec?: number;
  /**
   * Seconds during which every measured stream ran at the same time (warm-up
   * included), from iperf3's start stamps (whole seconds): the streams start
   * as fast as the loaded machine spawns them, so on a busy machine the
   * sessions are not all busy together for the whole run.
   */
  readonly overlapSec?: number;
  readonly summary: VariantSummary;
  /** Things left behind after the variant, before they were removed; empty when clean. */
  readonly residue: readonly string[];
  readonly error?: string;
}

export interface VariantSummary {
  readonly sessions: number;
  /** Sessions whose iperf3 run succeeded with bytes > 0. */
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
/**
 * Seconds during which every stream ran: the latest start to the earliest
 * end, each stream running `durationSec` from its start (0 when some never
 * overlapped; undefined without a start for every stream).
 */
export function streamsOverlap(
  startsSec: readonly (number | undefined)[],
  durationSec: number,
): number | undefined {
  if (startsSec.length === 0 || startsSec.some((s) => s === undefined)) return undefined;
  const s = startsSec as readonly number[];
  return Math.max(0, Math.min(...s) + durationSec - Math.max(...s));
}

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
}

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

/** The markdown report: a summary table per variant, then every session's figure. */
export function renderBusyMarkdown(r: BusyResult, chart?: Chart): string {
  const s = r.settings;
  const out: string[] = [
    `# pptp-ts, ${s.sessions} busy sessions at once`,
    '',
    `${r.startedAt}; ${r.machine.cpuModel}, ${r.machine.cpus} CPUs, Linux ${r.machine.kernel}. ` +
      `Each session: one \`pptp-ts connect\` (own TUN) to one \`pptp-ts serve\`, one iperf3 TCP stream, ` +
      `${s.timeSec} s (${s.omitSec} s warm-up left out), MTU ${s.mtu}, all at the same time. ` +
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
      `| sessions that carried traffic | ${m.carried} / ${m.sessions} |`,
      `| one session alone, TCP ×1 | ${f1(v.singleMbps)} Mbit/s |`,
      `| aggregate of all sessions | ${f1(m.aggregateMbps)} Mbit/s (${f1(m.aggregateRatio * 100)} % of one alone: target ${yes(m.aggregateTargetMet)}) |`,
      `| per session, mean (min–max) | ${f1(m.meanMbps)} (${f1(m.minMbps)}–${f1(m.maxMbps)}) Mbit/s |`,
      `| Jain's fairness index | ${f3(m.jain)} (target ${yes(m.jainTargetMet)}) |`,
      `| server CPU (pptp-ts serve) | ${f1(v.serverCpuPct)} % of one core |`,
      `| machine busy | ${f1(v.machineBusyPct)} % of all CPUs |`,
      ...(v.overlapSec !== undefined && v.busyWallSec !== undefined
        ? [
            `| all streams running together | ${v.overlapSec} s of each stream's ${r.settings.omitSec + r.settings.timeSec} s (busy phase ${f1(v.busyWallSec)} s) |`,
          ]
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
    '### Per session (Mbit/s)',
    '',
    `| session | ${r.variants.map((v) => label(v.mppe)).join(' | ')} |`,
  );
  out.push(`| --- |${r.variants.map(() => ' --- |').join('')}`);
  for (let i = 0; i < s.sessions; i++) {
    const cells = r.variants.map((v) => {
      const x = v.sessions[i];
      return x ? (x.error ? `failed: ${x.error.slice(0, 80).replace(/\|/g, '\\|')}` : f1(x.mbps)) : '–';
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
    title: `Throughput of each of ${r.settings.sessions} sessions at once (one TCP stream each)`,
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
