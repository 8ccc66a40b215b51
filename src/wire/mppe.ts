/**
 * MPPE packet header codec (RFC 3078 §3.1): the two octets at the start of
 * the Information field of a PPP frame with Protocol 0x00FD, followed by
 * the (encrypted) data. The encrypted data begins with the original PPP
 * Protocol field (RFC 3078 §3.1 "Encrypted Data").
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          PPP Protocol         |A|B|C|D|    Coherency Count    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Encrypted Data...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * This codec starts after the PPP Protocol field (the frame codec in
 * ppp.ts handles that), so its offsets are relative to the Information
 * field. It knows only the bits; the MPPE engine (src/mppe/mppe.ts) decides
 * what they mean for the RC4 state.
 *
 * Ownership: `payload` is a `subarray` view into the input.
 */

import { outputBuffer } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';

/** Byte offsets within the PPP Information field (RFC 3078 §3.1). */
export const MPPE_FIELD = {
  /** A B C D (high nibble) and the top 4 bits of the Coherency Count. */
  FLAGS_COHERENCY: 0,
  DATA: 2,
} as const;

/** Size of the MPPE header. */
export const MPPE_HEADER_LENGTH = 2;

/** Bits of the 16-bit header word (RFC 3078 §3.1, RFC 2118 §3.1). */
export const MPPE_BIT = {
  /** A: FLUSHED, "the encryption tables were initialized before this packet was generated". */
  FLUSHED: 0x8000,
  /** B: no significance in MPPE; in MPPC "the packet was moved to the front of the history buffer" (RFC 2118). */
  AT_FRONT: 0x4000,
  /** C: no significance in MPPE; in MPPC the packet is compressed (RFC 2118). */
  COMPRESSED: 0x2000,
  /** D: "This bit set to 1 indicates that the packet is encrypted." */
  ENCRYPTED: 0x1000,
  /** The 12-bit Coherency Count. */
  COHERENCY_COUNT_MASK: 0x0fff,
} as const;

/** RFC 3078 §3.1: "When the counter reaches 4095 (0x0FFF), it is reset to 0." */
export const MPPE_COHERENCY_COUNT_MODULO = 0x1000;

/** The header fields (RFC 3078 §3.1). */
export interface MppeHeader {
  /** Bit A. */
  readonly flushed: boolean;
  /** Bit B. */
  readonly atFront: boolean;
  /** Bit C. */
  readonly compressed: boolean;
  /** Bit D. */
  readonly encrypted: boolean;
  /** 0–4095. */
  readonly coherencyCount: number;
}

/** A decoded MPPE packet: header plus the data after it (view). */
export interface MppePacket extends MppeHeader {
  readonly payload: Uint8Array;
}

/**
 * A checked view over an MPPE packet (the Information field of a 0x00FD
 * frame) in `bytes[start, end)`. Reusable: `MppeView.check(b, view)`.
 */
export class MppeView {
  private constructor(
    private b: Uint8Array,
    private start: number,
    private end: number,
  ) {}

  /** Checks that the 2-octet header is present. The data may be empty. */
  static check(bytes: Uint8Array, reuse?: MppeView, start = 0, end = bytes.length): MppeView {
    if (end - start < MPPE_HEADER_LENGTH) {
      throw new WireError(WireErrorCode.Truncated, `MPPE: ${end - start} bytes < 2-byte header`);
    }
    if (reuse) {
      reuse.b = bytes;
      reuse.start = start;
      reuse.end = end;
      return reuse;
    }
    return new MppeView(bytes, start, end);
  }

  private get word(): number {
    return (this.b[this.start]! << 8) | this.b[this.start + 1]!;
  }
  get flushed(): boolean {
    return (this.word & MPPE_BIT.FLUSHED) !== 0;
  }
  get atFront(): boolean {
    return (this.word & MPPE_BIT.AT_FRONT) !== 0;
  }
  get compressed(): boolean {
    return (this.word & MPPE_BIT.COMPRESSED) !== 0;
  }
  get encrypted(): boolean {
    return (this.word & MPPE_BIT.ENCRYPTED) !== 0;
  }
  get coherencyCount(): number {
    return this.word & MPPE_BIT.COHERENCY_COUNT_MASK;
  }
  get payloadStart(): number {
    return this.start + MPPE_HEADER_LENGTH;
  }
  get payloadEnd(): number {
    return this.end;
  }
  /** The data after the header (view). */
  get payload(): Uint8Array {
    return this.b.subarray(this.start + MPPE_HEADER_LENGTH, this.end);
  }
  toPacket(): MppePacket {
    return {
      flushed: this.flushed,
      atFront: this.atFront,
      compressed: this.compressed,
      encrypted: this.encrypted,
      coherencyCount: this.coherencyCount,
      payload: this.payload,
    };
  }
}

/** Decodes an MPPE packet; only a missing header is an error. */
export function decodeMppePacket(bytes: Uint8Array): MppePacket {
  return MppeView.check(bytes).toPacket();
}

/** Encoded size. */
export function mppePacketLength(p: MppePacket): number {
  return MPPE_HEADER_LENGTH + p.payload.length;
}

/**
 * Writes the 2-octet header at `offset` (in front of data already in
 * `buf`); returns 2. Throws `RangeError` for a Coherency Count outside
 * 0–4095.
 */
export function encodeMppeHeader(h: MppeHeader, buf: Uint8Array, offset: number): number {
  const cc = h.coherencyCount;
  if (!Number.isInteger(cc) || cc < 0 || cc > MPPE_BIT.COHERENCY_COUNT_MASK) {
    throw new RangeError(`MPPE coherency count out of range: ${cc}`);
  }
  if (offset < 0 || offset + MPPE_HEADER_LENGTH > buf.length) {
    throw new RangeError('encodeMppeHeader: output buffer too small');
  }
  const w =
    (h.flushed ? MPPE_BIT.FLUSHED : 0) |
    (h.atFront ? MPPE_BIT.AT_FRONT : 0) |
    (h.compressed ? MPPE_BIT.COMPRESSED : 0) |
    (h.encrypted ? MPPE_BIT.ENCRYPTED : 0) |
    cc;
  buf[offset] = w >>> 8;
  buf[offset + 1] = w & 0xff;
  return MPPE_HEADER_LENGTH;
}

/** Encodes header + a copy of the payload; allocates when `out` is omitted. */
export function encodeMppePacket(p: MppePacket, out?: Uint8Array, offset = 0): Uint8Array {
  const len = mppePacketLength(p);
  const buf = outputBuffer(out, offset, len, 'encodeMppePacket');
  encodeMppeHeader(p, buf, offset);
  buf.set(p.payload, offset + MPPE_HEADER_LENGTH);
  return buf.subarray(offset, offset + len);
}
