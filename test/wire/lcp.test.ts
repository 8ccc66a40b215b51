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

const none = new Uint8Array(0);

// Hex hand-assembled from the RFC 1661 §5 / RFC 1570 §1 diagrams; every
// packet is also decoded by tshark in test/wire/ppp-tshark.test.ts.
codecSuite<LcpPacket>(
  'LCP packets (RFC 1661 §5, RFC 1570 §1)',
  { decode: decodeLcpPacket, encode: encodeLcpPacket, length: lcpPacketLength },
  [
    {
      name: 'Configure-Request: MRU 1400, Magic, PFC, ACFC, Callback (a Windows client)',
      hex: '01 01 00 15 01 04 05 78 05 06 5d 0c 1a 2b 07 02 08 02 0d 03 06',
      value: {
        kind: 'configure-request',
        identifier: 1,
        options: [
          { type: 1, data: fromHex('0578') },
          { type: 5, data: fromHex('5d0c1a2b') },
          { type: 7, data: none },
          { type: 8, data: none },
          { type: 13, data: fromHex('06') },
        ],
      },
    },
    {
      name: 'Configure-Ack: ACCM 0, MS-CHAP-V2, Magic (a pppd server request)',
      hex: '02 02 00 15 02 06 00 00 00 00 03 05 c2 23 81 05 06 a1 b2 c3 d4',
      value: {
        kind: 'configure-ack',
        identifier: 2,
        options: [
          { type: 2, data: fromHex('00000000') },
          { type: 3, data: fromHex('c22381') },
          { type: 5, data: fromHex('a1b2c3d4') },
        ],
      },
    },
    {
      name: 'Configure-Nak suggesting CHAP-MD5',
      hex: '03 02 00 09 03 05 c2 23 05',
      value: { kind: 'configure-nak', identifier: 2, options: [{ type: 3, data: fromHex('c22305') }] },
    },
    {
      name: 'Configure-Reject echoing Callback',
      hex: '04 01 00 07 0d 03 06',
      value: { kind: 'configure-reject', identifier: 1, options: [{ type: 13, data: fromHex('06') }] },
    },
    {
      name: 'Terminate-Request "User request"',
      hex: '05 03 00 10 55 73 65 72 20 72 65 71 75 65 73 74',
      value: { kind: 'terminate-request', identifier: 3, data: new TextEncoder().encode('User request') },
    },
    {
      name: 'Terminate-Ack, no data',
      hex: '06 03 00 04',
      value: { kind: 'terminate-ack', identifier: 3, data: none },
    },
    {
      name: 'Code-Reject of an unknown code 0x20',
      hex: '07 04 00 0a 20 07 00 06 ab cd',
      value: { kind: 'code-reject', identifier: 4, rejectedPacket: fromHex('20 07 00 06 ab cd') },
    },
    {
      name: 'Protocol-Reject of IPv6CP (0x8057)',
      hex: '08 05 00 14 80 57 01 01 00 0e 01 0a 00 00 00 00 00 00 00 01',
      value: {
        kind: 'protocol-reject',
        identifier: 5,
        rejectedProtocol: 0x8057,
        rejectedInformation: fromHex('01 01 00 0e 01 0a 00 00 00 00 00 00 00 01'),
      },
    },
    {
      name: 'Echo-Request, no data',
      hex: '09 06 00 08 5d 0c 1a 2b',
      value: { kind: 'echo-request', identifier: 6, magicNumber: 0x5d0c1a2b, data: none },
    },
    {
      name: 'Echo-Reply with data and a magic number above 2^31',
      hex: '0a 06 00 0c a1 b2 c3 d4 de ad be ef',
      value: { kind: 'echo-reply', identifier: 6, magicNumber: 0xa1b2c3d4, data: fromHex('deadbeef') },
    },
    {
      name: 'Discard-Request, magic 0 (not negotiated)',
      hex: '0b 07 00 09 00 00 00 00 78',
      value: { kind: 'discard-request', identifier: 7, magicNumber: 0, data: fromHex('78') },
    },
    {
      name: 'Identification "MSRASV5.20" (what Windows RAS sends)',
      hex: '0c 08 00 12 5d 0c 1a 2b 4d 53 52 41 53 56 35 2e 32 30',
      value: {
        kind: 'identification',
        identifier: 8,
        magicNumber: 0x5d0c1a2b,
        message: new TextEncoder().encode('MSRASV5.20'),
      },
    },
    {
      name: 'Time-Remaining forever, no message',
      hex: '0d 09 00 0c 00 00 00 00 ff ff ff ff',
      value: {
        kind: 'time-remaining',
        identifier: 9,
        magicNumber: 0,
        secondsRemaining: 0xffffffff,
        message: none,
      },
    },
    {
      name: 'Time-Remaining 3600 s "1h"',
      hex: '0d 0a 00 0e 5d 0c 1a 2b 00 00 0e 10 31 68',
      value: {
        kind: 'time-remaining',
        identifier: 10,
        magicNumber: 0x5d0c1a2b,
        secondsRemaining: 3600,
        message: fromHex('3168'),
      },
    },
    {
      name: 'unknown code 0x20 (for Code-Reject)',
      hex: '20 01 00 06 01 02',
      value: { kind: 'unknown', code: 0x20, identifier: 1, data: fromHex('0102') },
    },
  ],
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
