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

/** One number for a (Call ID, peer IPv4 address) pair: a key for maps of calls by both. */
export function greCallKey(callId: number, address: number): number {
  return (callId & 0xffff) * 0x100000000 + (address >>> 0);
}

/**
 * A demultiplexer that holds more calls than this indexes them by Call ID in
 * a plain array (65,536 slots, 512 KiB): one memory access per packet where
 * a hash table costs two or three, each a cache miss when tens of thousands
 * of idle calls share the table. Below it, a small Map.
 */
export const GRE_DEMUX_DENSE_AT = 1024;

/**
 * Maps received GRE packets to calls by (our Call ID, source address), the
 * Linux `lookup_chan(call_id, saddr)`: "the call ID must match a live call
 * *from that peer IP*" (docs/style.md §3). Everything else is dropped silently and
 * counted.
 *
 * Each call is registered with a value of the caller's (`T`, by default the
 * channel itself), which {@link receive} returns: a driver keeps its own
 * per-call record there instead of looking it up again. Lookup is by Call
 * ID first; a second call with the same Call ID from another peer (a client
 * process with tunnels to several servers may pick the same one twice) goes
 * to a side table keyed by both.
 */
export class GreDemux<T = GreChannel> {
  /** Below {@link GRE_DEMUX_DENSE_AT} calls: Call ID → value. */
  private sparse: Map<number, T> | undefined = new Map();
  /** From {@link GRE_DEMUX_DENSE_AT} calls on: value at index Call ID. */
  private dense: (T | undefined)[] | undefined;
  /** Calls whose Call ID is already taken in the main table by another peer's call: (Call ID, address) → value. */
  private readonly others = new Map<number, T>();
  private count = 0;
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

  /**
   * @param channelOf the channel of a value (the identity when values are
   *   channels, the default).
   */
  constructor(private readonly channelOf: (value: T) => GreChannel = (v) => v as unknown as GreChannel) {}

  private primary(callId: number): T | undefined {
    return this.dense !== undefined ? this.dense[callId] : this.sparse!.get(callId);
  }

  private setPrimary(callId: number, value: T | undefined): void {
    if (this.dense !== undefined) this.dense[callId] = value;
    else if (value === undefined) this.sparse!.delete(callId);
    else this.sparse!.set(callId, value);
  }

  /** Registers a call; throws when its (call ID, peer address) is taken (Linux `pptp_connect`: EALREADY). */
  add(channel: GreChannel, value: T = channel as unknown as T): void {
    const callId = channel.callId & 0xffff;
    if (this.find(callId, channel.peerAddress) !== undefined)
      throw new Error(`GRE call ${channel.callId} from this peer is already registered`);
    if (this.primary(callId) === undefined) this.setPrimary(callId, value);
    else this.others.set(greCallKey(callId, channel.peerAddress), value);
    if (++this.count >= GRE_DEMUX_DENSE_AT && this.dense === undefined) {
      const dense = new Array<T | undefined>(65536).fill(undefined);
      for (const [id, v] of this.sparse!) dense[id] = v;
      this.dense = dense;
      this.sparse = undefined;
    }
  }

  /** Unregisters `channel`; false when it was not registered. */
  remove(channel: GreChannel): boolean {
    const callId = channel.callId & 0xffff;
    const main = this.primary(callId);
    if (main !== undefined && this.channelOf(main) === channel) {
      this.setPrimary(callId, undefined);
      // Another peer's call with this Call ID takes the main slot.
      for (const [k, v] of this.others) {
        if (this.channelOf(v).callId === callId) {
          this.others.delete(k);
          this.setPrimary(callId, v);
          break;
        }
      }
    } else {
      const k = greCallKey(callId, channel.peerAddress);
      const v = this.others.get(k);
      if (v === undefined || this.channelOf(v) !== channel) return false;
      this.others.delete(k);
    }
    this.count--;
    return true;
  }

  /** The value of the call with Call ID `callId` from `peerAddress`. */
  get(callId: number, peerAddress: number): T | undefined {
    return this.find(callId & 0xffff, peerAddress);
  }

  private find(callId: number, peerAddress: number): T | undefined {
    const main = this.primary(callId);
    if (main !== undefined && this.channelOf(main).peerAddress === peerAddress >>> 0) return main;
    return this.others.size === 0 ? undefined : this.others.get(greCallKey(callId, peerAddress));
  }

  get size(): number {
    return this.count;
  }

  /**
   * One whole IPv4 packet from the raw socket. Returns the value of the call
   * it went to (so the driver can re-arm that channel's timer at
   * `pollAt()`), or undefined when it was dropped.
   */
  receive(packet: Uint8Array, now: number): T | undefined {
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
    const v = this.find(gre.callId, ip.sourceAddress);
    if (v === undefined) {
      c.rxNoCall++;
      return undefined;
    }
    this.channelOf(v).receiveGre(gre, now);
    return v;
  }
}
