import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, ipv4ToString } from '../../src/wire/bytes.js';
import { decodeCpOptions } from '../../src/wire/cp.js';
import {
  decodeIpcpOption,
  decodeIpcpPacket,
  encodeIpcpOption,
  encodeIpcpPacket,
  type IpcpOption,
  type IpcpPacket,
  ipcpPacketLength,
} from '../../src/wire/ipcp.js';
import { OptionLengthError } from '../../src/wire/lcp.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';
import { lieOptionLength, optionCodec } from './option-codec.js';
import { IPCP_PACKET_CASES } from './ppp-fixtures.js';

codecSuite<IpcpPacket>(
  'IPCP packets (RFC 1332 §2)',
  { decode: decodeIpcpPacket, encode: encodeIpcpPacket, length: ipcpPacketLength },
  IPCP_PACKET_CASES,
  {
    lie: (b) => {
      b[3] = b[3]! + 1;
      return b;
    },
  },
);

codecSuite<IpcpOption>(
  'IPCP option values (RFC 1332 §3, RFC 1877)',
  optionCodec(decodeIpcpOption, encodeIpcpOption),
  [
    {
      name: 'IP-Addresses (deprecated)',
      hex: '01 0a 0a 00 00 01 0a 00 00 02',
      value: { kind: 'ip-addresses', sourceAddress: 0x0a000001, destinationAddress: 0x0a000002 },
    },
    {
      name: 'IP-Compression-Protocol VJ',
      hex: '02 06 00 2d 0f 01',
      value: { kind: 'ip-compression-protocol', protocol: 0x002d, data: fromHex('0f01') },
    },
    {
      name: 'IP-Compression-Protocol, old RFC 1172 form (Length 4)',
      hex: '02 04 00 37',
      value: { kind: 'ip-compression-protocol', protocol: 0x0037, data: new Uint8Array(0) },
    },
    {
      name: 'IP-Address 0.0.0.0 (please assign)',
      hex: '03 06 00 00 00 00',
      value: { kind: 'ip-address', address: 0 },
    },
    {
      name: 'IP-Address 192.168.1.1',
      hex: '03 06 c0 a8 01 01',
      value: { kind: 'ip-address', address: 0xc0a80101 },
    },
    {
      name: 'Primary DNS 8.8.8.8',
      hex: '81 06 08 08 08 08',
      value: { kind: 'primary-dns', address: 0x08080808 },
    },
    { name: 'Primary NBNS', hex: '82 06 0a 00 00 05', value: { kind: 'primary-nbns', address: 0x0a000005 } },
    {
      name: 'Secondary DNS',
      hex: '83 06 ff ff ff fe',
      value: { kind: 'secondary-dns', address: 0xfffffffe },
    },
    {
      name: 'Secondary NBNS',
      hex: '84 06 09 0a 0b 0c',
      value: { kind: 'secondary-nbns', address: 0x090a0b0c },
    },
    { name: 'unknown 123', hex: '7b 03 00', value: { kind: 'unknown', type: 123, data: fromHex('00') } },
  ],
  { lie: lieOptionLength },
);

describe('IPCP option Length checks', () => {
  for (const hex of [
    '01 06 0a 00 00 01',
    '02 03 00',
    '03 04 0a 00',
    '03 07 0a 00 00 01 00',
    '81 05 08 08 08',
    '84 02',
  ]) {
    it(hex, () => {
      const [o] = decodeCpOptions(fromHex(hex));
      assert.ok(assertWireError(() => decodeIpcpOption(o!)) instanceof OptionLengthError);
    });
  }
  it('addresses print as dotted quads', () => {
    const [o] = decodeCpOptions(fromHex('03 06 c0 a8 01 01'));
    const v = decodeIpcpOption(o!);
    assert.equal(v.kind === 'ip-address' && ipv4ToString(v.address), '192.168.1.1');
  });
});
