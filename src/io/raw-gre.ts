/**
 * A raw IPv4 socket for protocol 47 as a {@link GreSocket}. Like the kernel's
 * `pptp_xmit`, which builds its own `iphdr` in front of the GRE header, we
 * send whole IPv4 packets whose header the caller built (IP_HDRINCL). On
 * sending, Linux still fills in the header checksum and total length, and
 * the source address and identification when they are zero (raw(7)); every
 * other field (TOS, DF, TTL, addresses) goes on the wire as built.
 *
 * Receive returns every protocol-47 IPv4 packet the host accepts (or only
 * those to `bindAddress`), header included; the GRE layer validates them
 * (RFC 2637 §4.1; GRE is accepted only from the peer of a live call).
 */
import { closeSync } from 'node:fs';
import { loadAddon, netnsPath } from './native.js';
import { type RingOptions, RingPort, RingPortDevice, ringOptions } from './ring-port.js';
import type { GreSocket, PacketHandlers } from './types.js';

/** IANA protocol number of GRE (RFC 2784 §2, RFC 2637 §4). */
export const IPPROTO_GRE = 47;

/** The fixed part of an IPv4 header (RFC 791 §3.1): the shortest packet `send()` accepts. */
const IPV4_MIN_HEADER = 20;

export interface GreSocketOptions extends Partial<RingOptions> {
  /** Receive only packets to this local IPv4 address (and use it as the default source). */
  bindAddress?: string;
  /**
   * SO_RCVBUF in bytes (0 or absent: the kernel default). Set with
   * SO_RCVBUFFORCE when the process has CAP_NET_ADMIN, so it may exceed
   * net.core.rmem_max; otherwise the kernel caps it there.
   */
  rcvbufBytes?: number;
  /** SO_SNDBUF in bytes (0 or absent: the kernel default), forced the same way. */
  sndbufBytes?: number;
  /** Open the socket inside this network namespace (`ip netns` name or path); default: ours. */
  netns?: string;
  /**
   * Attach the kernel filter that queues only enhanced GRE (RFC 2637 §4.1)
   * on this socket (`attachPptpGreFilter`). Default false: a raw socket
   * for tests and tools sees all of protocol 47.
   */
  pptpFilter?: boolean;
  /**
   * Another IPv4 protocol number on the same machinery (default 47, GRE);
   * `pptp-ts demo` sends its ICMP echo (1) this way, so it needs no `ping`.
   */
  protocol?: number;
}

/** Bytes of the Call ID bitmap (one bit per Call ID); the drop count follows. */
const CALL_ID_BITMAP_BYTES = 65536 / 8;

/** Default ring geometry: a slot holds the largest IPv4 packet; 64 packets per recvmmsg/sendmmsg. */
export const GRE_RING_DEFAULTS: RingOptions = { slotSize: 65536, rxSlots: 64, txSlots: 64 };

export class RawGreSocket extends RingPortDevice implements GreSocket {
  /** The Call ID filter shared with the addon (bitmap + float64 drop count), made at the first use. */
  private callIdFilter: Uint8Array | undefined;
  private callIdFilterView: DataView | undefined;

  private constructor(port: RingPort) {
    super(port);
  }

  /**
   * Lets GRE for `callId` up to JS, or not. The first call turns the addon's
   * Call ID filter on: from then on only allowed Call IDs reach `onPacket`;
   * the others are dropped before JS and counted in {@link filteredPackets}.
   */
  setCallIdAllowed(callId: number, allowed: boolean): void {
    if (this.callIdFilter === undefined) {
      this.callIdFilter = new Uint8Array(CALL_ID_BITMAP_BYTES + 8);
      this.callIdFilterView = new DataView(this.callIdFilter.buffer);
      this.port.setCallIdFilter(this.callIdFilter);
    }
    const id = callId & 0xffff;
    const bit = 1 << (id & 7);
    const f = this.callIdFilter;
    f[id >>> 3] = allowed ? f[id >>> 3]! | bit : f[id >>> 3]! & ~bit;
  }

