import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex } from '../../src/wire/bytes.js';
import { decodeCpOptions } from '../../src/wire/cp.js';
import { WireError } from '../../src/wire/errors.js';
import {
  AUTH_METHODS,
  authMethodOf,
  authProtocolOption,
  decodeLcpOption,
  decodeLcpPacket,
  encodeLcpOption,
  encodeLcpPacket,
  type LcpOption,
  type LcpPacket,
  lcpCode,
  lcpPacketLength,
  OptionLengthError,
} from '../../src/wire/lcp.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';
import { lieOptionLength, optionCodec } from './option-codec.js';
import { LCP_PACKET_CASES } from './ppp-fixtures.js';

const none = new Uint8Array(0);

// Hex hand-assembled from the RFC 1661 §5 / RFC 1570 §1 diagrams; every
// packet is also decoded by tshark in test/wire/ppp-tshark.test.ts.
codecSuite<LcpPacket>(
  'LCP packets (RFC 1661 §5, RFC 1570 §1)',
  { decode: decodeLcpPacket, encode: encodeLcpPacket, length: lcpPacketLength },
  LCP_PACKET_CASES,
  {
    lie: (b) => {
      b[3] = b[3]! + 1;
      return b;
    },
    // A prefix cut inside a Configure option list or before a Magic-Number
    // fails; every other prefix fails on Length > bytes present.
  },
);

codecSuite<LcpOption>(
  'LCP option values (RFC 1661 §6, RFC 1662 §7.1)',
  optionCodec(decodeLcpOption, encodeLcpOption),
  [
    { name: 'MRU 1500', hex: '01 04 05 dc', value: { kind: 'mru', mru: 1500 } },
    { name: 'ACCM 0x000a0000', hex: '02 06 00 0a 00 00', value: { kind: 'accm', accm: 0x000a0000 } },
    {
      name: 'Authentication-Protocol PAP',
      hex: '03 04 c0 23',
      value: { kind: 'authentication-protocol', protocol: 0xc023, data: none },
    },
    {
      name: 'Authentication-Protocol CHAP MD5',
      hex: '03 05 c2 23 05',
      value: { kind: 'authentication-protocol', protocol: 0xc223, data: fromHex('05') },
    },
    {
      name: 'Authentication-Protocol MS-CHAP',
      hex: '03 05 c2 23 80',
      value: { kind: 'authentication-protocol', protocol: 0xc223, data: fromHex('80') },
    },
    {
      name: 'Authentication-Protocol MS-CHAP-V2',
      hex: '03 05 c2 23 81',
      value: { kind: 'authentication-protocol', protocol: 0xc223, data: fromHex('81') },
    },
    {
      name: 'Authentication-Protocol EAP (not spoken here, still typed)',
      hex: '03 04 c2 27',
      value: { kind: 'authentication-protocol', protocol: 0xc227, data: none },
    },
    {
      name: 'Quality-Protocol LQR, reporting period 500',
      hex: '04 08 c0 25 00 00 01 f4',
      value: { kind: 'quality-protocol', protocol: 0xc025, data: fromHex('000001f4') },
    },
    {
      name: 'Magic-Number 0xdeadbeef',
      hex: '05 06 de ad be ef',
      value: { kind: 'magic-number', magicNumber: 0xdeadbeef },
    },
    { name: 'PFC', hex: '07 02', value: { kind: 'pfc' } },
    { name: 'ACFC', hex: '08 02', value: { kind: 'acfc' } },
    {
      name: 'unknown: Callback (13)',
      hex: '0d 03 06',
      value: { kind: 'unknown', type: 13, data: fromHex('06') },
    },
    {
      name: 'unknown: Multilink MRRU (17)',
      hex: '11 04 05 f4',
      value: { kind: 'unknown', type: 17, data: fromHex('05f4') },
    },
  ],
  { lie: lieOptionLength },
);

