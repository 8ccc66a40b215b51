/**
 * Enhanced GRE header codec (RFC 2637 §4.1): the version-1 GRE header that
 * carries PPP frames for one PPTP call, with the Key field split into
 * Payload Length and Call ID, an optional Sequence Number and an optional
 * Acknowledgment Number.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    Key (HW) Payload Length    |       Key (LW) Call ID        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Sequence Number (Optional)                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               Acknowledgment Number (Optional)                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * The optional fields are packed: in the acknowledgment-only form (S=0,
 * A=1) the Acknowledgment Number sits at offset 8, where the Sequence
 * Number would otherwise be (as pptp-linux and the Linux kernel read it).
 *
 * Acceptance is strict (docs/style.md §3 "Strict GRE acceptance", the same checks
 * as Linux's `pptp_rcv`): Ver 1, Protocol 0x880B, K=1, C=R=s=0, Recur 0,
 * Flags 0, and the Payload Length must fit in the bytes present. Matching
 * the Call ID and source address to a live call is the channel's job
 * (src/pptp/gre-channel.ts).
 *
 * Ownership: `payload` is a `subarray` view into the input.
 */

import { outputBuffer, put16, put32, u16, u32 } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';

/** Byte offsets of the enhanced GRE header fields (RFC 2637 §4.1). */
export const GRE_FIELD = {
  /** C R K S s Recur(3). */
  FLAGS: 0,
  /** A, Flags(4), Ver(3). */
  ACK_FLAGS_VERSION: 1,
  PROTOCOL_TYPE: 2,
  /** Key, high 16 bits. */
  PAYLOAD_LENGTH: 4,
  /** Key, low 16 bits. */
  CALL_ID: 6,
  /** First optional 32-bit field (Sequence Number, or Acknowledgment Number when S=0). */
  OPTIONAL: 8,
} as const;

/** Bits of octet 0 (RFC 2637 §4.1). */
export const GRE_FLAG = {
  /** C: Checksum Present. "Set to zero (0)." */
  CHECKSUM: 0x80,
  /** R: Routing Present. "Set to zero (0)." */
  ROUTING: 0x40,
  /** K: Key Present. "Set to one (1)." */
  KEY: 0x20,
  /** S: Sequence Number Present. */
  SEQUENCE: 0x10,
  /** s: Strict source route present. "Set to zero (0)." */
  STRICT_SOURCE_ROUTE: 0x08,
  /** Recur: Recursion control (3 bits). "Set to zero (0)." */
  RECURSION_MASK: 0x07,
} as const;

/** Bits of octet 1 (RFC 2637 §4.1). */
export const GRE_FLAG2 = {
  /** A: Acknowledgment sequence number present. */
  ACK: 0x80,
  /** Flags (bits 9–12). "Must be set to zero (0)." */
  FLAGS_MASK: 0x78,
  /** Ver (bits 13–15). "Must contain 1 (enhanced GRE)." */
  VERSION_MASK: 0x07,
} as const;

/** Ver for enhanced GRE (RFC 2637 §4.1). */
export const GRE_VERSION_ENHANCED = 1;
/** Protocol Type for PPP (RFC 2637 §4.1: "Set to hex 880B"). */
export const GRE_PROTOCOL_PPP = 0x880b;
/** Header without the optional fields. */
export const GRE_MIN_HEADER_LENGTH = 8;
/** Header with Sequence and Acknowledgment Numbers. */
export const GRE_MAX_HEADER_LENGTH = 16;

/**
 * The fields an encoder needs for the header alone. Present optional fields
 * set S and A. The Payload Length is passed separately because the payload
 * may be written after (or before) the header.
 */
export interface GreHeader {
  /** The peer's Call ID for this session (RFC 2637 §4.1, Key low 16 bits). */
  readonly callId: number;
  /** Present iff S=1: the packet carries a payload. */
  readonly sequenceNumber?: number;
  /** Present iff A=1. */
  readonly acknowledgmentNumber?: number;
}

/** One decoded enhanced GRE packet; `payload` is cut to Payload Length. */
export interface GrePacket extends GreHeader {
  readonly payload: Uint8Array;
}

