/**
 * /proc parsing and the idle check. The pure parts run on hand-made
 * snapshots; the live part starts a CPU burner outside our process tree and
 * checks that the sampler sees it and names it, and that a burner inside our
 * tree is not counted as "others".
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  busyPercent,
  type CpuTimes,
  computeLoad,
  cpuByProcess,
  judgeLoad,
  type PidStat,
  parseCpuTimes,
  parsePidStat,
  parseStatusMemory,
  readProcTable,
  readRss,
  sampleLoad,
  USER_HZ,
  withDescendants,
} from '../proc.js';

/** A /proc/PID/stat line in the kernel's layout with the fields we read set. */
function statLine(pid: number, comm: string, ppid: number, utime: number, stime: number): string {
  // (3) state (4) ppid (5)..(13) nine fields, (14) utime (15) stime, then more.
  return `${pid} (${comm}) S ${ppid} 1 1 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 100 1000 200`;
}

const cpu = (over: Partial<CpuTimes>): CpuTimes => ({
  user: 0,
  nice: 0,
  system: 0,
  idle: 0,
  iowait: 0,
  irq: 0,
  softirq: 0,
  steal: 0,
  ...over,
});

const table = (...rows: PidStat[]) => new Map(rows.map((r) => [r.pid, r]));
const st = (pid: number, comm: string, ppid: number, utime: number, stime = 0) =>
  parsePidStat(statLine(pid, comm, ppid, utime, stime));

describe('parseCpuTimes', () => {
  it('reads the aggregate line of the real /proc/stat', () => {
    const t = parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
    assert.ok(t.user + t.system + t.idle > 0);
  });

  it('reads fields by position and ignores the per-CPU lines', () => {
    const t = parseCpuTimes('cpu  10 1 20 300 4 5 6 7 8 9\ncpu0 1 1 1 1 1 1 1 1 1 1\nintr 5\n');
    assert.deepEqual(t, {
      user: 10,
      nice: 1,
      system: 20,
      idle: 300,
      iowait: 4,
      irq: 5,
      softirq: 6,
      steal: 7,
    });
  });

  it('rejects text without a well-formed cpu line', () => {
    assert.throws(() => parseCpuTimes('cpu0 1 2 3 4\n'), /no aggregate/);
    assert.throws(() => parseCpuTimes('cpu  1 2 x 4\n'), /malformed/);
  });
  it('gives the busy share between two readings: everything but idle and iowait', () => {
    const a = parseCpuTimes('cpu  10 1 20 300 4 5 6 7\n');
    // +30 user, +10 system, +50 idle, +10 iowait: 40 busy of 100 ticks
    const b = parseCpuTimes('cpu  40 1 30 350 14 5 6 7\n');
    assert.equal(busyPercent(a, b), 40);
    assert.equal(busyPercent(a, a), 0, 'no tick passed');
  });
});

describe('parsePidStat', () => {
  it('reads this process from the real /proc', () => {
    const s = parsePidStat(readFileSync('/proc/self/stat', 'utf8'));
    assert.equal(s.pid, process.pid);
    assert.equal(s.ppid, process.ppid);
    assert.ok(s.utime + s.stime > 0);
  });

  it('takes comm up to the last parenthesis, so a hostile name cannot shift the fields', () => {
    const s = parsePidStat(statLine(42, 'a) S 1 (b', 7, 123, 45));
    assert.deepEqual(s, { pid: 42, comm: 'a) S 1 (b', ppid: 7, utime: 123, stime: 45 });
  });

  it('rejects lines without (comm) or with non-numbers', () => {
    assert.throws(() => parsePidStat('42 bash S 1'), /no \(comm\)/);
    assert.throws(() => parsePidStat('42 (bash) S'), /malformed/);
  });
});

describe('process tree and CPU', () => {
  it('withDescendants follows children and grandchildren, not siblings', () => {
    const t = table(
      st(1, 'init', 0, 0),
      st(10, 'a', 1, 0),
      st(11, 'b', 10, 0),
      st(12, 'c', 11, 0),
      st(20, 'x', 1, 0),
    );
    assert.deepEqual([...withDescendants(t, [10])].sort(), [10, 11, 12]);
    assert.deepEqual([...withDescendants(t, [20])], [20]);
  });

  it('cpuByProcess turns tick deltas into percent of a core', () => {
    const before = table(st(5, 'tun', 1, 100, 50), st(6, 'other', 1, 0));
    // 1 s of wall time, 75 ticks more: 75 % of a core at USER_HZ = 100.
    const after = table(st(5, 'tun', 1, 150, 75), st(6, 'other', 1, 500));
    const r = cpuByProcess(before, after, [5], 1000);
    assert.equal(r.length, 1);
    assert.ok(Math.abs(r[0]!.pctOfCore - (75 / USER_HZ) * 100) < 1e-9);
  });

  it('leaves out a PID that was reused by another program or that vanished', () => {
    const before = table(st(5, 'tun', 1, 100), st(7, 'gone', 1, 1));
    const after = table(st(5, 'bash', 1, 900));
    assert.deepEqual(cpuByProcess(before, after, [5, 7], 1000), []);
  });
});

