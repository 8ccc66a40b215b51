/**
 * TCP stream reassembly for captures: turns the segments of one direction of
 * a connection back into the byte stream the application wrote, so PPTP
 * control messages (RFC 2637 §1.3: "carried ... over a TCP connection" on
 * port 1723) can be framed even when they were split, coalesced, resent or
 * captured out of order.
 *
 * Per direction (4-tuple) it keeps the next expected sequence number and a
 * bounded set of segments that arrived ahead of it:
 *  - in order: delivered at once, then any buffered segments it unblocks;
 *  - retransmission or overlap: the bytes already delivered are dropped,
 *    new bytes after them are delivered (first copy wins, as a receiver's
 *    stack does);
 *  - ahead of a hole: buffered, up to {@link TcpReassemblyLimits}; when a
 *    limit would be exceeded the hole is declared lost (a `gap` event with
 *    its size), and delivery resumes after it, so memory stays bounded
 *    whatever the capture holds;
 *  - SYN: (re)starts the direction at ISN + 1; a direction first seen
 *    mid-stream starts at its first segment's sequence number;
 *  - FIN/RST: the direction is closed; a later SYN opens a new stream.
 * Sequence numbers wrap modulo 2^32 (`seq32`, docs/style.md §2.4).
 *
 * Pure and time-free: the caller pushes segments in capture order and calls
 * {@link TcpReassembler.finish} at the end to flush what is still buffered.
 * Ownership: delivered `data` may be views into pushed payloads.
 */

import { seq32 } from '../wire/bytes.js';

/** One direction of a TCP connection, as text (addresses are whatever strings the caller uses). */
export interface TcpFlowKey {
  readonly source: string;
  readonly sourcePort: number;
  readonly destination: string;
  readonly destinationPort: number;
}

/**
 * What the reassembler needs from a TCP segment. `tag` is the caller's
 * label for the segment (say, its frame number); it comes back on the
 * events the segment's bytes cause, even when they are delivered later.
 */
export interface TcpSegmentInput<T = undefined> {
  readonly tag?: T;
  readonly flow: TcpFlowKey;
  readonly sequenceNumber: number;
  readonly syn: boolean;
  readonly fin: boolean;
  readonly rst: boolean;
  readonly payload: Uint8Array;
}

/** Something that happened to a direction's byte stream, in stream order. */
export type TcpStreamEvent<T = undefined> =
  /** A new stream began (SYN seen, or first segment of a direction seen mid-stream). */
  | { readonly kind: 'open'; readonly flow: string; readonly midStream: boolean }
  /** In-order bytes of the stream, with the tag of the segment that carried them. */
  | { readonly kind: 'data'; readonly flow: string; readonly data: Uint8Array; readonly tag: T | undefined }
  /** Bytes that never arrived (or could not be buffered) were skipped. */
  | { readonly kind: 'gap'; readonly flow: string; readonly missingBytes: number }
  /** The stream ended (FIN or RST reached in order, or RST at any point). */
  | { readonly kind: 'close'; readonly flow: string; readonly reason: 'fin' | 'rst' };

/** What one {@link TcpReassembler.push} reported about the segment itself. */
export interface TcpPushResult<T = undefined> {
  /** Stream events this segment caused (possibly including bytes of earlier buffered segments). */
  readonly events: TcpStreamEvent<T>[];
  /** Bytes of this segment that had already been delivered (a retransmission or overlap). */
  readonly retransmittedBytes: number;
  /** The segment arrived ahead of a hole and was buffered. */
  readonly outOfOrder: boolean;
}

/** Resource caps (docs/style.md §3 "Resource caps are named constants"). */
export interface TcpReassemblyLimits {
  /** Out-of-order bytes buffered per direction before the hole is declared lost. */
  readonly maxBufferedBytesPerFlow: number;
  /** Out-of-order segments buffered per direction. */
  readonly maxBufferedSegmentsPerFlow: number;
  /** Directions tracked at once; the least recently used is forgotten beyond it. */
  readonly maxFlows: number;
}

