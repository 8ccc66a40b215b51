/**
 * The PPTP control connection (RFC 2637 §3.1), sans-IO, for both roles:
 * {@link PptpControlConnection}, state diagram in its doc comment. The
 * start exchange (SCCRQ/SCCRP, the §3.1.3 collision rule) is judged by
 * control-start.ts, the calls are kept by control-calls.ts, the keep-alive
 * by control-keepalive.ts, the timer bookkeeping by control-sink.ts.
 */

import { randomInt as cryptoRandomInt } from 'node:crypto';
import { type LogFields, type Logger, nullLogger } from '../log/logger.js';
import { assertNever } from '../wire/bytes.js';
import {
  PptpEchoResult,
  PptpFramer,
  PptpFramingError,
  PptpGeneralError,
  type PptpMessage,
  PptpMessageType,
  type PptpStartControlConnectionRequest,
  PptpStartResult,
  PptpStopReason,
  PptpStopResult,
  pptpMessageName,
  stringifyPptpMessage,
} from '../wire/pptp/index.js';
import type {
  PptpCall,
  PptpCallContext,
  PptpCallState,
  PptpIncomingCallOptions,
  PptpOutgoingCallOptions,
} from './call.js';
import { type PptpCallMessage, PptpCallTable } from './control-calls.js';
import { PptpProtocolError } from './control-error.js';
import { PptpKeepalive } from './control-keepalive.js';
import { actionSink, type ControlSink, RunningTimers, stopAllTimers } from './control-sink.js';
import { PptpStartExchange } from './control-start.js';
import {
  mergedWithDefaults,
  PPTP_DEFAULT_LIMITS,
  PPTP_DEFAULT_TIMERS,
  type PptpActionSink,
  type PptpCallParameters,
  type PptpCloseReason,
  type PptpControlAction,
  type PptpControlConfig,
  type PptpControlLimits,
  type PptpControlTimers,
  type PptpPeerInfo,
  type PptpRole,
  type PptpTimerId,
} from './control-types.js';

/** Control-connection states (RFC 2637 §3.1.1–§3.1.2), plus `closed`. */
export type PptpControlState = 'idle' | 'wait_ctl_reply' | 'established' | 'wait_stop_reply' | 'closed';

const NOT_CONNECTED_REFERENCE =
  'RFC 2637 §2.1: "A control connection must be established before any other PPTP messages can be issued"';

/**
 * The PPTP control connection (RFC 2637 §3.1), sans-IO, for both roles.
 *
 * Inputs are method calls (`open`, `receiveData`/`receive`, `timeout`,
 * `transportClosed`, `stop`, and the call operations); outputs are the
 * returned {@link PptpControlAction} lists, which a driver in `client/` or
 * `server/` performs against a TCP socket and a clock (docs/style.md §4). The
 * engine owns its calls (`call.ts`) and routes call messages to them.
 *
 * States are the RFC's (§3.1.1 originator, §3.1.2 receiver), plus `closed`
 * for an engine whose TCP connection is gone (the RFC goes back to idle; a
 * new TCP connection gets a new engine):
 *
 * ```
 *  originator (opened TCP)                 receiver (accepted TCP)
 *
 *   idle --open/SCCRQ--> wait_ctl_reply     idle --SCCRQ ok/SCCRP--> established
 *   wait_ctl_reply --SCCRP ok--> established   idle --SCCRQ bad/SCCRP error--> closed
 *   wait_ctl_reply --SCCRP version not OK/StopCCRQ--> wait_stop_reply
 *   wait_ctl_reply --SCCRP refused--> closed
 *   wait_ctl_reply --lost collision--> closed (nothing sent, §3.1.3)
 *
 *   both:
 *   established --stop()/StopCCRQ--> wait_stop_reply --StopCCRP--> closed
 *   established --StopCCRQ/StopCCRP--> closed
 *   established --protocol error/StopCCRQ--> wait_stop_reply
 *   any --handshake, echo, stop-reply time-out or TCP closed--> closed
 * ```
 *
 * Keep-alive (§3.1.4): after 60 s without receiving any control message
 * the engine sends Echo-Request, and closes when no Echo-Reply comes within
 * 60 s ({@link PptpKeepalive}).
 *
 * Errors (docs/style.md §3): a malformed stream (bad cookie or Length) loses
 * sync and closes TCP at once (§1.4). A message that is well formed but
 * wrong in its place becomes a {@link PptpProtocolError}: in the
 * established state the engine sends Stop-Control-Connection-Request with
 * its Reason, otherwise it closes TCP ("Receipt of an invalid or malformed
 * Control Connection message should be logged appropriately, and the
 * control connection should be closed", §3). A call message that names no
 * live call is dropped and logged: with many calls on one connection, one
 * stale message must not end the others.
 */
