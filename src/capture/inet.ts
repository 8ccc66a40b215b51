/**
 * IPv4, IPv6, TCP and UDP headers as a protocol analyser needs them: every
 * field for display, checksums *verified and reported* rather than enforced,
 * and a payload cut to the length the header declares.
 *
 * These are not the stack's codecs (`wire/ipv4.ts` is: it rejects a bad
 * checksum, as a receiver must). A capture is evidence, so here a bad
 * checksum is a fact to show, and a packet cut short by the capture's snap
 * length is reported as `missing` bytes instead of failing. Structural
 * nonsense (a header shorter than its minimum, a length field below the
 * header size) still throws `WireError`.
 *
 * Ownership: `payload`, `options` and address views point into the input.
 */

import { ipv6ToString, u16, u32 } from '../wire/bytes.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import { IpProtocol } from '../wire/ipv4.js';

/** IP protocol numbers used in output: the stack's own table (IANA "Assigned Internet Protocol Numbers"). */
export { IpProtocol };

/** Display names of IP protocol numbers. */
export const IP_PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'IPv6 Hop-by-Hop',
  1: 'ICMP',
  2: 'IGMP',
  4: 'IPv4',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  43: 'IPv6 Routing',
  44: 'IPv6 Fragment',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  59: 'IPv6 No Next Header',
  60: 'IPv6 Destination Options',
  132: 'SCTP',
};

/**
 * Outcome of a checksum check. `unverified` when it could not be checked
 * (the bytes were not all captured) or when the sender visibly left it to
 * the network card (see {@link ChecksumOffload}); `none` for a UDP checksum
 * of 0 over IPv4 (RFC 768: "all zero ... means the transmitter generated no
 * checksum").
 */
export type ChecksumStatus = 'good' | 'bad' | 'unverified' | 'none';

/**
 * Why a checksum that does not verify is shown `unverified` instead of `bad`:
 * the capture was taken on the sending host before the network card
 * computed it (checksum offload), which every capture of outgoing traffic on
 * a modern host shows.
 *
 * - `not-computed`: an IPv4 header checksum of 0 (Windows hands the header
 *   to the card with the field zeroed).
 * - `partial`: a TCP or UDP checksum field that holds exactly the folded
 *   sum of the pseudo-header and nothing else: what Linux writes for
 *   CHECKSUM_PARTIAL (`~tcp_v4_check(len, saddr, daddr, 0)`), leaving the
 *   card to add the segment's own sum.
 *
 * Only a checksum that fails is looked at this way; a good one is `good`.
 */
export type ChecksumOffload = 'not-computed' | 'partial';

/**
 * The Internet checksum (RFC 1071) folded to 16 bits, over `parts` as if
 * concatenated, starting from `initial` (a partial sum such as a
 * pseudo-header). A result of 0 over data that includes its checksum field
 * means the checksum verifies.
 */
