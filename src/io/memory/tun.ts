/**
 * An in-memory {@link TunDevice} (wireguard-go's `tuntest.ChannelTUN`). The
 * stack under test uses the TunDevice side; the test plays the host's IP
 * stack through `hostSend()` (a packet the host routes into the interface:
 * the stack reads it) and `hostReceived` / `onHostPacket` (packets the stack
 * wrote: the host would receive them).
 *
 * Like the real {@link Tun}, `write()` copies the packet and queues it until
 * `flush()` (or the end of the current microtask); reads are delivered in
 * batches through an {@link Inbox}.
 */

import { PacketBatch } from '../microtask-flush.js';
import type { PacketHandlers, TunDevice } from '../types.js';
import { type DeliveryMode, Inbox } from './inbox.js';

export interface MemoryTunOptions {
  name?: string;
  /** How reads are delivered: on a microtask (default) or only at `pump()`. */
  mode?: DeliveryMode;
  /** Overwrite delivered packets after `onPacket` returns (default true). */
  poison?: boolean;
  /** Most packets `write()` queues before dropping (default 1024). */
  txQueue?: number;
  /** Largest packet accepted either way, like the interface MTU (default 65535). */
  maxPacket?: number;
}

export interface MemoryTunStats {
  /** Packets the host sent into the interface (read by the stack). */
  hostSent: number;
  /** Packets the stack wrote (received by the host). */
  written: number;
  /** write() refusals: closed, empty, too long, or queue full. */
  writeDropped: number;
  /** Times the stack paused reading (backpressure). */
  pauses: number;
}

export class MemoryTun implements TunDevice {
  readonly name: string;
  readonly stats: MemoryTunStats = { hostSent: 0, written: 0, writeDropped: 0, pauses: 0 };
  /** Packets the stack wrote, in order, when no `onHostPacket` is set. The test may clear it. */
  readonly hostReceived: Uint8Array[] = [];
  /** Receives each packet the stack wrote (instead of `hostReceived`). */
  onHostPacket: ((packet: Uint8Array) => void) | undefined;
  private readonly inbox: Inbox;
  private readonly txQueue: number;
  private readonly maxPacket: number;
  private readonly pending = new PacketBatch(() => this.flush());
  private closed = false;

  constructor(opts: MemoryTunOptions = {}) {
    this.name = opts.name ?? 'mem0';
    this.inbox = new Inbox(opts);
    this.txQueue = opts.txQueue ?? 1024;
    this.maxPacket = opts.maxPacket ?? 65535;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  start(handlers: PacketHandlers): void {
    this.inbox.start(handlers);
  }

  write(packet: Uint8Array): boolean {
    if (
      this.closed ||
      packet.length === 0 ||
      packet.length > this.maxPacket ||
      this.pending.length >= this.txQueue
    ) {
      this.stats.writeDropped++;
      return false;
    }
    this.pending.push(packet);
    return true;
  }

  flush(): void {
    const out = this.pending.take();
    for (const p of out) {
      this.stats.written++;
      if (this.onHostPacket) this.onHostPacket(p);
      else this.hostReceived.push(p);
    }
  }

  /** {@link TunDevice.pause}: reads wait (in order) until {@link resume}. */
  pause(): void {
    this.stats.pauses++;
    this.inbox.pause();
  }

  /** {@link TunDevice.resume}. */
  resume(): void {
    this.inbox.resume();
  }

  /** True while paused. */
  get isPaused(): boolean {
    return this.inbox.isPaused;
  }

  /** Packets the host sent that the stack has not read yet (held while paused, say). */
  get unread(): number {
    return this.inbox.queued;
  }

  /** The host's stack sends `packet` into the interface; the stack under test reads a copy. */
  hostSend(packet: Uint8Array): void {
    if (this.closed) return;
    this.stats.hostSent++;
    this.inbox.push(packet.slice());
  }

  /** Delivers queued reads now (the only way in `'manual'` mode). Returns how many. */
  pump(): number {
    return this.inbox.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    this.inbox.close();
  }
}

/**
 * Two memory TUNs whose host sides are wired together: what the stack
 * writes into `a` is read by the stack on `b`, and back. Models two hosts'
 * stacks that route everything through each other (e.g. the client's and the
 * server's interface in a back-to-back test).
 */
export function createTunPair(opts: MemoryTunOptions = {}): [MemoryTun, MemoryTun] {
  const a = new MemoryTun({ ...opts, name: opts.name ?? 'mem0' });
  const b = new MemoryTun({ ...opts, name: opts.name ? `${opts.name}-peer` : 'mem1' });
  a.onHostPacket = (p) => b.hostSend(p);
  b.onHostPacket = (p) => a.hostSend(p);
  return [a, b];
}
