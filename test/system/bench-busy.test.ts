/**
 * `npm run bench:busy` end to end at a small scale (root): three client
 * sessions, all in one process or each a real `pptp-ts connect`, through
 * one `pptp-ts serve`, MPPE-128, each
 * carrying an iperf3 TCP stream, measured over one common 2 s window. Every
 * stream must have flowed during the window, every session must have
 * carried traffic (its rate over the window is its TUN counter's bytes in
 * it; over the whole stream, iperf3's receiver and the session's own TUN
 * counter agree), each client's control connection must have reached the server
 * from its own underlay address (`--local-address`), the figures must be in
 * the JSON, and nothing may be left behind (namespaces, processes). The real
 * figures live in the benchmark, not here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { BusyResult } from '../../bench/busy/report.js';
import { requireRoot } from '../helpers/tools.js';

const root = new URL('../..', import.meta.url).pathname;

function namespaces(prefix: string): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(prefix));
}

/** PIDs whose command line mentions `text` (the bench's private directories). */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) out.push(Number(name));
    } catch {}
  }
  return out;
}

/** Runs `bench:busy` with 3 sessions, 2 s, MPPE on, the clients `clients`, and checks everything it promises. */
function runAndCheck(clients: 'one-process' | 'per-session'): void {
  const out = mkdtempSync(join(tmpdir(), 'bench-busy-test-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/busy/run.ts',
        '--sessions',
        '3',
        '--time',
        '2',
        '--mppe',
        'on',
        '--out',
        out,
        '--clients',
        clients,
      ],
      { cwd: root, encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 0, `exit ${r.status ?? r.signal}\n${r.stderr}\n${r.stdout}`);
    const files = readdirSync(out);
    const json = files.find((f) => /^busy-.*\.json$/.test(f));
    assert.ok(json, `no busy-*.json in ${files.join(', ')}`);
    assert.ok(files.some((f) => /^busy-.*\.md$/.test(f)));
    const svg = files.find((f) => /^busy-.*-sessions\.svg$/.test(f));
    assert.ok(svg);
    const res = JSON.parse(readFileSync(join(out, json), 'utf8')) as BusyResult;

    assert.equal(res.schema, 'pptp-ts/bench-busy/2');
    assert.deepEqual(res.settings.mppe, ['on']);
    assert.equal(res.settings.clients, clients);
    assert.equal(res.variants.length, 1);
    const v = res.variants[0]!;
    assert.equal(v.mppe, 'on');
    assert.equal(v.error, undefined);
    assert.ok(v.singleMbps > 0, `single-session figure ${v.singleMbps}`);
    assert.ok(v.singleIperfMbps > 0, `single-session iperf3 figure ${v.singleIperfMbps}`);
    assert.ok(v.singleWindow, 'the single session is measured over a window too');
    assert.ok(Math.abs(v.singleWindow.seconds - 2) < 0.5, `single window ${v.singleWindow.seconds} s`);
    const w = v.window;
    assert.ok(w, 'the busy phase has a window');
    assert.equal(w.streams, 3);
    assert.ok(Math.abs(w.seconds - 2) < 0.5, `window ${w.seconds} s`);
    assert.deepEqual(w.notFlowing, [], 'every stream flowed by the allowance');
    assert.deepEqual(w.endedInside, [], 'no stream ended inside the window');
    assert.ok(
      w.allFlowingAfterSec !== undefined && w.allFlowingAfterSec <= w.allowanceSec,
      `all flowing after ${w.allFlowingAfterSec} s`,
    );
    assert.ok(w.streamSec > w.allowanceSec + w.warmupSec + 2, `each stream ran ${w.streamSec} s`);
    assert.equal(v.sessions.length, 3);
    assert.deepEqual(
      v.sessions.map((s) => s.address),
      ['198.19.1.2', '198.19.1.3', '198.19.1.4'],
    );
    assert.deepEqual(
      v.sessions.map((s) => s.underlay),
      ['198.18.1.2', '198.18.1.3', '198.18.1.4'],
      'the server saw each client from its own address',
    );
    for (const s of v.sessions) {
      assert.equal(s.error, undefined, `session ${s.session}: ${s.error}`);
      assert.ok(s.mbps > 0 && s.windowBytes > 0 && s.bytes > 0, `session ${s.session} carried nothing`);
      assert.ok(
        Math.abs(s.mbps - (s.windowBytes * 8) / w.seconds / 1e6) < 1e-6,
        `session ${s.session}: its rate is its window bytes over the window`,
      );
      assert.ok(s.iperfMbps > 0, `session ${s.session}: iperf3's own figure ${s.iperfMbps}`);
      assert.ok(s.deviceTxBytes >= s.windowBytes, `session ${s.session}: the window is inside the run`);
      assert.ok(
        s.deviceTxBytes >= s.bytes,
        `session ${s.session}: ${s.device} sent ${s.deviceTxBytes} B, iperf3 got ${s.bytes} B`,
      );
    }
    const chart = readFileSync(join(out, svg), 'utf8');
    for (const s of v.sessions)
      assert.match(
        chart,
        new RegExp(`aria-label="session: ${s.session}; Mbit/s: [\\d.]+; series: MPPE-128 stateless"`),
      );

    const sum = v.sessions.reduce((a, s) => a + s.mbps, 0);
    assert.ok(Math.abs(v.summary.aggregateMbps - sum) < 1e-6);
    assert.equal(v.summary.carried, 3);
    assert.ok(v.summary.jain > 1 / 3 && v.summary.jain <= 1, `Jain ${v.summary.jain}`);
    assert.ok(Math.abs(v.summary.aggregateRatio - sum / v.singleMbps) < 1e-9);
    assert.equal(typeof v.summary.aggregateTargetMet, 'boolean');
    assert.equal(typeof v.summary.jainTargetMet, 'boolean');
    assert.ok(v.serverCpuPct > 0, `server CPU ${v.serverCpuPct}`);
    assert.equal(v.clientProcesses, clients === 'one-process' ? 1 : 3, 'the sessions ran where asked');
    assert.ok(v.clientCpuPct !== undefined && v.clientCpuPct > 0, `client CPU ${v.clientCpuPct}`);
    assert.ok(v.machineBusyPct > 0 && v.machineBusyPct <= 100, `machine ${v.machineBusyPct} %`);
    assert.ok(
      v.busyWallSec !== undefined && v.busyWallSec >= w.streamSec,
      `busy phase ${v.busyWallSec} s, streams of ${w.streamSec} s`,
    );

    assert.deepEqual(v.residue, []);
    assert.deepEqual(res.leftBehind, []);
    assert.equal(res.ok, true);
    assert.deepEqual(namespaces(`pptpbench-${r.pid}-`), [], 'its namespaces are gone');
    assert.deepEqual(processesMentioning(`pptpbench-${r.pid}-`), [], 'its processes are gone');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

describe('bench:busy (3 sessions, a 2 s window, MPPE on)', () => {
  before(() => requireRoot('ip', 'iperf3', 'ss'));

  it('every session carries traffic at once, all in one client process (the default)', () =>
    runAndCheck('one-process'));
  it('the same with one pptp-ts connect process per session', () => runAndCheck('per-session'));

  it('refuses a bad command line with a message and exit 2', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/busy/run.ts', '--mppe', 'sometimes'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--mppe: both, on or off, not sometimes/);
  });
});
