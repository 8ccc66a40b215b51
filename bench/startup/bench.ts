/**
 * `npm run bench:startup`: what a user feels of the compiled build, beside
 * the same command run from the TypeScript sources through tsx.
 *
 * - Start-up: wall time of `pptp-ts --version` from spawn to exit, the
 *   compiled build (`node bin/pptp-ts.js`, which imports dist/) against
 *   `node --import tsx src/cli/main.ts`, with `node -e 0` as the floor
 *   (Node's own start). One warm-up each, then `runs` rounds, the variants
 *   interleaved in every round so that a change in load hits them alike.
 *   The page cache is warm: this is the second-and-later start a user sees.
 * - Time to tunnel up: from spawning `pptp-ts connect` to its `connected`
 *   summary (TCP, PPTP control, LCP, MS-CHAPv2, CCP/MPPE-128, IPCP, the
 *   interface configured), against a compiled `pptp-ts serve` already
 *   listening in another network namespace (bench/lab/netns.ts).
 * - RSS of that client process (VmRSS, and its peak VmHWM), read from
 *   /proc after a 3-packet ping through the tunnel and a second of rest;
 *   and the server's RSS with that one session.
 *
 * Targets: `--version` ≤ 150 ms and a client tunnel process ≤ 45 MiB, for
 * the compiled build. Like the tunnel lab, it refuses to measure on a busy
 * machine unless `allowBusy`, which marks the result and writes `*.tmp`
 * files. Server RSS per idle session at 10,000 sessions is
 * `npm run bench:sessions` (which runs the compiled server too).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDist } from '../dist.js';
import { machineInfo } from '../lab/machine.js';
import { Lab, type LabProcess } from '../lab/netns.js';
import { describeLoad, judgeLoad, type LoadSample, readRss, sampleLoad } from '../lab/proc.js';
import type { MachineInfo } from '../lab/result.js';
import { type Summary, summarize } from '../lab/stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_OUT_DIR = join(ROOT, 'bench', 'results');

/** How `pptp-ts` is started. */
export interface Variant {
  readonly id: 'compiled' | 'tsx';
  readonly label: string;
  /** argv up to and including the script; the command's arguments follow. */
  readonly argv: readonly string[];
}

export const VARIANTS: readonly Variant[] = [
  {
    id: 'compiled',
    label: 'compiled (`node bin/pptp-ts.js` → dist/)',
    argv: [process.execPath, join(ROOT, 'bin', 'pptp-ts.js')],
  },
  {
    id: 'tsx',
    label: 'sources through tsx (`node --import tsx src/cli/main.ts`)',
    argv: [process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'src', 'cli', 'main.ts')],
  },
];

/** The targets, for the compiled build. */
export const TARGETS = { versionMs: 150, clientRssMiB: 45 } as const;

export interface StartupOptions {
  /** Timed `--version` runs per variant (default 20). */
  runs?: number;
  /** Tunnels brought up per variant (default 5). */
  tunnels?: number;
  /** Measure on a busy machine, marking the result and writing `*.tmp`. */
  allowBusy?: boolean;
  /** Others' CPU, percent of all CPUs, above which the machine is busy (default 10). */
  busyThresholdPct?: number;
  /** Where to write the JSON and markdown (default bench/results); null: no files. */
  outDir?: string | null;
  log?: (line: string) => void;
}

export interface TunnelFigures {
  /** Spawn to the `connected` summary, ms. */
  readonly upMs: Summary | undefined;
  /** The client's VmRSS and VmHWM, KiB. */
  readonly clientRssKb: Summary | undefined;
  readonly clientHwmKb: Summary | undefined;
  /**
   * The client's private memory (USS: Private_Clean + Private_Dirty of
   * /proc/PID/smaps_rollup), KiB: RSS less the pages it shares with other
   * processes, of which the node executable's own are most.
   */
  readonly clientPrivateKb?: Summary | undefined;
  /** The (compiled) server's VmRSS with this one session, KiB. */
  readonly serverRssKb: Summary | undefined;
}

