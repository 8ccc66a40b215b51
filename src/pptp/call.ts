/**
 * One PPTP call (RFC 2637 §3.2), sans-IO: {@link PptpCall}, whose doc
 * comment holds the state diagrams of the four call machines.
 */

import type { Logger } from '../log/logger.js';
import { assertNever } from '../wire/bytes.js';
import {
  PptpDisconnectResult,
  PptpFraming,
  type PptpIncomingCallReply,
  type PptpIncomingCallRequest,
  PptpIncomingCallResult,
  type PptpMessage,
  PptpMessageType,
  type PptpOutgoingCallRequest,
  PptpOutgoingCallResult,
  pptpMessageName,
} from '../wire/pptp/index.js';
import type {
  PptpActionSink,
  PptpCallDirection,
  PptpCallEndReason,
  PptpCallParameters,
  PptpRole,
  PptpTimerId,
} from './control-types.js';

/** Call states, named as in RFC 2637 §3.2.3–§3.2.4. */
export type PptpCallState =
  | 'idle'
  | 'wait_reply'
  | 'wait_cs_ans'
  | 'wait_connect'
  | 'established'
  | 'wait_disconnect';

/** What a call needs from its control connection. */
export interface PptpCallContext {
  readonly role: PptpRole;
  /** Our Packet Recv. Window Size. */
  readonly packetRecvWindowSize: number;
  /** Our Packet Processing Delay, 1/10 s. */
  readonly packetProcessingDelay: number;
  /** Connect Speed a PAC reports. */
  readonly connectSpeed: number;
  readonly callSetupTimeoutMs: number;
  readonly log: Logger;
}

/** Parameters of an Outgoing-Call-Request (RFC 2637 §2.7) the PNS sends. */
export interface PptpOutgoingCallOptions {
  /** Default 300 bits/s (what Windows sends). */
  readonly minimumBps?: number;
  /** Default 100,000,000 bits/s (what Windows sends). */
  readonly maximumBps?: number;
  /** Default 3, any channel. */
  readonly bearerType?: number;
  /** Default 3, either framing. */
  readonly framingType?: number;
  /** Default '' (a VPN call dials nothing). */
  readonly phoneNumber?: string;
  readonly subaddress?: string;
}

/** Parameters of an Incoming-Call-Request (RFC 2637 §2.9) a PAC sends. */
export interface PptpIncomingCallOptions {
  /** Default 1, analog ("Modems should always indicate analog call type", §3.2.3). */
  readonly callBearerType?: number;
  readonly physicalChannelId?: number;
  readonly dialedNumber?: string;
  readonly dialingNumber?: string;
  readonly subaddress?: string;
}

/** Packet Processing Delay on the wire is in 1/10 s (RFC 2637 §2.7). */
const DELAY_UNIT_MS = 100;

/**
 * One PPTP call (RFC 2637 §3.2), sans-IO: the four call state machines of
 * §3.2.3–§3.2.4 (PAC/PNS × incoming/outgoing) in one class, with the RFC's
 * state names. The control connection (`control.ts`) owns the calls: it
 * creates them, routes call messages to them by Call ID, and forwards the
 * actions they append (docs/style.md §4: actions returned, never performed).
 *
 * ```
 *  PNS, outgoing (§3.2.4.2)             PAC, outgoing (§3.2.4.1)
 *   idle --start/OCRQ--> wait_reply      idle --OCRQ/OCRP ok--> wait_cs_ans
 *   wait_reply --OCRP ok--> established   wait_cs_ans --answer--> established
 *   wait_reply --OCRP error--> idle       established --CCRQ/CDN--> idle
 *   wait_reply --clear/CCRQ--> wait_disconnect
 *   established --CDN--> idle             established --clear/CDN--> idle
 *   established --clear/CCRQ--> wait_disconnect
 *   wait_disconnect --CDN--> idle
 *
 *  PNS, incoming (§3.2.3.2)             PAC, incoming (§3.2.3.1)
 *   idle --ICRQ/ICRP ok--> wait_connect   idle --ring/ICRQ--> wait_reply
 *   wait_connect --ICCN--> established    wait_reply --ICRP ok/ICCN--> established
 *   wait_connect --CDN--> idle            wait_reply --ICRP error--> idle
 *   wait_connect --clear/CCRQ--> wait_disconnect   wait_reply --abort/CDN--> idle
 *   established --CDN--> idle             established --CCRQ/CDN--> idle
 *   established --clear/CCRQ--> wait_disconnect    established --clear/CDN--> idle
 *   wait_disconnect --CDN--> idle
 * ```
 *
 * A call that returns to idle is finished; the connection forgets it. A
 * state other than idle and established that lasts longer than the call
 * set-up time-out means "the integrity of the protocol processing between
 * the peers is suspect" (§3.2.1): `timeout()` then asks the connection to
 * close.
 */
