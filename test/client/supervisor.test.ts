/**
 * pppd's `persist` / `maxfail` / `holdoff` on top of the client
 * (ClientSupervisor), in the in-memory world on a virtual clock: back-off
 * between attempts, giving up after maxfail consecutive failures, coming
 * back when the server does, and stop() during a back-off.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PptpClient } from '../../src/client/client.js';
import { ExitCode } from '../../src/client/exit-codes.js';
import { ClientSupervisor } from '../../src/client/supervisor.js';
import { SERVER_ADDRESS, World } from '../e2e/world.js';

const USER = { server: SERVER_ADDRESS, user: 'alice', password: 'correct horse' };

describe('ClientSupervisor (persist, maxfail, holdoff)', () => {
  it('without persist, one attempt: its outcome is the result', async () => {
    const w = new World();
    const e = w.clientEnv();
    const sup = new ClientSupervisor(USER, e.env, {});
    const o = await w.wait(sup.run());
    assert.equal(o.code, ExitCode.ConnectFailed);
    assert.equal(sup.attempts, 1);
  });

  it('after a hang-up, retries with doubling back-off and gives up after maxfail consecutive failures', async () => {
    const w = new World();
    await w.start();
    const e = w.clientEnv();
    const ups: number[] = [];
    const attemptsAt: number[] = [];
    const sup = new ClientSupervisor(
      USER,
      e.env,
      { persist: true, maxfail: 3, holdoff: 2 },
      (c: PptpClient) => {
        attemptsAt.push(w.clock.now());
        c.onUp = () => ups.push(w.clock.now());
      },
    );
    const result = sup.run();
    await w.runUntil(() => ups.length === 1);
    await w.wait(w.server.shutdown());
    const o = await w.wait(result, 3_600_000);
    assert.equal(o.code, ExitCode.ConnectFailed, o.reason);
    assert.equal(sup.attempts, 4, 'the session, then 3 refused attempts');
    const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!);
    // Refusals take no virtual time: the gaps are the holdoffs, 2 s then doubling.
    assert.deepEqual(gaps.slice(1), [2000, 4000]);
    assert.ok(e.log.lines.some((l) => /giving up after 3 failed attempts/.test(l)));
    assert.deepEqual([...e.host.applied], []);
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('comes back up when the server returns', async () => {
    const w = new World();
    await w.start();
    const e = w.clientEnv();
    let ups = 0;
    const sup = new ClientSupervisor(USER, e.env, { persist: true, maxfail: 0, holdoff: 1 }, (c) => {
      c.onUp = () => ups++;
    });
    const result = sup.run();
    await w.runUntil(() => ups === 1);
    await w.wait(w.server.shutdown());
    await w.runUntil(() => sup.attempts >= 3);
    await w.restartServer();
    await w.runUntil(() => ups === 2, 600_000);
    assert.equal(w.server.sessions().length, 1);
    sup.stop();
    const o = await w.wait(result);
    assert.equal(o.code, ExitCode.Ok);
    await w.wait(w.server.shutdown());
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('stop() during the back-off ends at once with code 0', async () => {
    const w = new World();
    const e = w.clientEnv();
    const sup = new ClientSupervisor(USER, e.env, { persist: true, holdoff: 300 });
    const result = sup.run();
    await w.runUntil(() => e.log.lines.some((l) => /reconnecting in 300 s/.test(l)));
    sup.stop();
    const o = await w.wait(result, 1000);
    assert.equal(o.code, ExitCode.Ok);
    assert.equal(w.clock.pendingTimers, 0);
  });
});
