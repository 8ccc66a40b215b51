/**
 * The GRE data channel of one PPTP call (RFC 2637 §4): the PPP *channel* of
 * Linux's ppp_generic/pptp.c (Linux's `pptp_xmit` and the kernel's
 * receive path), plus what the kernel lacks: acknowledgment-only packets,
 * the sliding window with the adaptive time-out, and a bounded reorder
 * buffer. Its configuration, sink and counters are in gre-channel-types.ts;
 * the demultiplexer in front of the channels is gre-demux.ts. Sans-IO: no sockets, no timers, no clock. The driver passes `now`
 * (ms) in, hands finished outer IPv4 packets from {@link GreChannelSink.transmit}
 * to the raw socket, and calls {@link GreChannel.poll} at {@link GreChannel.pollAt}.
 *
 * ```
 *  unit ── send(frame) ──▶ [window open?] ──no──▶ tx queue (bounded) ──full──▶ drop
 *                               │yes                 ▲ released on ack / time-out
 *                               ▼
 *        PPP header (ACFC/PFC, never LCP 1–7) → GRE (seq = ++seqSent, ack if
 *        ackSent != seqRecv, key = payload length + peer call ID) → IPv4 (DF,
 *        TTL, id, checksum) ──▶ sink.transmit(packet)
 *
 *  raw socket ──▶ GreDemux (IPv4 + strict GRE + (call ID, source)) ──▶ receiveGre
 *        A: ack → window/ATO        S: seq vs delivery cursor (d = seq − cursor):
 *          |d| > acceptWindow  out of window: drop and count; a run of
 *                            `resyncPackets` consecutive plausible ones resynchronises
 *          d = 1             deliver, then release buffered successors
 *          d ≤ 0             stale/duplicate: drop (LCP Echo passes: Linux)
 *          d ≤ capacity      hold in the reorder buffer (until gap fills / time-out)
 *          d ≤ acceptWindow  slide: give up the oldest gaps until it fits
 *                            (no reorder buffer: give up the gap, deliver)
 *        ──▶ sink.deliver(frame)
 * ```
 *
 * Like a Linux `ppp_channel`, the channel declares `mtu` (the largest PPP
 * Information field that fits the path MTU after the outer headers) and
 * `headroom` (bytes a sender must leave in front of the Information field
 * for {@link GreChannel.sendInPlace}).
 */

import { seq32 } from '../wire/bytes.js';
import {
  encodeGreHeader,
  GRE_MAX_HEADER_LENGTH,
  GRE_MIN_HEADER_LENGTH,
  type GreView,
  writeGreDataHeader,
} from '../wire/gre.js';
import { IPV4_MAX_TOTAL_LENGTH, IPV4_MIN_HEADER_LENGTH, IpProtocol, writeIpv4Header } from '../wire/ipv4.js';
import {
  encodePppHeader,
  PPP_MAX_HEADER_LENGTH,
  PPP_NO_COMPRESSION,
  type PppFrame,
  PppFrameView,
  type PppFramingFlags,
  PppProtocol,
  pppHeaderLength,
} from '../wire/ppp.js';
import type { GreChannelConfig, GreChannelCounters, GreChannelSink } from './gre-channel-types.js';
import { zeroCounters } from './gre-channel-types.js';
import { ReorderBuffer } from './gre-reorder.js';
import { AckResult, GreSequencer } from './gre-sequencer.js';

/**
 * Bytes the channel writes in front of the PPP Information field: outer
 * IPv4 20 + GRE 16 (with Sequence and Acknowledgment Numbers) + Address/
 * Control 2 + Protocol 2. (Linux's `hdrlen` is 2 + 16: its IPv4 header
 * room comes from the route's device.)
 */
export const GRE_CHANNEL_HEADROOM = IPV4_MIN_HEADER_LENGTH + GRE_MAX_HEADER_LENGTH + PPP_MAX_HEADER_LENGTH;

/**
 * The longest Information field one outer IPv4 datagram can carry with the
 * largest headers (RFC 791 Total Length is 16 bits): 65535 − 40.
 */
export const MAX_INFORMATION_LENGTH = IPV4_MAX_TOTAL_LENGTH - GRE_CHANNEL_HEADROOM;

