/**
 * The Dynamic Authorization Server engine (RFC 5176), fed requests built and
 * signed here byte by byte with node:crypto's MD5 and HMAC-MD5 (not the
 * project's RADIUS codec or crypto), and its replies checked the same way:
 * every NAK cause, the session matching rules, the silent drops, duplicates,
 * and the bounds.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { type DasConfig, DasEngine, type DasOutcome, type DasSession } from '../../src/radius/das.js';

const SECRET = 'das-secret';
const DAC = { address: '10.1.1.1', port: 40000 };
const NOW_EPOCH = 1_800_000_000;

const SESSIONS: DasSession[] = [
  { id: 1, user: 'alice', address: '10.99.0.10', acctSessionId: 'A1' },
  { id: 2, user: 'bob', address: '10.99.0.11', acctSessionId: 'B2' },
  { id: 3, user: 'alice', address: '10.99.0.12', acctSessionId: 'A3' },
  { id: 4, user: undefined, address: undefined },
];

type Attr = readonly [number, Uint8Array];
const text = (t: number, s: string): Attr => [t, Buffer.from(s, 'utf8')];
const int = (t: number, n: number): Attr => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return [t, b];
};
const ip = (t: number, a: string): Attr => [t, Uint8Array.from(a.split('.').map(Number))];

/**
 * RFC 5176 §2.3 / RFC 2866 §3: Request Authenticator = MD5(Code + Identifier
 * + Length + 16 zero octets + attributes + secret); §3.4: a
 * Message-Authenticator is HMAC-MD5 with the Authenticator field and its own
 * value zero, computed first.
 */
function request(
  code: number,
  identifier: number,
  attrs: readonly Attr[],
  o: { secret?: string; messageAuthenticator?: boolean; tamperMa?: boolean } = {},
): Buffer {
  const secret = o.secret ?? SECRET;
  const all: Attr[] = o.messageAuthenticator ? [[80, new Uint8Array(16)], ...attrs] : [...attrs];
  const body = Buffer.concat(all.map(([t, v]) => Buffer.concat([Buffer.from([t, v.length + 2]), v])));
  const p = Buffer.concat([Buffer.from([code, identifier, 0, 0]), Buffer.alloc(16), body]);
  p.writeUInt16BE(p.length, 2);
  if (o.messageAuthenticator) {
    const mac = createHmac('md5', secret).update(p).digest();
    if (o.tamperMa) mac[0]! ^= 1;
    mac.copy(p, 22);
  }
  createHash('md5').update(p).update(secret).digest().copy(p, 4);
  return p;
}

/** The reply's attributes, after checking both its authenticators independently. */
function checkReply(reply: Uint8Array, req: Buffer, secret = SECRET): { code: number; attrs: Attr[] } {
  const r = Buffer.from(reply);
  assert.equal(r.readUInt16BE(2), r.length);
  assert.equal(r[1], req[1], 'the Identifier of the request');
  // RFC 5176 §2.3: MD5(Code + Identifier + Length + Request Authenticator + attributes + secret).
  const copy = Buffer.from(r);
  req.copy(copy, 4, 4, 20);
  const want = createHash('md5').update(copy).update(secret).digest();
  assert.deepEqual(r.subarray(4, 20), want, 'Response Authenticator');
  const attrs: Attr[] = [];
  let off = 20;
  let ma = -1;
  while (off < r.length) {
    attrs.push([r[off]!, r.subarray(off + 2, off + r[off + 1]!)]);
    if (r[off] === 80) ma = off + 2;
    off += r[off + 1]!;
  }
  // §3.4: HMAC-MD5 with the Request Authenticator in the field and the attribute zeroed.
  assert.ok(ma > 0, 'replies carry a Message-Authenticator');
  copy.fill(0, ma, ma + 16);
  assert.deepEqual(r.subarray(ma, ma + 16), createHmac('md5', secret).update(copy).digest());
  return { code: r[0]!, attrs };
}

function errorCause(attrs: Attr[]): number | undefined {
  const a = attrs.find(([t]) => t === 101);
  return a ? Buffer.from(a[1]).readUInt32BE(0) : undefined;
}

function engine(over: Partial<DasConfig> = {}): DasEngine {
  return new DasEngine({
    clients: [{ address: DAC.address, secret: SECRET }],
    nasIpAddresses: ['192.0.2.1'],
    nasIdentifier: 'pptp-ts',
    ...over,
  });
}

