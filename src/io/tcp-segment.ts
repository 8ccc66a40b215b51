/**
 * TUN offloads, transmit half: the virtio-net header a TUN opened with
 * IFF_VNET_HDR puts in front of every packet, the Internet checksum over
 * large buffers, and segmentation of the TCP (and UDP) "super-packets" of up
 * to 64 KiB that the kernel hands us once TUNSETOFFLOAD enabled TSO/USO
 * (docs/native-io.md, docs/performance.md). wireguard-go does the same in
 * `tun/offload_linux.go`; this is an independent implementation of the
 * kernel's own rules (`tcp_gso_segment`, `inet_gso_segment`,
 * `ipv6_gso_segment`, `skb_checksum_help`).
 *
 * Lives in io/ beside its one user, the TUN (src/io/tun.ts): it is the
 * kernel's offload work done in user space, not a protocol codec. Pure all
 * the same: no Node APIs, no allocation per packet. Segmentation works in place
 * (see {@link gsoSegment}); every segment is handed out as a view that is
 * valid only during the callback.
 *
 * References: virtio 1.2 §5.1.6 (struct virtio_net_hdr), RFC 791 §3.1
 * (IPv4), RFC 8200 §3 and §8.1 (IPv6 header and pseudo-header), RFC 9293
 * §3.1 (TCP header and checksum), RFC 768 (UDP), RFC 1071 (computing the
 * checksum), linux/virtio_net.h and linux/if_tun.h.
 */
import { put16 } from '../wire/bytes.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import { IPV4_FIELD, internetChecksum } from '../wire/ipv4.js';

// ---------------------------------------------------------------------------
// virtio_net_hdr

/**
 * The legacy 10-byte `struct virtio_net_hdr` (virtio 1.2 §5.1.6; the
 * `num_buffers` field of the 12-byte form is not used by TUN unless
 * TUNSETVNETHDRSZ asks for it). Little-endian: the native addon pins it with
 * TUNSETVNETLE.
 *
 * ```
 *  0        1        2                 4                 6                 8                10
 * +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
 * | flags  |gso_type|     hdr_len     |    gso_size     |   csum_start    |   csum_offset   |
 * +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
 * ```
 */
export const VIRTIO_NET_HDR_FIELD = {
  FLAGS: 0,
  GSO_TYPE: 1,
  HDR_LEN: 2,
  GSO_SIZE: 4,
  CSUM_START: 6,
  CSUM_OFFSET: 8,
} as const;

/** Bytes of the header (TUNSETVNETHDRSZ 10). */
export const VIRTIO_NET_HDR_LENGTH = 10;

/** `flags` bits (virtio 1.2 §5.1.6). */
export enum VirtioNetHdrFlag {
  /**
   * VIRTIO_NET_HDR_F_NEEDS_CSUM: "the packet has a partial checksum": the
   * checksum over `[csum_start, end)` still has to be computed and stored at
   * `csum_start + csum_offset`, where the pseudo-header sum already sits.
   */
  NeedsCsum = 1,
  /** VIRTIO_NET_HDR_F_DATA_VALID: the checksum was already verified (device to driver only). */
  DataValid = 2,
}

/** `gso_type` values (virtio 1.2 §5.1.6, linux/virtio_net.h). */
export enum VirtioNetGso {
  /** VIRTIO_NET_HDR_GSO_NONE: not a super-packet. */
  None = 0,
  /** VIRTIO_NET_HDR_GSO_TCPV4: IPv4 TCP, to be cut into `gso_size`-byte segments (TSO). */
  TcpV4 = 1,
  /** VIRTIO_NET_HDR_GSO_UDP: IPv4 UDP fragmentation (UFO); never enabled here. */
  Udp = 3,
  /** VIRTIO_NET_HDR_GSO_TCPV6: IPv6 TCP (TSO). */
  TcpV6 = 4,
  /** VIRTIO_NET_HDR_GSO_UDP_L4: UDP segmentation (USO), IPv4 or IPv6 by the version nibble. */
  UdpL4 = 5,
  /** VIRTIO_NET_HDR_GSO_ECN bit: the TCP super-packet carries ECN (CWR goes on the first segment only). */
  Ecn = 0x80,
}