export function internetChecksum(parts: readonly Uint8Array[], initial = 0): number {
  let sum = initial;
  let odd = false;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      sum += odd ? p[i]! : p[i]! << 8;
      odd = !odd;
    }
    // keep the sum small so it never loses precision
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** IPv4 dotted quad of 4 bytes. */
export function ipv4BytesToString(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** An IPv4 packet (RFC 791 §3.1). */
export interface Ipv4Packet {
  readonly version: 4;
  /** IHL × 4. */
  readonly headerLength: number;
  readonly dscp: number;
  readonly ecn: number;
  readonly totalLength: number;
  readonly identification: number;
  /** The reserved flag bit ("evil bit"); must be zero. */
  readonly reservedFlag: boolean;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** Fragment offset in bytes (the field × 8). */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly checksumStatus: ChecksumStatus;
  /** Set when `checksumStatus` is `unverified` because the sender left the checksum to offload. */
  readonly checksumOffload?: ChecksumOffload;
  readonly source: string;
  readonly destination: string;
  readonly sourceBytes: Uint8Array;
  readonly destinationBytes: Uint8Array;
  readonly options: Uint8Array;
  /** The payload, cut to Total Length (or to what was captured). */
  readonly payload: Uint8Array;
  /** Bytes of the declared payload that are not in the buffer (0 when complete). */
  readonly missing: number;
}

/**
 * Decodes an IPv4 header. RFC 791 §3.1: "Internet Header Length is the
 * length of the internet header in 32 bit words ... the minimum value for a
 * correct header is 5", and "Total Length is the length of the datagram,
 * measured in octets, including internet header and data".
 */
export function decodeIpv4Packet(b: Uint8Array): Ipv4Packet {
  if (b.length < 20) throw new WireError(WireErrorCode.Truncated, `IPv4 header: ${b.length} bytes < 20`);
  const version = b[0]! >>> 4;
  if (version !== 4) throw new WireError(WireErrorCode.BadVersion, `IPv4 header: version ${version}`);
  const headerLength = (b[0]! & 0x0f) * 4;
  if (headerLength < 20) {
    throw new WireError(
      WireErrorCode.LengthTooSmall,
      `IPv4 IHL ${headerLength / 4} < 5`,
      'RFC 791 §3.1: "the minimum value for a correct header is 5"',
    );
  }
  if (b.length < headerLength) {
    throw new WireError(
      WireErrorCode.Truncated,
      `IPv4 header: IHL says ${headerLength} bytes, have ${b.length}`,
    );
  }
  const totalLength = u16(b, 2);
  if (totalLength < headerLength) {
    throw new WireError(
      WireErrorCode.LengthTooSmall,
      `IPv4 Total Length ${totalLength} < header length ${headerLength}`,
      'RFC 791 §3.1: "Total Length is the length of the datagram ... including internet header and data"',
    );
  }
  const end = Math.min(totalLength, b.length);
  const flagsFrag = u16(b, 6);
  const checksum = u16(b, 10);
  const good = internetChecksum([b.subarray(0, headerLength)]) === 0;
  // A header whose checksum field is 0 and does not verify was never summed: left to offload.
  const offload = !good && checksum === 0;
  return {
    version: 4,
    headerLength,
    dscp: b[1]! >>> 2,
    ecn: b[1]! & 3,
    totalLength,
    identification: u16(b, 4),
    reservedFlag: (flagsFrag & 0x8000) !== 0,
    dontFragment: (flagsFrag & 0x4000) !== 0,
    moreFragments: (flagsFrag & 0x2000) !== 0,
    fragmentOffset: (flagsFrag & 0x1fff) * 8,
    ttl: b[8]!,
    protocol: b[9]!,
    checksum,
    checksumStatus: good ? 'good' : offload ? 'unverified' : 'bad',
    ...(offload ? { checksumOffload: 'not-computed' as const } : {}),
    source: ipv4BytesToString(b.subarray(12, 16)),
    destination: ipv4BytesToString(b.subarray(16, 20)),
    sourceBytes: b.subarray(12, 16),
    destinationBytes: b.subarray(16, 20),
    options: b.subarray(20, headerLength),
    payload: b.subarray(headerLength, end),
    missing: totalLength - end,
  };
}

/** An IPv6 packet (RFC 8200 §3) with its extension headers walked. */
export interface Ipv6Packet {
  readonly version: 6;
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly payloadLength: number;
  /** The Next Header field of the fixed header. */
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly source: string;
  readonly destination: string;
  readonly sourceBytes: Uint8Array;
  readonly destinationBytes: Uint8Array;
  /** Extension headers passed over, in order (protocol numbers). */
  readonly extensionHeaders: readonly number[];
  /** The upper-layer protocol after the extension headers. */
  readonly protocol: number;
  /** Set when a Fragment header says this is a fragment; `payload` is then not a whole upper-layer packet unless offset 0 and no more fragments. */
  readonly fragment?: {
    readonly offset: number;
    readonly moreFragments: boolean;
    readonly identification: number;
  };
  /** Upper-layer payload, cut to Payload Length (or what was captured). */
  readonly payload: Uint8Array;
  readonly missing: number;
}

const IPV6_EXTENSIONS = new Set([0, 43, 44, 51, 60]);

/** Decodes an IPv6 header and its extension-header chain (RFC 8200 §4). */
export function decodeIpv6Packet(b: Uint8Array): Ipv6Packet {
  if (b.length < 40) throw new WireError(WireErrorCode.Truncated, `IPv6 header: ${b.length} bytes < 40`);
  const version = b[0]! >>> 4;
  if (version !== 6) throw new WireError(WireErrorCode.BadVersion, `IPv6 header: version ${version}`);
  const payloadLength = u16(b, 4);
  const end = Math.min(40 + payloadLength, b.length);
  const body = b.subarray(40, end);
  const extensionHeaders: number[] = [];
  let protocol = b[6]!;
  let off = 0;
  let fragment: Ipv6Packet['fragment'];
  while (IPV6_EXTENSIONS.has(protocol)) {
    if (body.length - off < 8) {
      throw new WireError(
        WireErrorCode.Truncated,
        `IPv6 extension header ${protocol}: ${body.length - off} bytes < 8`,
      );
    }
    const next = body[off]!;
    let len: number;
    if (protocol === 44) {
      len = 8;
      const fo = u16(body, off + 2);
      fragment = { offset: fo & 0xfff8, moreFragments: (fo & 1) !== 0, identification: u32(body, off + 4) };
    } else if (protocol === 51) {
      len = (body[off + 1]! + 2) * 4; // RFC 4302 §2.2: AH length is in 4-octet units, minus 2
    } else {
      len = (body[off + 1]! + 1) * 8; // RFC 8200 §4.3: "in 8-octet units, not including the first 8 octets"
    }
    if (off + len > body.length) {
      throw new WireError(
        WireErrorCode.LengthTooLarge,
        `IPv6 extension header ${protocol}: length ${len} runs past the payload`,
      );
    }
    extensionHeaders.push(protocol);
    protocol = next;
    off += len;
    if (fragment && fragment.offset !== 0) break; // later fragments carry no upper-layer header
  }
  return {
    version: 6,
    trafficClass: ((b[0]! & 0x0f) << 4) | (b[1]! >>> 4),
    flowLabel: ((b[1]! & 0x0f) << 16) | u16(b, 2),
    payloadLength,
    nextHeader: b[6]!,
    hopLimit: b[7]!,
    source: ipv6ToString(b.subarray(8, 24)),
    destination: ipv6ToString(b.subarray(24, 40)),
    sourceBytes: b.subarray(8, 24),
    destinationBytes: b.subarray(24, 40),
    extensionHeaders,
    protocol,
    ...(fragment ? { fragment } : {}),
    payload: body.subarray(off),
    missing: 40 + payloadLength - end,
  };
}

/** Partial checksum sum of the TCP/UDP pseudo-header (RFC 793 §3.1, RFC 8200 §8.1). */
function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = 0;
  for (const a of [src, dst]) for (let i = 0; i < a.length; i += 2) sum += u16(a, i);
  // IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, 3 zero bytes, next header.
  return sum + protocol + (length & 0xffff) + Math.floor(length / 0x10000);
}

