/**
 * MS-CHAP (RFC 2433, CHAP algorithm 0x80) and MS-CHAP-V2 (RFC 2759, 0x81)
 * sub-formats carried inside CHAP packets (chap.ts):
 *  - the 49-octet Response Value of each version;
 *  - the MS-CHAP-V2 Success message `S=<auth_string> M=<message>`;
 *  - the Failure message `E=eeeeeeeeee R=r C=cccc... V=vvvvvvvvvv M=<msg>`.
 *
 * The text parsers are tolerant of what real peers send (lower-case hex,
 * a missing `M=`, extra spaces, an MS-CHAPv1 Failure without `C=`), as
 * RFC 2433 §8 asks: "Implementations should accept but ignore additional
 * text they do not recognize." The formatters emit the canonical form.
 *
 * Text is handled one character per byte (latin-1), so parse → format
 * round-trips any byte string exactly.
 *
 * Ownership: byte fields of decoded Response Values are views into the
 * input; the text parsers return fresh copies.
 */

import { fromLatin1 } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';

/** MS-CHAP challenge Value size: RFC 2433 §5 "MS-CHAP authenticators send an 8-octet challenge Value field." */
export const MSCHAP_CHALLENGE_LENGTH = 8;
/** MS-CHAP-V2 challenge Value size: RFC 2759 §3 "MS-CHAP-V2 authenticators send an 16-octet challenge Value field." */
export const MSCHAPV2_CHALLENGE_LENGTH = 16;
/** Response Value size of both versions (RFC 2433 §6, RFC 2759 §4): 49 octets. */
export const MSCHAP_RESPONSE_LENGTH = 49;
/** The Authenticator Response is 20 octets, sent as 40 hex digits (RFC 2759 §5). */
export const MSCHAPV2_AUTHENTICATOR_RESPONSE_LENGTH = 20;

// ─── Response Values ────────────────────────────────────────────────────────

/**
 * Byte ranges of the MS-CHAP (v1) Response Value (RFC 2433 §6):
 * ```
 *   24 octets: LAN Manager compatible challenge response
 *   24 octets: Windows NT compatible challenge response
 *    1 octet : "Use Windows NT compatible challenge response" flag
 * ```
 */
export const MSCHAPV1_RESPONSE_FIELD = {
  LM_RESPONSE: [0, 24],
  NT_RESPONSE: [24, 48],
  FLAGS: 48,
} as const;

/**
 * Byte ranges of the MS-CHAP-V2 Response Value (RFC 2759 §4):
 * ```
 *   16 octets: Peer-Challenge
 *    8 octets: Reserved, must be zero
 *   24 octets: NT-Response
 *    1 octet : Flags
 * ```
 */
export const MSCHAPV2_RESPONSE_FIELD = {
  PEER_CHALLENGE: [0, 16],
  RESERVED: [16, 24],
  NT_RESPONSE: [24, 48],
  FLAGS: 48,
} as const;

/** MS-CHAP (v1) Response Value (RFC 2433 §6). */
export interface MsChapV1Response {
  /** Deprecated: "peers SHOULD NOT generate it, and the sub-field SHOULD be zero-filled." */
  readonly lmResponse: Uint8Array;
  readonly ntResponse: Uint8Array;
  /** 1 = "the Windows NT response is provided and should be used"; 0 = use the LAN Manager response. */
  readonly useNtResponse: number;
}

/** MS-CHAP-V2 Response Value (RFC 2759 §4). */
export interface MsChapV2Response {
  /** "a 16-octet random number" chosen by the peer. */
  readonly peerChallenge: Uint8Array;
  /** "Reserved, must be zero": kept so the value round-trips; not checked (Windows is lenient too). */
  readonly reserved: Uint8Array;
  readonly ntResponse: Uint8Array;
  /**
   * "reserved for future use and MUST be zero", but Windows 98 sends 0x04
   * and then cannot parse an `M=` in the Success message (pppd chap_ms.c):
   * the authenticator looks at this to pick the Success format.
   */
  readonly flags: number;
}

