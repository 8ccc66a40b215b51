/**
 * The calls of one PPTP control connection (RFC 2637 §3.2), sans-IO: Call
 * ID allocation and quarantine (§3.2.2), the answer to a peer's
 * Outgoing-Call-Request or Incoming-Call-Request, and the routing of every
 * other call message to its {@link PptpCall}. The connection state machine
 * (control.ts) hands call messages here once the connection is established.
 */

import type { Logger } from '../log/logger.js';
import { assertNever } from '../wire/bytes.js';
import {
  PptpGeneralError,
  type PptpIncomingCallRequest,
  PptpIncomingCallResult,
  type PptpMessage,
  PptpMessageType,
  type PptpOutgoingCallRequest,
  PptpOutgoingCallResult,
  PptpStopReason,
  pptpMessageName,
} from '../wire/pptp/index.js';
import { PptpCall, type PptpCallContext } from './call.js';
import { CallIdMap } from './call-id-map.js';
import { PptpProtocolError } from './control-error.js';
import type {
  PptpActionSink,
  PptpAdmission,
  PptpCallDirection,
  PptpControlConfig,
  PptpControlLimits,
} from './control-types.js';

/** Calls are numbered 1..65535 here; 0 is legal on the wire (Windows uses it) but never handed out. */
const CALL_ID_SPACE = 0xffff;
/** Random draws before falling back to a scan for a free Call ID. */
const CALL_ID_DRAWS = 64;

/** The messages that belong to a call rather than to the control connection (§2.7–§2.15). */
export type PptpCallMessage = Exclude<
  PptpMessage,
  {
    type:
      | PptpMessageType.StartControlConnectionRequest
      | PptpMessageType.StartControlConnectionReply
      | PptpMessageType.StopControlConnectionRequest
      | PptpMessageType.StopControlConnectionReply
      | PptpMessageType.EchoRequest
      | PptpMessageType.EchoReply;
  }
>;

/**
 * A call request from the peer: the PNS's Outgoing-Call-Request at a PAC
 * (§3.2.4.1) or the PAC's Incoming-Call-Request at a PNS (§3.2.3.2). Both
 * are answered the same way; these are the differences.
 */
interface CallRequestKind<M extends PptpOutgoingCallRequest | PptpIncomingCallRequest> {
  readonly name: 'OCRQ' | 'ICRQ';
  readonly direction: PptpCallDirection;
  /** The reply's General-Error Result Code. */
  readonly generalError: number;
  /** The admission policy's verdict; its default when the configuration has none. */
  admit(config: PptpControlConfig, m: M): PptpAdmission;
  /** The refusing reply. */
  refusal(m: M, ctx: PptpCallContext, resultCode: number, errorCode: number): PptpMessage;
  /** The new call answers the request. */
  accept(call: PptpCall, out: PptpActionSink, m: M): void;
}

const OUTGOING_REQUEST: CallRequestKind<PptpOutgoingCallRequest> = {
  name: 'OCRQ',
  direction: 'outgoing',
  generalError: PptpOutgoingCallResult.GeneralError,
  admit: (config, m) => config.admitOutgoingCall?.(m) ?? { accept: true },
  refusal: outgoingCallRefusal,
  accept: (call, out, m) => call.answerOutgoing(out, m),
};

const INCOMING_REQUEST: CallRequestKind<PptpIncomingCallRequest> = {
  name: 'ICRQ',
  direction: 'incoming',
  generalError: PptpIncomingCallResult.GeneralError,
  // By default a PNS of this stack does not take incoming calls: "If the request is not acceptable, an
  // Incoming-Call-Reply is sent back to the PAC and the PNS remains in the idle state" (§3.2.3.2).
  admit: (config, m) =>
    config.admitIncomingCall?.(m) ?? { accept: false, resultCode: PptpIncomingCallResult.DoNotAccept },
  refusal: incomingCallRefusal,
  accept: (call, out, m) => call.acceptIncoming(out, m),
};

/** The live calls of one control connection, by our Call ID. */
export class PptpCallTable {
  private readonly calls = new CallIdMap<PptpCall>();
  private readonly quarantine: number[] = [];
  private serialNext = 0;

  constructor(
    private readonly config: PptpControlConfig,
    private readonly ctx: PptpCallContext,
    private readonly limits: PptpControlLimits,
    private readonly randomInt: (n: number) => number,
    private readonly log: Logger,
  ) {
    this.serialNext = randomInt(0x10000);
  }

  /** Number of live calls. */
  get size(): number {
    return this.calls.size;
  }

  /** Our Call IDs of the live calls. */
  ids(): number[] {
    return [...this.calls.keys()];
  }

  /** The live call with our Call ID `callId`. */
  get(callId: number): PptpCall | undefined {
    return this.calls.get(callId);
  }