export interface StartupResult {
  readonly kind: 'startup';
  readonly startedAt: string;
  readonly machine: MachineInfo;
  readonly load: LoadSample;
  readonly busy: boolean;
  readonly settings: { readonly runs: number; readonly tunnels: number };
  /** `--version` wall time per variant, ms, and `node -e 0`. */
  readonly version: Readonly<Record<Variant['id'] | 'node', Summary | undefined>>;
  readonly tunnel: Readonly<Record<Variant['id'], TunnelFigures>>;
  readonly targets: readonly TargetCheck[];
  files?: { json: string; markdown: string };
}

export interface TargetCheck {
  readonly what: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/** The machine was busy: nothing measured (exit status 3 from run.ts). */
export class StartupRefusedError extends Error {}
/** The bench cannot run here (exit status 2). */
export class StartupSetupError extends Error {}

/** Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, KiB (the process's own pages), or undefined. */
function readPrivateKb(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
    const sum = kb('Private_Clean') + kb('Private_Dirty');
    return Number.isFinite(sum) ? sum : undefined;
  } catch {
    return undefined;
  }
}

/** Wall time of one run of argv, ms; throws unless it exits 0 with the expected output. */
function timeOnce(argv: readonly string[], expect: RegExp): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0 || !expect.test(r.stdout)) {
    throw new Error(`${argv.join(' ')}: exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim()}`);
  }
  return ms;
}

