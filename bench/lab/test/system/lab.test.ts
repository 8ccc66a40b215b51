/**
 * The lab for real (root): namespaces, veth, socat tunnels, iperf3, and
 * contenders made to fail, to leak and to bypass their tunnel, checking
 * that each is caught and that nothing is left behind. Then the command
 * line: refusing a busy machine (exit 3) and cleaning up on Ctrl-C.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireRoot } from '../../../../test/helpers/tools.js';
import type { Contender } from '../../contender.js';
import { pptpTs, verifyMppeOnWire } from '../../contenders/pptp-ts.js';
import { socat } from '../../contenders/socat.js';
import { veth } from '../../contenders/veth.js';
import { runLab } from '../../lab.js';
import { Lab, run, waitUntil } from '../../netns.js';

const RUN_TS = fileURLToPath(new URL('../../run.ts', import.meta.url));

/** The lab namespaces of process `pid` (any process but ours when `pid` is 'others'). */
async function labNamespaces(pid: number | 'others'): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) =>
      pid === 'others'
        ? n.startsWith('pptpbench-') && !n.startsWith(`pptpbench-${process.pid}-`)
        : n.startsWith(`pptpbench-${pid}-`),
    );
}

/** Brings nothing up: throws after making (and undoing) an interface. */
const failing: Contender = {
  id: 'failing',
  label: 'fails on purpose',
  kind: 'userspace',
  config: '',
  unavailable: async () => undefined,
  version: async () => 'test',
  async up(lab) {
    await lab.ip(lab.serverNs, ['tuntap', 'add', 'dev', 'fail0', 'mode', 'tun']);
    await lab.ip(lab.serverNs, ['link', 'del', 'fail0']);
    throw new Error('deliberate failure');
  },
};

/** Carries traffic over the veth but leaves an interface and a process behind. */
const leakedPids: number[] = [];
const leaky: Contender = {
  id: 'leaky',
  label: 'leaks',
  kind: 'userspace',
  config: '',
  unavailable: async () => undefined,
  version: async () => 'test',
  async up(lab, plan) {
    await lab.ip(lab.serverNs, ['tuntap', 'add', 'dev', 'leak0', 'mode', 'tun']);
    // Started behind the lab's back: only `ip netns pids` can find it.
    const p = spawn('ip', ['netns', 'exec', lab.clientNs, 'sleep', '120'], { stdio: 'ignore' });
    leakedPids.push(p.pid!);
    const t = await veth.up(lab, plan);
    return { ...t, down: async () => {} };
  },
};

/** Claims a tunnel device (a TUN nobody reads) that carries nothing: traffic really goes over the veth. */
const bypass: Contender = {
  id: 'bypass',
  label: 'bypasses its tunnel',
  kind: 'userspace',
  config: '',
  unavailable: async () => undefined,
  version: async () => 'test',
  async up(lab) {
    for (const ns of [lab.serverNs, lab.clientNs]) {
      await lab.ip(ns, ['tuntap', 'add', 'dev', 'byp0', 'mode', 'tun']);
      await lab.ip(ns, ['link', 'set', 'byp0', 'up']);
    }
    return {
      serverAddress: lab.serverUnderlay,
      clientAddress: lab.clientUnderlay,
      serverDevice: 'byp0',
      clientDevice: 'byp0',
      processes: [],
      async down() {
        for (const ns of [lab.serverNs, lab.clientNs]) await lab.ip(ns, ['link', 'del', 'byp0']);
      },
    };
  },
};