let t = 0;
function send(e: DasEngine, data: Uint8Array, o: { from?: typeof DAC; now?: number } = {}): DasOutcome {
  t += 1;
  return e.receive({
    now: o.now ?? t,
    epochSeconds: NOW_EPOCH,
    from: o.from ?? DAC,
    data,
    sessions: () => SESSIONS,
  });
}

const DISCONNECT = 40;
const COA = 43;

function ids(o: DasOutcome): number[] {
  assert.equal(o.result, 'ack');
  assert.ok(o.result === 'ack' && o.change);
  return [...o.change.ids];
}

function nak(e: DasEngine, code: number, attrs: Attr[], cause: number): void {
  const req = request(code, 7, attrs);
  const o = send(e, req);
  assert.equal(o.result, 'nak', JSON.stringify(o.result === 'dropped' ? o.reason : o));
  assert.ok(o.result === 'nak');
  assert.equal(o.errorCause, cause);
  assert.equal(o.change, undefined);
  const r = checkReply(o.reply, req);
  assert.equal(r.code, code === DISCONNECT ? 42 : 45);
  assert.equal(errorCause(r.attrs), cause);
}

describe('DAS engine: Disconnect-Request', () => {
  it('ACKs a match by User-Name, for every session of that user, signed per RFC 5176 §2.3 and §3.4', () => {
    const e = engine();
    const req = request(DISCONNECT, 1, [text(1, 'alice')]);
    const o = send(e, req);
    assert.deepEqual(ids(o), [1, 3]);
    assert.ok(o.result === 'ack' && o.change?.type === 'disconnect');
    const r = checkReply(o.reply, req);
    assert.equal(r.code, 41);
    assert.equal(errorCause(r.attrs), undefined, 'no Error-Cause in an ACK');
    assert.equal(e.stats.acks, 1);
  });

  it('matches by Framed-IP-Address and by Acct-Session-Id; several attributes must all match', () => {
    const e = engine();
    assert.deepEqual(ids(send(e, request(DISCONNECT, 1, [ip(8, '10.99.0.11')]))), [2]);
    assert.deepEqual(ids(send(e, request(DISCONNECT, 2, [text(44, 'A3')]))), [3]);
    assert.deepEqual(ids(send(e, request(DISCONNECT, 3, [text(1, 'alice'), ip(8, '10.99.0.12')]))), [3]);
    assert.deepEqual(ids(send(e, request(DISCONNECT, 4, [text(1, 'alice'), text(44, 'A1')]))), [1]);
    // alice does not have bob's address, nor bob's Acct-Session-Id.
    nak(e, DISCONNECT, [text(1, 'alice'), ip(8, '10.99.0.11')], 503);
    nak(e, DISCONNECT, [text(1, 'alice'), text(44, 'B2')], 503);
  });

  it('NAKs 503 Session Context Not Found when nothing matches', () => {
    nak(engine(), DISCONNECT, [text(1, 'carol')], 503);
    nak(engine(), DISCONNECT, [ip(8, '10.99.0.99')], 503);
  });

  it('NAKs 401 Unsupported Attribute for anything but identification (§3: "MUST contain only ...")', () => {
    nak(engine(), DISCONNECT, [text(1, 'alice'), int(27, 60)], 401); // Session-Timeout
    nak(engine(), DISCONNECT, [text(1, 'alice'), text(11, 'filter')], 401); // Filter-Id
    nak(engine(), DISCONNECT, [text(1, 'alice'), int(6, 17)], 401); // §3.2: no Service-Type here
    nak(engine(), DISCONNECT, [text(1, 'alice'), text(31, '198.51.100.7')], 401); // not an id we keep
  });

  it('NAKs 403 NAS Identification Mismatch for a NAS-IP-Address, NAS-Identifier or NAS-IPv6-Address not ours', () => {
    nak(engine(), DISCONNECT, [ip(4, '192.0.2.9'), text(1, 'alice')], 403);
    nak(engine(), DISCONNECT, [text(32, 'other-nas'), text(1, 'alice')], 403);
    nak(engine(), DISCONNECT, [[95, new Uint8Array(16)], text(1, 'alice')], 403);
    nak(engine({ nasIpAddresses: [] }), DISCONNECT, [ip(4, '192.0.2.1'), text(1, 'alice')], 403);
    // Ours: accepted.
    const e = engine();
    assert.deepEqual(
      ids(send(e, request(DISCONNECT, 1, [ip(4, '192.0.2.1'), text(32, 'pptp-ts'), text(1, 'bob')]))),
      [2],
    );
  });

  it('NAKs 402 Missing Attribute without session identification', () => {
    nak(engine(), DISCONNECT, [], 402);
    nak(engine(), DISCONNECT, [ip(4, '192.0.2.1')], 402);
  });

  it('NAKs 404 Invalid Request for a repeated or wrongly sized attribute', () => {
    nak(engine(), DISCONNECT, [text(1, 'alice'), text(1, 'bob')], 404);
    nak(engine(), DISCONNECT, [[8, Uint8Array.of(10, 99, 0)]], 404);
    nak(engine(), DISCONNECT, [text(1, 'alice'), [55, Uint8Array.of(1, 2)]], 404);
  });

  it('gives a Reply-Message as the reason and echoes every Proxy-State in order (§3.1)', () => {
    const e = engine();
    const req = request(DISCONNECT, 9, [
      text(33, 'p1'),
      text(1, 'bob'),
      text(18, 'quota used up'),
      text(33, 'p2'),
    ]);
    const o = send(e, req);
    assert.ok(o.result === 'ack' && o.change?.type === 'disconnect');
    assert.equal(o.change.reason, 'quota used up');
    const r = checkReply(o.reply, req);
    assert.deepEqual(
      r.attrs.filter(([ty]) => ty === 33).map(([, v]) => Buffer.from(v).toString()),
      ['p1', 'p2'],
    );
    // A NAK echoes them too.
    const req2 = request(DISCONNECT, 10, [text(33, 'p3'), text(1, 'nobody')]);
    const o2 = send(e, req2);
    assert.ok(o2.result === 'nak');
    assert.deepEqual(
      checkReply(o2.reply, req2)
        .attrs.filter(([ty]) => ty === 33)
        .map(([, v]) => Buffer.from(v).toString()),
      ['p3'],
    );
  });

  it('accepts a valid Message-Authenticator and a current Event-Timestamp', () => {
    const e = engine();
    const req = request(DISCONNECT, 3, [text(1, 'bob'), int(55, NOW_EPOCH - 30)], {
      messageAuthenticator: true,
    });
    assert.deepEqual(ids(send(e, req)), [2]);
  });
});

