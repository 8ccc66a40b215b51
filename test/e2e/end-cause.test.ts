/**
 * Why a session ended, as the server tells its observers (what accounting
 * sends as Acct-Terminate-Cause, RFC 2866 §5.10), for real endings in the
 * in-memory world: the user hangs up, the administrator kicks, the server
 * shuts down, the control connection is cut. Also: the session detail that
 * comes with the up and end events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { causeOfCallEnd, causeOfClose, causeOfPppFailure } from '../../src/server/end-cause.js';
import type { ServerObserver, ServerSessionDetail } from '../../src/server/observer.js';
import { TERMINATE_CAUSE } from '../../src/server/radius-accounting.js';
import { AcctTerminateCause } from '../../src/wire/radius/index.js';
import { World } from './world.js';

type Ended = Parameters<NonNullable<ServerObserver['sessionEnded']>>[0];

class Recorder implements ServerObserver {
  readonly ups: ServerSessionDetail[] = [];
  readonly ends: Ended[] = [];
  sessionUp(_seconds: number, s: ServerSessionDetail): void {
    this.ups.push(s);
  }
  sessionEnded(e: Ended): void {
    this.ends.push(e);
  }
}

async function upSession(): Promise<{ w: World; r: Recorder; c: ReturnType<World['startClient']> }> {
  const w = new World();
  const r = new Recorder();
  w.server.observers.push(r);
  await w.start();
  const c = w.startClient();
  await w.wait(c.up);
  await w.runUntil(() => r.ups.length === 1);
  return { w, r, c };
}

describe('session end causes', () => {
  it('up: the observer gets the session with user, address, call and peer', async () => {
    const { w, r, c } = await upSession();
    const s = r.ups[0]!;
    assert.equal(s.user, 'alice');
    assert.equal(s.peer, c.address);
    assert.match(s.address ?? '', /^10\.99\.0\.\d+$/);
    assert.ok(s.callId > 0);
    assert.ok(s.up);
    await w.wait(w.server.shutdown());
  });

  it('the user hangs up: user-request (User-Request)', async () => {
    const { w, r, c } = await upSession();
    c.client.stop();
    await w.runUntil(() => r.ends.length === 1);
    assert.equal(r.ends[0]!.cause, 'user-request');
    assert.equal(r.ends[0]!.session.user, 'alice');
    assert.ok(r.ends[0]!.wasUp);
    await w.wait(w.server.shutdown());
  });

  it('pptp-ts kick: admin-reset (Admin-Reset)', async () => {
    const { w, r } = await upSession();
    assert.ok(w.server.kickById(r.ups[0]!.id));
    await w.runUntil(() => r.ends.length === 1);
    assert.equal(r.ends[0]!.cause, 'admin-reset');
    await w.wait(w.server.shutdown());
  });

  it('shutdown: nas-reboot (NAS-Reboot)', async () => {
    const { w, r } = await upSession();
    await w.wait(w.server.shutdown());
    assert.equal(r.ends.length, 1);
    assert.equal(r.ends[0]!.cause, 'nas-reboot');
  });

  it('the control connection is cut: lost-carrier (Lost-Carrier)', async () => {
    const { w, r } = await upSession();
    w.serverSockets[0]!.reset();
    await w.runUntil(() => r.ends.length === 1);
    assert.equal(r.ends[0]!.cause, 'lost-carrier');
    await w.wait(w.server.shutdown());
  });

  it('maps every cause to its RFC 2866 §5.10 value', () => {
    assert.equal(causeOfPppFailure({ code: 'peer-terminated', message: '' }), 'user-request');
    assert.equal(causeOfPppFailure({ code: 'peer-silent', message: '' }), 'lost-carrier');
    assert.equal(causeOfPppFailure({ code: 'auth-failed', message: '' }), 'user-error');
    assert.equal(causeOfClose({ kind: 'echo-timeout' }), 'lost-carrier');
    assert.equal(causeOfClose({ kind: 'stopped', by: 'peer', reason: 1 }), 'user-request');
    assert.equal(causeOfCallEnd({ kind: 'peer-clear' }), 'user-request');
    assert.equal(TERMINATE_CAUSE['user-request'], 1);
    assert.equal(TERMINATE_CAUSE['lost-carrier'], 2);
    assert.equal(TERMINATE_CAUSE['idle-timeout'], 4);
    assert.equal(TERMINATE_CAUSE['session-timeout'], 5);
    assert.equal(TERMINATE_CAUSE['admin-reset'], 6);
    assert.equal(TERMINATE_CAUSE['port-error'], 8);
    assert.equal(TERMINATE_CAUSE['nas-error'], 9);
    assert.equal(TERMINATE_CAUSE['nas-request'], 10);
    assert.equal(TERMINATE_CAUSE['nas-reboot'], 11);
    assert.equal(TERMINATE_CAUSE['user-error'], AcctTerminateCause.UserError);
    assert.equal(TERMINATE_CAUSE['user-error'], 17);
  });
});
