import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex } from '../../src/wire/bytes.js';
import {
  decodePapPacket,
  encodePapPacket,
  type PapPacket,
  papCode,
  papPacketLength,
} from '../../src/wire/pap.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';
import { PAP_PACKET_CASES } from './ppp-fixtures.js';

const none = new Uint8Array(0);

codecSuite<PapPacket>(
  'PAP packets (RFC 1334 §2.2)',
  { decode: decodePapPacket, encode: encodePapPacket, length: papPacketLength },
  PAP_PACKET_CASES,
  {
    lie: (b) => {
      b[3] = b[3]! + 1;
      return b;
    },
  },
);

describe('PAP edge cases', () => {
  it('tolerates an Ack without Msg-Length (pppd does) and re-encodes canonically', () => {
    const p = decodePapPacket(fromHex('02 05 00 04'));
    assert.deepEqual(p, { kind: 'authenticate-ack', identifier: 5, message: none });
    assert.deepEqual(encodePapPacket(p), fromHex('02 05 00 05 00'));
  });
  it('refuses a Peer-ID that leaves no room for Passwd-Length', () => {
    assertWireError(() => decodePapPacket(fromHex('01 01 00 09 04 75 73 65 72')));
    assertWireError(() => decodePapPacket(fromHex('01 01 00 07 05 75 73')));
  });
  it('refuses a Password that runs past Length', () => {
    assertWireError(() => decodePapPacket(fromHex('01 01 00 0b 04 75 73 65 72 02 70 61 73')));
  });
  it('refuses a Request with no Data and a Msg-Length past the end', () => {
    assertWireError(() => decodePapPacket(fromHex('01 01 00 04')));
    assertWireError(() => decodePapPacket(fromHex('03 01 00 06 05 41')));
  });
  it('encoding refuses a 256-byte password', () => {
    assert.throws(
      () =>
        encodePapPacket({
          kind: 'authenticate-request',
          identifier: 1,
          peerId: none,
          password: new Uint8Array(256),
        }),
      RangeError,
    );
  });
  it('papCode maps kinds back', () => {
    for (const c of [1, 2, 3, 9]) assert.equal(papCode(decodePapPacket(Uint8Array.of(c, 0, 0, 6, 0, 0))), c);
  });
});