describe('computeLoad and judgeLoad', () => {
  // Two CPUs for 1 s at USER_HZ 100: 200 ticks in total.
  const c0 = cpu({ user: 1000, system: 1000, idle: 5000 });

  it('counts others as busy ticks minus our own tree, and names the busiest', () => {
    const p0 = table(
      st(100, 'bench', 1, 0),
      st(101, 'iperf3', 100, 0),
      st(200, 'burner', 1, 0),
      st(300, 'idle', 1, 0),
    );
    // Machine: 120 busy of 200. Ours: 20 + 10. Burner: 90.
    const c1 = cpu({ user: 1100, system: 1020, idle: 5080 });
    const p1 = table(
      st(100, 'bench', 1, 20),
      st(101, 'iperf3', 100, 10),
      st(200, 'burner', 1, 90),
      st(300, 'idle', 1, 0),
    );
    const s = computeLoad(c0, c1, p0, p1, new Set([100, 101]), 1000, 2, [1.5, 1, 0.5]);
    assert.ok(Math.abs(s.totalBusyPct - 60) < 1e-9);
    assert.ok(Math.abs(s.othersPct - 45) < 1e-9);
    assert.deepEqual(
      s.top.map((p) => [p.pid, p.comm]),
      [[200, 'burner']],
    );
    assert.ok(Math.abs(s.top[0]!.pctOfCore - 90) < 1e-9);
    const why = judgeLoad(s, 10);
    assert.ok(why);
    assert.match(why, /45\.0 % of 2 CPUs/);
    assert.match(why, /burner\[200\] 90 % of a core/);
    assert.match(why, /load average 1\.50 1\.00 0\.50/);
    assert.equal(judgeLoad(s, 45), undefined);
  });

  it('counts steal time as busy and says so', () => {
    const c1 = cpu({ user: 1000, system: 1000, idle: 5150, steal: 50 });
    const s = computeLoad(c0, c1, new Map(), new Map(), new Set(), 1000, 2, [0, 0, 0]);
    assert.ok(Math.abs(s.othersPct - 25) < 1e-9);
    assert.ok(Math.abs(s.stealPct - 25) < 1e-9);
    assert.match(judgeLoad(s, 10)!, /steal 25\.0 %/);
  });

  it('an idle machine passes', () => {
    const c1 = cpu({ user: 1001, system: 1001, idle: 5198 });
    const s = computeLoad(c0, c1, new Map(), new Map(), new Set(), 1000, 2, [0, 0, 0]);
    assert.ok(s.othersPct < 10);
    assert.equal(judgeLoad(s, 10), undefined);
  });
});

describe('memory', () => {
  it('parses VmRSS and VmHWM', () => {
    const m = parseStatusMemory('Name:\topenvpn\nVmHWM:\t    9000 kB\nVmRSS:\t    8400 kB\n');
    assert.deepEqual(m, { name: 'openvpn', rssKb: 8400, hwmKb: 9000 });
    assert.throws(() => parseStatusMemory('Name:\tkthreadd\n'), /no VmRSS/);
  });

  it('reads this process, and nothing for a kernel thread', () => {
    const me = readRss(process.pid);
    assert.ok(me && me.rssKb > 1000 && me.hwmKb >= me.rssKb);
    assert.equal(readRss(2), undefined); // kthreadd has no memory of its own
  });
});

describe('sampleLoad (live)', () => {
  it('sees and names a CPU burner outside our tree, and not one inside it', async () => {
    // The outer shell exits at once, so the burner is re-parented away from us.
    const orphan = spawnSync('sh', ['-c', 'sh -c "while :; do :; done" >/dev/null 2>&1 & echo $!'], {
      encoding: 'utf8',
      timeout: 5000,
    });
    const orphanPid = Number(orphan.stdout.trim());
    assert.ok(orphanPid > 0);
    const child = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    try {
      assert.ok(!withDescendants(readProcTable(), [process.pid]).has(orphanPid), 'the orphan left our tree');
      const s = await sampleLoad(1000);
      const top = s.top.find((p) => p.pid === orphanPid);
      assert.ok(top, `burner ${orphanPid} not among ${JSON.stringify(s.top)}`);
      // It spins all the time; on a loaded 2-CPU machine it still gets a good share of a core.
      assert.ok(top.pctOfCore > 10);
      assert.ok(s.othersPct * s.cpus >= top.pctOfCore * 0.9, 'others include the burner');
      assert.ok(!s.top.some((p) => p.pid === child.pid), 'our own child is not "others"');
    } finally {
      process.kill(orphanPid, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });
});
