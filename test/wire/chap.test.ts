import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex } from '../../src/wire/bytes.js';
import {
  type ChapPacket,
  chapCode,
  chapPacketLength,
  decodeChapPacket,
  encodeChapPacket,
} from '../../src/wire/chap.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';
import { CHAP_PACKET_CASES } from './ppp-fixtures.js';

codecSuite<ChapPacket>(
  'CHAP packets (RFC 1994 §4)',
  { decode: decodeChapPacket, encode: encodeChapPacket, length: chapPacketLength },
  CHAP_PACKET_CASES,
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
