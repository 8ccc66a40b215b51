/**
 * Scripted exchanges: retransmission and time-outs (bounded), identifier
 * matching, lost packets, repeated requests after the verdict, re-
 * challenge, stop(), routing, and garbage input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AUTH_TIMER,
  type AuthAction,
  authPacketTarget,
  createAuthenticator,
  createAuthPeer,
} from '../../../src/ppp/auth/index.js';
import { fromHex, toHex, utf8 } from '../../../src/wire/bytes.js';
import { decodeChapPacket, encodeChapPacket } from '../../../src/wire/chap.js';
import { AUTH_METHODS, type AuthMethod } from '../../../src/wire/lcp.js';
import { decodePapPacket, encodePapPacket } from '../../../src/wire/pap.js';
import { PppProtocol } from '../../../src/wire/ppp.js';
import { mutate, prng } from '../../fuzz/mutate.js';
import { AuthLink, seededRandom } from './harness.js';

const users = { alice: { password: 'pw' } };
const mkAuth = (method: AuthMethod, extra = {}) =>
  createAuthenticator(method, {
    lookup: (r) => users[r.peerName as 'alice'],
    random: seededRandom(11),
    ...extra,
  });
const mkPeer = (method: AuthMethod, extra = {}, password = 'pw') =>
  createAuthPeer(method, {
    credentials: { name: 'alice', secret: { password } },
    random: seededRandom(12),
    ...extra,
  });

const sends = (actions: readonly AuthAction[]) =>
  actions.flatMap((a) => (a.kind === 'send' ? [a.frame.payload] : []));
const kinds = (actions: readonly AuthAction[]) => actions.map((a) => a.kind);

describe('PAP peer: retransmission with a new Identifier, bounded', () => {
  it('resends every restart with the next Identifier, then fails timed-out after maxRequests', () => {
    const peer = mkPeer('pap', { maxRequests: 3, restartMs: 500 });
    const ids: number[] = [];
    let out = peer.start();
    for (let i = 0; i < 3; i++) {
      const [req] = sends(out).map(decodePapPacket);
      assert.equal(req!.kind, 'authenticate-request');
      ids.push(req!.identifier);
      assert.deepEqual(out.at(-1), { kind: 'startTimer', id: AUTH_TIMER.papRequestRestart, ms: 500 });
      out = peer.timeout(AUTH_TIMER.papRequestRestart);
    }
    assert.deepEqual(ids, [ids[0]!, (ids[0]! + 1) & 0xff, (ids[0]! + 2) & 0xff]);
    assert.deepEqual(kinds(out), ['failure']);
    const f = out[0]!;
    assert.equal(f.kind === 'failure' && f.failure.reason, 'timed-out');
    assert.equal(peer.state, 'failure');
    assert.deepEqual(peer.timeout(AUTH_TIMER.papRequestRestart), [], 'nothing after giving up');
  });

  it('a late Ack for an earlier Identifier is accepted; one for an Identifier never sent is tossed', () => {
    const peer = mkPeer('pap');
    const first = decodePapPacket(sends(peer.start())[0]!);
    peer.timeout(AUTH_TIMER.papRequestRestart);
    const ack = (id: number) =>
      encodePapPacket({ kind: 'authenticate-ack', identifier: id, message: utf8('ok') });
    assert.deepEqual(peer.receive(ack((first.identifier + 7) & 0xff)), []);
    assert.equal(peer.state, 'waiting');
    const out = peer.receive(ack(first.identifier));
    assert.deepEqual(kinds(out), ['stopTimer', 'success']);
  });

  it('a lost Ack is recovered by the retransmission; the authenticator answers the repeat without a second verdict', () => {
    const l = new AuthLink(mkAuth('pap'), mkPeer('pap'));
    let dropped = 0;
    l.filter = (from, p) => (from === 'authenticator' && dropped++ === 0 ? undefined : p);
    l.start();
    assert.equal(l.peer.successes.length, 0);
    l.fire(l.peer, AUTH_TIMER.papRequestRestart);
    assert.equal(l.peer.successes.length, 1);
    assert.equal(l.authenticator.successes.length, 1, 'one verdict only');
    const replies = l.authenticator.sent.map(decodePapPacket);
    assert.deepEqual(
      replies.map((r) => r.kind),
      ['authenticate-ack', 'authenticate-ack'],
    );
    assert.notEqual(
      replies[0]!.identifier,
      replies[1]!.identifier,
      'each reply copies its request Identifier',
    );
  });
});

describe('PAP authenticator', () => {
  const request = (id: number, password: string) =>
    encodePapPacket({
      kind: 'authenticate-request',
      identifier: id,
      peerId: utf8('alice'),
      password: utf8(password),
    });

  it('no Authenticate-Request in time → timed-out', () => {
    const a = mkAuth('pap', { requestWaitMs: 1234 });
    assert.deepEqual(a.start(), [{ kind: 'startTimer', id: AUTH_TIMER.papRequestWait, ms: 1234 }]);
    const out = a.timeout(AUTH_TIMER.papRequestWait);
    assert.equal(out[0]?.kind === 'failure' && out[0].failure.reason, 'timed-out');
  });

  it('after a Nak, even the right password gets Nak again (same reply Code, no second guess)', () => {
    const a = mkAuth('pap');
    a.start();
    const out1 = a.receive(request(1, 'bad'));
    assert.deepEqual(kinds(out1), ['stopTimer', 'send', 'failure']);
    const out2 = a.receive(request(2, 'pw'));
    assert.deepEqual(kinds(out2), ['send']);
    const r = decodePapPacket(sends(out2)[0]!);
    assert.equal(r.kind, 'authenticate-nak');
    assert.equal(r.identifier, 2);
  });

  it('requests before start() and after stop() are silently discarded (RFC 1334 §2.2.1)', () => {
    const a = mkAuth('pap');
    assert.deepEqual(a.receive(request(1, 'pw')), []);
    a.start();
    assert.deepEqual(a.stop(), [{ kind: 'stopTimer', id: AUTH_TIMER.papRequestWait }]);
    assert.deepEqual(a.receive(request(1, 'pw')), []);
    assert.deepEqual(a.timeout(AUTH_TIMER.papRequestWait), []);
  });
});

describe('CHAP authenticator: Challenge retransmission, bounded', () => {
  for (const method of ['chap-md5', 'mschap', 'mschap-v2'] as const) {
    it(`${method}: the same Challenge is resent, then timed-out after maxChallenges`, () => {
      const a = mkAuth(method, { maxChallenges: 4, restartMs: 700 });
      let out = a.start();
      const first = sends(out)[0]!;
      for (let i = 1; i < 4; i++) {
        assert.deepEqual(out.at(-1), { kind: 'startTimer', id: AUTH_TIMER.chapChallengeRestart, ms: 700 });
        out = a.timeout(AUTH_TIMER.chapChallengeRestart);
        assert.equal(toHex(sends(out)[0]!), toHex(first), 'identical retransmission');
      }
      out = a.timeout(AUTH_TIMER.chapChallengeRestart);
      assert.deepEqual(kinds(out), ['failure']);
      assert.equal(out[0]?.kind === 'failure' && out[0].failure.reason, 'timed-out');
      assert.equal(a.state, 'failure');
    });

    it(`${method}: a lost Response is recovered by the Challenge retransmission (same Response bytes)`, () => {
      const l = new AuthLink(mkAuth(method), mkPeer(method));
      let dropped = 0;
      l.filter = (from, p) => (from === 'peer' && dropped++ === 0 ? undefined : p);
      l.start();
      assert.equal(l.authenticator.successes.length, 0);
      l.fire(l.authenticator, AUTH_TIMER.chapChallengeRestart);
      assert.equal(l.authenticator.successes.length, 1);
      assert.equal(l.peer.successes.length, 1);
      assert.equal(
        toHex(l.peer.sent[0]!),
        toHex(l.peer.sent[1]!),
        'the retransmitted Challenge got the same Response',
      );
    });

    it(`${method}: a lost Success is recovered by the peer resending its Response`, () => {
      const l = new AuthLink(mkAuth(method), mkPeer(method));
      let dropped = 0;
      l.filter = (from, p) =>
        from === 'authenticator' && decodeChapPacket(p).kind === 'success' && dropped++ === 0 ? undefined : p;
      l.start();
      assert.equal(l.authenticator.successes.length, 1);
      assert.equal(l.peer.successes.length, 0);
      l.fire(l.peer, AUTH_TIMER.chapResponseRestart);
      assert.equal(l.peer.successes.length, 1);
      assert.equal(
        l.authenticator.successes.length,
        1,
        'the repeated Response got the same reply, not a second verdict',
      );
      const replies = l.authenticator.sent.slice(1);
      assert.equal(toHex(replies[0]!), toHex(replies[1]!));
    });

    it(`${method}: a Response with another Identifier is tossed`, () => {
      const a = mkAuth(method);
      const c = decodeChapPacket(sends(a.start())[0]!);
      const peer = mkPeer(method);
      peer.start();
      const resp = decodeChapPacket(sends(peer.receive(encodeChapPacket(c)))[0]!);
      assert.equal(resp.kind, 'response');
      if (resp.kind !== 'response') return;
      const wrongId = encodeChapPacket({ ...resp, identifier: (resp.identifier + 1) & 0xff });
      assert.deepEqual(a.receive(wrongId), []);
      assert.equal(a.state, 'waiting');
      assert.deepEqual(kinds(a.receive(encodeChapPacket(resp))), ['stopTimer', 'send', 'success']);
    });
  }
});

describe('CHAP peer', () => {
  for (const method of ['chap-md5', 'mschap', 'mschap-v2'] as const) {
    it(`${method}: no Challenge in time → timed-out`, () => {
      const p = mkPeer(method, { waitMs: 999 });
      assert.deepEqual(p.start(), [{ kind: 'startTimer', id: AUTH_TIMER.chapPeerWait, ms: 999 }]);
      const out = p.timeout(AUTH_TIMER.chapPeerWait);
      assert.equal(out[0]?.kind === 'failure' && out[0].failure.reason, 'timed-out');
    });

    it(`${method}: Response retransmission is bounded by maxRequests`, () => {
      const a = mkAuth(method);
      const p = mkPeer(method, { maxRequests: 2 });
      p.start();
      const first = p.receive(sends(a.start())[0]!);
      assert.deepEqual(kinds(first), ['send', 'stopTimer', 'startTimer']);
      assert.equal(sends(p.timeout(AUTH_TIMER.chapResponseRestart)).length, 1);
      const out = p.timeout(AUTH_TIMER.chapResponseRestart);
      assert.equal(out[0]?.kind === 'failure' && out[0].failure.reason, 'timed-out');
    });

    it(`${method}: Success/Failure before any Response, or with a wrong Identifier, is tossed`, () => {
      const p = mkPeer(method);
      p.start();
      const success = (id: number) =>
        encodeChapPacket({ kind: 'success', identifier: id, message: new Uint8Array(0) });
      const failure = (id: number) =>
        encodeChapPacket({ kind: 'failure', identifier: id, message: utf8('E=691 R=0') });
      assert.deepEqual(p.receive(success(1)), []);
      assert.deepEqual(p.receive(failure(1)), []);
      const a = mkAuth(method);
      const c = decodeChapPacket(sends(a.start())[0]!);
      p.receive(encodeChapPacket(c));
      assert.deepEqual(p.receive(failure((c.identifier + 1) & 0xff)), []);
      assert.equal(p.state, 'waiting');
      assert.equal(p.receive(failure(c.identifier)).at(-1)?.kind, 'failure');
    });

    it(`${method}: a Challenge after success (re-authentication) is answered, with no second success event`, () => {
      const l = new AuthLink(mkAuth(method), mkPeer(method)).start();
      assert.equal(l.peer.successes.length, 1);
      // A second authenticator re-challenges the same peer engine.
      const a2 = mkAuth(method, { random: seededRandom(99) });
      const l2 = new AuthLink(a2, l.peer.engine as never);
      l2.apply(l2.authenticator, a2.start());
      l2.pump();
      assert.equal(l2.authenticator.successes.length, 1, 're-authenticated');
      assert.equal(l2.peer.successes.length, 0, 'no second success event from the peer');
      assert.equal(l.peer.engine.state, 'success');
    });
  }
});

describe('repeated Responses after the verdict get the same reply Code (RFC 1994 §4.1)', () => {
  for (const method of ['chap-md5', 'mschap', 'mschap-v2'] as const) {
    it(`${method}: after Success, and after a final Failure`, () => {
      for (const password of ['pw', 'bad']) {
        const a = mkAuth(method, { maxRetries: 0 });
        const p = mkPeer(method, {}, password);
        p.start();
        const resp = sends(p.receive(sends(a.start())[0]!))[0]!;
        const first = a.receive(resp);
        const again = a.receive(resp);
        assert.deepEqual(kinds(again), ['send'], 'the reply only, no second verdict');
        assert.equal(toHex(sends(again)[0]!), toHex(sends(first)[0]!));
        assert.equal(decodeChapPacket(sends(again)[0]!).kind, password === 'pw' ? 'success' : 'failure');
      }
    });
  }
});

describe('stop()', () => {
  for (const method of AUTH_METHODS) {
    it(`${method}: stops the running timers and ignores everything afterwards`, () => {
      const a = mkAuth(method);
      const p = mkPeer(method);
      const aStart = a.start();
      const pStart = p.start();
      const aTimer = aStart.find((x) => x.kind === 'startTimer');
      const pTimer = pStart.find((x) => x.kind === 'startTimer');
      assert.deepEqual(
        a.stop(),
        aTimer ? [{ kind: 'stopTimer', id: aTimer.kind === 'startTimer' && aTimer.id }] : [],
      );
      assert.deepEqual(
        p.stop(),
        pTimer ? [{ kind: 'stopTimer', id: pTimer.kind === 'startTimer' && pTimer.id }] : [],
      );
      assert.equal(a.state, 'stopped');
      assert.equal(p.state, 'stopped');
      for (const id of Object.values(AUTH_TIMER)) {
        assert.deepEqual(a.timeout(id), []);
        assert.deepEqual(p.timeout(id), []);
      }
      for (const payload of sends(aStart)) assert.deepEqual(p.receive(payload), []);
      assert.deepEqual(a.start(), [], 'no restart after stop');
    });
  }
});

describe('authPacketTarget routes by Code', () => {
  it('PAP and CHAP', () => {
    const t = (proto: number, hex: string) => authPacketTarget(proto, fromHex(hex));
    assert.equal(t(PppProtocol.Pap, '01 01 00 06 00 00'), 'authenticator');
    assert.equal(t(PppProtocol.Pap, '02 01 00 05 00'), 'peer');
    assert.equal(t(PppProtocol.Pap, '03 01 00 05 00'), 'peer');
    assert.equal(t(PppProtocol.Pap, '04 01 00 04'), undefined);
    assert.equal(t(PppProtocol.Chap, '01 01 00 06 01 00'), 'peer');
    assert.equal(t(PppProtocol.Chap, '02 01 00 06 01 00'), 'authenticator');
    assert.equal(t(PppProtocol.Chap, '03 01 00 04'), 'peer');
    assert.equal(t(PppProtocol.Chap, '04 01 00 04'), 'peer');
    assert.equal(t(PppProtocol.Chap, '07 01 00 04'), undefined);
    assert.equal(t(PppProtocol.Lcp, '01 01 00 04'), undefined);
    assert.equal(t(PppProtocol.Chap, ''), undefined);
  });
});

describe('garbage never breaks an engine', () => {
  for (const method of AUTH_METHODS) {
    it(`${method}: 3000 mutated packets to each side, in every state reached`, () => {
      const l = new AuthLink(mkAuth(method), mkPeer(method)).start();
      const corpus = [...l.authenticator.sent, ...l.peer.sent];
      const rnd = prng(0xa117 + method.length);
      for (const fresh of [false, true]) {
        const a = fresh ? mkAuth(method) : l.authenticator.engine;
        const p = fresh ? mkPeer(method) : l.peer.engine;
        if (fresh) {
          a.start();
          p.start();
        }
        for (let i = 0; i < 1500; i++) {
          const input = mutate(corpus, rnd);
          for (const e of [a, p]) {
            const out = e.receive(input);
            for (const x of out) if (x.kind === 'send') assert.ok(x.frame.payload.length >= 4);
          }
        }
      }
    });
  }
});

describe('failure delay (failureDelayMs: the tarpit)', () => {
  const request = (id: number, password: string) =>
    encodePapPacket({
      kind: 'authenticate-request',
      identifier: id,
      peerId: utf8('alice'),
      password: utf8(password),
    });
  it('PAP: the Nak and the failure wait for the delay; requests meanwhile are tossed; stop() cancels', () => {
    const asked: string[] = [];
    const a = mkAuth('pap', {
      failureDelayMs: (name: string, reason: string, method: string) => {
        asked.push(`${name} ${reason} ${method}`);
        return 4000;
      },
    });
    a.start();
    const out = a.receive(request(1, 'bad'));
    assert.deepEqual(out, [
      { kind: 'stopTimer', id: AUTH_TIMER.papRequestWait },
      { kind: 'startTimer', id: AUTH_TIMER.failureDelay, ms: 4000 },
    ]);
    assert.deepEqual(asked, ['alice wrong-password pap']);
    assert.deepEqual(a.receive(request(2, 'pw')), [], 'a new try while held is tossed');
    const later = a.timeout(AUTH_TIMER.failureDelay);
    assert.deepEqual(kinds(later), ['send', 'failure']);
    assert.equal(decodePapPacket(sends(later)[0]!).kind, 'authenticate-nak');
    const b = mkAuth('pap', { failureDelayMs: () => 4000 });
    b.start();
    b.receive(request(1, 'bad'));
    assert.deepEqual(b.stop(), [{ kind: 'stopTimer', id: AUTH_TIMER.failureDelay }]);
    assert.deepEqual(b.timeout(AUTH_TIMER.failureDelay), []);
  });

  for (const method of ['chap-md5', 'mschap', 'mschap-v2'] as const) {
    it(`${method}: the Failure waits for the delay; a repeated Response meanwhile gets nothing`, () => {
      const l = new AuthLink(
        mkAuth(method, { failureDelayMs: () => 2000, maxRetries: 0 }),
        mkPeer(method, {}, 'bad'),
      );
      l.start();
      assert.equal(l.peer.failures.length, 0, 'nothing answered yet');
      assert.equal(l.authenticator.failures.length, 0);
      l.fire(l.authenticator, AUTH_TIMER.failureDelay);
      assert.equal(l.authenticator.failures.length, 1);
      assert.equal(l.peer.failures.length, 1);
    });
  }

  it('a success asks for no delay', () => {
    let asked = 0;
    const l = new AuthLink(
      mkAuth('mschap-v2', {
        failureDelayMs: () => {
          asked++;
          return 1000;
        },
      }),
      mkPeer('mschap-v2'),
    );
    l.start();
    assert.equal(l.authenticator.successes.length, 1);
    assert.equal(asked, 0);
  });
});