/**
 * How far from the delivery cursor (either way) a Sequence Number is
 * accepted by default: 4096 packets. RFC 2637 §4.3 lets the receiver drop
 * out-of-sequence packets; nothing obliges it to follow an arbitrary jump.
 * A sender that honours our advertised window (at most 1024, see
 * `DEFAULT_RECEIVE_WINDOW`) never has more packets unacknowledged than that,
 * so 4096 leaves room for senders that write packets off after time-outs
 * (§4.2.2) or enforce no window at all (Linux: 4096 packets is ~45 ms of a
 * gigabit stream lost in one piece). A blind spoofer lands inside it with
 * probability 2^13 / 2^32 per guess. See docs/data-path.md.
 */
export const DEFAULT_ACCEPT_WINDOW = 4096;

/**
 * Out-of-window packets in a row, each one to three Sequence Numbers after the
 * previous one and each a plausible PPP frame for the link (see
 * {@link GreChannelSink.plausible}), with no in-window packet between them,
 * after which the channel believes the peer really moved and resynchronises.
 */
export const DEFAULT_RESYNC_PACKETS = 4;

/** Largest step between two packets of a resynchronisation run (a little loss is allowed). */
const RESYNC_MAX_STEP = 3;

/** LCP Echo-Request and Echo-Reply codes (RFC 1661 §5.8). */
const LCP_ECHO_REQUEST = 9;
const LCP_ECHO_REPLY = 10;

/** What {@link GreChannel.send} did with a frame. */
export type GreSendResult = 'sent' | 'queued' | 'dropped';

interface QueuedFrame {
  readonly protocol: number;
  /** Headroom + Information, Information at GRE_CHANNEL_HEADROOM. */
  readonly buf: Uint8Array;
  readonly length: number;
}

// Scratch shared by every channel of the process (a server holds thousands of idle ones): a
// channel uses them only inside one synchronous call, and what the sink is given is built
// before it is called (the sink copies transmitted packets, `GreChannelSink.transmit`).

/** An acknowledgment-only packet being built: IPv4 (20) + GRE with the Acknowledgment Number (12). */
const ACK_SCRATCH = new Uint8Array(IPV4_MIN_HEADER_LENGTH + GRE_MIN_HEADER_LENGTH + 4);
/** {@link GreChannel.send}'s copy of a frame behind the headroom (grown on demand; control frames only, the data path sends in place). */
let sendScratch = new Uint8Array(0);
/** The receive path's PPP frame view, re-aimed at every packet. */
const FRAME_VIEW = PppFrameView.check(new Uint8Array([0xff, 0x03, 0xc0, 0x21]));

/** Bits of the recent-delivery history used to tell duplicates from stale packets. */
const HISTORY_BITS = 64;

export class GreChannel {
  /** The largest PPP Information field that fits the path MTU: path MTU − {@link GRE_CHANNEL_HEADROOM}. */
  readonly mtu: number;
  /** Bytes to leave in front of the Information field for {@link sendInPlace}. */
  readonly headroom = GRE_CHANNEL_HEADROOM;
  readonly callId: number;
  readonly peerCallId: number;
  readonly localAddress: number;
  readonly peerAddress: number;
  readonly counters: GreChannelCounters = zeroCounters();
  readonly sequencer: GreSequencer;

  private framing: PppFramingFlags;
  private readonly ttl: number;
  private readonly df: boolean;
  private ipId = 0;

  /** Receive: the last Sequence Number delivered (or given up), valid once `started`. */
  private cursor = 0;
  private started = false;
  /** Bit i set: Sequence Number `cursor - i` was received (duplicate detection), bits 0–31. */
  private historyLo = 0;
  /** Bits 32–63 of the history. */
  private historyHi = 0;
  private readonly reorder: ReorderBuffer;
  private readonly reorderTimeoutMs: number;
  private reorderDeadline = -1;
  private readonly acceptWindow: number;
  private readonly resyncPackets: number;
  /** Out-of-window packets in the current resynchronisation run, and the last one's Sequence Number. */
  private resyncRun = 0;
  private resyncLast = 0;

