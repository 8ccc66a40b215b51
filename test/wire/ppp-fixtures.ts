/**
 * Packet fixtures of the PPP control-protocol and authentication codecs,
 * shared by the codec suites (test/wire/{lcp,ipcp,ipv6cp,ccp,pap,chap}.test.ts)
 * and the tshark oracle (test/wire/ppp-tshark.test.ts). Sources are listed
 * in test/vectors/README.md.
 */

import { fromHex, utf8 } from '../../src/wire/bytes.js';
import type { CcpPacket } from '../../src/wire/ccp.js';
import type { ChapPacket } from '../../src/wire/chap.js';
import type { IpcpPacket } from '../../src/wire/ipcp.js';
import type { Ipv6cpPacket } from '../../src/wire/ipv6cp.js';
import type { LcpPacket } from '../../src/wire/lcp.js';
import type { PapPacket } from '../../src/wire/pap.js';
import type { CodecCase } from '../helpers/codec.js';

const none = new Uint8Array(0);

// RFC 2759 §9.2 values.
export const RFC2759_AUTH_CHALLENGE = '5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28';
export const RFC2759_PEER_CHALLENGE = '21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E';
export const RFC2759_NT_RESPONSE = '82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF';
const V2_VALUE = `${RFC2759_PEER_CHALLENGE} 00 00 00 00 00 00 00 00 ${RFC2759_NT_RESPONSE} 00`;
const AUTH_CHALLENGE = RFC2759_AUTH_CHALLENGE;
const toHexOf = (t: string) => Buffer.from(t, 'latin1').toString('hex');

export const LCP_PACKET_CASES: CodecCase<LcpPacket>[] = [
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
    value: { kind: 'terminate-request', identifier: 3, data: utf8('User request') },
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
      message: utf8('MSRASV5.20'),
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
];

export const IPCP_PACKET_CASES: CodecCase<IpcpPacket>[] = [
  {
    name: 'Configure-Request: IP-Address 192.168.1.1, VJ 15 slots',
    hex: '01 01 00 10 03 06 c0 a8 01 01 02 06 00 2d 0f 01',
    source: 'scapy test/scapy/layers/ppp.uts "PPP IPCP"',
    value: {
      kind: 'configure-request',
      identifier: 1,
      options: [
        { type: 3, data: fromHex('c0a80101') },
        { type: 2, data: fromHex('002d0f01') },
      ],
    },
  },
  {
    name: 'Configure-Request: DNS1, DNS2, NBNS2',
    hex: '01 00 00 16 81 06 01 02 03 04 83 06 05 06 07 08 84 06 09 0a 0b 0c',
    source: 'scapy test/scapy/layers/ppp.uts "PPP IPCP"',
    value: {
      kind: 'configure-request',
      identifier: 0,
      options: [
        { type: 129, data: fromHex('01020304') },
        { type: 131, data: fromHex('05060708') },
        { type: 132, data: fromHex('090a0b0c') },
      ],
    },
  },
  {
    name: 'Configure-Request with an unknown option 123 between known ones',
    hex: '01 00 00 1f 81 06 01 02 03 04 83 06 05 06 07 08 7b 09 41 42 43 44 45 46 47 84 06 09 0a 0b 0c',
    source: 'scapy test/scapy/layers/ppp.uts "PPP IPCP"',
    value: {
      kind: 'configure-request',
      identifier: 0,
      options: [
        { type: 129, data: fromHex('01020304') },
        { type: 131, data: fromHex('05060708') },
        { type: 123, data: utf8('ABCDEFG') },
        { type: 132, data: fromHex('090a0b0c') },
      ],
    },
  },
  {
    name: 'Configure-Nak assigning 10.0.0.2 and DNS 10.0.0.1',
    hex: '03 01 00 10 03 06 0a 00 00 02 81 06 0a 00 00 01',
    value: {
      kind: 'configure-nak',
      identifier: 1,
      options: [
        { type: 3, data: fromHex('0a000002') },
        { type: 129, data: fromHex('0a000001') },
      ],
    },
  },
  {
    name: 'Configure-Reject of VJ',
    hex: '04 01 00 0a 02 06 00 2d 0f 01',
    value: { kind: 'configure-reject', identifier: 1, options: [{ type: 2, data: fromHex('002d0f01') }] },
  },
  {
    name: 'Code 8 is unknown to IPCP (Code-Reject it)',
    hex: '08 01 00 06 00 21',
    value: { kind: 'unknown', code: 8, identifier: 1, data: fromHex('0021') },
  },
];

export const IPV6CP_PACKET_CASES: CodecCase<Ipv6cpPacket>[] = [
  {
    name: 'Configure-Request: Interface-Identifier',
    hex: '01 01 00 0e 01 0a 02 11 22 ff fe 33 44 55',
    value: {
      kind: 'configure-request',
      identifier: 1,
      options: [{ type: 1, data: fromHex('021122fffe334455') }],
    },
  },
  {
    name: 'Configure-Nak proposing another identifier',
    hex: '03 01 00 0e 01 0a 6a 3c 00 00 00 00 00 01',
    value: {
      kind: 'configure-nak',
      identifier: 1,
      options: [{ type: 1, data: fromHex('6a3c000000000001') }],
    },
  },
  {
    name: 'Terminate-Request, no data',
    hex: '05 02 00 04',
    value: { kind: 'terminate-request', identifier: 2, data: new Uint8Array(0) },
  },
];