  /** A call we start (PNS outgoing, PAC incoming). Throws when the call cap or the Call ID space is exhausted. */
  openLocal(direction: PptpCallDirection): PptpCall {
    if (this.calls.size >= this.limits.maxCalls)
      throw new Error(`call limit ${this.limits.maxCalls} reached`);
    const callId = this.allocateCallId();
    if (callId === undefined) throw new Error('no free Call ID');
    const serial = this.serialNext;
    this.serialNext = (this.serialNext + 1) & 0xffff;
    const call = new PptpCall(this.ctx, direction, callId, serial);
    this.calls.set(callId, call);
    return call;
  }

  /**
   * The connection ends: every call is cleared (its Call ID quarantined) and
   * the table emptied when `forget` is set.
   */
  closeAll(out: PptpActionSink, forget: boolean): void {
    for (const call of this.calls.values()) call.connectionClosed(out);
    this.forgetFinishedCalls();
    if (forget) this.calls.clear();
  }

  /** Drops finished calls, quarantining their Call IDs. */
  forgetFinishedCalls(): void {
    for (const [id, call] of this.calls) {
      if (!call.finished) continue;
      this.calls.delete(id);
      this.quarantine.push(id);
      if (this.quarantine.length > this.limits.callIdQuarantine) this.quarantine.shift();
    }
  }

  /**
   * A call message on an established connection. Returns true when a call
   * was created or driven (the caller then updates its idle timer); throws a
   * {@link PptpProtocolError} for a message sent in the wrong direction.
   */
  receive(out: PptpActionSink, m: PptpCallMessage, role: 'pns' | 'pac'): boolean {
    switch (m.type) {
      case PptpMessageType.OutgoingCallRequest:
        if (role !== 'pac') throw unexpected(m, 'OCRQ is sent by the PNS to the PAC (§2.7)');
        return this.answerRequest(out, m, OUTGOING_REQUEST);
      case PptpMessageType.OutgoingCallReply:
        if (role !== 'pns') throw unexpected(m, 'OCRP is sent by the PAC to the PNS (§2.8)');
        return this.toCall(out, m, this.calls.get(m.peerCallId));
      case PptpMessageType.IncomingCallRequest:
        if (role !== 'pns') throw unexpected(m, 'ICRQ is sent by the PAC to the PNS (§2.9)');
        return this.answerRequest(out, m, INCOMING_REQUEST);
      case PptpMessageType.IncomingCallReply:
        if (role !== 'pac') throw unexpected(m, 'ICRP is sent by the PNS to the PAC (§2.10)');
        return this.toCall(out, m, this.calls.get(m.peerCallId));
      case PptpMessageType.IncomingCallConnected:
        if (role !== 'pns') throw unexpected(m, 'ICCN is sent by the PAC to the PNS (§2.11)');
        return this.toCall(out, m, this.calls.get(m.peerCallId));
      case PptpMessageType.CallClearRequest:
        if (role !== 'pac') throw unexpected(m, 'CCRQ is sent by the PNS to the PAC (§2.12)');
        return this.toCall(out, m, this.byPeerCallId(m.callId));
      case PptpMessageType.CallDisconnectNotify:
        // Its Call ID is the sender's own (§2.13). From a PNS this is not in the RFC; taken as a hang-up.
        return this.toCall(out, m, this.byPeerCallId(m.callId));
      case PptpMessageType.WanErrorNotify: {
        const call = this.calls.get(m.peerCallId);
        if (!call) {
          this.noSuchCall(m, m.peerCallId);
          return false;
        }
        const { type: _t, peerCallId: _p, ...counters } = m;
        out.push({ kind: 'wanError', callId: call.callId, ...counters });
        return false;
      }
      case PptpMessageType.SetLinkInfo: {
        // "Peer's Call ID: The value of the Call ID assigned by the PAC to this call": ours at a PAC.
        // Accepted at a PNS too (some PACs send one), where it names our call the same way.
        const call = this.calls.get(m.peerCallId) ?? this.byPeerCallId(m.peerCallId);
        if (!call) {
          this.noSuchCall(m, m.peerCallId);
          return false;
        }
        if (m.sendAccm !== 0 || m.receiveAccm !== 0) {
          this.log.log('debug', 'Set-Link-Info ACCMs ignored: GRE carries no async HDLC framing', {
            sendAccm: m.sendAccm,
            receiveAccm: m.receiveAccm,
          });
        }
        out.push({
          kind: 'setLinkInfo',
          callId: call.callId,
          sendAccm: m.sendAccm,
          receiveAccm: m.receiveAccm,
        });
        return false;
      }
      default:
        return assertNever(m, 'PPTP call message');
    }
  }

  /** The refusing reply to a call request that arrived before the connection was established. */
  refuseNotConnected(m: PptpOutgoingCallRequest | PptpIncomingCallRequest): PptpMessage {
    const NC = PptpGeneralError.NotConnected;
    return m.type === PptpMessageType.OutgoingCallRequest
      ? outgoingCallRefusal(m, this.ctx, PptpOutgoingCallResult.GeneralError, NC)
      : incomingCallRefusal(m, this.ctx, PptpIncomingCallResult.GeneralError, NC);
  }