  private readonly queue: QueuedFrame[] = [];
  private readonly queueLimit: number;
  private queueBlocked = false;

  private closed = false;

  constructor(
    config: GreChannelConfig,
    private readonly sink: GreChannelSink,
  ) {
    this.callId = config.callId & 0xffff;
    this.peerCallId = config.peerCallId & 0xffff;
    this.localAddress = config.localAddress >>> 0;
    this.peerAddress = config.peerAddress >>> 0;
    const pathMtu = config.pathMtu ?? 1500;
    if (pathMtu < GRE_CHANNEL_HEADROOM + 1) throw new RangeError(`path MTU ${pathMtu} too small`);
    this.mtu = pathMtu - GRE_CHANNEL_HEADROOM;
    this.ttl = config.timeToLive ?? 64;
    this.df = config.dontFragment ?? true;
    this.ipId = (config.initialIdentification ?? 0) & 0xffff;
    this.framing = config.framing ?? PPP_NO_COMPRESSION;
    this.sequencer = new GreSequencer({
      initialSequenceNumber: config.initialSequenceNumber ?? 0,
      peerReceiveWindow: config.peerReceiveWindow ?? 0,
      ignorePeerWindow: config.ignorePeerWindow ?? false,
      receiveWindow: config.receiveWindow ?? 64,
      ackTimeoutMs: config.ackTimeoutMs ?? 100,
      minTimeoutMs: config.minTimeoutMs ?? 100,
      maxTimeoutMs: config.maxTimeoutMs ?? 5000,
      peerPacketProcessingDelay: config.peerPacketProcessingDelay ?? 0,
    });
    this.reorderTimeoutMs = config.reorderTimeoutMs ?? 300;
    this.reorder = new ReorderBuffer(this.reorderTimeoutMs > 0 ? (config.reorderBufferPackets ?? 64) : 0);
    this.acceptWindow = Math.min(
      0x3fffffff,
      Math.max(this.reorder.capacity, 1, Math.floor(config.acceptWindowPackets ?? DEFAULT_ACCEPT_WINDOW)),
    );
    this.resyncPackets = Math.max(1, Math.floor(config.resyncPackets ?? DEFAULT_RESYNC_PACKETS));
    this.queueLimit = config.transmitQueuePackets ?? 64;
  }

  /** Sets ACFC/PFC for transmission once LCP has negotiated them (the kernel's `PPPIOCSFLAGS` SC_COMP_AC/SC_COMP_PROT). */
  setFraming(flags: PppFramingFlags): void {
    this.framing = flags;
  }

  /** Whether a frame sent now would go out at once (window open, nothing queued). */
  get writable(): boolean {
    return this.queue.length === 0 && this.sequencer.canSend();
  }

  /** Frames waiting for the window to open. */
  get queueLength(): number {
    return this.queue.length;
  }

  /**
   * Sends one PPP frame: copies its Information field behind the channel's
   * own headroom, then as {@link sendInPlace}.
   */
  send(frame: PppFrame, now: number): GreSendResult {
    const len = frame.payload.length;
    if (len > MAX_INFORMATION_LENGTH) {
      this.counters.txDroppedTooLong++;
      return 'dropped';
    }
    let buf = sendScratch;
    if (buf.length < GRE_CHANNEL_HEADROOM + len) {
      buf = new Uint8Array(GRE_CHANNEL_HEADROOM + Math.max(len, this.mtu));
      sendScratch = buf;
    }
    buf.set(frame.payload, GRE_CHANNEL_HEADROOM);
    return this.sendInPlace(buf, GRE_CHANNEL_HEADROOM, len, frame.protocol, now);
  }

