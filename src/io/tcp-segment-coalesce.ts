/**
 * TUN offloads, receive half (GRO): consecutive in-order TCP segments of
 * one flow, queued for the TUN within one batch, are merged into a single
 * super-packet written with a virtio-net header (GSO type TCPV4/TCPV6,
 * gso_size = the segments' payload size, partial checksum). The host's
 * stack then handles one packet where it would have handled dozens, as
 * Linux's own GRO (`tcp_gro_receive`) arranges for a real NIC.
 *
 * The merge rules follow `tcp_gro_receive` / `inet_gro_receive` /
 * `ipv6_gro_receive`: same addresses and ports, IPv4 without options or
 * fragmentation, the same TOS/TTL/DF (IPv6: traffic class, flow label, hop
 * limit), the same acknowledgment number, TCP options and flags (PSH may
 * end the run), the next segment's sequence number exactly where the last
 * one ended, every segment but the last exactly `gso_size` bytes, and no
 * SYN, FIN, RST, URG or CWR. Everything else is written as it came.
 *
 * Integrity: a merged packet carries a partial checksum
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM), which the kernel trusts, so the segments'
 * own TCP checksums would never be checked. Linux validates a segment's
 * checksum before GRO merges it, and so do we (`verifyChecksums`, on by
 * default): a segment whose checksum fails is written on its own, where the
 * kernel checks and drops it.
 *
 * Pure: no Node APIs and no allocation per packet. The caller provides the
 * transmit slots ({@link TxSlots}) and calls {@link TcpCoalescer.finish}
 * before it sends them.
 */
import {
  checksumAdd,
  IPPROTO_TCP,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  TCP_FLAG,
  VIRTIO_NET_HDR_LENGTH,
  VirtioNetGso,
  VirtioNetHdrFlag,
  writePlainVirtioNetHdr,
} from './tcp-segment.js';

/** The transmit ring the coalescer writes into: slot `i` starts at byte `i * slotSize` of `bytes`. */
export interface TxSlots {
  /** The ring being filled (may change after `allocSlot`, e.g. when a port alternates two rings). */
  readonly bytes: Uint8Array;
  readonly slotSize: number;
  /**
   * Reserves the next slot and returns its index, or -1 when none is free.
   * It may send what is queued first, and must then call
   * {@link TcpCoalescer.finish} before the slots leave.
   */
  allocSlot(): number;
  /** Sets how many bytes of slot `i` are to be sent. */
  setSlotLength(i: number, length: number): void;
}

export interface CoalesceOptions {
  /** Flows tracked per batch (default 64). */
  maxFlows?: number;
  /** Verify each segment's TCP checksum before merging it (default true; see the file comment). */
  verifyChecksums?: boolean;
}

/** Counters (docs/style.md §3: every decision is counted). */
export interface CoalesceStats {
  /** Packets pushed. */
  packets: number;
  /** Segments appended to an earlier one. */
  merged: number;
  /** Super-packets written (each made of at least two segments). */
  superPackets: number;
  /** Segments not merged because their TCP checksum failed. */
  badChecksums: number;
  /** Packets refused because no slot was free. */
  dropped: number;
}

/** What {@link TcpCoalescer.tryAppend} did. */
enum Append {
  Done,
  /** The merge rules say no: the packet starts a new super-packet. */
  No,
  /** The packet's own checksum failed: it goes out alone and is not tracked. */
  BadChecksum,
}

/** Largest IPv4 total length / IPv6 payload length (RFC 791 §3.1, RFC 8200 §3). */
const MAX_IP_LENGTH = 65535;

/**
 * Where a candidate segment's layers are, filled by {@link classify}:
 * transport offset and header length, payload length, sequence number.
 */
interface Candidate {
  thoff: number;
  hlen: number;
  payload: number;
  seq: number;
}

/**
 * Returns true and fills `c` when `p` may take part in a merge: IPv4 with a
 * 20-byte header and no fragmentation, or IPv6 whose next header is TCP;
 * lengths that match the bytes; TCP with ACK and without SYN, FIN, RST,
 * URG or CWR (`tcp_gro_receive` flushes on those); a non-empty payload.
 */