function measureVersion(runs: number, version: string): StartupResult['version'] {
  const expect = new RegExp(`^pptp-ts ${version.replace(/\./g, '\\.')}\\n$`);
  const cases: [Variant['id'] | 'node', readonly string[], RegExp][] = [
    ...VARIANTS.map((v): [Variant['id'], readonly string[], RegExp] => [
      v.id,
      [...v.argv, '--version'],
      expect,
    ]),
    ['node', [process.execPath, '-e', '0'], /^$/],
  ];
  for (const [, argv, re] of cases) timeOnce(argv, re); // warm-up: page cache, tsx's cache
  const samples = new Map(cases.map(([id]) => [id, [] as number[]]));
  for (let i = 0; i < runs; i++) {
    for (const [id, argv, re] of cases) samples.get(id)!.push(timeOnce(argv, re));
  }
  return {
    compiled: summarize(samples.get('compiled')!),
    tsx: summarize(samples.get('tsx')!),
    node: summarize(samples.get('node')!),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `re` matches the process's output; throws if it exits first or after `ms`. */
async function waitOutput(p: LabProcess, re: RegExp, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (re.test(p.output())) return;
    if (p.exited()) throw new Error(`${p.label} exited: ${p.output().trim().slice(-800)}`);
    if (performance.now() > deadline) throw new Error(`${p.label}: no ${re} within ${ms} ms`);
    await sleep(5);
  }
}

const TUNNEL_SERVER = '198.19.1.1';
const USER = 'bench';

async function measureTunnels(tunnels: number, log: (l: string) => void): Promise<StartupResult['tunnel']> {
  const lab = await Lab.create();
  try {
    const password = randomBytes(12).toString('hex');
    const secrets = join(lab.tmpDir, 'chap-secrets');
    writeFileSync(secrets, `${USER} * ${password} *\n`, { mode: 0o600 });
    const passwordFile = join(lab.tmpDir, 'password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    const config = join(lab.tmpDir, 'server.json');
    writeFileSync(
      config,
      JSON.stringify({
        listen: lab.serverUnderlay,
        'local-ip': TUNNEL_SERVER,
        pool: '198.19.1.10-198.19.1.40',
        secrets,
        interface: { mode: 'shared', name: 'pptpsu0' },
        ppp: { 'require-mppe-128': true },
        log: { level: 'info' },
      }),
      { mode: 0o600 },
    );
    const compiled = VARIANTS.find((v) => v.id === 'compiled')!;
    const server = lab.spawn(lab.serverNs, [...compiled.argv, 'serve', '--config', config], 'pptp-ts serve');
    await waitOutput(server, /listening on /, 60_000);

    const samples = new Map(
      VARIANTS.map((v) => [
        v.id,
        {
          up: [] as number[],
          rss: [] as number[],
          hwm: [] as number[],
          uss: [] as number[],
          srv: [] as number[],
        },
      ]),
    );
    for (let i = 0; i < tunnels; i++) {
      for (const v of VARIANTS) {
        const t0 = performance.now();
        const client = lab.spawn(
          lab.clientNs,
          [
            ...v.argv,
            'connect',
            lab.serverUnderlay,
            '--user',
            USER,
            '--password-file',
            passwordFile,
            '--ifname',
            'pptpsu1',
            '--no-host-route',
            '--mppe',
            'required,128,stateless',
          ],
          `pptp-ts connect (${v.id})`,
        );
        try {
          await waitOutput(client, /^ {2}mppe +\S/m, 60_000);
          const upMs = performance.now() - t0;
          const ping = await lab.exec(
            lab.clientNs,
            ['ping', '-q', '-c', '3', '-i', '0.2', '-W', '2', TUNNEL_SERVER],
            {
              allowFail: true,
            },
          );
          if (ping.code !== 0) throw new Error(`no ping through the ${v.id} client's tunnel: ${ping.stdout}`);
          await sleep(1000);
          const rss = readRss(client.pid);
          const srv = readRss(server.pid);
          const uss = readPrivateKb(client.pid);
          if (!rss || !srv || uss === undefined)
            throw new Error('could not read /proc/PID/status or smaps_rollup');
          const s = samples.get(v.id)!;
          s.up.push(upMs);
          s.rss.push(rss.rssKb);
          s.hwm.push(rss.hwmKb);
          s.uss.push(uss);
          s.srv.push(srv.rssKb);
          log(
            `  ${v.id.padEnd(8)} up in ${upMs.toFixed(0)} ms; client RSS ${(rss.rssKb / 1024).toFixed(1)} MiB ` +
              `(peak ${(rss.hwmKb / 1024).toFixed(1)}, private ${(uss / 1024).toFixed(1)}), server ${(srv.rssKb / 1024).toFixed(1)} MiB`,
          );
        } finally {
          await client.stop(5000);
        }
        const code = await client.done;
        if (code !== 0)
          throw new Error(`pptp-ts connect (${v.id}) exited ${code}: ${client.output().slice(-800)}`);
      }
    }
    const figures = (id: Variant['id']): TunnelFigures => {
      const s = samples.get(id)!;
      return {
        upMs: summarize(s.up),
        clientRssKb: summarize(s.rss),
        clientHwmKb: summarize(s.hwm),
        clientPrivateKb: summarize(s.uss),
        serverRssKb: summarize(s.srv),
      };
    };
    return { compiled: figures('compiled'), tsx: figures('tsx') };
  } finally {
    await lab.close();
  }
}

export function checkTargets(
  version: StartupResult['version'],
  tunnel: StartupResult['tunnel'],
): TargetCheck[] {
  const v = version.compiled?.median;
  const rss = tunnel.compiled.clientRssKb?.median;
  return [
    {
      what: '`pptp-ts --version`, compiled',
      target: `≤ ${TARGETS.versionMs} ms`,
      measured: v === undefined ? '—' : `${v.toFixed(0)} ms`,
      met: v === undefined ? undefined : v <= TARGETS.versionMs,
    },
    {
      what: 'RSS of a client tunnel process, compiled',
      target: `≤ ${TARGETS.clientRssMiB} MiB`,
      measured: rss === undefined ? '—' : `${(rss / 1024).toFixed(1)} MiB`,
      met: rss === undefined ? undefined : rss / 1024 <= TARGETS.clientRssMiB,
    },
  ];
}

function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d+Z$/, 'Z');
}

