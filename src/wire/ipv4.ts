/**
 * IPv4 header codec (RFC 791 §3.1), used for the outer header of every GRE
 * packet (the raw socket sends and receives whole IPv4 packets, header
 * included, as `pptp_xmit` builds its own `iphdr`) and for IP packets read
 * from the TUN interface.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Two levels (docs/style.md §2.2): {@link Ipv4View} is a checked view over the
 * bytes (no copy, reusable across packets on the hot path), {@link Ipv4Packet}
 * is the plain value. Options are kept as raw bytes (they are not parsed).
 *
 * Ownership: `options` and `payload` are `subarray` views into the input;
 * copy them to keep them past the call.
 */

import { outputBuffer, put16, put32, u16, u32 } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';

/** Byte offsets of the IPv4 header fields (RFC 791 §3.1). */
export const IPV4_FIELD = {
  /** Version (high nibble) and IHL (low nibble, in 32-bit words). */
  VER_IHL: 0,
  TYPE_OF_SERVICE: 1,
  TOTAL_LENGTH: 2,
  IDENTIFICATION: 4,
  /** Flags (3 high bits) and Fragment Offset (13 bits, in units of 8 octets). */
  FLAGS_FRAGMENT_OFFSET: 6,
  TIME_TO_LIVE: 8,
  PROTOCOL: 9,
  HEADER_CHECKSUM: 10,
  SOURCE_ADDRESS: 12,
  DESTINATION_ADDRESS: 16,
  OPTIONS: 20,
} as const;

/** Header length without options: IHL 5 (RFC 791 §3.1: "the minimum value for a correct header is 5"). */
export const IPV4_MIN_HEADER_LENGTH = 20;
/** Header length with the most options IHL can describe (15 words). */
export const IPV4_MAX_HEADER_LENGTH = 60;
/** RFC 791 §3.1: "This field allows the length of a datagram to be up to 65,535 octets." */
export const IPV4_MAX_TOTAL_LENGTH = 0xffff;

/** Flag bits in the 16-bit Flags/Fragment Offset word (RFC 791 §3.1). */
export const IPV4_FLAG = {
  /** Bit 0: reserved, must be zero. */
  RESERVED: 0x8000,
  /** Bit 1: Don't Fragment. */
  DONT_FRAGMENT: 0x4000,
  /** Bit 2: More Fragments. */
  MORE_FRAGMENTS: 0x2000,
  /** The 13-bit Fragment Offset. */
  FRAGMENT_OFFSET_MASK: 0x1fff,
} as const;

/** Protocol numbers (IANA "Assigned Internet Protocol Numbers", referenced by RFC 791 §3.1) used in this stack. */
export enum IpProtocol {
  /** Internet Control Message Protocol (RFC 792). */
  Icmp = 1,
  /** Transmission Control Protocol (RFC 793). */
  Tcp = 6,
  /** User Datagram Protocol (RFC 768). */
  Udp = 17,
  /** Generic Routing Encapsulation: carries PPTP data (RFC 2637 §4, RFC 2784). */
  Gre = 47,
  /** ICMP for IPv6 (RFC 4443). */
  Icmpv6 = 58,
}

/**
 * The fields of an IPv4 header that an encoder needs: everything except
 * Version (always 4), IHL (from `options`), Total Length (from the payload)
 * and Header Checksum (computed).
 */
export interface Ipv4Header {
  /** Type of Service octet (today's DSCP + ECN). */
  readonly typeOfService: number;
  readonly identification: number;
  /** Flags bit 1 (DF). */
  readonly dontFragment: boolean;
  /** Flags bit 2 (MF). */
  readonly moreFragments: boolean;
  /** Fragment Offset in units of 8 octets, as on the wire (RFC 791 §3.1). */
  readonly fragmentOffset: number;
  readonly timeToLive: number;
  readonly protocol: number;
  /** Source address as an unsigned 32-bit number (see `ipv4ToString`). */
  readonly sourceAddress: number;
  /** Destination address as an unsigned 32-bit number. */
  readonly destinationAddress: number;
  /** Raw option bytes including padding: a multiple of 4, at most 40. Empty for IHL 5. */
  readonly options: Uint8Array;
}

/** A decoded IPv4 datagram: header fields plus the payload cut to Total Length. */
export interface Ipv4Packet extends Ipv4Header {
  readonly payload: Uint8Array;
}

const REF_IHL = 'RFC 791 §3.1: "Note that the minimum value for a correct header is 5."';
const REF_TOTAL =
  'RFC 791 §3.1: "Total Length is the length of the datagram, measured in octets, including internet header and data."';
const REF_CHECKSUM =
  'RFC 791 §3.1: "The checksum field is the 16 bit one\'s complement of the one\'s complement sum of all 16 bit words in the header."';

