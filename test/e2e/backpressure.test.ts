/**
 * Backpressure from the GRE window to the interface (RFC 2637 §4.2.4:
 * packets "are no longer accepted from the packet source when the transmit
 * buffer fills"), through the real drivers over the in-memory world: a
 * burst far larger than the peer's window plus the channel's transmit
 * queue is read from the TUN only as fast as acknowledgments open the
 * window, so none of it is dropped at the GRE transmit queue. Without the
 * pause the same burst would overflow the queue (the second case shows the
 * burst really is that large).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemoryTun } from '../../src/io/memory/tun.js';
import type { PppSession } from '../../src/session/session.js';
import { SESSION_TRANSMIT_QUEUE_PACKETS } from '../../src/session/session.js';
import { readTaggedUdp, taggedUdp } from './packets.js';
import { serverConfig, World } from './world.js';

const BURST = 3000;
const SIZE = 600;

/** Sends `count` tagged datagrams into `from` at once; resolves the tags `to`'s host received, in order. */
function burst(from: MemoryTun, to: MemoryTun, src: string, dst: string, count: number): number[] {
  const got: number[] = [];
  to.onHostPacket = (p) => {
    const m = readTaggedUdp(p);
    assert.ok(m, 'every datagram arrives intact');
    got.push(m.tag);
  };
  for (let i = 0; i < count; i++) from.hostSend(taggedUdp(src, dst, i, SIZE));
  return got;
}

const sessionOf = (client: unknown) => (client as { session: PppSession }).session;

describe('backpressure: the GRE window holds the interface back instead of dropping', () => {
  it('client → server: a 3000-packet burst against a 16-packet window arrives whole and in order', async () => {
    const w = new World({ config: serverConfig({ pptp: { 'receive-window': 16 } }) });
    await w.start();
    const c = w.startClient({ lcpEchoInterval: 0 });
    const info = await w.wait(c.up);
    const session = sessionOf(c.client);
    assert.equal(session.channel.sequencer.maxWindow, 16, "the server's advertised window is in force");

    const got = burst(c.tun, w.serverTun, info.localAddress, info.remoteAddress, BURST);
    await w.runUntil(() => got.length === BURST);
    assert.deepEqual(
      got,
      Array.from({ length: BURST }, (_, i) => i),
    );
    const g = session.stats.gre;
    assert.equal(g.txDroppedQueueFull, 0, 'nothing dropped at the GRE transmit queue');
    assert.ok(g.txQueued > 0, 'the window did close');
    assert.ok(c.tun.stats.pauses > 0, 'the client stopped reading its interface');
    assert.equal(c.tun.isPaused, false, 'and resumed');
    c.client.stop();
    await w.wait(c.outcome);
    await w.server.shutdown();
  });

  it('the burst is larger than window + transmit queue: sent straight into the channel it overflows', async () => {
    const w = new World({ config: serverConfig({ pptp: { 'receive-window': 16 } }) });
    await w.start();
    const c = w.startClient({ lcpEchoInterval: 0 });
    const info = await w.wait(c.up);
    const session = sessionOf(c.client);
    // The same burst handed to the session directly, the way a driver without the pause would.
    const seq = session.channel.sequencer;
    const open = seq.window - seq.outstanding;
    for (let i = 0; i < BURST; i++)
      session.sendPacket(taggedUdp(info.localAddress, info.remoteAddress, i, SIZE));
    session.afterOutput();
    assert.ok(BURST > 16 + SESSION_TRANSMIT_QUEUE_PACKETS);
    assert.equal(session.stats.gre.txDroppedQueueFull, BURST - open - SESSION_TRANSMIT_QUEUE_PACKETS);
    c.client.stop();
    await w.wait(c.outcome);
    await w.server.shutdown();
  });

  it('client → server with a fifth of the acknowledgments lost: time-outs reopen the window and reading resumes', async () => {
    const w = new World({
      config: serverConfig({ pptp: { 'receive-window': 16 } }),
      faults: { toClient: { seed: 99, drop: 0.2 } },
    });
    await w.start();
    const c = w.startClient({ lcpEchoInterval: 0 });
    const info = await w.wait(c.up);
    const session = sessionOf(c.client);
    const n = 600;
    const got = burst(c.tun, w.serverTun, info.localAddress, info.remoteAddress, n);
    await w.runUntil(() => got.length === n, 600_000);
    assert.deepEqual(
      got,
      Array.from({ length: n }, (_, i) => i),
    );
    assert.equal(session.stats.gre.txDroppedQueueFull, 0);
    assert.ok(w.faults.toClient!.stats.dropped > 0, 'acknowledgments were lost');
    assert.ok(session.stats.gre.txAckTimeouts > 0, 'and the window reopened on time-outs');
    c.client.stop();
    await w.wait(c.outcome);
    await w.server.shutdown();
  });

  it('server → client on a per-session interface: the server reads its TUN only as the window allows', async () => {
    const w = new World({ config: serverConfig({ interface: { mode: 'per-session', name: 'pptps0' } }) });
    await w.start();
    const c = w.startClient({ lcpEchoInterval: 0, receiveWindow: 16 });
    const info = await w.wait(c.up);
    await w.runUntil(() => w.serverTuns.length === 1 && w.server.sessions()[0]?.address !== undefined);
    const tun = w.serverTuns[0]!;
    const got = burst(tun, c.tun, info.remoteAddress, info.localAddress, BURST);
    await w.runUntil(() => got.length === BURST);
    assert.deepEqual(
      got,
      Array.from({ length: BURST }, (_, i) => i),
    );
    assert.ok(tun.stats.pauses > 0, 'the server paused its per-session interface');
    assert.equal(tun.isPaused, false);
    c.client.stop();
    await w.wait(c.outcome);
    await w.server.shutdown();
  });
});
