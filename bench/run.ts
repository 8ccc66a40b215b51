/**
 * `npm run bench [-- options] [FILTER...]`: runs every microbenchmark in
 * bench/micro/*.ts (see bench/harness.ts for the contract) and prints a
 * table of operations per second (median of several samples, with min–max),
 * ns per operation, Gbit/s where bytes are involved, and the ratio against a
 * baseline measured in the same run.
 *
 * Options:
 *   --sample-ms N   length of one timed sample (default 200)
 *   --samples N     samples per benchmark (default 7)
 *   --json FILE     also write the results as JSON
 *   --md FILE       also write the table as Markdown
 *   FILTER          run only benchmarks whose file or name contains it
 *
 * Figures are printed, never asserted: timing does not belong in tests.
 * Run it on an idle machine; it warns when the load average says otherwise.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { finiteNumber, flagValue, parseBenchArgs, wholeNumber } from './args.js';
import { type BenchFn, type Benchmark, type BenchResult, blackhole } from './harness.js';

interface Options {
  sampleMs: number;
  samples: number;
  json?: string;
  md?: string;
  filters: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { sampleMs: 200, samples: 7, filters: [] };
  const { flags, positionals } = parseBenchArgs(
    argv,
    { 'sample-ms': 'string', samples: 'string', json: 'string', md: 'string' },
    { positionals: true },
  );
  for (const f of flags) {
    if (f.name === '--sample-ms') o.sampleMs = finiteNumber(f);
    else if (f.name === '--samples') o.samples = wholeNumber(f, 1);
    else if (f.name === '--json') o.json = flagValue(f);
    else if (f.name === '--md') o.md = flagValue(f);
  }
  o.filters.push(...positionals);
  if (!(o.sampleMs > 0) || !(o.samples >= 1))
    throw new Error('bench: --sample-ms and --samples must be positive');
  return o;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Times `fn(n)` in ms. */
function time(fn: BenchFn, n: number): number {
  const t0 = now();
  fn(n);
  return now() - t0;
}

/** Finds n so that one call lasts about `ms`, warming the function up on the way. */
function calibrate(fn: BenchFn, ms: number): number {
  let n = 1;
  let warm = 0;
  for (;;) {
    const t = time(fn, n);
    warm += t;
    if (t >= ms / 4 && warm >= ms) return Math.max(1, Math.round((n * ms) / Math.max(t, 1e-3)));
    n = t < 1 ? n * 10 : Math.max(n + 1, Math.round((n * ms) / t / 2));
  }
}

async function measure(file: string, b: Benchmark, o: Options): Promise<BenchResult> {
  const fn = await b.setup();
  const n = calibrate(fn, o.sampleMs);
  const rates: number[] = [];
  for (let s = 0; s < o.samples; s++) rates.push((n / time(fn, n)) * 1000);
  await b.teardown?.();
  rates.sort((x, y) => x - y);
  const median = rates[Math.floor(rates.length / 2)]!;
  return {
    file,
    name: b.name,
    unit: b.unit ?? 'ops',
    opsPerSec: median,
    minOpsPerSec: rates[0]!,
    maxOpsPerSec: rates[rates.length - 1]!,
    nsPerOp: 1e9 / median,
    ...(b.bytesPerOp !== undefined ? { gbitPerSec: (median * b.bytesPerOp * 8) / 1e9 } : {}),
    ...(b.baseline !== undefined ? { baseline: b.baseline } : {}),
    ...(b.targetOpsPerSec !== undefined ? { targetOpsPerSec: b.targetOpsPerSec } : {}),
    samples: o.samples,
    opsPerSample: n,
  };
}

function si(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(1);
}

function table(results: readonly BenchResult[]): string[][] {
  const rows = [['benchmark', 'per second (median)', 'min–max', 'ns/op', 'Gbit/s', 'vs baseline', 'target']];
  for (const r of results) {
    const target =
      r.targetOpsPerSec === undefined
        ? ''
        : `${si(r.targetOpsPerSec)} ${r.opsPerSec >= r.targetOpsPerSec ? 'met' : 'NOT met'}`;
    rows.push([
      r.name,
      `${si(r.opsPerSec)}${r.unit}`,
      `${si(r.minOpsPerSec)}–${si(r.maxOpsPerSec)}`,
      r.nsPerOp.toFixed(1),
      r.gbitPerSec === undefined ? '' : r.gbitPerSec.toFixed(2),
      r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× ${r.baseline}`,
      target,
    ]);
  }
  return rows;
}

function printText(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    );
    if (i === 0) console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  }
}

function markdown(rows: string[][]): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [
    line(rows[0]!),
    line(rows[0]!.map((_, c) => (c === 0 ? '---' : '---:'))),
    ...rows.slice(1).map(line),
  ].join('\n');
}

async function loadBenchmarks(filters: string[]): Promise<{ file: string; bench: Benchmark }[]> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'micro');
  const out: { file: string; bench: Benchmark }[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.ts')) continue;
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { benchmarks?: Benchmark[] };
    if (!Array.isArray(mod.benchmarks)) throw new Error(`bench/micro/${f} exports no benchmarks`);
    for (const b of mod.benchmarks) {
      if (filters.length && !filters.some((x) => f.includes(x) || b.name.includes(x))) continue;
      out.push({ file: f, bench: b });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const [load1] = loadavg();
  const cores = cpus().length;
  console.log(
    `bench: node ${process.version}, ${cores} cores (${cpus()[0]?.model ?? '?'}), load average ${load1!.toFixed(2)}`,
  );
  if (load1! > 0.5 * cores) console.warn('bench: the machine is busy; figures will be low and noisy');
  const list = await loadBenchmarks(o.filters);
  const names = new Set<string>();
  for (const { bench } of list) {
    if (names.has(bench.name)) throw new Error(`bench: duplicate name ${bench.name}`);
    names.add(bench.name);
  }
  const results: BenchResult[] = [];
  for (const { file, bench } of list) {
    process.stdout.write(`  ${bench.name} …`);
    const r = await measure(file, bench, o);
    process.stdout.write(` ${si(r.opsPerSec)}${r.unit}/s\n`);
    results.push(r);
  }
  const byName = new Map(results.map((r) => [r.name, r]));
  const final = results.map((r) => {
    const base = r.baseline === undefined ? undefined : byName.get(r.baseline);
    return base ? { ...r, ratio: r.opsPerSec / base.opsPerSec } : r;
  });
  console.log('');
  const rows = table(final);
  printText(rows);
  if (o.json) {
    const meta = {
      node: process.version,
      cores,
      cpu: cpus()[0]?.model,
      loadAverage: load1,
      date: new Date().toISOString(),
    };
    writeFileSync(o.json, `${JSON.stringify({ meta, results: final }, null, 2)}\n`);
  }
  if (o.md) {
    const head =
      `## Microbenchmarks (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)\n\n` +
      `${cpus()[0]?.model ?? '?'}, ${cores} cores, Node ${process.version}, load average ${load1!.toFixed(2)} at the start; ` +
      `one core, median of ${o.samples} samples of ${o.sampleMs} ms (min–max beside it).\n\n`;
    writeFileSync(o.md, `${head}${markdown(rows)}\n`);
  }
  if (blackhole.value === Number.MIN_VALUE) console.log(''); // keeps the sink observable
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
