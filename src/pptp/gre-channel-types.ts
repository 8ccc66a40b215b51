/**
 * What a driver sees of the GRE data channel of one call (gre-channel.ts):
 * its configuration, the sink its output goes to, and its counters.
 */

import type { PppFrame, PppFramingFlags } from '../wire/ppp.js';

/** Where the channel's output goes. Both callbacks run synchronously inside a channel method. */
export interface GreChannelSink {
  /**
   * A finished outer IPv4 packet (header included) for the raw socket. The
   * view points into the caller's buffer (`sendInPlace`) or the channel's
   * scratch memory: valid only during the call; copy or send it before
   * returning.
   */
  transmit(packet: Uint8Array): void;
  /** A received PPP frame, in sequence order. `payload` is valid only during the call. */
  deliver(frame: PppFrame): void;
  /** The transmit queue drained after the window had closed (Linux's `netif_wake_queue`). */
  wake?(): void;
  /**
   * Whether a frame would be believable from the authenticated peer at this
   * point of the link (e.g. only MPPE-compressed data, CCP and LCP once MPPE
   * is required). Asked only about out-of-window packets that may count
   * towards a resynchronisation; without it every parseable PPP frame counts.
   * Must not change any state.
   */
  plausible?(frame: PppFrame): boolean;
}

export interface GreChannelConfig {
  /** Our outer IPv4 address (source of what we send). */
  readonly localAddress: number;
  /** The peer's outer IPv4 address: GRE is accepted only from it. */
  readonly peerAddress: number;
  /** Our Call ID: the peer puts it in the Key of packets to us. */
  readonly callId: number;
  /** The peer's Call ID: we put it in the Key of packets we send. */
  readonly peerCallId: number;
  /** Path MTU towards the peer (Linux `dst_mtu`), default 1500. */
  readonly pathMtu?: number;
  /** Outer TTL, default 64. */
  readonly timeToLive?: number;
  /** Set DF on the outer header (PMTU discovery), default true. */
  readonly dontFragment?: boolean;
  /** First outer IPv4 Identification, default 0. */
  readonly initialIdentification?: number;
  /** Sequence Number before the first one sent (default 0: the first packet carries 1, as Linux and pptp-linux send). */
  readonly initialSequenceNumber?: number;
  /** The peer's Packet Recv. Window Size from its call reply/connected message; 0 (default) = none. */
  readonly peerReceiveWindow?: number;
  /** Ignore the peer's window (for peers that advertise nonsense). Default false. */
  readonly ignorePeerWindow?: boolean;
  /** The Packet Recv. Window Size we advertised (default 64). */
  readonly receiveWindow?: number;
  /** The peer's Packet Processing Delay, tenths of a second (default 0). */
  readonly peerPacketProcessingDelay?: number;
  /** Longest wait before an acknowledgment-only packet, ms (default 100, as Windows); 0: none on a timer, acknowledgments ride on data (Linux's pptp driver). */
  readonly ackTimeoutMs?: number;
  /** Adaptive time-out bounds, ms (default 100 and 5000). */
  readonly minTimeoutMs?: number;
  readonly maxTimeoutMs?: number;
  /** Longest hold of an out-of-order packet, ms (default 300, as pptp-linux); 0 disables reordering (the kernel's behaviour: deliver the newer packet at once). */
  readonly reorderTimeoutMs?: number;
  /** Reorder buffer slots (default 64, rounded up to a power of two). */
  readonly reorderBufferPackets?: number;
  /**
   * Largest distance from the delivery cursor, either way, at which a
   * Sequence Number is accepted (default `DEFAULT_ACCEPT_WINDOW`; at
   * least the reorder buffer's capacity).
   */
  readonly acceptWindowPackets?: number;
  /** Consecutive plausible out-of-window packets that resynchronise the receive side (default `DEFAULT_RESYNC_PACKETS`). */
  readonly resyncPackets?: number;
  /** Frames held while the window is closed (default 64); beyond that, frames are dropped and counted. */
  readonly transmitQueuePackets?: number;
  /** ACFC/PFC as negotiated by LCP (default none); see `GreChannel.setFraming`. */
  readonly framing?: PppFramingFlags;
}

/** Everything the channel counts. */
export interface GreChannelCounters {
  /** Data packets sent / their PPP Information bytes. */
  txPackets: number;
  txBytes: number;
  /** Acknowledgment-only packets sent. */
  txAckOnly: number;
  /** Acknowledgments piggy-backed on data packets. */
  txPiggybackedAcks: number;
  /** Frames that waited in the transmit queue because the window was closed. */
  txQueued: number;
  /** Frames dropped because the window was closed and the queue full. */
  txDroppedQueueFull: number;
  /** Frames too long for one outer IPv4 datagram (see `MAX_INFORMATION_LENGTH`). */
  txDroppedTooLong: number;
  /** Acknowledgment time-outs (each halves the window). */
  txAckTimeouts: number;
  /** 1 once the peer's window was given up because it never sends acknowledgment-only packets (SILENT_PEER_TIMEOUTS). */
  txWindowAbandoned: number;

  /** Data packets accepted (delivered now or later) / Information bytes delivered. */
  rxPackets: number;
  rxBytes: number;
  /** Frames delivered to the sink. */
  rxDelivered: number;
  /** Acknowledgment-only packets received. */
  rxAckOnly: number;
  /** Acknowledgments that acknowledged something new / were old / acknowledged unsent packets. */
  rxAcks: number;
  rxAcksOld: number;
  rxAcksInvalid: number;
  /** Packets whose Sequence Number was already received. */
  rxDuplicate: number;
  /** Packets older than the delivery cursor that were never received before (they arrived after their gap was given up). */
  rxStale: number;
  /** Stale LCP Echo-Request/Reply delivered anyway (Linux's deviation). */
  rxStaleLcpEchoDelivered: number;
  /** Packets held in the reorder buffer. */
  rxReordered: number;
  /** Times the reorder time-out released held packets past a gap. */
  rxReorderTimeouts: number;
  /** Sequence Numbers given up as lost (gaps skipped). */
  rxLost: number;
  /** Payloads that were not a valid PPP frame. */
  rxBadFrame: number;
  /** Packets whose Sequence Number was more than the accept window away from the cursor (dropped). */
  rxOutOfWindow: number;
  /** Times a run of out-of-window packets moved the cursor (see `DEFAULT_RESYNC_PACKETS`). */
  rxResyncs: number;
}

export function zeroCounters(): GreChannelCounters {
  return {
    txPackets: 0,
    txBytes: 0,
    txAckOnly: 0,
    txPiggybackedAcks: 0,
    txQueued: 0,
    txDroppedQueueFull: 0,
    txDroppedTooLong: 0,
    txAckTimeouts: 0,
    txWindowAbandoned: 0,
    rxPackets: 0,
    rxBytes: 0,
    rxDelivered: 0,
    rxAckOnly: 0,
    rxAcks: 0,
    rxAcksOld: 0,
    rxAcksInvalid: 0,
    rxDuplicate: 0,
    rxStale: 0,
    rxStaleLcpEchoDelivered: 0,
    rxReordered: 0,
    rxReorderTimeouts: 0,
    rxLost: 0,
    rxBadFrame: 0,
    rxOutOfWindow: 0,
    rxResyncs: 0,
  };
}
