/**
 * How one client connection attempt ends: the {@link ClientOutcome} (an
 * {@link ExitCode} and a one-line reason), and the mapping to it from each
 * way a tunnel can fail (the PPP link, the control connection, the call).
 */
import type { PppFailure } from '../ppp/unit.js';
import type { PptpCallEndReason, PptpCloseReason } from '../pptp/control-types.js';
import { describeCallEndReason, describeCloseReason } from '../session/control-driver.js';
import { assertNever } from '../wire/bytes.js';
import { PptpOutgoingCallResult } from '../wire/pptp/index.js';
import { ExitCode } from './exit-codes.js';

/** How one connection attempt ended. */
export interface ClientOutcome {
  readonly code: ExitCode;
  /** One line for humans. */
  readonly reason: string;
  /** Whether the network came up at some point. */
  readonly wasUp: boolean;
}

/** Maps a PPP failure to the client's outcome (see exit-codes.ts). */
export function outcomeOfPppFailure(f: PppFailure): { code: ExitCode; reason: string } {
  switch (f.code) {
    case 'auth-failed': {
      const a = f.auth;
      if (a?.role === 'authenticator' || a?.reason === 'authenticator-response-mismatch') {
        return {
          code: ExitCode.PeerAuthFailed,
          reason: `the server failed to authenticate itself: ${f.message}`,
        };
      }
      const said = a?.message ? `: ${a.message}` : '';
      const why = a ? `${a.reason}${a.error !== undefined ? ` (E=${a.error})` : ''}` : f.message;
      return { code: ExitCode.AuthFailed, reason: `authentication failed, ${why}${said}` };
    }
    case 'auth-refused':
      return { code: ExitCode.NegotiationFailed, reason: `no common authentication method: ${f.message}` };
    case 'mppe-refused':
    case 'mppe-unavailable':
      return { code: ExitCode.MppeRefused, reason: f.message };
    case 'peer-silent':
      return { code: ExitCode.PeerSilent, reason: `the server stopped answering: ${f.message}` };
    case 'loopback':
      return { code: ExitCode.Loopback, reason: f.message };
    case 'peer-terminated':
      return {
        code: ExitCode.HangUp,
        reason: `the server ended the PPP link${f.peerMessage ? ` (${f.peerMessage})` : ''}`,
      };
    case 'closed':
      return { code: ExitCode.Ok, reason: f.message };
    case 'lower-down':
      return { code: ExitCode.HangUp, reason: 'the call went down' };
    case 'negotiation-failed':
      return { code: ExitCode.NegotiationFailed, reason: f.message };
    default:
      return assertNever(f.code, 'PPP failure');
  }
}

/** Maps the end of the control connection to the client's outcome. */
export function outcomeOfControlClose(r: PptpCloseReason): { code: ExitCode; reason: string } {
  const text = describeCloseReason(r);
  switch (r.kind) {
    case 'stopped':
    case 'transport-closed':
      return { code: ExitCode.HangUp, reason: `the server ended the control connection: ${text}` };
    case 'handshake-timeout':
    case 'echo-timeout':
    case 'stop-reply-timeout':
    case 'call-timeout':
    case 'idle-timeout':
      return { code: ExitCode.PeerSilent, reason: `the server stopped answering: ${text}` };
    case 'start-refused':
    case 'start-rejected':
    case 'protocol-error':
    case 'collision':
      return { code: ExitCode.NegotiationFailed, reason: `control connection failed: ${text}` };
    case 'local-close':
      return { code: ExitCode.Ok, reason: text };
    default:
      return assertNever(r, 'close reason');
  }
}

/** Maps the end of our call (before the control connection ends) to the client's outcome. */
export function outcomeOfCallDown(r: PptpCallEndReason): { code: ExitCode; reason: string } | undefined {
  switch (r.kind) {
    case 'rejected': {
      const name = PptpOutgoingCallResult[r.resultCode] ?? `result ${r.resultCode}`;
      return {
        code: ExitCode.NegotiationFailed,
        reason: `the server refused the call: ${name} (result ${r.resultCode}, error ${r.errorCode})`,
      };
    }
    case 'peer-disconnect':
    case 'peer-clear':
      return { code: ExitCode.HangUp, reason: `the server hung up: ${describeCallEndReason(r)}` };
    case 'local-clear':
    case 'connection-closed':
      return undefined; // our own teardown, or reported by the control connection
    default:
      return assertNever(r, 'call end reason');
  }
}
