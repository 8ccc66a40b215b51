/**
 * The accounting engine driven by hand: time is a number the test moves, a
 * fake server decodes and verifies what the engine sends (RFC 2866 §3
 * Request Authenticator) and answers when the test says so. Attributes of
 * Start/Interim/Stop/On/Off, interim timing, gigawords, terminate causes,
 * order, the outage pause and probe, Acct-Delay-Time, the bounds of the
 * queue, expiry and restore.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signResponse, verifyZeroAuthenticatorRequest } from '../../src/crypto/radius.js';
import { seededRandom } from '../../src/io/memory/random.js';
import type { Logger, LogLevel } from '../../src/log/logger.js';
import {
  type AccountingAction,
  type AccountingConfig,
  AccountingEngine,
  type AcctCounters,
  type AcctSession,
} from '../../src/radius/accounting.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import {
  AcctStatusType,
  AcctTerminateCause,
  decodeRadius,
  encodeRadius,
  getAttribute,
  getInteger,
  getText,
  RadiusAttr,
  RadiusCode,
  type RadiusPacket,
} from '../../src/wire/radius/index.js';

const SECRET = 'acct-secret';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

type Send = Extract<AccountingAction, { type: 'send' }>;
const sends = (a: readonly AccountingAction[]) => a.filter((x): x is Send => x.type === 'send');

function captureLogger(lines: { level: LogLevel; message: string }[]): Logger {
  const l: Logger = {
    name: 'test',
    enabled: () => true,
    log: (level, message) => lines.push({ level, message }),
    child: () => l,
  };
  return l;
}

function engine(over: Partial<AccountingConfig> = {}): AccountingEngine {
  const rnd = seededRandom(2866);
  return new AccountingEngine({
    client: {
      servers: [{ name: 's0', secret: SECRET }],
      random: (n) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256)),
      timeoutMs: 1000,
      retries: 2,
      deadTimeMs: 10_000,
    },
    nasIdentifier: 'nas-1',
    nasIpAddress: '192.0.2.1',
    interimInterval: 300,
    maxRecords: 100,
    maxAgeMs: 3_600_000,
    retryBaseMs: 5000,
    retryMaxMs: 60_000,
    ...over,
  });
}

/** Decodes a datagram the engine sent; asserts its RFC 2866 §3 Request Authenticator. */
function request(s: Send): RadiusPacket {
  assert.ok(verifyZeroAuthenticatorRequest(s.data, SECRET), 'Request Authenticator verifies');
  const p = decodeRadius(s.data);
  assert.equal(p.code, RadiusCode.AccountingRequest);
  return p;
}

function answer(e: AccountingEngine, now: number, s: Send): AccountingAction[] {
  const req = decodeRadius(s.data);
  const out = encodeRadius({
    code: RadiusCode.AccountingResponse,
    identifier: req.identifier,
    attributes: [],
  });
  signResponse(out, SECRET, req.authenticator);
  return e.receive(now, s.server, out);
}

/** Answers every send, and the sends that answering releases, until none are left. */
function answerAll(e: AccountingEngine, now: number, first: readonly AccountingAction[]): RadiusPacket[] {
  const seen: RadiusPacket[] = [];
  let pending = sends(first);
  while (pending.length) {
    const next: Send[] = [];
    for (const s of pending) {
      seen.push(request(s));
      next.push(...sends(answer(e, now, s)));
    }
    pending = next;
  }
  return seen;
}

/** Lets the client retransmit and give up (3 transmissions, 1 s each). */
function timeOut(e: AccountingEngine, from: number): { now: number; actions: AccountingAction[] } {
  const actions: AccountingAction[] = [];
  let now = from;
  for (let i = 0; i < 3; i++) {
    now += 1000;
    actions.push(...e.poll(now));
  }
  return { now, actions };
}

const status = (p: RadiusPacket) => getInteger(p, RadiusAttr.AcctStatusType);

function session(counters: { value: AcctCounters }, over: Partial<AcctSession> = {}): AcctSession {
  return {
    user: 'alice',
    callId: 4711,
    callingStationId: '203.0.113.10',
    framedIpAddress: '10.99.0.10',
    authentic: 'local',
    counters: () => counters.value,
    ...over,
  };
}

const zero: AcctCounters = { inOctets: 0, outOctets: 0, inPackets: 0, outPackets: 0 };