function classify(p: Uint8Array, c: Candidate): boolean {
  const n = p.length;
  if (n < 40) return false;
  const v = p[0]! >>> 4;
  let thoff: number;
  if (v === 4) {
    if (p[0] !== 0x45 || p[9] !== IPPROTO_TCP) return false;
    if (((p[2]! << 8) | p[3]!) !== n) return false;
    if (((p[6]! & 0x3f) | p[7]!) !== 0 || (p[6]! & 0x80) !== 0) return false; // MF, offset, reserved
    thoff = 20;
  } else if (v === 6) {
    if (n < 60 || p[6] !== IPPROTO_TCP || ((p[4]! << 8) | p[5]!) + 40 !== n) return false;
    thoff = 40;
  } else {
    return false;
  }
  const doff = (p[thoff + 12]! >>> 4) * 4;
  const hlen = thoff + doff;
  if (doff < 20 || hlen >= n) return false;
  const flags = p[thoff + 13]!;
  if (
    (flags & TCP_FLAG.ACK) === 0 ||
    (flags & (TCP_FLAG.SYN | TCP_FLAG.FIN | TCP_FLAG.RST | TCP_FLAG.URG | TCP_FLAG.CWR)) !== 0
  ) {
    return false;
  }
  c.thoff = thoff;
  c.hlen = hlen;
  c.payload = n - hlen;
  c.seq = ((p[thoff + 4]! << 24) | (p[thoff + 5]! << 16) | (p[thoff + 6]! << 8) | p[thoff + 7]!) >>> 0;
  return true;
}

/** True when the TCP checksum of segment `p[off, off + len)` (transport at `thoff`) verifies (RFC 9293 §3.1). */
function tcpChecksumOk(b: Uint8Array, off: number, len: number, thoff: number): boolean {
  const l4 = len - thoff;
  const pseudo =
    b[off]! >>> 4 === 4
      ? pseudoHeaderSumV4(b, off, IPPROTO_TCP, l4)
      : pseudoHeaderSumV6(b, off, IPPROTO_TCP, l4);
  return checksumAdd(b, off + thoff, l4, pseudo) === 0xffff;
}

/**
 * Merges TCP segments into super-packets inside a transmit ring. Use:
 * `push(packet)` for every packet of a batch (it is copied into a slot, behind
 * a virtio-net header), then `finish()` before the slots are sent.
 */
export class TcpCoalescer {
  readonly stats: CoalesceStats = { packets: 0, merged: 0, superPackets: 0, badChecksums: 0, dropped: 0 };
  private readonly maxFlows: number;
  private readonly verify: boolean;
  // One entry per tracked flow of the current batch, in slot order.
  private readonly slot: Int32Array;
  private readonly thoff: Int32Array;
  private readonly hlen: Int32Array;
  private readonly gsoSize: Int32Array;
  private readonly count: Int32Array;
  /** IP packet length so far (without the virtio-net header). */
  private readonly length: Int32Array;
  private readonly lastPayload: Int32Array;
  private readonly nextSeq: Float64Array;
  /** 1 while later segments may still be appended. */
  private readonly open: Uint8Array;
  /** 1 once the first segment's checksum was verified. */
  private readonly verified: Uint8Array;
  private flows = 0;
  private readonly c: Candidate = { thoff: 0, hlen: 0, payload: 0, seq: 0 };

  constructor(
    private readonly slots: TxSlots,
    opts: CoalesceOptions = {},
  ) {
    const n = opts.maxFlows ?? 64;
    this.maxFlows = n;
    this.verify = opts.verifyChecksums ?? true;
    this.slot = new Int32Array(n);
    this.thoff = new Int32Array(n);
    this.hlen = new Int32Array(n);
    this.gsoSize = new Int32Array(n);
    this.count = new Int32Array(n);
    this.length = new Int32Array(n);
    this.lastPayload = new Int32Array(n);
    this.nextSeq = new Float64Array(n);
    this.open = new Uint8Array(n);
    this.verified = new Uint8Array(n);
  }

