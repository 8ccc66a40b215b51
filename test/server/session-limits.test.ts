/**
 * The timers that end a call (src/server/session-limits.ts) on a clock moved
 * by hand: the auth-timeout, the Session-Timeout an authorization gives
 * (RFC 2865 §5.27) with its upper bound, and their cancellation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/io/clock.js';
import { nullLogger } from '../../src/log/logger.js';
import type { SessionAuthorization } from '../../src/server/call-auth.js';
import type { ServerCall, ServerCounters } from '../../src/server/server-types.js';
import {
  authLimitMet,
  type CallEnder,
  cancelSessionLimit,
  MAX_SESSION_TIMEOUT_S,
  startAuthLimit,
  startSessionLimit,
  stopCallLimits,
} from '../../src/server/session-limits.js';

function call(): ServerCall {
  return {
    ended: false,
    authenticated: false,
    authTimer: undefined,
    limitTimer: undefined,
    endCause: undefined,
    log: nullLogger,
  } as unknown as ServerCall;
}

function ender() {
  const ended: { reason: string; resultCode: number | undefined }[] = [];
  const e: CallEnder = {
    endCall(c, reason, resultCode) {
      ended.push({ reason, resultCode });
      (c as { ended: boolean }).ended = true;
    },
  };
  return { e, ended };
}

const counters = () => ({ authTimeouts: 0 }) as ServerCounters;

describe('session limits', () => {
  it('ends an unauthenticated call at the auth-timeout, and counts it', () => {
    const clock = new ManualClock();
    const { e, ended } = ender();
    const c = call();
    const n = counters();
    startAuthLimit(e, c, 30, clock, n);
    clock.advance(29_999);
    assert.equal(ended.length, 0);
    clock.advance(1);
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.reason, 'authentication time-out');
    assert.equal(n.authTimeouts, 1);
    assert.equal(c.authTimer, undefined);
  });

  it('an authenticated call is not ended by the auth-timeout', () => {
    const clock = new ManualClock();
    const { e, ended } = ender();
    const c = call();
    startAuthLimit(e, c, 30, clock, counters());
    authLimitMet(c);
    assert.equal(clock.pendingTimers, 0);
    clock.advance(60_000);
    assert.equal(ended.length, 0);
  });

  it('ends the session at its Session-Timeout with cause session-timeout', () => {
    const clock = new ManualClock();
    const { e, ended } = ender();
    const c = call();
    startSessionLimit(e, c, { sessionTimeout: 5 } as SessionAuthorization, clock);
    clock.advance(4_999);
    assert.equal(ended.length, 0);
    clock.advance(1);
    assert.deepEqual(ended, [{ reason: 'session timeout', resultCode: undefined }]);
    assert.equal(c.endCause, 'session-timeout');
  });

  it('no Session-Timeout, no timer; an existing limit stays when the session comes up again', () => {
    const clock = new ManualClock();
    const { e } = ender();
    const c = call();
    startSessionLimit(e, c, undefined, clock);
    startSessionLimit(e, c, {} as SessionAuthorization, clock);
    assert.equal(clock.pendingTimers, 0);
    startSessionLimit(e, c, { sessionTimeout: 5 } as SessionAuthorization, clock);
    const first = c.limitTimer;
    startSessionLimit(e, c, { sessionTimeout: 100 } as SessionAuthorization, clock);
    assert.equal(c.limitTimer, first);
    assert.equal(clock.pendingTimers, 1);
  });

  it('bounds the Session-Timeout to what a timer can wait', () => {
    const clock = new ManualClock();
    const { e, ended } = ender();
    const c = call();
    startSessionLimit(e, c, { sessionTimeout: 0xffffffff } as SessionAuthorization, clock);
    assert.equal(clock.nextDeadline(), MAX_SESSION_TIMEOUT_S * 1000);
    assert.ok(MAX_SESSION_TIMEOUT_S * 1000 < 2 ** 31);
    clock.advance(MAX_SESSION_TIMEOUT_S * 1000);
    assert.equal(ended.length, 1);
  });

  it('a cancelled Session-Timeout never fires; a call that ends leaves no timer', () => {
    const clock = new ManualClock();
    const { e, ended } = ender();
    const c = call();
    startSessionLimit(e, c, { sessionTimeout: 5 } as SessionAuthorization, clock);
    cancelSessionLimit(c);
    clock.advance(10_000);
    assert.equal(ended.length, 0);
    const d = call();
    startAuthLimit(e, d, 30, clock, counters());
    startSessionLimit(e, d, { sessionTimeout: 5 } as SessionAuthorization, clock);
    assert.equal(clock.pendingTimers, 2);
    stopCallLimits(d);
    assert.equal(clock.pendingTimers, 0);
  });
});