export class PptpControlConnection {
  readonly role: PptpRole;
  /** Whether we opened the TCP connection (§3.1.1). */
  readonly originator: boolean;
  private current: PptpControlState = 'idle';
  private opened = false;
  private readonly timerValues: PptpControlTimers;
  private readonly limits: PptpControlLimits;
  private readonly log: Logger;
  private readonly randomInt: (n: number) => number;
  private readonly framer: PptpFramer;
  private readonly callCtx: PptpCallContext;
  private readonly calls: PptpCallTable;
  private readonly keepalive: PptpKeepalive;
  private readonly running = new RunningTimers();
  private clock = 0;
  private stopCause: PptpCloseReason | undefined;
  /** §3.1.3 winner, on the connection the loser opened: send nothing, wait for TCP close. */
  private silent = false;
  private readonly start: PptpStartExchange;
  /** What the peer said in its SCCRQ/SCCRP, once established. */
  peer: PptpPeerInfo | undefined;

  constructor(readonly config: PptpControlConfig) {
    this.role = config.role;
    this.originator = config.originator ?? config.role === 'pns';
    this.timerValues = mergedWithDefaults(config.timers, PPTP_DEFAULT_TIMERS);
    this.limits = mergedWithDefaults(config.limits, PPTP_DEFAULT_LIMITS);
    this.log = config.log ?? nullLogger;
    this.randomInt = config.randomInt ?? cryptoRandomInt;
    this.start = PptpStartExchange.of(config);
    this.framer = new PptpFramer({
      maxMessageLength: this.limits.maxMessageLength,
      onUnknown: this.onUnknownMessage.bind(this),
    });
    this.callCtx = {
      role: this.role,
      packetRecvWindowSize: config.packetRecvWindowSize ?? 64,
      packetProcessingDelay: config.packetProcessingDelay ?? 0,
      connectSpeed: config.connectSpeed ?? 100_000_000,
      callSetupTimeoutMs: this.timerValues.callSetupTimeoutMs,
      log: this.log,
    };
    // The echo Identifier is drawn before the call serial number (tests with a scripted randomInt rely on it).
    this.keepalive = new PptpKeepalive(this.timerValues, this.log, this.randomInt(0x100000000));
    this.calls = new PptpCallTable(config, this.callCtx, this.limits, this.randomInt, this.log);
  }

  get state(): PptpControlState {
    return this.current;
  }

  /** The framer skipped a well-framed message of an undefined type. */
  private onUnknownMessage(h: { pptpMessageType: number; controlMessageType: number; length: number }): void {
    // Still a control message: proof of life for the keep-alive.
    this.keepalive.heard(this.clock);
    this.log.log('warn', 'undefined PPTP message type skipped', {
      pptpMessageType: h.pptpMessageType,
      controlMessageType: h.controlMessageType,
      length: h.length,
    });
  }

  /** True once the engine has closed (a method, so TypeScript does not narrow it away). */
  isClosed(): boolean {
    return this.current === 'closed';
  }

  /** Number of live calls. */
  get callCount(): number {
    return this.calls.size;
  }

  /** Our Call IDs of the live calls. */
  callIds(): number[] {
    return this.calls.ids();
  }

  /** State of call `callId`, or undefined when there is no such live call. */
  callState(callId: number): PptpCallState | undefined {
    return this.calls.get(callId)?.state;
  }

  /** GRE parameters of an established call. */
  callParameters(callId: number): PptpCallParameters | undefined {
    return this.calls.get(callId)?.parameters;
  }

