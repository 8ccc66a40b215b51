/**
 * A seeded PRNG for the fakes (fault injection, TCP re-chunking), so a test
 * run is reproducible from its seed. mulberry32: 32 bits of state, fast, and
 * good enough to pick which packet to drop; never for cryptography.
 */
export type Random = () => number;

/** Returns a generator of floats in [0, 1) determined by `seed`. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randomInt(rnd: Random, n: number): number {
  return Math.floor(rnd() * n);
}
