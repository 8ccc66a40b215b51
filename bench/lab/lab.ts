/**
 * The benchmark lab: real tunnels side by side between two
 * network namespaces, interleaved over several rounds.
 *
 * ```
 * for round in 1..R:
 *   for contender in [veth, vxlan, socat, openvpn, wireguard-go, pptp-ts, pptp-ts-mppe128]:
 *     idle check (refuse when others load the machine, unless allowBusy)
 *     up → first ping → contender's own check → routes → ping, TCP ×1, TCP ×4, UDP 1400 B, UDP 64 B → RSS
 *     down → check that nothing was left behind (remove it if it was)
 * summarize (medians, min–max, ratios), judge the targets, write JSON + markdown
 * ```
 *
 * Interleaving (A B C, A B C, ...) spreads slow drifts of the machine over
 * every contender instead of charging them to whichever ran last.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labCharts } from '../charts.js';
import type { Contender, TunnelPlan } from './contender.js';
import { CONTENDERS, VARIANTS } from './contenders/index.js';
import { which } from './contenders/util.js';
import { machineInfo } from './machine.js';
import { METRICS, type MeasureConfig, type Metric, measureTunnel, waitReachable } from './measure.js';
import { Lab } from './netns.js';
import { judgeLoad, type LoadSample, sampleLoad } from './proc.js';
import { evaluateTargets, renderMarkdown, summarizeRuns } from './report.js';
import {
  type ContenderInfo,
  type LabResult,
  type LabSettings,
  RESULT_SCHEMA,
  type RunRecord,
} from './result.js';

export type { LabResult } from './result.js';

/** Everything `runLab` can be told; every field has a default. */
export interface LabOptions {
  /** Interleaved rounds (default 3). */
  rounds?: number;
  /** Seconds each iperf3 run measures (default 5). */
  durationSec?: number;
  /** Seconds of iperf3 warm-up left out of each run (default 1). */
  omitSec?: number;
  /** Contender ids to run, in the built-in order (default: all). */
  contenders?: readonly string[];
  /** Measurements to take (default: all of {@link METRICS}). */
  metrics?: readonly Metric[];
  /** Inner MTU of every encapsulating tunnel (default 1440: fits WireGuard's 60-byte IPv4 overhead in 1500). */
  mtu?: number;
  /** Offered UDP rate in bit/s; 0 (the default) sends as fast as iperf3 can. */
  udpRateBps?: number;
  /** Pings for the RTT figure (default 20) and their interval in seconds (default 0.05). */
  pingCount?: number;
  pingIntervalSec?: number;
  /** Measure even when other processes load the machine; the result says so (default false). */
  allowBusy?: boolean;
  /** Others' CPU, percent of all CPUs, above which the machine is busy (default 10). */
  busyThresholdPct?: number;
  /** Extra idle checks, 3 s apart, before giving up on a busy machine (default 2). */
  busyRetries?: number;
  /** Length of one idle check (default 1000 ms). */
  idleSampleMs?: number;
  /** Bound on bringing one tunnel up and on its first ping (default 20000 ms). */
  upTimeoutMs?: number;
  /** Directory for the JSON and markdown files (default bench/results); null writes nothing. */
  outDir?: string | null;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Contender implementations to choose from instead of the built-in list. */
  contenderList?: readonly Contender[];
}

/** The machine was busy: the lab refused to measure (exit status 3 from run.ts). */
export class LabRefusedError extends Error {
  override readonly name = 'LabRefusedError';
  constructor(
    message: string,
    readonly load: LoadSample,
  ) {
    super(message);
  }
}

/** The lab cannot run here at all (not root, iperf3 missing, bad option). */
export class LabSetupError extends Error {
  override readonly name = 'LabSetupError';
}

const DEFAULT_OUT_DIR = fileURLToPath(new URL('../results', import.meta.url));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function settingsOf(o: LabOptions): LabSettings {
  const s: LabSettings = {
    rounds: o.rounds ?? 3,
    durationSec: o.durationSec ?? 5,
    omitSec: o.omitSec ?? 1,
    metrics: o.metrics ? METRICS.filter((m) => o.metrics!.includes(m)) : [...METRICS],
    mtu: o.mtu ?? 1440,
    udpRateBps: o.udpRateBps ?? 0,
    pingCount: o.pingCount ?? 20,
    pingIntervalSec: o.pingIntervalSec ?? 0.05,
    busyThresholdPct: o.busyThresholdPct ?? 10,
    allowBusy: o.allowBusy ?? false,
  };
  const bad = (what: string) => {
    throw new LabSetupError(`bench lab: ${what}`);
  };
  if (!Number.isInteger(s.rounds) || s.rounds < 1 || s.rounds > 100) bad('rounds must be 1..100');
  if (!Number.isInteger(s.durationSec) || s.durationSec < 1 || s.durationSec > 600)
    bad('duration must be 1..600 s');
  if (!Number.isInteger(s.omitSec) || s.omitSec < 0 || s.omitSec > 60) bad('omit must be 0..60 s');
  if (!Number.isInteger(s.mtu) || s.mtu < 1280 || s.mtu > 1450)
    bad('mtu must be 1280..1450 (1400-byte UDP must fit)');
  if (!(s.udpRateBps >= 0)) bad('the UDP rate must be ≥ 0');
  if (!Number.isInteger(s.pingCount) || s.pingCount < 1 || s.pingCount > 10_000)
    bad('ping count must be 1..10000');
  // ping(8) as root takes intervals down to 2 ms (below that it asks for -f).
  if (!(s.pingIntervalSec >= 0.002 && s.pingIntervalSec <= 10)) bad('ping interval must be 0.002..10 s');
  if (!(s.busyThresholdPct > 0 && s.busyThresholdPct <= 100)) bad('busy threshold must be in (0, 100] %');
  if (o.metrics) for (const m of o.metrics) if (!METRICS.includes(m)) bad(`unknown metric ${m}`);
  if (s.metrics.length === 0) bad('no metric selected');
  return s;
}