const REF_C = 'RFC 2637 §4.1: "C (Bit 0) Checksum Present. Set to zero (0)."';
const REF_R = 'RFC 2637 §4.1: "R (Bit 1) Routing Present. Set to zero (0)."';
const REF_K = 'RFC 2637 §4.1: "K (Bit 2) Key Present. Set to one (1)."';
const REF_SSR = 'RFC 2637 §4.1: "s (Bit 4) Strict source route present. Set to zero (0)."';
const REF_RECUR = 'RFC 2637 §4.1: "Recur (Bits 5-7) Recursion control. Set to zero (0)."';
const REF_FLAGS = 'RFC 2637 §4.1: "Flags (Bits 9-12) Must be set to zero (0)."';
const REF_VER = 'RFC 2637 §4.1: "Ver (Bits 13-15) Must contain 1 (enhanced GRE)."';
const REF_PROTO = 'RFC 2637 §4.1: "Protocol Type Set to hex 880B"';
const REF_S =
  'RFC 2637 §4.1: S is "Set to zero (0) if payload is not present (GRE packet is an Acknowledgment only)."';
const REF_LEN = 'RFC 2637 §4.1: Payload Length is the "Size of the payload, not including the GRE header"';

/** Header length for the given presence of the optional fields: 8, 12 or 16. */
export function greHeaderLength(h: GreHeader): number {
  return (
    GRE_MIN_HEADER_LENGTH +
    (h.sequenceNumber !== undefined ? 4 : 0) +
    (h.acknowledgmentNumber !== undefined ? 4 : 0)
  );
}

/**
 * A checked view over one enhanced GRE packet in `bytes[start, end)`
 * (docs/style.md §2.2). Reusable across packets: `GreView.check(bytes, view)`.
 */
export class GreView {
  private constructor(
    private b: Uint8Array,
    private start: number,
    private hlen: number,
    private plen: number,
  ) {}

  /**
   * Checks the packet in `bytes[start, end)`, reusing `reuse` when given.
   * Bytes after Payload Length are ignored. Throws {@link WireError} for
   * every header RFC 2637 §4.1 does not allow.
   */
  static check(bytes: Uint8Array, reuse?: GreView, start = 0, end = bytes.length): GreView {
    const avail = end - start;
    if (avail < GRE_MIN_HEADER_LENGTH) {
      throw new WireError(WireErrorCode.Truncated, `GRE: ${avail} bytes < 8-byte header`);
    }
    const f0 = bytes[start]!;
    const f1 = bytes[start + 1]!;
    if ((f1 & GRE_FLAG2.VERSION_MASK) !== GRE_VERSION_ENHANCED) {
      throw new WireError(WireErrorCode.BadVersion, `GRE: Ver ${f1 & GRE_FLAG2.VERSION_MASK}`, REF_VER);
    }
    const proto = u16(bytes, start + GRE_FIELD.PROTOCOL_TYPE);
    if (proto !== GRE_PROTOCOL_PPP) {
      throw new WireError(WireErrorCode.BadMagic, `GRE: Protocol Type 0x${proto.toString(16)}`, REF_PROTO);
    }
    if (f0 & GRE_FLAG.CHECKSUM) throw new WireError(WireErrorCode.BadFlags, 'GRE: C set', REF_C);
    if (f0 & GRE_FLAG.ROUTING) throw new WireError(WireErrorCode.BadFlags, 'GRE: R set', REF_R);
    if (!(f0 & GRE_FLAG.KEY)) throw new WireError(WireErrorCode.BadFlags, 'GRE: K clear', REF_K);
    if (f0 & GRE_FLAG.STRICT_SOURCE_ROUTE) throw new WireError(WireErrorCode.BadFlags, 'GRE: s set', REF_SSR);
    if (f0 & GRE_FLAG.RECURSION_MASK) {
      throw new WireError(WireErrorCode.BadFlags, `GRE: Recur ${f0 & GRE_FLAG.RECURSION_MASK}`, REF_RECUR);
    }
    if (f1 & GRE_FLAG2.FLAGS_MASK) {
      throw new WireError(WireErrorCode.BadFlags, `GRE: Flags 0x${(f1 & 0x78).toString(16)}`, REF_FLAGS);
    }
    const hasSeq = (f0 & GRE_FLAG.SEQUENCE) !== 0;
    const hasAck = (f1 & GRE_FLAG2.ACK) !== 0;
    const plen = u16(bytes, start + GRE_FIELD.PAYLOAD_LENGTH);
    if (!hasSeq) {
      if (!hasAck) {
        throw new WireError(
          WireErrorCode.BadFlags,
          'GRE: neither S nor A: the packet carries nothing',
          REF_S,
        );
      }
      if (plen !== 0) {
        throw new WireError(WireErrorCode.BadFlags, `GRE: S clear but Payload Length ${plen}`, REF_S);
      }
    }
    const hlen = GRE_MIN_HEADER_LENGTH + (hasSeq ? 4 : 0) + (hasAck ? 4 : 0);
    if (hlen > avail) {
      throw new WireError(WireErrorCode.Truncated, `GRE: ${avail} bytes < ${hlen}-byte header`);
    }
    if (plen > avail - hlen) {
      throw new WireError(
        WireErrorCode.LengthTooLarge,
        `GRE: Payload Length ${plen} > ${avail - hlen} bytes present`,
        REF_LEN,
      );
    }
    if (reuse) {
      reuse.b = bytes;
      reuse.start = start;
      reuse.hlen = hlen;
      reuse.plen = plen;
      return reuse;
    }
    return new GreView(bytes, start, hlen, plen);
  }