describe('DAS engine: CoA-Request', () => {
  it('ACKs a Session-Timeout change for the matching sessions and echoes State (§3.3)', () => {
    const e = engine();
    const req = request(COA, 5, [text(1, 'alice'), int(27, 2), text(24, 'st8')]);
    const o = send(e, req);
    assert.ok(o.result === 'ack' && o.change?.type === 'session-timeout');
    assert.deepEqual([...o.change.ids], [1, 3]);
    assert.equal(o.change.seconds, 2);
    const r = checkReply(o.reply, req);
    assert.equal(r.code, 44);
    assert.deepEqual(r.attrs.find(([ty]) => ty === 24)?.[1], Buffer.from('st8'));
  });

  it('ACKs identification alone as no change', () => {
    const o = send(engine(), request(COA, 5, [text(1, 'bob')]));
    assert.equal(o.result, 'ack');
    assert.ok(o.result === 'ack');
    assert.equal(o.change, undefined);
  });

  it('NAKs 405 Unsupported Service for Service-Type (Authorize Only is not supported, §3.2)', () => {
    nak(engine(), COA, [text(1, 'bob'), int(6, 17), text(24, 'st')], 405);
    nak(engine(), COA, [text(1, 'bob'), int(6, 2)], 405);
  });

  it('carries out Idle-Timeout (RFC 2865 §5.28), with a Session-Timeout beside it or not', () => {
    const o = send(engine(), request(COA, 6, [text(1, 'bob'), int(28, 60)]));
    assert.ok(o.result === 'ack');
    assert.equal(o.change?.type, 'idle-timeout');
    assert.ok(o.change?.type === 'idle-timeout');
    assert.equal(o.change.seconds, 60);
    assert.equal(o.change.sessionTimeout, undefined);
    const both = send(engine(), request(COA, 7, [text(1, 'bob'), int(28, 0), int(27, 300)]));
    assert.ok(both.result === 'ack' && both.change?.type === 'idle-timeout');
    assert.equal(both.change.seconds, 0);
    assert.equal(both.change.sessionTimeout, 300);
    nak(engine(), COA, [text(1, 'bob'), int(28, 60), int(28, 61)], 404);
    nak(engine(), COA, [text(1, 'bob'), [28, Uint8Array.of(5)]], 404);
    nak(engine(), DISCONNECT, [text(1, 'bob'), int(28, 60)], 401);
  });

  it('NAKs 401 for authorization it cannot carry out', () => {
    nak(engine(), COA, [text(1, 'bob'), text(11, 'filter')], 401);
    nak(engine(), COA, [text(1, 'bob'), int(49, 6)], 401); // Acct-Terminate-Cause: Disconnect only
  });

  it('NAKs 402, 403, 404 and 503 like a Disconnect-Request', () => {
    nak(engine(), COA, [int(27, 5)], 402);
    nak(engine(), COA, [text(32, 'x'), text(1, 'bob'), int(27, 5)], 403);
    nak(engine(), COA, [text(1, 'bob'), [27, Uint8Array.of(5)]], 404);
    nak(engine(), COA, [text(1, 'zed'), int(27, 5)], 503);
  });
});

