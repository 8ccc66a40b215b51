/**
 * bench/busy: the common measuring window (which sessions flow, each one's
 * rate from two hand-made counter samples), Jain's fairness index (checked
 * against values worked out by hand from its definition, (Σx)² / (n·Σx²)),
 * the summary and its targets,
 * the markdown report, the per-session chart (read back from the SVG's
 * aria-labels), the session addressing and the command line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLIENT_UNDERLAY_ROUTE,
  clientAddressBatch,
  clientUnderlayAddress,
  MAX_SESSIONS,
  poolSpec,
  sessionAddress,
  startAllowanceSec,
  streamSeconds,
} from '../../bench/busy/bench.js';
import {
  BUSY_SCHEMA,
  type BusyResult,
  type BusyWindow,
  busyChart,
  type CounterSample,
  describeWindow,
  FLOWING_BYTES,
  flowingDevices,
  jainIndex,
  renderBusyMarkdown,
  type SessionFigure,
  sentBetween,
  summarizeVariant,
  windowRates,
} from '../../bench/busy/report.js';
import { parseBusyArgs } from '../../bench/busy/run.js';
import { parsePoolSpec } from '../../src/server/ip-pool.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} is not ${b}`);

describe('jainIndex', () => {
  it('is 1 when every session gets the same', () => {
    close(jainIndex([5, 5, 5, 5]), 1);
    close(jainIndex([0.3]), 1);
  });
  it('is 1/n when one session gets everything', () => {
    close(jainIndex([10, 0, 0, 0]), 0.25);
    close(jainIndex([0, 0, 7, 0, 0]), 0.2);
  });
  it('matches hand-worked values', () => {
    // (1+2+3)² / (3·(1+4+9)) = 36/42
    close(jainIndex([1, 2, 3]), 36 / 42);
    // (100+50)² / (2·(10000+2500)) = 22500/25000
    close(jainIndex([100, 50]), 0.9);
  });
  it('does not depend on the unit or the order', () => {
    close(jainIndex([1, 2, 3]), jainIndex([3000, 1000, 2000]));
  });
  it('is 0 when nobody carried anything, and refuses no sessions or a bad figure', () => {
    assert.equal(jainIndex([0, 0, 0]), 0);
    assert.throws(() => jainIndex([]), /no sessions/);
    assert.throws(() => jainIndex([1, -1]), /not a throughput/);
    assert.throws(() => jainIndex([1, Number.NaN]), /not a throughput/);
  });
});

const session = (n: number, mbps: number, error?: string): SessionFigure => ({
  session: n,
  address: sessionAddress(n),
  device: `pbusy${n}`,
  mbps,
  windowBytes: Math.round((mbps * 1e6) / 8),
  iperfMbps: mbps * 0.9,
  bytes: error ? 0 : Math.round(mbps * 1e6),
  retransmits: 0,
  deviceTxBytes: Math.round(mbps * 1e6) + 100,
  ...(error ? { error } : {}),
});

const sample = (atMs: number, tx: Record<string, number>): CounterSample => ({
  atMs,
  tx: new Map(Object.entries(tx)),
});

describe('the measuring window', () => {
  // Three sessions read at t0 = 12.5 s and t1 = 22.5 s (10 s); pbusy3's counter does not move.
  const t0 = sample(12_500, { lo: 0, veth0: 10, pbusy1: 1_000_000, pbusy2: 5_000, pbusy3: 777 });
  const t1 = sample(22_500, {
    lo: 0,
    veth0: 99,
    pbusy1: 126_000_000,
    pbusy2: 62_505_000,
    pbusy3: 777,
  });

  it('is bytes × 8 / (t1 − t0) for each session, over the same seconds', () => {
    const w = windowRates(t0, t1, ['pbusy1', 'pbusy2', 'pbusy3']);
    assert.equal(w.seconds, 10);
    assert.deepEqual(w.bytes, [125_000_000, 62_500_000, 0]);
    // 125 MB × 8 / 10 s = 100 Mbit/s; 62.5 MB → 50; a counter that did not move → 0
    assert.deepEqual(w.mbps, [100, 50, 0]);
    // (100 + 50 + 0)² / (3 · (100² + 50²)) = 22500 / 37500
    close(jainIndex(w.mbps), 0.6);
  });

  it('counts a device missing from a sample, or whose counter went back, as 0', () => {
    const gone = sample(22_500, { pbusy1: 126_000_000 });
    assert.equal(sentBetween(t0, gone, 'pbusy2'), 0, 'client gone');
    assert.equal(sentBetween(t0, t1, 'pbusy9'), 0, 'never there');
    const recreated = sample(22_500, { pbusy1: 400 });
    assert.equal(sentBetween(t0, recreated, 'pbusy1'), 0, 'a new device under the old name');
    assert.deepEqual(windowRates(t0, gone, ['pbusy1', 'pbusy2']).mbps, [100, 0]);
  });

  it('refuses a window of no time', () => {
    assert.throws(() => windowRates(t1, t1, ['pbusy1']), /window of 0 s/);
    assert.throws(() => windowRates(t1, t0, ['pbusy1']), /window of -10 s/);
  });

  it('calls a session flowing once its TUN sent a meaningful amount between two readings', () => {
    const a = sample(0, { pbusy1: 0, pbusy2: 0, pbusy3: 5_000 });
    const b = sample(1_000, { pbusy1: FLOWING_BYTES, pbusy2: FLOWING_BYTES - 1, pbusy3: 5_600 });
    // pbusy2 is one byte short; pbusy3 only exchanged a few hundred bytes (handshakes, LCP echo)
    assert.deepEqual(flowingDevices(a, b, ['pbusy1', 'pbusy2', 'pbusy3']), ['pbusy1']);
    assert.deepEqual(flowingDevices(a, b, ['pbusy2', 'pbusy3'], 500), ['pbusy2', 'pbusy3']);
    assert.ok(FLOWING_BYTES >= 16 * 1024, 'more than a handshake');
  });

  it('gives every stream a duration that covers the start-up allowance, the warm-up and the window', () => {
    assert.equal(startAllowanceSec(1), 11);
    assert.equal(startAllowanceSec(3), 13);
    assert.equal(startAllowanceSec(100), 90);
    // The first stream starts at 0 and runs -t; the last flows at the latest at the allowance,
    // then come the warm-up and the window: the first must still be running then.
    for (const n of [1, 3, 100, 1000]) {
      const allowance = startAllowanceSec(n);
      const t = streamSeconds(allowance, 1, 10);
      assert.ok(t > allowance + 1 + 10, `${n} streams: -t ${t}`);
      assert.ok(t <= allowance + 1 + 10 + 5, `${n} streams: no more than a small margin`);
    }
  });

  it('says how long the window was and whether every stream flowed during it', () => {
    const all: BusyWindow = {
      streams: 100,
      seconds: 10.02,
      warmupSec: 1,
      allFlowingAfterSec: 23.4,
      allowanceSec: 55,
      streamSec: 69,
      notFlowing: [],
      endedInside: [],
    };
    assert.equal(
      describeWindow(all),
      '10.0 s, opened 1 s after all 100 streams flowed (23.4 s after they were started); ' +
        'all 100 flowed throughout; each iperf3 ran 69 s',
    );
    const { allFlowingAfterSec: _, ...rest } = all;
    const some: BusyWindow = { ...rest, notFlowing: [7, 42], endedInside: [3] };
    assert.equal(
      describeWindow(some),
      '10.0 s, opened 1 s after the 55 s start-up allowance ran out; NOT flowing by then: sessions 7, 42; ' +
        'ended inside the window: 3 (counted as 0); each iperf3 ran 69 s',
    );
  });
});

describe('summarizeVariant', () => {
  it('adds the sessions up and judges both targets', () => {
    const s = summarizeVariant(400, [session(1, 100), session(2, 120), session(3, 150)]);
    close(s.aggregateMbps, 370);
    close(s.meanMbps, 370 / 3);
    assert.equal(s.minMbps, 100);
    assert.equal(s.maxMbps, 150);
    close(s.aggregateRatio, 370 / 400);
    assert.equal(s.aggregateTargetMet, true);
    close(s.jain, 370 ** 2 / (3 * (100 ** 2 + 120 ** 2 + 150 ** 2)));
    assert.equal(s.jainTargetMet, true);
    assert.equal(s.carried, 3);
  });
  it('misses the aggregate target below 90 % and the fairness target below 0.9', () => {
    const s = summarizeVariant(1000, [session(1, 800), session(2, 50)]);
    close(s.aggregateRatio, 0.85);
    assert.equal(s.aggregateTargetMet, false);
    assert.ok(s.jain < 0.9);
    assert.equal(s.jainTargetMet, false);
  });
  it('exactly at the targets counts as met', () => {
    // 135/150 = 0.9 exactly
    const t = summarizeVariant(150, [session(1, 100), session(2, 35)]);
    close(t.aggregateRatio, 0.9);
    assert.equal(t.aggregateTargetMet, true);
    // 150² / (2·12500) = 0.9 exactly
    const u = summarizeVariant(150, [session(1, 100), session(2, 50)]);
    close(u.jain, 0.9);
    assert.equal(u.jainTargetMet, true);
  });
  it('does not count a failed session as carrying traffic, and never passes with no single figure', () => {
    const s = summarizeVariant(0, [session(1, 100), session(2, 0, 'iperf3: unable to connect')]);
    assert.equal(s.carried, 1);
    assert.equal(s.aggregateRatio, 0);
    assert.equal(s.aggregateTargetMet, false);
  });
});

const window: BusyWindow = {
  streams: 3,
  seconds: 1.996,
  warmupSec: 1,
  allowanceSec: 7,
  streamSec: 13,
  notFlowing: [],
  endedInside: [],
};

function result(): BusyResult {
  const on = [session(1, 200), session(2, 180), session(3, 0, 'iperf3 | failed')];
  const off = [session(1, 400), session(2, 390), session(3, 410)];
  return {
    schema: BUSY_SCHEMA,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    settings: { sessions: 3, timeSec: 2, omitSec: 1, mppe: ['on', 'off'], mtu: 1400 },
    machine: { cpuModel: 'Test CPU', cpus: 2, kernel: '6.1' },
    variants: [
      {
        mppe: 'on',
        singleMbps: 500,
        singleIperfMbps: 470.25,
        singleWindow: {
          ...window,
          streams: 1,
          seconds: 2.01,
          allFlowingAfterSec: 1.1,
          allowanceSec: 6,
          streamSec: 12,
        },
        sessions: on,
        window: { ...window, notFlowing: [3] },
        serverCpuPct: 87.5,
        machineBusyPct: 99,
        busyWallSec: 14.25,
        summary: summarizeVariant(500, on),
        residue: [],
      },
      {
        mppe: 'off',
        singleMbps: 1300,
        singleIperfMbps: 1250,
        sessions: off,
        serverCpuPct: 60,
        machineBusyPct: 98,
        summary: summarizeVariant(1300, off),
        residue: ['interface pbusy3 in ns-cli'],
      },
    ],
    leftBehind: [],
    ok: false,
  };
}

describe('renderBusyMarkdown', () => {
  const md = renderBusyMarkdown(result());
  it('has a table per variant with the figures and the targets', () => {
    assert.match(md, /^## MPPE-128 stateless$/m);
    assert.match(md, /^## MPPE off$/m);
    assert.match(md, /\| sessions that carried traffic in it \| 2 \/ 3 \|/);
    assert.match(
      md,
      /\| one session alone, TCP ×1 \| 500\.0 Mbit\/s over its 2\.0 s window \(iperf3: 470\.3 Mbit\/s goodput\) \|/,
    );
    assert.match(
      md,
      /\| one session alone, TCP ×1 \| 1300\.0 Mbit\/s over no window \(iperf3: 1250\.0 Mbit\/s goodput\) \|/,
    );
    assert.match(
      md,
      /\| aggregate of all sessions \| 380\.0 Mbit\/s \(76\.0 % of one alone: target NOT met\) \|/,
    );
    assert.match(
      md,
      /\| aggregate of all sessions \| 1200\.0 Mbit\/s \(92\.3 % of one alone: target met\) \|/,
    );
    assert.match(md, /\| server CPU \(pptp-ts serve\), in the window \| 87\.5 % of one core \|/);
    assert.match(md, /\| machine busy, in the window \| 99\.0 % of all CPUs \|/);
    assert.match(md, /\| left behind \| interface pbusy3 in ns-cli \|/);
    assert.match(
      md,
      /\| measuring window \| 2\.0 s, opened 1 s after the 7 s start-up allowance ran out; NOT flowing by then: session 3 \(counted as 0\); each iperf3 ran 13 s \|/,
    );
    assert.match(md, /\| busy phase \| 14\.3 s from starting the streams until the last ended \|/);
    assert.equal(md.match(/\| measuring window \|/g)?.length, 1, 'only where it was measured');
    assert.match(md, /the end of one 2 s window, so every figure is a rate over the same seconds/);
  });
  it('names where the client sessions ran, and their CPU when measured', () => {
    assert.match(md, /Each session: one `pptp-ts connect` \(own TUN\) to one `pptp-ts serve`/);
    assert.doesNotMatch(md, /client CPU/);
    const r = result();
    const one = renderBusyMarkdown({
      ...r,
      settings: { ...r.settings, clients: 'one-process' },
      variants: [{ ...r.variants[0]!, clientCpuPct: 93.25, clientProcesses: 1 }],
    });
    assert.match(one, /all of them in one client process sharing one raw GRE socket, to one `pptp-ts serve`/);
    assert.match(one, /\| client CPU \(1 process\), in the window \| 93\.3 % of one core \|/);
  });
  it('lists every session under both variants, a failure escaped', () => {
    assert.match(md, /^\| 1 \| 200\.0 \(180\.0\) \| 400\.0 \(360\.0\) \|$/m);
    assert.match(md, /^\| 3 \| failed: iperf3 \\\| failed \| 410\.0 \(369\.0\) \|$/m);
  });
});

describe('busyChart', () => {
  it('draws one bar per session and variant, with its figure', async () => {
    const c = await busyChart(result(), 'busy-x');
    assert.equal(c.file, 'busy-x-sessions.svg');
    assert.match(c.svg, /^<svg /);
    const bars = [...c.svg.matchAll(/aria-label="session: (\d+); Mbit\/s: ([\d.]+); series: ([^"]+)"/g)].map(
      (m) => `${m[1]} ${Number(m[2])} ${m[3]}`,
    );
    assert.deepEqual(bars.sort(), [
      '1 200 MPPE-128 stateless',
      '1 400 MPPE off',
      '2 180 MPPE-128 stateless',
      '2 390 MPPE off',
      '3 0 MPPE-128 stateless',
      '3 410 MPPE off',
    ]);
  });
});

describe('session addresses', () => {
  it('gives every session its own address, all in the server pool, none .0 or .255', () => {
    const n = 1000;
    const addrs = Array.from({ length: n }, (_, k) => sessionAddress(k + 1));
    assert.equal(new Set(addrs).size, n);
    assert.equal(addrs[0], '198.19.1.2');
    assert.equal(addrs[250], '198.19.2.2');
    for (const a of addrs) assert.doesNotMatch(a, /\.(0|1|255)$/);
    const pool = parsePoolSpec(poolSpec(n));
    assert.equal(pool.length, n);
    const asInt = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
    assert.deepEqual(new Set(pool), new Set(addrs.map(asInt)));
  });

  it('gives every client its own underlay address, inside the route back, clear of the lab and the tunnels', () => {
    const n = MAX_SESSIONS;
    const under = Array.from({ length: n }, (_, k) => clientUnderlayAddress(k + 1));
    assert.equal(new Set(under).size, n);
    assert.equal(under[0], '198.18.1.2');
    assert.equal(under[249], '198.18.1.251');
    assert.equal(under[250], '198.18.2.2');
    const asInt = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0) >>> 0;
    const [net, bits] = CLIENT_UNDERLAY_ROUTE.split('/') as [string, string];
    const mask = (0xffffffff << (32 - Number(bits))) >>> 0;
    const tunnels = new Set(Array.from({ length: n }, (_, k) => sessionAddress(k + 1)));
    for (const a of under) {
      assert.doesNotMatch(a, /\.(0|1|255)$/);
      assert.equal((asInt(a) & mask) >>> 0, asInt(net), `${a} in ${CLIENT_UNDERLAY_ROUTE}`);
      assert.equal(asInt(a) >>> 17, asInt('198.18.0.0') >>> 17, `${a} in RFC 2544's 198.18.0.0/15`);
      assert.ok(!a.startsWith('198.18.0.'), `${a} clear of the lab's underlay 198.18.0.0/24`);
      assert.ok(!tunnels.has(a), `${a} is no tunnel address`);
    }
  });

  it("adds the clients' addresses in one ip -batch, as host addresses on the underlay device", () => {
    assert.equal(
      clientAddressBatch(3, 'veth0'),
      'addr add 198.18.1.2/32 dev veth0\naddr add 198.18.1.3/32 dev veth0\naddr add 198.18.1.4/32 dev veth0\n',
    );
  });
});

describe('parseBusyArgs', () => {
  it('reads the options', () => {
    assert.deepEqual(parseBusyArgs(['--sessions', '4', '--time', '3', '--mppe', 'on', '--no-write']), {
      sessions: 4,
      timeSec: 3,
      mppe: 'on',
      outDir: null,
    });
    assert.equal(parseBusyArgs(['-h']), 'help');
    assert.deepEqual(parseBusyArgs(['--clients', 'per-session']), { clients: 'per-session' });
  });
  it('refuses bad input with one clear line', () => {
    assert.throws(() => parseBusyArgs(['--sessions', '0']), /--sessions: not a whole number ≥ 1: 0/);
    assert.throws(() => parseBusyArgs(['--sessions', '1001']), /--sessions: at most 1000/);
    assert.throws(() => parseBusyArgs(['--mppe', 'maybe']), /--mppe: both, on or off, not maybe/);
    assert.throws(() => parseBusyArgs(['--time']), /--time needs a value/);
    assert.throws(() => parseBusyArgs(['--bogus']), /unknown option --bogus/);
    assert.throws(
      () => parseBusyArgs(['--clients', 'threads']),
      /--clients: one-process or per-session, not threads/,
    );
  });
});