describe('accounting engine: records', () => {
  it('Accounting-On, then Start with the session attributes (RFC 2866 §5, RFC 2865 §5)', () => {
    const e = engine();
    const on = answerAll(e, T0, e.accountingOn(T0));
    assert.equal(on.length, 1);
    assert.equal(status(on[0]!), AcctStatusType.AccountingOn);
    assert.equal(getText(on[0]!, RadiusAttr.NasIdentifier), 'nas-1');
    assert.equal(getInteger(on[0]!, RadiusAttr.NasIpAddress), parseIpv4('192.0.2.1'));
    assert.equal(getText(on[0]!, RadiusAttr.AcctSessionId), `${e.bootId}-00000000`);

    const id = e.newSessionId();
    assert.match(id, /^[0-9A-F]{16}-00000001$/);
    const cls = Uint8Array.of(1, 2, 3, 250);
    const [start] = answerAll(
      e,
      T0 + 2500,
      e.start(T0 + 2500, id, session({ value: zero }, { classes: [cls], authentic: 'radius' })),
    );
    assert.ok(start);
    assert.equal(status(start), AcctStatusType.Start);
    assert.equal(getText(start, RadiusAttr.AcctSessionId), id);
    assert.equal(getText(start, RadiusAttr.UserName), 'alice');
    assert.equal(getInteger(start, RadiusAttr.NasPort), 4711);
    assert.equal(getInteger(start, RadiusAttr.NasPortType), 5);
    assert.equal(getInteger(start, RadiusAttr.ServiceType), 2);
    assert.equal(getInteger(start, RadiusAttr.FramedProtocol), 1);
    assert.equal(getInteger(start, RadiusAttr.FramedIpAddress), parseIpv4('10.99.0.10'));
    assert.equal(getText(start, RadiusAttr.CallingStationId), '203.0.113.10');
    assert.equal(getInteger(start, RadiusAttr.AcctAuthentic), 1);
    assert.deepEqual([...getAttribute(start, RadiusAttr.Class)!], [...cls]);
    assert.equal(getInteger(start, RadiusAttr.EventTimestamp), Math.floor((T0 + 2500) / 1000));
    assert.equal(getInteger(start, RadiusAttr.AcctDelayTime), 0);
    assert.equal(getInteger(start, RadiusAttr.AcctInputOctets), undefined, 'no usage in a Start');
    assert.equal(e.queued, 0);
  });

  it('Session ids are unique within a run and differ between runs', () => {
    const a = engine({ bootId: undefined });
    const ids = new Set(Array.from({ length: 1000 }, () => a.newSessionId()));
    assert.equal(ids.size, 1000);
    const rnd = seededRandom(7);
    const b = new AccountingEngine({
      client: {
        servers: [{ name: 's', secret: 'x' }],
        random: (n) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256)),
      },
      interimInterval: 0,
      maxRecords: 10,
      maxAgeMs: 1000,
    });
    assert.notEqual(a.bootId, b.bootId);
    assert.match(b.bootId, /^[0-9A-F]{16}$/);
  });

  it('Interim-Update every interval with the live counters; Stop with usage, gigawords, cause', () => {
    const e = engine({ interimInterval: 60 });
    const c = { value: zero };
    const id = e.newSessionId();
    answerAll(e, T0, e.start(T0, id, session(c)));
    assert.equal(e.nextDeadline(), T0 + 60_000);
    assert.deepEqual(sends(e.poll(T0 + 59_999)), []);
    c.value = { inOctets: 1000, outOctets: 2000, inPackets: 10, outPackets: 20 };
    const [i1] = answerAll(e, T0 + 60_000, e.poll(T0 + 60_000));
    assert.ok(i1);
    assert.equal(status(i1), AcctStatusType.InterimUpdate);
    assert.equal(getInteger(i1, RadiusAttr.AcctInputOctets), 1000);
    assert.equal(getInteger(i1, RadiusAttr.AcctOutputOctets), 2000);
    assert.equal(getInteger(i1, RadiusAttr.AcctInputPackets), 10);
    assert.equal(getInteger(i1, RadiusAttr.AcctOutputPackets), 20);
    assert.equal(getInteger(i1, RadiusAttr.AcctInputGigawords), 0);
    assert.equal(getInteger(i1, RadiusAttr.AcctSessionTime), 60);
    assert.equal(getInteger(i1, RadiusAttr.AcctTerminateCause), undefined);
    const [i2] = answerAll(e, T0 + 120_000, e.poll(T0 + 120_000));
    assert.equal(getInteger(i2!, RadiusAttr.AcctSessionTime), 120);

    // RFC 2869 §5.1: Acct-Input-Gigawords counts the 2^32 overflows of Acct-Input-Octets.
    const final = {
      inOctets: 5 * 2 ** 32 + 123,
      outOctets: 2 ** 32 - 1,
      inPackets: 7_000_000,
      outPackets: 9,
    };
    const [stop] = answerAll(
      e,
      T0 + 150_500,
      e.stop(T0 + 150_500, id, AcctTerminateCause.LostCarrier, final),
    );
    assert.ok(stop);
    assert.equal(status(stop), AcctStatusType.Stop);
    assert.equal(getInteger(stop, RadiusAttr.AcctInputOctets), 123);
    assert.equal(getInteger(stop, RadiusAttr.AcctInputGigawords), 5);
    assert.equal(getInteger(stop, RadiusAttr.AcctOutputOctets), 2 ** 32 - 1);
    assert.equal(getInteger(stop, RadiusAttr.AcctOutputGigawords), 0);
    assert.equal(getInteger(stop, RadiusAttr.AcctInputPackets), 7_000_000);
    assert.equal(getInteger(stop, RadiusAttr.AcctSessionTime), 150);
    assert.equal(getInteger(stop, RadiusAttr.AcctTerminateCause), AcctTerminateCause.LostCarrier);
    assert.equal(e.sessions, 0);
    assert.equal(e.nextDeadline(), undefined, 'no more interims after the Stop');
    assert.deepEqual(e.stats.delivered, { start: 1, interim: 2, stop: 1, on: 0, off: 0 });
  });

  it('a per-session Acct-Interim-Interval overrides the configured one, raised to 60 s (RFC 2869 §5.16)', () => {
    const e = engine({ interimInterval: 0 });
    const a = e.newSessionId();
    const b = e.newSessionId();
    answerAll(e, T0, e.start(T0, a, session({ value: zero }, { interimInterval: 10 })));
    answerAll(e, T0, e.start(T0, b, session({ value: zero })));
    assert.equal(e.nextDeadline(), T0 + 60_000);
    const out = answerAll(e, T0 + 60_000, e.poll(T0 + 60_000));
    assert.deepEqual(
      out.map((p) => getText(p, RadiusAttr.AcctSessionId)),
      [a],
      'only the session with an interval reports',
    );
    e.setInterimInterval(T0 + 60_000, b, 120);
    assert.equal(e.nextDeadline(), T0 + 120_000);
    const both = answerAll(e, T0 + 180_000, e.poll(T0 + 180_000));
    assert.deepEqual(both.map((p) => getText(p, RadiusAttr.AcctSessionId)).sort(), [a, b].sort());
  });
});

