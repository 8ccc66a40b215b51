/**
 * RADIUS crypto: the RFC 2865 §7 vectors (User-Password hiding and the
 * Response Authenticator with secret "xyzzy5461"), RFC 2866 §3 Accounting
 * Request Authenticator computed independently, Message-Authenticator
 * (RFC 3579 §3.2) and RFC 2548 salt encryption. FreeRADIUS is the oracle
 * for the salt decryption and Message-Authenticator on real traffic
 * (test/system/radius-freeradius.test.ts).
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  computeMessageAuthenticator,
  hidePassword,
  RadiusCryptoError,
  revealPassword,
  saltDecrypt,
  saltEncrypt,
  signAccessRequest,
  signResponse,
  signZeroAuthenticatorRequest,
  verifyRequestMessageAuthenticator,
  verifyResponse,
  verifyZeroAuthenticatorRequest,
} from '../../src/crypto/radius.js';
import { fromHex, toHex, utf8 } from '../../src/wire/bytes.js';
import {
  AcctStatusType,
  decodeRadius,
  encodeRadius,
  getAttribute,
  integerAttribute,
  RadiusAttr,
  RadiusCode,
  textAttribute,
} from '../../src/wire/radius/index.js';
import {
  RFC2865_7_1_ACCEPT,
  RFC2865_7_1_REQUEST,
  RFC2865_7_2_ACCEPT,
  RFC2865_7_2_REQUEST,
} from '../wire/radius-vectors.js';

const XYZZY = 'xyzzy5461';

describe('RADIUS crypto: RFC 2865 §7 vectors', () => {
  it('§7.1 User-Password hides "arctangent" to the example bytes and reveals it back', () => {
    const p = decodeRadius(RFC2865_7_1_REQUEST);
    const hidden = getAttribute(p, RadiusAttr.UserPassword)!;
    assert.equal(toHex(hidePassword('arctangent', XYZZY, p.authenticator)), toHex(hidden));
    assert.equal(new TextDecoder().decode(revealPassword(hidden, XYZZY, p.authenticator)), 'arctangent');
  });

  it('§7.1 and §7.2 Access-Accept Response Authenticators verify against their requests', () => {
    for (const [req, acc] of [
      [RFC2865_7_1_REQUEST, RFC2865_7_1_ACCEPT],
      [RFC2865_7_2_REQUEST, RFC2865_7_2_ACCEPT],
    ] as const) {
      const ra = decodeRadius(req).authenticator;
      const check = verifyResponse(acc, XYZZY, ra);
      assert.deepEqual(check, { authenticator: true, messageAuthenticator: 'absent' });
      assert.equal(verifyResponse(acc, 'xyzzy5462', ra).authenticator, false);
      const tampered = acc.slice();
      tampered[tampered.length - 1]! ^= 1;
      assert.equal(verifyResponse(tampered, XYZZY, ra).authenticator, false);
      // Re-signing the unsigned reply reproduces the RFC's bytes.
      const copy = acc.slice();
      copy.fill(0, 4, 20);
      signResponse(copy, XYZZY, ra);
      assert.equal(toHex(copy), toHex(acc));
    }
  });
});

describe('RADIUS crypto: User-Password (RFC 2865 §5.2)', () => {
  it('round-trips every length 0..128 and pads to 16-octet blocks', () => {
    const ra = fromHex('00112233445566778899aabbccddeeff');
    for (let n = 0; n <= 128; n++) {
      const pw = utf8('p'.repeat(n));
      const h = hidePassword(pw, 'sec', ra);
      assert.equal(h.length, Math.max(16, Math.ceil(n / 16) * 16));
      assert.equal(toHex(revealPassword(h, 'sec', ra)), toHex(pw));
    }
    assert.throws(() => hidePassword(new Uint8Array(129), 'sec', ra), RangeError);
    for (const bad of [0, 15, 17, 144]) {
      assert.throws(() => revealPassword(new Uint8Array(bad), 'sec', ra), RadiusCryptoError);
    }
  });

  it('chains blocks: the second block depends on the first ciphertext, as b2 = MD5(S + c1)', () => {
    const ra = new Uint8Array(16).fill(7);
    const pw = utf8('0123456789abcdefXYZ');
    const h = hidePassword(pw, 'k', ra);
    const b1 = createHash('md5').update('k').update(ra).digest();
    const b2 = createHash('md5').update('k').update(h.subarray(0, 16)).digest();
    for (let i = 0; i < 16; i++) assert.equal(h[i], pw[i]! ^ b1[i]!);
    for (let i = 0; i < 3; i++) assert.equal(h[16 + i], pw[16 + i]! ^ b2[i]!);
    for (let i = 3; i < 16; i++) assert.equal(h[16 + i], b2[i], 'NUL padding');
  });
});

describe('RADIUS crypto: MS-MPPE-Send/Recv-Key salt encryption (RFC 2548 §2.4.2)', () => {
  const ra = fromHex('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf');
  it('round-trips 16- and 32-octet keys, forces the Salt high bit, pads to 16', () => {
    for (const n of [8, 16, 32]) {
      const key = new Uint8Array(n).map((_, i) => i * 7 + n);
      const v = saltEncrypt(key, 'secret', ra, Uint8Array.of(0x12, 0x34));
      assert.equal(v[0], 0x92, 'Salt high bit set');
      assert.equal((v.length - 2) % 16, 0);
      assert.equal(v.length, 2 + Math.ceil((n + 1) / 16) * 16);
      assert.equal(toHex(saltDecrypt(v, 'secret', ra)), toHex(key));
      // A wrong secret either fails the Key-Length check or yields other octets.
      let other: string;
      try {
        other = toHex(saltDecrypt(v, 'secres', ra));
      } catch (e) {
        assert.ok(e instanceof RadiusCryptoError);
        other = 'rejected';
      }
      assert.notEqual(other, toHex(key));
    }
  });

  it('the first block is P xor MD5(S + R + A), independently computed', () => {
    const key = new Uint8Array(16).fill(0x5a);
    const v = saltEncrypt(key, 'S', ra, Uint8Array.of(0x80, 0x01));
    const b1 = createHash('md5').update('S').update(ra).update(Uint8Array.of(0x80, 0x01)).digest();
    assert.equal(v[2]! ^ b1[0]!, 16, 'Key-Length');
    for (let i = 1; i < 16; i++) assert.equal(v[2 + i]! ^ b1[i]!, 0x5a);
  });

  it('rejects a clear Salt high bit, a String that is not a multiple of 16, and a Key-Length past the end', () => {
    const v = saltEncrypt(new Uint8Array(16), 'secret', ra, Uint8Array.of(0x80, 0));
    const low = v.slice();
    low[0] = 0x7f;
    assert.throws(() => saltDecrypt(low, 'secret', ra), /MUST be set/);
    assert.throws(() => saltDecrypt(v.subarray(0, v.length - 1), 'secret', ra), RadiusCryptoError);
    assert.throws(() => saltDecrypt(v.subarray(0, 2), 'secret', ra), RadiusCryptoError);
    // Key-Length 200 in a 16-octet block.
    const forged = saltEncrypt(new Uint8Array(0), 'secret', ra, Uint8Array.of(0x80, 0));
    const b1 = createHash('md5').update('secret').update(ra).update(forged.subarray(0, 2)).digest();
    forged[2] = 200 ^ b1[0]!;
    assert.throws(() => saltDecrypt(forged, 'secret', ra), /exceeds/);
  });
});

describe('RADIUS crypto: authenticators and Message-Authenticator', () => {
  const request = () =>
    encodeRadius({
      code: RadiusCode.AccessRequest,
      identifier: 42,
      attributes: [
        { type: RadiusAttr.MessageAuthenticator, value: new Uint8Array(16) },
        textAttribute(RadiusAttr.UserName, 'bob'),
      ],
    });

  it('Access-Request: HMAC-MD5 over the packet with a zero Message-Authenticator (RFC 3579 §3.2)', () => {
    const ra = fromHex('0102030405060708090a0b0c0d0e0f10');
    const pkt = request();
    signAccessRequest(pkt, 'sec', ra);
    assert.equal(toHex(pkt.subarray(4, 20)), toHex(ra));
    const zeroed = pkt.slice();
    zeroed.fill(0, 22, 38);
    const want = createHmac('md5', 'sec').update(zeroed).digest();
    assert.equal(toHex(pkt.subarray(22, 38)), toHex(want));
    assert.equal(verifyRequestMessageAuthenticator(pkt, 'sec', false), 'valid');
    assert.equal(verifyRequestMessageAuthenticator(pkt, 'other', false), 'invalid');
    const none = encodeRadius({
      code: 1,
      identifier: 0,
      attributes: [textAttribute(RadiusAttr.UserName, 'bob')],
    });
    assert.equal(verifyRequestMessageAuthenticator(none, 'sec', false), 'absent');
  });

  it('replies: Message-Authenticator over the Request Authenticator, then the Response Authenticator over both', () => {
    const ra = fromHex('ffeeddccbbaa99887766554433221100');
    const reply = encodeRadius({
      code: RadiusCode.AccessAccept,
      identifier: 42,
      attributes: [
        { type: RadiusAttr.MessageAuthenticator, value: new Uint8Array(16) },
        integerAttribute(RadiusAttr.SessionTimeout, 60),
      ],
    });
    signResponse(reply, 'sec', ra);
    assert.deepEqual(verifyResponse(reply, 'sec', ra), {
      authenticator: true,
      messageAuthenticator: 'valid',
    });
    const withRa = reply.slice();
    withRa.set(ra, 4);
    withRa.fill(0, 22, 38);
    assert.equal(toHex(reply.subarray(22, 38)), toHex(createHmac('md5', 'sec').update(withRa).digest()));
    const otherRa = ra.slice();
    otherRa[0]! ^= 1;
    assert.deepEqual(verifyResponse(reply, 'sec', otherRa), {
      authenticator: false,
      messageAuthenticator: 'invalid',
    });
    // A reply re-signed by MD5 alone after editing (what Blast-RADIUS forges) keeps a valid
    // Response Authenticator but not the HMAC: the Message-Authenticator catches it.
    const forged = reply.slice();
    forged[forged.length - 1] = 61;
    const body = forged.slice();
    body.set(ra, 4);
    forged.set(createHash('md5').update(body).update('sec').digest(), 4);
    assert.deepEqual(verifyResponse(forged, 'sec', ra), {
      authenticator: true,
      messageAuthenticator: 'invalid',
    });
    assert.ok(computeMessageAuthenticator(reply, 'sec', ra).length === 16);
  });

  it('Accounting-Request: MD5(Code + Identifier + Length + 16 zero octets + attributes + secret) (RFC 2866 §3)', () => {
    const pkt = encodeRadius({
      code: RadiusCode.AccountingRequest,
      identifier: 3,
      authenticator: new Uint8Array(16).fill(0xaa),
      attributes: [
        integerAttribute(RadiusAttr.AcctStatusType, AcctStatusType.Start),
        textAttribute(RadiusAttr.AcctSessionId, 'S1'),
      ],
    });
    signZeroAuthenticatorRequest(pkt, 'acct');
    const zero = pkt.slice();
    zero.fill(0, 4, 20);
    assert.equal(toHex(pkt.subarray(4, 20)), toHex(createHash('md5').update(zero).update('acct').digest()));
    assert.ok(verifyZeroAuthenticatorRequest(pkt, 'acct'));
    assert.ok(!verifyZeroAuthenticatorRequest(pkt, 'acck'));
    // A Node Buffer (what node:dgram delivers) is checked the same way and left as it was.
    const datagram = Buffer.from(pkt);
    assert.ok(verifyZeroAuthenticatorRequest(datagram, 'acct'));
    assert.equal(toHex(datagram), toHex(pkt));
  });
});