describe('DAS engine: silent discards (RFC 5176 §2.3, §3.4, §6.1, §6.3)', () => {
  const dropped = (o: DasOutcome, reason: string): void => {
    assert.equal(o.result, 'dropped');
    assert.ok(o.result === 'dropped');
    assert.equal(o.reason, reason);
  };

  it('drops a request from an address that is not a client, however well signed', () => {
    const e = engine();
    dropped(
      send(e, request(DISCONNECT, 1, [text(1, 'alice')]), { from: { address: '10.1.1.2', port: 1 } }),
      'unknown-client',
    );
    assert.equal(e.stats.unknownClient, 1);
    assert.equal(e.stats.acks + e.stats.naks, 0);
  });

  it('drops a wrong secret, a bad Message-Authenticator, a stale Event-Timestamp', () => {
    const e = engine();
    dropped(send(e, request(DISCONNECT, 1, [text(1, 'alice')], { secret: 'wrong' })), 'bad-authenticator');
    dropped(
      send(e, request(DISCONNECT, 2, [text(1, 'alice')], { messageAuthenticator: true, tamperMa: true })),
      'bad-message-authenticator',
    );
    dropped(send(e, request(DISCONNECT, 3, [text(1, 'alice'), int(55, NOW_EPOCH - 301)])), 'stale-timestamp');
    dropped(send(e, request(DISCONNECT, 4, [text(1, 'alice'), int(55, NOW_EPOCH + 301)])), 'stale-timestamp');
    assert.deepEqual(
      [e.stats.badAuthenticator, e.stats.badMessageAuthenticator, e.stats.staleTimestamp, e.stats.acks],
      [1, 1, 2, 0],
    );
  });

  it('drops other Codes and malformed packets, and counts them', () => {
    const e = engine();
    dropped(send(e, request(4, 1, [text(1, 'alice')])), 'unexpected-code');
    dropped(send(e, request(41, 1, [text(1, 'alice')])), 'unexpected-code');
    const good = request(DISCONNECT, 2, [text(1, 'alice')]);
    dropped(send(e, good.subarray(0, good.length - 1)), 'malformed'); // shorter than Length
    dropped(send(e, good.subarray(0, 10)), 'malformed');
    const badAttr = Buffer.from(good);
    badAttr[21] = 1; // attribute Length below 2
    dropped(send(e, badAttr), 'malformed');
    assert.equal(e.stats.malformed, 3);
    // Random bytes never throw.
    for (let i = 0; i < 500; i++) {
      const junk = Uint8Array.from({ length: (i * 7) % 64 }, (_, j) => (i * 31 + j * 17) & 0xff);
      if (junk.length > 0) junk[0] = i % 2 ? DISCONNECT : COA;
      assert.equal(send(e, junk).result, 'dropped');
    }
  });
});

