/**
 * `npm run fuzz -- [--budget N | --budget Ns] [--max-seconds N] [--target NAME]... [--shard I/N] [--seed N] [--max-input-ms N]`
 *
 * Runs every fuzz target (decoders and engines, test/fuzz/targets/*.ts)
 * over structure-aware mutations of its corpus and prints, per target, the
 * inputs run, inputs/s, how many were accepted and rejected, and the
 * slowest input; then the totals. `--budget` is inputs per target (default
 * 2,000,000) or, with an `s` suffix, seconds per target; `--max-seconds`
 * also caps a count budget's time per target (for a long run that must end
 * by a given hour: each target then gets its share). `--target` keeps
 * the targets whose name contains NAME (case-insensitive; repeatable);
 * `--shard I/N` every N-th of them from the I-th (0-based), to spread a
 * long run over N processes.
 * Exit status 1 when any target crashed, hung or grew past its caps; 2 for
 * a bad command line. An input that never returns (a loop the per-input
 * bound cannot see, as it is measured after the input) is caught by a
 * watchdog thread, which prints the target, seed and input number and kills
 * the process (exit status 137).
 */
import { Worker } from 'node:worker_threads';
import { loadFuzzTargets } from './load.js';
import { fuzzTarget } from './mutate.js';

function usage(message: string): never {
  console.error(`fuzz: ${message}`);
  console.error(
    'usage: npm run fuzz -- [--budget N|Ns] [--max-seconds N] [--target NAME]... [--shard I/N] [--seed N] [--max-input-ms N]',
  );
  process.exit(2);
}

let iterations = 2_000_000;
let timeLimitMs: number | undefined;
let seed = Date.now() % 1_000_000;
let maxInputMs = 2000;
const names: string[] = [];
let shard: [number, number] = [0, 1];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  const value = (): string => {
    const v = args[++i];
    if (v === undefined) usage(`${a} needs a value`);
    return v;
  };
  const integer = (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) usage(`${a}: not a positive integer: ${v}`);
    return n;
  };
  if (a === '--budget') {
    const v = value();
    if (v.endsWith('s')) {
      iterations = Number.MAX_SAFE_INTEGER;
      timeLimitMs = integer(v.slice(0, -1)) * 1000;
    } else {
      iterations = integer(v);
    }
  } else if (a === '--target') names.push(value().toLowerCase());
  else if (a === '--max-seconds') timeLimitMs = integer(value()) * 1000;
  else if (a === '--shard') {
    const m = /^(\d+)\/(\d+)$/.exec(value());
    if (!m || Number(m[1]) >= Number(m[2])) usage('--shard wants I/N with I < N');
    shard = [Number(m[1]), Number(m[2])];
  } else if (a === '--seed') seed = integer(value());
  else if (a === '--max-input-ms') maxInputMs = integer(value());
  else usage(`unknown argument ${a}`);
}

const all = await loadFuzzTargets();
const targets = (
  names.length ? all.filter((t) => names.some((n) => t.name.toLowerCase().includes(n))) : all
).filter((_, i) => i % shard[1] === shard[0]);
if (targets.length === 0) usage(`no target matches ${names.join(', ')}`);
const budget = [
  ...(iterations < Number.MAX_SAFE_INTEGER ? [`${iterations} inputs`] : []),
  ...(timeLimitMs !== undefined ? [`${timeLimitMs / 1000} s`] : []),
].join(' or ');
console.log(
  `fuzz: ${targets.length} targets, ${budget} each, seed ${seed}, started ${new Date().toISOString()}`,
);

// Each target's seed depends on its name, not its position, so `--target` reproduces a full run.
const seeds = targets.map((t) => {
  let h = seed;
  for (let k = 0; k < t.name.length; k++) h = (Math.imul(h, 31) + t.name.charCodeAt(k)) >>> 0;
  return h;
});

// [input number, target index]: written by this thread, read by the watchdog.
const heartbeat = new Int32Array(new SharedArrayBuffer(8));
const watchdog = new Worker(
  `const { workerData: w } = require('node:worker_threads');
  const { writeSync } = require('node:fs');
  const beat = new Int32Array(w.buffer);
  let last = -1, target = -1, since = Date.now();
  setInterval(() => {
    if (beat[0] !== last || beat[1] !== target) { last = beat[0]; target = beat[1]; since = Date.now(); return; }
    const ms = Date.now() - since;
    if (last > 0 && ms > w.limitMs) {
      writeSync(2, 'fuzz: HANG: ' + w.names[target] + ' (seed ' + w.seeds[target] + '): input ' + (last - 1) + ' still running after ' + ms + ' ms\\n');
      process.kill(process.pid, 'SIGKILL');
    }
  }, 100);`,
  {
    eval: true,
    workerData: {
      buffer: heartbeat.buffer,
      limitMs: maxInputMs * 2,
      names: targets.map((t) => t.name),
      seeds,
    },
  },
);
watchdog.unref();

let failed = 0;
let total = 0;
const started = performance.now();
for (const [index, t] of targets.entries()) {
  const h = seeds[index]!;
  heartbeat[0] = 0;
  heartbeat[1] = index;
  const t0 = performance.now();
  try {
    const r = fuzzTarget(t, {
      iterations,
      ...(timeLimitMs !== undefined ? { timeLimitMs } : {}),
      seed: h,
      maxInputMs,
      heartbeat,
      progressEvery: 1 << 20,
      onProgress: (n) =>
        console.error(`  … ${t.name}: ${n} inputs, ${((performance.now() - t0) / 1000).toFixed(0)} s`),
    });
    const s = (performance.now() - t0) / 1000;
    total += r.iterations;
    console.log(
      `  ${t.name.padEnd(58)} ${String(r.iterations).padStart(10)} inputs ${String(Math.round(r.iterations / s)).padStart(8)}/s` +
        `  accepted ${r.decoded} rejected ${r.rejected}  slowest ${r.slowestMs.toFixed(1)} ms  (seed ${h})`,
    );
  } catch (e) {
    failed++;
    console.error(`  ${t.name}: FAILED ${(e as Error).message}`);
  }
}
const s = (performance.now() - started) / 1000;
console.log(
  `fuzz: ${total} inputs over ${targets.length} targets in ${s.toFixed(0)} s, ${failed} failed, finished ${new Date().toISOString()}`,
);
process.exit(failed ? 1 : 0);
