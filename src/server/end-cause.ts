/**
 * Why a session ended, in a few kinds the server can tell apart (what
 * accounting reports as Acct-Terminate-Cause, RFC 2866 §5.10). The server
 * sets a cause where it decides to end a session itself (kick, shutdown,
 * time-outs, a failed host set-up); otherwise the cause is read from what
 * ended the PPP link or the PPTP call.
 */

import type { PppFailure } from '../ppp/unit-types.js';
import type { PptpCallEndReason, PptpCloseReason } from '../pptp/control-types.js';

export type SessionEndCause =
  /** The user hung up: LCP Terminate-Request, Call-Clear-Request, Call-Disconnect-Notify, Stop-Control-Connection. */
  | 'user-request'
  /** The peer went silent (LCP echo or PPTP Echo time-out) or its TCP connection dropped. */
  | 'lost-carrier'
  /** The administrator ended it (`pptp-ts kick`, a RADIUS Disconnect-Request). */
  | 'admin-reset'
  /** Its time ran out (Session-Timeout). */
  | 'session-timeout'
  /** No traffic for too long (Idle-Timeout). */
  | 'idle-timeout'
  /** The server is shutting down. */
  | 'nas-reboot'
  /** The server could not set up its route, interface or address. */
  | 'nas-error'
  /** The peer broke the protocol. */
  | 'port-error'
  /** Authentication or negotiation failed (the session never carried traffic, or renegotiation failed). */
  | 'user-error'
  /** Anything else the server decided. */
  | 'nas-request';

/** The cause read from why the PPP link ended. */
export function causeOfPppFailure(f: PppFailure | undefined): SessionEndCause {
  switch (f?.code) {
    case 'peer-terminated':
      return 'user-request';
    case 'peer-silent':
    case 'lower-down':
      return 'lost-carrier';
    case 'auth-failed':
    case 'auth-refused':
    case 'mppe-refused':
    case 'mppe-unavailable':
    case 'negotiation-failed':
    case 'loopback':
      return 'user-error';
    default:
      return 'nas-request';
  }
}

/** The cause read from why the call's PPTP control connection ended. */
export function causeOfClose(r: PptpCloseReason): SessionEndCause {
  switch (r.kind) {
    case 'stopped':
      return r.by === 'peer' ? 'user-request' : 'nas-request';
    case 'transport-closed':
    case 'echo-timeout':
    case 'stop-reply-timeout':
      return 'lost-carrier';
    case 'protocol-error':
      return 'port-error';
    default:
      return 'nas-request';
  }
}

/** The cause read from why the PPTP call ended. */
export function causeOfCallEnd(r: PptpCallEndReason): SessionEndCause {
  switch (r.kind) {
    case 'peer-clear':
    case 'peer-disconnect':
      return 'user-request';
    case 'connection-closed':
      return 'lost-carrier';
    default:
      return 'nas-request';
  }
}
