/**
 * RC4 (src/crypto/rc4.ts) against published vectors (RFC 6229 and the
 * classic ones), and its re-keying, streaming and bounds behaviour.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rc4, rc4Encrypt } from '../../src/crypto/rc4.js';
import { fromHex, toHex, utf8 } from '../../src/wire/bytes.js';

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
