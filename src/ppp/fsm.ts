/**
 * The RFC 1661 §4 option-negotiation automaton, shared by LCP, IPCP, IPv6CP
 * and CCP (pppd's fsm.c, sans-IO).
 *
 * One instance runs one control protocol. Everything protocol-specific lives
 * in a {@link CpPolicy} (pppd's callbacks, typed): which options we request,
 * how we judge the peer's request, what a Nak or Reject teaches us, and the
 * extra codes (LCP Echo/Discard/Protocol-Reject/Identification/
 * Time-Remaining, CCP Reset-Request/Ack).
 *
 * Inputs are method calls ({@link Fsm.open}, {@link Fsm.close},
 * {@link Fsm.lowerUp}, {@link Fsm.lowerDown}, {@link Fsm.receive},
 * {@link Fsm.timeout}); outputs are the returned {@link FsmAction} list
 * (docs/style.md §4). The automaton never reads the clock and never starts a
 * timer itself: it asks for one with `startTimer`, and the driver calls
 * `timeout()` when it fires.
 *
 * State diagram (the main path; every other transition is in
 * {@link TRANSITIONS}, transcribed from RFC 1661 §4.1):
 *
 * ```
 *   Initial --Open--> Starting --Up/irc,scr--> ReqSent --RCA/irc--> AckRcvd
 *      |                                         |  ^                  |
 *      Up                                  RCR+/sca |RCN/irc,scr   RCR+/sca,tlu
 *      v                                         v  |                  v
 *   Closed --Open/irc,scr--> ReqSent         AckSent --RCA/irc,tlu--> Opened
 *                                                                      |
 *            Closing <--Close/tld,irc,str-- Opened --RTR/tld,zrc,sta--> Stopping
 * ```
 */

import { assertNever, bytesEqual, toHex } from '../wire/bytes.js';
import {
  CpCode,
  type CpOption,
  type CpPacket,
  decodeCpOptions,
  decodeCpPacket,
  encodeCpOptions,
} from '../wire/cp.js';
import { WireError } from '../wire/errors.js';
import { latin1Equals } from './byte-string.js';
import { type FsmAction, FsmActions } from './fsm-actions.js';
import type { CodeRejectVerdict, ExtraCodeVerdict, PolicyContext } from './fsm-policy.js';
import { NEGOTIATING } from './fsm-table.js';
import { peerText } from './text.js';

export { DEFAULT_FSM_CONFIG, type FsmAction, type FsmConfig, type FsmStep } from './fsm-actions.js';

/**
 * The automaton: each input becomes an RFC 1661 §4.3 event, performed by
 * {@link FsmActions}. `N` is the type of the policy's notes.
 *
 * Identifier rules (RFC 1661 §5, pppd): each new Configure-Request and
 * Terminate-Request takes a fresh Identifier; a retransmission (TO+) keeps
 * it. A Configure-Ack/Nak/Reject is valid only if its Identifier is that of
 * our last Configure-Request and no reply to that request was accepted yet
 * (pppd's `seen_ack`: a duplicated Ack must not renegotiate an Opened
 * link); anything else is tossed without affecting the automaton.
 */
export class Fsm<N = never> extends FsmActions<N> {
  /** Administrative Open (RFC 1661 §4.3). */
  open(): FsmAction<N>[] {
    if (this.config.restartOnOpen && ['Opened', 'Closing', 'Stopping', 'Stopped'].includes(this.state)) {
      // RFC 1661 §4.3 Open, Implementation Option [r]: "issue a Down event, immediately followed by an Up event".
      this.step('Open', {});
      this.step('Down', {});
      this.step('Up', {});
      return this.flush();
    }
    this.step('Open', {});
    return this.flush();
  }

  /** Administrative Close (RFC 1661 §4.3). `reason` goes in the Terminate-Request's Data. */
  close(reason = ''): FsmAction<N>[] {
    this.step('Close', { reason });
    return this.flush();
  }

  /** The lower layer is Up (RFC 1661 §4.3). */
  lowerUp(): FsmAction<N>[] {
    this.step('Up', {});
    return this.flush();
  }

