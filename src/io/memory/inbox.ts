/**
 * The receive side shared by the in-memory ports: a queue of private packet
 * copies delivered to {@link PacketHandlers} in batches, as the native ports
 * do (onPacket per packet, then onBatchEnd once).
 *
 * Delivery is deterministic: in `'microtask'` mode a batch is delivered on
 * the microtask after the first packet was queued; in `'manual'` mode only
 * when the test calls `pump()`. No wall clock is involved.
 *
 * Ownership is enforced, not just documented: after `onPacket` returns, the
 * delivered bytes are overwritten with 0xdd (`poison`, on by default), so a
 * consumer that keeps a view instead of a copy fails its tests here rather
 * than on a real ring.
 */
import type { PacketHandlers } from '../types.js';

export type DeliveryMode = 'microtask' | 'manual';

export interface InboxOptions {
  mode?: DeliveryMode;
  /** Overwrite each packet after its `onPacket` call (default true). */
  poison?: boolean;
  /** Most packets queued for a receiver (like a socket buffer); more are dropped. Default 4096. */
  maxQueue?: number;
}

export const POISON_BYTE = 0xdd;

export class Inbox {
  private queue: Uint8Array[] = [];
  private handlers: PacketHandlers | undefined;
  private scheduled = false;
  private closed = false;
  private paused = false;
  private readonly mode: DeliveryMode;
  private readonly poison: boolean;
  private readonly maxQueue: number;
  /** Packets dropped because the queue was full. */
  dropped = 0;

  constructor(opts: InboxOptions = {}) {
    this.mode = opts.mode ?? 'microtask';
    this.poison = opts.poison ?? true;
    this.maxQueue = opts.maxQueue ?? 4096;
  }

  get queued(): number {
    return this.queue.length;
  }

  get started(): boolean {
    return this.handlers !== undefined;
  }

  start(handlers: PacketHandlers): void {
    if (this.closed) throw new Error('port is closed');
    if (this.handlers) throw new Error('port already started');
    this.handlers = handlers;
    if (this.queue.length > 0) this.schedule();
  }

  /** Queues a packet the caller gives up (a private copy). */
  push(packet: Uint8Array): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(packet);
    this.schedule();
  }

  /**
   * Delivers every packet queued so far as one batch. Packets queued while
   * it runs wait for the next pump; so do the rest of the batch after a
   * {@link pause}. Returns how many were delivered.
   */
  pump(): number {
    const h = this.handlers;
    if (!h || this.closed || this.paused || this.queue.length === 0) return 0;
    const batch = this.queue;
    this.queue = [];
    let n = 0;
    for (const p of batch) {
      if (this.closed || this.paused) break;
      h.onPacket(p);
      if (this.poison) p.fill(POISON_BYTE);
      n++;
    }
    if (n < batch.length && !this.closed) this.queue = batch.slice(n).concat(this.queue);
    if (n > 0 && !this.closed) h.onBatchEnd?.();
    return n;
  }

  /** Stops delivering (the rest of a batch being delivered waits), like the native ports' backpressure. */
  pause(): void {
    this.paused = true;
  }

  /** Ends a {@link pause}: in `'microtask'` mode what waits is delivered on a later microtask. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.queue.length > 0) this.schedule();
  }

  /** True while {@link pause} is in force. */
  get isPaused(): boolean {
    return this.paused;
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.handlers = undefined;
  }

  private schedule(): void {
    if (this.mode !== 'microtask' || this.scheduled || !this.handlers) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
      if (this.queue.length > 0 && !this.paused) this.schedule();
    });
  }
}