describe('accounting engine: queue', () => {
  it('per session, a Stop waits until its Start is answered', () => {
    const e = engine();
    const id = e.newSessionId();
    const start = sends(e.start(T0, id, session({ value: zero })));
    assert.equal(start.length, 1);
    const stop = e.stop(T0 + 100, id, AcctTerminateCause.UserRequest, zero);
    assert.deepEqual(sends(stop), [], 'Stop held back while Start is in flight');
    const after = sends(answer(e, T0 + 200, start[0]!));
    assert.equal(after.length, 1);
    assert.equal(status(request(after[0]!)), AcctStatusType.Stop);
  });

  it('other sessions go out side by side', () => {
    const e = engine();
    const out = [
      ...e.start(T0, e.newSessionId(), session({ value: zero })),
      ...e.start(T0, e.newSessionId(), session({ value: zero }, { callId: 2 })),
    ];
    assert.equal(sends(out).length, 2);
  });

  it('Accounting-Off waits for every Stop before it; Accounting-On holds back what follows', () => {
    const e = engine();
    const on = sends(e.accountingOn(T0));
    const id = e.newSessionId();
    assert.deepEqual(sends(e.start(T0, id, session({ value: zero }))), [], 'Start waits for the On');
    const started = sends(answer(e, T0, on[0]!));
    assert.equal(status(request(started[0]!)), AcctStatusType.Start);
    answer(e, T0, started[0]!);
    const stop = sends(e.stop(T0 + 1000, id, AcctTerminateCause.NasReboot, zero));
    assert.equal(stop.length, 1);
    assert.deepEqual(sends(e.accountingOff(T0 + 1000)), [], 'Off waits for the Stop');
    const off = sends(answer(e, T0 + 1000, stop[0]!));
    assert.equal(status(request(off[0]!)), AcctStatusType.AccountingOff);
  });

  it('an outage: the record fails on every server, the queue pauses, then one probe; Acct-Delay-Time grows', () => {
    const e = engine({ maxInFlight: 8 });
    const ids = [e.newSessionId(), e.newSessionId(), e.newSessionId()];
    const first = sends(e.start(T0, ids[0]!, session({ value: zero })));
    assert.equal(first.length, 1);
    assert.equal(getInteger(request(first[0]!), RadiusAttr.AcctDelayTime), 0);
    // Retransmissions: each copy with a new Identifier and the Delay-Time it has accumulated (RFC 2866 §5.2).
    const r1 = sends(e.poll(T0 + 1000));
    const r2 = sends(e.poll(T0 + 2000));
    assert.equal(getInteger(request(r1[0]!), RadiusAttr.AcctDelayTime), 1);
    assert.equal(getInteger(request(r2[0]!), RadiusAttr.AcctDelayTime), 2);
    assert.notEqual(decodeRadius(r1[0]!.data).identifier, decodeRadius(first[0]!.data).identifier);
    e.start(T0 + 2500, ids[1]!, session({ value: zero }, { callId: 2 }));
    const gaveUp = e.poll(T0 + 3000);
    assert.equal(gaveUp.filter((a) => a.type === 'failed').length, 1, 'the first Start failed');
    // Paused: a new record does not go out.
    assert.deepEqual(sends(e.start(T0 + 4000, ids[2]!, session({ value: zero }, { callId: 3 }))), []);
    // The second Start, sent before the pause, fails during it without making it longer.
    const more = [...e.poll(T0 + 3500), ...e.poll(T0 + 4500), ...e.poll(T0 + 5500)];
    assert.equal(more.filter((a) => a.type === 'failed').length, 1);
    assert.equal(e.queued, 3, 'failed records stay queued');
    assert.deepEqual(e.stats.failed.start, 2);
    assert.deepEqual(sends(e.poll(T0 + 7999)), []);
    assert.equal(e.nextDeadline(), T0 + 8000);
    // The pause ends: only the first record goes, as a probe.
    const probe = sends(e.poll(T0 + 8000));
    assert.equal(probe.length, 1);
    // While the probe is out, the next deadline is its time-out, not the pause that ended (no busy loop).
    assert.equal(e.nextDeadline(), T0 + 9000);
    const p = request(probe[0]!);
    assert.equal(getText(p, RadiusAttr.AcctSessionId), ids[0]);
    assert.equal(getInteger(p, RadiusAttr.AcctDelayTime), 8);
    assert.equal(getInteger(p, RadiusAttr.EventTimestamp), Math.floor(T0 / 1000), 'the event time stays');
    // The probe fails too: the next pause is twice as long.
    const again = timeOut(e, T0 + 8000);
    assert.equal(again.actions.filter((a) => a.type === 'failed').length, 1);
    assert.deepEqual(sends(e.poll(again.now + 9999)), []);
    const probe2 = sends(e.poll(again.now + 10_000));
    assert.equal(probe2.length, 1);
    // The server is back: the answer releases everything else.
    const rest = answerAll(e, again.now + 10_000, probe2);
    assert.equal(rest.length, 3);
    assert.deepEqual(
      rest.map((x) => getText(x, RadiusAttr.AcctSessionId)),
      ids,
    );
    assert.equal(
      getInteger(rest[2]!, RadiusAttr.AcctDelayTime),
      Math.floor((again.now + 10_000 - T0 - 4000) / 1000),
    );
    assert.equal(e.queued, 0);
  });

  it('full: the oldest Interim-Update goes first, every drop counted, one log line per burst', () => {
    const lines: { level: LogLevel; message: string }[] = [];
    const e = engine({ maxRecords: 4, interimInterval: 60, logger: captureLogger(lines), maxInFlight: 1 });
    // An outage from the start: the first Start fails and the queue pauses.
    const a = e.newSessionId();
    const b = e.newSessionId();
    e.start(T0, a, session({ value: zero }));
    e.start(T0, b, session({ value: zero }, { callId: 2 }));
    timeOut(e, T0);
    assert.equal(e.queued, 2);
    e.poll(T0 + 60_000); // one Interim per session: 4 records
    assert.equal(e.queued, 4);
    const before = e.records().map((r) => `${r.kind}:${r.sessionId}`);
    assert.deepEqual(before, [`start:${a}`, `start:${b}`, `interim:${a}`, `interim:${b}`]);
    const stopA = e.stop(T0 + 61_000, a, AcctTerminateCause.UserRequest, zero);
    const removed = stopA.filter((x) => x.type === 'removed');
    assert.equal(removed.length, 1);
    assert.equal(removed[0]!.type === 'removed' && removed[0]!.outcome, 'queue-full');
    assert.deepEqual(
      e.records().map((r) => `${r.kind}:${r.sessionId}`),
      [`start:${a}`, `start:${b}`, `interim:${b}`, `stop:${a}`],
    );
    e.stop(T0 + 62_000, b, AcctTerminateCause.UserRequest, zero);
    assert.deepEqual(
      e.records().map((r) => `${r.kind}:${r.sessionId}`),
      [`start:${a}`, `start:${b}`, `stop:${a}`, `stop:${b}`],
    );
    // No Interim left: the oldest record goes (the Start whose Stop is still queued).
    e.accountingOff(T0 + 63_000);
    assert.deepEqual(
      e.records().map((r) => `${r.kind}`),
      ['start', 'stop', 'stop', 'off'],
    );
    assert.equal(e.stats.dropped['queue-full'], 3);
    assert.equal(
      lines.filter((l) => l.message === 'accounting records dropped').length,
      1,
      'one line per burst',
    );
  });

  it('a newer Interim-Update supersedes the one still waiting', () => {
    const e = engine({ interimInterval: 60, maxInFlight: 1 });
    const a = e.newSessionId();
    const b = e.newSessionId();
    e.start(T0, a, session({ value: zero }));
    e.start(T0, b, session({ value: zero }, { callId: 2 }));
    timeOut(e, T0);
    e.poll(T0 + 60_000);
    e.poll(T0 + 120_000);
    assert.deepEqual(
      e.records().map((r) => `${r.kind}:${r.sessionId}`),
      [`start:${a}`, `start:${b}`, `interim:${a}`, `interim:${b}`],
    );
    assert.equal(e.stats.superseded, 2);
    assert.equal(e.records()[2]!.createdAt, T0 + 120_000);
  });

  it('records older than max-age are given up and counted', () => {
    const e = engine({ maxAgeMs: 30_000 });
    const id = e.newSessionId();
    e.start(T0, id, session({ value: zero }));
    timeOut(e, T0);
    const out = e.poll(T0 + 30_001);
    assert.ok(out.some((x) => x.type === 'removed' && x.outcome === 'expired'));
    assert.equal(e.queued, 0);
    assert.equal(e.stats.dropped.expired, 1);
  });

  it("restore: an earlier run's records go first, with the Delay-Time of their age", () => {
    const old = engine();
    const id = old.newSessionId();
    old.start(T0, id, session({ value: zero }));
    timeOut(old, T0);
    old.stop(T0 + 5000, id, AcctTerminateCause.NasReboot, zero);
    old.accountingOff(T0 + 5000);
    const saved = old.records();
    assert.deepEqual(
      saved.map((r) => r.kind),
      ['start', 'stop', 'off'],
    );
    const later = T0 + 600_000;
    const e = engine({ bootId: '00112233AABBCCDD' });
    const sent = answerAll(e, later, e.restore(later, saved));
    assert.deepEqual(sent.map(status), [
      AcctStatusType.Start,
      AcctStatusType.Stop,
      AcctStatusType.AccountingOff,
    ]);
    assert.equal(getInteger(sent[0]!, RadiusAttr.AcctDelayTime), 600);
    assert.equal(getInteger(sent[1]!, RadiusAttr.AcctDelayTime), 595);
    // New records queue behind the restored ones and get ids above them.
    const on = e.accountingOn(later);
    const stored = on.find((x) => x.type === 'stored');
    assert.ok(stored && stored.type === 'stored' && stored.record.id > saved[2]!.id);
  });
});
