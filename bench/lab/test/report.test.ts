/**
 * Summaries, ratios, target checks and the markdown, on hand-made rounds
 * whose medians are known by construction.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Measurements, TcpMeasurement, UdpMeasurement } from '../measure.js';
import type { LoadSample } from '../proc.js';
import { cell, evaluateTargets, renderMarkdown, summarizeRuns } from '../report.js';
import { type ContenderInfo, type LabResult, RESULT_SCHEMA, type RunRecord } from '../result.js';
import { ratio, summarize } from '../stats.js';

describe('summarize and ratio', () => {
  it('median of odd and even counts, min, max, n', () => {
    assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
    assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
  });

  it('ignores missing and non-finite values, and has nothing to say about none', () => {
    assert.deepEqual(summarize([undefined, 5, null, Number.NaN, Number.POSITIVE_INFINITY]), {
      median: 5,
      min: 5,
      max: 5,
      n: 1,
    });
    assert.equal(summarize([]), undefined);
    assert.equal(summarize([undefined]), undefined);
  });

  it('ratio of medians, undefined against zero or nothing', () => {
    assert.equal(ratio(summarize([10, 30, 20]), summarize([5])), 4);
    assert.equal(ratio(summarize([1]), summarize([0])), undefined);
    assert.equal(ratio(undefined, summarize([1])), undefined);
  });
});

const load = (othersPct = 1, l1 = 0.2): LoadSample => ({
  wallMs: 1000,
  cpus: 2,
  othersPct,
  totalBusyPct: othersPct,
  stealPct: 0,
  top: [],
  loadavg: [l1, 0.1, 0.05],
});

const cpu = (pctOfCore: number | null) => ({ pctOfCore, byProcess: [], machineBusyPct: 50 });
const zero = { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0 };
const counters = { clientDevice: zero, serverDevice: zero, clientUnderlay: zero };

function tcp(mbps: number, retransmits: number, cpuPct: number | null, streams = 1): TcpMeasurement {
  return {
    mbps,
    sentMbps: mbps,
    retransmits,
    bytes: 1,
    seconds: 5,
    streams,
    senderCpuPct: 1,
    receiverCpuPct: 1,
    cpu: cpu(cpuPct),
    counters,
  };
}

function udp(payloadBytes: number, pps: number, lossPct: number): UdpMeasurement {
  return {
    payloadBytes,
    sentPackets: 1,
    receivedPackets: 1,
    receivedPps: pps,
    lossPct,
    receivedMbps: 1,
    seconds: 5,
    offeredBps: 0,
    cpu: cpu(null),
    counters,
  };
}

function run(
  contender: string,
  round: number,
  m: Omit<Measurements, 'rss'>,
  extra: Partial<RunRecord> = {},
): RunRecord {
  return {
    contender,
    round,
    startedAt: '2026-01-01T00:00:00.000Z',
    status: 'ok',
    load: load(),
    busy: false,
    measurements: m,
    ...extra,
  };
}

const infos: ContenderInfo[] = [
  { id: 'veth', label: 'plain veth', kind: 'limit', config: '' },
  { id: 'openvpn', label: 'OpenVPN cleartext', kind: 'userspace', config: '' },
  { id: 'wireguard-go', label: 'wireguard-go', kind: 'userspace', config: '' },
  { id: 'socat', label: 'socat', kind: 'userspace', config: '' },
  { id: 'pptp-ts', label: 'pptp-ts, MPPE off', kind: 'subject', config: '' },
  { id: 'pptp-ts-mppe128', label: 'pptp-ts, MPPE-128', kind: 'subject', config: '', skipped: 'no CLI yet' },
];

// Three rounds; medians by construction: openvpn 1000, wireguard-go 800, pptp-ts 1600, socat 900.
const runs: RunRecord[] = [];
for (const [round, k] of [
  [1, 1],
  [2, 0.9],
  [3, 1.2],
] as const) {
  runs.push(run('veth', round, { tcp1: tcp(18000 * k, 0, null), udp1400: udp(1400, 500_000 * k, 1) }));
  runs.push(
    run('openvpn', round, {
      tcp1: tcp(1000 * k, 10, 95),
      tcp4: tcp(1100 * k, 20, 99, 4),
      udp1400: udp(1400, 100_000 * k, 40),
    }),
  );
  runs.push(
    run(
      'wireguard-go',
      round,
      { tcp1: tcp(800 * k, 5, 150), udp1400: udp(1400, 80_000 * k, 50) },
      {
        rss: [
          { side: 'server', pid: 1, comm: 'wireguard-go', rssKb: 10_000 * k, hwmKb: 12_000 },
          { side: 'client', pid: 2, comm: 'wireguard-go', rssKb: 20_000, hwmKb: 21_000 },
        ],
      },
    ),
  );
  runs.push(run('socat', round, { tcp1: tcp(900 * k, 1, 80), udp1400: udp(1400, 120_000 * k, 30) }));
  runs.push(
    round === 2
      ? {
          ...run('pptp-ts', round, {}),
          status: 'failed',
          error: 'tunnel did not come up',
          measurements: undefined,
        }
      : run('pptp-ts', round, { tcp1: tcp(1600 * k, 3, 120), udp1400: udp(1400, 130_000 * k, 20) }),
  );
}

describe('summarizeRuns', () => {
  const summary = summarizeRuns(infos, runs);
  const get = (id: string) => summary.find((s) => s.id === id)!;

  it('takes medians with min–max over the rounds', () => {
    assert.deepEqual(get('openvpn').tcp1Mbps, { median: 1000, min: 900, max: 1200, n: 3 });
    assert.deepEqual(get('openvpn').tcp4Mbps, { median: 1100, min: 990, max: 1320, n: 3 });
    assert.equal(get('wireguard-go').udp1400Pps!.median, 80_000);
    assert.equal(get('openvpn').cpuTcp1Pct!.median, 95);
    assert.equal(get('veth').cpuTcp1Pct, undefined, 'kernel tunnels have no process CPU');
  });

  it('adds RSS per side over the processes of a round', () => {
    assert.deepEqual(get('wireguard-go').rssServerKb, { median: 10_000, min: 9000, max: 12_000, n: 3 });
    assert.equal(get('wireguard-go').rssClientKb!.median, 20_000);
    assert.equal(get('openvpn').rssServerKb, undefined);
  });

  it('uses only successful rounds, and says when some failed', () => {
    const p = get('pptp-ts');
    assert.equal(p.status, 'partial');
    assert.equal(p.okRounds, 2);
    assert.equal(p.failedRounds, 1);
    // Rounds 1 and 3: 1600 and 1920.
    assert.deepEqual(p.tcp1Mbps, { median: 1760, min: 1600, max: 1920, n: 2 });
    assert.equal(get('pptp-ts-mppe128').status, 'skipped');
    assert.equal(get('openvpn').status, 'ok');
  });

  it('ratios against OpenVPN and wireguard-go medians', () => {
    const p = get('pptp-ts');
    assert.equal(p.ratios.tcp1VsOpenvpn, 1.76);
    assert.equal(p.ratios.tcp1VsWireguardGo, 2.2);
    assert.equal(get('openvpn').ratios.tcp1VsOpenvpn, 1);
    assert.equal(get('socat').ratios.udp1400VsWireguardGo, 1.5);
    assert.equal(p.ratios.tcp4VsOpenvpn, undefined, 'no TCP 4 figure for pptp-ts');
  });

  it('judges the targets', () => {
    const t = evaluateTargets(summary);
    const find = (subject: string, re: RegExp) => t.find((x) => x.subject === subject && re.test(x.target))!;
    assert.equal(find('pptp-ts', /1\.5× OpenVPN/).status, 'met');
    assert.equal(find('pptp-ts', /1\.5× OpenVPN/).value, 1.76);
    assert.equal(find('pptp-ts', /2× wireguard-go/).status, 'met');
    // Best other userspace UDP 1400 is socat (median 120k); pptp-ts has 130k·(1+1.2)/2 = 143k.
    const u = find('pptp-ts', /UDP 1400/);
    assert.equal(u.status, 'met');
    assert.match(u.target, /best: socat/);
    assert.ok(Math.abs(u.value! - 143_000 / 120_000) < 1e-9);
    const m = find('pptp-ts-mppe128', /OpenVPN/);
    assert.equal(m.status, 'n/a');
    assert.equal(m.why, 'no CLI yet');
  });

  it('says "not met" when a subject falls short', () => {
    const slow = summarizeRuns(
      infos,
      runs.map((r) =>
        r.contender === 'pptp-ts' && r.measurements ? run('pptp-ts', r.round, { tcp1: tcp(1550, 0, 1) }) : r,
      ),
    );
    const t = evaluateTargets(slow);
    // 1550 is 1.55× OpenVPN's 1000 but only 1.94× wireguard-go's 800.
    assert.equal(t.find((x) => x.subject === 'pptp-ts' && /OpenVPN/.test(x.target))!.status, 'met');
    const wg = t.find((x) => x.subject === 'pptp-ts' && /wireguard-go/.test(x.target))!;
    assert.equal(wg.status, 'not met');
    assert.equal(wg.value, 1550 / 800);
    assert.equal(t.find((x) => x.subject === 'pptp-ts' && /UDP/.test(x.target))!.status, 'n/a');
  });
});

describe('renderMarkdown', () => {
  const result = (allowBusy: boolean, busy: boolean): LabResult => {
    const rr = runs.map((r) => (busy && r.contender === 'socat' ? { ...r, busy: true, load: load(60) } : r));
    const summary = summarizeRuns(infos, rr);
    return {
      schema: RESULT_SCHEMA,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:10:00.000Z',
      settings: {
        rounds: 3,
        durationSec: 5,
        omitSec: 1,
        metrics: ['tcp1', 'udp1400'],
        mtu: 1440,
        udpRateBps: 0,
        pingCount: 20,
        pingIntervalSec: 0.05,
        busyThresholdPct: 10,
        allowBusy,
      },
      machine: {
        cpuModel: 'AMD EPYC',
        cpus: 2,
        kernel: '6.18',
        kernelVersion: '#1',
        os: 'Debian',
        memoryGiB: 24,
        node: 'v20',
        iperf3: 'iperf 3.12',
        commit: 'abc123',
      },
      contenders: infos,
      runs: rr,
      summary,
      targets: evaluateTargets(summary),
      busyRuns: rr.filter((r) => r.busy).length,
      maxOthersPct: rr.reduce((m, r) => Math.max(m, r.load.othersPct), 0),
      ok: false,
    };
  };

  it('shows medians with their spread, ratios, skips and failures', () => {
    const md = renderMarkdown(result(false, false));
    assert.match(md, /\| OpenVPN cleartext \| 1,000 \(900–1,200\) \| 1\.00× \| 1\.25× \|/);
    assert.match(md, /\| pptp-ts, MPPE off \| 1,760 \(1,600–1,920\) \| 1\.76× \| 2\.20× \|/);
    assert.match(md, /pptp-ts, MPPE-128: skipped: no CLI yet/);
    assert.match(md, /pptp-ts, MPPE off: 1 of 3 rounds failed: round 2: tunnel did not come up/);
    assert.match(md, /\| wireguard-go \| 150 \| — \| 9\.8 \(8\.8–11\.7\) \/ 19\.5 \|/);
    assert.doesNotMatch(md, /busy machine/);
    // The skipped contender has no row in the tables.
    assert.doesNotMatch(md, /\| pptp-ts, MPPE-128 \|/);
  });

  it('lists a contender that failed every round under "Not measured", not as a row', () => {
    const allFailed = runs.map((r) =>
      r.contender === 'socat'
        ? { ...r, status: 'failed' as const, error: `boom ${r.round}`, measurements: undefined }
        : r,
    );
    const summary = summarizeRuns(infos, allFailed);
    const md = renderMarkdown({
      ...result(false, false),
      runs: allFailed,
      summary,
      targets: evaluateTargets(summary),
    });
    assert.doesNotMatch(md, /\| socat \|/);
    assert.match(md, /- socat: 3 of 3 rounds failed: round 1: boom 1; round 2: boom 2; round 3: boom 3/);
  });

  it('marks results taken on a busy machine', () => {
    const md = renderMarkdown(result(true, true));
    assert.match(md, /Measured on a busy machine \(--allow-busy\)\.\*\* 3 of 15 runs .*\(up to 60 %\)/);
    assert.match(renderMarkdown(result(true, false)), /--allow-busy, but every idle check passed/);
  });

  it('cell() prints one figure when there is no spread', () => {
    assert.equal(cell(summarize([5])), '5');
    assert.equal(cell(summarize([5.01, 4.99]), 1), '5.0');
    assert.equal(cell(summarize([1500, 1000, 2000])), '1,500 (1,000–2,000)');
    assert.equal(cell(summarize([130_000]), 1, 1e-3), '130.0');
    assert.equal(cell(undefined), '—');
  });
});