  /**
   * Narrows the kernel filter to GRE for Call ID `callId` alone, or widens
   * it back to all enhanced GRE (`undefined`): `attachPptpGreFilter` again,
   * with the Call ID check in the program. RFC 2637 §4.1: the Call ID field
   * of a GRE packet is the receiver's own Call ID ("Peer's Call ID for the
   * session to which this packet belongs"), so a socket that serves one call
   * names that call's. Every raw socket bound to an address gets a copy of
   * every GRE packet to it (Linux `raw_v4_input`); with this, GRE for the
   * other calls on that address (other client processes) is dropped in the
   * kernel instead of waking this one. Packets queued before the change stay
   * queued (the Call ID bitmap, {@link setCallIdAllowed}, still sees them).
   */
  restrictToCallId(callId: number | undefined): void {
    if (callId !== undefined && !(Number.isInteger(callId) && callId >= 0 && callId <= 0xffff))
      throw new RangeError(`Call ID ${callId} is not 0..65535`);
    loadAddon().attachPptpGreFilter(this.port.fd, callId);
  }

  /** GRE packets the Call ID filter dropped before JS. */
  get filteredPackets(): number {
    return this.callIdFilterView ? this.callIdFilterView.getFloat64(CALL_ID_BITMAP_BYTES, true) : 0;
  }

  /** Opens the socket (needs CAP_NET_RAW). */
  static open(opts: GreSocketOptions = {}): RawGreSocket {
    const addon = loadAddon();
    const fd = addon.openRawSocket(
      opts.protocol ?? IPPROTO_GRE,
      opts.bindAddress,
      opts.rcvbufBytes ?? 0,
      opts.sndbufBytes ?? 0,
      opts.netns && netnsPath(opts.netns),
    );
    if (opts.pptpFilter) {
      try {
        addon.attachPptpGreFilter(fd);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
    }
    return RawGreSocket.adopt(fd, opts);
  }

  /**
   * Wraps an fd of an existing raw GRE socket (e.g. a `dupFd()` of another
   * socket's fd, for a worker thread). The socket owns `fd` from here on.
   */
  static adopt(fd: number, ring: Partial<RingOptions> = {}): RawGreSocket {
    return new RawGreSocket(new RingPort(fd, true, ringOptions(ring, GRE_RING_DEFAULTS), IPV4_MIN_HEADER));
  }

  start(handlers: PacketHandlers): void {
    this.port.start(handlers);
  }

  /**
   * Queues one whole IPv4 packet (copied), sent to the destination address
   * in its own header. Refuses (false, counted in `txDropped`) anything that
   * is not version 4 or is shorter than an IPv4 header.
   */
  send(packet: Uint8Array): boolean {
    if (packet.length < IPV4_MIN_HEADER || packet[0]! >> 4 !== 4) {
      this.port.stats.txDropped++;
      return false;
    }
    return this.port.queue(packet);
  }

  /**
   * Zero-copy transmit: reserves a transmit slot for a packet of exactly
   * `length` bytes and returns the offset in {@link txRing} where the caller
   * must write it now (IPv4 header first, as for `send()`), before yielding
   * to the event loop. Returns -1 (counted in `txDropped`) when `length` is
   * not 20..slot size or no slot is free. Saves the copy `send()` makes when
   * the caller can build headers and payload straight into the ring.
   */
  reserve(length: number): number {
    const port = this.port;
    if (length < IPV4_MIN_HEADER || length > port.slotBytes) {
      port.stats.txDropped++;
      return -1;
    }
    const i = port.allocTx();
    if (i < 0) {
      port.stats.txDropped++;
      return -1;
    }
    port.setTxLength(i, length);
    return i * port.slotBytes;
  }

  /** The transmit ring that {@link reserve} offsets point into. */
  get txRing(): Uint8Array {
    return this.port.txRing;
  }
}

/** Shorthand for {@link RawGreSocket.open}. */
export function openGreSocket(opts: GreSocketOptions = {}): RawGreSocket {
  return RawGreSocket.open(opts);
}
