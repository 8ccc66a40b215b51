/**
 * The sequence-number state of one PPTP call's GRE data channel (RFC 2637
 * §4.2–4.4), as numbers only: what to put in the Sequence and
 * Acknowledgment Number fields, whether the sliding window lets another
 * packet out, when an acknowledgment is overdue, and when the peer's
 * acknowledgment has timed out. The bytes live in the channel
 * (gre-channel.ts); the clock lives in the driver (`now` is passed in).
 *
 * Names follow Linux's `struct pptp_opt`: `seqSent` (last Sequence
 * Number sent), `ackRecv` (highest Acknowledgment Number received),
 * `seqRecv` (highest Sequence Number received: what we acknowledge) and
 * `ackSent` (last Acknowledgment Number sent). All four are modulo 2^32 and
 * compared with `seq32` only.
 *
 * Transmit window (RFC 2637 §4.2):
 *
 * ```
 *   open = min(peer window, WINDOW_CAP); start at max(1, open/2)   §4.2.1
 *   every `window` packets acknowledged without a time-out: window += 1 (≤ open)  §4.2.3
 *   oldest unacknowledged packet older than ATO: window = ceil(window/2) (≥ 1),
 *     ATO backs off, the outstanding packets are written off (no retransmission)  §4.2.2, §4.4.2
 * ```
 *
 * With `ignorePeerWindow` (or a peer window of 0) the window never closes:
 * for peers that advertise nonsense or never acknowledge.
 *
 * A peer that never sends an acknowledgment-only packet (the Linux kernel's
 * `pptp` module, behind pptpd and accel-ppp, acknowledges only on its own
 * data and enforces no window) would hold one-way traffic to a window per
 * time-out, halving to one packet per MaxTimeOut. After
 * {@link SILENT_PEER_TIMEOUTS} time-outs with no acknowledgment-only packet
 * ever received, the window is no longer enforced (`windowAbandoned`). A
 * peer that does acknowledge separately (Windows, pptp-linux, pptp-ts)
 * shows it within its own acknowledgment time-out and keeps its window.
 */

import { seq32 } from '../wire/bytes.js';
import { AdaptiveTimeout } from './gre-timeout.js';

/** The largest transmit window we honour (a 16-bit Packet Recv. Window Size could say 65535). */
export const WINDOW_CAP = 1024;

/**
 * The Packet Recv. Window Size we advertise by default (RFC 2637 §2.7,
 * §2.8, §2.10): enough packets in flight to keep a gigabit path full
 * across this stack's round trip. Two Node processes on a busy 2-core
 * machine see 1–10 ms between a packet and its acknowledgment; at
 * 1 Gbit/s of 1400-byte packets (~90 per ms) a window of 64 stalls the
 * sender every ~0.7 ms (docs/performance.md measures it). RFC 2637 §4.4:
 * "The latency of the internetwork could be used to pick a window size
 * sufficient to keep the current session's pipe full." In-order packets
 * are handed up at once, so the window costs no buffer here; the reorder
 * buffer keeps its own bound. Peers that enforce no window (Linux) ignore it.
 */
export const DEFAULT_RECEIVE_WINDOW = 1024;

/**
 * Most data packets we let arrive unacknowledged before sending an
 * acknowledgment-only packet (when no data packet carried one first).
 * Half our receive window would do for a sender at its full window, but a
 * sender whose window shrank after time-outs (RFC 2637 §4.2.2) to less
 * than that would stall until our acknowledgment time-out every window.
 */
export const MAX_ACK_EVERY = 32;

/**
 * Transmit time-outs without a single acknowledgment-only packet from the
 * peer after which its window is no longer enforced (see {@link GreSequencer}).
 */
export const SILENT_PEER_TIMEOUTS = 3;

/** Send-time slots a call starts with (64 bytes); see {@link GreSequencer} `sentAt`. */
const INITIAL_SEND_TIME_SLOTS = 8;