export const DEFAULT_TCP_REASSEMBLY_LIMITS: TcpReassemblyLimits = {
  maxBufferedBytesPerFlow: 1 << 20,
  maxBufferedSegmentsPerFlow: 1024,
  maxFlows: 4096,
};

/** `a → b` text of a flow key, used as the stream's name in events. */
export function tcpFlowName(k: TcpFlowKey): string {
  return `${k.source}:${k.sourcePort} → ${k.destination}:${k.destinationPort}`;
}

interface Pending<T> {
  seq: number;
  data: Uint8Array;
  fin: boolean;
  tag: T | undefined;
}

interface FlowState<T> {
  name: string;
  /** Initial sequence number, when the SYN was seen. */
  isn: number | undefined;
  /** Next in-order sequence number. */
  next: number;
  closed: boolean;
  pending: Pending<T>[];
  pendingBytes: number;
}

/** Reassembles every TCP direction pushed into it (typically only port 1723's). */
export class TcpReassembler<T = undefined> {
  private readonly flows = new Map<string, FlowState<T>>();
  private readonly limits: TcpReassemblyLimits;

  constructor(limits: Partial<TcpReassemblyLimits> = {}) {
    this.limits = { ...DEFAULT_TCP_REASSEMBLY_LIMITS, ...limits };
  }

  /** Number of directions currently tracked. */
  get flowCount(): number {
    return this.flows.size;
  }

  /** Feeds one captured segment. */
  push(seg: TcpSegmentInput<T>): TcpPushResult<T> {
    const name = tcpFlowName(seg.flow);
    const events: TcpStreamEvent<T>[] = [];
    let st = this.flows.get(name);
    if (st) {
      // Map order is insertion order: re-insert to mark as recently used.
      this.flows.delete(name);
      this.flows.set(name, st);
    }

    if (seg.syn) {
      // RFC 9293 §3.4: the SYN occupies the ISN; data starts at ISN + 1. A
      // SYN with the ISN we already know is a retransmitted SYN; any other
      // SYN on a tracked direction is a new connection reusing the ports.
      const next = seq32.add(seg.sequenceNumber, 1);
      if (!st || st.isn !== seg.sequenceNumber) {
        if (st && !st.closed) this.flushAll(st, events);
        st = this.track(name, next, seg.sequenceNumber);
        events.push({ kind: 'open', flow: name, midStream: false });
      }
      if (seg.payload.length === 0 && !seg.fin && !seg.rst)
        return { events, retransmittedBytes: 0, outOfOrder: false };
      // Data on a SYN (TCP Fast Open) follows the SYN.
      return this.accept(st, next, seg, events);
    }

    if (st?.closed) {
      // After FIN or RST nothing new can arrive without a new SYN: whatever
      // comes is a late retransmission.
      return { events, retransmittedBytes: seg.payload.length, outOfOrder: false };
    }
    if (!st) {
      if (seg.payload.length === 0) {
        // A bare ACK/FIN/RST of a direction never seen carrying data tells nothing.
        return { events, retransmittedBytes: 0, outOfOrder: false };
      }
      st = this.track(name, seg.sequenceNumber, undefined);
      events.push({ kind: 'open', flow: name, midStream: true });
    }
    return this.accept(st, seg.sequenceNumber, seg, events);
  }

  /** Ends the capture: every hole still open is declared lost and what is buffered is delivered. */
  finish(): TcpStreamEvent<T>[] {
    const events: TcpStreamEvent<T>[] = [];
    for (const st of this.flows.values()) this.flushAll(st, events);
    return events;
  }

  private track(name: string, next: number, isn: number | undefined): FlowState<T> {
    const st: FlowState<T> = { name, isn, next, closed: false, pending: [], pendingBytes: 0 };
    this.flows.set(name, st);
    while (this.flows.size > this.limits.maxFlows) {
      const oldest = this.flows.keys().next().value as string;
      this.flows.delete(oldest);
    }
    return st;
  }

