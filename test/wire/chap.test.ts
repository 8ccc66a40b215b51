import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, utf8 } from '../../src/wire/bytes.js';
import {
  type ChapPacket,
  chapCode,
  chapPacketLength,
  decodeChapPacket,
  encodeChapPacket,
} from '../../src/wire/chap.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';

// RFC 2759 §9.2 values.
const AUTH_CHALLENGE = '5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28';
const PEER_CHALLENGE = '21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E';
const NT_RESPONSE = '82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF';
const V2_VALUE = `${PEER_CHALLENGE} 00 00 00 00 00 00 00 00 ${NT_RESPONSE} 00`;

codecSuite<ChapPacket>(
  'CHAP packets (RFC 1994 §4)',
  { decode: decodeChapPacket, encode: encodeChapPacket, length: chapPacketLength },
  [
    {
      name: 'MD5 Challenge with a name',
      hex: '01 01 00 1b 10 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 73 65 72 76 65 72',
      value: {
        kind: 'challenge',
        identifier: 1,
        value: fromHex('00112233445566778899aabbccddeeff'),
        name: utf8('server'),
      },
    },
    {
      name: 'MD5 Response',
      hex: '02 01 00 19 10 0f 0e 0d 0c 0b 0a 09 08 07 06 05 04 03 02 01 00 75 73 65 72',
      value: {
        kind: 'response',
        identifier: 1,
        value: fromHex('0f0e0d0c0b0a09080706050403020100'),
        name: utf8('user'),
      },
    },
    {
      name: 'MS-CHAP-V2 Challenge, empty Name (RFC 2759 §9.2 challenge)',
      hex: `01 02 00 15 10 ${AUTH_CHALLENGE}`,
      source: 'RFC 2759 §9.2',
      value: { kind: 'challenge', identifier: 2, value: fromHex(AUTH_CHALLENGE), name: new Uint8Array(0) },
    },
    {
      name: 'MS-CHAP-V2 Response for "User" (RFC 2759 §9.2 values)',
      hex: `02 02 00 3a 31 ${V2_VALUE} 55 73 65 72`,
      source: 'RFC 2759 §9.2',
      value: { kind: 'response', identifier: 2, value: fromHex(V2_VALUE), name: utf8('User') },
    },
    {
      name: 'MS-CHAP-V2 Success (RFC 2759 §9.2 authenticator response)',
      hex: `03 02 00 3f ${Buffer.from('S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted').toString('hex')}`,
      source: 'RFC 2759 §9.2',
      value: {
        kind: 'success',
        identifier: 2,
        message: utf8('S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted'),
      },
    },
    {
      name: 'MD5 Success, empty message',
      hex: '03 01 00 04',
      value: { kind: 'success', identifier: 1, message: new Uint8Array(0) },
    },
    {
      name: 'Failure "E=691 R=0"',
      hex: '04 07 00 0d 45 3d 36 39 31 20 52 3d 30',
      value: { kind: 'failure', identifier: 7, message: utf8('E=691 R=0') },
    },
    {
      name: 'Change-Password (7) stays raw',
      hex: '07 03 00 06 01 02',
      value: { kind: 'unknown', code: 7, identifier: 3, data: fromHex('0102') },
    },
  ],
  {
    lie: (b) => {
      b[3] = b[3]! + 1;
      return b;
    },
  },
);

describe('CHAP edge cases', () => {
  it('Value-Size 0 is refused: "The Value field is one or more octets."', () => {
    const e = assertWireError(() => decodeChapPacket(fromHex('01 01 00 05 00')));
    assert.match(e.message, /one or more octets/);
  });
  it('Value-Size past the end is refused', () => {
    assertWireError(() => decodeChapPacket(fromHex('02 01 00 08 10 01 02 03')));
  });
  it('a Challenge with no Value-Size octet is refused', () => {
    assertWireError(() => decodeChapPacket(fromHex('01 01 00 04')));
  });
  it('Value-Size exactly filling the packet gives an empty Name', () => {
    const p = decodeChapPacket(fromHex('01 01 00 07 02 aa bb'));
    assert.deepEqual(p, {
      kind: 'challenge',
      identifier: 1,
      value: fromHex('aabb'),
      name: new Uint8Array(0),
    });
  });
  it('encoding refuses an empty or 256-byte Value', () => {
    for (const n of [0, 256]) {
      assert.throws(
        () =>
          encodeChapPacket({
            kind: 'response',
            identifier: 1,
            value: new Uint8Array(n),
            name: new Uint8Array(0),
          }),
        RangeError,
      );
    }
  });
  it('chapCode maps kinds back', () => {
    for (const c of [1, 2, 3, 4, 5, 7])
      assert.equal(chapCode(decodeChapPacket(Uint8Array.of(c, 0, 0, 6, 1, 0))), c);
  });
});
