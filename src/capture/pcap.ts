/**
 * Classic libpcap capture files ("pcap", draft-ietf-opsawg-pcap): reading in
 * either byte order with micro- or nanosecond time stamps (and the rare
 * "modified" variant some old Red Hat tcpdumps wrote), and writing.
 *
 * ```
 * File header (24 bytes)                   Packet record header (16 bytes)
 * +--------------------------------+       +--------------------------------+
 * | Magic Number                   |  0    | Timestamp (seconds)            |  0
 * | Major Version  | Minor Version |  4    | Timestamp (µs or ns)           |  4
 * | Reserved1 ("thiszone")         |  8    | Captured Packet Length         |  8
 * | Reserved2 ("sigfigs")          | 12    | Original Packet Length         | 12
 * | SnapLen                        | 16    +--------------------------------+
 * | FCS |R|P|   Reserved3 | LinkType | 20    | Packet Data (captured length)  |
 * +--------------------------------+       +--------------------------------+
 * ```
 *
 * The magic number 0xA1B2C3D4 (microseconds) or 0xA1B23C4D (nanoseconds),
 * read in the writer's byte order, tells both the byte order and the time
 * stamp resolution. The "modified" format (magic 0xA1B2CD34) appends 8 bytes
 * (interface index, protocol, packet type, padding) to each record header.
 *
 * Ownership: packet `data` are views into the input bytes.
 */

import { concatBytes } from '../wire/bytes.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import { rd16, rd32 } from './byte-order.js';
import type { CapturedPacket, CaptureInterface, CaptureReader, Timestamp } from './types.js';
import { timestampFrom } from './types.js';

/** Byte offsets in the 24-byte file header. */
export const PCAP_HEADER_FIELD = {
  MAGIC: 0,
  VERSION_MAJOR: 4,
  VERSION_MINOR: 6,
  THISZONE: 8,
  SIGFIGS: 12,
  SNAPLEN: 16,
  LINKTYPE: 20,
} as const;

/** Byte offsets in the 16-byte packet record header. */
export const PCAP_RECORD_FIELD = {
  TS_SECONDS: 0,
  TS_FRACTION: 4,
  CAPTURED_LENGTH: 8,
  ORIGINAL_LENGTH: 12,
} as const;

export const PCAP_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
/** Extra record-header bytes in the "modified" (Kuznetzov) format. */
export const MODIFIED_RECORD_EXTRA = 8;

/** Magic numbers, as a u32 in the writer's byte order. */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

/**
 * Largest captured length accepted in one record. libpcap and Wireshark
 * refuse records above 256 KiB (their maximum snap length) as a sign of a
 * corrupt file; we do the same, so a corrupt length field cannot make us
 * treat the rest of the file as one packet.
 */
export const PCAP_MAX_CAPTURED_LENGTH = 262_144;

/** Link type field: the link type in the low 16 bits, an optional FCS length above (draft-ietf-opsawg-pcap §4). */
function splitLinkTypeField(v: number): { linkType: number; fcsLength: number } {
  const fcsPresent = (v & 0x04000000) !== 0; // the "P" bit
  const fcsWords = v >>> 28; // FCS length in 16-bit words
  return { linkType: v & 0xffff, fcsLength: fcsPresent ? fcsWords * 2 : 0 };
}

/** True when `bytes` starts with one of the classic pcap magic numbers (either byte order). */
export function isPcap(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  for (const le of [true, false]) {
    const m = rd32(bytes, 0, le);
    if (m === PCAP_MAGIC_MICROSECONDS || m === PCAP_MAGIC_NANOSECONDS || m === PCAP_MAGIC_MODIFIED)
      return true;
  }
  return false;
}

/** The validated file header. */
export interface PcapFileHeader {
  readonly littleEndian: boolean;
  readonly nanosecond: boolean;
  /** The "modified" format with 24-byte record headers. */
  readonly modified: boolean;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly snapLength: number;
  readonly linkType: number;
  readonly fcsLength: number;
}

