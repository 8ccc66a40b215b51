/**
 * SVG charts of the bench results, drawn with Vega-Lite: a maintained
 * grammar of graphics whose Vega runtime renders SVG in Node with no
 * browser and no canvas (docs/benchmarks.md, "Charts"). A chart is a
 * Vega-Lite specification built from a result file's figures; `renderSvg`
 * turns it into an SVG document.
 *
 * The lab gets throughput and ping RTT per contender; the sessions bench
 * gets the set-up rate second by second and the server's RSS against the
 * number of sessions up.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { LabResult } from './lab/result.js';

/** One chart: a file name (no directory) and its SVG text. */
export interface Chart {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

const WIDTH = 520;
const FONT = 'DejaVu Sans, Verdana, sans-serif';

function config(): NonNullable<TopLevelSpec['config']> {
  return {
    font: FONT,
    view: { stroke: 'transparent' },
    axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6', labelLimit: 240 },
    title: { fontSize: 14, anchor: 'start' },
    legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom' },
  };
}

/** Renders a Vega-Lite specification to an SVG document (no network, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A bar per category, one colour per series, bars of a category side by side. */
export interface BarRow {
  readonly category: string;
  readonly series: string;
  readonly value: number;
}

export function groupedBarSpec(o: {
  title: string;
  valueTitle: string;
  rows: readonly BarRow[];
  /** Categories in this order (the contenders as the lab ran them). */
  order: readonly string[];
}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: WIDTH,
    config: config(),
    data: { values: o.rows.map((r) => ({ ...r })) },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'category', type: 'nominal', sort: [...o.order], title: null },
      yOffset: { field: 'series', type: 'nominal' },
      x: { field: 'value', type: 'quantitative', title: o.valueTitle },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** A line per series over a quantitative x axis, with its points marked. */
export interface LinePoint {
  readonly x: number;
  readonly y: number;
  readonly series: string;
}

export function lineSpec(o: {
  title: string;
  xTitle: string;
  yTitle: string;
  points: readonly LinePoint[];
}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: WIDTH,
    height: 260,
    config: config(),
    data: { values: o.points.map((p) => ({ ...p })) },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle },
      y: { field: 'y', type: 'quantitative', title: o.yTitle },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** The lab's charts: TCP/UDP throughput and ping RTT, medians per contender. */
export async function labCharts(r: LabResult, stem: string): Promise<Chart[]> {
  // The underlay and the kernel tunnel (plain veth, VXLAN) run an order of
  // magnitude faster than any userspace tunnel and would flatten the bars;
  // the report's table keeps them.
  const measured = r.summary.filter(
    (s) => (s.status === 'ok' || s.status === 'partial') && (s.kind === 'userspace' || s.kind === 'subject'),
  );
  const order = measured.map((s) => s.label);
  const throughput: BarRow[] = [];
  const rtt: BarRow[] = [];
  for (const s of measured) {
    if (s.tcp1Mbps) throughput.push({ category: s.label, series: 'TCP, 1 stream', value: s.tcp1Mbps.median });
    if (s.tcp4Mbps)
      throughput.push({ category: s.label, series: 'TCP, 4 streams', value: s.tcp4Mbps.median });
    if (s.pingAvgMs) rtt.push({ category: s.label, series: 'ping', value: s.pingAvgMs.median });
  }
  const charts: Chart[] = [];
  if (throughput.length > 0) {
    const title = 'Throughput through the tunnel, userspace tunnels (median of the rounds)';
    charts.push({
      file: `${stem}-throughput.svg`,
      title,
      svg: await renderSvg(groupedBarSpec({ title, valueTitle: 'Mbit/s', rows: throughput, order })),
    });
  }
  if (rtt.length > 0) {
    const title = `Ping round-trip time (median; ${r.settings.pingCount} pings, ${r.settings.pingIntervalSec * 1000} ms apart)`;
    charts.push({
      file: `${stem}-rtt.svg`,
      title,
      svg: await renderSvg(groupedBarSpec({ title, valueTitle: 'ms', rows: rtt, order })),
    });
  }
  return charts;
}

/** The figures of a sessions run the charts need (a subset of its result file). */
export interface SessionsChartInput {
  readonly settings: { readonly sessions: number };
  readonly setup: { readonly perSecond: readonly number[] };
  /** The server's RSS as sessions came up: [sessions up, KiB] pairs, the baseline first. */
  readonly rssRamp?: readonly { readonly up: number; readonly rssKb: number }[];
  readonly server: {
    readonly baseline: { readonly rssKb: number };
    readonly idle?: { readonly rssKb: number };
  };
  readonly setupUp?: number;
}

/** The sessions bench's charts: set-up rate per second, and RSS against sessions up. */
export async function sessionsCharts(r: SessionsChartInput, stem: string, up: number): Promise<Chart[]> {
  const charts: Chart[] = [];
  const rate: LinePoint[] = r.setup.perSecond.map((n, i) => ({ x: i + 1, y: n, series: 'sessions set up' }));
  if (rate.length > 0) {
    const title = `Set-up rate, second by second (${r.settings.sessions.toLocaleString('en-US')} sessions asked)`;
    charts.push({
      file: `${stem}-setup-rate.svg`,
      title,
      svg: await renderSvg(
        lineSpec({ title, xTitle: 'second of the set-up', yTitle: 'sessions/s', points: rate }),
      ),
    });
  }
  const ramp: LinePoint[] = (r.rssRamp ?? [{ up: 0, rssKb: r.server.baseline.rssKb }]).map((p) => ({
    x: p.up,
    y: p.rssKb / 1024,
    series: 'while setting up',
  }));
  if (r.server.idle) ramp.push({ x: up, y: r.server.idle.rssKb / 1024, series: 'all up and idle' });
  if (ramp.length > 1) {
    const title = 'Server RSS against sessions up';
    charts.push({
      file: `${stem}-rss.svg`,
      title,
      svg: await renderSvg(lineSpec({ title, xTitle: 'sessions up', yTitle: 'RSS, MiB', points: ramp })),
    });
  }
  return charts;
}