  private accept(
    st: FlowState<T>,
    seq: number,
    seg: TcpSegmentInput<T>,
    events: TcpStreamEvent<T>[],
  ): TcpPushResult<T> {
    const { payload: data, fin, rst, tag } = seg;
    let retransmittedBytes = 0;
    let outOfOrder = false;
    const d = seq32.diff(seq, st.next);
    if (d <= 0) {
      // Starts at or before the next expected byte: drop what was delivered.
      const old = Math.min(-d, data.length);
      retransmittedBytes = old;
      const fresh = data.subarray(old);
      if (fresh.length > 0) {
        events.push({ kind: 'data', flow: st.name, data: fresh, tag });
        st.next = seq32.add(st.next, fresh.length);
      }
      // A FIN counts only once every byte before it is in (it sits after the data).
      if (fin && -d <= data.length) this.close(st, 'fin', events);
      this.drain(st, events);
    } else {
      outOfOrder = true;
      if (data.length > 0 || fin) this.buffer(st, { seq, data, fin, tag }, events);
    }
    if (rst && !st.closed) {
      // RFC 9293 §3.10.7: a reset aborts the connection; buffered data is abandoned.
      this.flushAll(st, events);
      if (!st.closed) this.close(st, 'rst', events);
    }
    return { events, retransmittedBytes, outOfOrder };
  }

  private buffer(st: FlowState<T>, p: Pending<T>, events: TcpStreamEvent<T>[]): void {
    // Keep `pending` sorted by sequence number; an exact duplicate is dropped.
    let i = st.pending.length;
    while (i > 0 && seq32.gt(st.pending[i - 1]!.seq, p.seq)) i--;
    const prev = st.pending[i - 1];
    if (prev && prev.seq === p.seq && prev.data.length >= p.data.length && (prev.fin || !p.fin)) return;
    st.pending.splice(i, 0, p);
    st.pendingBytes += p.data.length;
    // Over a limit: the first hole is taken as lost, so delivery can go on.
    while (
      st.pending.length > 0 &&
      (st.pendingBytes > this.limits.maxBufferedBytesPerFlow ||
        st.pending.length > this.limits.maxBufferedSegmentsPerFlow)
    ) {
      this.skipHole(st, events);
      this.drain(st, events);
    }
  }

  /** Delivers buffered segments that are now in order. */
  private drain(st: FlowState<T>, events: TcpStreamEvent<T>[]): void {
    while (!st.closed && st.pending.length > 0) {
      const p = st.pending[0]!;
      const d = seq32.diff(p.seq, st.next);
      if (d > 0) return;
      st.pending.shift();
      st.pendingBytes -= p.data.length;
      const fresh = p.data.subarray(Math.min(-d, p.data.length));
      if (fresh.length > 0) {
        events.push({ kind: 'data', flow: st.name, data: fresh, tag: p.tag });
        st.next = seq32.add(st.next, fresh.length);
      }
      if (p.fin && -d <= p.data.length) this.close(st, 'fin', events);
    }
  }

  /** Declares the hole before the first buffered segment lost. */
  private skipHole(st: FlowState<T>, events: TcpStreamEvent<T>[]): void {
    const first = st.pending[0]!;
    const missing = seq32.diff(first.seq, st.next);
    if (missing > 0) {
      events.push({ kind: 'gap', flow: st.name, missingBytes: missing });
      st.next = first.seq;
    }
  }

  /** Delivers everything buffered, declaring each hole lost. */
  private flushAll(st: FlowState<T>, events: TcpStreamEvent<T>[]): void {
    while (!st.closed && st.pending.length > 0) {
      this.skipHole(st, events);
      this.drain(st, events);
    }
    st.pending = [];
    st.pendingBytes = 0;
  }

  private close(st: FlowState<T>, reason: 'fin' | 'rst', events: TcpStreamEvent<T>[]): void {
    st.closed = true;
    st.next = seq32.add(st.next, reason === 'fin' ? 1 : 0);
    st.pending = [];
    st.pendingBytes = 0;
    events.push({ kind: 'close', flow: st.name, reason });
  }
}
