import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex } from '../../src/wire/bytes.js';
import {
  type CcpOption,
  type CcpPacket,
  ccpCode,
  ccpPacketLength,
  decodeCcpOption,
  decodeCcpPacket,
  encodeCcpOption,
  encodeCcpPacket,
  MppeBit,
  mppeOptionBits,
  mppeOptionFromBits,
} from '../../src/wire/ccp.js';
import { decodeCpOptions } from '../../src/wire/cp.js';
import { OptionLengthError } from '../../src/wire/lcp.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';
import { lieOptionLength, optionCodec } from './option-codec.js';
import { CCP_PACKET_CASES } from './ppp-fixtures.js';

const mppe = (o: Partial<Omit<Extract<CcpOption, { kind: 'mppe' }>, 'kind'>>): CcpOption => ({
  kind: 'mppe',
  mppc: false,
  obsoleteD: false,
  key40: false,
  key128: false,
  key56: false,
  stateless: false,
  otherBits: 0,
  ...o,
});

codecSuite<CcpPacket>(
  'CCP packets (RFC 1962 §3)',
  { decode: decodeCcpPacket, encode: encodeCcpPacket, length: ccpPacketLength },
  CCP_PACKET_CASES,
  {
    lie: (b) => {
      b[3] = b[3]! + 1;
      return b;
    },
  },
);

codecSuite<CcpOption>(
  'CCP option values (RFC 3078 §2.2.1)',
  optionCodec(decodeCcpOption, encodeCcpOption),
  [
    {
      name: 'MPPE-128 stateless (H, S)',
      hex: '12 06 01 00 00 40',
      value: mppe({ stateless: true, key128: true }),
    },
    { name: 'MPPE-40 stateful (L)', hex: '12 06 00 00 00 20', value: mppe({ key40: true }) },
    { name: 'MPPE-56 (M)', hex: '12 06 00 00 00 80', value: mppe({ key56: true }) },
    { name: 'MPPC only (C)', hex: '12 06 00 00 00 01', value: mppe({ mppc: true }) },
    { name: 'obsolete D', hex: '12 06 00 00 00 10', value: mppe({ obsoleteD: true }) },
    {
      name: 'every named bit (a Windows offer: H M S L C, plus D)',
      hex: '12 06 01 00 00 f1',
      value: mppe({ stateless: true, key56: true, key128: true, key40: true, obsoleteD: true, mppc: true }),
    },
    { name: 'every bit off (tolerated)', hex: '12 06 00 00 00 00', value: mppe({}) },
    {
      name: 'reserved bits kept (bit 31 and bit 8)',
      hex: '12 06 80 00 01 40',
      value: mppe({ key128: true, otherBits: 0x80000100 }),
    },
    {
      name: 'Deflate stays raw',
      hex: '1a 04 78 00',
      value: { kind: 'unknown', type: 26, data: fromHex('7800') },
    },
    {
      name: 'BSD-Compress stays raw',
      hex: '15 03 2f',
      value: { kind: 'unknown', type: 21, data: fromHex('2f') },
    },
  ],
  { lie: lieOptionLength },
);

describe('MPPE Supported Bits', () => {
  it('bit values are those of RFC 3078 §2.2.1', () => {
    assert.equal(MppeBit.L, 0x20);
    assert.equal(MppeBit.S, 0x40);
    assert.equal(MppeBit.M, 0x80);
    assert.equal(MppeBit.H, 0x01000000);
    assert.equal(MppeBit.C, 0x01);
    assert.equal(MppeBit.D, 0x10);
  });
  it('bits → flags → bits is the identity on sampled 32-bit values', () => {
    let x = 0x12345678;
    for (let i = 0; i < 2000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      assert.equal(mppeOptionBits(mppeOptionFromBits(x)), x);
    }
    assert.equal(mppeOptionBits(mppeOptionFromBits(0xffffffff)), 0xffffffff);
  });
  it('option 18 with the wrong Length is an OptionLengthError', () => {
    for (const hex of ['12 05 00 00 00', '12 07 00 00 00 40 00', '12 02']) {
      const [o] = decodeCpOptions(fromHex(hex));
      assert.ok(assertWireError(() => decodeCcpOption(o!)) instanceof OptionLengthError, hex);
    }
  });
  it('ccpCode maps kinds back to codes', () => {
    for (const c of [1, 2, 3, 4, 5, 6, 7, 14, 15, 99]) {
      const b = Uint8Array.of(c, 1, 0, 4);
      assert.equal(ccpCode(decodeCcpPacket(b)), c);
    }
  });
});