/** Runs the bench; writes bench/results/startup-STAMP.{json,md} (`.tmp` when busy). */
export async function runStartupBench(o: StartupOptions = {}): Promise<StartupResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const runs = o.runs ?? 20;
  const tunnels = o.tunnels ?? 5;
  if (process.getuid?.() !== 0) {
    throw new StartupSetupError('bench:startup: needs root (network namespaces, TUN); run it as root');
  }
  ensureDist();
  const started = new Date();
  const load = await sampleLoad(1000);
  const why = judgeLoad(load, o.busyThresholdPct ?? 10);
  if (why && !o.allowBusy) {
    throw new StartupRefusedError(
      `bench:startup: refusing to measure: ${why}. Run it on an idle machine, or pass --allow-busy ` +
        '(the results are then marked as taken on a busy machine).',
    );
  }
  if (why) log(`  (${why}; going on: --allow-busy)`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  log(`start-up: pptp-ts --version × ${runs} per variant…`);
  const version = measureVersion(runs, pkg.version);
  log(`tunnels: ${tunnels} per variant…`);
  const tunnel = await measureTunnels(tunnels, log);
  const result: StartupResult = {
    kind: 'startup',
    startedAt: started.toISOString(),
    machine: await machineInfo(),
    load,
    busy: why !== undefined,
    settings: { runs, tunnels },
    version,
    tunnel,
    targets: checkTargets(version, tunnel),
  };
  const outDir = o.outDir === undefined ? DEFAULT_OUT_DIR : o.outDir;
  if (outDir !== null) {
    mkdirSync(outDir, { recursive: true });
    const base = join(outDir, `startup-${stamp(started)}`);
    const tmp = result.busy ? '.tmp' : '';
    const files = { json: `${base}.json${tmp}`, markdown: `${base}.md${tmp}` };
    writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(files.markdown, renderStartupMarkdown(result));
    result.files = files;
  }
  return result;
}

const ms = (s: Summary | undefined) =>
  s ? `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})` : '—';
const mib = (s: Summary | undefined) =>
  s ? `${(s.median / 1024).toFixed(1)} (${(s.min / 1024).toFixed(1)}–${(s.max / 1024).toFixed(1)})` : '—';

/** The report: two tables and the targets. */
export function renderStartupMarkdown(r: StartupResult): string {
  const m = r.machine;
  const lines = [
    `# pptp-ts start-up and client memory, ${r.startedAt}`,
    '',
    `${m.cpuModel} × ${m.cpus}, ${m.os}, Linux ${m.kernel}, Node ${m.node}, pptp-ts ${m.commit}.`,
    r.busy
      ? `**Taken on a busy machine** (${describeLoad(r.load)}): figures are slower than on an idle one.`
      : `Machine idle at the start (${describeLoad(r.load)}).`,
    '',
    `**Start-up**: \`pptp-ts --version\`, spawn to exit, warm page cache; median (min–max) of ${r.settings.runs} runs, ms.`,
    '',
    '| how | ms |',
    '|---|---:|',
    ...VARIANTS.map((v) => `| ${v.label} | ${ms(r.version[v.id])} |`),
    `| \`node -e 0\` (Node's own start, the floor) | ${ms(r.version.node)} |`,
    '',
    `**A client tunnel** (\`pptp-ts connect\`, MS-CHAPv2, MPPE-128 stateless) against a compiled \`pptp-ts serve\` ` +
      `in another network namespace; median (min–max) of ${r.settings.tunnels} tunnels. RSS read after a 3-packet ` +
      'ping and 1 s of rest.',
    '',
    '| client | time to tunnel up, ms | client RSS, MiB | client peak RSS, MiB | client private (USS), MiB | server RSS with the session, MiB |',
    '|---|---:|---:|---:|---:|---:|',
    ...VARIANTS.map((v) => {
      const t = r.tunnel[v.id];
      return `| ${v.label} | ${ms(t.upMs)} | ${mib(t.clientRssKb)} | ${mib(t.clientHwmKb)} | ${mib(t.clientPrivateKb)} | ${mib(t.serverRssKb)} |`;
    }),
    '',
    '**Targets**',
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...r.targets.map(
      (t) =>
        `| ${t.what} ${t.target} | ${t.measured} | ${t.met === undefined ? 'not measured' : t.met ? 'met' : 'missed'}${r.busy ? ' (busy machine)' : ''} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