  /** Timers the driver should have running now (for hygiene checks). */
  runningTimers(): PptpTimerId[] {
    return this.running.list();
  }

  /**
   * The TCP connection is up. An originator sends its SCCRQ ("When the TCP
   * connection is open, the originator transmits a send
   * Start-Control-Connection-Request and then enters the wait_ctl_reply
   * state", §3.1.1); both sides start the handshake timer (§3.1.4 item 1).
   */
  open(now: number): PptpControlAction[] {
    if (this.opened) throw new Error('PptpControlConnection.open() called twice');
    this.opened = true;
    this.clock = now;
    this.keepalive.heard(now);
    const out = actionSink(this.running, this.log);
    if (this.current === 'closed') return out.actions;
    if (this.originator) {
      out.push({ kind: 'send', message: this.start.request() });
      this.setState('wait_ctl_reply', 'TCP open, sent SCCRQ');
    }
    out.push({ kind: 'startTimer', id: 'handshake', ms: this.timerValues.handshakeTimeoutMs });
    return out.actions;
  }

  /** Bytes read from the TCP connection, in order. */
  receiveData(chunk: Uint8Array, now: number): PptpControlAction[] {
    if (this.current === 'closed') return [];
    this.clock = now;
    const out = actionSink(this.running, this.log);
    let messages: readonly PptpMessage[];
    let framing: PptpFramingError | undefined;
    try {
      messages = this.framer.push(chunk);
    } catch (e) {
      if (!(e instanceof PptpFramingError)) throw e;
      framing = e;
      messages = e.messages;
    }
    for (const m of messages) {
      if (this.isClosed()) break;
      this.handle(out, m, now);
    }
    if (framing && !this.isClosed()) {
      // §1.4: "Loss of synchronization must result in immediate closing of the control connection's TCP session."
      const error = new PptpProtocolError(
        framing.generalError,
        `control stream out of sync: ${framing.detail}`,
        framing.reference,
      );
      this.log.log('warn', error.message);
      this.closeNow(out, { kind: 'protocol-error', error });
    }
    return out.actions;
  }

  /** One decoded control message (what `receiveData` does per framed message). */
  receive(m: PptpMessage, now: number): PptpControlAction[] {
    if (this.current === 'closed') return [];
    this.clock = now;
    const out = actionSink(this.running, this.log);
    this.handle(out, m, now);
    return out.actions;
  }

  /** Timer `id` fired. Stale ids (stopped or restarted since) are ignored. */
  timeout(id: PptpTimerId, now: number): PptpControlAction[] {
    if (this.current === 'closed' || !this.running.has(id)) return [];
    this.running.delete(id);
    this.clock = now;
    const out = actionSink(this.running, this.log);
    switch (id) {
      case 'handshake':
        if (this.current === 'idle' || this.current === 'wait_ctl_reply') {
          this.log.log('warn', `no ${this.originator ? 'SCCRP' : 'SCCRQ'} in time`);
          this.closeNow(out, { kind: 'handshake-timeout' });
        }
        break;
      case 'echo':
        if (this.current === 'established') this.keepalive.onTimer(out, now);
        break;
      case 'echo-reply':
        this.log.log('warn', 'no Echo-Reply: closing', { identifier: this.keepalive.outstandingIdentifier });
        this.closeNow(out, { kind: 'echo-timeout' });
        break;
      case 'stop-reply':
        this.log.log('warn', 'no Stop-Control-Connection-Reply: closing');
        this.closeNow(out, { kind: 'stop-reply-timeout' });
        break;
      case 'idle':
        if (this.current === 'established' && this.calls.size === 0) {
          this.stopWith(out, PptpStopReason.None, { kind: 'idle-timeout' });
        }
        break;
      default: {
        const callId = Number(id.slice('call-'.length));
        const call = this.calls.get(callId);
        if (call?.timeout()) {
          // §3.2.1: "the integrity of the protocol processing between the peers is suspect and the ENTIRE CONTROL CONNECTION should be closed and restarted."
          if (this.current === 'established') {
            this.stopWith(out, PptpStopReason.None, { kind: 'call-timeout', callId });
          } else {
            this.closeNow(out, { kind: 'call-timeout', callId });
          }
        }
      }
    }
    return out.actions;
  }

