/**
 * The server side of dynamic authorization (src/server/radius-das.ts) on a hand-
 * moved clock and a fake server: a Disconnect-Request kicks with cause
 * admin-reset, a CoA Session-Timeout kicks with cause session-timeout when it
 * runs out (0 removes it), the NAS identity comes from the config, and the
 * metrics count by kind and result.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/io/clock.js';
import { nullLogger } from '../../src/log/logger.js';
import { validateServerConfig } from '../../src/server/config.js';
import type { ServerSessionDetail, SessionEndCause } from '../../src/server/observer.js';
import {
  DAS_DISCONNECT_REASON,
  DAS_SESSION_TIMEOUT_REASON,
  type DasServerPort,
  DasService,
  nasIdentity,
  registerDasMetrics,
} from '../../src/server/radius-das.js';

const SECRET = 'coa-secret';
const DAC = { address: '127.0.0.1', port: 50000 };

function config(extra: Record<string, unknown> = {}) {
  return validateServerConfig({
    'local-ip': '10.99.0.1',
    pool: '10.99.0.10-10.99.0.20',
    secrets: '/dev/null',
    name: 'nas-one',
    radius: {
      order: ['secrets'],
      das: { listen: '127.0.0.1:3799', clients: [{ address: DAC.address, secret: SECRET }] },
      ...extra,
    },
  });
}

function request(code: number, id: number, attrs: [number, Buffer][]): Buffer {
  const body = Buffer.concat(attrs.map(([t, v]) => Buffer.concat([Buffer.from([t, v.length + 2]), v])));
  const p = Buffer.concat([Buffer.from([code, id, 0, 0]), Buffer.alloc(16), body]);
  p.writeUInt16BE(p.length, 2);
  createHash('md5').update(p).update(SECRET).digest().copy(p, 4);
  return p;
}
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

class FakeServer implements DasServerPort {
  live = new Map<number, { user: string; address: string }>([
    [1, { user: 'alice', address: '10.99.0.10' }],
    [2, { user: 'bob', address: '10.99.0.11' }],
  ]);
  kicked: { id: number; reason: string; cause: SessionEndCause | undefined }[] = [];
  /** Sessions whose Access-Accept Session-Timeout a CoA replaced. */
  limitsCancelled: number[] = [];
  cancelSessionLimit(id: number): void {
    this.limitsCancelled.push(id);
  }
  /** Idle-Timeouts a CoA set, in order. */
  idleSet: { id: number; seconds: number }[] = [];
  setIdleTimeout(id: number, seconds: number): boolean {
    this.idleSet.push({ id, seconds });
    return this.live.has(id);
  }
  sessionDetails(): ServerSessionDetail[] {
    return [...this.live].map(([id, s]) => ({ id, user: s.user, address: s.address }) as ServerSessionDetail);
  }
  kick(select: (s: ServerSessionDetail) => boolean, reason: string, cause?: SessionEndCause): number {
    let n = 0;
    for (const d of this.sessionDetails()) {
      if (!select(d)) continue;
      n++;
      this.kickById(d.id, reason, cause);
    }
    return n;
  }
  kickById(id: number, reason?: string, cause?: SessionEndCause): boolean {
    if (!this.live.delete(id)) return false;
    this.kicked.push({ id, reason: reason ?? '', cause });
    return true;
  }
}

function setup() {
  const clock = new ManualClock(1000);
  const server = new FakeServer();
  const das = DasService.create({
    config: config(),
    server,
    clock,
    log: nullLogger,
    epochSeconds: () => 1e9,
  });
  return { clock, server, das };
}

