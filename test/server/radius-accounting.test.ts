/**
 * The accounting glue of `pptp-ts serve` over real UDP on 127.0.0.1, with a
 * small accounting server that verifies each Request Authenticator and
 * answers only while it is told to: Accounting-On at start, Start and Stop
 * from the observer events (with the cause's Acct-Terminate-Cause and the
 * session's counters), the spool kept across a restart, Accounting-Off at
 * close, and the metrics (checked by `promtool check metrics`).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { signResponse, verifyZeroAuthenticatorRequest } from '../../src/crypto/radius.js';
import { createMemoryLogger } from '../../src/io/log.js';
import { validateServerConfig } from '../../src/server/config.js';
import type { ServerSessionDetail } from '../../src/server/observer.js';
import { RadiusAccounting } from '../../src/server/radius-accounting.js';
import type { SessionStats } from '../../src/session/session.js';
import {
  AcctStatusType,
  decodeRadius,
  encodeRadius,
  getInteger,
  getText,
  RadiusAttr,
  RadiusCode,
  type RadiusPacket,
} from '../../src/wire/radius/index.js';
import { checkMetricsWithPromtool } from '../helpers/tools.js';

const SECRET = 'glue-secret';
const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-acct-glue-'));
after(() => rmSync(dir, { recursive: true, force: true }));

class FakeAccountingServer {
  readonly got: RadiusPacket[] = [];
  answering = true;
  /** Requests to leave unanswered (and unrecorded) even while answering. */
  ignore: (p: RadiusPacket) => boolean = () => false;
  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (msg, rinfo) => {
      const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      if (!this.answering) return;
      assert.ok(verifyZeroAuthenticatorRequest(data, SECRET), 'Request Authenticator verifies');
      const req = decodeRadius(data);
      if (this.ignore(req)) return;
      this.got.push(req);
      const out = encodeRadius({
        code: RadiusCode.AccountingResponse,
        identifier: req.identifier,
        attributes: [],
      });
      signResponse(out, SECRET, req.authenticator);
      socket.send(out, rinfo.port, rinfo.address);
    });
  }
  static async open(): Promise<FakeAccountingServer> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    return new FakeAccountingServer(s, s.address().port);
  }
  types(): (number | undefined)[] {
    return this.got.map((p) => getInteger(p, RadiusAttr.AcctStatusType));
  }
  close(): void {
    this.socket.close();
  }
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function config(port: number, spool: string) {
  return validateServerConfig({
    listen: '192.0.2.1',
    'local-ip': '10.99.0.1',
    pool: '10.99.0.10-10.99.0.20',
    secrets: '/dev/null',
    radius: {
      order: ['secrets'],
      accounting: [{ address: `127.0.0.1:${port}`, secret: SECRET }],
      timeout: 0.2,
      retries: 0,
      'dead-time': 0,
      'accounting-queue': { path: spool },
    },
  });
}

function detail(stats: SessionStats): ServerSessionDetail {
  return {
    id: 7,
    callId: 4242,
    peer: '198.51.100.9',
    user: 'carol',
    address: '10.99.0.12',
    ifname: 'pptps0',
    phase: 'Network',
    up: true,
    startedAt: 0,
    upAt: 0,
    auth: 'MS-CHAP-v2',
    mppe: '128-bit stateless',
    stats,
  };
}

const stats = (rx: number, tx: number) =>
  ({
    ppp: { rxBytes: rx, txBytes: tx, rxPackets: 3, txPackets: 4 },
    gre: {},
  }) as unknown as SessionStats;