function pickContenders(o: LabOptions): Contender[] {
  const all = [...(o.contenderList ?? CONTENDERS)];
  if (!o.contenders) return all;
  if (!o.contenderList) all.push(...VARIANTS);
  const unknown = o.contenders.filter((id) => !all.some((c) => c.id === id));
  if (unknown.length > 0) {
    throw new LabSetupError(
      `bench lab: unknown contender ${unknown.join(', ')} (known: ${all.map((c) => c.id).join(', ')})`,
    );
  }
  return all.filter((c) => o.contenders!.includes(c.id));
}

function checkHost(): void {
  if (process.getuid?.() !== 0) {
    throw new LabSetupError(
      'bench lab: needs root (network namespaces, TUN devices); run it as root, as CI does',
    );
  }
  const tools: [string, string][] = [
    ['ip', 'iproute2'],
    ['ss', 'iproute2'],
    ['ping', 'iputils-ping'],
    ['iperf3', 'iperf3'],
  ];
  const gone = tools.filter(([b]) => which(b) === undefined);
  if (gone.length > 0) {
    throw new LabSetupError(
      `bench lab: ${gone.map(([b]) => b).join(', ')} not installed ` +
        `(npm run bench:setup, or apt-get install -y ${[...new Set(gone.map(([, p]) => p))].join(' ')})`,
    );
  }
}

/** The idle check before one run: sample, resample a few times if busy, then refuse (unless allowBusy). */
async function idleCheck(
  o: LabOptions,
  s: LabSettings,
  log: (l: string) => void,
): Promise<{ load: LoadSample; busy: boolean }> {
  const retries = o.busyRetries ?? 2;
  for (let attempt = 0; ; attempt++) {
    const load = await sampleLoad(o.idleSampleMs ?? 1000);
    const why = judgeLoad(load, s.busyThresholdPct);
    if (!why) return { load, busy: false };
    if (s.allowBusy) {
      log(`  (${why}; going on: --allow-busy)`);
      return { load, busy: true };
    }
    if (attempt >= retries) {
      throw new LabRefusedError(
        `bench lab: refusing to measure: ${why}. Run it on an idle machine, or pass --allow-busy ` +
          '(the results are then marked as taken on a busy machine).',
        load,
      );
    }
    log(`  ${why}; checking again in 3 s`);
    await sleep(3000);
  }
}