/** A partial sum folded to 16 bits, not complemented (what a CHECKSUM_PARTIAL field holds). */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Verifies a TCP/UDP checksum over `data` with the pseudo-header sum
 * `init`; a failing one that equals the folded pseudo-header sum alone is
 * a Linux CHECKSUM_PARTIAL left for the card ({@link ChecksumOffload}).
 */
function transportChecksum(
  data: Uint8Array,
  init: number,
  field: number,
): { checksumStatus: ChecksumStatus; checksumOffload?: ChecksumOffload } {
  if (internetChecksum([data], init) === 0) return { checksumStatus: 'good' };
  if (field === fold(init)) return { checksumStatus: 'unverified', checksumOffload: 'partial' };
  return { checksumStatus: 'bad' };
}

/** The addresses and protocol needed to verify a TCP/UDP checksum. */
export interface PseudoHeader {
  readonly sourceBytes: Uint8Array;
  readonly destinationBytes: Uint8Array;
}

/** TCP flag bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR). */
export interface TcpFlags {
  readonly fin: boolean;
  readonly syn: boolean;
  readonly rst: boolean;
  readonly psh: boolean;
  readonly ack: boolean;
  readonly urg: boolean;
  readonly ece: boolean;
  readonly cwr: boolean;
}

/** A TCP segment (RFC 9293 §3.1). */
export interface TcpSegment {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly sequenceNumber: number;
  readonly acknowledgmentNumber: number;
  /** Data Offset × 4. */
  readonly headerLength: number;
  readonly flags: TcpFlags;
  readonly window: number;
  readonly checksum: number;
  readonly checksumStatus: ChecksumStatus;
  readonly checksumOffload?: ChecksumOffload;
  readonly urgentPointer: number;
  readonly options: Uint8Array;
  readonly payload: Uint8Array;
}

