/**
 * Reading a capture as it arrives (`tcpdump -w - | pptp-ts decode -`): a
 * pcap or pcapng byte stream is cut into whole records, and each is read by
 * the same readers that read files (`pcap.ts`, `pcapng.ts`), so a stream is
 * checked exactly as a file is.
 *
 * Memory is bounded by one record: a pcap record's captured length is
 * refused above `PCAP_MAX_CAPTURED_LENGTH` as the file reader does, a pcapng
 * block above {@link MAX_STREAM_BLOCK}, and the pcapng interfaces of a
 * section (kept to read its packets) above {@link MAX_STREAM_INTERFACES}.
 *
 * Pure: bytes in, packets out; the caller owns the stream.
 */

import { concatBytes } from '../wire/bytes.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import { rd32 } from './byte-order.js';
import {
  decodePcapFileHeader,
  isPcap,
  MODIFIED_RECORD_EXTRA,
  PCAP_HEADER_LENGTH,
  PCAP_MAX_CAPTURED_LENGTH,
  PCAP_RECORD_FIELD,
  PCAP_RECORD_HEADER_LENGTH,
  type PcapFileHeader,
  PcapReader,
} from './pcap.js';
import { isPcapng, PcapngBlockType, PcapngReader } from './pcapng.js';
import type { CapturedPacket, CaptureFormat } from './types.js';

/** Largest pcapng block accepted from a stream (a packet block of a 256 KiB frame fits many times over). */
export const MAX_STREAM_BLOCK = 16 << 20;
/** Most Interface Description Blocks kept per pcapng section. */
export const MAX_STREAM_INTERFACES = 256;

/** A growable byte queue: append at the end, consume from the front. */
class ByteQueue {
  private buf = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const need = this.length + chunk.length;
      if (need > this.buf.length / 2) {
        let size = this.buf.length;
        while (size < need * 2) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      } else {
        this.buf.copyWithin(0, this.start, this.end);
      }
      this.end -= this.start;
      this.start = 0;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The first `n` bytes (a view, valid until the next `append`). */
  peek(n: number): Uint8Array {
    return this.buf.subarray(this.start, this.start + n);
  }

  /** Removes and returns a copy of the first `n` bytes. */
  take(n: number): Uint8Array {
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
    return out;
  }
}

/** The file readers' "where" prefixes, which name offsets of the one-record buffer they were given. */
const WHERE = /^(pcap record \d+ at byte \d+|pcapng block at byte \d+|pcapng [A-Za-z ]+ Block at byte \d+): /;

/**
 * Cuts a capture byte stream into packets. `push` each chunk as it arrives
 * and take the packets it completes; `end` when the stream ends, which
 * throws `WireError` for a stream that is not a capture, is corrupt, or
 * stops inside a record.
 */
export class CaptureStreamReader {
  private readonly queue = new ByteQueue();
  private kind: CaptureFormat | undefined;
  private offset = 0;
  private frames = 0;
  private failure: WireError | undefined;
  // pcap
  private pcapHeader: Uint8Array | undefined;
  private pcapInfo: PcapFileHeader | undefined;
  // pcapng: the current section's header and interfaces, and how many interfaces earlier sections had.
  private sectionHeader: Uint8Array | undefined;
  private sectionLe = true;
  private interfaces: Uint8Array[] = [];
  private interfacesBefore = 0;

  /** `pcap` or `pcapng` once the first bytes have come. */
  get format(): CaptureFormat | undefined {
    return this.kind;
  }

  /** Frames read so far. */
  get frameCount(): number {
    return this.frames;
  }

  /** Set once the stream turned out corrupt; nothing is read after it. */
  get error(): WireError | undefined {
    return this.failure;
  }

  /**
   * Takes the next chunk and returns the packets it completes. A corrupt
   * record sets {@link error} and ends reading; the packets before it are
   * still returned.
   */
  push(chunk: Uint8Array): CapturedPacket[] {
    const out: CapturedPacket[] = [];
    if (this.failure) return out;
    this.queue.append(chunk);
    try {
      for (;;) {
        const p = this.next();
        if (p === undefined) break;
        if (p !== null) out.push(p);
      }
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.failure = e;
    }
    return out;
  }

  /** The stream has ended: throws when it was corrupt, stopped inside a record, or never was a capture. */
  end(): void {
    if (this.failure) throw this.failure;
    const left = this.queue.length;
    if (!this.kind) {
      throw new WireError(
        WireErrorCode.BadMagic,
        left < 4 ? `not a capture: only ${left} bytes` : 'not a pcap or pcapng capture',
      );
    }
    if (left > 0) {
      throw new WireError(
        WireErrorCode.Truncated,
        `stream ends inside the record at byte ${this.offset} (${left} bytes of it arrived)`,
      );
    }
  }