function checkResponseLength(value: Uint8Array, version: string, reference: string): void {
  if (value.length < MSCHAP_RESPONSE_LENGTH) {
    throw new WireError(
      WireErrorCode.Truncated,
      `${version} Response Value: ${value.length} bytes, need ${MSCHAP_RESPONSE_LENGTH}`,
      reference,
    );
  }
  if (value.length > MSCHAP_RESPONSE_LENGTH) {
    throw new WireError(
      WireErrorCode.LengthTooLarge,
      `${version} Response Value: ${value.length} bytes, must be exactly ${MSCHAP_RESPONSE_LENGTH}`,
      reference,
    );
  }
}

/**
 * Decodes the CHAP Response Value of MS-CHAP v1. The Value is exactly 49
 * bytes (its size comes from the CHAP Value-Size octet, so anything else is
 * malformed; pppd rejects it the same way).
 */
export function decodeMsChapV1Response(value: Uint8Array): MsChapV1Response {
  checkResponseLength(value, 'MS-CHAP', 'RFC 2433 §6: 24 + 24 + 1 octets');
  const f = MSCHAPV1_RESPONSE_FIELD;
  return {
    lmResponse: value.subarray(...f.LM_RESPONSE),
    ntResponse: value.subarray(...f.NT_RESPONSE),
    useNtResponse: value[f.FLAGS]!,
  };
}

/** Encodes an MS-CHAP v1 Response Value into `out` at `offset` (allocating when omitted). */
export function encodeMsChapV1Response(r: MsChapV1Response, out?: Uint8Array, offset = 0): Uint8Array {
  if (r.lmResponse.length !== 24 || r.ntResponse.length !== 24) {
    throw new RangeError('encodeMsChapV1Response: LM and NT responses must be 24 bytes');
  }
  const buf = out ?? new Uint8Array(MSCHAP_RESPONSE_LENGTH);
  if (offset + MSCHAP_RESPONSE_LENGTH > buf.length)
    throw new RangeError('encodeMsChapV1Response: buffer too small');
  const f = MSCHAPV1_RESPONSE_FIELD;
  buf.set(r.lmResponse, offset + f.LM_RESPONSE[0]);
  buf.set(r.ntResponse, offset + f.NT_RESPONSE[0]);
  buf[offset + f.FLAGS] = r.useNtResponse & 0xff;
  return buf.subarray(offset, offset + MSCHAP_RESPONSE_LENGTH);
}

/** Decodes the CHAP Response Value of MS-CHAP-V2 (exactly 49 bytes). */
export function decodeMsChapV2Response(value: Uint8Array): MsChapV2Response {
  checkResponseLength(value, 'MS-CHAP-V2', 'RFC 2759 §4: 16 + 8 + 24 + 1 octets');
  const f = MSCHAPV2_RESPONSE_FIELD;
  return {
    peerChallenge: value.subarray(...f.PEER_CHALLENGE),
    reserved: value.subarray(...f.RESERVED),
    ntResponse: value.subarray(...f.NT_RESPONSE),
    flags: value[f.FLAGS]!,
  };
}

/** Encodes an MS-CHAP-V2 Response Value into `out` at `offset` (allocating when omitted). */
export function encodeMsChapV2Response(r: MsChapV2Response, out?: Uint8Array, offset = 0): Uint8Array {
  if (r.peerChallenge.length !== 16 || r.reserved.length !== 8 || r.ntResponse.length !== 24) {
    throw new RangeError('encodeMsChapV2Response: field sizes must be 16, 8 and 24 bytes');
  }
  const buf = out ?? new Uint8Array(MSCHAP_RESPONSE_LENGTH);
  if (offset + MSCHAP_RESPONSE_LENGTH > buf.length)
    throw new RangeError('encodeMsChapV2Response: buffer too small');
  const f = MSCHAPV2_RESPONSE_FIELD;
  buf.set(r.peerChallenge, offset + f.PEER_CHALLENGE[0]);
  buf.set(r.reserved, offset + f.RESERVED[0]);
  buf.set(r.ntResponse, offset + f.NT_RESPONSE[0]);
  buf[offset + f.FLAGS] = r.flags & 0xff;
  return buf.subarray(offset, offset + MSCHAP_RESPONSE_LENGTH);
}