export class PptpCall {
  private current: PptpCallState = 'idle';
  private started = false;
  /** The peer's Call ID, once known. */
  peerCallId: number | undefined;
  private peerWindow = 0;
  private peerDelay = 0;
  private speed = 0;
  private framing: number = PptpFraming.Any;

  constructor(
    private readonly ctx: PptpCallContext,
    readonly direction: PptpCallDirection,
    /** Our Call ID: the GRE Key of packets we receive, and how the connection finds this call. */
    readonly callId: number,
    readonly callSerialNumber: number,
  ) {}

  get state(): PptpCallState {
    return this.current;
  }

  /** True once the call has returned to idle: it is over. */
  get finished(): boolean {
    return this.started && this.current === 'idle';
  }

  /** The call's set-up timer id. */
  get timerId(): PptpTimerId {
    return `call-${this.callId}`;
  }

  /** The GRE parameters, once the call is established. */
  get parameters(): PptpCallParameters | undefined {
    if (this.current !== 'established' || this.peerCallId === undefined) return undefined;
    return {
      callId: this.callId,
      peerCallId: this.peerCallId,
      direction: this.direction,
      callSerialNumber: this.callSerialNumber,
      peerPacketRecvWindowSize: this.peerWindow,
      peerPacketProcessingDelay: this.peerDelay,
      peerPacketProcessingDelayMs: this.peerDelay * DELAY_UNIT_MS,
      packetRecvWindowSize: this.ctx.packetRecvWindowSize,
      connectSpeed: this.speed,
      framingType: this.framing,
    };
  }

  /** PNS, outgoing: idle → wait_reply, sending the Outgoing-Call-Request (§3.2.4.2 "Open Indication/Send Outgoing Call Request"). */
  startOutgoing(out: PptpActionSink, opts: PptpOutgoingCallOptions = {}): void {
    this.expectStart('pns', 'outgoing');
    this.framing = opts.framingType ?? PptpFraming.Any;
    const phoneNumber = opts.phoneNumber ?? '';
    this.sendAndWait(
      out,
      {
        type: PptpMessageType.OutgoingCallRequest,
        callId: this.callId,
        callSerialNumber: this.callSerialNumber,
        minimumBps: opts.minimumBps ?? 300,
        maximumBps: opts.maximumBps ?? 100_000_000,
        bearerType: opts.bearerType ?? 3,
        framingType: this.framing,
        packetRecvWindowSize: this.ctx.packetRecvWindowSize,
        packetProcessingDelay: this.ctx.packetProcessingDelay,
        phoneNumberLength: phoneNumber.length,
        phoneNumber,
        subaddress: opts.subaddress ?? '',
      },
      'wait_reply',
      'sent OCRQ',
    );
  }

