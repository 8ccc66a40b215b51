/**
 * Seeded mutation fuzzing (docs/style.md §5.4). @jazzer.js does not run on this
 * glibc, so we mutate a corpus of valid packets with a deterministic PRNG:
 * bit flips, byte sets, truncation, extension, length-field tweaks (off by
 * one, zero, all ones, the input's own length), splices and repeats. For a
 * decoder the property is that it returns a value or throws `WireError`,
 * and nothing else; for an engine (`FuzzTarget.engine`) nothing at all may
 * escape. Every input must also finish within a time bound (a hang), and a
 * target's `check` asserts that its state stays within its caps (growth).
 */

import { seededRandom } from '../../src/io/memory/random.js';
import { WireError } from '../../src/wire/errors.js';

/** mulberry32: small, fast, seeded (the in-memory fakes' own generator). */
export const prng = seededRandom;

const INTERESTING = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff];

/** Returns a mutated copy of one of `corpus`. */
export function mutate(corpus: readonly Uint8Array[], rnd: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rnd() * n);
  let b = corpus[pick(corpus.length)]!.slice();
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    switch (pick(9)) {
      case 0: // bit flip
        if (b.length) b[pick(b.length)]! ^= 1 << pick(8);
        break;
      case 1: // random byte
        if (b.length) b[pick(b.length)] = pick(256);
        break;
      case 2: // interesting byte (length fields live here)
        if (b.length) b[pick(b.length)] = INTERESTING[pick(INTERESTING.length)]!;
        break;
      case 3: // truncate
        b = b.slice(0, pick(b.length + 1));
        break;
      case 4: {
        // extend with random bytes
        const ext = new Uint8Array(1 + pick(16));
        for (let i = 0; i < ext.length; i++) ext[i] = pick(256);
        const nb = new Uint8Array(b.length + ext.length);
        nb.set(b);
        nb.set(ext, b.length);
        b = nb;
        break;
      }
      case 5: // 16-bit field tweak: ±1, 0, 0xffff
        if (b.length >= 2) {
          const i = pick(b.length - 1);
          const v = (b[i]! << 8) | b[i + 1]!;
          const nv = [v + 1, v - 1, 0, 0xffff, b.length, b.length + 1][pick(6)]! & 0xffff;
          b[i] = nv >>> 8;
          b[i + 1] = nv & 0xff;
        }
        break;
      case 6: {
        // splice with another corpus entry
        const o = corpus[pick(corpus.length)]!;
        const cut = pick(b.length + 1);
        const from = pick(o.length + 1);
        const nb = new Uint8Array(cut + o.length - from);
        nb.set(b.subarray(0, cut));
        nb.set(o.subarray(from), cut);
        b = nb;
        break;
      }
      case 7: {
        // repeat a range 2–4 times (a message sent again and again)
        if (b.length === 0) break;
        const s = pick(b.length);
        const e = s + 1 + pick(Math.min(64, b.length - s));
        const times = 2 + pick(3);
        const nb = new Uint8Array(b.length + (e - s) * (times - 1));
        nb.set(b.subarray(0, e));
        for (let t = 1; t < times; t++) nb.set(b.subarray(s, e), e + (t - 1) * (e - s));
        nb.set(b.subarray(e), e + (times - 1) * (e - s));
        b = nb;
        break;
      }
      default: {
        // delete a range
        if (b.length > 1) {
          const s = pick(b.length);
          const e = s + 1 + pick(Math.min(8, b.length - s));
          const nb = new Uint8Array(b.length - (e - s));
          nb.set(b.subarray(0, s));
          nb.set(b.subarray(e), s);
          b = nb;
        }
      }
    }
  }
  return b;
}

export interface FuzzResult {
  iterations: number;
  decoded: number;
  rejected: number;
  /** The slowest single input, ms. */
  slowestMs: number;
}

