/**
 * The microbenchmark contract. Each file bench/micro/<area>.ts exports
 *
 * ```ts
 * export const benchmarks: Benchmark[] = [...]
 * ```
 *
 * and `npm run bench` (bench/run.ts) runs them all, one at a time on the
 * main thread (one core), and prints a table. A benchmark prepares its state
 * in `setup()` (untimed) and returns a function that performs `n`
 * operations; the harness picks `n` so each timed sample lasts about
 * `sampleMs`, discards a warm-up, and reports the median of several samples.
 *
 * Keep the timed function honest: do the real work on every iteration,
 * consume its result (so the JIT cannot drop it), and check the output once
 * in `setup()` so a broken path cannot post a good figure.
 */

/** Performs `n` operations. */
export type BenchFn = (n: number) => void;

export interface Benchmark {
  /** Unique in the run, e.g. `data: encapsulate 1400 B`. */
  readonly name: string;
  /** What one operation is, plural, for the table (default `ops`): `packets`, `frames`, `keys`... */
  readonly unit?: string;
  /** Payload bytes per operation: when set, the table shows Gbit/s. */
  readonly bytesPerOp?: number;
  /** Name of another benchmark in the same run to show this one's speed ratio against. */
  readonly baseline?: string;
  /** A target in operations per second, printed next to the result (never asserted). */
  readonly targetOpsPerSec?: number;
  /** Untimed preparation; returns the timed function. */
  setup(): BenchFn | Promise<BenchFn>;
  /** Untimed clean-up after the samples. */
  teardown?(): void | Promise<void>;
}

/** One measured benchmark. */
export interface BenchResult {
  readonly file: string;
  readonly name: string;
  readonly unit: string;
  /** Operations per second: median, minimum and maximum over the samples. */
  readonly opsPerSec: number;
  readonly minOpsPerSec: number;
  readonly maxOpsPerSec: number;
  readonly nsPerOp: number;
  /** Gbit/s of payload at the median, when `bytesPerOp` is set. */
  readonly gbitPerSec?: number;
  readonly baseline?: string;
  /** opsPerSec / baseline's opsPerSec. */
  readonly ratio?: number;
  readonly targetOpsPerSec?: number;
  readonly samples: number;
  readonly opsPerSample: number;
}

/**
 * A value the timed loops write into so the JIT cannot prove their work
 * dead. Read it after the run (the harness does) to keep it observable.
 */
export const blackhole = { value: 0 };