describe('server DAS glue', () => {
  it('a Disconnect-Request kicks the named session with cause admin-reset before the ACK', () => {
    const { server, das } = setup();
    const reply = das.handle(request(40, 1, [[1, Buffer.from('alice')]]), DAC);
    assert.equal(reply?.[0], 41);
    assert.deepEqual(server.kicked, [{ id: 1, reason: DAS_DISCONNECT_REASON, cause: 'admin-reset' }]);
    assert.deepEqual([...server.live.keys()], [2]);
    // A Reply-Message becomes the reason (control characters out).
    das.handle(
      request(40, 2, [
        [1, Buffer.from('bob')],
        [18, Buffer.from('bye\nnow')],
      ]),
      DAC,
    );
    assert.deepEqual(server.kicked[1], { id: 2, reason: 'bye now', cause: 'admin-reset' });
  });

  it("a CoA Idle-Timeout goes to the session's idle limit; a Session-Timeout beside it still applies", () => {
    const { clock, server, das } = setup();
    const reply = das.handle(
      request(43, 1, [
        [1, Buffer.from('alice')],
        [28, u32(30)],
      ]),
      DAC,
    );
    assert.equal(reply?.[0], 44);
    assert.deepEqual(server.idleSet, [{ id: 1, seconds: 30 }]);
    assert.equal(das.timerCount, 0, 'no Session-Timeout asked');
    das.handle(
      request(43, 2, [
        [1, Buffer.from('bob')],
        [28, u32(0)],
        [27, u32(2)],
      ]),
      DAC,
    );
    assert.deepEqual(server.idleSet[1], { id: 2, seconds: 0 });
    clock.advance(2000);
    assert.deepEqual(server.kicked, [
      { id: 2, reason: DAS_SESSION_TIMEOUT_REASON, cause: 'session-timeout' },
    ]);
  });

  it('a CoA Session-Timeout ends the session that many seconds later, with cause session-timeout', () => {
    const { clock, server, das } = setup();
    const reply = das.handle(
      request(43, 1, [
        [1, Buffer.from('alice')],
        [27, u32(2)],
      ]),
      DAC,
    );
    assert.equal(reply?.[0], 44);
    assert.equal(das.timerCount, 1);
    assert.deepEqual(server.limitsCancelled, [1], "the CoA's limit replaces the Access-Accept's");
    clock.advance(1999);
    assert.deepEqual(server.kicked, []);
    clock.advance(1);
    assert.deepEqual(server.kicked, [
      { id: 1, reason: DAS_SESSION_TIMEOUT_REASON, cause: 'session-timeout' },
    ]);
    assert.equal(das.timerCount, 0);
  });

  it('a later CoA replaces the limit; Session-Timeout 0 removes it; close cancels the rest', () => {
    const { clock, server, das } = setup();
    das.handle(
      request(43, 1, [
        [1, Buffer.from('bob')],
        [27, u32(5)],
      ]),
      DAC,
    );
    das.handle(
      request(43, 2, [
        [1, Buffer.from('bob')],
        [27, u32(10)],
      ]),
      DAC,
    );
    clock.advance(6000);
    assert.deepEqual(server.kicked, []);
    das.handle(
      request(43, 3, [
        [1, Buffer.from('bob')],
        [27, u32(0)],
      ]),
      DAC,
    );
    assert.equal(das.timerCount, 0);
    clock.advance(60_000);
    assert.deepEqual(server.kicked, []);
    das.handle(
      request(43, 4, [
        [1, Buffer.from('alice')],
        [27, u32(3)],
      ]),
      DAC,
    );
    das.close();
    assert.equal(clock.pendingTimers, 0);
  });

  it('checks NAS identity against nas-identifier / name and nas-ip-address / listen', () => {
    assert.deepEqual(nasIdentity(config()), { nasIpAddresses: [], nasIdentifier: 'nas-one' });
    assert.deepEqual(nasIdentity(config({ 'nas-identifier': 'x', 'nas-ip-address': '192.0.2.5' })), {
      nasIpAddresses: ['192.0.2.5'],
      nasIdentifier: 'x',
    });
    const { das } = setup();
    const mismatch = das.handle(
      request(40, 9, [
        [32, Buffer.from('pptp-ts')],
        [1, Buffer.from('bob')],
      ]),
      DAC,
    );
    assert.equal(mismatch?.[0], 42);
    const ours = das.handle(
      request(40, 10, [
        [32, Buffer.from('nas-one')],
        [1, Buffer.from('bob')],
      ]),
      DAC,
    );
    assert.equal(ours?.[0], 41);
  });

  it('counts requests by kind and result, and NAKs by Error-Cause', async () => {
    const { das } = setup();
    const registry = new Registry();
    registerDasMetrics(registry, das);
    das.handle(request(40, 1, [[1, Buffer.from('alice')]]), DAC);
    das.handle(request(40, 1, [[1, Buffer.from('alice')]]), DAC);
    das.handle(request(43, 2, [[1, Buffer.from('nobody')]]), DAC);
    assert.equal(
      das.handle(request(40, 3, [[1, Buffer.from('bob')]]), { address: '127.0.0.2', port: 1 }),
      undefined,
    );
    const text = await registry.metrics();
    assert.match(text, /pptp_das_requests_total\{kind="disconnect",result="ack"\} 1/);
    assert.match(text, /pptp_das_requests_total\{kind="disconnect",result="duplicate"\} 1/);
    assert.match(text, /pptp_das_requests_total\{kind="coa",result="nak"\} 1/);
    assert.match(text, /pptp_das_requests_total\{kind="disconnect",result="unknown-client"\} 1/);
    assert.match(text, /pptp_das_naks_total\{kind="coa",error_cause="503"\} 1/);
  });
});