  /**
   * The zero-copy transmit path: the Information field is `buf[offset,
   * offset + length)` and at least {@link headroom} bytes in front of it are
   * free. Writes PPP, GRE and IPv4 headers there and transmits; if the
   * window is closed the frame is copied to the queue (or dropped when the
   * queue is full: RFC 2637 §4.2.4 "packets are buffered for transmission
   * and are no longer accepted from the packet source when the transmit
   * buffer fills").
   */
  sendInPlace(buf: Uint8Array, offset: number, length: number, protocol: number, now: number): GreSendResult {
    if (this.closed) return 'dropped';
    if (offset < GRE_CHANNEL_HEADROOM)
      throw new RangeError(`sendInPlace: ${offset} bytes of headroom < ${GRE_CHANNEL_HEADROOM}`);
    if (length > MAX_INFORMATION_LENGTH) {
      this.counters.txDroppedTooLong++;
      return 'dropped';
    }
    if (this.queue.length === 0 && this.sequencer.canSend()) {
      this.transmitData(buf, offset, length, protocol, now);
      return 'sent';
    }
    if (this.queue.length >= this.queueLimit) {
      this.counters.txDroppedQueueFull++;
      this.queueBlocked = true;
      return 'dropped';
    }
    const copy = new Uint8Array(GRE_CHANNEL_HEADROOM + length);
    copy.set(buf.subarray(offset, offset + length), GRE_CHANNEL_HEADROOM);
    this.queue.push({ protocol, buf: copy, length });
    this.counters.txQueued++;
    this.queueBlocked = true;
    return 'queued';
  }

  /** Builds and transmits one data packet: exactly Linux's `pptp_xmit`. */
  private transmitData(buf: Uint8Array, offset: number, length: number, protocol: number, now: number): void {
    const first = length > 0 ? buf[offset]! : -1;
    const pppLen = pppHeaderLength(protocol, first, this.framing);
    let start = offset - pppLen;
    encodePppHeader(protocol, first, this.framing, buf, start);
    const frameLen = pppLen + length;
    const seq = this.sequencer.nextSequence(now);
    const ack = this.sequencer.takeAck();
    if (ack >= 0) this.counters.txPiggybackedAcks++;
    start -= ack >= 0 ? 16 : 12;
    writeGreDataHeader(buf, start, this.peerCallId, frameLen, seq, ack);
    const ipPayload = offset + length - start;
    start -= IPV4_MIN_HEADER_LENGTH;
    this.writeOuterHeader(buf, start, ipPayload);
    this.counters.txPackets++;
    this.counters.txBytes += length;
    this.sink.transmit(buf.subarray(start, offset + length));
  }

  /** Sends an acknowledgment-only packet (S=0, A=1) if an acknowledgment is pending. */
  private transmitAckOnly(): void {
    const ack = this.sequencer.takeAck();
    if (ack < 0) return;
    const b = ACK_SCRATCH;
    const greLen = encodeGreHeader(
      { callId: this.peerCallId, acknowledgmentNumber: ack },
      0,
      b,
      IPV4_MIN_HEADER_LENGTH,
    );
    this.writeOuterHeader(b, 0, greLen);
    this.counters.txAckOnly++;
    this.sink.transmit(b);
  }

  /** The outer IPv4 header of a GRE packet at `start`, each with the next Identification. */
  private writeOuterHeader(buf: Uint8Array, start: number, payloadLength: number): void {
    writeIpv4Header(
      buf,
      start,
      payloadLength,
      this.ipId,
      this.df,
      this.ttl,
      IpProtocol.Gre,
      this.localAddress,
      this.peerAddress,
    );
    this.ipId = (this.ipId + 1) & 0xffff;
  }

  /** Sends queued frames while the window allows. */
  private drainQueue(now: number): void {
    while (this.queue.length > 0 && this.sequencer.canSend()) {
      const q = this.queue.shift()!;
      this.transmitData(q.buf, GRE_CHANNEL_HEADROOM, q.length, q.protocol, now);
    }
    if (this.queueBlocked && this.queue.length === 0) {
      this.queueBlocked = false;
      this.sink.wake?.();
    }
  }

