/**
 * docs/style.md §5.7 hygiene on the real clock: a client and a server that
 * connect, carry traffic and stop leave no timer or handle behind
 * (process.getActiveResourcesInfo()), so a process that ran them exits on
 * its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitCode } from '../../src/client/exit-codes.js';
import { RealClock } from '../../src/io/clock.js';
import { icmpEcho } from './packets.js';
import { World } from './world.js';

async function resources(): Promise<string[]> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  return process.getActiveResourcesInfo().sort();
}

/** Resolves when `check()` holds, polling on immediates (no timers of our own). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (check()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error(`never: ${what}`);
}

describe('resource hygiene on the real clock', () => {
  it('connect, ping, stop, shut down: no timers or handles remain', async () => {
    const before = await resources();
    const w = new World({ clock: new RealClock() });
    await w.start();
    const c = w.startClient({ usePeerDns: true, routes: ['10.0.0.0/8'] });
    const info = await c.up;
    assert.ok(process.getActiveResourcesInfo().includes('Timeout'), 'the running tunnel does hold timers');
    const p = icmpEcho(info.localAddress, info.remoteAddress, 1, 1);
    c.tun.hostSend(p);
    await until(() => w.serverTun.hostReceived.length === 1, 'packet through');
    c.client.stop();
    const outcome = await c.outcome;
    assert.equal(outcome.code, ExitCode.Ok);
    await until(() => w.server.connectionCount === 0, 'server side closed');
    await w.server.shutdown();
    assert.deepEqual(await resources(), before);
  });
});