/** Decodes and validates the 24-byte file header. */
export function decodePcapFileHeader(bytes: Uint8Array): PcapFileHeader {
  if (bytes.length < PCAP_HEADER_LENGTH) {
    throw new WireError(WireErrorCode.Truncated, `pcap file header: ${bytes.length} bytes < 24`);
  }
  let littleEndian: boolean | undefined;
  let magic = 0;
  for (const le of [true, false]) {
    const m = rd32(bytes, PCAP_HEADER_FIELD.MAGIC, le);
    if (m === PCAP_MAGIC_MICROSECONDS || m === PCAP_MAGIC_NANOSECONDS || m === PCAP_MAGIC_MODIFIED) {
      littleEndian = le;
      magic = m;
      break;
    }
  }
  if (littleEndian === undefined) {
    throw new WireError(
      WireErrorCode.BadMagic,
      `not a pcap file: magic ${rd32(bytes, 0, false).toString(16).padStart(8, '0')}`,
    );
  }
  const versionMajor = rd16(bytes, PCAP_HEADER_FIELD.VERSION_MAJOR, littleEndian);
  const versionMinor = rd16(bytes, PCAP_HEADER_FIELD.VERSION_MINOR, littleEndian);
  if (versionMajor !== 2) {
    throw new WireError(
      WireErrorCode.BadVersion,
      `pcap version ${versionMajor}.${versionMinor}`,
      'draft-ietf-opsawg-pcap §4: "Major Version ... The value for the current version of the format is 2"',
    );
  }
  const { linkType, fcsLength } = splitLinkTypeField(rd32(bytes, PCAP_HEADER_FIELD.LINKTYPE, littleEndian));
  return {
    littleEndian,
    nanosecond: magic === PCAP_MAGIC_NANOSECONDS,
    modified: magic === PCAP_MAGIC_MODIFIED,
    versionMajor,
    versionMinor,
    snapLength: rd32(bytes, PCAP_HEADER_FIELD.SNAPLEN, littleEndian),
    linkType,
    fcsLength,
  };
}

/**
 * A classic pcap file. The header is validated when the reader is built
 * (throws `WireError`); records are read lazily while iterating, and a
 * corrupt or cut-off record throws `WireError` from the iterator after the
 * good ones before it have been yielded.
 */
export class PcapReader implements CaptureReader {
  readonly format = 'pcap' as const;
  readonly header: PcapFileHeader;
  readonly interfaces: readonly CaptureInterface[];

  constructor(private readonly bytes: Uint8Array) {
    this.header = decodePcapFileHeader(bytes);
    this.interfaces = [
      {
        linkType: this.header.linkType,
        snapLength: this.header.snapLength,
        fcsLength: this.header.fcsLength,
      },
    ];
  }

  *[Symbol.iterator](): Iterator<CapturedPacket> {
    const { bytes, header } = this;
    const le = header.littleEndian;
    const recordHeaderLength = PCAP_RECORD_HEADER_LENGTH + (header.modified ? MODIFIED_RECORD_EXTRA : 0);
    const unitsPerSecond = header.nanosecond ? 1e9 : 1e6;
    let off = PCAP_HEADER_LENGTH;
    let frameNumber = 0;
    while (off < bytes.length) {
      const next = frameNumber + 1;
      if (bytes.length - off < recordHeaderLength) {
        throw new WireError(
          WireErrorCode.Truncated,
          `pcap record ${next} at byte ${off}: file ends inside the record header (${bytes.length - off} of ${recordHeaderLength} bytes)`,
        );
      }
      const capturedLength = rd32(bytes, off + PCAP_RECORD_FIELD.CAPTURED_LENGTH, le);
      if (capturedLength > PCAP_MAX_CAPTURED_LENGTH) {
        throw new WireError(
          WireErrorCode.LengthTooLarge,
          `pcap record ${next} at byte ${off}: captured length ${capturedLength} > ${PCAP_MAX_CAPTURED_LENGTH}`,
          'draft-ietf-opsawg-pcap §5: "Captured Packet Length ... will be the minimum value among the Original Packet Length and the snapshot length"',
        );
      }
      const dataStart = off + recordHeaderLength;
      if (bytes.length - dataStart < capturedLength) {
        throw new WireError(
          WireErrorCode.Truncated,
          `pcap record ${next} at byte ${off}: file cut short (${bytes.length - dataStart} of ${capturedLength} packet bytes)`,
        );
      }
      frameNumber = next;
      const timestamp: Timestamp = timestampFrom(
        rd32(bytes, off + PCAP_RECORD_FIELD.TS_SECONDS, le),
        rd32(bytes, off + PCAP_RECORD_FIELD.TS_FRACTION, le),
        unitsPerSecond,
      );
      // A writer may record an original length smaller than what it captured
      // (a bug seen in the wild); never report less than we hold.
      const originalLength = Math.max(
        rd32(bytes, off + PCAP_RECORD_FIELD.ORIGINAL_LENGTH, le),
        capturedLength,
      );
      yield {
        frameNumber,
        interfaceId: 0,
        linkType: header.linkType,
        fcsLength: header.fcsLength,
        timestamp,
        originalLength,
        data: bytes.subarray(dataStart, dataStart + capturedLength),
      };
      off = dataStart + capturedLength;
    }
  }
}