// ─── Text helpers ───────────────────────────────────────────────────────────

const HEX_UPPER = '0123456789ABCDEF';

/** Upper-case hex, as RFC 2759 §5 requires for the auth string ("MUST be uppercase"). */
export function toUpperHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += HEX_UPPER[x >>> 4]! + HEX_UPPER[x & 15]!;
  return s;
}

/** Parses hex of either case; `undefined` on an odd length or a non-hex digit. */
function parseHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** One char per byte; characters above 0xff cannot occur in text this module produces. */
function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function text(message: Uint8Array | string): string {
  return typeof message === 'string' ? message : fromLatin1(message);
}

// ─── Success message (MS-CHAP-V2) ───────────────────────────────────────────

/** The MS-CHAP-V2 Success Message (RFC 2759 §5): `S=<auth_string> M=<message>`. */
export interface MsChapV2Success {
  /** The 20-octet Authenticator Response (compare with `crypto.timingSafeEqual`). */
  readonly authenticatorResponse: Uint8Array;
  /**
   * The `M=` text, or `undefined` when the packet had none (Windows 98
   * style; pppd omits it when the peer's Response Flags are non-zero).
   */
  readonly message: string | undefined;
}

/**
 * Parses an MS-CHAP-V2 Success Message. Accepts lower-case hex (the RFC
 * asks for upper case, some servers send lower), leading/extra spaces, and
 * a missing `M=`. Text after the auth string that is not an `M=` field is
 * ignored.
 *
 * Throws {@link WireError} when there is no `S=` followed by exactly 40 hex
 * digits: RFC 2759 §5 "If the authenticator response is either missing or
 * incorrect, the peer MUST end the session."
 */
export function parseMsChapV2Success(message: Uint8Array | string): MsChapV2Success {
  const s = text(message);
  const m = /^\s*[Ss]=([0-9A-Fa-f]{40})(?![0-9A-Fa-f])(.*)$/s.exec(s);
  if (!m) {
    throw new WireError(
      WireErrorCode.BadValue,
      'MS-CHAP-V2 Success: no "S=" with 40 hex digits',
      'RFC 2759 §5: "The <auth_string> quantity is a 20 octet number encoded in ASCII as 40 hexadecimal digits."',
    );
  }
  const rest = m[2]!;
  const at = /(?:^|\s)M=/.exec(rest);
  return {
    authenticatorResponse: parseHex(m[1]!)!,
    message: at ? rest.slice(at.index + at[0].length) : undefined,
  };
}

/**
 * Formats an MS-CHAP-V2 Success Message: `S=<40 upper-case hex>` and, when
 * `message` is given, ` M=<message>` (RFC 2759 §5). Pass `undefined` for
 * the Windows 98 form.
 */
export function formatMsChapV2Success(s: MsChapV2Success): Uint8Array {
  if (s.authenticatorResponse.length !== MSCHAPV2_AUTHENTICATOR_RESPONSE_LENGTH) {
    throw new RangeError('formatMsChapV2Success: the authenticator response is 20 bytes');
  }
  const head = `S=${toUpperHex(s.authenticatorResponse)}`;
  return latin1Bytes(s.message === undefined ? head : `${head} M=${s.message}`);
}

// ─── Failure message (both versions) ────────────────────────────────────────