  /**
   * One GRE packet for this call, already validated (strict GRE, call ID and
   * source address: {@link GreDemux}). `gre` views the receive buffer, which
   * may be reused after the call returns.
   */
  receiveGre(gre: GreView, now: number): void {
    if (this.closed) return;
    const c = this.counters;
    // Read every field first: the sink callbacks below may re-enter the
    // demultiplexer (in-memory links), which reuses the view.
    const hasAck = gre.hasAcknowledgmentNumber;
    const ack = hasAck ? gre.acknowledgmentNumber : 0;
    const hasSeq = gre.hasSequenceNumber;
    const seq = hasSeq ? gre.sequenceNumber : 0;
    const bytes = gre.bytes;
    const start = gre.payloadStart;
    const end = gre.payloadEnd;
    if (hasAck) {
      const r = this.sequencer.onAck(ack, now);
      if (r === AckResult.New) {
        c.rxAcks++;
        if (this.queue.length > 0 || this.queueBlocked) this.drainQueue(now);
      } else if (r === AckResult.Old) c.rxAcksOld++;
      else c.rxAcksInvalid++;
    }
    if (!hasSeq) {
      c.rxAckOnly++;
      this.sequencer.noteAckOnly();
      return;
    }
    let ackNow: boolean;
    if (!this.started) {
      // RFC 2637 §4.1 says sequence numbers start at zero, but peers differ
      // (Linux starts at 1): accept whatever comes first.
      this.started = true;
      this.cursor = seq;
      this.historyLo = 1;
      this.historyHi = 0;
      c.rxPackets++;
      ackNow = this.sequencer.onDataReceived(seq, now);
      this.deliverBytes(bytes, start, end);
    } else {
      const d = seq32.diff(seq, this.cursor);
      if (d > this.acceptWindow || d < -this.acceptWindow) {
        this.outOfWindow(seq, bytes, start, end, now);
        return;
      }
      // In-window traffic: the stream we follow is alive, so a run towards elsewhere is not evidence.
      this.resyncRun = 0;
      if (d <= 0) {
        this.dropOld(d, bytes, start, end);
        return;
      }
      if (d !== 1 && d <= this.reorder.capacity && this.reorder.has(seq)) {
        c.rxDuplicate++;
        return;
      }
      c.rxPackets++;
      // Acknowledge before delivering, so a reply the unit sends from
      // inside deliver() carries the acknowledgment.
      ackNow = this.sequencer.onDataReceived(seq, now);
      if (d === 1) {
        this.advance(seq);
        this.deliverBytes(bytes, start, end);
        if (this.reorder.size > 0) this.releaseConsecutive();
      } else if (d <= this.reorder.capacity) {
        c.rxReordered++;
        this.reorder.insert(seq, bytes.subarray(start, end), now);
        if (this.reorderDeadline < 0) this.reorderDeadline = now + this.reorderTimeoutMs;
      } else {
        // Beyond the reorder window. Without a reorder buffer (the kernel's
        // behaviour) the gap is given up and the packet delivered at once.
        // Otherwise the window slides: the oldest gaps are given up (held
        // packets before them released in order) until `seq` fits.
        const cap = this.reorder.capacity;
        this.skipTo((seq - (cap > 0 ? cap : 1)) >>> 0);
        if (cap > 0) this.releaseConsecutive();
        if (seq32.diff(seq, this.cursor) === 1) {
          this.advance(seq);
          this.deliverBytes(bytes, start, end);
          if (this.reorder.size > 0) this.releaseConsecutive();
        } else {
          c.rxReordered++;
          this.reorder.insert(seq, bytes.subarray(start, end), now);
          if (this.reorderDeadline < 0) this.reorderDeadline = now + this.reorderTimeoutMs;
        }
        this.updateReorderDeadline();
      }
    }
    if (ackNow && !this.closed) this.transmitAckOnly();
  }