  /** The lower layer is Down (RFC 1661 §4.3). */
  lowerDown(): FsmAction<N>[] {
    this.step('Down', {});
    return this.flush();
  }

  /**
   * The Restart timer fired. TO+ while the Restart counter is above zero,
   * TO- otherwise (RFC 1661 §4.3). Ignored when the timer is not running
   * (a late callback from the driver).
   */
  timeout(): FsmAction<N>[] {
    if (!this.timerRunning) {
      this.log.log('debug', 'stale restart timeout ignored', { state: this.state });
      return [];
    }
    this.timerRunning = false;
    if (this.restartCounter > 0) this.step('TO+', {});
    else this.step('TO-', { reason: this.timeoutReason() });
    return this.flush();
  }

  /**
   * How many Configure-Naks/Rejects in a row, in either direction, a
   * negotiation may take before it is declared not converging:
   * Max-Failure + Max-Configure (15 with the defaults).
   *
   * RFC 1661 §4.6 gives Max-Failure ("the number of Configure-Nak packets
   * sent without sending a Configure-Ack before assuming that configuration
   * is not converging") only the power to turn Naks into Rejects, and its
   * table re-initialises the Restart counter (irc) on every RCN, so a peer
   * that answers every Configure-Request with a Nak or Reject (or sends
   * Configure-Requests we can only refuse) is never bounded by the letter of
   * the RFC: pppd, too, loops at the round-trip rate. A peer that means to
   * converge does so within Max-Failure rounds (after which Naks become
   * Rejects, and each Reject removes an option); Max-Configure more rounds
   * is a generous margin. Past it the automaton does what an exhausted
   * Restart counter does (TO-: tlf, Stopped), with a reason saying why.
   */
  private get negotiationRounds(): number {
    return this.config.maxFailure + this.config.maxConfigure;
  }

  /** Ends a negotiation that does not converge (as TO-, RFC 1661 §4.1 tlf/3), if one is under way. */
  private notConverging(reason: string): boolean {
    if (!NEGOTIATING.has(this.state)) return false;
    this.log.log('warn', reason);
    this.step('TO-', { reason });
    return true;
  }

  /** Why a TO- ends the exchange. */
  private timeoutReason(): string {
    if (this.state === 'Closing' || this.state === 'Stopping') {
      return this.terminationReason || 'no Terminate-Ack from peer';
    }
    return `peer did not answer ${this.config.maxConfigure} Configure-Requests`;
  }

  /**
   * Our peer Protocol-Rejected this protocol (RFC 1661 §5.7), or an owner
   * decided it is unusable: RXJ- for this automaton ("such as ... a
   * Protocol-Reject of LCP!", and for an NCP the end of that NCP).
   */
  protocolRejected(reason = 'protocol rejected by peer'): FsmAction<N>[] {
    if (this.state === 'Initial' || this.state === 'Starting') return [];
    this.step('RXJ-', { reason });
    return this.flush();
  }

  /** Sends an extra-code packet (LCP Echo-Request, CCP Reset-Request...) outside any event. */
  sendPacket(packet: CpPacket): FsmAction<N>[] {
    this.emit(packet);
    return this.flush();
  }

  /** Runs `fn` with the policy context and returns the actions it produced (for owner-initiated policy work). */
  withContext(fn: (ctx: PolicyContext<N>) => void): FsmAction<N>[] {
    fn(this.ctx);
    return this.flush();
  }

