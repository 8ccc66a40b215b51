/**
 * What the lab reads from /proc: machine-wide CPU time (`/proc/stat`), each
 * process's CPU time and parent (`/proc/PID/stat`), and its memory
 * (`/proc/PID/status`). The parsers are pure (text in, numbers out) so the
 * tests can feed them fixtures; the readers are thin.
 *
 * Two uses:
 * - the idle check before each run ({@link sampleLoad}, {@link judgeLoad}):
 *   how much CPU did *other* processes use over about a second, and who;
 * - the cost of a tunnel during a run ({@link cpuPercent}): utime + stime
 *   deltas of the tunnel's processes and their children.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/**
 * Clock ticks per second of every time in /proc (`USER_HZ`,
 * `sysconf(_SC_CLK_TCK)`). It is part of the Linux user ABI and 100 on
 * x86 and arm; `getconf CLK_TCK` says so on this machine.
 */
export const USER_HZ = 100;

/** The aggregate `cpu` line of /proc/stat, in clock ticks (proc(5)). */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  /** Time the hypervisor ran someone else while we wanted the CPU. */
  readonly steal: number;
}

/** Parses the first (`cpu `) line of /proc/stat. Throws on anything else. */
export function parseCpuTimes(procStat: string): CpuTimes {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat: no aggregate "cpu" line');
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new Error(`/proc/stat: malformed cpu line: ${line}`);
  }
  const at = (i: number) => f[i] ?? 0;
  // guest and guest_nice (fields 9-10) are already included in user and nice.
  return {
    user: at(0),
    nice: at(1),
    system: at(2),
    idle: at(3),
    iowait: at(4),
    irq: at(5),
    softirq: at(6),
    steal: at(7),
  };
}

