/**
 * SHA-1: the allocation-free `Sha1` (used by the MPPE rekey) against FIPS
 * 180-1 vectors and against node:crypto for many lengths and split points.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { getNewKeyDigest, SHA1_DIGEST_LENGTH, Sha1, sha1 } from '../../src/crypto/sha1.js';
import { toHex, utf8 } from '../../src/wire/bytes.js';
import { prng } from '../fuzz/mutate.js';

function ours(...parts: Uint8Array[]): string {
  const h = new Sha1();
  for (const p of parts) h.update(p);
  const out = new Uint8Array(SHA1_DIGEST_LENGTH);
  h.digestInto(out);
  return toHex(out);
}

describe('SHA-1 (FIPS 180-1)', () => {
  // FIPS 180-1 Appendix A and B.
  it('"abc"', () => assert.equal(ours(utf8('abc')), 'a9993e364706816aba3e25717850c26c9cd0d89d'));
  it('the 448-bit message of Appendix B', () =>
    assert.equal(
      ours(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')),
      '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    ));
  it('one million "a" (Appendix C), fed in uneven pieces', () => {
    const h = new Sha1();
    const chunk = new Uint8Array(997).fill(0x61);
    let left = 1_000_000;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      h.update(chunk, 0, n);
      left -= n;
    }
    const out = new Uint8Array(20);
    h.digestInto(out);
    assert.equal(toHex(out), '34aa973cd4c4daa4f61eeb2bdbad27316534016f');
  });

  it('matches node:crypto for lengths 0..200 at every split point family', () => {
    const rnd = prng(1801);
    for (let n = 0; n <= 200; n++) {
      const m = new Uint8Array(n);
      for (let i = 0; i < n; i++) m[i] = Math.floor(rnd() * 256);
      const want = createHash('sha1').update(m).digest('hex');
      const cut = Math.floor(rnd() * (n + 1));
      assert.equal(ours(m.subarray(0, cut), m.subarray(cut)), want, `length ${n} split ${cut}`);
      assert.equal(toHex(sha1(m)), want);
    }
  });

  it('the one-shot sha1() over several parts matches node:crypto, and each digest is its own array', () => {
    const rnd = prng(2759);
    const digests: Uint8Array[] = [];
    const wants: string[] = [];
    for (let k = 0; k < 300; k++) {
      const parts = Array.from({ length: Math.floor(rnd() * 5) }, () => {
        const p = new Uint8Array(Math.floor(rnd() * 90));
        for (let i = 0; i < p.length; i++) p[i] = Math.floor(rnd() * 256);
        return p;
      });
      const h = createHash('sha1');
      for (const p of parts) h.update(p);
      wants.push(h.digest('hex'));
      digests.push(sha1(...parts));
    }
    // Read after all 300 calls: a digest that shared the hasher's state would have changed.
    assert.deepEqual(
      digests.map((d) => toHex(d)),
      wants,
    );
  });

  it('updateRepeated equals update with the repeated bytes (the MPPE pads)', () => {
    const h = new Sha1();
    const key = utf8('0123456789abcdef');
    h.update(key);
    h.updateRepeated(0x00, 40);
    h.update(key);
    h.updateRepeated(0xf2, 40);
    const out = new Uint8Array(20);
    h.digestInto(out);
    const want = createHash('sha1')
      .update(key)
      .update(new Uint8Array(40))
      .update(key)
      .update(new Uint8Array(40).fill(0xf2))
      .digest('hex');
    assert.equal(toHex(out), want);
  });

  it('digestInto writes at an offset and resets for the next message', () => {
    const h = new Sha1();
    const out = new Uint8Array(30).fill(0xa5);
    h.update(utf8('abc'));
    h.digestInto(out, 5);
    assert.equal(toHex(out.subarray(5, 25)), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.ok(out.subarray(0, 5).every((b) => b === 0xa5) && out.subarray(25).every((b) => b === 0xa5));
    h.update(utf8('abc'));
    h.digestInto(out, 0);
    assert.equal(toHex(out.subarray(0, 20)), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  });
});

describe('getNewKeyDigest (the digest of MPPE GetNewKeyFromSHA, RFC 3078 §7.3)', () => {
  it('equals node:crypto over StartKey ‖ 40 × 0x00 ‖ SessionKey ‖ 40 × 0xF2 for key lengths 1–64, at offsets', () => {
    const rand = prng(3078);
    const byte = () => Math.floor(rand() * 256);
    for (let n = 1; n <= 64; n++) {
      for (let trial = 0; trial < 3; trial++) {
        const start = Uint8Array.from({ length: n + 7 }, byte);
        const session = Uint8Array.from({ length: n + 5 }, byte);
        const so = trial;
        const ss = (trial * 2) % 5;
        const out = new Uint8Array(27).fill(0xa5);
        getNewKeyDigest(start, so, session, ss, n, out, 3);
        const want = createHash('sha1')
          .update(start.subarray(so, so + n))
          .update(new Uint8Array(40))
          .update(session.subarray(ss, ss + n))
          .update(new Uint8Array(40).fill(0xf2))
          .digest('hex');
        assert.equal(toHex(out.subarray(3, 23)), want, `n ${n} trial ${trial}`);
        assert.ok(out.subarray(0, 3).every((b) => b === 0xa5) && out.subarray(23).every((b) => b === 0xa5));
      }
    }
  });
  it('refuses keys or output out of range', () => {
    const k = new Uint8Array(16);
    const out = new Uint8Array(20);
    assert.throws(() => getNewKeyDigest(k, 1, k, 0, 16, out), RangeError);
    assert.throws(() => getNewKeyDigest(k, 0, k, 0, 0, out), RangeError);
    assert.throws(() => getNewKeyDigest(k, 0, k, 0, 16, out, 1), RangeError);
  });
});