  get bytes(): Uint8Array {
    return this.b;
  }
  get headerStart(): number {
    return this.start;
  }
  /** 8, 12 or 16. */
  get headerLength(): number {
    return this.hlen;
  }
  /** S: a payload with a Sequence Number is present. */
  get hasSequenceNumber(): boolean {
    return (this.b[this.start]! & GRE_FLAG.SEQUENCE) !== 0;
  }
  /** A: an Acknowledgment Number is present. */
  get hasAcknowledgmentNumber(): boolean {
    return (this.b[this.start + 1]! & GRE_FLAG2.ACK) !== 0;
  }
  get payloadLength(): number {
    return this.plen;
  }
  get callId(): number {
    return u16(this.b, this.start + GRE_FIELD.CALL_ID);
  }
  /** The Sequence Number; only meaningful when {@link hasSequenceNumber}. */
  get sequenceNumber(): number {
    return u32(this.b, this.start + GRE_FIELD.OPTIONAL);
  }
  /** The Acknowledgment Number; only meaningful when {@link hasAcknowledgmentNumber}. Handles the S=0 placement. */
  get acknowledgmentNumber(): number {
    return u32(this.b, this.start + this.hlen - 4);
  }
  get payloadStart(): number {
    return this.start + this.hlen;
  }
  get payloadEnd(): number {
    return this.start + this.hlen + this.plen;
  }
  /** The payload cut to Payload Length (view). */
  get payload(): Uint8Array {
    return this.b.subarray(this.start + this.hlen, this.start + this.hlen + this.plen);
  }

  /** The plain value; absent optional fields are absent keys. */
  toPacket(): GrePacket {
    const p: { -readonly [K in keyof GrePacket]: GrePacket[K] } = {
      callId: this.callId,
      payload: this.payload,
    };
    if (this.hasSequenceNumber) p.sequenceNumber = this.sequenceNumber;
    if (this.hasAcknowledgmentNumber) p.acknowledgmentNumber = this.acknowledgmentNumber;
    return p;
  }
}

/** Decodes an enhanced GRE packet (strict: see {@link GreView.check}). */
export function decodeGrePacket(bytes: Uint8Array): GrePacket {
  return GreView.check(bytes).toPacket();
}

/** Encoded size of a whole packet. */
export function grePacketLength(p: GrePacket): number {
  return greHeaderLength(p) + p.payload.length;
}

