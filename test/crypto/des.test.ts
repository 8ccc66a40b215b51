/**
 * DES for MS-CHAP: parity expansion against RFC 2759 §9.3 / RFC 2433 §B.3,
 * and DES-ECB against the classic FIPS 81 known answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desEncrypt, desEncryptBlock, desExpandKey } from '../../src/crypto/des.js';
import { fromHex, toHex, utf8 } from '../../src/wire/bytes.js';

describe('DES for MS-CHAP', () => {
  it('inserts odd parity: RFC 2759 §9.3 first key', () => {
    assert.equal(toHex(desExpandKey(fromHex('FC 15 6A F7 ED CD 6C'))), 'fd0b5b5e7f6e34d9');
  });
  it('inserts odd parity: RFC 2759 §9.3 second key', () => {
    assert.equal(toHex(desExpandKey(fromHex('0E DD E3 33 7D 42 7F'))), '0e6e796737ea08fe');
  });
  it('every expanded byte has odd parity and carries 7 key bits in order', () => {
    const k = fromHex('ff 00 ff 00 ff 00 ff');
    const e = desExpandKey(k);
    for (const b of e) {
      let ones = 0;
      for (let v = b; v; v >>= 1) ones += v & 1;
      assert.equal(ones % 2, 1);
    }
    let bits = '';
    for (const b of e) bits += (b >> 1).toString(2).padStart(7, '0');
    let want = '';
    for (const b of k) want += b.toString(2).padStart(8, '0');
    assert.equal(bits, want);
  });
  it('DES-ECB known answer: key 0123456789abcdef, "Now is t" → 3fa40e8a984d4815 (FIPS 81)', () => {
    assert.equal(toHex(desEncryptBlock(utf8('Now is t'), fromHex('0123456789abcdef'))), '3fa40e8a984d4815');
  });
  it('desEncrypt(7-byte key) equals desEncryptBlock(expanded key)', () => {
    const k7 = fromHex('0E DD E3 33 7D 42 7F');
    assert.equal(
      toHex(desEncrypt(utf8('KGS!@#$%'), k7)),
      toHex(desEncryptBlock(utf8('KGS!@#$%'), desExpandKey(k7))),
    );
  });
  it('rejects wrong sizes', () => {
    assert.throws(() => desEncrypt(new Uint8Array(7), new Uint8Array(7)), RangeError);
    assert.throws(() => desEncrypt(new Uint8Array(8), new Uint8Array(8)), RangeError);
  });
});
