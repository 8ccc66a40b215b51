/**
 * Acknowledgment-only GRE packets on an idle session (RFC 2637 §4.2:
 * "Acknowledgments can also be sent separately from data packets"): with
 * the default `pptp.ack-timeout-ms` each LCP keep-alive received is
 * acknowledged alone 100 ms later; with 0 on both ends the acknowledgments
 * ride only on the next data packet, as Linux's pptp driver sends them, and
 * the keep-alives still keep the session up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PppSession } from '../../src/session/session.js';
import { serverConfig, World } from './world.js';

const sessionOf = (client: unknown) => (client as { session: PppSession }).session;

/** One client idle for `ms` of virtual time with 2 s keep-alives; its GRE counters before and after. */
async function idle(ackTimeoutMs: number | undefined, ms: number) {
  const w = new World({
    config: serverConfig({
      ppp: { 'lcp-echo-interval': 2 },
      ...(ackTimeoutMs === undefined ? {} : { pptp: { 'ack-timeout-ms': ackTimeoutMs } }),
    }),
  });
  await w.start();
  const c = w.startClient({
    lcpEchoInterval: 2,
    ...(ackTimeoutMs === undefined ? {} : { gre: { ackTimeoutMs } }),
  });
  await w.wait(c.up);
  let ended = false;
  void c.outcome.then(() => {
    ended = true;
  });
  const session = sessionOf(c.client);
  const before = { ...session.stats.gre };
  const until = w.clock.now() + ms;
  await w.runUntil(() => w.clock.now() >= until, ms + 10_000);
  const after = { ...session.stats.gre };
  const stillUp = !ended && c.client.info !== undefined;
  c.client.stop();
  await w.wait(c.outcome);
  await w.server.shutdown();
  return { before, after, stillUp };
}

describe('acknowledgment-only packets at rest', () => {
  it('the default acknowledges each keep-alive alone; ack-timeout-ms 0 on both ends sends none and stays up', async () => {
    const dflt = await idle(undefined, 60_000);
    const keepAlives = dflt.after.rxPackets - dflt.before.rxPackets;
    assert.ok(keepAlives >= 15, `keep-alives crossed the idle minute (${keepAlives})`);
    assert.ok(dflt.after.rxAckOnly - dflt.before.rxAckOnly >= 10, 'the server acknowledged them alone');
    assert.ok(dflt.after.txAckOnly - dflt.before.txAckOnly >= 10, 'and so did the client');

    const off = await idle(0, 60_000);
    assert.ok(off.stillUp, 'the session stayed up');
    assert.ok(off.after.rxPackets - off.before.rxPackets >= 15, 'keep-alives crossed the idle minute');
    assert.equal(
      off.after.rxAckOnly - off.before.rxAckOnly,
      0,
      'no acknowledgment-only packet from the server',
    );
    assert.equal(off.after.txAckOnly - off.before.txAckOnly, 0, 'none from the client');
    assert.ok(off.after.rxAcks > off.before.rxAcks, 'acknowledgments still arrived, on data packets');
  });
});