  /**
   * One received packet of this protocol: the PPP Information field.
   *
   * The triple length check (pppd fsm_input, RFC 1661 §5): at least the
   * 4-byte header, a Length of at least 4, and a Length no larger than what
   * arrived — "When a packet is received with an invalid Length field, the
   * packet is silently discarded without affecting the automaton."
   */
  receive(payload: Uint8Array): FsmAction<N>[] {
    let pkt: CpPacket;
    try {
      pkt = decodeCpPacket(payload);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.log.log('debug', 'malformed packet discarded', { error: e.message, hex: toHex(payload, 32) });
      return [];
    }
    if (this.state === 'Initial' || this.state === 'Starting') {
      // The lower layer is Down: every receive event is illegal here (RFC 1661 §4.1 "-"); pppd discards.
      this.log.log('debug', 'packet in lower-layer-down state discarded', {
        state: this.state,
        code: pkt.code,
      });
      return [];
    }
    if (this.log.enabled('debug')) {
      this.log.log('debug', `rcvd ${this.codeName(pkt.code)}`, {
        id: pkt.identifier,
        length: pkt.data.length + 4,
        hex: toHex(pkt.data, 32),
      });
    }
    switch (pkt.code) {
      case CpCode.ConfigureRequest:
        this.receiveConfigureRequest(pkt);
        break;
      case CpCode.ConfigureAck:
        this.receiveConfigureAck(pkt);
        break;
      case CpCode.ConfigureNak:
      case CpCode.ConfigureReject:
        this.receiveConfigureNakOrReject(pkt);
        break;
      case CpCode.TerminateRequest:
        this.peerTerminateReason = peerText(pkt.data, 128);
        this.step('RTR', {
          packet: pkt,
          reason: this.peerTerminateReason
            ? `terminated by peer: ${this.peerTerminateReason}`
            : 'terminated by peer',
        });
        break;
      case CpCode.TerminateAck:
        // Not matched against our Identifier: an unelicited Terminate-Ack "indicates that the peer is in
        // the Closed or Stopped states" (RFC 1661 §5.5) and must resynchronize us (pppd does the same).
        this.step('RTA', { packet: pkt, reason: this.terminationReason || 'peer acknowledged termination' });
        break;
      case CpCode.CodeReject:
        this.receiveCodeReject(pkt);
        break;
      default:
        this.receiveExtraCode(pkt);
    }
    return this.flush();
  }

  /**
   * The options of a Configure packet, or undefined (logged) when they are malformed. RFC 1661 §6: "When
   * the Data field is indicated by the Length to extend beyond the end of the Information field, the entire
   * packet is silently discarded without affecting the automaton."
   */
  private optionsOrDiscard(pkt: CpPacket): CpOption[] | undefined {
    try {
      return decodeCpOptions(pkt.data);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.log.log('debug', `${this.codeName(pkt.code)} with malformed options discarded`, {
        error: e.message,
      });
      return undefined;
    }
  }

  private receiveConfigureRequest(pkt: CpPacket): void {
    const options = this.optionsOrDiscard(pkt);
    if (!options) return;
    const s = this.state;
    if (s === 'Opened' && pkt.identifier === this.lastAckedId && latin1Equals(pkt.data, this.lastAckedData)) {
      // Deliberate deviation from the table (RCR in Opened: tld,scr,sca/8): a request with the Identifier
      // and options we already acknowledged can only be a retransmission or a network duplicate, because
      // RFC 1661 §5.1 says "The Identifier field MUST be changed ... whenever a valid reply has been
      // received for a previous request". Re-acknowledge it instead of tearing the layer down, so a
      // duplicated or late packet cannot force a renegotiation (and, for LCP, a re-authentication).
      this.log.log('debug', 'duplicate of the acknowledged Configure-Request: Ack again', {
        id: pkt.identifier,
      });
      this.emit({ code: CpCode.ConfigureAck, identifier: pkt.identifier, data: pkt.data });
      return;
    }
    if (s === 'Closed' || s === 'Closing' || s === 'Stopping') {
      // RCR+ and RCR- share these cells (sta/2, 4, 5): no need to judge.
      this.step('RCR+', { packet: pkt });
      return;
    }
    const rejectIfDisagree = this.naksSent >= this.config.maxFailure;
    const verdict = this.policy.judgeRequest(options, rejectIfDisagree, this.ctx);
    let reject = verdict.reject ?? [];
    let nak = verdict.nak ?? [];
    if (rejectIfDisagree && nak.length > 0) {
      // RFC 1661 §4.6 Max-Failure: "Any further Configure-Nak packets for peer requested options are
      // converted to Configure-Reject packets, and locally desired options are no longer appended."
      const nakTypes = new Set(nak.map((o) => o.type));
      const already = new Set(reject);
      reject = options.filter((o) => already.has(o) || nakTypes.has(o.type));
      nak = [];
    }
    if (verdict.nakAlways?.length) nak = inRequestOrder([...nak, ...verdict.nakAlways], options);
    if (
      (reject.length > 0 || nak.length > 0) &&
      this.refusalsSent >= this.negotiationRounds &&
      this.notConverging(
        `configuration not converging: ${this.refusalsSent} of the peer's Configure-Requests Nak'd or Rejected without an Ack`,
      )
    )
      return;
    if (reject.length > 0) {
      this.step('RCR-', {
        packet: pkt,
        nakOrReject: {
          code: CpCode.ConfigureReject,
          identifier: pkt.identifier,
          data: encodeCpOptions(reject),
        },
      });
    } else if (nak.length > 0) {
      this.step('RCR-', {
        packet: pkt,
        nakOrReject: { code: CpCode.ConfigureNak, identifier: pkt.identifier, data: encodeCpOptions(nak) },
      });
    } else {
      this.step('RCR+', { packet: pkt });
    }
  }

