import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex } from '../../src/wire/bytes.js';
import { decodeCpOptions } from '../../src/wire/cp.js';
import {
  decodeIpv6cpOption,
  decodeIpv6cpPacket,
  encodeIpv6cpOption,
  encodeIpv6cpPacket,
  type Ipv6cpOption,
  type Ipv6cpPacket,
  ipv6cpPacketLength,
} from '../../src/wire/ipv6cp.js';
import { OptionLengthError } from '../../src/wire/lcp.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';
import { lieOptionLength, optionCodec } from './option-codec.js';
import { IPV6CP_PACKET_CASES } from './ppp-fixtures.js';

codecSuite<Ipv6cpPacket>(
  'IPv6CP packets (RFC 5072 §3)',
  { decode: decodeIpv6cpPacket, encode: encodeIpv6cpPacket, length: ipv6cpPacketLength },
  IPV6CP_PACKET_CASES,
  {
    lie: (b) => {
      b[3] = b[3]! + 1;
      return b;
    },
  },
);

codecSuite<Ipv6cpOption>(
  'IPv6CP option values (RFC 5072 §4.1, RFC 2472 §4.2)',
  optionCodec(decodeIpv6cpOption, encodeIpv6cpOption),
  [
    {
      name: 'Interface-Identifier',
      hex: '01 0a 02 11 22 ff fe 33 44 55',
      value: { kind: 'interface-identifier', interfaceIdentifier: fromHex('021122fffe334455') },
    },
    {
      name: 'Interface-Identifier all zero (please assign)',
      hex: '01 0a 00 00 00 00 00 00 00 00',
      value: { kind: 'interface-identifier', interfaceIdentifier: new Uint8Array(8) },
    },
    {
      name: 'IPv6-Compression-Protocol',
      hex: '02 06 00 61 0f 00',
      value: { kind: 'ipv6-compression-protocol', protocol: 0x0061, data: fromHex('0f00') },
    },
    { name: 'unknown 7', hex: '07 02', value: { kind: 'unknown', type: 7, data: new Uint8Array(0) } },
  ],
  { lie: lieOptionLength },
);

describe('IPv6CP option Length checks', () => {
  for (const hex of ['01 09 00 00 00 00 00 00 00', '01 0b 00 00 00 00 00 00 00 00 00', '02 03 00']) {
    it(hex, () => {
      const [o] = decodeCpOptions(fromHex(hex));
      assert.ok(assertWireError(() => decodeIpv6cpOption(o!)) instanceof OptionLengthError);
    });
  }
  it('encoding refuses an identifier that is not 8 bytes', () => {
    assert.throws(
      () => encodeIpv6cpOption({ kind: 'interface-identifier', interfaceIdentifier: new Uint8Array(7) }),
      RangeError,
    );
  });
});
