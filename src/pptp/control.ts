/**
 * The PPTP control connection (RFC 2637 §3.1), sans-IO, for both roles:
 * {@link PptpControlConnection} (state diagram in its doc comment) and the
 * collision rule of §3.1.3 ({@link pptpCollisionWinner}).
 */

import { randomInt as cryptoRandomInt } from 'node:crypto';
import { assertNever } from '../wire/bytes.js';
import type { LogFields, Logger } from '../wire/log.js';
import { nullLogger } from '../wire/log.js';
import {
  PPTP_HOST_NAME_LENGTH,
  PPTP_PROTOCOL_VERSION,
  PPTP_VENDOR_STRING_LENGTH,
  PptpEchoResult,
  PptpFramer,
  PptpFramingError,
  PptpGeneralError,
  type PptpIncomingCallRequest,
  PptpIncomingCallResult,
  type PptpMessage,
  PptpMessageType,
  type PptpOutgoingCallRequest,
  PptpOutgoingCallResult,
  type PptpStartControlConnectionRequest,
  PptpStartResult,
  PptpStopReason,
  PptpStopResult,
  pptpMessageName,
  stringifyPptpMessage,
  toPptpString,
} from '../wire/pptp/index.js';
import {
  PptpCall,
  type PptpCallContext,
  type PptpCallState,
  type PptpIncomingCallOptions,
  type PptpOutgoingCallOptions,
} from './call.js';
import { PptpProtocolError } from './control-error.js';
import {
  PPTP_DEFAULT_LIMITS,
  PPTP_DEFAULT_TIMERS,
  type PptpActionSink,
  type PptpAdmission,
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

/**
 * §3.1.3: "The 'winner' of the initiation race is the peer with the higher
 * IP address (compared as 32 bit unsigned values, network number more
 * significant)." Addresses as unsigned 32-bit numbers (`parseIpv4`).
 */
export function pptpCollisionWinner(localAddress: number, peerAddress: number): 'local' | 'peer' {
  return localAddress >>> 0 > peerAddress >>> 0 ? 'local' : 'peer';
}

/** Calls are numbered 1..65535 here; 0 is legal on the wire (Windows uses it) but never handed out. */
const CALL_ID_SPACE = 0xffff;
/** Random draws before falling back to a scan for a free Call ID. */
const CALL_ID_DRAWS = 64;

const VERSION_REFERENCE =
  'RFC 2637 §3.1.2: "If the version is earlier than the receiver\'s version and the version cannot be supported, the receiver SHOULD send a Start-Connection-Reply message, close the TCP connection"';
const NOT_CONNECTED_REFERENCE =
  'RFC 2637 §2.1: "A control connection must be established before any other PPTP messages can be issued"';

/** Merged settings by the caller's (read-only) partial object: a server's connections share one. */
const merged = new WeakMap<object, object>();

/** `{...defaults, ...partial}`, made once per `partial` object. */
function mergedWithDefaults<T extends object>(partial: Partial<T> | undefined, defaults: T): T {
  if (!partial) return defaults;
  let m = merged.get(partial) as T | undefined;
  if (!m) {
    m = { ...defaults, ...partial };
    merged.set(partial, m);
  }
  return m;
}

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
 * 60 s. "Received" is measured with the `now` given to `receive`, so the
 * echo timer is started once and re-armed only when it fires.
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
  private readonly calls = new Map<number, PptpCall>();
  private readonly running = new Set<PptpTimerId>();
  private readonly quarantine: number[] = [];
  private lastReceivedAt = 0;
  private clock = 0;
  private echoOutstanding: number | undefined;
  private echoNext: number;
  private serialNext: number;
  private stopCause: PptpCloseReason | undefined;
  /** §3.1.3 winner, on the connection the loser opened: send nothing, wait for TCP close. */
  private silent = false;
  private readonly hostName: string;
  private readonly vendorString: string;
  /** What the peer said in its SCCRQ/SCCRP, once established. */
  peer: PptpPeerInfo | undefined;

  constructor(private readonly config: PptpControlConfig) {
    this.role = config.role;
    this.originator = config.originator ?? config.role === 'pns';
    this.timerValues = mergedWithDefaults(config.timers, PPTP_DEFAULT_TIMERS);
    this.limits = mergedWithDefaults(config.limits, PPTP_DEFAULT_LIMITS);
    this.log = config.log ?? nullLogger;
    this.randomInt = config.randomInt ?? cryptoRandomInt;
    this.hostName = toPptpString(config.hostName ?? '', PPTP_HOST_NAME_LENGTH);
    this.vendorString = toPptpString(config.vendorString ?? 'pptp-ts', PPTP_VENDOR_STRING_LENGTH);
    // A bound method, not an arrow in the options (which would carry a name dictionary per connection).
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
    this.echoNext = this.randomInt(0x100000000);
    this.serialNext = this.randomInt(0x10000);
  }

  get state(): PptpControlState {
    return this.current;
  }

  /** The framer skipped a well-framed message of an undefined type. */
  private onUnknownMessage(h: { pptpMessageType: number; controlMessageType: number; length: number }): void {
    // Still a control message: proof of life for the keep-alive.
    this.lastReceivedAt = this.clock;
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
    return [...this.calls.keys()];
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
    return [...this.running];
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
    this.lastReceivedAt = now;
    const out = this.sink();
    if (this.current === 'closed') return out.actions;
    if (this.originator) {
      out.push({
        kind: 'send',
        message: {
          type: PptpMessageType.StartControlConnectionRequest,
          protocolVersion: PPTP_PROTOCOL_VERSION,
          ...this.capabilities(),
        },
      });
      this.setState('wait_ctl_reply', 'TCP open, sent SCCRQ');
    }
    out.push({ kind: 'startTimer', id: 'handshake', ms: this.timerValues.handshakeTimeoutMs });
    return out.actions;
  }

  /** Bytes read from the TCP connection, in order. */
  receiveData(chunk: Uint8Array, now: number): PptpControlAction[] {
    if (this.current === 'closed') return [];
    this.clock = now;
    const out = this.sink();
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
    const out = this.sink();
    this.handle(out, m, now);
    return out.actions;
  }

  /** Timer `id` fired. Stale ids (stopped or restarted since) are ignored. */
  timeout(id: PptpTimerId, now: number): PptpControlAction[] {
    if (this.current === 'closed' || !this.running.has(id)) return [];
    this.running.delete(id);
    this.clock = now;
    const out = this.sink();
    switch (id) {
      case 'handshake':
        if (this.current === 'idle' || this.current === 'wait_ctl_reply') {
          this.log.log('warn', `no ${this.originator ? 'SCCRP' : 'SCCRQ'} in time`);
          this.closeNow(out, { kind: 'handshake-timeout' });
        }
        break;
      case 'echo':
        this.onEchoTimer(out, now);
        break;
      case 'echo-reply':
        this.log.log('warn', 'no Echo-Reply: closing', { identifier: this.echoOutstanding });
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
    const out = this.sink();
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
    const out = this.sink();
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
    const out = this.sink();
    if (this.current === 'wait_ctl_reply') this.closeNow(out, { kind: 'collision' });
    return out.actions;
  }

  /**
   * PNS: place an outgoing call (§3.2.4.2) with a fresh random Call ID.
   * Throws when this is not an established PNS connection, or when the
   * call cap or the Call ID space is exhausted.
   */
  placeCall(opts: PptpOutgoingCallOptions = {}): { callId: number; actions: PptpControlAction[] } {
    const call = this.newLocalCall('pns', 'outgoing');
    const out = this.sink();
    call.startOutgoing(out, opts);
    this.afterCallChange(out);
    return { callId: call.callId, actions: out.actions };
  }

  /**
   * PAC: announce an incoming call (§3.2.3.1, "Ring/Send Incoming Call
   * Request"). A VPN server never has one; this exists for completeness
   * and for tests. Throws like {@link placeCall}.
   */
  ringIncomingCall(opts: PptpIncomingCallOptions = {}): { callId: number; actions: PptpControlAction[] } {
    const call = this.newLocalCall('pac', 'incoming');
    const out = this.sink();
    call.startIncoming(out, opts);
    this.afterCallChange(out);
    return { callId: call.callId, actions: out.actions };
  }

  /**
   * Clear call `callId` (our Call ID): a PNS sends Call-Clear-Request and
   * waits for the Call-Disconnect-Notify; a PAC sends Call-Disconnect-Notify
   * with `resultCode` (default Admin Shutdown). Unknown ids are ignored.
   */
  clearCall(callId: number, resultCode?: number): PptpControlAction[] {
    const out = this.sink();
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
    const out = this.sink();
    out.push({
      kind: 'send',
      message: { type: PptpMessageType.SetLinkInfo, peerCallId: call.peerCallId, sendAccm, receiveAccm },
    });
    return out.actions;
  }

  // ---------------------------------------------------------------------------
  // Dispatch: (state, message type), smoltcp style.
  // ---------------------------------------------------------------------------

  private handle(out: Sink, m: PptpMessage, now: number): void {
    this.lastReceivedAt = now;
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
  private inIdle(out: Sink, m: PptpMessage, now: number): void {
    if (m.type === PptpMessageType.StartControlConnectionRequest && !this.originator) {
      this.onStartRequest(out, m, now);
      return;
    }
    this.notConnected(out, m);
  }

  /** Originator waiting for SCCRP (§3.1.1 wait_ctl_reply). */
  private inWaitCtlReply(out: Sink, m: PptpMessage, now: number): void {
    if (m.type !== PptpMessageType.StartControlConnectionReply) {
      this.notConnected(out, m);
      return;
    }
    if (m.resultCode !== PptpStartResult.Success) {
      this.log.log('warn', 'peer refused the control connection', {
        resultCode: m.resultCode,
        errorCode: m.errorCode,
      });
      this.closeNow(out, { kind: 'start-refused', resultCode: m.resultCode, errorCode: m.errorCode });
      return;
    }
    if (m.protocolVersion !== PPTP_PROTOCOL_VERSION) {
      // §3.1.1: "If the version is earlier and not supported, a Stop-Control-Connection-Request SHOULD be sent to the peer and the originator moves into the wait_stop_reply state." We speak 1.0 only.
      const error = new PptpProtocolError(
        PptpGeneralError.BadValue,
        `SCCRP protocol version 0x${m.protocolVersion.toString(16)}, we speak 0x0100 only`,
        'RFC 2637 §3.1.1: "If the version is earlier and not supported, a Stop-Control-Connection-Request SHOULD be sent to the peer"',
        PptpStopReason.StopProtocol,
        m.type,
      );
      this.log.log('warn', error.message);
      this.stopWith(out, PptpStopReason.StopProtocol, { kind: 'protocol-error', error });
      return;
    }
    this.becomeEstablished(out, m, now, 'received SCCRP');
  }

  private onStartRequest(out: Sink, m: PptpStartControlConnectionRequest, now: number): void {
    const collision = this.config.collisionCheck?.() ?? 'none';
    if (collision === 'win') {
      // §3.1.3: the winner "will wait for the Start-Control-Connection-Reply on the connection it initiated and also wait for a TCP termination indication on the connection the loser opened."
      this.silent = true;
      this.log.log('info', 'SCCRQ collision won: waiting for the loser to close its connection');
      return;
    }
    if (m.protocolVersion < PPTP_PROTOCOL_VERSION) {
      this.log.log('warn', `peer protocol version 0x${m.protocolVersion.toString(16)} not supported`, {
        reference: VERSION_REFERENCE,
      });
      this.sendStartReply(out, PptpStartResult.UnsupportedVersion, 0);
      this.closeNow(out, {
        kind: 'start-rejected',
        resultCode: PptpStartResult.UnsupportedVersion,
        errorCode: 0,
        detail: `protocol version 0x${m.protocolVersion.toString(16)}; ${VERSION_REFERENCE}`,
      });
      return;
    }
    // A later version is answered with ours: "If the receiver's version is the same as earlier than the peer's, the receiver SHOULD send a Start-Control-Connection-Reply with the receiver's version" (§3.1.2).
    const admission: PptpAdmission = this.config.admitConnection?.(m) ?? { accept: true };
    if (!admission.accept) {
      this.log.log('info', 'SCCRQ refused by policy', { resultCode: admission.resultCode });
      this.sendStartReply(out, admission.resultCode, admission.errorCode ?? 0);
      this.closeNow(out, {
        kind: 'start-rejected',
        resultCode: admission.resultCode,
        errorCode: admission.errorCode ?? 0,
        detail: 'refused by admitConnection',
      });
      return;
    }
    this.sendStartReply(out, PptpStartResult.Success, 0);
    this.becomeEstablished(out, m, now, 'received SCCRQ, sent SCCRP');
  }

  private inEstablished(out: Sink, m: PptpMessage): void {
    switch (m.type) {
      case PptpMessageType.StartControlConnectionRequest:
        // One control connection per pair; this one exists (SCCRP Result Code 3).
        this.sendStartReply(out, PptpStartResult.ChannelExists, 0);
        return;
      case PptpMessageType.StartControlConnectionReply:
        throw this.unexpected(m, 'SCCRP on an established connection');
      case PptpMessageType.StopControlConnectionRequest:
        // "If the originator receives a Stop-Control-Connection-Request it SHOULD send a Stop-Control-Connection-Reply and close the TCP connection" (§3.1.1; §3.1.2 likewise).
        out.push({
          kind: 'send',
          message: {
            type: PptpMessageType.StopControlConnectionReply,
            resultCode: PptpStopResult.Ok,
            errorCode: 0,
          },
        });
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
        this.onEchoReply(out, m.identifier, m.resultCode);
        return;
      case PptpMessageType.OutgoingCallRequest:
        if (this.role !== 'pac') throw this.unexpected(m, 'OCRQ is sent by the PNS to the PAC (§2.7)');
        this.onOutgoingCallRequest(out, m);
        return;
      case PptpMessageType.OutgoingCallReply:
        if (this.role !== 'pns') throw this.unexpected(m, 'OCRP is sent by the PAC to the PNS (§2.8)');
        this.toCall(out, m, this.calls.get(m.peerCallId));
        return;
      case PptpMessageType.IncomingCallRequest:
        if (this.role !== 'pns') throw this.unexpected(m, 'ICRQ is sent by the PAC to the PNS (§2.9)');
        this.onIncomingCallRequest(out, m);
        return;
      case PptpMessageType.IncomingCallReply:
        if (this.role !== 'pac') throw this.unexpected(m, 'ICRP is sent by the PNS to the PAC (§2.10)');
        this.toCall(out, m, this.calls.get(m.peerCallId));
        return;
      case PptpMessageType.IncomingCallConnected:
        if (this.role !== 'pns') throw this.unexpected(m, 'ICCN is sent by the PAC to the PNS (§2.11)');
        this.toCall(out, m, this.calls.get(m.peerCallId));
        return;
      case PptpMessageType.CallClearRequest:
        if (this.role !== 'pac') throw this.unexpected(m, 'CCRQ is sent by the PNS to the PAC (§2.12)');
        this.toCall(out, m, this.byPeerCallId(m.callId));
        return;
      case PptpMessageType.CallDisconnectNotify:
        // Its Call ID is the sender's own (§2.13). From a PNS this is not in the RFC; taken as a hang-up.
        this.toCall(out, m, this.byPeerCallId(m.callId));
        return;
      case PptpMessageType.WanErrorNotify: {
        const call = this.calls.get(m.peerCallId);
        if (!call) {
          this.noSuchCall(m, m.peerCallId);
          return;
        }
        const { type: _t, peerCallId: _p, ...counters } = m;
        out.push({ kind: 'wanError', callId: call.callId, ...counters });
        return;
      }
      case PptpMessageType.SetLinkInfo: {
        // "Peer's Call ID: The value of the Call ID assigned by the PAC to this call": ours at a PAC.
        // Accepted at a PNS too (some PACs send one), where it names our call the same way.
        const call = this.calls.get(m.peerCallId) ?? this.byPeerCallId(m.peerCallId);
        if (!call) {
          this.noSuchCall(m, m.peerCallId);
          return;
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
        return;
      }
      default:
        assertNever(m, 'PPTP message');
    }
  }

  /** §3.1.1/§3.1.2 wait_stop_reply. */
  private inWaitStopReply(out: Sink, m: PptpMessage): void {
    switch (m.type) {
      case PptpMessageType.StopControlConnectionReply:
        // "If a Stop-Control-Connection-Reply is received, the TCP connection SHOULD be closed and the control connection becomes idle."
        this.closeNow(out, this.stopCause ?? { kind: 'stopped', by: 'local', reason: PptpStopReason.None });
        return;
      case PptpMessageType.StopControlConnectionRequest:
        // Both sides stopped at once: answer, and we are done too.
        out.push({
          kind: 'send',
          message: {
            type: PptpMessageType.StopControlConnectionReply,
            resultCode: PptpStopResult.Ok,
            errorCode: 0,
          },
        });
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
  private notConnected(out: Sink, m: PptpMessage): void {
    const NC = PptpGeneralError.NotConnected;
    switch (m.type) {
      case PptpMessageType.EchoRequest:
        out.push({ kind: 'send', message: echoReply(m.identifier, PptpEchoResult.GeneralError, NC) });
        break;
      case PptpMessageType.OutgoingCallRequest:
        out.push({
          kind: 'send',
          message: this.outgoingCallRefusal(m, PptpOutgoingCallResult.GeneralError, NC),
        });
        break;
      case PptpMessageType.IncomingCallRequest:
        out.push({
          kind: 'send',
          message: this.incomingCallRefusal(m, PptpIncomingCallResult.GeneralError, NC),
        });
        break;
      case PptpMessageType.StopControlConnectionRequest:
        out.push({
          kind: 'send',
          message: {
            type: PptpMessageType.StopControlConnectionReply,
            resultCode: PptpStopResult.Ok,
            errorCode: 0,
          },
        });
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

  /** PAC: an Outgoing-Call-Request (§3.2.4.1 idle). */
  private onOutgoingCallRequest(out: Sink, m: PptpOutgoingCallRequest): void {
    // "If this is received in error, respond with an Outgoing-Call-Reply with error condition set."
    const G = PptpOutgoingCallResult.GeneralError;
    if (this.byPeerCallId(m.callId)) {
      // §3.2.2: "This Call ID value MUST be unique for the tunnel between the PNS and PAC to which it belongs."
      this.log.log('warn', `OCRQ reuses the live Call ID ${m.callId}`);
      out.push({ kind: 'send', message: this.outgoingCallRefusal(m, G, PptpGeneralError.BadCallId) });
      return;
    }
    if (this.calls.size >= this.limits.maxCalls) {
      this.log.log('warn', `OCRQ refused: ${this.calls.size} calls is the limit`);
      out.push({ kind: 'send', message: this.outgoingCallRefusal(m, G, PptpGeneralError.NoResource) });
      return;
    }
    const admission = this.config.admitOutgoingCall?.(m) ?? { accept: true };
    if (!admission.accept) {
      this.log.log('info', 'OCRQ refused by policy', { resultCode: admission.resultCode });
      out.push({
        kind: 'send',
        message: this.outgoingCallRefusal(m, admission.resultCode, admission.errorCode ?? 0),
      });
      return;
    }
    const callId = this.allocateCallId();
    if (callId === undefined) {
      out.push({ kind: 'send', message: this.outgoingCallRefusal(m, G, PptpGeneralError.NoResource) });
      return;
    }
    const call = new PptpCall(this.callCtx, 'outgoing', callId, m.callSerialNumber);
    this.calls.set(callId, call);
    call.answerOutgoing(out, m);
    this.afterCallChange(out);
  }

  /** PNS: an Incoming-Call-Request (§3.2.3.2 idle). */
  private onIncomingCallRequest(out: Sink, m: PptpIncomingCallRequest): void {
    const G = PptpIncomingCallResult.GeneralError;
    if (this.byPeerCallId(m.callId)) {
      out.push({ kind: 'send', message: this.incomingCallRefusal(m, G, PptpGeneralError.BadCallId) });
      return;
    }
    if (this.calls.size >= this.limits.maxCalls) {
      out.push({ kind: 'send', message: this.incomingCallRefusal(m, G, PptpGeneralError.NoResource) });
      return;
    }
    // By default a PNS of this stack does not take incoming calls: "If the request is not acceptable, an Incoming-Call-Reply is sent back to the PAC and the PNS remains in the idle state."
    const admission = this.config.admitIncomingCall?.(m) ?? {
      accept: false,
      resultCode: PptpIncomingCallResult.DoNotAccept,
    };
    if (!admission.accept) {
      this.log.log('info', 'ICRQ refused', { resultCode: admission.resultCode });
      out.push({
        kind: 'send',
        message: this.incomingCallRefusal(m, admission.resultCode, admission.errorCode ?? 0),
      });
      return;
    }
    const callId = this.allocateCallId();
    if (callId === undefined) {
      out.push({ kind: 'send', message: this.incomingCallRefusal(m, G, PptpGeneralError.NoResource) });
      return;
    }
    const call = new PptpCall(this.callCtx, 'incoming', callId, m.callSerialNumber);
    this.calls.set(callId, call);
    call.acceptIncoming(out, m);
    this.afterCallChange(out);
  }

  private toCall(out: Sink, m: PptpMessage, call: PptpCall | undefined): void {
    if (!call) {
      this.noSuchCall(m, 'callId' in m ? m.callId : (m as { peerCallId: number }).peerCallId);
      return;
    }
    call.receive(out, m);
    this.afterCallChange(out);
  }

  private noSuchCall(m: PptpMessage, id: number): void {
    // Likely crossed in flight with a clear: log and drop (§3.2.2 "Bad-Call ID" is not worth ending every other call).
    this.log.log('info', `${pptpMessageName(m.type)} for Call ID ${id}, which is not live: ignored`);
  }

  private newLocalCall(role: PptpRole, direction: 'outgoing' | 'incoming'): PptpCall {
    if (this.role !== role) throw new Error(`only a ${role.toUpperCase()} can start a ${direction} call`);
    if (this.current !== 'established')
      throw new Error(`control connection is ${this.current}, not established`);
    if (this.calls.size >= this.limits.maxCalls)
      throw new Error(`call limit ${this.limits.maxCalls} reached`);
    const callId = this.allocateCallId();
    if (callId === undefined) throw new Error('no free Call ID');
    const serial = this.serialNext;
    this.serialNext = (this.serialNext + 1) & 0xffff;
    const call = new PptpCall(this.callCtx, direction, callId, serial);
    this.calls.set(callId, call);
    return call;
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

  private forgetFinishedCalls(): void {
    for (const [id, call] of this.calls) {
      if (!call.finished) continue;
      this.calls.delete(id);
      this.quarantine.push(id);
      if (this.quarantine.length > this.limits.callIdQuarantine) this.quarantine.shift();
    }
  }

  private byPeerCallId(peerCallId: number): PptpCall | undefined {
    for (const c of this.calls.values()) if (c.peerCallId === peerCallId) return c;
    return undefined;
  }

  /** Forgets finished calls (quarantining their ids) and keeps the idle timer right. */
  private afterCallChange(out: Sink): void {
    this.forgetFinishedCalls();
    if (this.current !== 'established' || this.timerValues.idleTimeoutMs <= 0) return;
    if (this.calls.size === 0 && !this.running.has('idle')) {
      out.push({ kind: 'startTimer', id: 'idle', ms: this.timerValues.idleTimeoutMs });
    } else if (this.calls.size > 0) {
      out.push({ kind: 'stopTimer', id: 'idle' });
    }
  }

  private outgoingCallRefusal(
    m: PptpOutgoingCallRequest,
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
      packetRecvWindowSize: this.callCtx.packetRecvWindowSize,
      packetProcessingDelay: this.callCtx.packetProcessingDelay,
      physicalChannelId: 0,
    };
  }

  private incomingCallRefusal(
    m: PptpIncomingCallRequest,
    resultCode: number,
    errorCode: number,
  ): PptpMessage {
    return {
      type: PptpMessageType.IncomingCallReply,
      callId: 0,
      peerCallId: m.callId,
      resultCode,
      errorCode,
      packetRecvWindowSize: this.callCtx.packetRecvWindowSize,
      packetTransmitDelay: this.callCtx.packetProcessingDelay,
    };
  }

  // ---------------------------------------------------------------------------
  // Connection life.
  // ---------------------------------------------------------------------------

  private becomeEstablished(
    out: Sink,
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
    this.lastReceivedAt = now;
    out.push({ kind: 'stopTimer', id: 'handshake' });
    if (this.timerValues.echoIntervalMs > 0) {
      out.push({ kind: 'startTimer', id: 'echo', ms: this.timerValues.echoIntervalMs });
    }
    out.push({ kind: 'established', peer: this.peer });
    this.afterCallChange(out);
  }

  /**
   * §3.1.4 item 2, checked when the echo timer fires: silent for the whole
   * interval → Echo-Request; otherwise re-arm for the rest of the interval.
   */
  private onEchoTimer(out: Sink, now: number): void {
    if (this.current !== 'established') return;
    const silentMs = now - this.lastReceivedAt;
    const interval = this.timerValues.echoIntervalMs;
    if (silentMs < interval) {
      out.push({ kind: 'startTimer', id: 'echo', ms: interval - silentMs });
      return;
    }
    const identifier = this.echoNext;
    this.echoNext = (this.echoNext + 1) >>> 0;
    this.echoOutstanding = identifier;
    out.push({ kind: 'send', message: { type: PptpMessageType.EchoRequest, identifier } });
    out.push({ kind: 'startTimer', id: 'echo-reply', ms: this.timerValues.echoReplyTimeoutMs });
  }

  private onEchoReply(out: Sink, identifier: number, resultCode: number): void {
    if (this.echoOutstanding === undefined || identifier !== this.echoOutstanding) {
      this.log.log('debug', 'Echo-Reply that matches no Echo-Request ignored', { identifier });
      return;
    }
    if (resultCode !== PptpEchoResult.Ok) {
      this.log.log('info', 'Echo-Reply with an error result; the peer is alive all the same', { resultCode });
    }
    this.echoOutstanding = undefined;
    out.push({ kind: 'stopTimer', id: 'echo-reply' });
    out.push({ kind: 'startTimer', id: 'echo', ms: this.timerValues.echoIntervalMs });
  }

  /** Established → wait_stop_reply: calls cleared, StopCCRQ sent, stop-reply timer. */
  private stopWith(out: Sink, reason: PptpStopReason, cause: PptpCloseReason): void {
    this.stopCause = cause;
    for (const call of this.calls.values()) call.connectionClosed(out);
    this.forgetFinishedCalls();
    this.stopAllTimers(out);
    out.push({ kind: 'send', message: { type: PptpMessageType.StopControlConnectionRequest, reason } });
    this.setState('wait_stop_reply', `sent StopCCRQ reason ${reason}`);
    out.push({ kind: 'startTimer', id: 'stop-reply', ms: this.timerValues.stopReplyTimeoutMs });
  }

  /** Any state → closed: calls cleared, every timer stopped, TCP closed. */
  private closeNow(out: Sink, reason: PptpCloseReason): void {
    if (this.current === 'closed') return;
    for (const call of this.calls.values()) call.connectionClosed(out);
    this.forgetFinishedCalls();
    this.calls.clear();
    this.stopAllTimers(out);
    this.setState('closed', reason.kind);
    this.log.log(
      reason.kind === 'protocol-error' ? 'warn' : 'info',
      `control connection closed: ${reason.kind}`,
    );
    out.push({ kind: 'close', reason });
  }

  private fail(out: Sink, error: PptpProtocolError): void {
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

  private stopAllTimers(out: Sink): void {
    for (const id of [...this.running]) out.push({ kind: 'stopTimer', id });
  }

  private sendStartReply(out: Sink, resultCode: number, errorCode: number): void {
    out.push({
      kind: 'send',
      message: {
        type: PptpMessageType.StartControlConnectionReply,
        protocolVersion: PPTP_PROTOCOL_VERSION,
        resultCode,
        errorCode,
        ...this.capabilities(),
      },
    });
  }

  private capabilities() {
    return {
      framingCapabilities: this.config.framingCapabilities ?? 3,
      bearerCapabilities: this.config.bearerCapabilities ?? 3,
      maximumChannels: this.config.maximumChannels ?? (this.role === 'pac' ? this.limits.maxCalls : 0),
      firmwareRevision: this.config.firmwareRevision ?? 1,
      hostName: this.hostName,
      vendorString: this.vendorString,
    };
  }

  /** Every transition goes through here and is logged old→new (docs/style.md §4). */
  private setState(next: PptpControlState, why: string): void {
    const fields: LogFields = { role: this.role, calls: this.calls.size };
    this.log.log('debug', `${this.current} → ${next} (${why})`, fields);
    this.current = next;
  }

  /** An action list that keeps `running` in step with the timer actions pushed into it. */
  private sink(): Sink {
    const running = this.running;
    const log = this.log;
    const actions: PptpControlAction[] = [];
    return {
      actions,
      push(...as: PptpControlAction[]) {
        for (const a of as) {
          if (a.kind === 'startTimer') running.add(a.id);
          else if (a.kind === 'stopTimer') {
            if (!running.delete(a.id)) continue; // not running: nothing to stop
          } else if (a.kind === 'send' && log.enabled('debug')) {
            log.log('debug', `send ${stringifyPptpMessage(a.message)}`);
          }
          actions.push(a);
        }
      },
    };
  }
}

interface Sink extends PptpActionSink {
  readonly actions: PptpControlAction[];
}

function echoReply(identifier: number, resultCode: number, errorCode: number): PptpMessage {
  return { type: PptpMessageType.EchoReply, identifier, resultCode, errorCode };
}