/** The decoded header. */
export interface VirtioNetHdr {
  flags: number;
  gsoType: number;
  /** Length of the headers (device's hint; TUN reports its linear length here, so it is not relied on). */
  hdrLen: number;
  /** Payload bytes per segment. */
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

/** A zeroed header value: a plain packet with a complete checksum. */
export function plainVirtioNetHdr(): VirtioNetHdr {
  return { flags: 0, gsoType: VirtioNetGso.None, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
}

const le16 = (b: Uint8Array, off: number): number => b[off]! | (b[off + 1]! << 8);
function putLe16(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}

/**
 * Reads the header at `bytes[offset]` into `into` (the hot path reuses one
 * object) and returns it. Throws `WireError` when fewer than 10 bytes remain.
 */
export function readVirtioNetHdr(bytes: Uint8Array, offset: number, into: VirtioNetHdr): VirtioNetHdr {
  if (bytes.length - offset < VIRTIO_NET_HDR_LENGTH || offset < 0) {
    throw new WireError(
      WireErrorCode.Truncated,
      `virtio_net_hdr: ${bytes.length - offset} bytes < ${VIRTIO_NET_HDR_LENGTH}`,
    );
  }
  into.flags = bytes[offset + VIRTIO_NET_HDR_FIELD.FLAGS]!;
  into.gsoType = bytes[offset + VIRTIO_NET_HDR_FIELD.GSO_TYPE]!;
  into.hdrLen = le16(bytes, offset + VIRTIO_NET_HDR_FIELD.HDR_LEN);
  into.gsoSize = le16(bytes, offset + VIRTIO_NET_HDR_FIELD.GSO_SIZE);
  into.csumStart = le16(bytes, offset + VIRTIO_NET_HDR_FIELD.CSUM_START);
  into.csumOffset = le16(bytes, offset + VIRTIO_NET_HDR_FIELD.CSUM_OFFSET);
  return into;
}

/** Decodes a header (a new object; see {@link readVirtioNetHdr} for the hot path). */
export function decodeVirtioNetHdr(bytes: Uint8Array): VirtioNetHdr {
  return readVirtioNetHdr(bytes, 0, plainVirtioNetHdr());
}

/** Always {@link VIRTIO_NET_HDR_LENGTH}. */
export function virtioNetHdrLength(_h: VirtioNetHdr): number {
  return VIRTIO_NET_HDR_LENGTH;
}

/** Writes `h` at `out[offset]` (a new 10-byte array without `out`); returns the 10 bytes written. */
export function encodeVirtioNetHdr(h: VirtioNetHdr, out?: Uint8Array, offset = 0): Uint8Array {
  const b = out ?? new Uint8Array(VIRTIO_NET_HDR_LENGTH);
  if (b.length - offset < VIRTIO_NET_HDR_LENGTH) throw new RangeError('encodeVirtioNetHdr: buffer too small');
  b[offset + VIRTIO_NET_HDR_FIELD.FLAGS] = h.flags & 0xff;
  b[offset + VIRTIO_NET_HDR_FIELD.GSO_TYPE] = h.gsoType & 0xff;
  putLe16(b, offset + VIRTIO_NET_HDR_FIELD.HDR_LEN, h.hdrLen);
  putLe16(b, offset + VIRTIO_NET_HDR_FIELD.GSO_SIZE, h.gsoSize);
  putLe16(b, offset + VIRTIO_NET_HDR_FIELD.CSUM_START, h.csumStart);
  putLe16(b, offset + VIRTIO_NET_HDR_FIELD.CSUM_OFFSET, h.csumOffset);
  return b.subarray(offset, offset + VIRTIO_NET_HDR_LENGTH);
}

/** Writes ten zero bytes: "no offload, checksum complete". */
export function writePlainVirtioNetHdr(out: Uint8Array, offset: number): void {
  out.fill(0, offset, offset + VIRTIO_NET_HDR_LENGTH);
}

// ---------------------------------------------------------------------------
// The Internet checksum over large buffers (RFC 1071)

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Byte and word views over the whole backing buffers of the last few
// buffers seen (a packet path alternates between two or three rings: the
// receive ring, a transmit ring): rings are long-lived, so this costs two
// allocations per ring, not per packet.
const VIEW_CACHE = 4;
const cachedBuffers: (ArrayBufferLike | undefined)[] = new Array(VIEW_CACHE).fill(undefined);
const cachedBytes: Uint8Array[] = [];
const cachedWords: Uint32Array[] = [];
let cacheNext = 0;
let allBytes: Uint8Array = new Uint8Array(0);
let allWords: Uint32Array = new Uint32Array(0);

function useViews(buf: ArrayBufferLike): void {
  for (let i = 0; i < VIEW_CACHE; i++) {
    if (cachedBuffers[i] === buf) {
      allBytes = cachedBytes[i]!;
      allWords = cachedWords[i]!;
      return;
    }
  }
  const i = cacheNext;
  cacheNext = (cacheNext + 1) % VIEW_CACHE;
  cachedBuffers[i] = buf;
  allBytes = cachedBytes[i] = new Uint8Array(buf);
  allWords = cachedWords[i] = new Uint32Array(buf, 0, buf.byteLength >>> 2);
}

/** Folds a non-negative sum (up to 2^53) to 16 bits with end-around carries. */
function fold(s: number): number {
  while (s > 0xffff) s = (s % 65536) + Math.floor(s / 65536);
  return s;
}

/**
 * The one's complement sum (RFC 1071 §1) of `b[off, off + len)` read as
 * big-endian 16-bit words (a trailing odd byte padded with zero), added to
 * `initial` (a previous 16-bit sum), folded to 16 bits and not complemented.
 * The checksum field value is `~sum & 0xffff` ({@link checksumFinish}).
 * The caller has checked that the range lies inside `b`.
 *
 * Fast path: whole 32-bit words through a Uint32Array over the buffer,
 * summed in a double (exact up to 2^53, i.e. 8 MiB), then folded and, when
 * the words were read in the other byte order, byte-swapped: RFC 1071 §2(B)
 * "the sum of 16-bit integers can be computed in either byte order".
 */
export function checksumAdd(b: Uint8Array, off: number, len: number, initial = 0): number {
  if (len <= 0) return fold(initial);
  if (!HOST_LITTLE_ENDIAN || len < 32) {
    let hi = 0;
    let lo = 0;
    let i = off;
    const end = off + len;
    for (; i + 1 < end; i += 2) {
      hi += b[i]!;
      lo += b[i + 1]!;
    }
    if (i < end) hi += b[i]!;
    return fold(hi * 256 + lo + initial);
  }
  useViews(b.buffer);
  const u8 = allBytes;
  const u32 = allWords;
  const start = b.byteOffset + off;
  const end = start + len;
  // `hi` sums the bytes at an even distance from `start` (the high octets
  // of the big-endian words), `lo` those at an odd distance.
  let hi = 0;
  let lo = 0;
  let a = start;
  for (; (a & 3) !== 0; a++) {
    if (((a - start) & 1) === 0) hi += u8[a]!;
    else lo += u8[a]!;
  }
  const wordsStartEven = ((a - start) & 1) === 0;
  let w = a >>> 2;
  const wEnd = end >>> 2;
  let s0 = 0;
  let s1 = 0;
  for (; w + 4 <= wEnd; w += 4) {
    s0 += u32[w]! + u32[w + 1]!;
    s1 += u32[w + 2]! + u32[w + 3]!;
  }
  for (; w < wEnd; w++) s0 += u32[w]!;
  // Read little-endian, each word's first byte lands in the low octet: the
  // folded sum is the byte-swapped big-endian sum when that byte sits at an
  // even distance from the start, and the big-endian sum itself otherwise.
  let ws = fold(s0 + s1);
  if (wordsStartEven) ws = ((ws & 0xff) << 8) | (ws >>> 8);
  for (a = wEnd << 2; a < end; a++) {
    if (((a - start) & 1) === 0) hi += u8[a]!;
    else lo += u8[a]!;
  }
  return fold(hi * 256 + lo + ws + initial);
}

/** The value of a checksum field from a folded sum: its one's complement. */
export function checksumFinish(sum: number): number {
  return ~sum & 0xffff;
}

/**
 * IPv4 pseudo-header sum (RFC 9293 §3.1, RFC 768) for the IPv4 header at
 * `p[off]`: source and destination address, protocol and the TCP/UDP
 * `length`. Folded, not complemented.
 */
export function pseudoHeaderSumV4(p: Uint8Array, off: number, protocol: number, length: number): number {
  return fold(
    ((p[off + 12]! << 8) | p[off + 13]!) +
      ((p[off + 14]! << 8) | p[off + 15]!) +
      ((p[off + 16]! << 8) | p[off + 17]!) +
      ((p[off + 18]! << 8) | p[off + 19]!) +
      protocol +
      length,
  );
}

/**
 * IPv6 pseudo-header sum (RFC 8200 §8.1) for the IPv6 header at `p[off]`:
 * addresses, upper-layer packet `length` and next header `protocol`.
 */
export function pseudoHeaderSumV6(p: Uint8Array, off: number, protocol: number, length: number): number {
  let s = protocol + (length >>> 16) + (length & 0xffff);
  for (let i = off + 8; i < off + 40; i += 2) s += (p[i]! << 8) | p[i + 1]!;
  return fold(s);
}

/** The IPv4 header checksum (RFC 791 §3.1) over `ihl` bytes at `p[0]`, written into place. */
function writeIpv4HeaderChecksum(p: Uint8Array, off: number, ihl: number): void {
  put16(p, off + IPV4_FIELD.HEADER_CHECKSUM, 0);
  put16(p, off + IPV4_FIELD.HEADER_CHECKSUM, internetChecksum(p, off, ihl));
}

// ---------------------------------------------------------------------------
// Completing a partial checksum

const REF_NEEDS_CSUM =
  'virtio 1.2 §5.1.6.2: the driver "MUST set csum_start and csum_offset such that the checksum' +
  ' will be placed ... within the packet"';

/**
 * Completes a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM, the kernel's
 * CHECKSUM_PARTIAL): sums `p[csumStart, end)`, whose checksum field already
 * holds the pseudo-header sum, and stores the complement at `csumStart +
 * csumOffset`. A result of 0 is stored as 0xffff, as `skb_checksum_help`
 * does (RFC 768: "If the computed checksum is zero, it is transmitted as
 * all ones"; equivalent for TCP). Throws `WireError` when the field lies
 * outside the packet.
 */
export function completeChecksum(p: Uint8Array, csumStart: number, csumOffset: number): void {
  const at = csumStart + csumOffset;
  if (csumStart >= p.length || at + 2 > p.length) {
    throw new WireError(
      WireErrorCode.BadValue,
      `partial checksum: csum_start ${csumStart} + csum_offset ${csumOffset} outside a ${p.length}-byte packet`,
      REF_NEEDS_CSUM,
    );
  }
  const c = checksumFinish(checksumAdd(p, csumStart, p.length - csumStart)) || 0xffff;
  p[at] = c >>> 8;
  p[at + 1] = c & 0xff;
}

// ---------------------------------------------------------------------------
// Segmentation

/** IANA protocol numbers used here. */
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** TCP flag bits in header byte 13 (RFC 9293 §3.1, RFC 3168 for CWR/ECE). */
export const TCP_FLAG = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Largest header block (IP + extension headers + TCP/UDP) segmentation accepts. */
export const GSO_MAX_HEADER_LENGTH = 256;

/** Where a packet's layers are: filled by {@link inspectGso}. */
export interface GsoLayout {
  /** 4 or 6. */
  ipVersion: number;
  /** IPPROTO_TCP or IPPROTO_UDP. */
  protocol: number;
  /** Offset of the TCP/UDP header (the IPv4 IHL×4, or csum_start for IPv6). */
  transportOffset: number;
  /** Offset of the payload: transport offset + TCP data offset×4 (or + 8 for UDP). */
  headerLength: number;
  /** Payload bytes per segment. */
  segmentSize: number;
  /** Number of segments the packet becomes. */
  segments: number;
}

/** A fresh layout object to reuse across packets. */
export function newGsoLayout(): GsoLayout {
  return { ipVersion: 0, protocol: 0, transportOffset: 0, headerLength: 0, segmentSize: 0, segments: 0 };
}

function bad(code: WireErrorCode, detail: string, reference?: string): never {
  throw new WireError(code, `GSO: ${detail}`, reference);
}

/**
 * Validates super-packet `p` (the bytes after the virtio-net header) against
 * header `h` and fills `out`. Everything is checked before any byte is
 * read: IP version matching the GSO type, IPv4 header length and total
 * length (RFC 791 §3.1), IPv6 payload length (RFC 8200 §3), the transport
 * header inside the packet and inside {@link GSO_MAX_HEADER_LENGTH}, TCP
 * data offset ≥ 5 (RFC 9293 §3.1: "The TCP header (even one including
 * options) is an integer multiple of 32 bits long"), a non-zero gso_size.
 */
export function inspectGso(p: Uint8Array, h: VirtioNetHdr, out: GsoLayout): GsoLayout {
  const type = h.gsoType & ~VirtioNetGso.Ecn;
  if (p.length < 20) bad(WireErrorCode.Truncated, `${p.length}-byte packet`);
  const version = p[0]! >>> 4;
  let protocol: number;
  if (type === VirtioNetGso.TcpV4 || type === VirtioNetGso.TcpV6) protocol = IPPROTO_TCP;
  else if (type === VirtioNetGso.UdpL4) protocol = IPPROTO_UDP;
  else return bad(WireErrorCode.UnknownType, `gso_type ${h.gsoType} not supported`);
  if ((type === VirtioNetGso.TcpV4 && version !== 4) || (type === VirtioNetGso.TcpV6 && version !== 6)) {
    bad(WireErrorCode.BadVersion, `gso_type ${type} on an IPv${version} packet`);
  }
  if (h.gsoSize === 0) bad(WireErrorCode.BadValue, 'gso_size 0');
  let thoff: number;
  if (version === 4) {
    thoff = (p[0]! & 0x0f) * 4;
    const total = (p[2]! << 8) | p[3]!;
    if (thoff < 20)
      bad(
        WireErrorCode.LengthTooSmall,
        `IHL ${thoff / 4}`,
        'RFC 791 §3.1: "the minimum value for a correct header is 5"',
      );
    if (total !== p.length)
      bad(WireErrorCode.BadValue, `IPv4 total length ${total} != ${p.length} bytes read`);
    if (p[9] !== protocol) bad(WireErrorCode.BadValue, `IPv4 protocol ${p[9]} under gso_type ${h.gsoType}`);
    if (((p[6]! & 0x3f) | p[7]!) !== 0) bad(WireErrorCode.BadFlags, 'a fragment cannot be segmented');
  } else if (version === 6) {
    if (p.length < 40) bad(WireErrorCode.Truncated, `${p.length}-byte IPv6 packet`);
    const payloadLength = (p[4]! << 8) | p[5]!;
    if (payloadLength + 40 !== p.length) {
      bad(WireErrorCode.BadValue, `IPv6 payload length ${payloadLength} + 40 != ${p.length} bytes read`);
    }
    // Extension headers, if any, lie between 40 and csum_start; without
    // them the next header must be the transport protocol itself.
    thoff = p[6] === protocol ? 40 : h.csumStart;
    if (thoff < 40 || (p[6] !== protocol && (h.flags & VirtioNetHdrFlag.NeedsCsum) === 0)) {
      bad(WireErrorCode.BadValue, `IPv6 next header ${p[6]}: no transport offset`);
    }
  } else {
    return bad(WireErrorCode.BadVersion, `IP version ${version}`);
  }
  if ((h.flags & VirtioNetHdrFlag.NeedsCsum) !== 0 && h.csumStart !== thoff) {
    bad(WireErrorCode.BadValue, `csum_start ${h.csumStart} != transport offset ${thoff}`, REF_NEEDS_CSUM);
  }
  let hlen: number;
  if (protocol === IPPROTO_TCP) {
    if (thoff + 20 > p.length) bad(WireErrorCode.Truncated, 'TCP header past the end');
    const doff = (p[thoff + 12]! >>> 4) * 4;
    if (doff < 20)
      bad(
        WireErrorCode.LengthTooSmall,
        `TCP data offset ${doff / 4}`,
        'RFC 9293 §3.1: "The TCP header (even one including options) is an integer multiple of 32 bits long"',
      );
    hlen = thoff + doff;
  } else {
    hlen = thoff + 8;
  }
  if (hlen > p.length) bad(WireErrorCode.Truncated, `headers (${hlen} bytes) past the end (${p.length})`);
  if (hlen > GSO_MAX_HEADER_LENGTH) bad(WireErrorCode.LengthTooLarge, `headers of ${hlen} bytes`);
  out.ipVersion = version;
  out.protocol = protocol;
  out.transportOffset = thoff;
  out.headerLength = hlen;
  out.segmentSize = h.gsoSize;
  const payload = p.length - hlen;
  out.segments = payload <= h.gsoSize ? 1 : Math.ceil(payload / h.gsoSize);
  return out;
}

/** Receives one segment: a view valid only during the call. */
export type SegmentSink = (segment: Uint8Array) => void;

/**
 * Cuts super-packet `p` (the bytes after the virtio-net header, GSO type
 * TCPV4, TCPV6 or UDP_L4) into packets of at most `h.gsoSize` payload bytes
 * and passes each, with complete headers and checksums, to `emit`. Returns
 * the number of segments. Throws `WireError` (before emitting anything)
 * when the packet and header do not agree ({@link inspectGso}).
 *
 * The rules are the kernel's for a GSO packet that leaves through a device
 * without TSO: every segment gets a copy of the headers with, for IPv4, its
 * own total length, an Identification one higher than the previous
 * segment's (`inet_gso_segment`) and a new header checksum; for IPv6 its
 * payload length; for TCP the sequence number advanced by the payload
 * before it, FIN and PSH only on the last segment and CWR only on the first
 * (`tcp_gso_segment`); for UDP its own length. The transport checksum is
 * computed in full over the pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1)
 * and the segment, whatever the super-packet's checksum field held.
 *
 * In place: segment `i`'s headers are written into the bytes just before its
 * payload, which are the tail of segment `i-1`'s payload, already handed
 * out. So `p` is overwritten, no payload byte is copied, and the view given
 * to `emit` is a window of `p`. `headerScratch` (at least
 * {@link GSO_MAX_HEADER_LENGTH} bytes) keeps the original headers.
 */
export function gsoSegment(
  p: Uint8Array,
  h: VirtioNetHdr,
  layout: GsoLayout,
  headerScratch: Uint8Array,
  emit: SegmentSink,
): number {
  inspectGso(p, h, layout);
  const { ipVersion, protocol, transportOffset: th, headerLength: hlen, segmentSize: mss, segments } = layout;
  const tcp = protocol === IPPROTO_TCP;
  const hs = headerScratch;
  for (let j = 0; j < hlen; j++) hs[j] = p[j]!;
  const id = (hs[4]! << 8) | hs[5]!;
  const seq = ((hs[th + 4]! << 24) | (hs[th + 5]! << 16) | (hs[th + 6]! << 8) | hs[th + 7]!) >>> 0;
  const flags = tcp ? hs[th + 13]! : 0;
  const payload = p.length - hlen;
  for (let i = 0; i < segments; i++) {
    const dataStart = hlen + i * mss;
    const dataLen = i === segments - 1 ? payload - i * mss : mss;
    const start = dataStart - hlen;
    const end = dataStart + dataLen;
    // A byte loop: the headers are short, and a subarray per segment would allocate.
    if (i > 0) for (let j = 0; j < hlen; j++) p[start + j] = hs[j]!;
    const l4Length = hlen - th + dataLen;
    if (ipVersion === 4) {
      const total = hlen + dataLen;
      p[start + 2] = total >>> 8;
      p[start + 3] = total & 0xff;
      const sid = (id + i) & 0xffff;
      p[start + 4] = sid >>> 8;
      p[start + 5] = sid & 0xff;
      writeIpv4HeaderChecksum(p, start, th);
    } else {
      const pl = hlen - 40 + dataLen;
      p[start + 4] = pl >>> 8;
      p[start + 5] = pl & 0xff;
    }
    const t = start + th;
    let ckOff: number;
    if (tcp) {
      const s = (seq + i * mss) >>> 0;
      p[t + 4] = s >>> 24;
      p[t + 5] = (s >>> 16) & 0xff;
      p[t + 6] = (s >>> 8) & 0xff;
      p[t + 7] = s & 0xff;
      let f = flags;
      if (i !== segments - 1) f &= ~(TCP_FLAG.FIN | TCP_FLAG.PSH);
      if (i !== 0) f &= ~TCP_FLAG.CWR;
      p[t + 13] = f;
      ckOff = t + 16;
    } else {
      p[t + 4] = l4Length >>> 8;
      p[t + 5] = l4Length & 0xff;
      ckOff = t + 6;
    }
    p[ckOff] = 0;
    p[ckOff + 1] = 0;
    const pseudo =
      ipVersion === 4
        ? pseudoHeaderSumV4(p, start, protocol, l4Length)
        : pseudoHeaderSumV6(p, start, protocol, l4Length);
    const c = checksumFinish(checksumAdd(p, t, end - t, pseudo)) || (tcp ? 0 : 0xffff);
    p[ckOff] = c >>> 8;
    p[ckOff + 1] = c & 0xff;
    emit(p.subarray(start, end));
  }
  return segments;
}
