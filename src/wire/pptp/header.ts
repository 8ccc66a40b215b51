/**
 * The part every PPTP control message shares (RFC 2637 §1.4, §2): the
 * 12-byte header, the message-type enum, the General Error codes of §2.16,
 * the exact size of every message type, and the fixed-width NUL-padded
 * string fields.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             Length            |       PPTP Message Type       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Magic Cookie                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Control Message Type      |           Reserved0           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Every control message has one fixed size, so a decoder checks the
 * declared Length against exactly that size (§2, each message's "Length:
 * Total length in octets of this PPTP message, including the entire PPTP
 * header"). Bytes past the declared Length are ignored (docs/style.md §2.6).
 *
 * Only the header has a checked view ({@link PptpHeaderView}): messages are
 * small, fixed-size and rare (control plane), so each decodes straight to a
 * plain value; the view serves code that must look at a header before it
 * knows the message is whole (the framer, the dissector).
 *
 * Reserved fields are written as 0 ("Any 'reserved' fields MUST be sent as
 * 0 values", §2) and ignored on receipt: pptp-linux only logs a non-zero
 * Reserved0 (some Cisco PACs send one), and refusing it would buy nothing.
 */

import { put16, u16, u32 } from '../bytes.js';
import { WireError, WireErrorCode } from '../errors.js';

/** TCP port of the control connection (RFC 2637 §1.4). */
export const PPTP_TCP_PORT = 1723;

/** "The Magic Cookie is always sent as the constant 0x1A2B3C4D" (RFC 2637 §1.4). */
export const PPTP_MAGIC_COOKIE = 0x1a2b3c4d;

/** "The current value of the version number field is 0x0100 for version 1, revision 0" (RFC 2637 §1.4). */
export const PPTP_PROTOCOL_VERSION = 0x0100;

/** Size of the header every control message starts with (Length through Reserved0). */
export const PPTP_HEADER_LENGTH = 12;

/** Byte offsets of the common header fields (RFC 2637 §2.1 diagram, first three words). */
export const PPTP_HEADER_FIELD = {
  LENGTH: 0,
  PPTP_MESSAGE_TYPE: 2,
  MAGIC_COOKIE: 4,
  CONTROL_MESSAGE_TYPE: 8,
  RESERVED0: 10,
} as const;

/**
 * The header's "PPTP Message Type" field (RFC 2637 §1.4). Named *class* here
 * because docs/style.md §2.5 gives the name `PptpMessageType` to the Control
 * Message Type (the value that says SCCRQ, OCRQ, ...).
 */
export enum PptpMessageClass {
  /** "1 - Control Message" (RFC 2637 §1.4). */
  Control = 1,
  /** "2 - Management Message"; "Management messages are currently not defined" (RFC 2637 §1.4). */
  Management = 2,
}

/** The Control Message Type field (RFC 2637 §1.4 table, §2.1–§2.15). */
export enum PptpMessageType {
  /** SCCRQ, RFC 2637 §2.1. */
  StartControlConnectionRequest = 1,
  /** SCCRP, RFC 2637 §2.2. */
  StartControlConnectionReply = 2,
  /** StopCCRQ, RFC 2637 §2.3. */
  StopControlConnectionRequest = 3,
  /** StopCCRP, RFC 2637 §2.4. */
  StopControlConnectionReply = 4,
  /** ECHORQ, RFC 2637 §2.5. */
  EchoRequest = 5,
  /** ECHORP, RFC 2637 §2.6. */
  EchoReply = 6,
  /** OCRQ, RFC 2637 §2.7 (PNS → PAC). */
  OutgoingCallRequest = 7,
  /** OCRP, RFC 2637 §2.8 (PAC → PNS). */
  OutgoingCallReply = 8,
  /** ICRQ, RFC 2637 §2.9 (PAC → PNS). */
  IncomingCallRequest = 9,
  /** ICRP, RFC 2637 §2.10 (PNS → PAC). */
  IncomingCallReply = 10,
  /** ICCN, RFC 2637 §2.11 (PAC → PNS). */
  IncomingCallConnected = 11,
  /** CCRQ, RFC 2637 §2.12 (PNS → PAC). */
  CallClearRequest = 12,
  /** CDN, RFC 2637 §2.13 (PAC → PNS). */
  CallDisconnectNotify = 13,
  /** WEN, RFC 2637 §2.14 (PAC → PNS). */
  WanErrorNotify = 14,
  /** SLI, RFC 2637 §2.15 (PNS → PAC). */
  SetLinkInfo = 15,
}