  /**
   * The TCP connection closed under us (the peer closed it, or it failed)
   * without a Stop exchange: every call is cleared and the engine ends.
   */
  transportClosed(): PptpControlAction[] {
    if (this.current === 'closed') return [];
    const out = actionSink(this.running, this.log);
    // A peer may answer our StopCCRQ by just closing TCP: the stop is complete all the same.
    const reason: PptpCloseReason = this.silent
      ? { kind: 'collision' }
      : this.current === 'wait_stop_reply' && this.stopCause
        ? this.stopCause
        : { kind: 'transport-closed' };
    this.closeNow(out, reason);
    return out.actions;
  }

  /**
   * Local terminate. Established: "the originator MUST send a
   * Stop-Control-Connection-Request and enter the wait_stop_reply state"
   * (§3.1.1, and the same for a receiver, §3.1.2); calls are implicitly
   * cleared. Before that, there is nothing to stop: TCP is closed.
   */
  stop(reason: PptpStopReason = PptpStopReason.None): PptpControlAction[] {
    const out = actionSink(this.running, this.log);
    switch (this.current) {
      case 'established':
        this.stopWith(out, reason, { kind: 'stopped', by: 'local', reason });
        break;
      case 'idle':
      case 'wait_ctl_reply':
        this.closeNow(out, { kind: 'local-close' });
        break;
      case 'wait_stop_reply':
      case 'closed':
        break;
      default:
        assertNever(this.current, 'control state');
    }
    return out.actions;
  }

  /**
   * §3.1.3, the loser's side: our SCCRQ on this connection collided with
   * the winner's, so "The loser will immediately close the TCP connection
   * it initiated, without sending any further PPTP control messages on it".
   */
  abortForCollision(): PptpControlAction[] {
    const out = actionSink(this.running, this.log);
    if (this.current === 'wait_ctl_reply') this.closeNow(out, { kind: 'collision' });
    return out.actions;
  }

  /**
   * PNS: place an outgoing call (§3.2.4.2) with a fresh random Call ID.
   * Throws when this is not an established PNS connection, or when the
   * call cap or the Call ID space is exhausted.
   */
  placeCall(opts: PptpOutgoingCallOptions = {}): { callId: number; actions: PptpControlAction[] } {
    return this.openCall('pns', 'outgoing', (call, out) => call.startOutgoing(out, opts));
  }

  /**
   * PAC: announce an incoming call (§3.2.3.1, "Ring/Send Incoming Call
   * Request"). A VPN server never has one; this exists for completeness
   * and for tests. Throws like {@link placeCall}.
   */
  ringIncomingCall(opts: PptpIncomingCallOptions = {}): { callId: number; actions: PptpControlAction[] } {
    return this.openCall('pac', 'incoming', (call, out) => call.startIncoming(out, opts));
  }

  /** Opens a call of ours: `start` sends its first message; then what that changes on the connection. */
  private openCall(
    role: PptpRole,
    direction: 'outgoing' | 'incoming',
    start: (call: PptpCall, out: PptpActionSink) => void,
  ): { callId: number; actions: PptpControlAction[] } {
    const call = this.newLocalCall(role, direction);
    const out = actionSink(this.running, this.log);
    start(call, out);
    this.afterCallChange(out);
    return { callId: call.callId, actions: out.actions };
  }

  /**
   * Clear call `callId` (our Call ID): a PNS sends Call-Clear-Request and
   * waits for the Call-Disconnect-Notify; a PAC sends Call-Disconnect-Notify
   * with `resultCode` (default Admin Shutdown). Unknown ids are ignored.
   */
  clearCall(callId: number, resultCode?: number): PptpControlAction[] {
    const out = actionSink(this.running, this.log);
    const call = this.calls.get(callId);
    if (!call || this.current !== 'established') return out.actions;
    call.clear(out, resultCode);
    this.afterCallChange(out);
    return out.actions;
  }

