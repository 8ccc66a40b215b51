import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex } from '../../src/wire/bytes.js';
import {
  type CpOption,
  type CpPacket,
  cpOptionsLength,
  cpPacketLength,
  decodeCpOptions,
  decodeCpPacket,
  encodeCpOptions,
  encodeCpPacket,
} from '../../src/wire/cp.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';

codecSuite<CpPacket>(
  'control-protocol packet (RFC 1661 §5)',
  { decode: decodeCpPacket, encode: encodeCpPacket, length: cpPacketLength },
  [
    {
      // LCP Configure-Request: MRU 1500, Magic-Number 0x12345678.
      name: 'Configure-Request with two options',
      hex: '01 01 00 0e 01 04 05 dc 05 06 12 34 56 78',
      value: { code: 1, identifier: 1, data: fromHex('01 04 05 dc 05 06 12 34 56 78') },
    },
    {
      name: 'Terminate-Ack with no data',
      hex: '06 07 00 04',
      value: { code: 6, identifier: 7, data: new Uint8Array(0) },
    },
  ],
  {
    lie: (b) => {
      b[3] = b[3]! + 1;
      return b;
    },
  },
);

codecSuite<CpOption[]>(
  'configuration options (RFC 1661 §6)',
  { decode: decodeCpOptions, encode: encodeCpOptions, length: cpOptionsLength },
  [
    {
      name: 'MRU, Magic-Number, PFC, ACFC',
      hex: '01 04 05 dc 05 06 12 34 56 78 07 02 08 02',
      value: [
        { type: 1, data: fromHex('05dc') },
        { type: 5, data: fromHex('12345678') },
        { type: 7, data: new Uint8Array(0) },
        { type: 8, data: new Uint8Array(0) },
      ],
    },
  ],
  {
    overlong: false, // an option list has no length of its own: trailing bytes are more options
    truncation: 'total', // a prefix that ends on an option boundary is a shorter valid list
    lie: (b) => {
      b[1] = 0x20;
      return b;
    },
  },
);

describe('control-protocol edge cases', () => {
  it('rejects Length < 4 even with enough bytes', () => {
    assertWireError(() => decodeCpPacket(fromHex('01 01 00 03 00')));
  });
  it('ignores padding past Length (RFC 1661 §5)', () => {
    const p = decodeCpPacket(fromHex('05 02 00 04 de ad be ef'));
    assert.equal(p.data.length, 0);
  });
  it('a zero-length option cannot loop forever', () => {
    assertWireError(() => decodeCpOptions(fromHex('01 00 01 00')));
  });
  it('a 1-byte tail is an error, not an option', () => {
    assertWireError(() => decodeCpOptions(fromHex('07 02 08')));
  });
});