/** Options for {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet (one per file in classic pcap). */
  readonly linkType: number;
  /** Default 262144, what tcpdump writes. */
  readonly snapLength?: number;
  /** Nanosecond time stamps (magic 0xA1B23C4D). Default false: microseconds, which every tool reads. */
  readonly nanosecond?: boolean;
  /** Byte order. Default little-endian, as written on x86 and ARM. */
  readonly bigEndian?: boolean;
}

/** One packet to write. */
export interface PcapRecordInput {
  readonly timestamp: Timestamp;
  readonly data: Uint8Array;
  /** Defaults to `data.length`. */
  readonly originalLength?: number;
}

/**
 * Writes classic pcap, pure: it returns bytes and leaves files to the caller
 * (`fileHeader()` once, then `record()` per packet, or {@link encodePcap}).
 * Packets longer than the snap length are cut to it, as a capture would.
 */
export class PcapWriter {
  private readonly le: boolean;
  private readonly snapLength: number;
  private readonly nanosecond: boolean;

  constructor(private readonly opts: PcapWriterOptions) {
    this.le = !opts.bigEndian;
    this.snapLength = opts.snapLength ?? PCAP_MAX_CAPTURED_LENGTH;
    this.nanosecond = opts.nanosecond ?? false;
    if (!Number.isInteger(opts.linkType) || opts.linkType < 0 || opts.linkType > 0xffff) {
      throw new RangeError(`PcapWriter: bad link type ${opts.linkType}`);
    }
  }

  /** The 24-byte file header. */
  fileHeader(): Uint8Array {
    const out = new Uint8Array(PCAP_HEADER_LENGTH);
    this.put32(
      out,
      PCAP_HEADER_FIELD.MAGIC,
      this.nanosecond ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS,
    );
    this.put16(out, PCAP_HEADER_FIELD.VERSION_MAJOR, 2);
    this.put16(out, PCAP_HEADER_FIELD.VERSION_MINOR, 4);
    this.put32(out, PCAP_HEADER_FIELD.SNAPLEN, this.snapLength);
    this.put32(out, PCAP_HEADER_FIELD.LINKTYPE, this.opts.linkType);
    return out;
  }

  /** One record: 16-byte header plus the (possibly snapped) packet bytes. */
  record(p: PcapRecordInput): Uint8Array {
    const captured = Math.min(p.data.length, this.snapLength);
    const out = new Uint8Array(PCAP_RECORD_HEADER_LENGTH + captured);
    const fraction = this.nanosecond ? p.timestamp.nanoseconds : Math.floor(p.timestamp.nanoseconds / 1000);
    this.put32(out, PCAP_RECORD_FIELD.TS_SECONDS, p.timestamp.seconds);
    this.put32(out, PCAP_RECORD_FIELD.TS_FRACTION, fraction);
    this.put32(out, PCAP_RECORD_FIELD.CAPTURED_LENGTH, captured);
    this.put32(out, PCAP_RECORD_FIELD.ORIGINAL_LENGTH, Math.max(p.originalLength ?? p.data.length, captured));
    out.set(p.data.subarray(0, captured), PCAP_RECORD_HEADER_LENGTH);
    return out;
  }

  private put32(b: Uint8Array, off: number, v: number): void {
    new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(off, v >>> 0, this.le);
  }

  private put16(b: Uint8Array, off: number, v: number): void {
    new DataView(b.buffer, b.byteOffset, b.byteLength).setUint16(off, v & 0xffff, this.le);
  }
}

/** A whole pcap file from a list of packets. */
export function encodePcap(packets: Iterable<PcapRecordInput>, opts: PcapWriterOptions): Uint8Array {
  const w = new PcapWriter(opts);
  const parts: Uint8Array[] = [w.fileHeader()];
  for (const p of packets) parts.push(w.record(p));
  return concatBytes(...parts);
}
