/**
 * The demultiplexer in front of the GRE data channels (RFC 2637 §4): every
 * GRE packet the raw socket receives is checked (outer IPv4, strict
 * enhanced GRE) and handed to the channel of its call, or dropped and
 * counted.
 */

import { GreView } from '../wire/gre.js';
import { IPV4_MIN_HEADER_LENGTH, IpProtocol, Ipv4View, writeIpv4Header } from '../wire/ipv4.js';
import type { GreChannel } from './gre-channel.js';

/** Receive-side counters of the demultiplexer (packets that never reached a channel). */
export interface GreDemuxCounters {
  rxPackets: number;
  /** Not a valid IPv4 datagram (length, version, checksum...). */
  rxBadIpv4: number;
  /** Not protocol 47. */
  rxNotGre: number;
  /** Outer fragments (the raw socket normally delivers reassembled datagrams). */
  rxFragment: number;
  /** Failed strict enhanced-GRE acceptance. */
  rxBadGre: number;
  /** No live call with that Call ID from that source address. */
  rxNoCall: number;
}

/** A valid 20-byte header to build the demultiplexer's reusable view on. */
function emptyIpv4Header(): Uint8Array {
  const b = new Uint8Array(IPV4_MIN_HEADER_LENGTH);
  writeIpv4Header(b, 0, 0, 0, false, 64, IpProtocol.Gre, 0, 0);
  return b;
}

/**
 * Maps received GRE packets to calls by (our Call ID, source address), the
 * Linux `lookup_chan(call_id, saddr)`: "the call ID must match a live call
 * *from that peer IP*" (docs/style.md §3). Everything else is dropped silently and
 * counted.
 */
export class GreDemux {
  private readonly channels = new Map<number, GreChannel>();
  private readonly ip = Ipv4View.check(emptyIpv4Header());
  private readonly gre = GreView.check(new Uint8Array([0x20, 0x81, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0]));
  readonly counters: GreDemuxCounters = {
    rxPackets: 0,
    rxBadIpv4: 0,
    rxNotGre: 0,
    rxFragment: 0,
    rxBadGre: 0,
    rxNoCall: 0,
  };

  private static key(callId: number, address: number): number {
    return (callId & 0xffff) * 0x100000000 + (address >>> 0);
  }

  /** Registers a channel; throws when its (call ID, peer address) is taken (Linux `pptp_connect`: EALREADY). */
  add(channel: GreChannel): void {
    const k = GreDemux.key(channel.callId, channel.peerAddress);
    if (this.channels.has(k))
      throw new Error(`GRE call ${channel.callId} from this peer is already registered`);
    this.channels.set(k, channel);
  }

  remove(channel: GreChannel): void {
    const k = GreDemux.key(channel.callId, channel.peerAddress);
    if (this.channels.get(k) === channel) this.channels.delete(k);
  }

  get(callId: number, peerAddress: number): GreChannel | undefined {
    return this.channels.get(GreDemux.key(callId, peerAddress));
  }

  get size(): number {
    return this.channels.size;
  }

  /**
   * One whole IPv4 packet from the raw socket. Returns the channel it went
   * to (so the driver can re-arm that channel's timer at `pollAt()`), or
   * undefined when it was dropped.
   */
  receive(packet: Uint8Array, now: number): GreChannel | undefined {
    const c = this.counters;
    c.rxPackets++;
    const ip = this.ip;
    try {
      Ipv4View.check(packet, ip);
    } catch {
      c.rxBadIpv4++;
      return undefined;
    }
    if (ip.protocol !== IpProtocol.Gre) {
      c.rxNotGre++;
      return undefined;
    }
    if (ip.isFragment) {
      c.rxFragment++;
      return undefined;
    }
    const gre = this.gre;
    try {
      GreView.check(packet, gre, ip.payloadStart, ip.payloadEnd);
    } catch {
      c.rxBadGre++;
      return undefined;
    }
    const ch = this.channels.get(GreDemux.key(gre.callId, ip.sourceAddress));
    if (ch === undefined) {
      c.rxNoCall++;
      return undefined;
    }
    ch.receiveGre(gre, now);
    return ch;
  }
}
