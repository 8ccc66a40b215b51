import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytesPooled, randomUint32 } from '../../src/crypto/random.js';

describe('crypto/random: the pooled CSPRNG', () => {
  it('gives the length asked for, below, at and above the pool size, each a new array', () => {
    for (const n of [0, 1, 4, 16, 4095, 4096, 4097, 100_000]) {
      const a = randomBytesPooled(n);
      assert.ok(a instanceof Uint8Array);
      assert.equal(a.length, n);
      assert.equal(a.byteOffset, 0, 'not a view into the pool');
    }
  });

  it('never repeats a 16-byte value over 100,000 draws (across many pool refills)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(Buffer.from(randomBytesPooled(16)).toString('hex'));
    assert.equal(seen.size, 100_000);
  });

  it('spreads its bytes evenly (chi-square over 1 MiB drawn 13 bytes at a time)', () => {
    const counts = new Array<number>(256).fill(0);
    let total = 0;
    while (total < 1 << 20) {
      for (const b of randomBytesPooled(13)) counts[b]!++;
      total += 13;
    }
    const expected = total / 256;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 255 degrees of freedom: 99.99 % of uniform samples fall below 360.
    assert.ok(chi2 < 360, `chi-square ${chi2.toFixed(1)}`);
  });

  it('randomUint32 is an unsigned 32-bit integer that uses the top bit', () => {
    let top = 0;
    for (let i = 0; i < 1000; i++) {
      const v = randomUint32();
      assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, String(v));
      if (v >= 0x80000000) top++;
    }
    assert.ok(top > 400 && top < 600, `${top} of 1000 above 2^31`);
  });
});