/**
 * Exact size in bytes of each control message, header included (from the
 * RFC 2637 §2.x diagrams). A message whose Length differs is malformed.
 */
export const PPTP_MESSAGE_LENGTH: Readonly<Record<PptpMessageType, number>> = {
  [PptpMessageType.StartControlConnectionRequest]: 156,
  [PptpMessageType.StartControlConnectionReply]: 156,
  [PptpMessageType.StopControlConnectionRequest]: 16,
  [PptpMessageType.StopControlConnectionReply]: 16,
  [PptpMessageType.EchoRequest]: 16,
  [PptpMessageType.EchoReply]: 20,
  [PptpMessageType.OutgoingCallRequest]: 168,
  [PptpMessageType.OutgoingCallReply]: 32,
  [PptpMessageType.IncomingCallRequest]: 220,
  [PptpMessageType.IncomingCallReply]: 24,
  [PptpMessageType.IncomingCallConnected]: 28,
  [PptpMessageType.CallClearRequest]: 16,
  [PptpMessageType.CallDisconnectNotify]: 148,
  [PptpMessageType.WanErrorNotify]: 40,
  [PptpMessageType.SetLinkInfo]: 24,
};

/** The RFC's abbreviations, for logs (docs/style.md §6). */
export const PPTP_MESSAGE_ABBREVIATION: Readonly<Record<PptpMessageType, string>> = {
  [PptpMessageType.StartControlConnectionRequest]: 'SCCRQ',
  [PptpMessageType.StartControlConnectionReply]: 'SCCRP',
  [PptpMessageType.StopControlConnectionRequest]: 'StopCCRQ',
  [PptpMessageType.StopControlConnectionReply]: 'StopCCRP',
  [PptpMessageType.EchoRequest]: 'ECHORQ',
  [PptpMessageType.EchoReply]: 'ECHORP',
  [PptpMessageType.OutgoingCallRequest]: 'OCRQ',
  [PptpMessageType.OutgoingCallReply]: 'OCRP',
  [PptpMessageType.IncomingCallRequest]: 'ICRQ',
  [PptpMessageType.IncomingCallReply]: 'ICRP',
  [PptpMessageType.IncomingCallConnected]: 'ICCN',
  [PptpMessageType.CallClearRequest]: 'CCRQ',
  [PptpMessageType.CallDisconnectNotify]: 'CDN',
  [PptpMessageType.WanErrorNotify]: 'WEN',
  [PptpMessageType.SetLinkInfo]: 'SLI',
};

/** Smallest and largest defined control message (StopCCRQ and friends; ICRQ). */
export const PPTP_MIN_MESSAGE_LENGTH = 16;
export const PPTP_MAX_DEFINED_MESSAGE_LENGTH = 220;

/** True when `t` is one of the 15 Control Message Types RFC 2637 defines. */
export function isPptpMessageType(t: number): t is PptpMessageType {
  return Number.isInteger(t) && t >= 1 && t <= 15;
}

/**
 * General Error codes (RFC 2637 §2.16), carried in the Error Code field of
 * replies whose Result Code says "General Error".
 */
export enum PptpGeneralError {
  /** "0 (None) - No general error". */
  None = 0,
  /** "1 (Not-Connected) - No control connection exists yet for this PAC-PNS pair". */
  NotConnected = 1,
  /** "2 (Bad-Format) - Length is wrong or Magic Cookie value is incorrect". */
  BadFormat = 2,
  /** "3 (Bad-Value) - One of the field values was out of range or reserved field was non-zero". */
  BadValue = 3,
  /** "4 (No-Resource) - Insufficient resources to handle this command now". */
  NoResource = 4,
  /** "5 (Bad-Call ID) - The Call ID is invalid in this context". */
  BadCallId = 5,
  /** "6 (PAC-Error) - A generic vendor-specific error occurred in the PAC". */
  PacError = 6,
}

