/**
 * Byte strings (src/ppp/byte-string.ts): one character per byte, for every
 * byte value and across the 4096-byte chunks the conversion works in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromLatin1Text, latin1Equals, toLatin1 } from '../../src/ppp/byte-string.js';
import { prng } from '../fuzz/mutate.js';

function reference(bytes: Uint8Array): string {
  const chars: string[] = [];
  for (const b of bytes) chars.push(String.fromCharCode(b));
  return chars.join('');
}

describe('byte strings', () => {
  it('map every byte value to the character of the same code, and back', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const s = toLatin1(all);
    assert.equal(s.length, 256);
    for (let i = 0; i < 256; i++) assert.equal(s.charCodeAt(i), i);
    assert.deepEqual(fromLatin1Text(s), all);
    assert.ok(latin1Equals(all, s));
  });

  it('convert views and lengths around the chunk size like a byte-by-byte reference', () => {
    const rnd = prng(4096);
    for (const n of [0, 1, 59, 4095, 4096, 4097, 8192, 10_000]) {
      const backing = new Uint8Array(n + 7);
      for (let i = 0; i < backing.length; i++) backing[i] = Math.floor(rnd() * 256);
      const view = backing.subarray(3, 3 + n);
      const s = toLatin1(view);
      assert.equal(s, reference(view), `length ${n}`);
      assert.ok(latin1Equals(view, s));
      if (n > 0) {
        const other = view.slice();
        other[n - 1] ^= 1;
        assert.ok(!latin1Equals(other, s), 'a changed last byte is seen');
      }
    }
  });
});
