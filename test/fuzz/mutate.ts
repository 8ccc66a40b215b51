/**
 * Seeded mutation fuzzing (docs/style.md §5.4). @jazzer.js does not run on this
 * glibc, so we mutate a corpus of valid packets with a deterministic PRNG:
 * bit flips, byte sets, truncation, extension, length-field tweaks and
 * splices. The property is always the same: a decoder returns a value or
 * throws `WireError`, and nothing else.
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
    switch (pick(8)) {
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
}

/**
 * Runs `decode` over `iterations` mutations of `corpus`. Throws (with the
 * offending input in hex) if anything other than `WireError` escapes.
 */
export function fuzzDecoder(
  decode: (b: Uint8Array) => unknown,
  corpus: readonly Uint8Array[],
  iterations: number,
  seed: number,
): FuzzResult {
  const rnd = prng(seed);
  let decoded = 0;
  let rejected = 0;
  for (let i = 0; i < iterations; i++) {
    const input = mutate(corpus, rnd);
    try {
      decode(input);
      decoded++;
    } catch (e) {
      if (e instanceof WireError) {
        rejected++;
        continue;
      }
      const hex = Buffer.from(input).toString('hex');
      throw new Error(`decoder threw ${String(e)} on input ${hex} (seed ${seed}, iteration ${i})`, {
        cause: e,
      });
    }
  }
  return { iterations, decoded, rejected };
}

/** Iterations per decoder: about 10k in `npm test`, FUZZ_ITERATIONS in `npm run fuzz`. */
export function fuzzIterations(): number {
  const env = process.env.FUZZ_ITERATIONS;
  return env ? Number(env) : 10_000;
}

/** One fuzz target: a decoder and a corpus of valid inputs. Files in test/fuzz/targets/ export `targets: FuzzTarget[]`. */
export interface FuzzTarget {
  name: string;
  decode: (b: Uint8Array) => unknown;
  corpus: readonly Uint8Array[];
}