/**
 * Framing Capabilities bits (SCCRQ/SCCRP, RFC 2637 §2.1–§2.2), and the
 * Framing Type values of OCRQ/ICCN (§2.7, §2.11), which use the same
 * numbers: 3 means "either".
 */
export enum PptpFraming {
  /** "1 - Asynchronous Framing supported" / "Call to use Asynchronous framing". */
  Asynchronous = 1,
  /** "2 - Synchronous Framing supported" / "Call to use Synchronous framing". */
  Synchronous = 2,
  /** "3 - Call can use either type of framing" (OCRQ Framing Type, §2.7). */
  Any = 3,
}

/**
 * Bearer Capabilities bits (SCCRQ/SCCRP, RFC 2637 §2.1–§2.2) and the Bearer
 * Type values of OCRQ/ICRQ (§2.7, §2.9), which use the same numbers.
 */
export enum PptpBearer {
  /** "1 - Analog access supported" / "Call to be placed on an analog channel". */
  Analog = 1,
  /** "2 - Digital access supported" / "Call to be placed on a digital channel". */
  Digital = 2,
  /** "3 - Call can be placed on any type of channel" (OCRQ Bearer Type, §2.7). */
  Any = 3,
}

/** Width of Host Name and Vendor String (RFC 2637 §2.1). */
export const PPTP_HOST_NAME_LENGTH = 64;
/** Width of Vendor String (RFC 2637 §2.1). */
export const PPTP_VENDOR_STRING_LENGTH = 64;
/** Width of Phone Number, Dialed Number and Dialing Number (RFC 2637 §2.7, §2.9). */
export const PPTP_PHONE_NUMBER_LENGTH = 64;
/** Width of Subaddress (RFC 2637 §2.7, §2.9). */
export const PPTP_SUBADDRESS_LENGTH = 64;
/** Width of Call Statistics (RFC 2637 §2.13). */
export const PPTP_CALL_STATISTICS_LENGTH = 128;

/** Decoded common header. */
export interface PptpHeader {
  /** Total length of the message in bytes, header included. */
  readonly length: number;
  /** {@link PptpMessageClass}: 1 control, 2 management. */
  readonly pptpMessageType: number;
  /** Control Message Type; a {@link PptpMessageType} when it is one of the 15 defined. */
  readonly controlMessageType: number;
}

/** The Length field's definition, cited by every Length error. */
export const PPTP_LENGTH_REFERENCE =
  'RFC 2637 §2: "Length: Total length in octets of this PPTP message, including the entire PPTP header"';
const MAGIC_REFERENCE =
  'RFC 2637 §1.4: "Loss of synchronization must result in immediate closing of the control connection\'s TCP session"';

/**
 * Throws `WireError` (BadMagic) unless the Magic Cookie of the header at the
 * start of `bytes` (≥ 8 bytes) is 0x1A2B3C4D: "Its basic purpose is to
 * allow the receiver to ensure that it is properly synchronized with the
 * TCP data stream" (RFC 2637 §1.4).
 */
export function checkMagicCookie(bytes: Uint8Array): void {
  const cookie = u32(bytes, PPTP_HEADER_FIELD.MAGIC_COOKIE);
  if (cookie !== PPTP_MAGIC_COOKIE) {
    throw new WireError(
      WireErrorCode.BadMagic,
      `PPTP Magic Cookie 0x${cookie.toString(16).padStart(8, '0')} != 0x1a2b3c4d`,
      MAGIC_REFERENCE,
    );
  }
}

/** Throws `WireError` (LengthTooSmall) when a Length does not even cover the 12-byte header it is part of. */
export function checkLengthCoversHeader(length: number): void {
  if (length < PPTP_HEADER_LENGTH) {
    throw new WireError(
      WireErrorCode.LengthTooSmall,
      `PPTP Length ${length} < ${PPTP_HEADER_LENGTH}-byte header`,
      PPTP_LENGTH_REFERENCE,
    );
  }
}

/**
 * Throws `WireError` (UnknownType) unless the header's PPTP Message Type is
 * 1, Control Message: "Management messages are currently not defined"
 * (RFC 2637 §1.4).
 */
export function checkControlMessageClass(cls: number): void {
  if (cls !== PptpMessageClass.Control) {
    throw new WireError(
      WireErrorCode.UnknownType,
      `PPTP Message Type ${cls} is not 1 (Control Message)`,
      'RFC 2637 §1.4: "Management messages are currently not defined"',
    );
  }
}

