/**
 * The keep-alive of an established PPTP control connection (RFC 2637
 * §3.1.4 item 2), sans-IO: "If a peer has not received a control message
 * for 60 seconds, it SHOULD send a Echo-Request message. If an Echo-Reply
 * is not received 60 seconds after the Echo-Request message transmission,
 * the control connection SHOULD be closed."
 *
 * "Received" is measured with the `now` of each received message
 * ({@link PptpKeepalive.heard}), so the echo timer is started once and
 * re-armed only when it fires or a reply arrives: it never stops while the
 * connection is established, so a driver re-arms the same timer in place
 * for as long as the connection lives (a timer stopped and started again
 * would be a new one every minute, on a server with thousands of idle
 * connections old-space garbage for the collector). Closing on a missing
 * reply is the connection's job (its `echo-reply` timer).
 */

import type { Logger } from '../log/logger.js';
import { PptpEchoResult, PptpMessageType } from '../wire/pptp/index.js';
import type { PptpActionSink, PptpControlTimers } from './control-types.js';

export class PptpKeepalive {
  private lastReceivedAt = 0;
  private outstanding: number | undefined;
  private next = 0;

  /** `firstIdentifier`: the Identifier of the first Echo-Request (random, so a stale reply matches nothing). */
  constructor(
    private readonly timers: PptpControlTimers,
    private readonly log: Logger,
    firstIdentifier: number,
  ) {
    this.next = firstIdentifier;
  }

  /** The Identifier of the Echo-Request waiting for its reply, if any. */
  get outstandingIdentifier(): number | undefined {
    return this.outstanding;
  }

  /** A control message (any, even of an undefined type) arrived at `now`: proof of life. */
  heard(now: number): void {
    this.lastReceivedAt = now;
  }

  /** The connection is established: start watching for silence (unless the interval is 0). */
  start(out: PptpActionSink): void {
    if (this.timers.echoIntervalMs > 0) {
      out.push({ kind: 'startTimer', id: 'echo', ms: this.timers.echoIntervalMs });
    }
  }

  /**
   * The echo timer fired: silent for the whole interval → Echo-Request and
   * the reply timer; otherwise re-arm for the rest of the interval. Either
   * way the echo timer runs on; while a request waits for its reply, its
   * firing sends nothing more (the reply timer closes the connection).
   */
  onTimer(out: PptpActionSink, now: number): void {
    const silentMs = now - this.lastReceivedAt;
    const interval = this.timers.echoIntervalMs;
    if (silentMs < interval) {
      out.push({ kind: 'startTimer', id: 'echo', ms: interval - silentMs });
      return;
    }
    if (this.outstanding === undefined) {
      const identifier = this.next;
      this.next = (this.next + 1) >>> 0;
      this.outstanding = identifier;
      out.push({ kind: 'send', message: { type: PptpMessageType.EchoRequest, identifier } });
      out.push({ kind: 'startTimer', id: 'echo-reply', ms: this.timers.echoReplyTimeoutMs });
    }
    out.push({ kind: 'startTimer', id: 'echo', ms: interval });
  }

  /**
   * An Echo-Reply. Only the reply to our outstanding request counts (§2.5:
   * the Identifier "is used to match the reply with the corresponding
   * request"); whatever its Result Code, the peer is alive.
   */
  onReply(out: PptpActionSink, identifier: number, resultCode: number): void {
    if (this.outstanding === undefined || identifier !== this.outstanding) {
      this.log.log('debug', 'Echo-Reply that matches no Echo-Request ignored', { identifier });
      return;
    }
    if (resultCode !== PptpEchoResult.Ok) {
      this.log.log('info', 'Echo-Reply with an error result; the peer is alive all the same', { resultCode });
    }
    this.outstanding = undefined;
    out.push({ kind: 'stopTimer', id: 'echo-reply' });
    out.push({ kind: 'startTimer', id: 'echo', ms: this.timers.echoIntervalMs });
  }
}