describe('RADIUS accounting in serve', () => {
  it('On, Start, Stop with cause and counters; the spool survives a restart; Off; metrics', async () => {
    const fake = await FakeAccountingServer.open();
    const spool = join(dir, 'a.spool');
    const log = createMemoryLogger('debug');
    let acct = await RadiusAccounting.start({ config: config(fake.port, spool), log });
    try {
      const registry = new Registry();
      acct.registerMetrics(registry);
      await until(() => fake.types().includes(AcctStatusType.AccountingOn), 5000, 'Accounting-On');
      const s = stats(0, 0);
      acct.sessionUp(1.5, detail(s));
      await until(() => fake.types().includes(AcctStatusType.Start), 5000, 'Start');
      const start = fake.got.find((p) => getInteger(p, RadiusAttr.AcctStatusType) === AcctStatusType.Start)!;
      const id = getText(start, RadiusAttr.AcctSessionId)!;
      assert.equal(acct.serverIdOf(id), 7);
      assert.equal(acct.acctSessionIdOf(7), id);
      assert.equal(getText(start, RadiusAttr.UserName), 'carol');
      assert.equal(getInteger(start, RadiusAttr.NasPort), 4242);
      assert.equal(getText(start, RadiusAttr.NasIdentifier), 'pptp-ts');

      // The server goes silent; the session ends; the process "restarts" with the Stop still queued.
      fake.answering = false;
      acct.sessionEnded({
        stats: stats(5000, 6000),
        failure: undefined,
        wasUp: true,
        session: detail(s),
        cause: 'admin-reset',
        reason: 'kicked',
      });
      assert.equal(acct.serverIdOf(id), undefined, 'an ended session is forgotten');
      await until(() => acct.engine.stats.failed.stop === 1, 5000, 'the Stop to fail');
      const text = await registry.metrics();
      assert.match(text, /pptp_radius_accounting_requests_total\{type="stop",result="failed"\} 1/);
      assert.match(text, /pptp_radius_accounting_queue_length 1/);
      assert.match(text, /pptp_radius_accounting_requests_total\{type="start",result="delivered"\} 1/);
      assert.match(text, /pptp_radius_accounting_request_duration_seconds_count 2/);
      assert.match(text, /pptp_radius_accounting_dropped_total\{reason="queue-full"\} 0/);
      checkMetricsWithPromtool(text);
      // Close with no time left: the Stop and the Off stay in the spool.
      await acct.close(Date.now());
      fake.answering = true;
      const before = fake.got.length;
      acct = await RadiusAccounting.start({ config: config(fake.port, spool), log });
      await until(
        () => fake.types().slice(before).includes(AcctStatusType.AccountingOn),
        10_000,
        'the spooled records and the new Accounting-On',
      );
      const resent = fake.got.slice(before);
      assert.deepEqual(
        resent.map((p) => getInteger(p, RadiusAttr.AcctStatusType)),
        [AcctStatusType.Stop, AcctStatusType.AccountingOff, AcctStatusType.AccountingOn],
      );
      const stop = resent[0]!;
      assert.equal(getText(stop, RadiusAttr.AcctSessionId), id);
      assert.equal(getInteger(stop, RadiusAttr.AcctTerminateCause), 6, 'Admin-Reset');
      assert.equal(getInteger(stop, RadiusAttr.AcctInputOctets), 5000);
      assert.equal(getInteger(stop, RadiusAttr.AcctOutputOctets), 6000);
      assert.equal(getInteger(stop, RadiusAttr.AcctInputPackets), 3);
      await acct.close(Date.now() + 5000);
      assert.equal(getInteger(fake.got.at(-1)!, RadiusAttr.AcctStatusType), AcctStatusType.AccountingOff);
      assert.equal(acct.engine.queued, 0);
    } finally {
      await acct.close(Date.now());
      fake.close();
    }
  });

  it("accountingOnAnswered: false until this run's Accounting-On is answered (an earlier run's spooled one does not count), then true", async () => {
    const fake = await FakeAccountingServer.open();
    const spool = join(dir, 'on.spool');
    const log = createMemoryLogger('debug');
    const isOn = (p: RadiusPacket) =>
      getInteger(p, RadiusAttr.AcctStatusType) === AcctStatusType.AccountingOn;
    fake.answering = false;
    const first = await RadiusAccounting.start({ config: config(fake.port, spool), log });
    const firstOn = `${first.engine.bootId}-00000000`;
    // Nothing answered: its Accounting-On (and the Off of the close) stay in the spool.
    await first.close(Date.now());
    fake.answering = true;
    fake.ignore = (p) => isOn(p) && getText(p, RadiusAttr.AcctSessionId) !== firstOn;
    const acct = await RadiusAccounting.start({ config: config(fake.port, spool), log });
    try {
      assert.equal(await acct.accountingOnAnswered(Date.now() + 1500), false);
      assert.ok(
        fake.got.some((p) => isOn(p) && getText(p, RadiusAttr.AcctSessionId) === firstOn),
        "the earlier run's Accounting-On was answered",
      );
      fake.ignore = () => false;
      // The queue paused after the failed attempt; its probe is this run's Accounting-On.
      assert.equal(await acct.accountingOnAnswered(Date.now() + 20_000), true);
      const on = fake.got.filter(isOn).at(-1)!;
      assert.equal(getText(on, RadiusAttr.AcctSessionId), `${acct.engine.bootId}-00000000`);
    } finally {
      await acct.close(Date.now());
      fake.close();
    }
  });
});