  /** One record: a packet, `null` for a record that is not one, `undefined` when more bytes are needed. */
  private next(): CapturedPacket | null | undefined {
    const q = this.queue;
    if (!this.kind) {
      if (q.length < 4) return undefined;
      const head = q.peek(4);
      if (isPcapng(head)) this.kind = 'pcapng';
      else if (isPcap(head)) this.kind = 'pcap';
      else throw new WireError(WireErrorCode.BadMagic, 'not a pcap or pcapng capture');
    }
    return this.kind === 'pcap' ? this.nextPcap() : this.nextPcapng();
  }

  private consume(n: number): Uint8Array {
    this.offset += n;
    return this.queue.take(n);
  }

  private nextPcap(): CapturedPacket | null | undefined {
    const q = this.queue;
    if (!this.pcapHeader) {
      if (q.length < PCAP_HEADER_LENGTH) return undefined;
      this.pcapInfo = decodePcapFileHeader(q.peek(PCAP_HEADER_LENGTH));
      this.pcapHeader = this.consume(PCAP_HEADER_LENGTH);
      return null;
    }
    const info = this.pcapInfo!;
    const recordHeader = PCAP_RECORD_HEADER_LENGTH + (info.modified ? MODIFIED_RECORD_EXTRA : 0);
    if (q.length < recordHeader) return undefined;
    const captured = rd32(q.peek(recordHeader), PCAP_RECORD_FIELD.CAPTURED_LENGTH, info.littleEndian);
    // A length over the limit: let the reader refuse it, from the record header alone.
    const size = captured > PCAP_MAX_CAPTURED_LENGTH ? recordHeader : recordHeader + captured;
    if (q.length < size) return undefined;
    const at = this.offset;
    return this.readOne(new PcapReader(concatBytes(this.pcapHeader, this.consume(size))), at, 0);
  }

  private nextPcapng(): CapturedPacket | null | undefined {
    const q = this.queue;
    if (q.length < 12) return undefined;
    const head = q.peek(12);
    const shb = isPcapng(head);
    // An SHB's own byte-order magic says how to read its length; other blocks follow their section's.
    const le = shb ? rd32(head, 8, true) === 0x1a2b3c4d : this.sectionLe;
    const type = rd32(head, 0, le);
    const length = rd32(head, 4, le);
    const at = this.offset;
    if (length < 12 || length % 4 !== 0 || length > MAX_STREAM_BLOCK) {
      throw new WireError(
        length > MAX_STREAM_BLOCK ? WireErrorCode.LengthTooLarge : WireErrorCode.BadValue,
        `pcapng block at byte ${at}: block length ${length}${length > MAX_STREAM_BLOCK ? ` > ${MAX_STREAM_BLOCK}` : ''}`,
        'draft-ietf-opsawg-pcapng §3.1: Block Total Length "MUST be a multiple of 4"',
      );
    }
    if (q.length < length) return undefined;
    const block = this.consume(length);
    if (shb) {
      // Validated by the reader; a section starts afresh, its interfaces numbered after the earlier ones.
      new PcapngReader(block);
      this.sectionLe = le;
      this.sectionHeader = block;
      this.interfacesBefore += this.interfaces.length;
      this.interfaces = [];
      return null;
    }
    if (!this.sectionHeader)
      throw new WireError(
        WireErrorCode.BadValue,
        `pcapng block at byte ${at}: no Section Header Block before it`,
      );
    if (type === PcapngBlockType.InterfaceDescription) {
      if (this.interfaces.length >= MAX_STREAM_INTERFACES) {
        throw new WireError(
          WireErrorCode.LengthTooLarge,
          `pcapng block at byte ${at}: more than ${MAX_STREAM_INTERFACES} interfaces in a section`,
        );
      }
      // Read now, so a bad one is reported where it is.
      this.readOne(new PcapngReader(concatBytes(this.sectionHeader, ...this.interfaces, block)), at, 0);
      this.interfaces.push(block);
      return null;
    }
    if (
      type !== PcapngBlockType.EnhancedPacket &&
      type !== PcapngBlockType.SimplePacket &&
      type !== PcapngBlockType.Packet
    )
      return null; // §3.1: blocks a reader does not know are skipped by their length
    return this.readOne(
      new PcapngReader(concatBytes(this.sectionHeader, ...this.interfaces, block)),
      at,
      this.interfacesBefore,
    );
  }

  /** Reads the one packet a one-record reader holds (or none), renumbered as in the whole stream. */
  private readOne(
    reader: Iterable<CapturedPacket>,
    at: number,
    interfaceBase: number,
  ): CapturedPacket | null {
    let packet: CapturedPacket | undefined;
    try {
      for (const p of reader) packet = p;
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      const detail = e.detail.replace(WHERE, '');
      throw new WireError(e.code, `${this.kind} record at byte ${at}: ${detail}`, e.reference);
    }
    if (!packet) return null;
    this.frames++;
    return { ...packet, frameNumber: this.frames, interfaceId: packet.interfaceId + interfaceBase };
  }
}