describe('bench lab (system)', () => {
  before(() => requireRoot('ip', 'ping', 'iperf3', 'socat', 'tshark'));
  const out = mkdtempSync(join(tmpdir(), 'pptpbench-test-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('measures veth and socat, records failures, leaks and bypasses, and leaves nothing behind', async () => {
    const lines: string[] = [];
    const result = await runLab({
      contenderList: [veth, socat, failing, leaky, bypass],
      rounds: 2,
      durationSec: 1,
      omitSec: 0,
      metrics: ['ping', 'tcp1', 'udp64'],
      pingCount: 5,
      allowBusy: true,
      idleSampleMs: 300,
      upTimeoutMs: 15_000,
      outDir: out,
      log: (l) => lines.push(l),
    });

    // Interleaved: every contender once per round, in list order.
    assert.deepEqual(
      result.runs.map((r) => `${r.round}:${r.contender}`),
      [1, 2].flatMap((round) => ['veth', 'socat', 'failing', 'leaky', 'bypass'].map((c) => `${round}:${c}`)),
    );
    const runsOf = (id: string) => result.runs.filter((r) => r.contender === id);

    for (const r of [...runsOf('veth'), ...runsOf('socat'), ...runsOf('leaky')]) {
      assert.equal(r.status, 'ok', `${r.contender} round ${r.round}: ${r.error}`);
      const m = r.measurements!;
      assert.ok(m.tcp1!.mbps > 0 && m.udp64!.receivedPps > 0 && m.ping!.received > 0);
      assert.equal(m.tcp4, undefined, 'only the chosen metrics');
    }
    for (const r of runsOf('socat')) {
      const m = r.measurements!;
      // The socat TUN devices carried the TCP payload, and so did the veth under them.
      assert.ok(m.tcp1!.counters.clientDevice.txBytes >= m.tcp1!.bytes);
      assert.ok(m.tcp1!.counters.clientUnderlay.txBytes >= m.tcp1!.bytes);
      assert.ok(m.udp64!.counters.serverDevice.rxPackets >= m.udp64!.receivedPackets);
      // socat did the copying: it used CPU, and both ends have memory.
      assert.ok(m.tcp1!.cpu.pctOfCore! > 1, `socat CPU ${m.tcp1!.cpu.pctOfCore}`);
      assert.deepEqual(m.tcp1!.cpu.byProcess.map((p) => p.comm).sort(), ['socat', 'socat']);
      assert.deepEqual(r.rss!.map((p) => p.side).sort(), ['client', 'server']);
      assert.ok(r.rss!.every((p) => p.rssKb > 100));
    }
    for (const r of runsOf('veth')) assert.equal(r.measurements!.tcp1!.cpu.pctOfCore, null);

    for (const r of runsOf('failing')) assert.match(r.error!, /deliberate failure/);
    for (const r of runsOf('bypass')) {
      assert.equal(r.status, 'failed');
      assert.match(r.error!, /route to 198\.18\.0\.1 leaves through veth0, not byp0/);
      assert.equal(r.residue, undefined, 'its teardown worked');
    }
    for (const [i, r] of runsOf('leaky').entries()) {
      assert.ok(
        r.residue!.some((x) => /^interface leak0 in pptpbench-\d+-\d+-srv$/.test(x)),
        JSON.stringify(r.residue),
      );
      assert.ok(
        r.residue!.some((x) => x.startsWith(`process ${leakedPids[i]} in `)),
        JSON.stringify(r.residue),
      );
    }
    // The leaked process was killed by the scrub.
    for (const pid of leakedPids) assert.equal(existsSync(`/proc/${pid}`) && !isZombie(pid), false);

    assert.equal(result.ok, false);
    assert.deepEqual(
      result.summary.map((s) => [s.id, s.status]),
      [
        ['veth', 'ok'],
        ['socat', 'ok'],
        ['failing', 'failed'],
        ['leaky', 'ok'],
        ['bypass', 'failed'],
      ],
    );
    assert.equal(result.busyRuns, result.runs.filter((r) => r.busy).length);

    // Written as .tmp (allowBusy), and the JSON is the result.
    assert.ok(result.files!.json.endsWith('.json.tmp') && result.files!.markdown.endsWith('.md.tmp'));
    const json = JSON.parse(readFileSync(result.files!.json, 'utf8'));
    assert.equal(json.schema, 'pptp-ts/bench-lab/1');
    assert.deepEqual(json.runs.length, 10);
    const md = readFileSync(result.files!.markdown, 'utf8');
    assert.match(md, /\| socat TUN↔UDP \| \d/);
    assert.match(md, /leaky round 1 left behind \(removed by the lab\): interface leak0/);

    assert.deepEqual(await labNamespaces(process.pid), []);
    assert.ok(lines.some((l) => /FAILED: .*deliberate failure/.test(l)));
  });

  it('the MPPE wire check fails a tunnel that carries no MPPE (socat: no GRE at all)', async () => {
    const lab = await Lab.create();
    try {
      const plan = {
        serverAddress: '198.19.9.1',
        clientAddress: '198.19.9.2',
        prefixLength: 24,
        subnet: '198.19.9.0/24',
        mtu: 1440,
        unique: lab.unique,
        upTimeoutMs: 15_000,
      };
      const tunnel = await socat.up(lab, plan);
      try {
        await assert.rejects(
          verifyMppeOnWire(lab, tunnel, 'mppe-128-stateless', 'CCP up rx="MPPE-128 stateless"'),
          /wire check: PPP protocols on veth0 were none \(0 IPv4, 0 MPPE\), not what MPPE-128 sends/,
        );
      } finally {
        await tunnel.down();
      }
    } finally {
      await lab.close();
    }
  });

  it('pptp-ts runs both variants, checked on the wire', async () => {
    const result = await runLab({
      contenderList: [pptpTs('off'), pptpTs('mppe-128-stateless')],
      rounds: 1,
      metrics: ['ping'],
      pingCount: 5,
      allowBusy: true,
      idleSampleMs: 300,
      outDir: null,
      log: () => {},
    });
    assert.deepEqual(
      result.contenders.map((c) => [c.id, c.skipped]),
      [
        ['pptp-ts', undefined],
        ['pptp-ts-mppe128', undefined],
      ],
      'both variants ran',
    );
    for (const c of result.contenders) {
      const r = result.runs.find((x) => x.contender === c.id)!;
      assert.equal(r.status, 'ok', r.error);
      const wire = r.notes!.find((n) => n.startsWith('wire check'))!;
      assert.match(
        wire,
        c.id === 'pptp-ts' ? /protocols 0x0021: IPv4 in the clear/ : /protocols 0x00fd: all MPPE/,
      );
      assert.ok(r.measurements!.ping!.received > 0);
      assert.deepEqual(r.rss!.map((p) => p.side).sort(), ['client', 'server']);
    }
    assert.deepEqual(await labNamespaces(process.pid), []);
  });

  it('the command refuses a busy machine with exit status 3, naming the load', async () => {
    // Two spinning orphans (outside our process tree): at least one CPU's worth of others.
    const pids = [0, 1].map(() => {
      const r = spawnSync('sh', ['-c', 'sh -c "while :; do :; done" >/dev/null 2>&1 & echo $!'], {
        encoding: 'utf8',
        timeout: 5000,
      });
      return Number(r.stdout.trim());
    });
    try {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', RUN_TS, '--only', 'veth', '--busy-threshold', '20', '--no-write'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /refusing to measure: machine busy: other processes used [\d.]+ % of \d+ CPUs/);
      assert.match(r.stderr, /load average [\d.]+ [\d.]+ [\d.]+/);
      assert.match(r.stderr, /--allow-busy/);
      assert.equal(r.stdout, '', 'no report');
      assert.deepEqual(await labNamespaces('others'), [], 'the refusing lab removed its namespaces');
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGKILL');
    }
  });

  it('Ctrl-C removes the namespaces and stops the tunnel processes', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        RUN_TS,
        '--only',
        'socat',
        '--allow-busy',
        '--duration',
        '30',
        '--metrics',
        'tcp1',
        '--no-write',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // Wait until the TCP run is under way: socat is up inside the lab's namespaces.
      await waitUntil('the lab to start its TCP run', () => /up in \d+ ms/.test(err), 60_000, 100);
      const names = await labNamespaces(child.pid!);
      assert.equal(names.length, 2);
      const inside = (await Promise.all(names.map((n) => run(['ip', 'netns', 'pids', n])))).flatMap((r) =>
        r.stdout.split(/\s+/).filter(Boolean),
      );
      assert.ok(inside.length >= 2, 'socat (and iperf3) run inside');
      child.kill('SIGINT');
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r('hung'), 20_000)),
      ]);
      assert.equal(code, 130, err);
      assert.deepEqual(await labNamespaces(child.pid!), []);
      for (const pid of inside)
        assert.ok(!existsSync(`/proc/${pid}`) || isZombie(Number(pid)), `process ${pid} survived`);
      assert.match(err, /SIGINT: namespaces and processes removed/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