  /**
   * Queues a copy of IP packet `p`: appended to the super-packet of its flow
   * when the merge rules allow, else in a new slot behind a zeroed
   * virtio-net header. Returns false (and counts) when no slot was free, or
   * the packet is empty or does not fit a slot.
   */
  push(p: Uint8Array): boolean {
    this.stats.packets++;
    const c = this.c;
    const slotSize = this.slots.slotSize;
    let candidate = classify(p, c);
    if (candidate) {
      const k = this.findFlow(p, c.thoff);
      if (k >= 0) {
        const r = this.open[k] === 1 ? this.tryAppend(k, p) : Append.No;
        if (r === Append.Done) return true;
        this.open[k] = 0;
        // A segment that failed its checksum is never the base of a merge.
        if (r === Append.BadChecksum) candidate = false;
      }
    }
    if (p.length === 0 || p.length + VIRTIO_NET_HDR_LENGTH > slotSize) {
      this.stats.dropped++;
      return false;
    }
    // allocSlot may flush, which calls finish() and forgets every flow.
    const i = this.slots.allocSlot();
    if (i < 0) {
      this.stats.dropped++;
      return false;
    }
    // Read the ring again: a flush inside allocSlot may have switched rings.
    const ring = this.slots.bytes;
    const at = i * slotSize;
    writePlainVirtioNetHdr(ring, at);
    ring.set(p, at + VIRTIO_NET_HDR_LENGTH);
    this.slots.setSlotLength(i, VIRTIO_NET_HDR_LENGTH + p.length);
    if (candidate && this.flows < this.maxFlows && (p[c.thoff + 13]! & TCP_FLAG.PSH) === 0) {
      const k = this.flows++;
      this.slot[k] = i;
      this.thoff[k] = c.thoff;
      this.hlen[k] = c.hlen;
      this.gsoSize[k] = c.payload;
      this.count[k] = 1;
      this.length[k] = p.length;
      this.lastPayload[k] = c.payload;
      this.nextSeq[k] = (c.seq + c.payload) >>> 0;
      this.open[k] = 1;
      this.verified[k] = 0;
    }
    return true;
  }

  /**
   * Completes every super-packet of the batch (virtio-net header, IP
   * lengths, IPv4 header checksum, TCP pseudo-header checksum) and forgets
   * the flows. Must run before the slots are sent; idempotent.
   */
  finish(): void {
    const { bytes, slotSize } = this.slots;
    for (let k = 0; k < this.flows; k++) {
      if (this.count[k]! < 2) continue;
      const i = this.slot[k]!;
      const at = i * slotSize;
      const ip = at + VIRTIO_NET_HDR_LENGTH;
      const len = this.length[k]!;
      const thoff = this.thoff[k]!;
      const v4 = bytes[ip]! >>> 4 === 4;
      // virtio-net header: a TCP super-packet whose checksum the kernel completes.
      bytes[at] = VirtioNetHdrFlag.NeedsCsum;
      bytes[at + 1] = v4 ? VirtioNetGso.TcpV4 : VirtioNetGso.TcpV6;
      put16le(bytes, at + 2, this.hlen[k]!);
      put16le(bytes, at + 4, this.gsoSize[k]!);
      put16le(bytes, at + 6, thoff);
      put16le(bytes, at + 8, 16);
      if (v4) {
        bytes[ip + 2] = len >>> 8;
        bytes[ip + 3] = len & 0xff;
        bytes[ip + 10] = 0;
        bytes[ip + 11] = 0;
        let s = 0;
        for (let j = ip; j < ip + 20; j += 2) s += (bytes[j]! << 8) | bytes[j + 1]!;
        s = (s & 0xffff) + (s >>> 16);
        s = (s & 0xffff) + (s >>> 16);
        const ck = ~s & 0xffff;
        bytes[ip + 10] = ck >>> 8;
        bytes[ip + 11] = ck & 0xff;
      } else {
        const pl = len - 40;
        bytes[ip + 4] = pl >>> 8;
        bytes[ip + 5] = pl & 0xff;
      }
      // The pseudo-header sum, uncomplemented, where the checksum goes: what
      // the kernel's own CHECKSUM_PARTIAL packets carry (__tcp_v4_send_check).
      const l4 = len - thoff;
      const pseudo = v4
        ? pseudoHeaderSumV4(bytes, ip, IPPROTO_TCP, l4)
        : pseudoHeaderSumV6(bytes, ip, IPPROTO_TCP, l4);
      bytes[ip + thoff + 16] = pseudo >>> 8;
      bytes[ip + thoff + 17] = pseudo & 0xff;
      this.slots.setSlotLength(i, VIRTIO_NET_HDR_LENGTH + len);
      this.stats.superPackets++;
    }
    this.flows = 0;
  }

