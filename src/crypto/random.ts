/**
 * Random bytes from node:crypto's CSPRNG, drawn 4 KiB at a time.
 *
 * Every session set-up wants a few small random values (the CHAP/MS-CHAP
 * challenge, LCP's Magic-Number), and each `crypto.randomBytes(16)` call
 * costs about 17 µs on the machine the benchmarks run on, against 0.3 µs
 * for a slice of a pool filled by one `randomFillSync` (docs/sessions.md,
 * "Login storm"). Node keeps a similar cache for `crypto.randomUUID`.
 * Bytes handed out are zeroed in the pool, so it only ever holds values
 * nobody has seen yet.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let used = POOL_BYTES;

/** `n` random bytes (a new array). Requests larger than the pool are filled directly. */
export function randomBytesPooled(n: number): Uint8Array {
  if (n > POOL_BYTES) return randomFillSync(new Uint8Array(n));
  if (used + n > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const out = pool.slice(used, used + n);
  pool.fill(0, used, used + n);
  used += n;
  return out;
}

/** A random 32-bit unsigned integer. */
export function randomUint32(): number {
  const b = randomBytesPooled(4);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
