/**
 * Challenge-Handshake Authentication Protocol packets (RFC 1994 §4), PPP
 * protocol 0xc223. The same framing carries MD5-CHAP, MS-CHAP (RFC 2433)
 * and MS-CHAP-V2 (RFC 2759); the sub-formats of their Response Value and
 * Success/Failure Message live in `mschap.ts`.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Code      |  Identifier   |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Value-Size   |  Value ...                                       (Challenge, Response)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Name ...
 * +-+-+-+-+-+-+-+-+
 *
 * |  Message  ...                                                    (Success, Failure)
 * ```
 *
 * Ownership: `value`, `name`, `message` and `data` are views into the input.
 */

import { CP_HEADER_LENGTH, codeOfKind, decodeCpPacket } from './cp.js';
import { WireError, WireErrorCode } from './errors.js';
import { beginCpPacket, type UnknownCodePacket } from './ncp.js';

/** CHAP Code field values (RFC 1994 §4; RFC 2759 §7 adds Change-Password). */
export enum ChapCode {
  /** RFC 1994 §4.1 */
  Challenge = 1,
  /** RFC 1994 §4.1 */
  Response = 2,
  /** RFC 1994 §4.2 */
  Success = 3,
  /** RFC 1994 §4.2 */
  Failure = 4,
  /** RFC 2759 §7 (MS-CHAP-V2 Change-Password; not implemented, decodes as unknown) */
  ChangePasswordV2 = 7,
}

/** Re-exported: the Algorithm octet belongs to the LCP option (RFC 1994 §3), defined in lcp.ts. */
export { ChapAlgorithm } from './lcp.js';

/** Offsets inside a Challenge/Response packet. */
export const CHAP_FIELD = {
  VALUE_SIZE: 4,
  VALUE: 5,
} as const;

/** Challenge or Response (RFC 1994 §4.1). */
export interface ChapChallengeResponse {
  readonly kind: 'challenge' | 'response';
  readonly identifier: number;
  /** "The Value field is one or more octets." */
  readonly value: Uint8Array;
  /**
   * "identification of the system transmitting the packet", the rest of the
   * packet. RFC 1994 says one or more octets, but Microsoft authenticators
   * send it empty (RFC 2433 §5, RFC 2759 §3), so empty is accepted.
   */
  readonly name: Uint8Array;
}

/** Success or Failure (RFC 1994 §4.2). */
export interface ChapResult {
  readonly kind: 'success' | 'failure';
  readonly identifier: number;
  /** Human-readable for MD5-CHAP; carries `S=`/`E=` fields for MS-CHAP (see mschap.ts). */
  readonly message: Uint8Array;
}

/** A code this codec does not interpret (e.g. MS-CHAP Change-Password): the shared unknown-code packet. */
export type ChapUnknown = UnknownCodePacket;

/** Every CHAP packet. Switch on `kind`. */
export type ChapPacket = ChapChallengeResponse | ChapResult | ChapUnknown;

/**
 * Decodes a CHAP packet from the PPP Information field. Padding past Length
 * is ignored (RFC 1994 §4: "Octets outside the range of the Length field
 * should be treated as Data Link Layer padding").
 */
export function decodeChapPacket(bytes: Uint8Array): ChapPacket {
  const p = decodeCpPacket(bytes);
  const { identifier, data } = p;
  switch (p.code) {
    case ChapCode.Challenge:
    case ChapCode.Response: {
      const kind = p.code === ChapCode.Challenge ? 'challenge' : 'response';
      if (data.length < 1) {
        throw new WireError(WireErrorCode.Truncated, `CHAP ${kind}: no Value-Size`, 'RFC 1994 §4.1');
      }
      const size = data[0]!;
      if (size === 0) {
        throw new WireError(
          WireErrorCode.BadValue,
          `CHAP ${kind}: Value-Size 0`,
          'RFC 1994 §4.1: "The Value field is one or more octets."',
        );
      }
      if (1 + size > data.length) {
        throw new WireError(
          WireErrorCode.LengthTooLarge,
          `CHAP ${kind}: Value-Size ${size} runs past the packet (${data.length - 1} bytes left)`,
          'RFC 1994 §4.1: "Value-Size ... indicates the length of the Value field"',
        );
      }
      return { kind, identifier, value: data.subarray(1, 1 + size), name: data.subarray(1 + size) };
    }
    case ChapCode.Success:
      return { kind: 'success', identifier, message: data };
    case ChapCode.Failure:
      return { kind: 'failure', identifier, message: data };
    default:
      return { kind: 'unknown', code: p.code, identifier, data };
  }
}

/** The Code of each CHAP packet kind (RFC 1994 §4). */
const CHAP_CODES = {
  challenge: ChapCode.Challenge,
  response: ChapCode.Response,
  success: ChapCode.Success,
  failure: ChapCode.Failure,
} as const;

/** The Code of a CHAP packet value. */
export function chapCode(p: ChapPacket): number {
  return codeOfKind(CHAP_CODES, p);
}

function chapDataLength(p: ChapPacket): number {
  switch (p.kind) {
    case 'challenge':
    case 'response':
      return 1 + p.value.length + p.name.length;
    case 'success':
    case 'failure':
      return p.message.length;
    case 'unknown':
      return p.data.length;
  }
}

/** Encoded size of a CHAP packet. */
export function chapPacketLength(p: ChapPacket): number {
  return CP_HEADER_LENGTH + chapDataLength(p);
}

/**
 * Encodes `p` into `out` at `offset` (allocating when omitted); returns a
 * view of the bytes written. Throws `RangeError` for a Value of 0 or more
 * than 255 bytes (a programming error).
 */
export function encodeChapPacket(p: ChapPacket, out?: Uint8Array, offset = 0): Uint8Array {
  const pkt = beginCpPacket(chapCode(p), p.identifier, chapDataLength(p), out, offset, 'encodeChapPacket');
  switch (p.kind) {
    case 'challenge':
    case 'response':
      if (p.value.length < 1 || p.value.length > 255) {
        throw new RangeError(`encodeChapPacket: Value of ${p.value.length} bytes`);
      }
      pkt[CHAP_FIELD.VALUE_SIZE] = p.value.length;
      pkt.set(p.value, CHAP_FIELD.VALUE);
      pkt.set(p.name, CHAP_FIELD.VALUE + p.value.length);
      break;
    case 'success':
    case 'failure':
      pkt.set(p.message, CP_HEADER_LENGTH);
      break;
    case 'unknown':
      pkt.set(p.data, CP_HEADER_LENGTH);
      break;
  }
  return pkt;
}
