/**
 * pcapng capture files (draft-ietf-opsawg-pcapng), reading only: what
 * tshark and dumpcap write by default.
 *
 * ```
 * General block structure                       Section Header Block (SHB)
 *  0                   1                   2                   3
 * +---------------------------------------------------------------+
 * |                          Block Type                           |  0  0x0A0D0D0A
 * |                      Block Total Length                       |  4
 * /                          Block Body                           /  8  Byte-Order Magic 0x1A2B3C4D,
 * /              variable length, padded to 32 bits               /     Major 1, Minor, Section Length (64),
 * |                      Block Total Length                       |     options
 * +---------------------------------------------------------------+
 *
 * Interface Description Block (type 1)      Enhanced Packet Block (type 6)
 *  8  LinkType (16) | Reserved (16)          8  Interface ID (32)
 * 12  SnapLen (32)                          12  Timestamp (High)  16  Timestamp (Low)
 * 16  options (if_name, if_tsresol, ...)    20  Captured Packet Length  24  Original Packet Length
 *                                           28  Packet Data, padded to 32 bits; options
 * ```
 *
 * Every section starts with an SHB whose Byte-Order Magic fixes the byte
 * order of the blocks up to the next SHB. Interfaces are numbered per
 * section; packets name them by that number. Blocks this reader does not
 * need (Name Resolution, Interface Statistics, Decryption Secrets, custom)
 * are skipped by their length, as the format intends. Simple Packet Blocks
 * (type 3) and the obsolete Packet Block (type 2) are read too.
 *
 * Ownership: packet `data` are views into the input bytes.
 */

import { fromUtf8 } from '../wire/bytes.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import { rd16, rd32 } from './byte-order.js';
import type { CapturedPacket, CaptureInterface, CaptureReader, Timestamp } from './types.js';
import { timestampFromTicks } from './types.js';

/** Block types this reader understands (draft-ietf-opsawg-pcapng §4, §10.1). */
export enum PcapngBlockType {
  /** Obsolete Packet Block (Appendix A). */
  Packet = 0x00000002,
  /** Interface Description Block (§4.2). */
  InterfaceDescription = 0x00000001,
  /** Simple Packet Block (§4.4). */
  SimplePacket = 0x00000003,
  /** Name Resolution Block (§4.5); skipped. */
  NameResolution = 0x00000004,
  /** Interface Statistics Block (§4.6); skipped. */
  InterfaceStatistics = 0x00000005,
  /** Enhanced Packet Block (§4.3). */
  EnhancedPacket = 0x00000006,
  /** Section Header Block (§4.1): palindromic, so it reads the same in both byte orders. */
  SectionHeader = 0x0a0d0d0a,
}

/** The Byte-Order Magic of an SHB, as written by the section's writer. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Block Type + Block Total Length + trailing Block Total Length. */
const BLOCK_OVERHEAD = 12;
/** Minimum Block Total Length per type (fixed fields + overhead). */
const MIN_BLOCK_LENGTH: Record<number, number> = {
  [PcapngBlockType.SectionHeader]: 28,
  [PcapngBlockType.InterfaceDescription]: 20,
  [PcapngBlockType.EnhancedPacket]: 32,
  [PcapngBlockType.SimplePacket]: 16,
  [PcapngBlockType.Packet]: 32,
};

/** Interface Description Block option codes used here (§4.2). */
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_FCSLEN = 13;
const IF_TSOFFSET = 14;
const OPT_ENDOFOPT = 0;

/** True when `bytes` starts with a Section Header Block. */
export function isPcapng(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x0a && bytes[1] === 0x0d && bytes[2] === 0x0d && bytes[3] === 0x0a
  );
}

interface Section {
  le: boolean;
  /** Global interface index for each section-local interface ID. */
  ifaceIndex: number[];
}

interface IfaceClock {
  unitsPerSecond: bigint;
  offsetSeconds: bigint;
}

/** `n` rounded up to a multiple of 4 (no bitwise ops: `n` may exceed 2^31). */
function pad4(n: number): number {
  return n + ((4 - (n % 4)) % 4);
}

/**
 * A pcapng file. The first Section Header Block is validated when the
 * reader is built (throws `WireError`); the rest is read lazily while
 * iterating, and a corrupt block throws `WireError` from the iterator after
 * every good packet before it has been yielded.
 */
export class PcapngReader implements CaptureReader {
  readonly format = 'pcapng' as const;
  private readonly ifaces: CaptureInterface[] = [];
  private readonly clocks: IfaceClock[] = [];

  constructor(private readonly bytes: Uint8Array) {
    if (!isPcapng(bytes)) {
      throw new WireError(
        WireErrorCode.BadMagic,
        'not a pcapng file: first block is not a Section Header Block',
      );
    }
    this.readSectionHeader(0); // validates; the iterator reads it again
  }

