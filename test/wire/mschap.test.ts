import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex, utf8 } from '../../src/wire/bytes.js';
import {
  decodeMsChapV1Response,
  decodeMsChapV2Response,
  encodeMsChapV1Response,
  encodeMsChapV2Response,
  formatMsChapFailure,
  formatMsChapV2Success,
  MSCHAP_RESPONSE_LENGTH,
  MsChapError,
  type MsChapFailure,
  type MsChapV1Response,
  type MsChapV2Response,
  type MsChapV2Success,
  parseMsChapFailure,
  parseMsChapV2Success,
} from '../../src/wire/mschap.js';
import { assertWireError, type Codec, codecSuite } from '../helpers/codec.js';

// RFC 2759 §9.2
const PEER_CHALLENGE = '21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E';
const NT_RESPONSE_V2 = '82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF';
const AUTH_RESPONSE = '407A5589115FD0D6209F510FE9C04566932CDA56';
// RFC 2433 §B.2
const NT_RESPONSE_V1 = '4E 9D 3C 8F 9C FD 38 5D 5B F4 D3 24 67 91 95 6C A4 C3 51 AB 40 9A 3D 61';

const fixed = <T>(decode: (b: Uint8Array) => T, encode: Codec<T>['encode']): Codec<T> => ({
  decode,
  encode,
  length: () => MSCHAP_RESPONSE_LENGTH,
});

codecSuite<MsChapV1Response>(
  'MS-CHAP v1 Response Value (RFC 2433 §6)',
  fixed(decodeMsChapV1Response, encodeMsChapV1Response),
  [
    {
      name: 'NT response of RFC 2433 §B.2, LM zero-filled, flag 1',
      hex: `${'00 '.repeat(24)} ${NT_RESPONSE_V1} 01`,
      source: 'RFC 2433 §B.2',
      value: { lmResponse: new Uint8Array(24), ntResponse: fromHex(NT_RESPONSE_V1), useNtResponse: 1 },
    },
  ],
  { overlong: false }, // the Value-Size octet fixes the size: 49 exactly
);

codecSuite<MsChapV2Response>(
  'MS-CHAP-V2 Response Value (RFC 2759 §4)',
  fixed(decodeMsChapV2Response, encodeMsChapV2Response),
  [
    {
      name: 'RFC 2759 §9.2 Peer-Challenge and NT-Response',
      hex: `${PEER_CHALLENGE} ${'00 '.repeat(8)} ${NT_RESPONSE_V2} 00`,
      source: 'RFC 2759 §9.2',
      value: {
        peerChallenge: fromHex(PEER_CHALLENGE),
        reserved: new Uint8Array(8),
        ntResponse: fromHex(NT_RESPONSE_V2),
        flags: 0,
      },
    },
    {
      name: 'Windows 98: Flags 0x04',
      hex: `${PEER_CHALLENGE} ${'00 '.repeat(8)} ${NT_RESPONSE_V2} 04`,
      value: {
        peerChallenge: fromHex(PEER_CHALLENGE),
        reserved: new Uint8Array(8),
        ntResponse: fromHex(NT_RESPONSE_V2),
        flags: 4,
      },
    },
  ],
  { overlong: false },
);

describe('Response Values must be exactly 49 octets', () => {
  it('50 bytes are refused by both versions', () => {
    assertWireError(() => decodeMsChapV1Response(new Uint8Array(50)));
    assertWireError(() => decodeMsChapV2Response(new Uint8Array(50)));
  });
  it('a 16-byte MD5-sized value is refused', () => {
    assertWireError(() => decodeMsChapV2Response(new Uint8Array(16)));
  });
});

const textCodec = <T>(parse: (b: Uint8Array) => T, format: (v: T) => Uint8Array): Codec<T> => ({
  decode: parse,
  encode(v, out, offset = 0) {
    const b = format(v);
    const buf = out ?? new Uint8Array(b.length);
    buf.set(b, offset);
    return buf.subarray(offset, offset + b.length);
  },
  length: (v) => format(v).length,
});

const hexOf = (s: string) => toHex(utf8(s));

codecSuite<MsChapV2Success>(
  'MS-CHAP-V2 Success message (RFC 2759 §5)',
  textCodec(parseMsChapV2Success, formatMsChapV2Success),
  [
    {
      name: 'RFC 2759 §9.2 authenticator response with pppd\'s "Access granted"',
      hex: hexOf(`S=${AUTH_RESPONSE} M=Access granted`),
      source: 'RFC 2759 §9.2; message text as pppd chap_ms.c',
      value: { authenticatorResponse: fromHex(AUTH_RESPONSE), message: 'Access granted' },
    },
    {
      name: 'Windows 98 form: no M=',
      hex: hexOf(`S=${AUTH_RESPONSE}`),
      value: { authenticatorResponse: fromHex(AUTH_RESPONSE), message: undefined },
    },
    {
      name: 'empty M=',
      hex: hexOf(`S=${AUTH_RESPONSE} M=`),
      value: { authenticatorResponse: fromHex(AUTH_RESPONSE), message: '' },
    },
  ],
  { overlong: false, truncation: 'total' }, // the message runs to the end; a prefix may still be a valid message
);