export interface GreSequencerConfig {
  /** Sequence Number *before* the first one sent: the first data packet carries this + 1 (Linux and pptp-linux send 1 first). */
  readonly initialSequenceNumber: number;
  /** The peer's Packet Recv. Window Size (RFC 2637 §2.8/§2.10); 0 = none advertised. */
  readonly peerReceiveWindow: number;
  /** Never close the transmit window. */
  readonly ignorePeerWindow: boolean;
  /**
   * Our own advertised receive window: once half of it, or
   * {@link MAX_ACK_EVERY} packets, are received unacknowledged, acknowledge at once.
   */
  readonly receiveWindow: number;
  /**
   * Longest delay before an acknowledgment-only packet (Windows: 100 ms).
   * 0: none on a timer; acknowledgments ride on our data packets, or go
   * alone only when {@link MAX_ACK_EVERY} or half our window are pending
   * (Linux's pptp driver never sends one).
   */
  readonly ackTimeoutMs: number;
  /** Bounds and seed of the adaptive time-out (RFC 2637 §4.4). */
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs: number;
  /** The peer's Packet Processing Delay in tenths of a second (seeds RTT, §4.4). */
  readonly peerPacketProcessingDelay: number;
}

/** What an incoming Acknowledgment Number did. */
export enum AckResult {
  /** Acknowledged packets not acknowledged before. */
  New = 0,
  /** Not newer than the last one (reordered or duplicated ack). */
  Old = 1,
  /** Acknowledges a Sequence Number we never sent: ignored. */
  Invalid = 2,
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class GreSequencer {
  /** Last Sequence Number sent. */
  seqSent = 0;
  /** Highest Acknowledgment Number received (valid once `ackRecvValid`). */
  ackRecv = 0;
  private ackRecvValid = false;
  /** Highest Sequence Number received (valid once `seqRecvValid`). */
  seqRecv = 0;
  seqRecvValid = false;
  /** Last Acknowledgment Number sent (valid once `ackSentValid`). */
  ackSent = 0;
  private ackSentValid = false;

  /** Current transmit window in packets (Infinity when not enforced). */
  window = 0;
  /** The most the window may open to. */
  readonly maxWindow: number;
  private enforced: boolean;
  /** The window was given up: the peer never acknowledges separately (see {@link SILENT_PEER_TIMEOUTS}). */
  windowAbandoned = false;
  /** An acknowledgment-only packet has arrived from the peer. */
  private peerAcksAlone = false;
  /** Transmit time-outs while {@link peerAcksAlone} was false. */
  private silentTimeouts = 0;
  /** Packets acknowledged since the window last grew. */
  private ackedSinceGrowth = 0;
  /** Packets up to this Sequence Number were written off by a time-out. */
  private writtenOff = 0;

  /**
   * Send times of the last `sentAt.length` Sequence Numbers (index seq &
   * mask). The ring starts small and doubles while more packets are
   * outstanding than it holds, up to `maxRing`: an idle call keeps 64 bytes
   * (a typed array that small lives in the JS heap), not the 8 KiB a
   * 1024-packet window would take (bench:sessions).
   */
  private sentAt = new Float64Array(INITIAL_SEND_TIME_SLOTS);
  private mask = INITIAL_SEND_TIME_SLOTS - 1;
  private readonly maxRing: number;

  /** Deadline for an acknowledgment-only packet, or -1. */
  ackDeadline = -1;
  /** Data packets accepted since the last acknowledgment we sent. */
  private unacked = 0;
  private readonly ackEvery: number;

  readonly ato: AdaptiveTimeout;
  /** The config's one setting read after construction (the config object is not kept: one per session). */
  private readonly ackTimeoutMs: number;

  constructor(config: GreSequencerConfig) {
    this.ackTimeoutMs = config.ackTimeoutMs;
    this.seqSent = config.initialSequenceNumber >>> 0;
    this.ackRecv = this.seqSent;
    this.writtenOff = this.seqSent;
    const peerWindow = Math.min(Math.max(0, Math.floor(config.peerReceiveWindow)), WINDOW_CAP);
    this.enforced = !config.ignorePeerWindow && peerWindow > 0;
    this.maxWindow = this.enforced ? peerWindow : Number.POSITIVE_INFINITY;
    // RFC 2637 §4.2.1: "The initial window size on the transmitter is set to
    // half the maximum size the receiver requested, with a minimum size of one packet."
    this.window = this.enforced ? Math.max(1, Math.floor(peerWindow / 2)) : Number.POSITIVE_INFINITY;
    this.maxRing = nextPow2(Math.max(16, this.enforced ? peerWindow : 64));
    this.ackEvery = Math.max(1, Math.min(MAX_ACK_EVERY, Math.floor(config.receiveWindow / 2)));
    this.ato = new AdaptiveTimeout({
      minTimeoutMs: config.minTimeoutMs,
      maxTimeoutMs: config.maxTimeoutMs,
      initialRttMs: config.peerPacketProcessingDelay * 100,
    });
  }

  /** Packets sent and neither acknowledged nor written off. */
  get outstanding(): number {
    const base =
      this.ackRecvValid && seq32.gt(this.ackRecv, this.writtenOff) ? this.ackRecv : this.writtenOff;
    return seq32.diff(this.seqSent, base);
  }

  /** Whether the sliding window lets one more data packet out now (RFC 2637 §4.2.1: "The transmitter stops sending packets when the number of packets awaiting acknowledgment is equal to the current window size."). */
  canSend(): boolean {
    return !this.enforced || this.outstanding < this.window;
  }

  /** Allocates the next Sequence Number (`seq = ++seq_sent`, as `pptp_xmit`) and records its send time. */
  nextSequence(now: number): number {
    const seq = (this.seqSent + 1) >>> 0;
    this.seqSent = seq;
    if (this.outstanding > this.sentAt.length && this.sentAt.length < this.maxRing) this.growRing();
    this.sentAt[seq & this.mask] = now;
    return seq;
  }

  /** Doubles the send-time ring, keeping the times of the Sequence Numbers it held. */
  private growRing(): void {
    const old = this.sentAt;
    const oldMask = this.mask;
    const ring = new Float64Array(old.length * 2);
    const mask = ring.length - 1;
    // The slots hold seqSent-1 back to seqSent-old.length (seqSent's own time is written next).
    for (let i = 1; i <= old.length; i++) {
      const s = (this.seqSent - i) >>> 0;
      ring[s & mask] = old[s & oldMask]!;
    }
    this.sentAt = ring;
    this.mask = mask;
  }

  /** Whether something received has not been acknowledged yet (`ack_sent != seq_recv`). */
  get ackPending(): boolean {
    return this.seqRecvValid && (!this.ackSentValid || this.ackSent !== this.seqRecv);
  }

  /**
   * The Acknowledgment Number to put on the packet being built, or -1 when
   * none is due ("ack piggy-backed only when ack_sent != seq_recv"). Marks it
   * sent.
   */
  takeAck(): number {
    if (!this.ackPending) return -1;
    this.ackSent = this.seqRecv;
    this.ackSentValid = true;
    this.ackDeadline = -1;
    this.unacked = 0;
    return this.seqRecv;
  }

  /**
   * A data packet with Sequence Number `seq` was accepted (delivered or
   * buffered). Raises `seqRecv` and schedules the acknowledgment: at once
   * (returns true) when half our receive window, or {@link MAX_ACK_EVERY}
   * packets, are unacknowledged, else within `ackTimeoutMs`.
   */
  onDataReceived(seq: number, now: number): boolean {
    if (!this.seqRecvValid || seq32.gt(seq, this.seqRecv)) {
      this.seqRecv = seq;
      this.seqRecvValid = true;
    }
    if (!this.ackPending) return false;
    if (++this.unacked >= this.ackEvery) return true;
    if (this.ackDeadline < 0 && this.ackTimeoutMs > 0) this.ackDeadline = now + this.ackTimeoutMs;
    return false;
  }

  /** The delivery cursor jumped (first packet, or a gap given up): make `seq` the acknowledged base if it is newer. */
  noteReceived(seq: number): void {
    if (!this.seqRecvValid || seq32.gt(seq, this.seqRecv)) {
      this.seqRecv = seq;
      this.seqRecvValid = true;
    }
  }

  /**
   * The receive side resynchronised on `seq` (the channel's accept window,
   * docs/data-path.md): acknowledge from `seq` on, even if it is behind
   * what we acknowledged before — the numbers above it were not the peer's.
   */
  resyncReceive(seq: number): void {
    this.seqRecv = seq >>> 0;
    this.seqRecvValid = true;
    this.ackSentValid = false;
    this.unacked = 0;
  }

  /**
   * An Acknowledgment Number arrived (RFC 2637 §4.2.5: "All outstanding
   * packets with a sequence number lower or equal to the acknowledgment
   * number are considered acknowledged"). Takes an RTT sample from the send
   * time of the acknowledged packet and opens the window by one for every
   * window's worth acknowledged.
   */
  onAck(ack: number, now: number): AckResult {
    if (seq32.gt(ack, this.seqSent)) return AckResult.Invalid;
    if (this.ackRecvValid && !seq32.gt(ack, this.ackRecv)) return AckResult.Old;
    const prev =
      this.ackRecvValid && seq32.gt(this.ackRecv, this.writtenOff) ? this.ackRecv : this.writtenOff;
    const newly = Math.max(0, seq32.diff(ack, prev));
    this.ackRecv = ack;
    this.ackRecvValid = true;
    // "Time-out calculations are performed using the time the packet
    // corresponding to the highest sequence number being acknowledged was
    // transmitted" (§4.2.5) — if it is still in the send-time ring.
    if (seq32.diff(this.seqSent, ack) <= this.mask)
      this.ato.sample(Math.max(0, now - this.sentAt[ack & this.mask]!));
    if (this.enforced && newly > 0) {
      this.ackedSinceGrowth += newly;
      if (this.ackedSinceGrowth >= this.window) {
        this.ackedSinceGrowth = 0;
        if (this.window < this.maxWindow) this.window++;
      }
    }
    return AckResult.New;
  }

  /** When the oldest outstanding packet's acknowledgment times out, or -1 (nothing outstanding, or window not enforced). */
  get transmitDeadline(): number {
    if (!this.enforced || this.outstanding <= 0) return -1;
    const base =
      this.ackRecvValid && seq32.gt(this.ackRecv, this.writtenOff) ? this.ackRecv : this.writtenOff;
    const oldest = (base + 1) >>> 0;
    return this.sentAt[oldest & this.mask]! + this.ato.timeoutMs;
  }

  /**
   * The acknowledgment time-out fired: RFC 2637 §4.2.2 "the sender adjusts
   * the size of the transmit window down to one half its value when it
   * failed. Fractions are rounded up, and the minimum window size is one",
   * the ATO backs off (§4.4.2), and, since "no retransmission is done on a
   * time-out" (§4.2.3), the outstanding packets are written off so the
   * window can reopen.
   */
  onTransmitTimeout(): void {
    this.window = Math.max(1, Math.ceil(this.window / 2));
    this.ackedSinceGrowth = 0;
    this.ato.backOff();
    this.writtenOff = this.seqSent;
    if (this.enforced && !this.peerAcksAlone && ++this.silentTimeouts >= SILENT_PEER_TIMEOUTS) {
      this.enforced = false;
      this.window = Number.POSITIVE_INFINITY;
      this.windowAbandoned = true;
    }
  }

  /** An acknowledgment-only packet (S=0, A=1) arrived: the peer acknowledges without data of its own. */
  noteAckOnly(): void {
    this.peerAcksAlone = true;
  }
}
