/**
 * bench/charts.ts: the SVG charts of the lab and the sessions bench. The
 * check reads the rendered SVG back: every bar and point Vega draws carries
 * an aria-label with its data, and its geometry must be proportional to the
 * figure it shows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { labCharts, type SessionsChartInput, sessionsCharts } from '../../bench/charts.js';
import { chartsOfResult } from '../../bench/charts-run.js';
import { renderMarkdown } from '../../bench/lab/report.js';
import type { ContenderSummary, LabResult } from '../../bench/lab/result.js';

function summary(id: string, kind: ContenderSummary['kind'], tcp1: number, tcp4: number, ping: number) {
  const s = (median: number) => ({ median, min: median, max: median, n: 3 });
  return {
    id,
    label: id,
    kind,
    status: 'ok',
    okRounds: 3,
    failedRounds: 0,
    tcp1Mbps: s(tcp1),
    tcp4Mbps: s(tcp4),
    pingAvgMs: s(ping),
    ratios: {},
  } as ContenderSummary;
}

function lab(): LabResult {
  return {
    schema: 'pptp-ts/bench-lab/1',
    startedAt: '2026-12-07T00:00:00.000Z',
    finishedAt: '2026-12-07T00:10:00.000Z',
    settings: {
      rounds: 3,
      durationSec: 5,
      omitSec: 1,
      metrics: ['tcp1', 'tcp4', 'ping'],
      mtu: 1400,
      udpRateBps: 0,
      pingCount: 20,
      pingIntervalSec: 0.05,
      busyThresholdPct: 10,
      allowBusy: false,
    },
    machine: {
      cpuModel: 'test',
      cpus: 2,
      kernel: '6',
      kernelVersion: '#1',
      os: 'test',
      memoryGiB: 1,
      node: 'v20',
      iperf3: '3',
      commit: 'abc',
    },
    contenders: [],
    runs: [],
    summary: [
      summary('veth', 'limit', 16000, 36000, 0.05),
      summary('openvpn', 'userspace', 600, 700, 0.21),
      summary('pptp-ts', 'subject', 1500, 1350, 0.3),
    ],
    targets: [],
    busyRuns: 0,
    maxOthersPct: 0,
    ok: true,
  } as unknown as LabResult;
}

/** The marks of one kind in an SVG: their aria-label and the path's first move and extent. */
function marks(svg: string, markClass: string): { label: string; d: string }[] {
  const start = svg.indexOf(`class="mark-${markClass} role-mark`);
  assert.ok(start >= 0, `no ${markClass} marks in the SVG`);
  const group = svg.slice(start, svg.indexOf('</g>', start));
  return [...group.matchAll(/<path aria-label="([^"]*)"[^>]*?d="([^"]*)"/g)].map((m) => ({
    label: m[1]!,
    d: m[2]!,
  }));
}

/** A horizontal bar's length: its path is `Mx,yhW...`. */
function barLength(d: string): number {
  const m = /^M[-\d.e]+,[-\d.e]+h([-\d.e]+)/.exec(d);
  assert.ok(m, `not a bar path: ${d}`);
  return Number(m[1]);
}

describe('bench charts', () => {
  it('lab: one bar per userspace tunnel and metric, lengths proportional to the figures', async () => {
    const charts = await labCharts(lab(), 'lab-x');
    assert.deepEqual(
      charts.map((c) => c.file),
      ['lab-x-throughput.svg', 'lab-x-rtt.svg'],
    );
    const [throughput, rtt] = charts;
    assert.match(throughput!.svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(throughput!.svg.trimEnd().endsWith('</svg>'));
    const bars = marks(throughput!.svg, 'rect');
    // The underlay limit (veth) is left out of the chart: it would flatten the bars.
    assert.equal(bars.length, 4);
    assert.ok(bars.every((b) => !b.label.includes('veth')));
    const byLabel = new Map(bars.map((b) => [b.label, barLength(b.d)]));
    const len = (category: string, series: string) => {
      const hit = [...byLabel].find(
        ([l]) => l.includes(`category: ${category}`) && l.includes(`series: ${series}`),
      );
      assert.ok(hit, `no bar for ${category} / ${series}`);
      return hit[1];
    };
    const pptp1 = len('pptp-ts', 'TCP, 1 stream');
    const ovpn1 = len('openvpn', 'TCP, 1 stream');
    const pptp4 = len('pptp-ts', 'TCP, 4 streams');
    assert.ok(Math.abs(pptp1 / ovpn1 - 1500 / 600) < 0.01, `${pptp1} / ${ovpn1}`);
    assert.ok(Math.abs(pptp4 / pptp1 - 1350 / 1500) < 0.01, `${pptp4} / ${pptp1}`);
    const pings = marks(rtt!.svg, 'rect');
    assert.equal(pings.length, 2);
    assert.match(rtt!.title, /20 pings, 50 ms apart/);
  });

  it('lab: the markdown report links every chart', async () => {
    const charts = await labCharts(lab(), 'lab-x');
    const md = renderMarkdown(lab(), charts);
    for (const c of charts) assert.ok(md.includes(`](${c.file})`), `${c.file} not linked`);
  });

  it('sessions: a point per second of set-up, and the RSS ramp ending at the idle reading', async () => {
    const input: SessionsChartInput = {
      settings: { sessions: 300 },
      setup: { perSecond: [100, 150, 50] },
      rssRamp: [
        { up: 0, rssKb: 100 * 1024 },
        { up: 100, rssKb: 102 * 1024 },
        { up: 250, rssKb: 105 * 1024 },
      ],
      server: { baseline: { rssKb: 100 * 1024 }, idle: { rssKb: 106 * 1024 } },
    };
    const charts = await sessionsCharts(input, 'sessions-x', 300);
    assert.deepEqual(
      charts.map((c) => c.file),
      ['sessions-x-setup-rate.svg', 'sessions-x-rss.svg'],
    );
    const rate = marks(charts[0]!.svg, 'symbol');
    assert.deepEqual(
      rate.map((p) => /sessions\/s: (\d+)/.exec(p.label)?.[1]),
      ['100', '150', '50'],
    );
    const rss = marks(charts[1]!.svg, 'symbol').map((p) => p.label);
    assert.equal(rss.length, 4);
    assert.ok(
      rss.some((l) => /sessions up: 300/.test(l) && /RSS, MiB: 106/.test(l)),
      rss.join(' | '),
    );
  });

  it('bench:charts: a result file gets the charts of its kind, named after it; anything else is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-charts-'));
    try {
      const file = join(dir, 'lab-2026-12-07T00-00-00Z.json');
      writeFileSync(file, JSON.stringify(lab()));
      assert.deepEqual(
        (await chartsOfResult(file)).map((c) => c.file),
        ['lab-2026-12-07T00-00-00Z-throughput.svg', 'lab-2026-12-07T00-00-00Z-rtt.svg'],
      );
      const other = join(dir, 'other.json');
      writeFileSync(other, '{"schema":"something/else"}');
      await assert.rejects(
        chartsOfResult(other),
        /other\.json: not a lab or sessions result \(schema "something\/else"\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
