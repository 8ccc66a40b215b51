/**
 * An in-memory IPv4 network carrying GRE between {@link MemoryGreSocket}s
 * (wireguard-go's `bindtest`): each socket owns one IPv4 address, and a
 * packet sent by one is delivered to the socket that owns its destination
 * address, through an optional {@link FaultInjector} per direction and an
 * optional latency on a {@link Clock}.
 *
 * It behaves as the kernel does for a raw IPv4 socket with IP_HDRINCL
 * (raw(7)): the sender's header is kept, except that the total length and
 * the header checksum are always filled in, and a zero source address or a
 * zero identification is filled in. Only protocol 47 reaches a GRE socket.
 */
import type { Clock } from '../clock.js';
import { PacketBatch } from '../microtask-flush.js';
import type { GreSocket, PacketHandlers } from '../types.js';
import type { FaultInjector } from './faults.js';
import { type DeliveryMode, Inbox } from './inbox.js';

export interface MemoryGreNetworkOptions {
  /** How packets reach receivers: on a microtask (default) or at `pump()`. */
  mode?: DeliveryMode;
  /** Overwrite delivered packets after `onPacket` (default true). */
  poison?: boolean;
  /** Deliver after this many ms of `clock` time (requires `clock`). */
  latencyMs?: number;
  clock?: Clock;
  /** Largest packet carried, like a path MTU (default 1500). Larger ones are dropped. */
  mtu?: number;
}

export interface MemoryGreNetworkStats {
  sent: number;
  delivered: number;
  /** No socket owns the destination address. */
  noRoute: number;
  /** Not an IPv4 packet with a sane header. */
  malformed: number;
  /** IPv4 but not protocol 47: a GRE socket never sees it. */
  notGre: number;
  /** Longer than the network's MTU. */
  tooBig: number;
}

/** A packet as seen on the wire, for taps (e.g. writing a pcap for `pptp-ts decode`). */
export type GreTap = (packet: Uint8Array, from: string, to: string) => void;

const IPPROTO_GRE = 47;