const failure = (f: Partial<MsChapFailure>): MsChapFailure => ({
  error: 691,
  retry: false,
  challenge: undefined,
  version: undefined,
  message: undefined,
  ...f,
});

codecSuite<MsChapFailure>(
  'MS-CHAP Failure message (RFC 2433 §8, RFC 2759 §6)',
  textCodec(parseMsChapFailure, formatMsChapFailure),
  [
    {
      name: 'pppd MS-CHAP-V2 form',
      hex: hexOf('E=691 R=1 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=0 M=Access denied'),
      value: failure({
        retry: true,
        challenge: fromHex('5B5D7C7D7B3F2F3E3C2C602132262628'),
        version: 0,
        message: 'Access denied',
      }),
    },
    {
      name: 'pppd MS-CHAP v1 form (8-byte challenge, no M=)',
      hex: hexOf('E=691 R=1 C=102DB5DF085D3041 V=0'),
      value: failure({ retry: true, challenge: fromHex('102DB5DF085D3041'), version: 0 }),
    },
    {
      name: 'RFC 2433 §B.1.2: "E=691 R=0"',
      hex: hexOf('E=691 R=0'),
      value: failure({}),
    },
    {
      name: 'account disabled, version 3, message with spaces and "="',
      hex: hexOf('E=647 R=0 V=3 M=Account disabled: see a=b'),
      value: failure({
        error: MsChapError.AccountDisabled,
        version: 3,
        message: 'Account disabled: see a=b',
      }),
    },
  ],
  { overlong: false, truncation: 'total' },
);

describe('MS-CHAP text parsers tolerate real-world variants', () => {
  it('Success: lower-case hex, leading and extra spaces', () => {
    const s = parseMsChapV2Success(`  S=${AUTH_RESPONSE.toLowerCase()}    M=Welcome  home`);
    assert.deepEqual(s.authenticatorResponse, fromHex(AUTH_RESPONSE));
    assert.equal(s.message, 'Welcome  home');
  });
  it('Success: an M= glued to the hex (no space) is still read as the message, as pppd does', () => {
    const s = parseMsChapV2Success(`S=${AUTH_RESPONSE}M=x`);
    assert.equal(s.message, 'x');
  });
  it('Success: unknown text after the auth string is ignored', () => {
    assert.equal(parseMsChapV2Success(`S=${AUTH_RESPONSE} X=1`).message, undefined);
  });
  it('Success: refuses a missing S=, 39 or 41 hex digits, non-hex', () => {
    for (const bad of [
      'M=Access granted',
      `S=${AUTH_RESPONSE.slice(1)}`,
      `S=${AUTH_RESPONSE}0`,
      `S=${AUTH_RESPONSE.slice(0, 39)}G`,
      '',
    ]) {
      assertWireError(() => parseMsChapV2Success(bad), JSON.stringify(bad));
    }
  });
  it('Failure: lower-case hex, fields out of order, extra spaces, unknown tokens', () => {
    const f = parseMsChapFailure(
      '  R=1   E=691 X=9 foo C=5b5d7c7d7b3f2f3e3c2c602132262628  V=3  M=try again',
    );
    assert.deepEqual(f, {
      error: 691,
      retry: true,
      challenge: fromHex('5B5D7C7D7B3F2F3E3C2C602132262628'),
      version: 3,
      message: 'try again',
    });
  });
  it('Failure: MS-CHAP v1 without C= or V=', () => {
    assert.deepEqual(parseMsChapFailure('E=649 R=0'), failure({ error: 649 }));
  });
  it('Failure: no E= or a non-numeric E= is refused', () => {
    assertWireError(() => parseMsChapFailure('R=1 C=00'));
    assertWireError(() => parseMsChapFailure('E=abc R=0'));
    assertWireError(() => parseMsChapFailure(''));
  });
  it('Failure: a non-hex C= is refused', () => {
    assertWireError(() => parseMsChapFailure('E=691 R=1 C=XYZ'));
    assertWireError(() => parseMsChapFailure('E=691 R=1 C=123'));
  });
  it('Success formatting always uses upper-case hex (RFC 2759 §5 "MUST be uppercase")', () => {
    const b = formatMsChapV2Success({
      authenticatorResponse: fromHex(AUTH_RESPONSE.toLowerCase()),
      message: 'ok',
    });
    assert.equal(new TextDecoder().decode(b), `S=${AUTH_RESPONSE} M=ok`);
  });
  it('parse → format is exact for arbitrary latin-1 message bytes', () => {
    const raw = new Uint8Array([...utf8(`S=${AUTH_RESPONSE} M=`), 0xff, 0x00, 0x80, 0x41]);
    assert.deepEqual(formatMsChapV2Success(parseMsChapV2Success(raw)), raw);
  });
});
