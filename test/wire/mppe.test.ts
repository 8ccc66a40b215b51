import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import {
  decodeMppePacket,
  encodeMppeHeader,
  encodeMppePacket,
  MPPE_BIT,
  type MppePacket,
  MppeView,
  mppePacketLength,
} from '../../src/wire/mppe.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';

// Bit positions from the RFC 3078 §3.1 figure (A B C D are bits 0–3 of the
// first octet, then 12 bits of coherency count); they agree with Linux
// ppp_mppe.h (MPPE_BIT_A 0x80, MPPE_BIT_D 0x10 in the first octet, the
// count masked with 0x0fff). See test/vectors/README.md "Data path".
codecSuite<MppePacket>(
  'MPPE header (RFC 3078 §3.1)',
  { decode: decodeMppePacket, encode: encodeMppePacket, length: mppePacketLength },
  [
    {
      name: 'stateless packet: FLUSHED + encrypted, count 0',
      hex: '9000 8d31 77',
      value: {
        flushed: true,
        atFront: false,
        compressed: false,
        encrypted: true,
        coherencyCount: 0,
        payload: fromHex('8d3177'),
      },
    },
    {
      name: 'stateful packet: encrypted only, count 0xabc',
      hex: '1abc 0102',
      value: {
        flushed: false,
        atFront: false,
        compressed: false,
        encrypted: true,
        coherencyCount: 0xabc,
        payload: fromHex('0102'),
      },
    },
    {
      name: 'every bit, count 4095, no data',
      hex: 'ffff',
      value: {
        flushed: true,
        atFront: true,
        compressed: true,
        encrypted: true,
        coherencyCount: 4095,
        payload: new Uint8Array(0),
      },
    },
    {
      name: 'MPPC bits B and C only, count 1',
      hex: '6001 aa',
      value: {
        flushed: false,
        atFront: true,
        compressed: true,
        encrypted: false,
        coherencyCount: 1,
        payload: fromHex('aa'),
      },
    },
  ],
  { overlong: false, truncation: 'total' }, // the data runs to the end of the PPP frame
);

describe('MPPE header', () => {
  it('rejects fewer than two bytes', () => {
    assertWireError(() => decodeMppePacket(new Uint8Array(0)));
    assertWireError(() => decodeMppePacket(fromHex('90')));
  });
  it('bit masks match the figure', () => {
    assert.equal(MPPE_BIT.FLUSHED | MPPE_BIT.AT_FRONT | MPPE_BIT.COMPRESSED | MPPE_BIT.ENCRYPTED, 0xf000);
    assert.equal(MPPE_BIT.COHERENCY_COUNT_MASK, 0x0fff);
  });
  it('every coherency count round-trips', () => {
    const buf = new Uint8Array(2);
    const v = MppeView.check(buf);
    for (let cc = 0; cc < 4096; cc++) {
      encodeMppeHeader(
        { flushed: false, atFront: false, compressed: false, encrypted: true, coherencyCount: cc },
        buf,
        0,
      );
      assert.equal(MppeView.check(buf, v).coherencyCount, cc);
      assert.equal(v.encrypted, true);
    }
  });
  it('refuses counts outside 0–4095', () => {
    for (const cc of [-1, 4096, 1.5]) {
      assert.throws(
        () =>
          encodeMppeHeader(
            { flushed: true, atFront: false, compressed: false, encrypted: true, coherencyCount: cc },
            new Uint8Array(2),
            0,
          ),
        RangeError,
      );
    }
  });
  it('writes the header in place in front of data', () => {
    const buf = fromHex('a5a5 8d31 77');
    encodeMppeHeader(
      { flushed: true, atFront: false, compressed: false, encrypted: true, coherencyCount: 0 },
      buf,
      0,
    );
    assert.equal(toHex(buf), '90008d3177');
  });
});