  /**
   * PNS: send Set-Link-Info for an established call (§2.15), e.g. the ACCMs
   * LCP negotiated. Throws when the call is not established.
   */
  sendSetLinkInfo(callId: number, sendAccm = 0xffffffff, receiveAccm = 0xffffffff): PptpControlAction[] {
    const call = this.calls.get(callId);
    if (this.role !== 'pns' || call?.state !== 'established' || call.peerCallId === undefined) {
      throw new Error(`Set-Link-Info: call ${callId} is not an established call of this PNS`);
    }
    const out = actionSink(this.running, this.log);
    out.push({
      kind: 'send',
      message: { type: PptpMessageType.SetLinkInfo, peerCallId: call.peerCallId, sendAccm, receiveAccm },
    });
    return out.actions;
  }

  // ---------------------------------------------------------------------------
  // Dispatch: (state, message type), smoltcp style.
  // ---------------------------------------------------------------------------

  private handle(out: ControlSink, m: PptpMessage, now: number): void {
    this.keepalive.heard(now);
    if (this.log.enabled('debug')) this.log.log('debug', `recv ${stringifyPptpMessage(m)}`);
    if (this.silent) {
      // §3.1.3: "The winner MUST NOT send any messages on the connection the loser initiated."
      this.log.log('debug', `${pptpMessageName(m.type)} ignored on the collision loser's connection`);
      return;
    }
    try {
      switch (this.current) {
        case 'idle':
          this.inIdle(out, m, now);
          return;
        case 'wait_ctl_reply':
          this.inWaitCtlReply(out, m, now);
          return;
        case 'established':
          this.inEstablished(out, m);
          return;
        case 'wait_stop_reply':
          this.inWaitStopReply(out, m);
          return;
        case 'closed':
          return;
        default:
          assertNever(this.current, 'control state');
      }
    } catch (e) {
      if (!(e instanceof PptpProtocolError)) throw e;
      this.fail(out, e);
    }
  }

  /** Receiver waiting for SCCRQ (§3.1.2 idle). */
  private inIdle(out: ControlSink, m: PptpMessage, now: number): void {
    if (m.type === PptpMessageType.StartControlConnectionRequest && !this.originator) {
      this.onStartRequest(out, m, now);
      return;
    }
    this.notConnected(out, m);
  }

  /** Originator waiting for SCCRP (§3.1.1 wait_ctl_reply). */
  private inWaitCtlReply(out: ControlSink, m: PptpMessage, now: number): void {
    if (m.type !== PptpMessageType.StartControlConnectionReply) {
      this.notConnected(out, m);
      return;
    }
    const verdict = this.start.judgeReply(m, this.log);
    switch (verdict.kind) {
      case 'refused':
        this.closeNow(out, {
          kind: 'start-refused',
          resultCode: verdict.resultCode,
          errorCode: verdict.errorCode,
        });
        return;
      case 'version':
        this.stopWith(out, PptpStopReason.StopProtocol, { kind: 'protocol-error', error: verdict.error });
        return;
      case 'accept':
        break;
      default:
        assertNever(verdict, 'SCCRP verdict');
    }
    this.becomeEstablished(out, m, now, 'received SCCRP');
  }

  private onStartRequest(out: ControlSink, m: PptpStartControlConnectionRequest, now: number): void {
    const verdict = this.start.judgeRequest(m, this.log);
    switch (verdict.kind) {
      case 'silent':
        this.silent = true;
        return;
      case 'reject':
        this.sendStartReply(out, verdict.resultCode, verdict.errorCode);
        this.closeNow(out, { ...verdict, kind: 'start-rejected' });
        return;
      case 'accept':
        break;
      default:
        assertNever(verdict, 'SCCRQ verdict');
    }
    this.sendStartReply(out, PptpStartResult.Success, 0);
    this.becomeEstablished(out, m, now, 'received SCCRQ, sent SCCRP');
  }