function totalTicks(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** Ticks in which a CPU was doing something (everything but idle and iowait). */
function busyTicks(t: CpuTimes): number {
  return totalTicks(t) - t.idle - t.iowait;
}

/** Share of all CPUs busy between two /proc/stat readings, percent; 0 when no tick passed. */
export function busyPercent(before: CpuTimes, after: CpuTimes): number {
  const total = totalTicks(after) - totalTicks(before);
  return total > 0 ? ((busyTicks(after) - busyTicks(before)) / total) * 100 : 0;
}

/** The fields of /proc/PID/stat the lab uses (proc(5) numbering in comments). */
export interface PidStat {
  readonly pid: number;
  /** (2) the executable name, at most 15 characters; may contain spaces and parentheses. */
  readonly comm: string;
  /** (4) */
  readonly ppid: number;
  /** (14) user-mode ticks, all threads. */
  readonly utime: number;
  /** (15) kernel-mode ticks, all threads. */
  readonly stime: number;
}

/**
 * Parses one /proc/PID/stat line. `comm` is everything between the first
 * `(` and the *last* `)`, because a process may name itself `a) (b`.
 */
export function parsePidStat(text: string): PidStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`/proc/PID/stat: no (comm): ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  // After ") " come the fields from (3) state onwards.
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(rest[n - 3]);
  const s: PidStat = {
    pid,
    comm: text.slice(open + 1, close),
    ppid: field(4),
    utime: field(14),
    stime: field(15),
  };
  if (![s.pid, s.ppid, s.utime, s.stime].every(Number.isFinite)) {
    throw new Error(`/proc/PID/stat: malformed: ${text.slice(0, 80)}`);
  }
  return s;
}

/** Every process's stat, by PID. Processes that vanish while we read are skipped. */
export type ProcTable = ReadonlyMap<number, PidStat>;

/** Reads /proc/PID/stat for every PID. */
export function readProcTable(procRoot = '/proc'): ProcTable {
  const out = new Map<number, PidStat>();
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = parsePidStat(readFileSync(`${procRoot}/${name}/stat`, 'utf8'));
      out.set(s.pid, s);
    } catch {
      // gone between readdir and read, or a kernel oddity: not ours to judge
    }
  }
  return out;
}

/** `roots` and all their descendants present in `table`. */
export function withDescendants(table: ProcTable, roots: Iterable<number>): Set<number> {
  const children = new Map<number, number[]>();
  for (const s of table.values()) {
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const out = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (out.has(pid)) continue;
    out.add(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/** One process's share of the CPU over a window. */
export interface ProcessCpu {
  readonly pid: number;
  readonly comm: string;
  /** Percent of one core (a process with two busy threads can show 200). */
  readonly pctOfCore: number;
}

/**
 * CPU use of each PID in `pids` between two tables, as percent of one core
 * over `wallMs`. PIDs missing from either table (started or ended inside the
 * window) are left out, as is a PID whose comm changed (reused).
 */
export function cpuByProcess(
  before: ProcTable,
  after: ProcTable,
  pids: Iterable<number>,
  wallMs: number,
): ProcessCpu[] {
  const out: ProcessCpu[] = [];
  if (!(wallMs > 0)) return out;
  for (const pid of pids) {
    const a = before.get(pid);
    const b = after.get(pid);
    if (!a || !b || a.comm !== b.comm) continue;
    const ticks = b.utime + b.stime - (a.utime + a.stime);
    out.push({ pid, comm: b.comm, pctOfCore: Math.max(0, ((ticks / USER_HZ) * 1000 * 100) / wallMs) });
  }
  return out;
}

/** Sum of {@link cpuByProcess}, in percent of one core. */
export function cpuPercent(
  before: ProcTable,
  after: ProcTable,
  pids: Iterable<number>,
  wallMs: number,
): number {
  return cpuByProcess(before, after, pids, wallMs).reduce((s, p) => s + p.pctOfCore, 0);
}

/** What the machine did over a short window, as the idle check sees it. */
export interface LoadSample {
  /** Length of the window. */
  readonly wallMs: number;
  /** Logical CPUs. */
  readonly cpus: number;
  /** CPU used by everything except the lab's own process tree, in percent of all CPUs. */
  readonly othersPct: number;
  /** All busy CPU (ours included), in percent of all CPUs. */
  readonly totalBusyPct: number;
  /** Steal time, in percent of all CPUs (included in the two figures above). */
  readonly stealPct: number;
  /** The busiest processes outside our tree, busiest first (at most 5, each ≥ 1 % of a core). */
  readonly top: readonly ProcessCpu[];
  /** 1, 5 and 15 minute load averages at the end of the window. */
  readonly loadavg: readonly [number, number, number];
}

/**
 * Pure part of {@link sampleLoad}: turns two snapshots into a
 * {@link LoadSample}. `own` is the set of PIDs to leave out (this process
 * and its children).
 */
export function computeLoad(
  cpuBefore: CpuTimes,
  cpuAfter: CpuTimes,
  procBefore: ProcTable,
  procAfter: ProcTable,
  own: ReadonlySet<number>,
  wallMs: number,
  ncpus: number,
  load: readonly [number, number, number],
): LoadSample {
  const total = totalTicks(cpuAfter) - totalTicks(cpuBefore);
  const busy = busyTicks(cpuAfter) - busyTicks(cpuBefore);
  const steal = cpuAfter.steal - cpuBefore.steal;
  let ownTicks = 0;
  for (const pid of own) {
    const a = procBefore.get(pid);
    const b = procAfter.get(pid);
    if (a && b && a.comm === b.comm) ownTicks += Math.max(0, b.utime + b.stime - a.utime - a.stime);
  }
  const pct = (ticks: number) => (total > 0 ? Math.max(0, Math.min(100, (ticks / total) * 100)) : 0);
  const others = [...procAfter.keys()].filter((p) => !own.has(p));
  const top = cpuByProcess(procBefore, procAfter, others, wallMs)
    .filter((p) => p.pctOfCore >= 1)
    .sort((a, b) => b.pctOfCore - a.pctOfCore)
    .slice(0, 5);
  return {
    wallMs,
    cpus: ncpus,
    othersPct: pct(busy - ownTicks),
    totalBusyPct: pct(busy),
    stealPct: pct(steal),
    top,
    loadavg: load,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Samples /proc/stat and every process over `ms`, leaving out this process and its children. */
export async function sampleLoad(ms = 1000): Promise<LoadSample> {
  const c0 = parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
  const p0 = readProcTable();
  const t0 = performance.now();
  await sleep(ms);
  const c1 = parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
  const p1 = readProcTable();
  const wallMs = performance.now() - t0;
  const own = withDescendants(p1, [process.pid]);
  const [l1, l5, l15] = loadavg();
  return computeLoad(c0, c1, p0, p1, own, wallMs, cpus().length, [l1!, l5!, l15!]);
}

/** One-line description of a sample: `others 63.2 % of 2 CPUs (node[1234] 95 %, ...); load 3.41 2.10 1.00`. */
export function describeLoad(s: LoadSample): string {
  const who = s.top.map((p) => `${p.comm}[${p.pid}] ${p.pctOfCore.toFixed(0)} % of a core`).join(', ');
  const steal = s.stealPct >= 1 ? `, steal ${s.stealPct.toFixed(1)} %` : '';
  return (
    `other processes used ${s.othersPct.toFixed(1)} % of ${s.cpus} CPUs over ${(s.wallMs / 1000).toFixed(1)} s` +
    `${steal}${who ? ` (${who})` : ''}; load average ${s.loadavg.map((x) => x.toFixed(2)).join(' ')}`
  );
}

/** Returns why the machine is too busy to measure on, or undefined when it is idle enough. */
export function judgeLoad(s: LoadSample, thresholdPct: number): string | undefined {
  if (s.othersPct <= thresholdPct) return undefined;
  return `machine busy: ${describeLoad(s)}; the threshold is ${thresholdPct} %`;
}

/** Resident set size now and at its peak, in KiB, from /proc/PID/status. */
export interface Rss {
  readonly pid: number;
  readonly comm: string;
  readonly rssKb: number;
  readonly hwmKb: number;
}

/** Parses VmRSS and VmHWM (kB) out of /proc/PID/status text. */
export function parseStatusMemory(text: string): { rssKb: number; hwmKb: number; name: string } {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!m) throw new Error(`/proc/PID/status: no ${key}`);
    return Number(m[1]);
  };
  const name = /^Name:\s+(.*)$/m.exec(text)?.[1] ?? '?';
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), name };
}

/** Reads the memory of `pid`, or undefined when it is gone (or a kernel thread). */
export function readRss(pid: number): Rss | undefined {
  try {
    const m = parseStatusMemory(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { pid, comm: m.name, rssKb: m.rssKb, hwmKb: m.hwmKb };
  } catch {
    return undefined;
  }
}