  /** The newest tracked flow with `p`'s addresses and ports, or -1. */
  private findFlow(p: Uint8Array, thoff: number): number {
    const { bytes, slotSize } = this.slots;
    const addrStart = thoff === 20 ? 12 : 8;
    for (let k = this.flows - 1; k >= 0; k--) {
      if (this.thoff[k] !== thoff) continue;
      const ip = this.slot[k]! * slotSize + VIRTIO_NET_HDR_LENGTH;
      let same = true;
      for (let j = addrStart; j < thoff + 4; j++) {
        if (bytes[ip + j] !== p[j]) {
          same = false;
          break;
        }
      }
      if (same) return k;
    }
    return -1;
  }

  /** Appends candidate `p` (classified into `this.c`) to flow `k` when every merge rule holds. */
  private tryAppend(k: number, p: Uint8Array): Append {
    const c = this.c;
    const { bytes, slotSize } = this.slots;
    const ip = this.slot[k]! * slotSize + VIRTIO_NET_HDR_LENGTH;
    const thoff = c.thoff;
    const gso = this.gsoSize[k]!;
    if (c.hlen !== this.hlen[k] || c.seq !== this.nextSeq[k]) return Append.No;
    // Only the last segment of a super-packet may be shorter than gso_size.
    if (c.payload > gso || this.lastPayload[k] !== gso) return Append.No;
    const newLen = this.length[k]! + c.payload;
    if (newLen - (thoff === 20 ? 0 : 40) > MAX_IP_LENGTH || newLen + VIRTIO_NET_HDR_LENGTH > slotSize)
      return Append.No;
    if (thoff === 20) {
      // TOS, DF and TTL must match (inet_gro_receive).
      if (p[1] !== bytes[ip + 1] || p[6] !== bytes[ip + 6] || p[8] !== bytes[ip + 8]) return Append.No;
    } else {
      // Version, traffic class and flow label; hop limit (ipv6_gro_receive).
      for (let j = 0; j < 4; j++) if (p[j] !== bytes[ip + j]) return Append.No;
      if (p[7] !== bytes[ip + 7]) return Append.No;
    }
    const t = ip + thoff;
    // Acknowledgment number and data offset.
    for (let j = 8; j < 13; j++) if (p[thoff + j] !== bytes[t + j]) return Append.No;
    // Flags equal but for PSH (the item never holds PSH while open).
    if ((p[thoff + 13]! & ~TCP_FLAG.PSH) !== bytes[t + 13]) return Append.No;
    // Options byte for byte (timestamps included, as tcp_gro_receive).
    for (let j = 20; j < c.hlen - thoff; j++) if (p[thoff + j] !== bytes[t + j]) return Append.No;
    if (this.verify) {
      if (this.verified[k] === 0) {
        if (!tcpChecksumOk(bytes, ip, this.length[k]!, thoff)) {
          this.stats.badChecksums++;
          return Append.No;
        }
        this.verified[k] = 1;
      }
      if (!tcpChecksumOk(p, 0, p.length, thoff)) {
        this.stats.badChecksums++;
        return Append.BadChecksum;
      }
    }
    bytes.set(p.subarray(c.hlen), ip + this.length[k]!);
    this.length[k] = newLen;
    this.lastPayload[k] = c.payload;
    this.nextSeq[k] = (c.seq + c.payload) >>> 0;
    this.count[k]!++;
    this.stats.merged++;
    // The window of the newest segment is the one that counts.
    bytes[t + 14] = p[thoff + 14]!;
    bytes[t + 15] = p[thoff + 15]!;
    if ((p[thoff + 13]! & TCP_FLAG.PSH) !== 0) {
      bytes[t + 13] = bytes[t + 13]! | TCP_FLAG.PSH;
      this.open[k] = 0;
    }
    return Append.Done;
  }
}

function put16le(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}
