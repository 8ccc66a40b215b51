/**
 * bench/busy: Jain's fairness index (checked against values worked out by
 * hand from its definition, (Σx)² / (n·Σx²)), the summary and its targets,
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
} from '../../bench/busy/bench.js';
import {
  BUSY_SCHEMA,
  type BusyResult,
  busyChart,
  jainIndex,
  renderBusyMarkdown,
  type SessionFigure,
  streamsOverlap,
  summarizeVariant,
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
  bytes: error ? 0 : Math.round(mbps * 1e6),
  retransmits: 0,
  deviceTxBytes: Math.round(mbps * 1e6) + 100,
  ...(error ? { error } : {}),
});

describe('streamsOverlap', () => {
  it('is the latest start to the earliest end', () => {
    assert.equal(streamsOverlap([100, 100, 100], 11), 11);
    assert.equal(streamsOverlap([100, 103, 101], 11), 8);
    assert.equal(streamsOverlap([100, 125], 11), 0, 'never together');
  });
  it('is unknown without a start for every stream, or without streams', () => {
    assert.equal(streamsOverlap([100, undefined], 11), undefined);
    assert.equal(streamsOverlap([], 11), undefined);
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
        sessions: on,
        serverCpuPct: 87.5,
        machineBusyPct: 99,
        busyWallSec: 4.25,
        overlapSec: 2,
        summary: summarizeVariant(500, on),
        residue: [],
      },
      {
        mppe: 'off',
        singleMbps: 1300,
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
    assert.match(md, /\| sessions that carried traffic \| 2 \/ 3 \|/);
    assert.match(md, /\| one session alone, TCP ×1 \| 500\.0 Mbit\/s \|/);
    assert.match(
      md,
      /\| aggregate of all sessions \| 380\.0 Mbit\/s \(76\.0 % of one alone: target NOT met\) \|/,
    );
    assert.match(
      md,
      /\| aggregate of all sessions \| 1200\.0 Mbit\/s \(92\.3 % of one alone: target met\) \|/,
    );
    assert.match(md, /\| server CPU \(pptp-ts serve\) \| 87\.5 % of one core \|/);
    assert.match(md, /\| left behind \| interface pbusy3 in ns-cli \|/);
    assert.match(md, /\| all streams running together \| 2 s of each stream's 3 s \(busy phase 4\.3 s\) \|/);
    assert.equal(md.match(/all streams running together/g)?.length, 1, 'only where it was measured');
  });
  it('lists every session under both variants, a failure escaped', () => {
    assert.match(md, /^\| 1 \| 200\.0 \| 400\.0 \|$/m);
    assert.match(md, /^\| 3 \| failed: iperf3 \\\| failed \| 410\.0 \|$/m);
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
  });
  it('refuses bad input with one clear line', () => {
    assert.throws(() => parseBusyArgs(['--sessions', '0']), /--sessions: not a whole number ≥ 1: 0/);
    assert.throws(() => parseBusyArgs(['--sessions', '1001']), /--sessions: at most 1000/);
    assert.throws(() => parseBusyArgs(['--mppe', 'maybe']), /--mppe: both, on or off, not maybe/);
    assert.throws(() => parseBusyArgs(['--time']), /--time needs a value/);
    assert.throws(() => parseBusyArgs(['--bogus']), /unknown option --bogus/);
  });
});