  /**
   * The peer asks for a call (OCRQ at a PAC, §3.2.4.1 idle; ICRQ at a PNS,
   * §3.2.3.2 idle). "If this is received in error, respond with an
   * Outgoing-Call-Reply with error condition set": a reused Call ID, the
   * call cap, the admission policy and an exhausted Call ID space each draw
   * a refusing reply, and no call is made.
   */
  private answerRequest<M extends PptpOutgoingCallRequest | PptpIncomingCallRequest>(
    out: PptpActionSink,
    m: M,
    kind: CallRequestKind<M>,
  ): boolean {
    const refuse = (resultCode: number, errorCode: number) =>
      out.push({ kind: 'send', message: kind.refusal(m, this.ctx, resultCode, errorCode) });
    if (this.byPeerCallId(m.callId)) {
      // §3.2.2: "This Call ID value MUST be unique for the tunnel between the PNS and PAC to which it belongs."
      this.log.log('warn', `${kind.name} reuses the live Call ID ${m.callId}`);
      refuse(kind.generalError, PptpGeneralError.BadCallId);
      return false;
    }
    if (this.calls.size >= this.limits.maxCalls) {
      this.log.log('warn', `${kind.name} refused: ${this.calls.size} calls is the limit`);
      refuse(kind.generalError, PptpGeneralError.NoResource);
      return false;
    }
    const admission = kind.admit(this.config, m);
    if (!admission.accept) {
      this.log.log('info', `${kind.name} refused by policy`, { resultCode: admission.resultCode });
      refuse(admission.resultCode, admission.errorCode ?? 0);
      return false;
    }
    const callId = this.allocateCallId();
    if (callId === undefined) {
      refuse(kind.generalError, PptpGeneralError.NoResource);
      return false;
    }
    const call = new PptpCall(this.ctx, kind.direction, callId, m.callSerialNumber);
    this.calls.set(callId, call);
    kind.accept(call, out, m);
    return true;
  }

  private toCall(out: PptpActionSink, m: PptpMessage, call: PptpCall | undefined): boolean {
    if (!call) {
      this.noSuchCall(m, 'callId' in m ? m.callId : (m as { peerCallId: number }).peerCallId);
      return false;
    }
    call.receive(out, m);
    return true;
  }

  private noSuchCall(m: PptpMessage, id: number): void {
    // Likely crossed in flight with a clear: log and drop (§3.2.2 "Bad-Call ID" is not worth ending every other call).
    this.log.log('info', `${pptpMessageName(m.type)} for Call ID ${id}, which is not live: ignored`);
  }

  private byPeerCallId(peerCallId: number): PptpCall | undefined {
    for (const c of this.calls.values()) if (c.peerCallId === peerCallId) return c;
    return undefined;
  }

  /**
   * A random Call ID in 1..65535 that is neither live, nor recently
   * released, nor refused by `isCallIdAvailable` (§3.2.2: unique per
   * tunnel). Random draws first, then a scan, so it always terminates.
   */
  private allocateCallId(): number | undefined {
    const free = (id: number) =>
      !this.calls.has(id) && !this.quarantine.includes(id) && (this.config.isCallIdAvailable?.(id) ?? true);
    for (let i = 0; i < CALL_ID_DRAWS; i++) {
      const id = 1 + this.randomInt(CALL_ID_SPACE);
      if (free(id)) return id;
    }
    const start = this.randomInt(CALL_ID_SPACE);
    for (let i = 0; i < CALL_ID_SPACE; i++) {
      const id = 1 + ((start + i) % CALL_ID_SPACE);
      if (free(id)) return id;
    }
    return undefined;
  }
}

function unexpected(m: PptpMessage, why: string): PptpProtocolError {
  return new PptpProtocolError(PptpGeneralError.BadValue, why, undefined, PptpStopReason.None, m.type);
}

function outgoingCallRefusal(
  m: PptpOutgoingCallRequest,
  ctx: PptpCallContext,
  resultCode: number,
  errorCode: number,
): PptpMessage {
  return {
    type: PptpMessageType.OutgoingCallReply,
    callId: 0,
    peerCallId: m.callId,
    resultCode,
    errorCode,
    causeCode: 0,
    connectSpeed: 0,
    packetRecvWindowSize: ctx.packetRecvWindowSize,
    packetProcessingDelay: ctx.packetProcessingDelay,
    physicalChannelId: 0,
  };
}

function incomingCallRefusal(
  m: PptpIncomingCallRequest,
  ctx: PptpCallContext,
  resultCode: number,
  errorCode: number,
): PptpMessage {
  return {
    type: PptpMessageType.IncomingCallReply,
    callId: 0,
    peerCallId: m.callId,
    resultCode,
    errorCode,
    packetRecvWindowSize: ctx.packetRecvWindowSize,
    packetTransmitDelay: ctx.packetProcessingDelay,
  };
}