  get interfaces(): readonly CaptureInterface[] {
    return this.ifaces;
  }

  *[Symbol.iterator](): Iterator<CapturedPacket> {
    const { bytes } = this;
    this.ifaces.length = 0;
    this.clocks.length = 0;
    let section: Section | undefined;
    let off = 0;
    let frameNumber = 0;
    while (off < bytes.length) {
      const where = `pcapng block at byte ${off}`;
      if (bytes.length - off < BLOCK_OVERHEAD) {
        throw new WireError(WireErrorCode.Truncated, `${where}: file ends inside a block header`);
      }
      const rawType = this.u32(off, true);
      let le: boolean;
      let length: number;
      if (rawType === PcapngBlockType.SectionHeader) {
        ({ le, length } = this.readSectionHeader(off));
        section = { le, ifaceIndex: [] };
        off += length;
        continue;
      }
      if (!section)
        throw new WireError(WireErrorCode.BadValue, `${where}: no Section Header Block before it`);
      le = section.le;
      const type = this.u32(off, le);
      length = this.checkBlockLength(off, le, MIN_BLOCK_LENGTH[type] ?? BLOCK_OVERHEAD, where);
      const end = off + length - 4; // start of the trailing length
      switch (type) {
        case PcapngBlockType.InterfaceDescription:
          section.ifaceIndex.push(this.readInterface(off, end, le, where));
          break;
        case PcapngBlockType.EnhancedPacket:
        case PcapngBlockType.Packet: {
          const enhanced = type === PcapngBlockType.EnhancedPacket;
          const localId = enhanced ? this.u32(off + 8, le) : this.u16(off + 8, le);
          const capturedLength = this.u32(off + 20, le);
          const originalLength = this.u32(off + 24, le);
          if (28 + pad4(capturedLength) > length - 4 || capturedLength > end - off - 28) {
            throw new WireError(
              WireErrorCode.LengthTooLarge,
              `${where}: captured length ${capturedLength} does not fit a block of ${length} bytes`,
              'draft-ietf-opsawg-pcapng §4.3: the Packet Data field is "Captured Packet Length" octets, padded to 32 bits',
            );
          }
          const g = this.interfaceOf(section, localId, where);
          const ticks = (BigInt(this.u32(off + 12, le)) << 32n) | BigInt(this.u32(off + 16, le));
          const clock = this.clocks[g]!;
          const timestamp = timestampFromTicks(ticks, clock.unitsPerSecond, clock.offsetSeconds);
          const data = bytes.subarray(off + 28, off + 28 + capturedLength);
          yield this.packet(++frameNumber, g, timestamp, originalLength, data);
          break;
        }
        case PcapngBlockType.SimplePacket: {
          const g = this.interfaceOf(section, 0, where);
          const iface = this.ifaces[g]!;
          const originalLength = this.u32(off + 8, le);
          // §4.4: the captured length is the minimum of the original length,
          // the interface's SnapLen and what the block holds.
          let capturedLength = Math.min(originalLength, length - 16);
          if (iface.snapLength > 0) capturedLength = Math.min(capturedLength, iface.snapLength);
          const data = bytes.subarray(off + 12, off + 12 + capturedLength);
          // An SPB carries no time stamp.
          yield this.packet(++frameNumber, g, { seconds: 0, nanoseconds: 0 }, originalLength, data);
          break;
        }
        default:
          break; // §3.1: a reader skips blocks it does not know, by their length
      }
      off += length;
    }
  }