  /**
   * PAC, outgoing: an acceptable OCRQ. idle → wait_cs_ans ("Off Hook; Dial")
   * → established ("Telco Answer/Send Outgoing Call Reply"): there is no
   * telephone line to wait for, so the call is answered at once.
   */
  answerOutgoing(out: PptpActionSink, request: PptpOutgoingCallRequest): void {
    this.expectStart('pac', 'outgoing');
    this.peerCallId = request.callId;
    this.peerWindow = request.packetRecvWindowSize;
    this.peerDelay = request.packetProcessingDelay;
    this.framing = request.framingType;
    this.speed =
      request.maximumBps > 0 ? Math.min(request.maximumBps, this.ctx.connectSpeed) : this.ctx.connectSpeed;
    this.setState('wait_cs_ans', 'received OCRQ');
    out.push({
      kind: 'send',
      message: {
        type: PptpMessageType.OutgoingCallReply,
        callId: this.callId,
        peerCallId: request.callId,
        resultCode: PptpOutgoingCallResult.Connected,
        errorCode: 0,
        causeCode: 0,
        connectSpeed: this.speed,
        packetRecvWindowSize: this.ctx.packetRecvWindowSize,
        packetProcessingDelay: this.ctx.packetProcessingDelay,
        physicalChannelId: 0,
      },
    });
    this.up(out, 'answered: sent OCRP Connected');
  }

  /** PAC, incoming: "Ring/Send Incoming Call Request" (§3.2.3.1): idle → wait_reply. */
  startIncoming(out: PptpActionSink, opts: PptpIncomingCallOptions = {}): void {
    this.expectStart('pac', 'incoming');
    const dialed = opts.dialedNumber ?? '';
    const dialing = opts.dialingNumber ?? '';
    this.sendAndWait(
      out,
      {
        type: PptpMessageType.IncomingCallRequest,
        callId: this.callId,
        callSerialNumber: this.callSerialNumber,
        callBearerType: opts.callBearerType ?? 1,
        physicalChannelId: opts.physicalChannelId ?? 0,
        dialedNumberLength: dialed.length,
        dialingNumberLength: dialing.length,
        dialedNumber: dialed,
        dialingNumber: dialing,
        subaddress: opts.subaddress ?? '',
      },
      'wait_reply',
      'sent ICRQ',
    );
  }

  /** PNS, incoming: an acceptable ICRQ. "Receive Incoming Call Req./Send Incoming Call Reply OK" (§3.2.3.2): idle → wait_connect. */
  acceptIncoming(out: PptpActionSink, request: PptpIncomingCallRequest): void {
    this.expectStart('pns', 'incoming');
    this.peerCallId = request.callId;
    this.sendAndWait(
      out,
      {
        type: PptpMessageType.IncomingCallReply,
        callId: this.callId,
        peerCallId: request.callId,
        resultCode: PptpIncomingCallResult.Connect,
        errorCode: 0,
        packetRecvWindowSize: this.ctx.packetRecvWindowSize,
        packetTransmitDelay: this.ctx.packetProcessingDelay,
      },
      'wait_connect',
      'sent ICRP Connect',
    );
  }

  /** Sends a set-up message, then waits in `state` for its answer, for at most the call set-up time. */
  private sendAndWait(out: PptpActionSink, message: PptpMessage, state: PptpCallState, reason: string): void {
    out.push({ kind: 'send', message });
    this.setState(state, reason);
    out.push({ kind: 'startTimer', id: this.timerId, ms: this.ctx.callSetupTimeoutMs });
  }

