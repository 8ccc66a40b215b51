/**
 * Types shared by the control-connection engine (`control.ts`) and the call
 * engine (`call.ts`): roles, timer ids, the actions both return, the reasons
 * they report, configuration, and the default timers and resource caps.
 */

import type { Logger } from '../log/logger.js';
import {
  PPTP_MAX_MESSAGE_LENGTH,
  type PptpIncomingCallRequest,
  type PptpMessage,
  type PptpOutgoingCallRequest,
  type PptpStartControlConnectionRequest,
} from '../wire/pptp/index.js';
import type { PptpProtocolError } from './control-error.js';

/**
 * PPTP Network Server (the VPN client, which dials out with OCRQ) or PPTP
 * Access Concentrator (the VPN server, which answers calls). RFC 2637 §1.2.
 */
export type PptpRole = 'pns' | 'pac';

/** Whether a call was asked for by the PNS (OCRQ) or announced by the PAC (ICRQ). RFC 2637 §3.2. */
export type PptpCallDirection = 'outgoing' | 'incoming';

/**
 * Timer ids, named by intent (docs/style.md §4). The driver runs at most one
 * timer per id: `startTimer` for a running id restarts it.
 *  - `handshake`: SCCRQ/SCCRP not exchanged in time (RFC 2637 §3.1.4 item 1).
 *  - `echo`: time to check whether the peer has been silent (§3.1.4 item 2).
 *  - `echo-reply`: the Echo-Reply did not come (§3.1.4 item 2).
 *  - `stop-reply`: the Stop-Control-Connection-Reply did not come (§3).
 *  - `idle`: established with no call for `idleTimeoutMs` (our addition).
 *  - `call-N`: call N (our Call ID) made no state transition in time (§3.2.1).
 */
export type PptpTimerId = 'handshake' | 'echo' | 'echo-reply' | 'stop-reply' | 'idle' | `call-${number}`;

/** Time-outs in milliseconds. */
export interface PptpControlTimers {
  /** §3.1.4 item 1: "a control connection SHOULD be closed after 60 seconds by a peer waiting for a Start-Control-Connection-Request or Start-Control-Connection-Reply message". */
  readonly handshakeTimeoutMs: number;
  /** §3.1.4 item 2: "has not received a control message for 60 seconds, it SHOULD send a Echo-Request message". */
  readonly echoIntervalMs: number;
  /** §3.1.4 item 2: "If an Echo-Reply is not received 60 seconds after the Echo-Request message transmission, the control connection SHOULD be closed". */
  readonly echoReplyTimeoutMs: number;
  /** §3: "If an expected reply does not arrive within 60 seconds, the control connection is closed". */
  readonly stopReplyTimeoutMs: number;
  /** §3.2.1: "If a state transition does not occur within 1 minute (except for connections in the idle or established states) ... the ENTIRE CONTROL CONNECTION should be closed". */
  readonly callSetupTimeoutMs: number;
  /** Established with no call for this long → Stop-Control-Connection-Request. 0 = never (the RFC has no such limit; a server may want one). */
  readonly idleTimeoutMs: number;
}

/** RFC 2637 defaults: 60 s everywhere; no idle limit. */
export const PPTP_DEFAULT_TIMERS: PptpControlTimers = {
  handshakeTimeoutMs: 60_000,
  echoIntervalMs: 60_000,
  echoReplyTimeoutMs: 60_000,
  stopReplyTimeoutMs: 60_000,
  callSetupTimeoutMs: 60_000,
  idleTimeoutMs: 0,
};

/** Resource caps (docs/style.md §3), all configurable. */
export interface PptpControlLimits {
  /** Calls at once on one control connection (both directions together). */
  readonly maxCalls: number;
  /** Recently released Call IDs not handed out again, so late GRE packets of a dead call cannot reach a new one. */
  readonly callIdQuarantine: number;
  /** Largest message Length the stream framer buffers (see `PptpFramer`). */
  readonly maxMessageLength: number;
}

/** Default calls per control connection. */
export const PPTP_MAX_CALLS_PER_CONNECTION = 64;
/** Default number of recently released Call IDs kept out of use. */
export const PPTP_CALL_ID_QUARANTINE = 64;

export const PPTP_DEFAULT_LIMITS: PptpControlLimits = {
  maxCalls: PPTP_MAX_CALLS_PER_CONNECTION,
  callIdQuarantine: PPTP_CALL_ID_QUARANTINE,
  maxMessageLength: PPTP_MAX_MESSAGE_LENGTH,
};

/** Merged settings by the caller's (read-only) partial object: a server's connections share one. */
const merged = new WeakMap<object, object>();

/** `{...defaults, ...partial}`, made once per `partial` object. */
export function mergedWithDefaults<T extends object>(partial: Partial<T> | undefined, defaults: T): T {
  if (!partial) return defaults;
  let m = merged.get(partial) as T | undefined;
  if (!m) {
    m = { ...defaults, ...partial };
    merged.set(partial, m);
  }
  return m;
}