describe('LCP option Length checks report OptionLengthError', () => {
  const bad: [string, string][] = [
    ['MRU with Length 3', '01 03 05'],
    ['MRU with Length 5', '01 05 05 dc 00'],
    ['ACCM with Length 4', '02 04 00 00'],
    ['Authentication-Protocol with Length 3', '03 03 c0'],
    ['Authentication-Protocol with Length 2', '03 02'],
    ['PAP with a data byte (Length 5)', '03 05 c0 23 00'],
    ['CHAP without Algorithm (Length 4)', '03 04 c2 23'],
    ['CHAP with two data bytes (Length 6)', '03 06 c2 23 81 00'],
    ['Quality-Protocol with Length 3', '04 03 c0'],
    ['Magic-Number with Length 4', '05 04 12 34'],
    ['Magic-Number with Length 7', '05 07 12 34 56 78 9a'],
    ['PFC with Length 3', '07 03 00'],
    ['ACFC with Length 4', '08 04 00 00'],
  ];
  for (const [name, hex] of bad) {
    it(name, () => {
      const [opt] = decodeCpOptions(fromHex(hex));
      const e = assertWireError(() => decodeLcpOption(opt!));
      assert.ok(e instanceof OptionLengthError, `${name}: ${e.message}`);
      assert.equal(e.optionType, fromHex(hex)[0]);
      assert.equal(e.optionLength, fromHex(hex)[1]);
      assert.match(e.message, /RFC/);
    });
  }
  it('a packet holding a bad-length option still decodes (the automaton must answer it)', () => {
    const p = decodeLcpPacket(fromHex('01 01 00 0b 01 03 05 07 02 08 02'));
    assert.equal(p.kind, 'configure-request');
    if (p.kind !== 'configure-request') return;
    assert.equal(p.options.length, 3);
    assert.throws(() => decodeLcpOption(p.options[0]!), OptionLengthError);
    assert.deepEqual(decodeLcpOption(p.options[1]!), { kind: 'pfc' });
  });
});

describe('LCP packet edge cases', () => {
  it('a malformed option list discards the whole Configure packet (RFC 1661 §6)', () => {
    assertWireError(() => decodeLcpPacket(fromHex('01 01 00 08 01 06 05 dc')));
    assertWireError(() => decodeLcpPacket(fromHex('02 01 00 06 05 00')));
  });
  it('Echo-Request without a full Magic-Number is refused', () => {
    for (const hex of [
      '09 01 00 04',
      '09 01 00 07 00 00 00',
      '0a 01 00 06 00 00',
      '0b 01 00 05 00',
      '0c 01 00 04',
    ]) {
      assertWireError(() => decodeLcpPacket(fromHex(hex)), hex);
    }
  });
  it('Time-Remaining needs Magic-Number and Seconds-Remaining', () => {
    assertWireError(() => decodeLcpPacket(fromHex('0d 01 00 0b 00 00 00 00 00 00 00')));
  });
  it('Protocol-Reject needs the Rejected-Protocol', () => {
    assertWireError(() => decodeLcpPacket(fromHex('08 01 00 05 80')));
    const p = decodeLcpPacket(fromHex('08 01 00 06 80 21'));
    assert.deepEqual(p, {
      kind: 'protocol-reject',
      identifier: 1,
      rejectedProtocol: 0x8021,
      rejectedInformation: none,
    });
  });
  it('lcpCode maps every kind back to its RFC code', () => {
    const codes = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '0a', '0b', '0c', '0d', 'fe'];
    for (const c of codes) {
      const b = fromHex(`${c} 01 00 0c 07 02 08 02 07 02 08 02`);
      assert.equal(lcpCode(decodeLcpPacket(b)), b[0]);
    }
  });
  it('WireError is the only thing thrown for garbage', () => {
    assert.throws(() => decodeLcpPacket(fromHex('01')), WireError);
  });
});

describe('Authentication-Protocol helpers', () => {
  it('authProtocolOption and authMethodOf are inverse for every method', () => {
    for (const m of AUTH_METHODS) {
      const raw = encodeLcpOption(authProtocolOption(m));
      assert.equal(authMethodOf(decodeLcpOption(raw)), m);
    }
  });
  it('maps the wire values of RFC 1334, 1994, 2433 and 2759', () => {
    const cases: [string, string | undefined][] = [
      ['03 04 c0 23', 'pap'],
      ['03 05 c2 23 05', 'chap-md5'],
      ['03 05 c2 23 80', 'mschap'],
      ['03 05 c2 23 81', 'mschap-v2'],
      ['03 05 c2 23 06', undefined],
      ['03 04 c2 27', undefined],
    ];
    for (const [hex, m] of cases) {
      const [o] = decodeCpOptions(fromHex(hex));
      assert.equal(authMethodOf(decodeLcpOption(o!)), m, hex);
    }
    assert.equal(authMethodOf({ kind: 'mru', mru: 1500 }), undefined);
  });
});