/**
 * A checked view over the common header (docs/style.md §2.2). Only
 * {@link PptpHeaderView.check} builds one for received bytes: it verifies
 * the buffer holds the 12-byte header, the Magic Cookie, and a Length of at
 * least 12 that fits in the buffer, so no getter reads out of range.
 */
export class PptpHeaderView {
  private constructor(readonly bytes: Uint8Array) {}

  /**
   * Checks, in order: buffer ≥ 12 bytes; Magic Cookie = 0x1A2B3C4D
   * ("Its basic purpose is to allow the receiver to ensure that it is
   * properly synchronized with the TCP data stream", RFC 2637 §1.4);
   * Length ≥ 12; Length ≤ bytes present.
   */
  static check(bytes: Uint8Array): PptpHeaderView {
    if (bytes.length < PPTP_HEADER_LENGTH) {
      throw new WireError(
        WireErrorCode.Truncated,
        `PPTP header: ${bytes.length} bytes < ${PPTP_HEADER_LENGTH}`,
      );
    }
    checkMagicCookie(bytes);
    const length = u16(bytes, PPTP_HEADER_FIELD.LENGTH);
    checkLengthCoversHeader(length);
    if (length > bytes.length) {
      throw new WireError(
        WireErrorCode.Truncated,
        `PPTP Length ${length} > ${bytes.length} bytes present`,
        PPTP_LENGTH_REFERENCE,
      );
    }
    return new PptpHeaderView(bytes);
  }

  /** A view for writing into a scratch buffer the caller sized; no checks. */
  static unchecked(bytes: Uint8Array): PptpHeaderView {
    return new PptpHeaderView(bytes);
  }

  get length(): number {
    return u16(this.bytes, PPTP_HEADER_FIELD.LENGTH);
  }
  get pptpMessageType(): number {
    return u16(this.bytes, PPTP_HEADER_FIELD.PPTP_MESSAGE_TYPE);
  }
  get magicCookie(): number {
    return u32(this.bytes, PPTP_HEADER_FIELD.MAGIC_COOKIE);
  }
  get controlMessageType(): number {
    return u16(this.bytes, PPTP_HEADER_FIELD.CONTROL_MESSAGE_TYPE);
  }
  get reserved0(): number {
    return u16(this.bytes, PPTP_HEADER_FIELD.RESERVED0);
  }

  /** The header's fields as a value. */
  toHeader(): PptpHeader {
    return {
      length: this.length,
      pptpMessageType: this.pptpMessageType,
      controlMessageType: this.controlMessageType,
    };
  }
}

/**
 * Checks that `bytes` starts with a well-formed control message of type
 * `type` and exactly its size (RFC 2637 §2). Returns nothing: afterwards
 * the caller may read any field offset below `PPTP_MESSAGE_LENGTH[type]`.
 *
 * The order is the one docs/style.md §3 asks for: enough bytes for the header,
 * the cookie, the message type, the declared Length equal to the type's
 * size, and only then the declared Length against the bytes present (so a
 * short read of a good message says Truncated, not a format error).
 */
export function checkPptpMessage(bytes: Uint8Array, type: PptpMessageType): void {
  if (bytes.length < PPTP_HEADER_LENGTH) {
    throw new WireError(
      WireErrorCode.Truncated,
      `${PPTP_MESSAGE_ABBREVIATION[type]}: ${bytes.length} bytes < ${PPTP_HEADER_LENGTH}-byte header`,
    );
  }
  checkMagicCookie(bytes);
  checkControlMessageClass(u16(bytes, PPTP_HEADER_FIELD.PPTP_MESSAGE_TYPE));
  const got = u16(bytes, PPTP_HEADER_FIELD.CONTROL_MESSAGE_TYPE);
  if (got !== type) {
    throw new WireError(
      WireErrorCode.UnknownType,
      `Control Message Type ${got} where ${type} (${PPTP_MESSAGE_ABBREVIATION[type]}) was expected`,
    );
  }
  checkPptpLength(bytes, type);
}

