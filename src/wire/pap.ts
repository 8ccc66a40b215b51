/**
 * Password Authentication Protocol packets (RFC 1334 §2.2), PPP protocol
 * 0xc023.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Code      |  Identifier   |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Peer-ID Length|  Peer-Id ...                    (Authenticate-Request)
 * +-+-+-+-+-+-+-+-+-+-+-+-+
 * | Passwd-Length |  Password  ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * |  Msg-Length   |  Message  ...                   (Authenticate-Ack/Nak)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-
 * ```
 *
 * Ownership: `peerId`, `password`, `message` and `data` are views into the
 * input. The password is a secret: never log a decoded Authenticate-Request.
 */

import { CP_HEADER_LENGTH, codeOfKind, decodeCpPacket } from './cp.js';
import { WireError, WireErrorCode } from './errors.js';
import { beginCpPacket, type UnknownCodePacket } from './ncp.js';

/** PAP Code field values (RFC 1334 §2.2). */
export enum PapCode {
  /** RFC 1334 §2.2.1 */
  AuthenticateRequest = 1,
  /** RFC 1334 §2.2.2 */
  AuthenticateAck = 2,
  /** RFC 1334 §2.2.2 */
  AuthenticateNak = 3,
}

/** Authenticate-Request (RFC 1334 §2.2.1). */
export interface PapAuthenticateRequest {
  readonly kind: 'authenticate-request';
  readonly identifier: number;
  /** "zero or more octets and indicates the name of the peer to be authenticated" */
  readonly peerId: Uint8Array;
  /** "zero or more octets and indicates the password" — a secret. */
  readonly password: Uint8Array;
}

/** Authenticate-Ack or Authenticate-Nak (RFC 1334 §2.2.2). */
export interface PapAuthenticateReply {
  readonly kind: 'authenticate-ack' | 'authenticate-nak';
  readonly identifier: number;
  /** Human-readable; "MUST NOT affect operation of the protocol". */
  readonly message: Uint8Array;
}

/** A code RFC 1334 does not define (the authenticator discards it): the shared unknown-code packet. */
export type PapUnknown = UnknownCodePacket;

/** Every PAP packet. Switch on `kind`. */
export type PapPacket = PapAuthenticateRequest | PapAuthenticateReply | PapUnknown;

/**
 * Decodes a PAP packet from the PPP Information field.
 *
 * Tolerance: an Ack/Nak whose Data is empty (no Msg-Length octet at all) is
 * accepted with an empty message, as pppd does ("ignoring missing
 * msg-length"); it re-encodes in the canonical form with Msg-Length 0.
 */
export function decodePapPacket(bytes: Uint8Array): PapPacket {
  const p = decodeCpPacket(bytes);
  const { identifier, data } = p;
  switch (p.code) {
    case PapCode.AuthenticateRequest: {
      if (data.length < 1) {
        throw new WireError(
          WireErrorCode.Truncated,
          'PAP Authenticate-Request: no Peer-ID Length',
          'RFC 1334 §2.2.1',
        );
      }
      const idLen = data[0]!;
      // Peer-ID, then the Passwd-Length octet, must fit.
      if (1 + idLen + 1 > data.length) {
        throw new WireError(
          WireErrorCode.LengthTooLarge,
          `PAP Authenticate-Request: Peer-ID Length ${idLen} leaves no room for Passwd-Length (${data.length} data bytes)`,
          'RFC 1334 §2.2.1: "The Peer-ID-Length field ... indicates the length of the Peer-ID field."',
        );
      }
      const pwLen = data[1 + idLen]!;
      const pwOff = 2 + idLen;
      if (pwOff + pwLen > data.length) {
        throw new WireError(
          WireErrorCode.LengthTooLarge,
          `PAP Authenticate-Request: Passwd-Length ${pwLen} runs past the packet (${data.length - pwOff} bytes left)`,
          'RFC 1334 §2.2.1: "The Passwd-Length field ... indicates the length of the Password field."',
        );
      }
      return {
        kind: 'authenticate-request',
        identifier,
        peerId: data.subarray(1, 1 + idLen),
        password: data.subarray(pwOff, pwOff + pwLen),
      };
    }
    case PapCode.AuthenticateAck:
    case PapCode.AuthenticateNak: {
      const kind = p.code === PapCode.AuthenticateAck ? 'authenticate-ack' : 'authenticate-nak';
      if (data.length === 0) return { kind, identifier, message: data };
      const msgLen = data[0]!;
      if (1 + msgLen > data.length) {
        throw new WireError(
          WireErrorCode.LengthTooLarge,
          `PAP ${kind}: Msg-Length ${msgLen} runs past the packet (${data.length - 1} bytes left)`,
          'RFC 1334 §2.2.2: "The Msg-Length field ... indicates the length of the Message field."',
        );
      }
      return { kind, identifier, message: data.subarray(1, 1 + msgLen) };
    }
    default:
      return { kind: 'unknown', code: p.code, identifier, data };
  }
}

/** The Code of each PAP packet kind (RFC 1334 §2.2). */
const PAP_CODES = {
  'authenticate-request': PapCode.AuthenticateRequest,
  'authenticate-ack': PapCode.AuthenticateAck,
  'authenticate-nak': PapCode.AuthenticateNak,
} as const;

/** The Code of a PAP packet value. */
export function papCode(p: PapPacket): number {
  return codeOfKind(PAP_CODES, p);
}

function papDataLength(p: PapPacket): number {
  switch (p.kind) {
    case 'authenticate-request':
      return 2 + p.peerId.length + p.password.length;
    case 'authenticate-ack':
    case 'authenticate-nak':
      return 1 + p.message.length;
    case 'unknown':
      return p.data.length;
  }
}

/** Encoded size of a PAP packet. */
export function papPacketLength(p: PapPacket): number {
  return CP_HEADER_LENGTH + papDataLength(p);
}

/**
 * Encodes `p` into `out` at `offset` (allocating when omitted); returns a
 * view of the bytes written. Throws `RangeError` when a field exceeds the
 * 255 bytes its one-octet length allows.
 */
export function encodePapPacket(p: PapPacket, out?: Uint8Array, offset = 0): Uint8Array {
  const fields =
    p.kind === 'authenticate-request' ? [p.peerId, p.password] : p.kind === 'unknown' ? [] : [p.message];
  for (const f of fields)
    if (f.length > 255) throw new RangeError(`encodePapPacket: field of ${f.length} bytes`);
  const pkt = beginCpPacket(papCode(p), p.identifier, papDataLength(p), out, offset, 'encodePapPacket');
  let off = CP_HEADER_LENGTH;
  if (p.kind === 'unknown') {
    pkt.set(p.data, off);
    return pkt;
  }
  for (const f of fields) {
    pkt[off] = f.length;
    pkt.set(f, off + 1);
    off += 1 + f.length;
  }
  return pkt;
}