export const CCP_PACKET_CASES: CodecCase<CcpPacket>[] = [
  {
    name: 'Configure-Request: MPPE-128 stateless',
    hex: '01 01 00 0a 12 06 01 00 00 40',
    value: { kind: 'configure-request', identifier: 1, options: [{ type: 18, data: fromHex('01000040') }] },
  },
  {
    name: 'Configure-Request: MPPE/MPPC plus Deflate and BSD-Compress',
    hex: '01 02 00 11 12 06 01 00 00 e1 1a 04 78 00 15 03 2f',
    value: {
      kind: 'configure-request',
      identifier: 2,
      options: [
        { type: 18, data: fromHex('010000e1') },
        { type: 26, data: fromHex('7800') },
        { type: 21, data: fromHex('2f') },
      ],
    },
  },
  {
    name: 'Reset-Request, no data',
    hex: '0e 03 00 04',
    value: { kind: 'reset-request', identifier: 3, data: new Uint8Array(0) },
  },
  {
    name: 'Reset-Ack with data',
    hex: '0f 03 00 06 ab cd',
    value: { kind: 'reset-ack', identifier: 3, data: fromHex('abcd') },
  },
  {
    name: 'unknown code 16',
    hex: '10 01 00 04',
    value: { kind: 'unknown', code: 16, identifier: 1, data: new Uint8Array(0) },
  },
];

export const PAP_PACKET_CASES: CodecCase<PapPacket>[] = [
  {
    name: 'Authenticate-Request user/pass',
    hex: '01 01 00 0e 04 75 73 65 72 04 70 61 73 73',
    value: { kind: 'authenticate-request', identifier: 1, peerId: utf8('user'), password: utf8('pass') },
  },
  {
    name: 'Authenticate-Request with empty Peer-ID and Password',
    hex: '01 02 00 06 00 00',
    value: { kind: 'authenticate-request', identifier: 2, peerId: none, password: none },
  },
  {
    name: 'Authenticate-Ack "Login ok"',
    hex: '02 01 00 0d 08 4c 6f 67 69 6e 20 6f 6b',
    value: { kind: 'authenticate-ack', identifier: 1, message: utf8('Login ok') },
  },
  {
    name: 'Authenticate-Nak, empty message',
    hex: '03 01 00 05 00',
    value: { kind: 'authenticate-nak', identifier: 1, message: none },
  },
  {
    name: 'unknown code 7',
    hex: '07 09 00 05 ff',
    value: { kind: 'unknown', code: 7, identifier: 9, data: fromHex('ff') },
  },
];

export const CHAP_PACKET_CASES: CodecCase<ChapPacket>[] = [
  {
    name: 'MD5 Challenge with a name',
    hex: '01 01 00 1b 10 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 73 65 72 76 65 72',
    value: {
      kind: 'challenge',
      identifier: 1,
      value: fromHex('00112233445566778899aabbccddeeff'),
      name: utf8('server'),
    },
  },
  {
    name: 'MD5 Response',
    hex: '02 01 00 19 10 0f 0e 0d 0c 0b 0a 09 08 07 06 05 04 03 02 01 00 75 73 65 72',
    value: {
      kind: 'response',
      identifier: 1,
      value: fromHex('0f0e0d0c0b0a09080706050403020100'),
      name: utf8('user'),
    },
  },
  {
    name: 'MS-CHAP-V2 Challenge, empty Name (RFC 2759 §9.2 challenge)',
    hex: `01 02 00 15 10 ${AUTH_CHALLENGE}`,
    source: 'RFC 2759 §9.2',
    value: { kind: 'challenge', identifier: 2, value: fromHex(AUTH_CHALLENGE), name: new Uint8Array(0) },
  },
  {
    name: 'MS-CHAP-V2 Response for "User" (RFC 2759 §9.2 values)',
    hex: `02 02 00 3a 31 ${V2_VALUE} 55 73 65 72`,
    source: 'RFC 2759 §9.2',
    value: { kind: 'response', identifier: 2, value: fromHex(V2_VALUE), name: utf8('User') },
  },
  {
    name: 'MS-CHAP-V2 Success (RFC 2759 §9.2 authenticator response)',
    hex: `03 02 00 3f ${toHexOf('S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted')}`,
    source: 'RFC 2759 §9.2',
    value: {
      kind: 'success',
      identifier: 2,
      message: utf8('S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted'),
    },
  },
  {
    name: 'MD5 Success, empty message',
    hex: '03 01 00 04',
    value: { kind: 'success', identifier: 1, message: new Uint8Array(0) },
  },
  {
    name: 'Failure "E=691 R=0"',
    hex: '04 07 00 0d 45 3d 36 39 31 20 52 3d 30',
    value: { kind: 'failure', identifier: 7, message: utf8('E=691 R=0') },
  },
  {
    name: 'Change-Password (7) stays raw',
    hex: '07 03 00 06 01 02',
    value: { kind: 'unknown', code: 7, identifier: 3, data: fromHex('0102') },
  },
];
