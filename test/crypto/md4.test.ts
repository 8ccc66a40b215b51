/**
 * MD4 (src/crypto/md4.ts) against the RFC 1320 §A.5 test suite, and
 * differentially against the js-md4 package over every length that
 * exercises the padding boundaries (55/56/64 bytes and multiples).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { md4 } from '../../src/crypto/md4.js';
import { toHex, utf8 } from '../../src/wire/bytes.js';
import { prng } from '../fuzz/mutate.js';

const require = createRequire(import.meta.url);
const jsMd4 = require('js-md4') as { hex(message: Uint8Array): string };

describe('MD4 (RFC 1320)', () => {
  // RFC 1320 §A.5 "Test suite".
  const suite: [string, string][] = [
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
    ['1234567890'.repeat(8), 'e33b4ddc9c38f2199c3e7b164fcc0536'],
  ];
  for (const [msg, digest] of suite) {
    it(`MD4("${msg.length > 20 ? `${msg.slice(0, 20)}…` : msg}") = ${digest}`, () => {
      assert.equal(toHex(md4(utf8(msg))), digest);
    });
  }

  it('agrees with js-md4 for every length 0..300 (padding boundaries) and random content', () => {
    const rnd = prng(1320);
    for (let n = 0; n <= 300; n++) {
      const m = new Uint8Array(n);
      for (let i = 0; i < n; i++) m[i] = Math.floor(rnd() * 256);
      assert.equal(toHex(md4(m)), jsMd4.hex(m), `length ${n}`);
    }
  });

  it('hashes a view without reading outside it', () => {
    const big = utf8('xxabcyy');
    assert.equal(toHex(md4(big.subarray(2, 5))), 'a448017aaf21d8525fc10ae87aa6729d');
  });
});