export interface FuzzOptions {
  /** Stop after this many inputs. */
  iterations: number;
  /** Also stop once this many ms have passed (default: no time limit). */
  timeLimitMs?: number;
  seed: number;
  /** One input taking longer than this is a hang (default 2,000 ms). */
  maxInputMs?: number;
  /** Called about every `progressEvery` inputs with the count so far. */
  onProgress?: (done: number) => void;
  progressEvery?: number;
  /** Slot 0 gets the number of the input being run (for a watchdog thread that catches an input that never returns). */
  heartbeat?: Int32Array;
}

/** Inputs between two `check` calls (state-size assertions). */
const CHECK_EVERY = 256;

function failure(what: string, input: Uint8Array, seed: number, i: number, cause?: unknown): Error {
  const hex = Buffer.from(input).toString('hex');
  return new Error(`${what} on input ${hex} (seed ${seed}, iteration ${i})`, { cause });
}

/**
 * Runs a target over mutations of its corpus. Throws (with the offending
 * input in hex) when anything but `WireError` escapes a decoder, anything at
 * all escapes an engine, one input takes longer than `maxInputMs`, or the
 * target's `check` fails.
 */
export function fuzzTarget(t: FuzzTarget, opts: FuzzOptions): FuzzResult {
  const rnd = prng(opts.seed);
  const maxInputMs = opts.maxInputMs ?? 2000;
  const deadline = opts.timeLimitMs === undefined ? Infinity : performance.now() + opts.timeLimitMs;
  const progressEvery = opts.progressEvery ?? 1 << 20;
  let decoded = 0;
  let rejected = 0;
  let slowestMs = 0;
  let i = 0;
  for (; i < opts.iterations; i++) {
    const input = mutate(t.corpus, rnd);
    if (opts.heartbeat) opts.heartbeat[0] = i + 1;
    const t0 = performance.now();
    try {
      t.decode(input);
      decoded++;
    } catch (e) {
      if (e instanceof WireError && !t.engine) rejected++;
      else throw failure(`${t.engine ? 'engine' : 'decoder'} threw ${String(e)}`, input, opts.seed, i, e);
    }
    const t1 = performance.now();
    const ms = t1 - t0;
    if (ms > slowestMs) {
      slowestMs = ms;
      if (ms > maxInputMs) throw failure(`hang: one input took ${ms.toFixed(0)} ms`, input, opts.seed, i);
    }
    if (t.check && i % CHECK_EVERY === CHECK_EVERY - 1) {
      try {
        t.check();
      } catch (e) {
        throw failure(`state check failed: ${(e as Error).message}`, input, opts.seed, i, e);
      }
    }
    if (i % progressEvery === progressEvery - 1) {
      opts.onProgress?.(i + 1);
      if (t1 > deadline) {
        i++;
        break;
      }
    } else if ((i & 1023) === 1023 && t1 > deadline) {
      i++;
      break;
    }
  }
  t.check?.();
  return { iterations: i, decoded, rejected, slowestMs };
}

/** `fuzzTarget` for a plain decoder and corpus (the original interface). */
export function fuzzDecoder(
  decode: (b: Uint8Array) => unknown,
  corpus: readonly Uint8Array[],
  iterations: number,
  seed: number,
): FuzzResult {
  return fuzzTarget({ name: 'decoder', decode, corpus }, { iterations, seed });
}

/** Iterations per target: about 10k in `npm test`, FUZZ_ITERATIONS to change it. */
export function fuzzIterations(): number {
  const env = process.env.FUZZ_ITERATIONS;
  return env ? Number(env) : 10_000;
}

/**
 * One fuzz target: a decoder or an engine and a corpus of valid inputs.
 * Files in test/fuzz/targets/ export `targets: FuzzTarget[]`.
 */
export interface FuzzTarget {
  name: string;
  /** Feeds one input; a decoder may throw `WireError`, an engine nothing. */
  decode: (b: Uint8Array) => unknown;
  corpus: readonly Uint8Array[];
  /** An engine drops and counts bad input: any exception is a crash. */
  engine?: boolean;
  /** Asserts the target's state is within its caps (throws otherwise); run every 256 inputs and at the end. */
  check?: () => void;
}