  /**
   * A packet more than the accept window away from the cursor, ahead or
   * behind. RFC 2637 §4.3: "out of sequence packets between the PNS and PAC
   * MUST be silently discarded, or they may be reordered by the receiver" —
   * we discard it, so one forged packet (Call ID and source address are all
   * an off-path attacker needs) cannot move the cursor where the real peer's
   * packets become stale. The real peer can still move it: after a long
   * outage, or after a forged first packet, its packets arrive out of window
   * but in sequence, and `resyncPackets` of them in a row (each one to
   * {@link RESYNC_MAX_STEP} after the previous, each a plausible frame, none
   * in the window in between) make the last one the new cursor. A forger
   * who does that blind gains nothing lasting: the peer's own next run
   * brings the cursor back.
   */
  private outOfWindow(seq: number, bytes: Uint8Array, start: number, end: number, now: number): void {
    const c = this.counters;
    c.rxOutOfWindow++;
    let v: PppFrameView;
    try {
      v = PppFrameView.check(bytes, FRAME_VIEW, start, end);
    } catch {
      this.resyncRun = 0;
      return;
    }
    if (this.sink.plausible && !this.sink.plausible(v.toFrame())) {
      this.resyncRun = 0;
      return;
    }
    const step = seq32.diff(seq, this.resyncLast);
    this.resyncRun = this.resyncRun > 0 && step >= 1 && step <= RESYNC_MAX_STEP ? this.resyncRun + 1 : 1;
    this.resyncLast = seq;
    if (this.resyncRun < this.resyncPackets) return;
    // Resynchronise on `seq`: what the reorder buffer held belongs to the old numbering.
    this.resyncRun = 0;
    c.rxResyncs++;
    this.reorder.clear();
    this.reorderDeadline = -1;
    this.cursor = seq;
    this.historyLo = 1;
    this.historyHi = 0;
    this.sequencer.resyncReceive(seq);
    c.rxPackets++;
    const ackNow = this.sequencer.onDataReceived(seq, now);
    this.deliverBytes(bytes, start, end);
    if (ackNow && !this.closed) this.transmitAckOnly();
  }

  /** A packet at or behind the cursor: duplicate or stale, dropped unless it is an LCP Echo. */
  private dropOld(d: number, bytes: Uint8Array, start: number, end: number): void {
    const c = this.counters;
    const back = -d;
    const seen =
      back < 32
        ? (this.historyLo >>> back) & 1
        : back < HISTORY_BITS
          ? (this.historyHi >>> (back - 32)) & 1
          : 0;
    if (seen) {
      c.rxDuplicate++;
      return;
    }
    c.rxStale++;
    // Deliberate deviation from RFC 2637 §4.3 ("out of sequence packets ...
    // MUST be silently discarded, or they may be reordered"), copied from
    // Linux's pptp_rcv: a stale LCP Echo-Request/Reply is still delivered,
    // so keep-alives survive reordering and the link is not torn down for
    // a late echo. Its Sequence Number does not move the cursor.
    let frame: PppFrame;
    try {
      const v = PppFrameView.check(bytes, FRAME_VIEW, start, end);
      const code = v.informationEnd > v.informationStart ? bytes[v.informationStart]! : -1;
      if (v.protocol !== PppProtocol.Lcp || (code !== LCP_ECHO_REQUEST && code !== LCP_ECHO_REPLY)) return;
      frame = v.toFrame();
    } catch {
      return; // not a PPP frame: it stays dropped
    }
    c.rxStaleLcpEchoDelivered++;
    c.rxDelivered++;
    c.rxBytes += frame.payload.length;
    this.sink.deliver(frame);
  }

  /** Moves the cursor forward to `seq` (newer than the cursor) and marks `seq` received. */
  private advance(seq: number): void {
    const k = seq32.diff(seq, this.cursor);
    this.shiftHistory(k);
    this.historyLo = (this.historyLo | 1) >>> 0;
    this.cursor = seq;
  }

  /** Moves the cursor forward to `seq` without marking anything received (a gap given up). */
  private jump(seq: number): void {
    const k = seq32.diff(seq, this.cursor);
    this.shiftHistory(k);
    this.cursor = seq;
  }

  /** Shifts the 64-bit received-history left by `k` (k ≥ 1). */
  private shiftHistory(k: number): void {
    if (k >= HISTORY_BITS) {
      this.historyHi = 0;
      this.historyLo = 0;
    } else if (k >= 32) {
      this.historyHi = (this.historyLo << (k - 32)) >>> 0;
      this.historyLo = 0;
    } else {
      this.historyHi = ((this.historyHi << k) | (this.historyLo >>> (32 - k))) >>> 0;
      this.historyLo = (this.historyLo << k) >>> 0;
    }
  }

  /** Delivers held packets from cursor + 1 while they are consecutive. */
  private releaseConsecutive(): void {
    for (;;) {
      const next = (this.cursor + 1) >>> 0;
      const f = this.reorder.take(next);
      if (f === undefined) break;
      this.advance(next);
      this.deliverBytes(f, 0, f.length);
    }
    this.updateReorderDeadline();
  }