/**
 * The Internet checksum (RFC 791 §3.1, RFC 1071): the one's complement of
 * the one's complement sum of the 16-bit words of `b[off, off + len)`.
 * `len` must be even (an IPv4 header always is). Returns the value to store
 * in the checksum field; over a header whose checksum field is correct, it
 * returns 0.
 */
export function internetChecksum(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  let i = off;
  const end = off + len;
  // Four words per step (sum of the high octets and of the low octets), the
  // common 20-byte header in five steps.
  for (; i + 8 <= end; i += 8) {
    sum += ((b[i]! + b[i + 2]! + b[i + 4]! + b[i + 6]!) << 8) + b[i + 1]! + b[i + 3]! + b[i + 5]! + b[i + 7]!;
  }
  for (; i < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  // At most 30 words of 0xffff: two folds always suffice.
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * A checked view over one IPv4 datagram in `bytes[start, end)` (docs/style.md
 * §2.2). {@link Ipv4View.check} verifies, in this order, that the fixed
 * header is present, Version is 4, IHL ≥ 5 and fits, Total Length covers the
 * header and fits, the reserved flag is clear and the header checksum
 * verifies; after that no getter can read out of range.
 *
 * On the hot path one view is reused for every packet (`check(bytes, view)`),
 * so validating a packet allocates nothing.
 */
export class Ipv4View {
  private constructor(
    private b: Uint8Array,
    private start: number,
    private hlen: number,
    private tlen: number,
  ) {}

  /**
   * Checks the datagram in `bytes[start, end)` and returns a view of it,
   * reusing `reuse` when given. Bytes after Total Length are ignored
   * (link-layer padding). Throws {@link WireError} when the header is invalid.
   */
  static check(bytes: Uint8Array, reuse?: Ipv4View, start = 0, end = bytes.length): Ipv4View {
    const avail = end - start;
    if (avail < IPV4_MIN_HEADER_LENGTH) {
      throw new WireError(WireErrorCode.Truncated, `IPv4: ${avail} bytes < 20-byte header`);
    }
    const verIhl = bytes[start]!;
    if (verIhl >>> 4 !== 4) {
      throw new WireError(
        WireErrorCode.BadVersion,
        `IPv4: Version ${verIhl >>> 4}`,
        'RFC 791 §3.1: "This document describes version 4."',
      );
    }
    const hlen = (verIhl & 0x0f) * 4;
    if (hlen < IPV4_MIN_HEADER_LENGTH) {
      throw new WireError(WireErrorCode.LengthTooSmall, `IPv4: IHL ${hlen / 4} < 5`, REF_IHL);
    }
    if (hlen > avail) {
      throw new WireError(WireErrorCode.Truncated, `IPv4: IHL ${hlen / 4} words > ${avail} bytes present`);
    }
    const tlen = u16(bytes, start + IPV4_FIELD.TOTAL_LENGTH);
    if (tlen < hlen) {
      throw new WireError(
        WireErrorCode.LengthTooSmall,
        `IPv4: Total Length ${tlen} < header ${hlen}`,
        REF_TOTAL,
      );
    }
    if (tlen > avail) {
      throw new WireError(
        WireErrorCode.LengthTooLarge,
        `IPv4: Total Length ${tlen} > ${avail} bytes present`,
        REF_TOTAL,
      );
    }
    if (bytes[start + IPV4_FIELD.FLAGS_FRAGMENT_OFFSET]! & 0x80) {
      throw new WireError(
        WireErrorCode.BadFlags,
        'IPv4: reserved flag set',
        'RFC 791 §3.1: "Bit 0: reserved, must be zero"',
      );
    }
    if (internetChecksum(bytes, start, hlen) !== 0) {
      throw new WireError(
        WireErrorCode.BadChecksum,
        `IPv4: header checksum 0x${u16(bytes, start + IPV4_FIELD.HEADER_CHECKSUM).toString(16)} does not verify`,
        REF_CHECKSUM,
      );
    }
    if (reuse) {
      reuse.b = bytes;
      reuse.start = start;
      reuse.hlen = hlen;
      reuse.tlen = tlen;
      return reuse;
    }
    return new Ipv4View(bytes, start, hlen, tlen);
  }

  /** The underlying buffer (the one given to `check`). */
  get bytes(): Uint8Array {
    return this.b;
  }
  /** Offset of the header in {@link bytes}. */
  get headerStart(): number {
    return this.start;
  }
  /** IHL × 4: header length in bytes, options included. */
  get headerLength(): number {
    return this.hlen;
  }
  get totalLength(): number {
    return this.tlen;
  }
  get typeOfService(): number {
    return this.b[this.start + IPV4_FIELD.TYPE_OF_SERVICE]!;
  }
  get identification(): number {
    return u16(this.b, this.start + IPV4_FIELD.IDENTIFICATION);
  }
  get dontFragment(): boolean {
    return (this.b[this.start + IPV4_FIELD.FLAGS_FRAGMENT_OFFSET]! & 0x40) !== 0;
  }
  get moreFragments(): boolean {
    return (this.b[this.start + IPV4_FIELD.FLAGS_FRAGMENT_OFFSET]! & 0x20) !== 0;
  }
  /** Fragment Offset in units of 8 octets. */
  get fragmentOffset(): number {
    return u16(this.b, this.start + IPV4_FIELD.FLAGS_FRAGMENT_OFFSET) & IPV4_FLAG.FRAGMENT_OFFSET_MASK;
  }
  /** True when this datagram is a fragment (MF set or a non-zero offset). */
  get isFragment(): boolean {
    return (u16(this.b, this.start + IPV4_FIELD.FLAGS_FRAGMENT_OFFSET) & 0x3fff) !== 0;
  }
  get timeToLive(): number {
    return this.b[this.start + IPV4_FIELD.TIME_TO_LIVE]!;
  }
  get protocol(): number {
    return this.b[this.start + IPV4_FIELD.PROTOCOL]!;
  }
  get headerChecksum(): number {
    return u16(this.b, this.start + IPV4_FIELD.HEADER_CHECKSUM);
  }
  get sourceAddress(): number {
    return u32(this.b, this.start + IPV4_FIELD.SOURCE_ADDRESS);
  }
  get destinationAddress(): number {
    return u32(this.b, this.start + IPV4_FIELD.DESTINATION_ADDRESS);
  }
  /** Raw options (view). */
  get options(): Uint8Array {
    return this.b.subarray(this.start + IPV4_FIELD.OPTIONS, this.start + this.hlen);
  }
  /** Offset of the payload in {@link bytes}. */
  get payloadStart(): number {
    return this.start + this.hlen;
  }
  /** End (exclusive) of the payload in {@link bytes}: Total Length, not the buffer end. */
  get payloadEnd(): number {
    return this.start + this.tlen;
  }
  /** The payload cut to Total Length (view). */
  get payload(): Uint8Array {
    return this.b.subarray(this.start + this.hlen, this.start + this.tlen);
  }

  /** The plain value (views for `options` and `payload`). */
  toPacket(): Ipv4Packet {
    return {
      typeOfService: this.typeOfService,
      identification: this.identification,
      dontFragment: this.dontFragment,
      moreFragments: this.moreFragments,
      fragmentOffset: this.fragmentOffset,
      timeToLive: this.timeToLive,
      protocol: this.protocol,
      sourceAddress: this.sourceAddress,
      destinationAddress: this.destinationAddress,
      options: this.options,
      payload: this.payload,
    };
  }
}

/** Decodes an IPv4 datagram (see {@link Ipv4View.check} for what is rejected). Trailing bytes after Total Length are ignored. */
export function decodeIpv4Packet(bytes: Uint8Array): Ipv4Packet {
  return Ipv4View.check(bytes).toPacket();
}

/** Header length for `h`: 20 plus the options. */
export function ipv4HeaderLength(h: Pick<Ipv4Header, 'options'>): number {
  return IPV4_MIN_HEADER_LENGTH + h.options.length;
}

/** Encoded size of a whole datagram. */
export function ipv4PacketLength(p: Ipv4Packet): number {
  return ipv4HeaderLength(p) + p.payload.length;
}

/**
 * Writes the IPv4 header for a datagram whose payload of `payloadLength`
 * bytes follows (or will follow) the header in `buf`: Version 4, IHL from
 * the options, Total Length = header + `payloadLength`, and the Header
 * Checksum computed over the result. Returns the header length. This is the
 * in-place transmit primitive: the payload itself is never touched.
 *
 * Throws `RangeError` for values no datagram can carry (programming errors,
 * not wire errors).
 */
export function encodeIpv4Header(
  h: Ipv4Header,
  payloadLength: number,
  buf: Uint8Array,
  offset: number,
): number {
  const opts = h.options;
  const hlen = IPV4_MIN_HEADER_LENGTH + opts.length;
  if (opts.length % 4 !== 0 || hlen > IPV4_MAX_HEADER_LENGTH) {
    throw new RangeError(`IPv4 options must be a multiple of 4 bytes, at most 40 (got ${opts.length})`);
  }
  const tlen = hlen + payloadLength;
  if (tlen > IPV4_MAX_TOTAL_LENGTH) throw new RangeError(`IPv4 datagram too long: ${tlen}`);
  if (offset < 0 || offset + hlen > buf.length)
    throw new RangeError('encodeIpv4Header: output buffer too small');
  const frag =
    (h.dontFragment ? IPV4_FLAG.DONT_FRAGMENT : 0) |
    (h.moreFragments ? IPV4_FLAG.MORE_FRAGMENTS : 0) |
    (h.fragmentOffset & IPV4_FLAG.FRAGMENT_OFFSET_MASK);
  buf[offset + IPV4_FIELD.VER_IHL] = 0x40 | (hlen >>> 2);
  buf[offset + IPV4_FIELD.TYPE_OF_SERVICE] = h.typeOfService & 0xff;
  put16(buf, offset + IPV4_FIELD.TOTAL_LENGTH, tlen);
  put16(buf, offset + IPV4_FIELD.IDENTIFICATION, h.identification);
  put16(buf, offset + IPV4_FIELD.FLAGS_FRAGMENT_OFFSET, frag);
  buf[offset + IPV4_FIELD.TIME_TO_LIVE] = h.timeToLive & 0xff;
  buf[offset + IPV4_FIELD.PROTOCOL] = h.protocol & 0xff;
  put16(buf, offset + IPV4_FIELD.HEADER_CHECKSUM, 0);
  put32(buf, offset + IPV4_FIELD.SOURCE_ADDRESS, h.sourceAddress);
  put32(buf, offset + IPV4_FIELD.DESTINATION_ADDRESS, h.destinationAddress);
  if (opts.length) buf.set(opts, offset + IPV4_FIELD.OPTIONS);
  put16(buf, offset + IPV4_FIELD.HEADER_CHECKSUM, internetChecksum(buf, offset, hlen));
  return hlen;
}

/**
 * The transmit hot path's form of {@link encodeIpv4Header}: writes a
 * 20-byte header (no options, Type of Service 0, no fragmentation other
 * than DF) at `offset` for `payloadLength` bytes that follow, with the
 * checksum, from plain numbers so no header object is built per packet.
 * Returns 20. Arguments are trusted (the caller owns them): `offset + 20`
 * must fit and `payloadLength` must be at most 65515.
 */
export function writeIpv4Header(
  buf: Uint8Array,
  offset: number,
  payloadLength: number,
  identification: number,
  dontFragment: boolean,
  timeToLive: number,
  protocol: number,
  sourceAddress: number,
  destinationAddress: number,
): number {
  const tlen = IPV4_MIN_HEADER_LENGTH + payloadLength;
  const id = identification & 0xffff;
  const w3 = dontFragment ? IPV4_FLAG.DONT_FRAGMENT : 0;
  const w4 = ((timeToLive & 0xff) << 8) | (protocol & 0xff);
  const sh = sourceAddress >>> 16;
  const sl = sourceAddress & 0xffff;
  const dh = destinationAddress >>> 16;
  const dl = destinationAddress & 0xffff;
  // The checksum from the ten 16-bit words directly (word 0 is 0x4500).
  let sum = 0x4500 + tlen + id + w3 + w4 + sh + sl + dh + dl;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  const ck = ~sum & 0xffff;
  buf[offset] = 0x45;
  buf[offset + 1] = 0;
  buf[offset + 2] = tlen >>> 8;
  buf[offset + 3] = tlen & 0xff;
  buf[offset + 4] = id >>> 8;
  buf[offset + 5] = id & 0xff;
  buf[offset + 6] = w3 >>> 8;
  buf[offset + 7] = 0;
  buf[offset + 8] = w4 >>> 8;
  buf[offset + 9] = w4 & 0xff;
  buf[offset + 10] = ck >>> 8;
  buf[offset + 11] = ck & 0xff;
  buf[offset + 12] = sh >>> 8;
  buf[offset + 13] = sh & 0xff;
  buf[offset + 14] = sl >>> 8;
  buf[offset + 15] = sl & 0xff;
  buf[offset + 16] = dh >>> 8;
  buf[offset + 17] = dh & 0xff;
  buf[offset + 18] = dl >>> 8;
  buf[offset + 19] = dl & 0xff;
  return IPV4_MIN_HEADER_LENGTH;
}

/**
 * Encodes a whole datagram (header + a copy of the payload) into `out` at
 * `offset`, allocating when `out` is omitted; returns a view of the bytes
 * written.
 */
export function encodeIpv4Packet(p: Ipv4Packet, out?: Uint8Array, offset = 0): Uint8Array {
  const len = ipv4PacketLength(p);
  const buf = outputBuffer(out, offset, len, 'encodeIpv4Packet');
  const hlen = encodeIpv4Header(p, p.payload.length, buf, offset);
  buf.set(p.payload, offset + hlen);
  return buf.subarray(offset, offset + len);
}
