/**
 * RC4 (src/crypto/rc4.ts) against published vectors (RFC 6229 and the
 * classic ones), and its re-keying, streaming and bounds behaviour.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rc4, rc4Encrypt } from '../../src/crypto/rc4.js';
import { fromHex, toHex, utf8 } from '../../src/wire/bytes.js';

/** RC4 as the textbook writes it (KSA, then PRGA byte by byte), an independent reference. */
function naiveRc4(key: Uint8Array, input: Uint8Array): Uint8Array {
  const S = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + S[i]! + key[i % key.length]!) % 256;
    [S[i], S[j]] = [S[j]!, S[i]!];
  }
  const out = new Uint8Array(input.length);
  for (let n = 0, i = 0, j = 0; n < input.length; n++) {
    i = (i + 1) % 256;
    j = (j + S[i]!) % 256;
    [S[i], S[j]] = [S[j]!, S[i]!];
    out[n] = input[n]! ^ S[(S[i]! + S[j]!) % 256]!;
  }
  return out;
}

function keystream(key: Uint8Array, n: number): Uint8Array {
  const z = new Uint8Array(n);
  new Rc4(key).process(z);
  return z;
}

describe('RC4', () => {
  it('RFC 6229 40-bit key 0102030405, offsets 0 and 16', () => {
    const ks = keystream(fromHex('0102030405'), 32);
    assert.equal(toHex(ks.subarray(0, 16)), 'b2396305f03dc027ccc3524a0a1118a8');
    assert.equal(toHex(ks.subarray(16, 32)), '6982944f18fc82d589c403a47a0d0919');
  });
  it('RFC 6229 128-bit key 0102…10, offset 0', () => {
    const ks = keystream(fromHex('0102030405060708090a0b0c0d0e0f10'), 16);
    assert.equal(toHex(ks), '9ac7cc9a609d1ef7b2932899cde41b97');
  });
  it('classic vectors: Key/Plaintext, Wiki/pedia, Secret/Attack at dawn', () => {
    assert.equal(toHex(rc4Encrypt(utf8('Plaintext'), utf8('Key'))), 'bbf316e8d940af0ad3');
    assert.equal(toHex(rc4Encrypt(utf8('pedia'), utf8('Wiki'))), '1021bf0420');
    assert.equal(toHex(rc4Encrypt(utf8('Attack at dawn'), utf8('Secret'))), '45a01f645fc35b383552544b9bf5');
  });
  it('streams: any split of the input gives the same output (unrolled and tail paths)', () => {
    const key = utf8('split key');
    const whole = keystream(key, 1000);
    for (const cuts of [[1], [3, 4], [5, 6, 7, 8], [997], [0, 0, 1000]]) {
      const r = new Rc4(key);
      const buf = new Uint8Array(1000);
      let at = 0;
      for (const c of cuts) {
        const end = Math.min(1000, at + c);
        r.process(buf, at, end);
        at = end;
      }
      r.process(buf, at, 1000);
      assert.equal(toHex(buf), toHex(whole), `cuts ${cuts.join(',')}`);
    }
  });
  it('setKey re-keys in place and restarts the stream; a key slice is honoured', () => {
    const r = new Rc4(utf8('first'));
    r.process(new Uint8Array(77));
    const backing = utf8('xxKeyyy');
    r.setKey(backing, 2, 3);
    const out = utf8('Plaintext');
    r.process(out);
    assert.equal(toHex(out), 'bbf316e8d940af0ad3');
  });
  it('agrees with a textbook RC4 for every key length 1–40 and any alignment of the data in its buffer', () => {
    // The key schedule has a path for power-of-two key lengths (MPPE's 8 and
    // 16 bytes) and one for the rest; the keystream is XORed word by word
    // where the data is 4-byte aligned in its buffer and byte by byte around it.
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    for (let keyLength = 1; keyLength <= 40; keyLength++) {
      const key = Uint8Array.from({ length: keyLength }, () => rand(256));
      for (let trial = 0; trial < 6; trial++) {
        const backing = new ArrayBuffer(1600);
        const viewOffset = rand(8);
        const data = new Uint8Array(backing, viewOffset, 1500);
        for (let i = 0; i < data.length; i++) data[i] = rand(256);
        const before = data.slice();
        const start = rand(9);
        const end = start + [0, 1, 3, 31, 32, 33, 100, 1400][trial % 8]! + rand(4);
        const r = new Rc4(key);
        r.process(data, start, end);
        // Then more from the same stream, at another alignment.
        r.process(data, end, end + 37);
        const want = naiveRc4(key, before.subarray(start, end + 37));
        assert.equal(toHex(data.subarray(start, end + 37)), toHex(want), `key ${keyLength} trial ${trial}`);
        assert.equal(
          toHex(data.subarray(0, start)),
          toHex(before.subarray(0, start)),
          'nothing before start',
        );
        assert.equal(toHex(data.subarray(end + 37)), toHex(before.subarray(end + 37)), 'nothing after end');
      }
    }
  });
  it('rejects empty or out-of-range keys', () => {
    assert.throws(() => new Rc4(new Uint8Array(0)), RangeError);
    assert.throws(() => new Rc4().setKey(new Uint8Array(4), 2, 3), RangeError);
    assert.throws(() => new Rc4(new Uint8Array(257)), RangeError);
  });
});

describe('Rc4.copyFrom', () => {
  it('continues exactly where the original is, independently of it', () => {
    const a = new Rc4(utf8('copy me'));
    a.process(new Uint8Array(123));
    const b = new Rc4(utf8('something else'));
    b.copyFrom(a);
    const x = new Uint8Array(50);
    const y = new Uint8Array(50);
    a.process(x);
    b.process(y);
    assert.equal(toHex(x), toHex(y));
    b.process(new Uint8Array(7)); // advancing the copy leaves the original alone
    const x2 = new Uint8Array(5);
    const ref = new Rc4(utf8('copy me'));
    const skip = new Uint8Array(173);
    ref.process(skip);
    const y2 = new Uint8Array(5);
    a.process(x2);
    ref.process(y2);
    assert.equal(toHex(x2), toHex(y2));
  });
});