/** Error codes of the `E=` field (RFC 2433 §8, RFC 2759 §6). */
export enum MsChapError {
  RestrictedLogonHours = 646,
  AccountDisabled = 647,
  PasswordExpired = 648,
  NoDialinPermission = 649,
  AuthenticationFailure = 691,
  ChangingPassword = 709,
}

/** The MS-CHAP Failure Message (RFC 2433 §8, RFC 2759 §6). */
export interface MsChapFailure {
  /** `E=`: decimal error code, see {@link MsChapError}. */
  readonly error: number;
  /** `R=1`: the authenticator will accept a new Response. A missing `R=` reads as false. */
  readonly retry: boolean;
  /**
   * `C=`: the challenge for the retried Response: 16 octets for MS-CHAP-V2
   * ("MUST be exactly 32 octets long and MUST be present"), 8 octets and
   * optional for MS-CHAP v1.
   */
  readonly challenge: Uint8Array | undefined;
  /** `V=`: password-change protocol version; undefined when absent (v1: "assumed to be 1"). */
  readonly version: number | undefined;
  /** `M=`: human-readable text (MS-CHAP-V2), to the end of the message. */
  readonly message: string | undefined;
}

/**
 * Parses an MS-CHAP Failure Message. Fields are space-separated `X=value`
 * tokens in any order; `M=` runs to the end. Unknown tokens are ignored
 * (RFC 2433 §8). Accepts lower-case hex and a missing `C=`/`V=`/`M=`/`R=`.
 *
 * Throws {@link WireError} when there is no decimal `E=` field (pppd treats
 * such a message as "badly formatted" too), or when `C=` is not hex.
 */
export function parseMsChapFailure(message: Uint8Array | string): MsChapFailure {
  const s = text(message);
  let error: number | undefined;
  let retry = false;
  let challenge: Uint8Array | undefined;
  let version: number | undefined;
  let msg: string | undefined;
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    if (s.startsWith('M=', i)) {
      msg = s.slice(i + 2);
      break;
    }
    let j = i;
    while (j < s.length && !/\s/.test(s[j]!)) j++;
    const tok = s.slice(i, j);
    i = j;
    const eq = tok.indexOf('=');
    if (eq !== 1) continue; // not one of ours: ignore
    const val = tok.slice(2);
    switch (tok[0]) {
      case 'E':
        if (/^\d{1,10}$/.test(val)) error = Number(val);
        break;
      case 'R':
        retry = val === '1';
        break;
      case 'C': {
        const c = parseHex(val);
        if (!c) {
          throw new WireError(
            WireErrorCode.BadValue,
            `MS-CHAP Failure: C= is not hex (${val.length} chars)`,
            'RFC 2759 §6: "The cccc... is the ASCII representation of a hexadecimal challenge value."',
          );
        }
        challenge = c;
        break;
      }
      case 'V':
        if (/^\d{1,10}$/.test(val)) version = Number(val);
        break;
    }
  }
  if (error === undefined) {
    throw new WireError(
      WireErrorCode.BadValue,
      'MS-CHAP Failure: no decimal "E=" field',
      'RFC 2433 §8 / RFC 2759 §6: "E=eeeeeeeeee ... the ASCII representation of a decimal error code"',
    );
  }
  return { error, retry, challenge, version, message: msg };
}

/**
 * Formats an MS-CHAP Failure Message in the order `E= R= C= V= M=`, with
 * upper-case hex; absent fields are left out. pppd's forms are
 * `E=691 R=1 C=<hex> V=0` (v1) and `E=691 R=1 C=<hex> V=0 M=<text>` (v2).
 */
export function formatMsChapFailure(f: MsChapFailure): Uint8Array {
  const parts = [`E=${f.error}`, `R=${f.retry ? 1 : 0}`];
  if (f.challenge) parts.push(`C=${toUpperHex(f.challenge)}`);
  if (f.version !== undefined) parts.push(`V=${f.version}`);
  if (f.message !== undefined) parts.push(`M=${f.message}`);
  return latin1Bytes(parts.join(' '));
}
