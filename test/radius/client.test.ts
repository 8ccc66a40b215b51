/**
 * The RADIUS client engine, driven by hand: a fake server answers what the
 * engine sends (signed with the crypto under test's counterpart), time is a
 * number the test moves. Retransmission, fail-over, dead servers,
 * Identifier exhaustion, the bounded queue, and every way a reply is
 * dropped.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { revealPassword, signResponse, verifyZeroAuthenticatorRequest } from '../../src/crypto/radius.js';
import { seededRandom } from '../../src/io/memory/random.js';
import {
  RadiusClient,
  type RadiusClientAction,
  type RadiusClientConfig,
  type RadiusRequest,
} from '../../src/radius/radius-client.js';
import { bytesEqual, fromUtf8 } from '../../src/wire/bytes.js';
import {
  AcctStatusType,
  decodeRadius,
  encodeRadius,
  getAttribute,
  getInteger,
  integerAttribute,
  RadiusAttr,
  type RadiusAttribute,
  RadiusCode,
  textAttribute,
} from '../../src/wire/radius/index.js';

const SECRETS = ['secret-a', 'secret-b'];

function engine(over: Partial<RadiusClientConfig> = {}): RadiusClient {
  const rnd = seededRandom(2865);
  return new RadiusClient({
    servers: SECRETS.map((secret, i) => ({ name: `s${i}`, secret })),
    random: (n) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256)),
    timeoutMs: 1000,
    retries: 2,
    deadTimeMs: 10_000,
    ...over,
  });
}

const access = (user = 'bob', password: string | undefined = 'pw'): RadiusRequest => ({
  code: RadiusCode.AccessRequest,
  attributes: [textAttribute(RadiusAttr.UserName, user)],
  userPassword: password,
});

type Send = Extract<RadiusClientAction, { type: 'send' }>;
const sends = (a: RadiusClientAction[]) => a.filter((x): x is Send => x.type === 'send');

interface ReplyOptions {
  code?: number;
  secret?: string;
  messageAuthenticator?: 'valid' | 'absent' | 'corrupt';
  attributes?: RadiusAttribute[];
}

/** What a server with `secret` would answer to `send`. */
function reply(send: Send, o: ReplyOptions = {}): Uint8Array {
  const req = decodeRadius(send.data);
  const attrs: RadiusAttribute[] = [];
  if ((o.messageAuthenticator ?? 'valid') !== 'absent') {
    attrs.push({ type: RadiusAttr.MessageAuthenticator, value: new Uint8Array(16) });
  }
  attrs.push(...(o.attributes ?? []));
  const code =
    o.code ??
    (req.code === RadiusCode.AccountingRequest ? RadiusCode.AccountingResponse : RadiusCode.AccessAccept);
  const out = encodeRadius({ code, identifier: req.identifier, attributes: attrs });
  if (o.messageAuthenticator === 'corrupt') {
    // Sign, then flip a Message-Authenticator bit and fix the Response Authenticator with MD5 alone.
    signResponse(out, o.secret ?? SECRETS[send.server]!, req.authenticator);
    out[22]! ^= 1;
    signResponseKeepingMa(out, o.secret ?? SECRETS[send.server]!, req.authenticator);
    return out;
  }
  signResponse(out, o.secret ?? SECRETS[send.server]!, req.authenticator);
  return out;
}

/** RFC 2865 §3 Response Authenticator only (the Message-Authenticator as it is). */
function signResponseKeepingMa(packet: Uint8Array, secret: string, ra: Uint8Array): void {
  packet.set(ra, 4);
  packet.set(createHash('md5').update(packet).update(secret).digest(), 4);
}