  /** Whether a reply with this Identifier answers our outstanding Configure-Request (RFC 1661 §5.2–5.4). */
  private isCurrentReply(pkt: CpPacket): boolean {
    if (this.requestId === undefined || pkt.identifier !== this.requestId) {
      this.log.log('debug', `${this.codeName(pkt.code)} with unexpected Identifier tossed`, {
        id: pkt.identifier,
        expected: this.requestId ?? -1,
      });
      return false;
    }
    if (this.replySeen) {
      this.log.log('debug', `duplicate ${this.codeName(pkt.code)} tossed`, { id: pkt.identifier });
      return false;
    }
    return true;
  }

  private receiveConfigureAck(pkt: CpPacket): void {
    if (!this.isCurrentReply(pkt)) return;
    // RFC 1661 §5.2: "the Configuration Options in a Configure-Ack MUST exactly match those of the last
    // transmitted Configure-Request. Invalid packets are silently discarded."
    if (!latin1Equals(pkt.data, this.requestOptionsText)) {
      this.log.log('warn', 'Configure-Ack does not match our Configure-Request: discarded', {
        got: toHex(pkt.data, 32),
        sent: toHex(this.requestOptions(), 32),
      });
      return;
    }
    this.replySeen = true;
    this.naksReceived = 0;
    this.refusalsReceived = 0;
    // In Closed/Stopped/Closing/Stopping the reply only draws a Terminate-Ack (or nothing): the policy
    // has nothing to learn from it.
    if (this.isConfiguring()) this.policy.onAck(decodeCpOptions(pkt.data), this.ctx);
    this.step('RCA', { packet: pkt });
  }

  private receiveConfigureNakOrReject(pkt: CpPacket): void {
    if (!this.isCurrentReply(pkt)) return;
    if (!this.isConfiguring()) {
      this.replySeen = true;
      this.step('RCN', { packet: pkt });
      return;
    }
    const options = this.optionsOrDiscard(pkt);
    if (!options) return;
    if (pkt.code === CpCode.ConfigureReject) {
      // RFC 1661 §5.4: "the Configuration Options in a Configure-Reject MUST be a proper subset of those
      // in the last transmitted Configure-Request. Invalid packets are silently discarded."
      if (options.length === 0 || !isOrderedSubset(options, decodeCpOptions(this.requestOptions()))) {
        this.log.log('warn', 'Configure-Reject is not a subset of our Configure-Request: discarded', {
          got: toHex(pkt.data, 32),
        });
        return;
      }
      this.naksReceived = 0;
      if (!this.policy.onReject(options, this.ctx)) {
        this.log.log('warn', 'Configure-Reject refused by policy: discarded', { got: toHex(pkt.data, 32) });
        return;
      }
    } else {
      const treatAsReject = this.naksReceived + 1 >= this.config.maxFailure;
      if (!this.policy.onNak(options, treatAsReject, this.ctx)) {
        this.log.log('warn', 'invalid Configure-Nak discarded', { got: toHex(pkt.data, 32) });
        return;
      }
      this.naksReceived++;
    }
    this.replySeen = true;
    if (
      ++this.refusalsReceived > this.negotiationRounds &&
      this.notConverging(
        `configuration not converging: peer Nak'd or Rejected ${this.refusalsReceived - 1} Configure-Requests in a row`,
      )
    )
      return;
    this.step('RCN', { packet: pkt });
  }