/**
 * Writes the enhanced GRE header at `offset` for a payload of
 * `payloadLength` bytes that follows it; returns the header length (8, 12
 * or 16). Flags: K always; S iff `sequenceNumber` is present; A iff
 * `acknowledgmentNumber` is present; Ver 1; Protocol 0x880B.
 *
 * Throws `RangeError` for a header RFC 2637 §4.1 does not allow (a payload
 * without a sequence number, neither S nor A) or fields out of range.
 */
export function encodeGreHeader(
  h: GreHeader,
  payloadLength: number,
  buf: Uint8Array,
  offset: number,
): number {
  const seq = h.sequenceNumber;
  const ack = h.acknowledgmentNumber;
  if (seq === undefined && (payloadLength !== 0 || ack === undefined)) {
    throw new RangeError('GRE: a packet without a Sequence Number must be an acknowledgment with no payload');
  }
  if (payloadLength < 0 || payloadLength > 0xffff)
    throw new RangeError(`GRE payload too long: ${payloadLength}`);
  const hlen = GRE_MIN_HEADER_LENGTH + (seq !== undefined ? 4 : 0) + (ack !== undefined ? 4 : 0);
  if (offset < 0 || offset + hlen > buf.length)
    throw new RangeError('encodeGreHeader: output buffer too small');
  buf[offset] = GRE_FLAG.KEY | (seq !== undefined ? GRE_FLAG.SEQUENCE : 0);
  buf[offset + 1] = GRE_VERSION_ENHANCED | (ack !== undefined ? GRE_FLAG2.ACK : 0);
  put16(buf, offset + GRE_FIELD.PROTOCOL_TYPE, GRE_PROTOCOL_PPP);
  put16(buf, offset + GRE_FIELD.PAYLOAD_LENGTH, payloadLength);
  put16(buf, offset + GRE_FIELD.CALL_ID, h.callId);
  let o = offset + GRE_FIELD.OPTIONAL;
  if (seq !== undefined) {
    put32(buf, o, seq);
    o += 4;
  }
  if (ack !== undefined) put32(buf, o, ack);
  return hlen;
}

/**
 * Writes a data packet header (S=1) with or without an acknowledgment,
 * without building a {@link GreHeader} object: the transmit hot path. Pass
 * `ack < 0` for no Acknowledgment Number. Returns the header length (12 or
 * 16). Arguments are trusted (the channel owns them).
 */
export function writeGreDataHeader(
  buf: Uint8Array,
  offset: number,
  callId: number,
  payloadLength: number,
  seq: number,
  ack: number,
): number {
  const hasAck = ack >= 0;
  buf[offset] = GRE_FLAG.KEY | GRE_FLAG.SEQUENCE;
  buf[offset + 1] = hasAck ? GRE_VERSION_ENHANCED | GRE_FLAG2.ACK : GRE_VERSION_ENHANCED;
  buf[offset + 2] = 0x88;
  buf[offset + 3] = 0x0b;
  buf[offset + 4] = payloadLength >>> 8;
  buf[offset + 5] = payloadLength & 0xff;
  buf[offset + 6] = callId >>> 8;
  buf[offset + 7] = callId & 0xff;
  buf[offset + 8] = seq >>> 24;
  buf[offset + 9] = (seq >>> 16) & 0xff;
  buf[offset + 10] = (seq >>> 8) & 0xff;
  buf[offset + 11] = seq & 0xff;
  if (!hasAck) return 12;
  buf[offset + 12] = ack >>> 24;
  buf[offset + 13] = (ack >>> 16) & 0xff;
  buf[offset + 14] = (ack >>> 8) & 0xff;
  buf[offset + 15] = ack & 0xff;
  return 16;
}

/** Encodes a whole packet (header + a copy of the payload); allocates when `out` is omitted. */
export function encodeGrePacket(p: GrePacket, out?: Uint8Array, offset = 0): Uint8Array {
  const len = grePacketLength(p);
  const buf = outputBuffer(out, offset, len, 'encodeGrePacket');
  const hlen = encodeGreHeader(p, p.payload.length, buf, offset);
  buf.set(p.payload, offset + hlen);
  return buf.subarray(offset, offset + len);
}