  /**
   * A call message the connection routed here (OCRP, ICRP, ICCN, CCRQ, CDN).
   * Messages that make no sense in the current state are logged and
   * dropped: they are stale (crossed in flight with our own clear) rather
   * than malformed, and one call's confusion must not kill the others.
   */
  receive(out: PptpActionSink, m: PptpMessage): void {
    const role = this.ctx.role;
    const s = this.current;
    switch (m.type) {
      case PptpMessageType.OutgoingCallReply: {
        // PNS outgoing only (§3.2.4.2 wait_reply).
        if (s === 'wait_reply' && role === 'pns' && this.direction === 'outgoing') {
          this.peerCallId = m.callId;
          if (m.resultCode === PptpOutgoingCallResult.Connected) {
            this.peerWindow = m.packetRecvWindowSize;
            this.peerDelay = m.packetProcessingDelay;
            this.speed = m.connectSpeed;
            out.push({ kind: 'stopTimer', id: this.timerId });
            this.up(out, 'received OCRP Connected');
          } else {
            // "An Outgoing-Call-Reply is received which indicates an error. The session returns to idle state."
            this.down(out, `received OCRP result ${m.resultCode}`, {
              kind: 'rejected',
              resultCode: m.resultCode,
              errorCode: m.errorCode,
              causeCode: m.causeCode,
            });
          }
          return;
        }
        if (s === 'wait_disconnect' && this.direction === 'outgoing') {
          // We cleared during set-up. A failed call will bring no CDN: it is over.
          if (m.resultCode !== PptpOutgoingCallResult.Connected) {
            this.down(out, `OCRP result ${m.resultCode} after our CCRQ`, { kind: 'local-clear' });
          } else {
            this.peerCallId = m.callId; // so that the coming CDN finds us
          }
          return;
        }
        this.stale(m);
        return;
      }
      case PptpMessageType.IncomingCallReply:
        // PAC incoming only (§3.2.3.1 wait_reply).
        if (s === 'wait_reply' && role === 'pac' && this.direction === 'incoming') {
          this.peerCallId = m.callId;
          if (m.resultCode === PptpIncomingCallResult.Connect) {
            this.answerIncoming(out, m);
          } else {
            // "The PAC receives an Incoming-Call-Reply message indicating non-willingness to accept the call ... and moves back into the idle state."
            this.down(out, `received ICRP result ${m.resultCode}`, {
              kind: 'rejected',
              resultCode: m.resultCode,
              errorCode: m.errorCode,
              causeCode: 0,
            });
          }
          return;
        }
        this.stale(m);
        return;
      case PptpMessageType.IncomingCallConnected:
        // PNS incoming only (§3.2.3.2 wait_connect).
        if (s === 'wait_connect') {
          this.peerWindow = m.packetRecvWindowSize;
          this.peerDelay = m.packetTransmitDelay;
          this.speed = m.connectSpeed;
          this.framing = m.framingType;
          out.push({ kind: 'stopTimer', id: this.timerId });
          this.up(out, 'received ICCN');
          return;
        }
        this.stale(m);
        return;
      case PptpMessageType.CallClearRequest:
        // At a PAC, in any state: "Receipt of a Call-Clear-Request. The PAC sends a Call-Disconnect-Notify message."
        if (role === 'pac') {
          this.sendDisconnectNotify(out, PptpDisconnectResult.Request);
          this.down(out, 'received CCRQ, sent CDN', { kind: 'peer-clear' });
          return;
        }
        this.stale(m);
        return;
      case PptpMessageType.CallDisconnectNotify: {
        const reason: PptpCallEndReason =
          s === 'wait_disconnect'
            ? { kind: 'local-clear' }
            : {
                kind: 'peer-disconnect',
                resultCode: m.resultCode,
                errorCode: m.errorCode,
                causeCode: m.causeCode,
                callStatistics: m.callStatistics,
              };
        // PNS: every state (§3.2.3.2, §3.2.4.2). PAC: only a lenient reading
        // (the RFC has the PNS clear with CCRQ); treat it as a hang-up.
        this.down(out, `received CDN result ${m.resultCode}`, reason);
        return;
      }
      default:
        this.stale(m);
        return;
    }
  }

