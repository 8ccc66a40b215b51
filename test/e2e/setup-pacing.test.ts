/**
 * Set-up pacing (limits.setup-concurrency, src/server/control-connections.ts):
 * connections beyond the limit wait, unread, in arrival order; a peer that
 * stalls its set-up holds its slot for SETUP_SLOT_HOLD_MS at most; a
 * waiting connection still meets its handshake time-out from the accept;
 * a shutdown closes the connections that wait. In-memory server and real
 * clients on a virtual clock.
 */
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { memoryTcp } from '../../src/io/tcp.js';
import { SETUP_SLOT_HOLD_MS } from '../../src/server/control-connections.js';
import { SERVER_ADDRESS, serverConfig, World } from './world.js';

/** A control connection that never sends Start-Control-Connection-Request, once the server has it. */
async function stalledPeer(w: World, address: string, acceptedBefore: number): Promise<Duplex> {
  const s = await w.wait(memoryTcp(w.tcp, address).connect(SERVER_ADDRESS, 1723));
  s.on('error', () => {});
  await w.runUntil(() => w.server.counters.connectionsAccepted === acceptedBefore + 1);
  return s;
}

describe('set-up pacing', () => {
  it('connections beyond the limit wait and come up in arrival order', async () => {
    const w = new World({ config: serverConfig({ limits: { 'setup-concurrency': 1 } }) });
    await w.start();
    // A peer that sends nothing holds the only slot while three clients dial.
    const stalled = await stalledPeer(w, '192.0.2.200', 0);
    const clients = [
      w.startClient(),
      w.startClient({ user: 'carol', password: 's3cret' }),
      w.startClient({ user: 'bob', password: 'hunter2' }),
    ];
    await w.runUntil(() => w.server.counters.connectionsAccepted === 4, 1000);
    assert.equal(w.server.counters.connectionsQueued, 3);
    assert.equal(w.server.waitingConnectionCount, 3);
    assert.equal(w.server.connectionCount, 1, 'only the stalled peer runs');
    await w.wait(Promise.all(clients.map((c) => c.up)));
    assert.equal(w.server.waitingConnectionCount, 0);
    const ups = w.serverLog.lines.filter((l) => / session up /.test(l)).map((l) => /user=(\w+)/.exec(l)?.[1]);
    assert.deepEqual(ups, ['alice', 'carol', 'bob'], 'first come, first up');
    for (const c of clients) c.client.stop();
    await w.wait(Promise.all(clients.map((c) => c.outcome)));
    stalled.destroy();
    await w.runUntil(() => w.server.connectionCount === 0);
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('a peer that stalls its set-up holds the slot only so long; the one behind it then comes up', async () => {
    const w = new World({ config: serverConfig({ limits: { 'setup-concurrency': 1 } }) });
    await w.start();
    const stalled = await stalledPeer(w, '192.0.2.200', 0);
    const t0 = w.clock.now();
    const c = w.startClient();
    await w.runUntil(() => w.server.counters.connectionsAccepted === 2);
    assert.equal(w.server.waitingConnectionCount, 1, 'the client waits behind the stalled peer');
    await w.wait(c.up);
    const waited = w.clock.now() - t0;
    assert.ok(waited >= SETUP_SLOT_HOLD_MS, `came up after ${waited} ms, not before the hold ended`);
    assert.ok(waited < 30_000, `came up after ${waited} ms, well before the handshake time-out`);
    c.client.stop();
    await w.wait(c.outcome);
    stalled.destroy();
    await w.runUntil(() => w.server.connectionCount === 0);
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('a connection still waiting at its handshake time-out is closed and counted', async () => {
    const w = new World({
      config: serverConfig({ limits: { 'setup-concurrency': 1, 'handshake-timeout': 2 } }),
    });
    await w.start();
    const first = await w.wait(memoryTcp(w.tcp, '192.0.2.201').connect(SERVER_ADDRESS, 1723));
    const second = await w.wait(memoryTcp(w.tcp, '192.0.2.202').connect(SERVER_ADDRESS, 1723));
    let closed = 0;
    for (const s of [first, second]) {
      s.on('error', () => {});
      s.on('close', () => closed++);
      s.resume();
    }
    await w.runUntil(() => w.server.counters.connectionsAccepted === 2);
    assert.equal(w.server.waitingConnectionCount, 1);
    await w.runUntil(() => closed === 2, 10_000);
    assert.equal(w.server.counters.handshakeTimeouts, 2);
    assert.equal(w.server.waitingConnectionCount, 0);
    assert.equal(w.server.connectionCount, 0);
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('a shutdown closes the connections that wait, and leaves no timer', async () => {
    const w = new World({ config: serverConfig({ limits: { 'setup-concurrency': 1 } }) });
    await w.start();
    const sockets = await w.wait(
      Promise.all(
        ['192.0.2.203', '192.0.2.204', '192.0.2.205'].map((a) =>
          memoryTcp(w.tcp, a).connect(SERVER_ADDRESS, 1723),
        ),
      ),
    );
    let closed = 0;
    for (const s of sockets) {
      s.on('error', () => {});
      s.on('close', () => closed++);
      s.resume();
    }
    await w.runUntil(() => w.server.counters.connectionsAccepted === 3);
    assert.equal(w.server.waitingConnectionCount, 2);
    await w.wait(w.server.shutdown());
    await w.runUntil(() => closed === 3, 10_000);
    assert.equal(w.server.waitingConnectionCount, 0);
    assert.equal(w.clock.pendingTimers, 0);
  });
});
