/**
 * Idle-Timeout through the real client and server drivers on a virtual
 * clock: `ppp.idle` ends a session that carries no data (LCP Echo
 * keep-alives running all the while do not count) with end cause
 * idle-timeout (Acct-Terminate-Cause Idle-Timeout, RFC 2866 §5.10), and
 * keeps one that carries data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerObserver } from '../../src/server/observer.js';
import { TERMINATE_CAUSE } from '../../src/server/radius-accounting.js';
import { icmpEcho } from './packets.js';
import { serverConfig, World } from './world.js';

type Ended = Parameters<NonNullable<ServerObserver['sessionEnded']>>[0];

async function upSession(idle: number) {
  const w = new World({ config: serverConfig({ ppp: { idle, 'lcp-echo-interval': 2 } }) });
  const ends: Ended[] = [];
  let upAt = 0;
  w.server.observers.push({
    sessionUp: () => {
      upAt = w.clock.now();
    },
    sessionEnded: (e) => ends.push(e),
  });
  await w.start();
  const c = w.startClient();
  await w.wait(c.up);
  await w.runUntil(() => upAt > 0);
  return { w, c, ends, upAt };
}

describe('idle timeout (ppp.idle)', () => {
  it('ends a session without data, keep-alives notwithstanding: idle-timeout (Idle-Timeout 4)', async () => {
    const { w, ends, upAt } = await upSession(10);
    const echoesBefore = w.server.sessionDetails()[0]!.stats.ppp.rxControl;
    await w.runUntil(() => ends.length === 1, 60_000);
    const after = w.clock.now() - upAt;
    assert.equal(ends[0]!.cause, 'idle-timeout');
    assert.equal(TERMINATE_CAUSE[ends[0]!.cause], 4);
    assert.ok(after >= 10_000 && after <= 10_000 + 2 * 2500, `ended ${after} ms after coming up`);
    assert.ok(ends[0]!.wasUp);
    assert.ok(ends[0]!.stats.ppp.rxControl >= echoesBefore + 2, 'LCP echoes flowed meanwhile');
    assert.ok(w.serverLog.lines.some((l) => l.includes('idle timeout: call cleared')));
    assert.equal(w.server.idle.size, 0);
    await w.wait(w.server.shutdown());
  });

  it('keeps a session that carries data in either direction, and ends it once the data stops', async () => {
    const { w, c, ends } = await upSession(10);
    for (let i = 0; i < 15; i++) {
      // Alternate directions: each alone must keep the session.
      if (i % 2) c.tun.hostSend(icmpEcho('10.99.0.10', '10.99.0.1', 7, i));
      else w.serverTun.hostSend(icmpEcho('10.99.0.1', '10.99.0.10', 7, i));
      const until = w.clock.now() + 3000;
      await w.runUntil(() => w.clock.now() >= until || ends.length > 0, 3000);
      assert.equal(ends.length, 0, `still up after ${i + 1} packets`);
    }
    const stopped = w.clock.now();
    await w.runUntil(() => ends.length === 1, 60_000);
    assert.equal(ends[0]!.cause, 'idle-timeout');
    assert.ok(w.clock.now() - stopped >= 10_000 - 3000);
    await w.wait(w.server.shutdown());
  });

  it('without ppp.idle nothing is watched until a CoA sets a limit (setIdleTimeout), which then ends it', async () => {
    const w = new World();
    const ends: Ended[] = [];
    w.server.observers.push({ sessionEnded: (e) => ends.push(e) });
    await w.start();
    const c = w.startClient();
    await w.wait(c.up);
    assert.equal(w.server.idle.size, 0);
    const id = w.server.sessionDetails()[0]!.id;
    assert.equal(w.server.setIdleTimeout(id + 1000, 5), false, 'no such session');
    assert.ok(w.server.setIdleTimeout(id, 5));
    assert.equal(w.server.idle.limitOf(id), 5);
    const from = w.clock.now();
    await w.runUntil(() => ends.length === 1, 60_000);
    assert.equal(ends[0]!.cause, 'idle-timeout');
    assert.ok(w.clock.now() - from >= 5000 && w.clock.now() - from <= 5000 + 2 * 1250);
    await w.wait(w.server.shutdown());
  });

  it('setIdleTimeout(id, 0) lifts the limit ppp.idle gave', async () => {
    const { w, ends } = await upSession(10);
    const id = w.server.sessionDetails()[0]!.id;
    assert.ok(w.server.setIdleTimeout(id, 0));
    assert.equal(w.server.idle.size, 0);
    const until = w.clock.now() + 60_000;
    await w.runUntil(() => w.clock.now() >= until || ends.length > 0, 61_000);
    assert.equal(ends.length, 0);
    await w.wait(w.server.shutdown());
  });
});