function planFor(index: number, lab: Lab, s: LabSettings, upTimeoutMs: number): TunnelPlan {
  // 198.19.0.0/16 is the second half of RFC 2544's benchmarking range; one /24 per contender.
  const net = `198.19.${index + 1}`;
  return {
    serverAddress: `${net}.1`,
    clientAddress: `${net}.2`,
    prefixLength: 24,
    subnet: `${net}.0/24`,
    mtu: s.mtu,
    unique: lab.unique,
    upTimeoutMs,
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One contender, one round: up, measure, down, check for leftovers. */
async function runOne(
  lab: Lab,
  c: Contender,
  plan: TunnelPlan,
  round: number,
  cfg: MeasureConfig,
  load: LoadSample,
  busy: boolean,
  log: (l: string) => void,
): Promise<RunRecord> {
  const startedAt = new Date().toISOString();
  const base = { contender: c.id, round, startedAt, load, busy };
  let record: RunRecord;
  const t0 = performance.now();
  let tunnel: Awaited<ReturnType<Contender['up']>> | undefined;
  try {
    tunnel = await c.up(lab, plan);
    await waitReachable(lab, tunnel, plan.upTimeoutMs);
    const upMs = performance.now() - t0;
    log(`    up in ${upMs.toFixed(0)} ms`);
    const checked = c.verify ? await c.verify(lab, tunnel) : [];
    for (const line of checked) log(`    ${line}`);
    const { rss, ...measurements } = await measureTunnel(lab, tunnel, cfg, log);
    const notes = [...checked, ...(tunnel.notes ?? [])];
    record = {
      ...base,
      status: 'ok',
      upMs,
      measurements,
      ...(rss ? { rss } : {}),
      ...(notes.length ? { notes } : {}),
    };
  } catch (e) {
    log(`    FAILED: ${errorText(e)}`);
    record = { ...base, status: 'failed', error: errorText(e) };
  }
  if (tunnel) {
    try {
      await tunnel.down();
    } catch (e) {
      log(`    teardown failed: ${errorText(e)}`);
    }
  }
  const residue = await lab.residue();
  if (residue.length > 0) {
    log(`    left behind: ${residue.join(', ')} (removing)`);
    await lab.scrub();
    const still = await lab.residue();
    if (still.length > 0) throw new Error(`bench lab: cannot clean up after ${c.id}: ${still.join(', ')}`);
    record = { ...record, residue };
  }
  return record;
}

function stampOf(iso: string): string {
  return iso.replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
}

/**
 * Runs the lab and returns the result; also writes `lab-STAMP.json` and
 * `lab-STAMP.md` under `outDir` (with a `.tmp` suffix when run with
 * allowBusy, so development figures never get committed by accident).
 *
 * Throws {@link LabRefusedError} when the machine is busy (and allowBusy is
 * off) and {@link LabSetupError} when it cannot run here. Contenders that
 * cannot run are skipped with their reason; a contender that fails a round
 * is recorded as failed (`result.ok` is then false) and the lab goes on.
 */
export async function runLab(options: LabOptions = {}): Promise<LabResult> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const s = settingsOf(options);
  const chosen = pickContenders(options);
  checkHost();
  const startedAt = new Date().toISOString();
  const upTimeoutMs = options.upTimeoutMs ?? 20_000;
  const cfg: MeasureConfig = {
    metrics: new Set(s.metrics),
    durationSec: s.durationSec,
    omitSec: s.omitSec,
    udpRateBps: s.udpRateBps,
    pingCount: s.pingCount,
    pingIntervalSec: s.pingIntervalSec,
    reachTimeoutMs: upTimeoutMs,
  };
  const machine = await machineInfo();
  log(`bench lab: ${machine.cpuModel}, ${machine.cpus} CPUs, Linux ${machine.kernel}`);

  const lab = await Lab.create();
  const infos: ContenderInfo[] = [];
  const runs: RunRecord[] = [];
  try {
    log(`bench lab: namespaces ${lab.serverNs} and ${lab.clientNs}`);
    const runnable: { c: Contender; plan: TunnelPlan }[] = [];
    for (const [i, c] of chosen.entries()) {
      const skipped = await c.unavailable(lab);
      const version = skipped ? undefined : await c.version(lab);
      infos.push({
        id: c.id,
        label: c.label,
        kind: c.kind,
        config: c.config,
        ...(version ? { version } : {}),
        ...(skipped ? { skipped } : {}),
      });
      if (skipped) log(`  ${c.label}: skipped: ${skipped}`);
      else runnable.push({ c, plan: planFor(i, lab, s, upTimeoutMs) });
    }
    for (let round = 1; round <= s.rounds; round++) {
      for (const { c, plan } of runnable) {
        log(`round ${round}/${s.rounds}: ${c.label}`);
        const { load, busy } = await idleCheck(options, s, log);
        runs.push(await runOne(lab, c, plan, round, cfg, load, busy, log));
      }
    }
  } finally {
    await lab.close();
  }

  const summary = summarizeRuns(infos, runs);
  const result: LabResult = {
    schema: RESULT_SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    settings: s,
    machine,
    contenders: infos,
    runs,
    summary,
    targets: evaluateTargets(summary),
    busyRuns: runs.filter((r) => r.busy).length,
    maxOthersPct: runs.reduce((mx, r) => Math.max(mx, r.load.othersPct), 0),
    ok: runs.every((r) => r.status === 'ok'),
  };
  const outDir = options.outDir === undefined ? DEFAULT_OUT_DIR : options.outDir;
  if (outDir !== null) {
    mkdirSync(outDir, { recursive: true });
    const suffix = s.allowBusy ? '.tmp' : '';
    const base = join(outDir, `lab-${stampOf(startedAt)}`);
    const stem = `lab-${stampOf(startedAt)}`;
    const charts = await labCharts(result, stem);
    result.files = {
      json: `${base}.json${suffix}`,
      markdown: `${base}.md${suffix}`,
      charts: charts.map((c) => join(outDir, `${c.file}${suffix}`)),
    };
    writeFileSync(result.files.json, `${JSON.stringify(result, null, 2)}\n`);
    for (const c of charts) writeFileSync(join(outDir, `${c.file}${suffix}`), c.svg);
    writeFileSync(result.files.markdown, renderMarkdown(result, charts));
  }
  return result;
}