  /** Req-Sent, Ack-Rcvd, Ack-Sent or Opened: replies to our requests change what we negotiate. */
  private isConfiguring(): boolean {
    return NEGOTIATING.has(this.state) || this.state === 'Opened';
  }

  private receiveCodeReject(pkt: CpPacket): void {
    if (pkt.data.length < 1) {
      this.log.log('debug', 'empty Code-Reject discarded');
      return;
    }
    const code = pkt.data[0]!;
    // RFC 1661 §4.3: "The RXJ- event arises when the rejected value is catastrophic, such as a
    // Code-Reject of Configure-Request".
    const verdict: CodeRejectVerdict =
      code >= CpCode.ConfigureRequest && code <= CpCode.CodeReject
        ? 'catastrophic'
        : (this.policy.onCodeReject?.(code, this.ctx) ?? 'never-sent');
    if (verdict === 'never-sent') {
      // RFC 1661 §5.6: "The Rejected-Packet field contains a copy of the LCP packet which is being
      // rejected" (for an NCP, of its packet). A code this automaton never sends rejects nothing of
      // ours: most likely one of our packets was damaged on the way (PPTP's GRE has no checksum). It
      // cannot be catastrophic, and there is nothing to stop sending, so it is discarded (pppd's
      // fsm_rcoderej only logs any Code-Reject).
      this.log.log('info', `Code-Reject of ${this.codeName(code)}, which we never send: discarded`, { code });
      return;
    }
    this.log.log(verdict === 'acceptable' ? 'info' : 'warn', `peer Code-Rejected ${this.codeName(code)}`, {
      code,
    });
    if (verdict === 'acceptable') this.step('RXJ+', { packet: pkt });
    else this.step('RXJ-', { packet: pkt, reason: `peer rejected ${this.codeName(code)}` });
  }

  private receiveExtraCode(pkt: CpPacket): void {
    const verdict: ExtraCodeVerdict = this.policy.extraCode
      ? this.policy.extraCode(pkt, this.ctx)
      : { event: 'RUC' };
    switch (verdict.event) {
      case 'RUC':
        this.step('RUC', { packet: pkt });
        return;
      case 'RXR':
        this.step('RXR', verdict.reply ? { packet: pkt, echoReply: verdict.reply } : { packet: pkt });
        return;
      case 'RXJ+':
        this.step('RXJ+', { packet: pkt });
        return;
      case 'RXJ-':
        this.step('RXJ-', { packet: pkt, reason: 'peer rejected this protocol' });
        return;
      case 'handled':
        return;
      default:
        assertNever(verdict, 'extra code verdict');
    }
  }
}

/**
 * Sorts Nak'd options into the order of the request they answer (RFC 1661
 * §5.3: "the Configuration Options from the Configure-Request MUST NOT be
 * reordered"); options the request did not have (appended hints) go last.
 */
function inRequestOrder(nak: readonly CpOption[], request: readonly CpOption[]): CpOption[] {
  const pos = (o: CpOption) => {
    const i = request.findIndex((r) => r.type === o.type);
    return i < 0 ? request.length : i;
  };
  return nak
    .map((o, i) => ({ o, i }))
    .sort((x, y) => pos(x.o) - pos(y.o) || x.i - y.i)
    .map((x) => x.o);
}

/** Every option of `sub` appears, byte-identical and in the same order, in `whole`. */
function isOrderedSubset(sub: readonly CpOption[], whole: readonly CpOption[]): boolean {
  let j = 0;
  for (const o of sub) {
    while (j < whole.length && !(whole[j]!.type === o.type && bytesEqual(whole[j]!.data, o.data))) j++;
    if (j === whole.length) return false;
    j++;
  }
  return true;
}