/**
 * Decodes a TCP header. `segmentLength` is the length the IP layer declares
 * (it may exceed `b.length` when the capture was cut); the checksum is
 * verified only when the whole segment is present.
 */
export function decodeTcpSegment(b: Uint8Array, ip?: PseudoHeader, segmentLength = b.length): TcpSegment {
  if (b.length < 20) throw new WireError(WireErrorCode.Truncated, `TCP header: ${b.length} bytes < 20`);
  const headerLength = (b[12]! >>> 4) * 4;
  if (headerLength < 20) {
    throw new WireError(
      WireErrorCode.LengthTooSmall,
      `TCP Data Offset ${headerLength / 4} < 5`,
      'RFC 9293 §3.1: "Data Offset ... The TCP header (even one including options) is an integer multiple of 32 bits long"; the fixed header alone is 5 words',
    );
  }
  if (b.length < headerLength) {
    throw new WireError(
      WireErrorCode.Truncated,
      `TCP header: Data Offset says ${headerLength} bytes, have ${b.length}`,
    );
  }
  const f = b[13]!;
  let check: ReturnType<typeof transportChecksum> = { checksumStatus: 'unverified' };
  if (ip && segmentLength === b.length) {
    const init = pseudoHeaderSum(ip.sourceBytes, ip.destinationBytes, IpProtocol.Tcp, b.length);
    check = transportChecksum(b, init, u16(b, 16));
  }
  return {
    sourcePort: u16(b, 0),
    destinationPort: u16(b, 2),
    sequenceNumber: u32(b, 4),
    acknowledgmentNumber: u32(b, 8),
    headerLength,
    flags: {
      fin: (f & 0x01) !== 0,
      syn: (f & 0x02) !== 0,
      rst: (f & 0x04) !== 0,
      psh: (f & 0x08) !== 0,
      ack: (f & 0x10) !== 0,
      urg: (f & 0x20) !== 0,
      ece: (f & 0x40) !== 0,
      cwr: (f & 0x80) !== 0,
    },
    window: u16(b, 14),
    checksum: u16(b, 16),
    ...check,
    urgentPointer: u16(b, 18),
    options: b.subarray(20, headerLength),
    payload: b.subarray(headerLength),
  };
}

/** A UDP datagram (RFC 768). */
export interface UdpDatagram {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly length: number;
  readonly checksum: number;
  readonly checksumStatus: ChecksumStatus;
  readonly checksumOffload?: ChecksumOffload;
  readonly payload: Uint8Array;
  readonly missing: number;
}

/**
 * Decodes a UDP header. RFC 768: "Length is the length in octets of this
 * user datagram including this header and the data. (This means the
 * minimum value of the length is eight.)" A zero checksum means "none"
 * over IPv4.
 */
export function decodeUdpDatagram(b: Uint8Array, ip?: PseudoHeader, datagramLength = b.length): UdpDatagram {
  if (b.length < 8) throw new WireError(WireErrorCode.Truncated, `UDP header: ${b.length} bytes < 8`);
  const length = u16(b, 4);
  if (length < 8) {
    throw new WireError(
      WireErrorCode.LengthTooSmall,
      `UDP Length ${length} < 8`,
      'RFC 768: "the minimum value of the length is eight"',
    );
  }
  const end = Math.min(length, b.length);
  const checksum = u16(b, 6);
  let check: ReturnType<typeof transportChecksum> = { checksumStatus: 'unverified' };
  if (checksum === 0 && ip?.sourceBytes.length === 4) check = { checksumStatus: 'none' };
  else if (ip && datagramLength === b.length && length <= b.length) {
    const init = pseudoHeaderSum(ip.sourceBytes, ip.destinationBytes, IpProtocol.Udp, length);
    check = transportChecksum(b.subarray(0, length), init, checksum);
  }
  return {
    sourcePort: u16(b, 0),
    destinationPort: u16(b, 2),
    length,
    checksum,
    ...check,
    payload: b.subarray(8, end),
    missing: length - end,
  };
}