  /** Validates an SHB at `off`; returns its byte order and length. */
  private readSectionHeader(off: number): { le: boolean; length: number } {
    const where = `pcapng Section Header Block at byte ${off}`;
    const { bytes } = this;
    if (bytes.length - off < MIN_BLOCK_LENGTH[PcapngBlockType.SectionHeader]!) {
      throw new WireError(WireErrorCode.Truncated, `${where}: ${bytes.length - off} bytes < 28`);
    }
    let le: boolean;
    if (this.u32(off + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) le = true;
    else if (this.u32(off + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) le = false;
    else {
      throw new WireError(
        WireErrorCode.BadMagic,
        `${where}: byte-order magic ${this.u32(off + 8, false).toString(16)}`,
        'draft-ietf-opsawg-pcapng §4.1: "Byte-Order Magic ... 0x1A2B3C4D"',
      );
    }
    const major = this.u16(off + 12, le);
    if (major !== 1) {
      throw new WireError(
        WireErrorCode.BadVersion,
        `${where}: version ${major}.${this.u16(off + 14, le)}`,
        'draft-ietf-opsawg-pcapng §4.1: "Major Version ... MUST be set to 1"',
      );
    }
    const length = this.checkBlockLength(off, le, 28, where);
    return { le, length };
  }

  /** Checks the leading and trailing Block Total Length fields; returns the length. */
  private checkBlockLength(off: number, le: boolean, min: number, where: string): number {
    const length = this.u32(off + 4, le);
    const ref = 'draft-ietf-opsawg-pcapng §3.1: "Block Total Length ... MUST be a multiple of 4"';
    if (length < min) {
      throw new WireError(
        WireErrorCode.LengthTooSmall,
        `${where}: Block Total Length ${length} < ${min}`,
        ref,
      );
    }
    if (length % 4 !== 0) {
      throw new WireError(
        WireErrorCode.BadValue,
        `${where}: Block Total Length ${length} is not a multiple of 4`,
        ref,
      );
    }
    if (length > this.bytes.length - off) {
      throw new WireError(
        WireErrorCode.Truncated,
        `${where}: Block Total Length ${length} > ${this.bytes.length - off} bytes left (file cut short?)`,
      );
    }
    if (this.u32(off + length - 4, le) !== length) {
      throw new WireError(
        WireErrorCode.BadValue,
        `${where}: trailing Block Total Length ${this.u32(off + length - 4, le)} ≠ ${length}`,
        'draft-ietf-opsawg-pcapng §3.1: the Block Total Length appears at both ends of the block',
      );
    }
    return length;
  }

  /** Reads an IDB; returns the global index of the new interface. */
  private readInterface(off: number, end: number, le: boolean, where: string): number {
    const linkType = this.u16(off + 8, le);
    const snapLength = this.u32(off + 12, le);
    let name: string | undefined;
    let fcsLength = 0;
    let unitsPerSecond = 1_000_000n; // §4.2: "If the if_tsresol option is not present, a resolution of 10^-6 is assumed"
    let offsetSeconds = 0n;
    this.forEachOption(off + 16, end, le, where, (code, value) => {
      switch (code) {
        case IF_NAME:
          name = fromUtf8(value);
          break;
        case IF_TSRESOL:
          if (value.length >= 1) {
            const v = value[0]!;
            unitsPerSecond = v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
          }
          break;
        case IF_FCSLEN:
          if (value.length >= 1) fcsLength = value[0]! >>> 3; // bits → bytes
          break;
        case IF_TSOFFSET:
          if (value.length >= 8) {
            const v = new DataView(value.buffer, value.byteOffset, 8);
            offsetSeconds = v.getBigInt64(0, le);
          }
          break;
        default:
          break;
      }
    });
    this.ifaces.push({ linkType, snapLength, fcsLength, ...(name === undefined ? {} : { name }) });
    this.clocks.push({ unitsPerSecond, offsetSeconds });
    return this.ifaces.length - 1;
  }

  /** Walks an options list (§3.5): code, length, value padded to 32 bits; stops at opt_endofopt. */
  private forEachOption(
    start: number,
    end: number,
    le: boolean,
    where: string,
    fn: (code: number, value: Uint8Array) => void,
  ): void {
    let p = start;
    while (end - p >= 4) {
      const code = this.u16(p, le);
      const len = this.u16(p + 2, le);
      if (code === OPT_ENDOFOPT) return;
      if (p + 4 + len > end) {
        throw new WireError(
          WireErrorCode.BadOption,
          `${where}: option ${code} of length ${len} runs past the block`,
          'draft-ietf-opsawg-pcapng §3.5',
        );
      }
      fn(code, this.bytes.subarray(p + 4, p + 4 + len));
      p += 4 + pad4(len);
    }
  }

  private interfaceOf(section: Section, localId: number, where: string): number {
    const g = section.ifaceIndex[localId];
    if (g === undefined) {
      throw new WireError(
        WireErrorCode.BadValue,
        `${where}: interface ${localId} has no Interface Description Block`,
        'draft-ietf-opsawg-pcapng §4.3: "Interface ID ... the interface on which this packet was received"',
      );
    }
    return g;
  }

  /** A packet of interface `g` (global index); the original length is never below what was captured. */
  private packet(
    frameNumber: number,
    g: number,
    timestamp: Timestamp,
    originalLength: number,
    data: Uint8Array,
  ): CapturedPacket {
    const iface = this.ifaces[g]!;
    return {
      frameNumber,
      interfaceId: g,
      linkType: iface.linkType,
      fcsLength: iface.fcsLength,
      timestamp,
      originalLength: Math.max(originalLength, data.length),
      data,
    };
  }

  private u32(off: number, le: boolean): number {
    return rd32(this.bytes, off, le);
  }

  private u16(off: number, le: boolean): number {
    return rd16(this.bytes, off, le);
  }
}