/** What the peer said about itself in its SCCRQ or SCCRP. */
export interface PptpPeerInfo {
  readonly protocolVersion: number;
  readonly framingCapabilities: number;
  readonly bearerCapabilities: number;
  readonly maximumChannels: number;
  readonly firmwareRevision: number;
  readonly hostName: string;
  readonly vendorString: string;
}

/**
 * Everything the GRE data channel of a call needs, given when the call
 * connects (RFC 2637 §4): the Key of GRE packets we receive is `callId`, the
 * Key of those we send is `peerCallId`.
 */
export interface PptpCallParameters {
  /** Our Call ID. */
  readonly callId: number;
  /** The peer's Call ID. */
  readonly peerCallId: number;
  readonly direction: PptpCallDirection;
  readonly callSerialNumber: number;
  /** The peer's Packet Recv. Window Size: how many unacknowledged packets we may send (§4.2). */
  readonly peerPacketRecvWindowSize: number;
  /** The peer's Packet Processing (or Transmit) Delay as on the wire, in 1/10 s (§2.7, §4.4); `GreChannelConfig.peerPacketProcessingDelay`. */
  readonly peerPacketProcessingDelay: number;
  /** The same in ms. */
  readonly peerPacketProcessingDelayMs: number;
  /** The Packet Recv. Window Size we advertised for this call; `GreChannelConfig.receiveWindow`. */
  readonly packetRecvWindowSize: number;
  /** Connect Speed of the call, bits/s. */
  readonly connectSpeed: number;
  /** Framing Type of the call ({@link PptpFraming}). */
  readonly framingType: number;
}

/** Why a call ended. */
export type PptpCallEndReason =
  /** We cleared it: CCRQ answered by CDN (PNS), or we sent CDN (PAC). */
  | { readonly kind: 'local-clear' }
  /** The PNS peer sent Call-Clear-Request; we answered with CDN (PAC). */
  | { readonly kind: 'peer-clear' }
  /** The peer sent Call-Disconnect-Notify. */
  | {
      readonly kind: 'peer-disconnect';
      readonly resultCode: number;
      readonly errorCode: number;
      readonly causeCode: number;
      readonly callStatistics: string;
    }
  /** The peer refused the call (OCRP or ICRP with an error result). */
  | {
      readonly kind: 'rejected';
      readonly resultCode: number;
      readonly errorCode: number;
      readonly causeCode: number;
    }
  /** The control connection ended, which implicitly clears every call (§2.3). */
  | { readonly kind: 'connection-closed' };

/** Why the control connection ended. */
export type PptpCloseReason =
  /** Orderly Stop-Control-Connection exchange; `by` says who asked. */
  | { readonly kind: 'stopped'; readonly by: 'local' | 'peer'; readonly reason: number }
  /** The peer closed TCP (or the transport failed) without a Stop exchange. */
  | { readonly kind: 'transport-closed' }
  /** §3.1.4 item 1. */
  | { readonly kind: 'handshake-timeout' }
  /** §3.1.4 item 2. */
  | { readonly kind: 'echo-timeout' }
  /** No Stop-Control-Connection-Reply in time. */
  | { readonly kind: 'stop-reply-timeout' }
  /** The peer's SCCRP refused us. */
  | { readonly kind: 'start-refused'; readonly resultCode: number; readonly errorCode: number }
  /** We refused the peer's SCCRQ; `detail` says why (quoting the RFC for a version refusal). */
  | {
      readonly kind: 'start-rejected';
      readonly resultCode: number;
      readonly errorCode: number;
      readonly detail: string;
    }
  /**
   * §3.1.3: we lost an SCCRQ collision and close the connection we opened,
   * or we won it and the loser closed the connection it had opened.
   */
  | { readonly kind: 'collision' }
  /** A call made no state transition in time, so "the ENTIRE CONTROL CONNECTION should be closed" (§3.2.1). */
  | { readonly kind: 'call-timeout'; readonly callId: number }
  /** Established with no call for `idleTimeoutMs`. */
  | { readonly kind: 'idle-timeout' }
  /** Malformed or unexpected input; `error` carries the RFC 2637 code. */
  | { readonly kind: 'protocol-error'; readonly error: PptpProtocolError }
  /** `stop()` before the connection was established. */
  | { readonly kind: 'local-close' };

/**
 * Where engines put their actions. An array is one; the connection engine
 * passes a sink that also keeps track of running timers.
 */
export interface PptpActionSink {
  push(...actions: PptpControlAction[]): void;
}

/**
 * Actions the engines return for the driver to perform (docs/style.md §4), in
 * order: a `send` before a `close` must reach the wire first (close with a
 * TCP half-close after the queued writes, so "the final TCP information has
 * been 'pushed' properly", RFC 2637 §3.1.1).
 */