/**
 * Throws `WireError` (LengthTooSmall/LengthTooLarge) unless a declared
 * Length is exactly the size of a `type` message (RFC 2637 §2, "Length:
 * Total length in octets of this PPTP message, including the entire PPTP
 * header"; every message type has one size).
 */
export function checkPptpDeclaredLength(length: number, type: PptpMessageType): void {
  const need = PPTP_MESSAGE_LENGTH[type];
  if (length !== need) {
    throw new WireError(
      length < need ? WireErrorCode.LengthTooSmall : WireErrorCode.LengthTooLarge,
      `${PPTP_MESSAGE_ABBREVIATION[type]}: Length ${length}, the message is ${need} bytes`,
      PPTP_LENGTH_REFERENCE,
    );
  }
}

/** The Length check of {@link checkPptpMessage}, for a header already known to be of `type`. */
export function checkPptpLength(bytes: Uint8Array, type: PptpMessageType): void {
  const length = u16(bytes, PPTP_HEADER_FIELD.LENGTH);
  checkPptpDeclaredLength(length, type);
  if (length > bytes.length) {
    throw new WireError(
      WireErrorCode.Truncated,
      `${PPTP_MESSAGE_ABBREVIATION[type]}: Length ${length} > ${bytes.length} bytes present`,
      PPTP_LENGTH_REFERENCE,
    );
  }
}

/**
 * Writes the 12-byte header of a `type` message at `offset` and returns the
 * buffer to write the body into (allocating one of exactly the message's
 * size when `out` is omitted). Throws `RangeError` when `out` is too small.
 */
export function beginPptpMessage(
  type: PptpMessageType,
  out: Uint8Array | undefined,
  offset: number,
): Uint8Array {
  const len = PPTP_MESSAGE_LENGTH[type];
  const buf = out ?? new Uint8Array(len);
  if (!Number.isInteger(offset) || offset < 0 || offset + len > buf.length) {
    throw new RangeError(
      `encode ${PPTP_MESSAGE_ABBREVIATION[type]}: need ${len} bytes at offset ${offset}, buffer has ${buf.length}`,
    );
  }
  // Zero the whole message first: every Reserved field and the padding of
  // every string field "MUST be sent as 0" (RFC 2637 §2).
  buf.fill(0, offset, offset + len);
  put16(buf, offset + PPTP_HEADER_FIELD.LENGTH, len);
  put16(buf, offset + PPTP_HEADER_FIELD.PPTP_MESSAGE_TYPE, PptpMessageClass.Control);
  buf[offset + PPTP_HEADER_FIELD.MAGIC_COOKIE] = 0x1a;
  buf[offset + PPTP_HEADER_FIELD.MAGIC_COOKIE + 1] = 0x2b;
  buf[offset + PPTP_HEADER_FIELD.MAGIC_COOKIE + 2] = 0x3c;
  buf[offset + PPTP_HEADER_FIELD.MAGIC_COOKIE + 3] = 0x4d;
  put16(buf, offset + PPTP_HEADER_FIELD.CONTROL_MESSAGE_TYPE, type);
  return buf;
}

/** Throws `RangeError` unless `v` is an integer in [0, 2^bits). Encoders use it so a bad value never wraps silently. */
export function checkUint(v: number, bits: 8 | 16 | 32, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new RangeError(`${field}: ${v} is not an unsigned ${bits}-bit integer`);
  }
  return v;
}

/**
 * Throws `RangeError` unless `s` fits a fixed-width PPTP string field:
 * at most `width` characters, each in U+0001..U+00FF (one byte each, and a
 * NUL would end the string early on decode, breaking the round trip).
 * Use {@link toPptpString} to make any string fit.
 */
export function checkPptpString(s: string, width: number, field: string): string {
  if (s.length > width) throw new RangeError(`${field}: ${s.length} characters > ${width}-byte field`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) throw new RangeError(`${field}: character U+${c.toString(16)} is not one byte`);
  }
  return s;
}

/** Makes `s` fit a `width`-byte PPTP string field: drops NULs, replaces non-Latin-1 characters with `?`, cuts at `width`. */
export function toPptpString(s: string, width: number): string {
  let out = '';
  for (const ch of s) {
    if (out.length >= width) break;
    const c = ch.codePointAt(0)!;
    if (c === 0) continue;
    out += c > 0xff ? '?' : ch;
  }
  return out;
}