export function ipv4ToString(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

function parseIpv4(s: string): Uint8Array {
  const parts = s.split('.');
  const out = new Uint8Array(4);
  if (parts.length !== 4) throw new TypeError(`not an IPv4 address: ${s}`);
  parts.forEach((p, i) => {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new TypeError(`not an IPv4 address: ${s}`);
    out[i] = v;
  });
  return out;
}

/** RFC 791 §3.1 header checksum over `b[0..len)` with the checksum field taken as zero. */
function ipv4Checksum(b: Uint8Array, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) if (i !== 10) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export class MemoryGreNetwork {
  readonly stats: MemoryGreNetworkStats = {
    sent: 0,
    delivered: 0,
    noRoute: 0,
    malformed: 0,
    notGre: 0,
    tooBig: 0,
  };
  private readonly sockets = new Map<string, MemoryGreSocket>();
  private readonly faults = new Map<string, FaultInjector>();
  private readonly taps: GreTap[] = [];
  private readonly opts: MemoryGreNetworkOptions;
  private readonly mtu: number;
  private drainScheduled = false;

  constructor(opts: MemoryGreNetworkOptions = {}) {
    if (opts.latencyMs !== undefined && !opts.clock)
      throw new TypeError('MemoryGreNetwork: latencyMs needs a clock');
    this.opts = opts;
    this.mtu = opts.mtu ?? 1500;
  }

  /** A socket owning `address` (dotted IPv4). One socket per address. */
  socket(address: string): MemoryGreSocket {
    parseIpv4(address);
    if (this.sockets.has(address)) throw new Error(`MemoryGreNetwork: ${address} already has a socket`);
    const s = new MemoryGreSocket(this, address, new Inbox(this.opts));
    this.sockets.set(address, s);
    return s;
  }

  /** Puts `injector` on the direction `from` → `to` (undefined removes it). */
  setFaults(from: string, to: string, injector: FaultInjector | undefined): void {
    const key = `${from}>${to}`;
    if (injector) this.faults.set(key, injector);
    else this.faults.delete(key);
  }

  /** Calls `tap` with every packet accepted for delivery, as it would appear on the wire (before faults). */
  tap(tap: GreTap): void {
    this.taps.push(tap);
  }

  /**
   * Delivers everything queued at every socket (in `'manual'` mode the only
   * way), then queues the packets fault injectors held back, for the next
   * pump. Returns how many were delivered.
   */
  pump(): number {
    let n = 0;
    for (const s of [...this.sockets.values()]) n += s.pump();
    this.drainFaults();
    return n;
  }

  /** Releases packets held back by reordering on every direction. */
  drainFaults(): void {
    for (const [key, f] of this.faults) {
      const to = key.slice(key.indexOf('>') + 1);
      for (const p of f.drain()) this.deliver(to, p);
    }
  }

  /** @internal Called by MemoryGreSocket.flush for each queued packet (a private copy). */
  route(from: MemoryGreSocket, packet: Uint8Array): void {
    this.stats.sent++;
    const ihl = (packet[0]! & 0x0f) * 4;
    if (packet.length < 20 || packet[0]! >> 4 !== 4 || ihl < 20 || ihl > packet.length) {
      this.stats.malformed++;
      return;
    }
    if (packet.length > this.mtu) {
      this.stats.tooBig++;
      return;
    }
    // What the kernel fills in for IP_HDRINCL (raw(7)).
    packet[2] = packet.length >>> 8;
    packet[3] = packet.length & 0xff;
    if (packet[12] === 0 && packet[13] === 0 && packet[14] === 0 && packet[15] === 0)
      packet.set(from.addressBytes, 12);
    if (packet[4] === 0 && packet[5] === 0) {
      const id = from.nextId();
      packet[4] = id >>> 8;
      packet[5] = id & 0xff;
    }
    const sum = ipv4Checksum(packet, ihl);
    packet[10] = sum >>> 8;
    packet[11] = sum & 0xff;
    const to = ipv4ToString(packet, 16);
    for (const t of this.taps) t(packet, from.address, to);
    if (packet[9] !== IPPROTO_GRE) {
      this.stats.notGre++;
      return;
    }
    const f = this.faults.get(`${from.address}>${to}`);
    const out = f ? f.apply(packet, ihl) : [packet];
    for (const p of out) this.deliver(to, p);
  }

  /** @internal */
  unregister(s: MemoryGreSocket): void {
    if (this.sockets.get(s.address) === s) this.sockets.delete(s.address);
  }

  /**
   * @internal End of one sender's flush: packets a fault injector still holds
   * back go out once the link is idle (the next microtask), unless later
   * packets release them first. In `'manual'` mode `pump()` releases them.
   */
  afterBatch(): void {
    if (this.opts.mode === 'manual' || this.drainScheduled) return;
    let held = false;
    for (const f of this.faults.values()) held ||= f.heldCount > 0;
    if (!held) return;
    this.drainScheduled = true;
    queueMicrotask(() => {
      this.drainScheduled = false;
      this.drainFaults();
    });
  }

  private deliver(to: string, packet: Uint8Array): void {
    const s = this.sockets.get(to);
    if (!s) {
      this.stats.noRoute++;
      return;
    }
    const { latencyMs, clock } = this.opts;
    this.stats.delivered++;
    if (latencyMs !== undefined && clock) clock.setTimer(latencyMs, () => s.receive(packet));
    else s.receive(packet);
  }
}

export class MemoryGreSocket implements GreSocket {
  readonly address: string;
  /** @internal */
  readonly addressBytes: Uint8Array;
  /** Packets refused by `send()`: closed, or not an IPv4 packet. */
  sendDropped = 0;
  private readonly net: MemoryGreNetwork;
  private readonly inbox: Inbox;
  private readonly pending = new PacketBatch(() => this.flush());
  private closed = false;
  private id = 0;

  /** @internal Use {@link MemoryGreNetwork.socket}. */
  constructor(net: MemoryGreNetwork, address: string, inbox: Inbox) {
    this.net = net;
    this.address = address;
    this.addressBytes = parseIpv4(address);
    this.inbox = inbox;
  }

  start(handlers: PacketHandlers): void {
    this.inbox.start(handlers);
  }

  send(packet: Uint8Array): boolean {
    if (this.closed || packet.length < 20 || packet[0]! >> 4 !== 4) {
      this.sendDropped++;
      return false;
    }
    this.pending.push(packet);
    return true;
  }

  flush(): void {
    const out = this.pending.take();
    for (const p of out) this.net.route(this, p);
    if (out.length > 0) this.net.afterBatch();
  }

  /** Delivers this socket's queued packets now. */
  pump(): number {
    return this.inbox.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    this.inbox.close();
    this.net.unregister(this);
  }

  /** @internal */
  receive(packet: Uint8Array): void {
    this.inbox.push(packet);
  }

  /** @internal The kernel's IP ID counter, used when a header leaves it zero. */
  nextId(): number {
    this.id = (this.id + 1) & 0xffff || 1;
    return this.id;
  }
}