describe('DAS engine: duplicates and bounds', () => {
  it('answers a retransmission with the cached reply and does not apply it again (RFC 5080 §2.2.2)', () => {
    const e = engine();
    const req = request(DISCONNECT, 77, [text(1, 'bob')]);
    const first = send(e, req, { now: 1000 });
    assert.equal(first.result, 'ack');
    const again = send(e, req, { now: 5000 });
    assert.equal(again.result, 'duplicate');
    assert.ok(again.result === 'duplicate' && first.result === 'ack');
    assert.deepEqual(again.reply, first.reply);
    assert.equal(e.stats.duplicates, 1);
    assert.equal(e.stats.acks, 1);
    // Another source port is another request; so is the same Identifier with new content.
    assert.equal(
      send(e, req, { now: 5001, from: { address: DAC.address, port: DAC.port + 1 } }).result,
      'ack',
    );
    assert.equal(send(e, request(DISCONNECT, 77, [text(1, 'alice')]), { now: 5002 }).result, 'ack');
    // After the window the same bytes are a new request.
    assert.equal(send(e, req, { now: 60_000 }).result, 'ack');
  });

  it('caches duplicates of NAKs too, and only verified packets touch the cache', () => {
    const e = engine();
    const req = request(DISCONNECT, 5, [text(1, 'nobody')]);
    assert.equal(send(e, req, { now: 1 }).result, 'nak');
    assert.equal(send(e, req, { now: 2 }).result, 'duplicate');
    const forged = Buffer.from(request(DISCONNECT, 6, [text(1, 'bob')]));
    forged[23] ^= 1;
    assert.equal(send(e, forged, { now: 3 }).result, 'dropped');
    assert.equal(e.cacheSize, 1);
  });

  it('keeps at most maxCacheEntries replies', () => {
    const e = engine({ maxCacheEntries: 8, ratePerSecond: 1e6, rateBurst: 1e6 });
    for (let i = 0; i < 100; i++) {
      send(e, request(DISCONNECT, i & 0xff, [text(1, 'nobody')]), {
        now: 10,
        from: { address: DAC.address, port: 1000 + i },
      });
      assert.ok(e.cacheSize <= 8);
    }
    assert.equal(e.cacheSize, 8);
  });

  it('bounds the request rate: a burst, then drops until tokens come back', () => {
    const e = engine({ ratePerSecond: 10, rateBurst: 5 });
    const results = Array.from(
      { length: 8 },
      (_, i) => send(e, request(DISCONNECT, i, [text(1, 'nobody')]), { now: 0 }).result,
    );
    assert.deepEqual(results, ['nak', 'nak', 'nak', 'nak', 'nak', 'dropped', 'dropped', 'dropped']);
    assert.equal(e.stats.rateLimited, 3);
    // 10 per second: 200 ms later two more are accepted.
    const later = Array.from(
      { length: 3 },
      (_, i) => send(e, request(DISCONNECT, 20 + i, [text(1, 'nobody')]), { now: 200 }).result,
    );
    assert.deepEqual(later, ['nak', 'nak', 'dropped']);
  });
});

describe('DAS engine: a reload of the client list', () => {
  const NEW = { address: '10.1.1.2', port: 40001 };

  it('answers a client added by the reload, and no longer the one it removed', () => {
    const e = engine();
    e.setClients([{ address: NEW.address, secret: 'new-secret' }]);
    const o = send(e, request(DISCONNECT, 1, [text(1, 'bob')], { secret: 'new-secret' }), { from: NEW });
    assert.deepEqual(ids(o), [2]);
    const old = send(e, request(DISCONNECT, 2, [text(1, 'bob')]));
    assert.equal(old.result, 'dropped');
    assert.ok(old.result === 'dropped' && old.reason === 'unknown-client');
  });

  it('keeps the old list when the new one has an unusable entry', () => {
    const e = engine();
    assert.throws(
      () =>
        e.setClients([
          { address: NEW.address, secret: 'new-secret' },
          { address: 'not-an-address', secret: 'x' },
        ]),
      /client address not-an-address/,
    );
    assert.throws(() => e.setClients([{ address: NEW.address, secret: '' }]), /empty secret/);
    assert.deepEqual(ids(send(e, request(DISCONNECT, 3, [text(1, 'bob')]))), [2]);
    const added = send(e, request(DISCONNECT, 4, [text(1, 'bob')], { secret: 'new-secret' }), { from: NEW });
    assert.ok(added.result === 'dropped' && added.reason === 'unknown-client');
  });
});