  private inEstablished(out: ControlSink, m: PptpMessage): void {
    switch (m.type) {
      case PptpMessageType.StartControlConnectionRequest:
        // One control connection per pair; this one exists (SCCRP Result Code 3).
        this.sendStartReply(out, PptpStartResult.ChannelExists, 0);
        return;
      case PptpMessageType.StartControlConnectionReply:
        throw this.unexpected(m, 'SCCRP on an established connection');
      case PptpMessageType.StopControlConnectionRequest:
        // "If the originator receives a Stop-Control-Connection-Request it SHOULD send a Stop-Control-Connection-Reply and close the TCP connection" (§3.1.1; §3.1.2 likewise).
        out.push({ kind: 'send', message: STOP_REPLY_OK });
        this.closeNow(out, { kind: 'stopped', by: 'peer', reason: m.reason });
        return;
      case PptpMessageType.StopControlConnectionReply:
        this.log.log('debug', 'StopCCRP without a StopCCRQ ignored');
        return;
      case PptpMessageType.EchoRequest:
        // "The receiving peer issues an Echo-Reply to each Echo-Request received" (§2.5).
        out.push({ kind: 'send', message: echoReply(m.identifier, PptpEchoResult.Ok, 0) });
        return;
      case PptpMessageType.EchoReply:
        this.keepalive.onReply(out, m.identifier, m.resultCode);
        return;
      default:
        this.receiveCallMessage(out, m);
    }
  }

  /** A call message on the established connection: to the call table, which may create or drive a call. */
  private receiveCallMessage(out: ControlSink, m: PptpCallMessage): void {
    if (this.calls.receive(out, m, this.role)) this.afterCallChange(out);
  }

  /** §3.1.1/§3.1.2 wait_stop_reply. */
  private inWaitStopReply(out: ControlSink, m: PptpMessage): void {
    switch (m.type) {
      case PptpMessageType.StopControlConnectionReply:
        // "If a Stop-Control-Connection-Reply is received, the TCP connection SHOULD be closed and the control connection becomes idle."
        this.closeNow(out, this.stopCause ?? { kind: 'stopped', by: 'local', reason: PptpStopReason.None });
        return;
      case PptpMessageType.StopControlConnectionRequest:
        // Both sides stopped at once: answer, and we are done too.
        out.push({ kind: 'send', message: STOP_REPLY_OK });
        this.closeNow(out, this.stopCause ?? { kind: 'stopped', by: 'peer', reason: m.reason });
        return;
      case PptpMessageType.EchoRequest:
        out.push({ kind: 'send', message: echoReply(m.identifier, PptpEchoResult.Ok, 0) });
        return;
      default:
        // Calls were implicitly cleared by our StopCCRQ; whatever crossed it is moot.
        this.log.log('debug', `${pptpMessageName(m.type)} ignored while stopping`);
    }
  }

  /**
   * A message other than SCCRQ/SCCRP before the connection is established.
   * Requests get their reply with General Error 1, "(Not-Connected) - No
   * control connection exists yet for this PAC-PNS pair" (§2.16); then the
   * connection is closed like any invalid input (§3).
   */
  private notConnected(out: ControlSink, m: PptpMessage): void {
    const NC = PptpGeneralError.NotConnected;
    switch (m.type) {
      case PptpMessageType.EchoRequest:
        out.push({ kind: 'send', message: echoReply(m.identifier, PptpEchoResult.GeneralError, NC) });
        break;
      case PptpMessageType.OutgoingCallRequest:
      case PptpMessageType.IncomingCallRequest:
        out.push({ kind: 'send', message: this.calls.refuseNotConnected(m) });
        break;
      case PptpMessageType.StopControlConnectionRequest:
        out.push({ kind: 'send', message: STOP_REPLY_OK });
        this.closeNow(out, { kind: 'stopped', by: 'peer', reason: m.reason });
        return;
      default:
        break;
    }
    throw new PptpProtocolError(
      NC,
      `${pptpMessageName(m.type)} before the control connection was established (state ${this.current})`,
      NOT_CONNECTED_REFERENCE,
      PptpStopReason.None,
      m.type,
    );
  }

  // ---------------------------------------------------------------------------
  // Calls.
  // ---------------------------------------------------------------------------

  private newLocalCall(role: PptpRole, direction: 'outgoing' | 'incoming'): PptpCall {
    if (this.role !== role) throw new Error(`only a ${role.toUpperCase()} can start a ${direction} call`);
    if (this.current !== 'established')
      throw new Error(`control connection is ${this.current}, not established`);
    return this.calls.openLocal(direction);
  }

