/**
 * bench:startup's pure parts (bench/startup): the command line, the target
 * checks and the report. The measuring itself runs in
 * test/system/bench-startup.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTargets, renderStartupMarkdown, type StartupResult } from '../../bench/startup/bench.js';
import { parseStartupArgs } from '../../bench/startup/run.js';

const s = (median: number) => ({ median, min: median - 1, max: median + 1, n: 3 });
const tunnel = (rssMiB: number) => ({
  upMs: s(900),
  clientRssKb: s(rssMiB * 1024),
  clientHwmKb: s(rssMiB * 1024 + 100),
  serverRssKb: s(60 * 1024),
});

describe('bench:startup', () => {
  it('parses its options and rejects bad ones', () => {
    assert.deepEqual(parseStartupArgs([]), {});
    assert.deepEqual(parseStartupArgs(['--runs', '3', '--tunnels', '2', '--allow-busy', '--no-write']), {
      runs: 3,
      tunnels: 2,
      allowBusy: true,
      outDir: null,
    });
    assert.equal(parseStartupArgs(['--help']), 'help');
    for (const bad of [
      ['--runs', '0'],
      ['--runs', 'x'],
      ['--tunnels'],
      ['--busy-threshold', '0'],
      ['--what'],
    ]) {
      assert.throws(() => parseStartupArgs(bad), /./, bad.join(' '));
    }
  });

  it('judges the compiled build against 150 ms and 45 MiB, and says when nothing was measured', () => {
    const met = checkTargets(
      { compiled: s(150), tsx: s(900), node: s(40) },
      { compiled: tunnel(45), tsx: tunnel(95) },
    );
    assert.deepEqual(
      met.map((t) => [t.measured, t.met]),
      [
        ['150 ms', true],
        ['45.0 MiB', true],
      ],
    );
    const missed = checkTargets(
      { compiled: s(151), tsx: s(100), node: s(40) },
      { compiled: tunnel(45.1), tsx: tunnel(40) },
    );
    assert.deepEqual(
      missed.map((t) => t.met),
      [false, false],
    );
    const none = checkTargets(
      { compiled: undefined, tsx: undefined, node: undefined },
      {
        compiled: { upMs: undefined, clientRssKb: undefined, clientHwmKb: undefined, serverRssKb: undefined },
        tsx: tunnel(1),
      },
    );
    assert.deepEqual(
      none.map((t) => t.met),
      [undefined, undefined],
    );
  });

  it('reports both variants, the floor, and marks a busy machine', () => {
    const version = { compiled: s(120), tsx: s(1100), node: s(45) };
    const tunnels = { compiled: tunnel(44), tsx: tunnel(90) };
    const r: StartupResult = {
      kind: 'startup',
      startedAt: '2026-01-01T00:00:00.000Z',
      machine: {
        cpuModel: 'CPU',
        cpus: 2,
        kernel: '6.1',
        kernelVersion: '#1',
        os: 'Debian',
        memoryGiB: 4,
        node: 'v20.0.0',
        iperf3: 'iperf 3',
        commit: 'abc1234',
      },
      load: {
        wallMs: 1000,
        cpus: 2,
        othersPct: 80,
        totalBusyPct: 85,
        stealPct: 0,
        top: [],
        loadavg: [3, 2, 1],
      },
      busy: true,
      settings: { runs: 3, tunnels: 3 },
      version,
      tunnel: tunnels,
      targets: checkTargets(version, tunnels),
    };
    const md = renderStartupMarkdown(r);
    assert.match(md, /\| compiled .*\| 120 \(119–121\) \|/);
    assert.match(md, /\| sources through tsx .*\| 1100 \(1099–1101\) \|/);
    assert.match(md, /`node -e 0`.*\| 45 \(44–46\) \|/);
    assert.match(md, /\| compiled .*\| 900 \(899–901\) \| 44\.0 \(44\.0–44\.0\) \|/);
    assert.match(md, /Taken on a busy machine/);
    assert.match(md, /≤ 150 ms \| 120 ms \| met \(busy machine\) \|/);
    assert.doesNotMatch(renderStartupMarkdown({ ...r, busy: false }), /busy machine\)/);
  });
});