export type PptpControlAction =
  /** Encode `message` (`encodePptpMessage`) and write it to the TCP connection. */
  | { readonly kind: 'send'; readonly message: PptpMessage }
  /** Start (or restart) timer `id`; call `timeout(id, now)` when it fires. */
  | { readonly kind: 'startTimer'; readonly id: PptpTimerId; readonly ms: number }
  | { readonly kind: 'stopTimer'; readonly id: PptpTimerId }
  /** SCCRQ/SCCRP exchanged: calls may be placed. */
  | { readonly kind: 'established'; readonly peer: PptpPeerInfo }
  /** A call is connected: create its GRE data channel. */
  | { readonly kind: 'callUp'; readonly call: PptpCallParameters }
  /** A call ended (or never connected): drop its GRE data channel if any. */
  | {
      readonly kind: 'callDown';
      readonly callId: number;
      readonly peerCallId: number | undefined;
      readonly reason: PptpCallEndReason;
    }
  /**
   * The peer sent Set-Link-Info (RFC 2637 §2.15). ACCMs mean nothing on a
   * GRE channel (no async HDLC framing), so the engine takes no action;
   * Windows sends non-zero ones after LCP, and this only reports them.
   */
  | {
      readonly kind: 'setLinkInfo';
      readonly callId: number;
      readonly sendAccm: number;
      readonly receiveAccm: number;
    }
  /** The peer sent WAN-Error-Notify (RFC 2637 §2.14): counters to log. */
  | {
      readonly kind: 'wanError';
      readonly callId: number;
      readonly crcErrors: number;
      readonly framingErrors: number;
      readonly hardwareOverruns: number;
      readonly bufferOverruns: number;
      readonly timeoutErrors: number;
      readonly alignmentErrors: number;
    }
  /** Close the TCP connection; the engine is finished. */
  | { readonly kind: 'close'; readonly reason: PptpCloseReason };

/** A decision on a request from the peer: accept, or refuse with a Result Code (and General Error code). */
export type PptpAdmission =
  | { readonly accept: true }
  | { readonly accept: false; readonly resultCode: number; readonly errorCode?: number };

/** Configuration of one control connection. Everything but `role` has a default. */
export interface PptpControlConfig {
  readonly role: PptpRole;
  /** Whether we opened the TCP connection (RFC 2637 §3.1.1 originator). Default: true for a PNS. */
  readonly originator?: boolean;
  /** Our Host Name (cut to 64 bytes). Default ''. */
  readonly hostName?: string;
  /** Our Vendor String (cut to 64 bytes). Default 'pptp-ts'. */
  readonly vendorString?: string;
  /** Default 1. */
  readonly firmwareRevision?: number;
  /** Default async | sync (3). */
  readonly framingCapabilities?: number;
  /** Default analog | digital (3). */
  readonly bearerCapabilities?: number;
  /** Sent in SCCRQ/SCCRP. Default: 0 for a PNS ("SHOULD be set to 0"), `limits.maxCalls` for a PAC. */
  readonly maximumChannels?: number;
  /** Packets we buffer per call, advertised as our Packet Recv. Window Size. Default 64. */
  readonly packetRecvWindowSize?: number;
  /** Our Packet Processing Delay in 1/10 s. Default 0 ("For the PNS this number should be very small"). */
  readonly packetProcessingDelay?: number;
  /** Connect Speed a PAC reports, bits/s (capped by the OCRQ's Maximum BPS when that is non-zero). Default 100,000,000. */
  readonly connectSpeed?: number;
  readonly timers?: Partial<PptpControlTimers>;
  readonly limits?: Partial<PptpControlLimits>;
  /** Random integer in [0, n). Call IDs, serial numbers and echo identifiers come from it. Default `crypto.randomInt`. */
  readonly randomInt?: (n: number) => number;
  /** Extra Call ID filter, e.g. a server keeping Call IDs unique per peer address across connections. */
  readonly isCallIdAvailable?: (callId: number) => boolean;
  /** Receiver only: accept or refuse a peer's SCCRQ (default accept). */
  readonly admitConnection?: (request: PptpStartControlConnectionRequest) => PptpAdmission;
  /** PAC only: accept or refuse an OCRQ (default accept). A refusal's Result Code is an Outgoing-Call-Reply one. */
  readonly admitOutgoingCall?: (request: PptpOutgoingCallRequest) => PptpAdmission;
  /**
   * PNS only: accept or refuse an ICRQ (default refuse with Do Not Accept:
   * a PNS of this stack dials out and has no use for calls ringing at a
   * PAC; see docs/pptp-control.md). A refusal's Result Code is an
   * Incoming-Call-Reply one.
   */
  readonly admitIncomingCall?: (request: PptpIncomingCallRequest) => PptpAdmission;
  /**
   * Receiver only, §3.1.3: called when an SCCRQ arrives; say whether we have
   * an SCCRQ of our own outstanding to the same peer on another connection
   * and who wins (`pptpCollisionWinner`). 'win': send nothing here and wait
   * for the loser to close this connection. 'lose': answer normally (and
   * call `abortForCollision()` on the engine of our own connection).
   */
  readonly collisionCheck?: () => 'none' | 'win' | 'lose';
  /** Logger (name `pptp.ctrl` by convention). */
  readonly log?: Logger;
}
