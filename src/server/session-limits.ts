/**
 * The timers that end a call on their own (docs/client-server.md "Limits",
 * docs/radius.md): `limits.auth-timeout` until the peer authenticates, and
 * the Session-Timeout the call's authorization gave once it is up. Each
 * call holds at most one timer of each kind; {@link stopCallLimits} cancels
 * them all when the call ends.
 */
import type { Clock } from '../io/clock.js';
import { PptpDisconnectResult } from '../wire/pptp/index.js';
import type { SessionAuthorization } from './call-auth.js';
import type { ServerCall, ServerCounters } from './server-types.js';

/** The longest Session-Timeout honoured, s (a timer cannot wait longer than 2^31 ms). */
export const MAX_SESSION_TIMEOUT_S = 2_000_000;

/** What a limit does when it expires: end the call. */
export interface CallEnder {
  endCall(call: ServerCall, reason: string, resultCode?: number): void;
}

/** Ends `call` unless its peer authenticates within `seconds` (cancelled by {@link authLimitMet}). */
export function startAuthLimit(
  calls: CallEnder,
  call: ServerCall,
  seconds: number,
  clock: Clock,
  counters: ServerCounters,
): void {
  call.authTimer = clock.setTimer(seconds * 1000, () => {
    call.authTimer = undefined;
    if (call.ended || call.authenticated) return;
    counters.authTimeouts++;
    call.log.log('warn', 'no authentication in time: call cleared', { seconds });
    calls.endCall(call, 'authentication time-out', PptpDisconnectResult.AdminShutdown);
  });
}

/** The peer authenticated: the auth-timeout no longer applies. */
export function authLimitMet(call: ServerCall): void {
  call.authTimer?.cancel();
  call.authTimer = undefined;
}

/**
 * The session is up: ends it after the Session-Timeout its authorization
 * gave, if any (RFC 2865 §5.27: "the maximum number of seconds of service
 * to be provided to the user"). An existing limit stays.
 */
export function startSessionLimit(
  calls: CallEnder,
  call: ServerCall,
  z: SessionAuthorization | undefined,
  clock: Clock,
): void {
  if (z?.sessionTimeout === undefined || call.limitTimer) return;
  const seconds = Math.min(z.sessionTimeout, MAX_SESSION_TIMEOUT_S);
  call.limitTimer = clock.setTimer(seconds * 1000, () => {
    call.limitTimer = undefined;
    call.log.log('info', 'session timeout: call cleared', { seconds });
    call.endCause ??= 'session-timeout';
    calls.endCall(call, 'session timeout');
  });
}

/**
 * Drops the Session-Timeout limit (a CoA-Request's Session-Timeout takes its
 * place: RFC 5176 §3.2, src/server/radius-das.ts).
 */
export function cancelSessionLimit(call: ServerCall): void {
  call.limitTimer?.cancel();
  call.limitTimer = undefined;
}

/** The call ended: none of its limits may fire any more. */
export function stopCallLimits(call: ServerCall): void {
  authLimitMet(call);
  cancelSessionLimit(call);
}
