/**
 * The bounded reorder buffer of the GRE receive path. RFC 2637 §4.3 lets a
 * receiver either drop out-of-sequence packets or reorder them: "out of
 * sequence packets between the PNS and PAC MUST be silently discarded, or
 * they may be reordered by the receiver". The Linux kernel drops them;
 * pptp-linux holds them for 0.3 s. We hold at most `capacity` packets that
 * arrived ahead of a gap, each for at most `timeoutMs`, and release them in
 * sequence order when the gap fills or the time runs out (skipping the gap).
 *
 * Slots are indexed by `seq & (capacity - 1)`: every buffered Sequence
 * Number lies in (cursor, cursor + capacity], so each has its own slot, and
 * insertion, duplicate detection and in-order release are O(1) per packet.
 * Buffered frames are copies (the receive buffer is reused by the I/O
 * layer), so memory is bounded by capacity × the largest GRE payload.
 */

export class ReorderBuffer {
  readonly capacity: number;
  private readonly mask: number;
  // Allocated at the first packet held: most calls never see one out of order, and a server
  // holds thousands of idle calls (docs/sessions.md).
  private seqs: Uint32Array | undefined;
  private arrivals: Float64Array | undefined;
  private frames: (Uint8Array | undefined)[] | undefined;
  /** Number of packets held. */
  size = 0;

  /** `capacity` is rounded up to a power of two. */
  constructor(capacity: number) {
    let c = 1;
    while (c < capacity) c *= 2;
    this.capacity = capacity > 0 ? c : 0;
    this.mask = Math.max(0, this.capacity - 1);
  }

  /** Whether `seq` is held. */
  has(seq: number): boolean {
    if (this.size === 0) return false;
    const i = seq & this.mask;
    return this.frames![i] !== undefined && this.seqs![i] === seq >>> 0;
  }

  /** Holds a copy of `frame` for `seq`. The caller has checked that `seq` is within capacity of the cursor and not held. */
  insert(seq: number, frame: Uint8Array, now: number): void {
    if (this.frames === undefined) {
      this.seqs = new Uint32Array(this.capacity);
      this.arrivals = new Float64Array(this.capacity);
      this.frames = new Array(this.capacity).fill(undefined);
    }
    const i = seq & this.mask;
    this.seqs![i] = seq >>> 0;
    this.arrivals![i] = now;
    this.frames[i] = frame.slice();
    this.size++;
  }

  /** Removes and returns the frame held for `seq`, or undefined. */
  take(seq: number): Uint8Array | undefined {
    if (this.size === 0) return undefined;
    const i = seq & this.mask;
    const f = this.frames![i];
    if (f === undefined || this.seqs![i] !== seq >>> 0) return undefined;
    this.frames![i] = undefined;
    this.size--;
    return f;
  }

  /** The earliest arrival time among held packets, or -1 when empty. */
  earliestArrival(): number {
    if (this.size === 0) return -1;
    const frames = this.frames!;
    const arrivals = this.arrivals!;
    let t = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.capacity; i++) if (frames[i] !== undefined && arrivals[i]! < t) t = arrivals[i]!;
    return t;
  }

  /**
   * The highest Sequence Number (by distance from `cursor`) among held
   * packets whose hold (`arrival + timeoutMs`) has ended by `now`, or -1.
   */
  highestExpired(cursor: number, now: number, timeoutMs: number): number {
    if (this.size === 0) return -1;
    const frames = this.frames!;
    const arrivals = this.arrivals!;
    const seqs = this.seqs!;
    let best = -1;
    let bestDist = 0;
    for (let i = 0; i < this.capacity; i++) {
      if (frames[i] === undefined || arrivals[i]! + timeoutMs > now) continue;
      const d = (seqs[i]! - cursor) >>> 0;
      if (d > bestDist) {
        bestDist = d;
        best = seqs[i]!;
      }
    }
    return best;
  }

  /** Drops everything (call teardown). */
  clear(): void {
    this.frames?.fill(undefined);
    this.size = 0;
  }
}