describe('RADIUS client engine', () => {
  it('sends an Access-Request with Message-Authenticator first and User-Password hidden with the server secret', () => {
    const c = engine();
    const [s] = sends(c.submit(0, 1, access('bob', 'hunter2')));
    assert.ok(s);
    assert.equal(s.server, 0);
    const p = decodeRadius(s.data);
    assert.equal(p.attributes[0]!.type, RadiusAttr.MessageAuthenticator);
    const hidden = getAttribute(p, RadiusAttr.UserPassword)!;
    assert.equal(fromUtf8(revealPassword(hidden, SECRETS[0]!, p.authenticator)), 'hunter2');
    const out = c.receive(10, 0, reply(s, { attributes: [integerAttribute(RadiusAttr.SessionTimeout, 99)] }));
    assert.equal(out.length, 1);
    const r = out[0]!;
    assert.equal(r.type, 'reply');
    assert.ok(r.type === 'reply' && r.handle === 1 && bytesEqual(r.requestAuthenticator, p.authenticator));
    assert.equal(c.outstanding, 0);
    assert.equal(c.nextDeadline(), undefined);
  });

  it('retransmits the same datagram, then fails over with a new Identifier, Authenticator and secret, then fails', () => {
    const c = engine();
    const first = sends(c.submit(0, 7, access()))[0]!;
    assert.equal(c.nextDeadline(), 1000);
    assert.deepEqual(c.poll(999), []);
    for (const t of [1000, 2000]) {
      const [again] = sends(c.poll(t));
      assert.ok(
        again && again.server === 0 && bytesEqual(again.data, first.data),
        'identical retransmission',
      );
    }
    const [moved] = sends(c.poll(3000));
    assert.ok(moved);
    assert.equal(moved.server, 1);
    const p0 = decodeRadius(first.data);
    const p1 = decodeRadius(moved.data);
    assert.ok(!bytesEqual(p0.authenticator, p1.authenticator));
    const hidden = getAttribute(p1, RadiusAttr.UserPassword)!;
    assert.equal(fromUtf8(revealPassword(hidden, SECRETS[1]!, p1.authenticator)), 'pw');
    assert.equal(c.stats.failovers, 1);
    // A late answer from server 0 now matches nothing.
    assert.deepEqual(c.receive(3001, 0, reply(first)), []);
    assert.equal(c.stats.unmatched, 1);
    sends(c.poll(4000));
    sends(c.poll(5000));
    const out = c.poll(6000);
    assert.deepEqual(
      out.map((a) => [a.type, a.type === 'failed' && a.reason]),
      [['failed', 'timeout']],
    );
    assert.equal(c.stats.retransmits, 4);
    assert.equal(c.outstanding, 0);
  });

  it('skips a server that timed out for new requests until its dead time ends, and answers revive it', () => {
    const c = engine();
    sends(c.submit(0, 1, access()));
    c.poll(1000);
    c.poll(2000);
    const [moved] = sends(c.poll(3000));
    assert.equal(moved!.server, 1);
    const [next] = sends(c.submit(3500, 2, access()));
    assert.equal(next!.server, 1, 'server 0 is resting');
    c.receive(3600, 1, reply(moved!));
    c.receive(3600, 1, reply(next!));
    const [later] = sends(c.submit(3000 + 10_000, 3, access()));
    assert.equal(later!.server, 0, 'dead time over: back to the first server');
  });

  it('never has two requests on one server with the same Identifier; the 257th waits for a free one', () => {
    const c = engine({ maxOutstanding: 1000, servers: [{ name: 'only', secret: 'x' }] });
    const all: Send[] = [];
    for (let h = 0; h < 300; h++) all.push(...sends(c.submit(0, h, access(`u${h}`))));
    assert.equal(all.length, 256);
    assert.equal(new Set(all.map((s) => s.data[1])).size, 256);
    assert.equal(c.queued, 44);
    const s5 = all[5]!;
    const out = c.receive(1, 0, reply(s5, { secret: 'x' }));
    const [next] = sends(out);
    assert.ok(next, 'a queued request went out');
    assert.equal(next.data[1], s5.data[1], 'on the Identifier just freed');
    assert.equal(c.queued, 43);
  });

  it('bounds outstanding and queued requests; beyond both, submit fails with overloaded', () => {
    const c = engine({ maxOutstanding: 2, maxQueued: 1 });
    assert.equal(sends(c.submit(0, 1, access())).length, 1);
    assert.equal(sends(c.submit(0, 2, access())).length, 1);
    assert.deepEqual(c.submit(0, 3, access()), []);
    const out = c.submit(0, 4, access());
    assert.deepEqual(
      out.map((a) => [a.type, a.type === 'failed' && a.reason, a.type === 'failed' && a.handle]),
      [['failed', 'overloaded', 4]],
    );
    assert.equal(c.stats.overloaded, 1);
    assert.equal(c.outstanding, 2);
    assert.equal(c.queued, 1);
    assert.throws(() => c.submit(0, 3, access()), RangeError, 'a handle in use is refused');
  });

  it('drops and counts a reply with a wrong Response Authenticator, then accepts the genuine one', () => {
    const c = engine();
    const [s] = sends(c.submit(0, 1, access()));
    assert.deepEqual(c.receive(1, 0, reply(s!, { secret: 'wrong' })), []);
    assert.equal(c.stats.badAuthenticator, 1);
    assert.equal(c.outstanding, 1, 'still waiting');
    assert.equal(c.receive(2, 0, reply(s!))[0]?.type, 'reply');
  });

  it('drops and counts Access replies without Message-Authenticator or with a wrong one (RFC 3579 §3.2, Blast-RADIUS)', () => {
    const c = engine();
    const [s] = sends(c.submit(0, 1, access()));
    assert.deepEqual(c.receive(1, 0, reply(s!, { messageAuthenticator: 'absent' })), []);
    assert.equal(c.stats.missingMessageAuthenticator, 1);
    assert.deepEqual(c.receive(1, 0, reply(s!, { messageAuthenticator: 'corrupt' })), []);
    assert.equal(c.stats.badMessageAuthenticator, 1);
    assert.equal(c.stats.badAuthenticator, 0, 'both had a valid Response Authenticator');
    assert.equal(c.outstanding, 1);
  });

  it('a time-out after dropped replies says why they were dropped', () => {
    const c = engine({ servers: [{ name: 's0', secret: SECRETS[0]! }], retries: 1 });
    const [s] = sends(c.submit(0, 1, access()));
    assert.deepEqual(c.receive(1, 0, reply(s!, { messageAuthenticator: 'absent' })), []);
    sends(c.poll(1000));
    const out = c.poll(2000);
    assert.equal(out.length, 1);
    const f = out[0]!;
    assert.ok(f.type === 'failed' && f.reason === 'timeout');
    assert.equal(
      f.detail,
      'no reply from 1 server(s) after 2 tries each (replies dropped: no Message-Authenticator)',
    );
    // Without a dropped reply the detail stays as it was.
    const [t] = sends(c.submit(3000, 2, access()));
    assert.ok(t);
    sends(c.poll(4000));
    const plain = c.poll(5000)[0]!;
    assert.ok(plain.type === 'failed' && plain.detail === 'no reply from 1 server(s) after 2 tries each');
  });

  it('accepts an Accounting-Response without Message-Authenticator; its request carries the RFC 2866 authenticator', () => {
    const c = engine();
    const [s] = sends(
      c.submit(0, 1, {
        code: RadiusCode.AccountingRequest,
        attributes: [integerAttribute(RadiusAttr.AcctStatusType, AcctStatusType.Start)],
      }),
    );
    assert.equal(getAttribute(decodeRadius(s!.data), RadiusAttr.MessageAuthenticator), undefined);
    assert.ok(verifyZeroAuthenticatorRequest(s!.data, SECRETS[0]!));
    assert.equal(c.receive(1, 0, reply(s!, { messageAuthenticator: 'absent' }))[0]?.type, 'reply');
  });

  it('retransmits accounting with a grown Acct-Delay-Time under a new Identifier (RFC 2866 §5.2)', () => {
    const c = engine();
    const acct = {
      code: RadiusCode.AccountingRequest as const,
      attributes: [
        integerAttribute(RadiusAttr.AcctStatusType, AcctStatusType.Stop),
        integerAttribute(RadiusAttr.AcctDelayTime, 5),
      ],
    };
    const [first] = sends(c.submit(0, 1, acct));
    assert.equal(getInteger(decodeRadius(first!.data), RadiusAttr.AcctDelayTime), 5, 'as submitted');
    const [second] = sends(c.poll(1000));
    const [third] = sends(c.poll(2500));
    const p2 = decodeRadius(second!.data);
    const p3 = decodeRadius(third!.data);
    assert.equal(getInteger(p2, RadiusAttr.AcctDelayTime), 6);
    assert.equal(getInteger(p3, RadiusAttr.AcctDelayTime), 7);
    assert.equal(new Set([first!.data[1], p2.identifier, p3.identifier]).size, 3, 'three Identifiers');
    assert.ok(verifyZeroAuthenticatorRequest(third!.data, SECRETS[0]!));
    assert.deepEqual(
      c.receive(2600, 0, reply(second!)),
      [],
      'an answer to the superseded copy matches nothing',
    );
    assert.equal(c.stats.unmatched, 1);
    assert.equal(c.receive(2600, 0, reply(third!))[0]?.type, 'reply');
    assert.equal(c.outstanding, 0);
  });

  it('drops duplicates, unexpected Codes and malformed datagrams, counting each', () => {
    const c = engine();
    const [s] = sends(c.submit(0, 1, access()));
    assert.deepEqual(c.receive(1, 0, reply(s!, { code: RadiusCode.AccountingResponse })), []);
    assert.equal(c.stats.unexpectedCode, 1);
    const good = reply(s!);
    assert.equal(c.receive(2, 0, good).length, 1);
    assert.deepEqual(c.receive(3, 0, good), [], 'the duplicate');
    assert.equal(c.stats.unmatched, 1);
    assert.deepEqual(c.receive(4, 0, good.subarray(0, 25)), []);
    assert.deepEqual(c.receive(4, 0, new Uint8Array(3)), []);
    assert.equal(c.stats.malformed, 2);
    assert.equal(c.stats.replies, 1);
  });

  it('cancel frees the Identifier and the request never reports', () => {
    const c = engine({ servers: [{ name: 'only', secret: 'x' }] });
    const [s] = sends(c.submit(0, 1, access()));
    c.cancel(1);
    assert.equal(c.outstanding, 0);
    assert.deepEqual(c.poll(100_000), []);
    assert.deepEqual(c.receive(1, 0, reply(s!, { secret: 'x' })), []);
    assert.equal(c.stats.unmatched, 1);
  });

  it('fails a request that cannot be encoded with too-large, without touching the others', () => {
    const c = engine();
    const huge = Array.from({ length: 20 }, () => ({ type: RadiusAttr.Class, value: new Uint8Array(253) }));
    const out = c.submit(0, 1, { code: RadiusCode.AccessRequest, attributes: huge });
    assert.equal(out[0]?.type === 'failed' && out[0].reason, 'too-large');
    assert.equal(c.outstanding, 0);
    assert.equal(sends(c.submit(0, 2, access())).length, 1);
  });
});
