/**
 * Fuzz targets for the PPP control-protocol and authentication codecs:
 * packets, typed option values (every option of a decoded list), and the
 * MS-CHAP sub-formats.
 */
import { fromHex, utf8 } from '../../../src/wire/bytes.js';
import { decodeCcpOption, decodeCcpPacket } from '../../../src/wire/ccp.js';
import { decodeChapPacket } from '../../../src/wire/chap.js';
import { decodeCpOptions } from '../../../src/wire/cp.js';
import { decodeIpcpOption, decodeIpcpPacket } from '../../../src/wire/ipcp.js';
import { decodeIpv6cpOption, decodeIpv6cpPacket } from '../../../src/wire/ipv6cp.js';
import { decodeLcpOption, decodeLcpPacket } from '../../../src/wire/lcp.js';
import {
  decodeMsChapV1Response,
  decodeMsChapV2Response,
  parseMsChapFailure,
  parseMsChapV2Success,
} from '../../../src/wire/mschap.js';
import { decodePapPacket } from '../../../src/wire/pap.js';
import type { FuzzTarget } from '../mutate.js';

/** Decodes a packet, then every option of a Configure-* packet with `decodeOption`. */
function withOptions<P extends { kind: string }>(
  decodePacket: (b: Uint8Array) => P,
  decodeOption: (o: { type: number; data: Uint8Array }) => unknown,
): (b: Uint8Array) => unknown {
  return (b) => {
    const p = decodePacket(b);
    if ('options' in p) for (const o of p.options as { type: number; data: Uint8Array }[]) decodeOption(o);
    return p;
  };
}

const optionList = (decodeOption: (o: { type: number; data: Uint8Array }) => unknown) => (b: Uint8Array) =>
  decodeCpOptions(b).map(decodeOption);

const AUTH = '407A5589115FD0D6209F510FE9C04566932CDA56';
const V2_VALUE =
  '21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E 00 00 00 00 00 00 00 00 ' +
  '82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF 00';

export const targets: FuzzTarget[] = [
  {
    name: 'lcp packet + options',
    decode: withOptions(decodeLcpPacket, decodeLcpOption),
    corpus: [
      fromHex('01 01 00 15 01 04 05 78 05 06 5d 0c 1a 2b 07 02 08 02 0d 03 06'),
      fromHex('01 02 00 15 02 06 00 00 00 00 03 05 c2 23 81 05 06 a1 b2 c3 d4'),
      fromHex('08 05 00 14 80 57 01 01 00 0e 01 0a 00 00 00 00 00 00 00 01'),
      fromHex('09 06 00 0c a1 b2 c3 d4 de ad be ef'),
      fromHex('0d 0a 00 0e 5d 0c 1a 2b 00 00 0e 10 31 68'),
      fromHex('0c 08 00 12 5d 0c 1a 2b 4d 53 52 41 53 56 35 2e 32 30'),
    ],
  },
  {
    name: 'lcp option values',
    decode: optionList(decodeLcpOption),
    corpus: [
      fromHex(
        '01 04 05 dc 02 06 00 00 00 00 03 05 c2 23 81 04 08 c0 25 00 00 01 f4 05 06 de ad be ef 07 02 08 02',
      ),
    ],
  },
  {
    name: 'ipcp packet + options',
    decode: withOptions(decodeIpcpPacket, decodeIpcpOption),
    corpus: [
      fromHex('01 01 00 10 03 06 c0 a8 01 01 02 06 00 2d 0f 01'),
      fromHex('01 00 00 1c 01 0a 0a 00 00 01 0a 00 00 02 81 06 01 02 03 04 83 06 05 06 07 08'),
    ],
  },
  {
    name: 'ipv6cp packet + options',
    decode: withOptions(decodeIpv6cpPacket, decodeIpv6cpOption),
    corpus: [fromHex('01 01 00 14 01 0a 02 11 22 ff fe 33 44 55 02 06 00 61 0f 00')],
  },
  {
    name: 'ccp packet + options',
    decode: withOptions(decodeCcpPacket, decodeCcpOption),
    corpus: [fromHex('01 02 00 11 12 06 01 00 00 e1 1a 04 78 00 15 03 2f'), fromHex('0e 03 00 06 ab cd')],
  },
  {
    name: 'pap packet',
    decode: decodePapPacket,
    corpus: [
      fromHex('01 01 00 0e 04 75 73 65 72 04 70 61 73 73'),
      fromHex('02 01 00 0d 08 4c 6f 67 69 6e 20 6f 6b'),
    ],
  },
  {
    name: 'chap packet + ms-chap value',
    decode: (b) => {
      const p = decodeChapPacket(b);
      if (p.kind === 'response') {
        if (p.value.length === 49) {
          decodeMsChapV1Response(p.value);
          decodeMsChapV2Response(p.value);
        }
      }
      return p;
    },
    corpus: [
      fromHex('01 02 00 15 10 5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28'),
      fromHex(`02 02 00 3a 31 ${V2_VALUE} 55 73 65 72`),
    ],
  },
  {
    name: 'ms-chap response values',
    decode: (b) => [decodeMsChapV1Response(b), decodeMsChapV2Response(b)],
    corpus: [fromHex(V2_VALUE)],
  },
  {
    name: 'ms-chap-v2 success text',
    decode: parseMsChapV2Success,
    corpus: [utf8(`S=${AUTH} M=Access granted`), utf8(`S=${AUTH.toLowerCase()}`)],
  },
  {
    name: 'ms-chap failure text',
    decode: parseMsChapFailure,
    corpus: [
      utf8('E=691 R=1 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=0 M=Access denied'),
      utf8('E=691 R=1 C=102DB5DF085D3041 V=0'),
    ],
  },
];
