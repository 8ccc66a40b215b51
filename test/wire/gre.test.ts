import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { WireErrorCode } from '../../src/wire/errors.js';
import {
  decodeGrePacket,
  encodeGreHeader,
  encodeGrePacket,
  type GrePacket,
  GreView,
  grePacketLength,
  writeGreDataHeader,
} from '../../src/wire/gre.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';

// Hex from scapy 2.5's GRE_PPTP layer (an independent encoder); see
// test/vectors/README.md "Data path".
const SEQ_ACK = '3081880b000c40000000000700000003ff03c0210901000812345678';
const SEQ_ONLY = '3001880b00040001fffffffe21450000';
const ACK_ONLY = '2081880b0000abcd80000001';

codecSuite<GrePacket>(
  'enhanced GRE (RFC 2637 §4.1)',
  { decode: decodeGrePacket, encode: encodeGrePacket, length: grePacketLength },
  [
    {
      name: 'data with piggy-backed ack (S=1, A=1), LCP Echo-Request payload',
      hex: SEQ_ACK,
      value: {
        callId: 0x4000,
        sequenceNumber: 7,
        acknowledgmentNumber: 3,
        payload: fromHex('ff03c0210901000812345678'),
      },
    },
    {
      name: 'data without ack (S=1, A=0), sequence number near the wrap',
      hex: SEQ_ONLY,
      value: { callId: 1, sequenceNumber: 0xfffffffe, payload: fromHex('21450000') },
    },
    {
      name: 'acknowledgment only (S=0, A=1): the ack sits where the sequence number would',
      hex: ACK_ONLY,
      value: { callId: 0xabcd, acknowledgmentNumber: 0x80000001, payload: new Uint8Array(0) },
    },
  ],
  {
    lie: (b) => {
      b[5] = b[5]! + 1; // Payload Length one more than present
      return b;
    },
  },
);

function edited(hex: string, edit: (b: Uint8Array) => void): Uint8Array {
  const b = fromHex(hex);
  edit(b);
  return b;
}

describe('strict GRE acceptance (docs/style.md §3, RFC 2637 §4.1)', () => {
  const cases: [string, (b: Uint8Array) => void, WireErrorCode][] = [
    ['C set', (b) => (b[0] = b[0]! | 0x80), WireErrorCode.BadFlags],
    ['R set', (b) => (b[0] = b[0]! | 0x40), WireErrorCode.BadFlags],
    ['K clear', (b) => (b[0] = b[0]! & ~0x20), WireErrorCode.BadFlags],
    ['s set', (b) => (b[0] = b[0]! | 0x08), WireErrorCode.BadFlags],
    ['Recur 1', (b) => (b[0] = b[0]! | 0x01), WireErrorCode.BadFlags],
    ['Recur 7', (b) => (b[0] = b[0]! | 0x07), WireErrorCode.BadFlags],
    ['Flags bit 9', (b) => (b[1] = b[1]! | 0x40), WireErrorCode.BadFlags],
    ['Flags bit 12', (b) => (b[1] = b[1]! | 0x08), WireErrorCode.BadFlags],
    ['Ver 0 (plain GRE)', (b) => (b[1] = b[1]! & ~0x07), WireErrorCode.BadVersion],
    ['Ver 2', (b) => (b[1] = (b[1]! & ~0x07) | 2), WireErrorCode.BadVersion],
    [
      'Protocol 0x0800 (IPv4 in GRE)',
      (b) => {
        b[2] = 0x08;
        b[3] = 0x00;
      },
      WireErrorCode.BadMagic,
    ],
    ['Protocol 0x880A', (b) => (b[3] = 0x0a), WireErrorCode.BadMagic],
  ];
  for (const [name, edit, code] of cases) {
    it(`rejects ${name}`, () => {
      assert.equal(assertWireError(() => decodeGrePacket(edited(SEQ_ACK, edit))).code, code);
    });
  }
  it('rejects S=0 with a payload length', () => {
    const b = edited(ACK_ONLY, (x) => (x[5] = 1));
    const e = assertWireError(() => decodeGrePacket(new Uint8Array([...b, 0x21])));
    assert.equal(e.code, WireErrorCode.BadFlags);
  });
  it('rejects S=0, A=0 (carries nothing)', () => {
    const e = assertWireError(() => decodeGrePacket(edited(ACK_ONLY, (x) => (x[1] = 0x01))));
    assert.equal(e.code, WireErrorCode.BadFlags);
  });
  it('rejects a Payload Length larger than the bytes present (also with a full buffer)', () => {
    const e = assertWireError(() => decodeGrePacket(edited(SEQ_ONLY, (x) => (x[4] = 0xff))));
    assert.equal(e.code, WireErrorCode.LengthTooLarge);
  });
  it('ignores bytes after Payload Length', () => {
    const p = decodeGrePacket(edited(SEQ_ONLY, (x) => (x[5] = 2)));
    assert.equal(toHex(p.payload), '2145');
  });
});

describe('GRE in-place encoding', () => {
  it('encodeGreHeader writes only the header in front of the payload', () => {
    const payload = fromHex('ff03c0210901000812345678');
    const buf = new Uint8Array(40).fill(0xa5);
    buf.set(payload, 20);
    const n = encodeGreHeader(
      { callId: 0x4000, sequenceNumber: 7, acknowledgmentNumber: 3 },
      payload.length,
      buf,
      4,
    );
    assert.equal(n, 16);
    assert.equal(toHex(buf.subarray(4, 32)), SEQ_ACK);
    assert.ok(buf.subarray(0, 4).every((x) => x === 0xa5));
    assert.ok(buf.subarray(32).every((x) => x === 0xa5));
  });
  it('writeGreDataHeader (hot path) matches encodeGreHeader with and without ack', () => {
    for (const ack of [-1, 0, 3, 0xffffffff]) {
      const a = new Uint8Array(16).fill(0xa5);
      const b = new Uint8Array(16).fill(0xa5);
      const h =
        ack < 0
          ? { callId: 0xbeef, sequenceNumber: 0x80000000 }
          : { callId: 0xbeef, sequenceNumber: 0x80000000, acknowledgmentNumber: ack };
      const na = encodeGreHeader(h, 1400, a, 0);
      const nb = writeGreDataHeader(b, 0, 0xbeef, 1400, 0x80000000, ack);
      assert.equal(na, nb);
      assert.equal(toHex(a), toHex(b));
    }
  });
  it('refuses headers RFC 2637 forbids', () => {
    const buf = new Uint8Array(32);
    assert.throws(() => encodeGreHeader({ callId: 1 }, 0, buf, 0), RangeError);
    assert.throws(() => encodeGreHeader({ callId: 1, acknowledgmentNumber: 1 }, 4, buf, 0), RangeError);
    assert.throws(() => encodeGreHeader({ callId: 1, sequenceNumber: 1 }, 0x10000, buf, 0), RangeError);
  });
  it('the ack-only view reads the ack at offset 8', () => {
    const v = GreView.check(fromHex(ACK_ONLY));
    assert.equal(v.hasSequenceNumber, false);
    assert.equal(v.hasAcknowledgmentNumber, true);
    assert.equal(v.acknowledgmentNumber, 0x80000001);
    assert.equal(v.headerLength, 12);
  });
});
