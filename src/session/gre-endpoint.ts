/**
 * One GRE socket shared by the calls of a process (the server's many, a
 * client's one): received packets go through a {@link GreDemux} to the
 * channel of the call they belong to (by our Call ID and the source
 * address, RFC 2637 §4.1, Linux `lookup_chan`), and outgoing packets are
 * queued on the socket and sent in one batch per wake-up.
 *
 * Batching: while a receive batch is delivered, the calls it touched are
 * remembered; at the end of the batch each of them runs
 * {@link GreEndpointMember.afterInput} (re-arm its channel timer, flush
 * what it wrote to its interface), then the socket is flushed once
 * (sendmmsg for every acknowledgment and reply of the batch).
 */
import type { Clock } from '../io/clock.js';
import type { GreSocket } from '../io/types.js';
import { type Logger, nullLogger } from '../log/logger.js';
import type { GreChannel } from '../pptp/gre-channel.js';
import { GreDemux, type GreDemuxCounters, greCallKey } from '../pptp/gre-demux.js';

/** A call attached to the endpoint. */
export interface GreEndpointMember {
  readonly channel: GreChannel;
  /** End of a receive batch that delivered at least one packet to this call. */
  afterInput(): void;
  /** Set by the endpoint while this call is on the current batch's list (so it is listed once). Starts false. */
  inBatch: boolean;
}

export interface GreEndpointCounters extends GreDemuxCounters {
  /** Packets the socket refused to queue (ring full, closed). */
  txDropped: number;
  /** GRE for Call IDs no attached call uses, dropped below JS by the socket's filter (when it has one). */
  rxFiltered: number;
}

export class GreEndpoint {
  /** Calls by (Call ID, peer address); a packet's lookup gives its member directly. */
  readonly demux = new GreDemux<GreEndpointMember>((m) => m.channel);
  /**
   * The calls the current receive batch reached, each once, in slots reused
   * batch after batch. Not a Set: clearing a long-lived Set makes a new
   * hash table, in the old generation where the Set lives, at every batch.
   */
  private readonly touched: (GreEndpointMember | undefined)[] = [];
  private touchedCount = 0;
  private readonly claims = new Set<number>();
  /** Attached channels per Call ID (several peers may use the same one), for the socket's Call ID filter. */
  private callIdUsers: Uint16Array | undefined;
  private txDropped = 0;
  /**
   * True from a receive batch's first packet to its end: a flush asked for
   * meanwhile (a call that starts, answers or closes because of a packet)
   * is left to the batch's own flush, so the whole batch still leaves in
   * one sendmmsg. (Should a batch end without its end callback, the
   * socket's end-of-microtask flush sends what is queued regardless.)
   */
  private receiving = false;
  private closed = false;
  private started = false;
  private readonly log: Logger;

  constructor(
    readonly socket: GreSocket,
    private readonly clock: Clock,
    log: Logger = nullLogger,
  ) {
    this.log = log;
  }

  /** Starts receiving. Idempotent. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.socket.start({
      onPacket: (packet) => {
        this.receiving = true;
        const m = this.demux.receive(packet, this.clock.now());
        if (m !== undefined && !m.inBatch) {
          m.inBatch = true;
          this.touched[this.touchedCount++] = m;
        }
      },
      onBatchEnd: () => this.endBatch(),
      onError: (err) => this.log.log('error', 'GRE socket failed', { error: err.message }),
    });
  }

  /** Registers a call's channel (throws if its Call ID from that peer is taken); its claim, if any, ends. */
  attach(member: GreEndpointMember): void {
    this.demux.add(member.channel, member);
    this.allowCallId(member.channel.callId, 1);
    this.claims.delete(greCallKey(member.channel.callId, member.channel.peerAddress));
  }

  /**
   * Claims Call ID `callId` for GRE from `peerAddress` before its channel
   * exists (a PNS picks its Call ID at the Outgoing-Call-Request, the
   * channel comes with the reply): several calls sharing this endpoint can
   * then never pick the same one (RFC 2637 §3.2.2: "This Call ID value MUST
   * be unique for the tunnel between the PNS and PAC to which it belongs").
   * Returns false when it is in use or claimed. Use as the control
   * engine's `isCallIdAvailable`.
   */
  claimCallId(callId: number, peerAddress: number): boolean {
    if (this.isCallIdTaken(callId, peerAddress)) return false;
    this.claims.add(greCallKey(callId, peerAddress));
    return true;
  }

  /** Gives up a claim whose channel never came (the call failed). */
  releaseCallId(callId: number, peerAddress: number): void {
    this.claims.delete(greCallKey(callId, peerAddress));
  }

  detach(member: GreEndpointMember): void {
    if (this.demux.remove(member.channel)) this.allowCallId(member.channel.callId, -1);
    if (member.inBatch) {
      member.inBatch = false;
      const i = this.touched.indexOf(member);
      if (i >= 0 && i < this.touchedCount) this.touched[i] = undefined;
    }
  }

  /** Keeps the socket's Call ID filter to the Call IDs of attached channels. */
  private allowCallId(callId: number, delta: 1 | -1): void {
    const set = this.socket.setCallIdAllowed;
    if (set === undefined) return;
    this.callIdUsers ??= new Uint16Array(65536);
    const n = this.callIdUsers[callId]! + delta;
    this.callIdUsers[callId] = n;
    if ((delta === 1 && n === 1) || (delta === -1 && n === 0)) set.call(this.socket, callId, delta === 1);
  }

  /** Whether Call ID `callId` is in use (or claimed) for GRE from `peerAddress`. */
  isCallIdTaken(callId: number, peerAddress: number): boolean {
    return (
      this.demux.get(callId, peerAddress) !== undefined || this.claims.has(greCallKey(callId, peerAddress))
    );
  }

  /** Number of attached calls. */
  get size(): number {
    return this.demux.size;
  }

  /** Queues one outer IPv4 packet (copied by the socket). */
  send(packet: Uint8Array): void {
    if (!this.socket.send(packet)) this.txDropped++;
  }

  /** Sends what is queued (during a receive batch: at its end). */
  flush(): void {
    if (!this.closed && !this.receiving) this.socket.flush();
  }

  get counters(): GreEndpointCounters {
    return {
      ...this.demux.counters,
      txDropped: this.txDropped,
      rxFiltered: this.socket.filteredPackets ?? 0,
    };
  }

  /** Closes the socket (attached calls should be gone by now). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.touched.length = 0;
    this.touchedCount = 0;
    this.socket.close();
  }

  private endBatch(): void {
    this.receiving = false;
    // A call's afterInput may detach another call of this batch (its slot is then empty).
    for (let i = 0; i < this.touchedCount; i++) {
      const m = this.touched[i];
      if (m === undefined) continue;
      this.touched[i] = undefined;
      m.inBatch = false;
      m.afterInput();
    }
    this.touchedCount = 0;
    this.flush();
  }
}