  /**
   * Gives up every gap up to `target` (not before the cursor): delivers the
   * held packets up to it in order, counts each missing Sequence Number as
   * lost, and leaves the cursor at `target`.
   */
  private skipTo(target: number): void {
    const c = this.counters;
    while (seq32.lt(this.cursor, target)) {
      if (this.reorder.size === 0) {
        c.rxLost += seq32.diff(target, this.cursor);
        this.jump(target);
        return;
      }
      const s = (this.cursor + 1) >>> 0;
      const f = this.reorder.take(s);
      if (f === undefined) {
        c.rxLost++;
        this.jump(s);
      } else {
        this.advance(s);
        this.deliverBytes(f, 0, f.length);
      }
    }
  }

  /** Parses the PPP frame and hands it to the sink; a malformed frame is counted and dropped. */
  private deliverBytes(bytes: Uint8Array, start: number, end: number): void {
    let v: PppFrameView;
    try {
      v = PppFrameView.check(bytes, FRAME_VIEW, start, end);
    } catch {
      this.counters.rxBadFrame++;
      return;
    }
    this.counters.rxDelivered++;
    this.counters.rxBytes += v.informationEnd - v.informationStart;
    this.sink.deliver({
      protocol: v.protocol,
      payload: bytes.subarray(v.informationStart, v.informationEnd),
    });
  }

  private updateReorderDeadline(): void {
    const t = this.reorder.earliestArrival();
    this.reorderDeadline = t < 0 ? -1 : t + this.reorderTimeoutMs;
  }

  /** The next time {@link poll} has work, in the same clock as `now`, or undefined when idle. */
  pollAt(): number | undefined {
    let t = Number.POSITIVE_INFINITY;
    const a = this.sequencer.ackDeadline;
    if (a >= 0 && this.sequencer.ackPending) t = a;
    if (this.reorderDeadline >= 0 && this.reorderDeadline < t) t = this.reorderDeadline;
    const x = this.queue.length > 0 || !this.sequencer.canSend() ? this.sequencer.transmitDeadline : -1;
    if (x >= 0 && x < t) t = x;
    return t === Number.POSITIVE_INFINITY ? undefined : t;
  }

  /** Runs whatever is due at `now`: acknowledgment-only packet, reorder time-out, acknowledgment time-out. */
  poll(now: number): void {
    if (this.closed) return;
    this.onReorderTimeout(now);
    this.onAckTimeout(now);
    this.onTransmitTimeout(now);
  }

  /** Delayed acknowledgment due: "Acknowledgments can also be sent separately from data packets" (RFC 2637 §4.2). */
  private onAckTimeout(now: number): void {
    const a = this.sequencer.ackDeadline;
    if (a >= 0 && a <= now) {
      if (this.sequencer.ackPending) this.transmitAckOnly();
      this.sequencer.ackDeadline = -1;
    }
  }

  /** Held packets that waited `reorderTimeoutMs`: give up the gaps before them and release in order. */
  private onReorderTimeout(now: number): void {
    if (this.reorderDeadline < 0 || this.reorderDeadline > now) return;
    const upTo = this.reorder.highestExpired(this.cursor, now, this.reorderTimeoutMs);
    if (upTo >= 0) {
      this.counters.rxReorderTimeouts++;
      this.skipTo(upTo);
      this.releaseConsecutive();
    } else {
      this.updateReorderDeadline();
    }
  }

  /** No acknowledgment within ATO for the oldest outstanding packet (RFC 2637 §4.2.2, §4.4.2). */
  private onTransmitTimeout(now: number): void {
    if (this.queue.length === 0 && this.sequencer.canSend()) return;
    const t = this.sequencer.transmitDeadline;
    if (t < 0 || t > now) return;
    this.counters.txAckTimeouts++;
    this.sequencer.onTransmitTimeout();
    if (this.sequencer.windowAbandoned) this.counters.txWindowAbandoned = 1;
    this.drainQueue(now);
  }

  /** Stops the channel: drops queued and held frames; later calls do nothing. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.reorder.clear();
    this.reorderDeadline = -1;
    this.sequencer.ackDeadline = -1;
  }
}