  /**
   * Local terminate. PNS: send Call-Clear-Request and wait for the CDN
   * ("If the PNS chooses to terminate the session, it sends a
   * Call-Clear-Request to the PAC and then enters the wait_disconnect
   * state"). PAC: send Call-Disconnect-Notify and go idle.
   */
  clear(out: PptpActionSink, resultCode: number = PptpDisconnectResult.AdminShutdown): void {
    const s = this.current;
    if (s === 'idle' || s === 'wait_disconnect') return;
    if (this.ctx.role === 'pns') {
      out.push({ kind: 'send', message: { type: PptpMessageType.CallClearRequest, callId: this.callId } });
      this.setState('wait_disconnect', 'sent CCRQ');
      out.push({ kind: 'startTimer', id: this.timerId, ms: this.ctx.callSetupTimeoutMs });
    } else {
      this.sendDisconnectNotify(out, resultCode);
      this.down(out, `sent CDN result ${resultCode}`, { kind: 'local-clear' });
    }
  }

  /**
   * The set-up timer fired. Returns true when the call was still waiting:
   * the connection must then be closed (§3.2.1).
   */
  timeout(): boolean {
    switch (this.current) {
      case 'wait_reply':
      case 'wait_cs_ans':
      case 'wait_connect':
      case 'wait_disconnect':
        this.ctx.log.log('warn', `call ${this.callId}: no transition from ${this.current} in time`);
        return true;
      case 'idle':
      case 'established':
        return false;
      default:
        return assertNever(this.current, 'call state');
    }
  }

  /** The control connection ended: every call is implicitly cleared (§2.3). */
  connectionClosed(out: PptpActionSink): void {
    if (this.current === 'idle') return;
    this.down(out, 'control connection closed', { kind: 'connection-closed' });
  }

  private answerIncoming(out: PptpActionSink, reply: PptpIncomingCallReply): void {
    // "If the reply message indicates that the call is accepted, the PAC sends an Incoming-Call-Connected message and enters the established state."
    this.peerWindow = reply.packetRecvWindowSize;
    this.peerDelay = reply.packetTransmitDelay;
    this.speed = this.ctx.connectSpeed;
    this.framing = PptpFraming.Synchronous;
    out.push({
      kind: 'send',
      message: {
        type: PptpMessageType.IncomingCallConnected,
        peerCallId: reply.callId,
        connectSpeed: this.speed,
        packetRecvWindowSize: this.ctx.packetRecvWindowSize,
        packetTransmitDelay: this.ctx.packetProcessingDelay,
        framingType: this.framing,
      },
    });
    out.push({ kind: 'stopTimer', id: this.timerId });
    this.up(out, 'received ICRP Connect, sent ICCN');
  }

  private sendDisconnectNotify(out: PptpActionSink, resultCode: number): void {
    out.push({
      kind: 'send',
      message: {
        type: PptpMessageType.CallDisconnectNotify,
        callId: this.callId,
        resultCode,
        errorCode: 0,
        causeCode: 0,
        callStatistics: '',
      },
    });
  }

  private up(out: PptpActionSink, why: string): void {
    this.setState('established', why);
    const call = this.parameters;
    if (call) out.push({ kind: 'callUp', call });
  }

  private down(out: PptpActionSink, why: string, reason: PptpCallEndReason): void {
    const was = this.current;
    this.setState('idle', why);
    if (was !== 'established') out.push({ kind: 'stopTimer', id: this.timerId });
    out.push({ kind: 'callDown', callId: this.callId, peerCallId: this.peerCallId, reason });
  }

  private stale(m: PptpMessage): void {
    this.ctx.log.log('debug', `call ${this.callId}: ${pptpMessageName(m.type)} ignored in ${this.current}`);
  }

  private expectStart(role: PptpRole, direction: PptpCallDirection): void {
    if (this.started || this.ctx.role !== role || this.direction !== direction) {
      throw new Error(`call ${this.callId}: cannot start a ${role} ${direction} call here`);
    }
    this.started = true;
  }

  /** Every transition goes through here and is logged old→new (docs/style.md §4). */
  private setState(next: PptpCallState, why: string): void {
    const log = this.ctx.log;
    if (log.enabled('debug')) {
      log.log('debug', `call ${this.callId}: ${this.current} → ${next} (${why})`, {
        callId: this.callId,
        peerCallId: this.peerCallId,
      });
    }
    this.current = next;
  }
}