  /** Forgets finished calls (quarantining their ids) and keeps the idle timer right. */
  private afterCallChange(out: ControlSink): void {
    this.calls.forgetFinishedCalls();
    if (this.current !== 'established' || this.timerValues.idleTimeoutMs <= 0) return;
    if (this.calls.size === 0 && !this.running.has('idle')) {
      out.push({ kind: 'startTimer', id: 'idle', ms: this.timerValues.idleTimeoutMs });
    } else if (this.calls.size > 0) {
      out.push({ kind: 'stopTimer', id: 'idle' });
    }
  }

  // ---------------------------------------------------------------------------
  // Connection life.
  // ---------------------------------------------------------------------------

  private becomeEstablished(
    out: ControlSink,
    m: { readonly protocolVersion: number } & Omit<PptpPeerInfo, 'protocolVersion'>,
    now: number,
    why: string,
  ): void {
    this.peer = {
      protocolVersion: m.protocolVersion,
      framingCapabilities: m.framingCapabilities,
      bearerCapabilities: m.bearerCapabilities,
      maximumChannels: m.maximumChannels,
      firmwareRevision: m.firmwareRevision,
      hostName: m.hostName,
      vendorString: m.vendorString,
    };
    this.setState('established', why);
    this.keepalive.heard(now);
    out.push({ kind: 'stopTimer', id: 'handshake' });
    this.keepalive.start(out);
    out.push({ kind: 'established', peer: this.peer });
    this.afterCallChange(out);
  }

  /** Established → wait_stop_reply: calls cleared, StopCCRQ sent, stop-reply timer. */
  private stopWith(out: ControlSink, reason: PptpStopReason, cause: PptpCloseReason): void {
    this.stopCause = cause;
    this.calls.closeAll(out, false);
    stopAllTimers(out, this.running);
    out.push({ kind: 'send', message: { type: PptpMessageType.StopControlConnectionRequest, reason } });
    this.setState('wait_stop_reply', `sent StopCCRQ reason ${reason}`);
    out.push({ kind: 'startTimer', id: 'stop-reply', ms: this.timerValues.stopReplyTimeoutMs });
  }

  /** Any state → closed: calls cleared, every timer stopped, TCP closed. */
  private closeNow(out: ControlSink, reason: PptpCloseReason): void {
    if (this.current === 'closed') return;
    this.calls.closeAll(out, true);
    stopAllTimers(out, this.running);
    this.setState('closed', reason.kind);
    this.log.log(
      reason.kind === 'protocol-error' ? 'warn' : 'info',
      `control connection closed: ${reason.kind}`,
    );
    out.push({ kind: 'close', reason });
  }

  private fail(out: ControlSink, error: PptpProtocolError): void {
    this.log.log('warn', `protocol error: ${error.message}`);
    if (this.current === 'established') {
      this.stopWith(out, error.stopReason, { kind: 'protocol-error', error });
    } else {
      this.closeNow(out, { kind: 'protocol-error', error });
    }
  }

  private unexpected(m: PptpMessage, why: string): PptpProtocolError {
    return new PptpProtocolError(PptpGeneralError.BadValue, why, undefined, PptpStopReason.None, m.type);
  }

  private sendStartReply(out: ControlSink, resultCode: number, errorCode: number): void {
    out.push({ kind: 'send', message: this.start.reply(resultCode, errorCode) });
  }

  /** Every transition goes through here and is logged old→new (docs/style.md §4). */
  private setState(next: PptpControlState, why: string): void {
    const fields: LogFields = { role: this.role, calls: this.calls.size };
    this.log.log('debug', `${this.current} → ${next} (${why})`, fields);
    this.current = next;
  }
}

/** Stop-Control-Connection-Reply, General Error none (§2.4): every StopCCRQ is granted. */
const STOP_REPLY_OK: PptpMessage = Object.freeze({
  type: PptpMessageType.StopControlConnectionReply,
  resultCode: PptpStopResult.Ok,
  errorCode: 0,
});

function echoReply(identifier: number, resultCode: number, errorCode: number): PptpMessage {
  return { type: PptpMessageType.EchoReply, identifier, resultCode, errorCode };
}
