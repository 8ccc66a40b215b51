/**
 * The server's RADIUS authenticator against the real PPP authentication
 * engines (authenticator and peer in memory) and a fake RADIUS server that
 * checks each Access-Request with the crypto functions directly: the
 * attributes built for PAP, CHAP-MD5, MS-CHAPv1 and MS-CHAPv2, the verdicts
 * applied (Success text, MPPE keys from the Accept, the session's
 * authorization), Reply-Message to the peer, the order with chap-secrets,
 * time-outs, dropped replies, the bounded number of requests, and a call
 * that ends while its request is in flight.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { mppeKeysFromMsChapV1 } from '../../src/crypto/mppe-keys.js';
import { hashNtPasswordHash, ntChallengeResponse, ntPasswordHash } from '../../src/crypto/mschap.js';
import { generateAuthenticatorResponse, generateNtResponse } from '../../src/crypto/mschap-v2.js';
import {
  hidePassword,
  revealPassword,
  saltEncrypt,
  signResponse,
  verifyRequestMessageAuthenticator,
} from '../../src/crypto/radius.js';
import {
  type Authenticator,
  type AuthMethod,
  type Credential,
  createAuthenticator,
  createAuthPeer,
  mppeMasterKeysFromAuth,
} from '../../src/ppp/auth/index.js';
import type { RadiusClientAction } from '../../src/radius/radius-client.js';
import {
  RadiusAuthenticator,
  type RadiusAuthSource,
  type RadiusCallAuth,
} from '../../src/server/radius-auth.js';
import type { PppSession } from '../../src/session/session.js';
import { bytesEqual, parseIpv4, toHex, utf8 } from '../../src/wire/bytes.js';
import { AUTH_METHODS } from '../../src/wire/lcp.js';
import type { PppFrame } from '../../src/wire/ppp.js';
import {
  addressAttribute,
  decodeRadius,
  encodeRadius,
  getAttribute,
  getInteger,
  getMicrosoftAttribute,
  getText,
  integerAttribute,
  MsAttr,
  microsoftAttribute,
  octetsAttribute,
  RadiusAttr,
  type RadiusAttribute,
  RadiusCode,
  type RadiusPacket,
  readTaggedInteger,
  readTaggedText,
  textAttribute,
} from '../../src/wire/radius/index.js';
import { AuthLink, CapturingLogger, seededRandom } from '../ppp/auth/harness.js';

const SECRET = 'fake-radius-secret';
const PASSWORD = 'radius-Pa55';
const PEER = '198.51.100.7';
const CALL_ID = 4242;
const SEND = Uint8Array.from({ length: 16 }, (_, i) => 0xc0 + i);
const RECV = Uint8Array.from({ length: 16 }, (_, i) => 0x30 + i);

/** Stands in for the UDP driver: keeps what is sent, delivers replies, moves time by hand. */
class FakeTransport {
  t = 1000;
  readonly sent: { server: number; data: Uint8Array }[] = [];
  constructor(private readonly auth: RadiusAuthenticator) {}
  now(): number {
    return this.t;
  }
  perform(actions: readonly RadiusClientAction[]): void {
    for (const a of actions) {
      if (a.type === 'send') this.sent.push({ server: a.server, data: a.data.slice() });
      else this.auth.onAction(a);
    }
  }
  deliver(server: number, data: Uint8Array): void {
    this.perform(this.auth.engine.receive(this.t, server, data));
  }
  advance(ms: number): void {
    this.t += ms;
    this.perform(this.auth.engine.poll(this.t));
  }
}

interface WorldOptions {
  order?: RadiusAuthSource[];
  secrets?: Record<string, Credential>;
  maxOutstanding?: number;
}

function newServer(o: WorldOptions = {}) {
  const log = new CapturingLogger('radius');
  const auth = new RadiusAuthenticator({
    servers: [{ host: '127.0.0.1', port: 1812, secret: SECRET }],
    order: o.order ?? ['radius'],
    nasIdentifier: 'nas-test',
    nasIpAddress: parseIpv4('192.0.2.1')!,
    timeoutMs: 1000,
    retries: 1,
    deadTimeMs: 0,
    maxOutstanding: o.maxOutstanding ?? 16,
    secrets: (r) => o.secrets?.[r.peerName],
    secretsPolicy: () => ({ none: false, fixed: [parseIpv4('10.5.5.5')!], allow: [], deny: [] }),
    log,
    random: seededRandom(11),
  });
  const transport = new FakeTransport(auth);
  auth.connect(transport);
  return { auth, transport, log };
}

/** One call: the real engines, the call's RadiusCallAuth in between as the server wires it. */
function newCall(
  server: ReturnType<typeof newServer>,
  method: AuthMethod,
  password = PASSWORD,
  seed = 1,
): { link: AuthLink; call: RadiusCallAuth; frames: number } {
  const call = server.auth.callAuth({ peer: PEER, callId: CALL_ID });
  const a = createAuthenticator(method, { lookup: call.lookup, random: seededRandom(seed), maxRetries: 0 });
  // What PppSession does: every frame passes `hold` before the engine.
  const wrapped: Authenticator = {
    role: 'authenticator',
    method: a.method,
    protocol: a.protocol,
    get state() {
      return a.state;
    },
    start: () => a.start(),
    receive: (payload) => (call.hold({ protocol: a.protocol, payload }) ? [] : a.receive(payload)),
    timeout: (id) => a.timeout(id),
    stop: () => a.stop(),
  };
  const peer = createAuthPeer(method, {
    credentials: { name: 'alice', secret: { password } },
    random: seededRandom(seed + 100),
  });
  const link = new AuthLink(wrapped, peer);
  const state = { link, call, frames: 0 };
  call.attach({
    receiveFrame: (f: PppFrame) => {
      state.frames++;
      link.inject(link.authenticator, f.payload);
    },
  } as unknown as PppSession);
  link.start();
  return state;
}

function lastRequest(t: FakeTransport): RadiusPacket {
  const s = t.sent.at(-1);
  assert.ok(s, 'an Access-Request went out');
  return decodeRadius(s.data);
}

/** A signed reply, as a RADIUS server makes it. */
function reply(
  req: RadiusPacket,
  code: RadiusCode,
  attrs: (auth: Uint8Array) => RadiusAttribute[],
  o: { messageAuthenticator?: boolean; secret?: string } = {},
): Uint8Array {
  const attributes = [
    ...(o.messageAuthenticator === false
      ? []
      : [octetsAttribute(RadiusAttr.MessageAuthenticator, new Uint8Array(16))]),
    ...attrs(req.authenticator),
  ];
  const data = encodeRadius({ code, identifier: req.identifier, attributes });
  signResponse(data, o.secret ?? SECRET, req.authenticator);
  return data;
}

/** The fake server's check: does this Access-Request prove PASSWORD for alice? */
function proves(method: AuthMethod, p: RadiusPacket): boolean {
  switch (method) {
    case 'pap':
      return (
        new TextDecoder().decode(
          revealPassword(getAttribute(p, RadiusAttr.UserPassword)!, SECRET, p.authenticator),
        ) === PASSWORD
      );
    case 'chap-md5': {
      const cp = getAttribute(p, RadiusAttr.ChapPassword)!;
      const want = createHash('md5')
        .update(cp.subarray(0, 1))
        .update(PASSWORD)
        .update(getAttribute(p, RadiusAttr.ChapChallenge)!)
        .digest();
      return bytesEqual(new Uint8Array(want), cp.subarray(1));
    }
    case 'mschap': {
      const r = getMicrosoftAttribute(p, MsAttr.ChapResponse)!;
      const c = getMicrosoftAttribute(p, MsAttr.ChapChallenge)!;
      return (
        r.length === 50 && r[1] === 1 && bytesEqual(ntChallengeResponse(c, PASSWORD), r.subarray(26, 50))
      );
    }
    case 'mschap-v2': {
      const r = getMicrosoftAttribute(p, MsAttr.Chap2Response)!;
      const c = getMicrosoftAttribute(p, MsAttr.ChapChallenge)!;
      return (
        r.length === 50 &&
        bytesEqual(generateNtResponse(c, r.subarray(2, 18), 'alice', PASSWORD), r.subarray(26, 50))
      );
    }
  }
}

/** An Access-Accept with everything the authenticator honours. */
function fullAccept(method: AuthMethod, req: RadiusPacket): Uint8Array {
  return reply(req, RadiusCode.AccessAccept, (ra) => {
    const out: RadiusAttribute[] = [];
    if (method === 'mschap-v2') {
      const r = getMicrosoftAttribute(req, MsAttr.Chap2Response)!;
      const c = getMicrosoftAttribute(req, MsAttr.ChapChallenge)!;
      const s = generateAuthenticatorResponse(PASSWORD, r.subarray(26, 50), r.subarray(2, 18), c, 'alice');
      out.push(microsoftAttribute(MsAttr.Chap2Success, Uint8Array.of(r[0]!, ...utf8(s))));
    }
    out.push(
      microsoftAttribute(MsAttr.MppeSendKey, saltEncrypt(SEND, SECRET, ra, Uint8Array.of(0x81, 0x02))),
      microsoftAttribute(MsAttr.MppeRecvKey, saltEncrypt(RECV, SECRET, ra, Uint8Array.of(0x83, 0x04))),
      microsoftAttribute(MsAttr.MppeEncryptionPolicy, Uint8Array.of(0, 0, 0, 2)),
      microsoftAttribute(MsAttr.MppeEncryptionTypes, Uint8Array.of(0, 0, 0, 4)),
      microsoftAttribute(MsAttr.PrimaryDnsServer, Uint8Array.of(10, 0, 0, 53)),
      microsoftAttribute(MsAttr.SecondaryDnsServer, Uint8Array.of(10, 0, 0, 54)),
      addressAttribute(RadiusAttr.FramedIpAddress, parseIpv4('10.1.2.3')!),
      integerAttribute(RadiusAttr.FramedMtu, 1400),
      integerAttribute(RadiusAttr.SessionTimeout, 600),
      integerAttribute(RadiusAttr.IdleTimeout, 60),
      integerAttribute(RadiusAttr.AcctInterimInterval, 300),
      octetsAttribute(RadiusAttr.Class, utf8('class-one')),
      octetsAttribute(RadiusAttr.Class, utf8('class-two')),
    );
    return out;
  });
}

describe('RADIUS authentication of a call', () => {
  for (const method of AUTH_METHODS) {
    it(`${method}: the Access-Request carries the exchange and the NAS attributes; the Accept's keys and settings are applied`, () => {
      const server = newServer();
      const { link, call, frames } = newCall(server, method);
      assert.equal(frames, 0);
      assert.equal(link.authenticator.successes.length + link.authenticator.failures.length, 0, 'pending');
      assert.equal(server.transport.sent.length, 1);
      const req = lastRequest(server.transport);
      assert.equal(req.code, RadiusCode.AccessRequest);
      // RFC 3579 §3.2 / Blast-RADIUS: Message-Authenticator first, and it verifies.
      assert.equal(req.attributes[0]!.type, RadiusAttr.MessageAuthenticator);
      assert.equal(verifyRequestMessageAuthenticator(server.transport.sent[0]!.data, SECRET, false), 'valid');
      assert.equal(getText(req, RadiusAttr.UserName), 'alice');
      assert.equal(getInteger(req, RadiusAttr.NasIpAddress), parseIpv4('192.0.2.1'));
      assert.equal(getText(req, RadiusAttr.NasIdentifier), 'nas-test');
      assert.equal(getInteger(req, RadiusAttr.NasPort), CALL_ID);
      assert.equal(getInteger(req, RadiusAttr.NasPortType), 5);
      assert.equal(getInteger(req, RadiusAttr.ServiceType), 2);
      assert.equal(getInteger(req, RadiusAttr.FramedProtocol), 1);
      assert.equal(getText(req, RadiusAttr.CallingStationId), PEER);
      assert.deepEqual(readTaggedInteger(getAttribute(req, RadiusAttr.TunnelType)!), { tag: 0, value: 1 });
      assert.deepEqual(readTaggedInteger(getAttribute(req, RadiusAttr.TunnelMediumType)!), {
        tag: 0,
        value: 1,
      });
      assert.equal(readTaggedText(getAttribute(req, RadiusAttr.TunnelClientEndpoint)!).text, PEER);
      assert.ok(proves(method, req), 'the request proves the password to a server that knows it');

      server.transport.deliver(0, fullAccept(method, req));
      assert.deepEqual(link.authenticator.failures, []);
      assert.deepEqual(link.peer.failures, []);
      assert.equal(link.authenticator.successes.length, 1);
      assert.equal(
        link.peer.successes.length,
        1,
        'the peer took the Success (for MS-CHAP-V2: its S= verified)',
      );
      const keys = mppeMasterKeysFromAuth(link.authenticator.successes[0]!.mppe!, true);
      assert.equal(toHex(keys.sendKey), toHex(SEND), 'MS-MPPE-Send-Key keys what the server sends');
      assert.equal(toHex(keys.receiveKey), toHex(RECV));
      const z = call.authorization!;
      assert.equal(z.source, '127.0.0.1:1812');
      assert.equal(z.mppeKeys, 'access-accept');
      assert.equal(z.mppeRequired, true);
      assert.deepEqual(z.mppeKeyBits, [128]);
      assert.deepEqual(z.dns, [parseIpv4('10.0.0.53'), parseIpv4('10.0.0.54')]);
      assert.equal(z.address, parseIpv4('10.1.2.3'));
      assert.equal(z.framedMtu, 1400);
      assert.equal(z.sessionTimeout, 600);
      assert.equal(z.idleTimeout, 60);
      assert.equal(z.acctInterimInterval, 300);
      assert.deepEqual(
        z.class.map((c) => new TextDecoder().decode(c)),
        ['class-one', 'class-two'],
      );
      assert.deepEqual(call.addressPolicy('alice')?.fixed, [parseIpv4('10.1.2.3')]);
      // What accounting echoes (Class) and follows (Acct-Interim-Interval).
      const acct = call.accounting();
      assert.deepEqual(
        acct?.classes?.map((c) => new TextDecoder().decode(c)),
        ['class-one', 'class-two'],
      );
      assert.equal(acct?.interimInterval, 300);
      assert.equal(acct?.authentic, 'radius');
      assert.equal(server.auth.results.accept, 1);
      assert.ok(
        server.log.lines.some((l) => l.includes('radius: Access-Accept') && l.includes('access-accept')),
      );
    });

    it(`${method}: an Access-Reject's Reply-Message reaches the peer`, () => {
      const server = newServer();
      const { link } = newCall(server, method, 'wrong-one');
      const req = lastRequest(server.transport);
      assert.equal(proves(method, req), false);
      server.transport.deliver(
        0,
        reply(req, RadiusCode.AccessReject, () => [
          textAttribute(RadiusAttr.ReplyMessage, 'Wrong password for alice'),
        ]),
      );
      assert.equal(link.authenticator.successes.length, 0);
      assert.equal(link.authenticator.failures.length, 1);
      assert.equal(link.peer.failures[0]?.message, 'Wrong password for alice');
      assert.equal(server.auth.results.reject, 1);
      assert.ok(
        server.log.lines.some((l) => l.includes('radius: Access-Reject') && l.includes('Wrong password')),
      );
    });
  }

  it('mschap: MS-CHAP-MPPE-Keys (RFC 2548 §2.4.1) give the keys the peer derives itself', () => {
    const server = newServer();
    const { link } = newCall(server, 'mschap');
    const req = lastRequest(server.transport);
    const challenge = getMicrosoftAttribute(req, MsAttr.ChapChallenge)!;
    const block = new Uint8Array(24);
    block.set(hashNtPasswordHash(ntPasswordHash(PASSWORD)), 8);
    server.transport.deliver(
      0,
      reply(req, RadiusCode.AccessAccept, (ra) => [
        microsoftAttribute(MsAttr.ChapMppeKeys, hidePassword(block, SECRET, ra)),
      ]),
    );
    assert.equal(link.authenticator.successes.length, 1, JSON.stringify(link.authenticator.failures));
    const server_ = mppeMasterKeysFromAuth(link.authenticator.successes[0]!.mppe!, true);
    const peer = mppeMasterKeysFromAuth(link.peer.successes[0]!.mppe!, false);
    assert.equal(toHex(server_.sendKey), toHex(peer.receiveKey));
    assert.equal(
      toHex(server_.sendKey),
      toHex(mppeKeysFromMsChapV1(ntPasswordHash(PASSWORD), challenge).sendKey),
    );
  });

  it('mschap-v2: an Accept without MS-CHAP2-Success is refused (the peer would end the session)', () => {
    const server = newServer();
    const { link } = newCall(server, 'mschap-v2');
    server.transport.deliver(
      0,
      reply(lastRequest(server.transport), RadiusCode.AccessAccept, () => []),
    );
    assert.equal(link.authenticator.successes.length, 0);
    assert.equal(link.authenticator.failures.length, 1);
    assert.ok(server.log.lines.some((l) => l.includes('no MS-CHAP2-Success')));
  });

  it('no reply: a clean failure after the tries, with one log line saying why', () => {
    const server = newServer();
    const { link } = newCall(server, 'mschap-v2');
    server.transport.advance(1000);
    assert.equal(server.transport.sent.length, 2, 'one retransmission');
    assert.equal(link.authenticator.failures.length, 0);
    server.transport.advance(1000);
    assert.equal(link.authenticator.failures.length, 1);
    assert.equal(link.authenticator.failures[0]!.reason, 'timed-out');
    assert.equal(link.peer.failures.length, 1);
    assert.equal(server.auth.results.timeout, 1);
    assert.ok(
      server.log.lines.some((l) =>
        l.includes('radius: no reply from 1 server(s) after 2 tries each: user refused'),
      ),
      server.log.lines.join('\n'),
    );
  });

  it('order radius, secrets: a time-out falls back to chap-secrets; a Reject does not', () => {
    const secrets = { alice: { password: PASSWORD } };
    const s1 = newServer({ order: ['radius', 'secrets'], secrets });
    const a = newCall(s1, 'mschap-v2');
    s1.transport.advance(1000);
    s1.transport.advance(1000);
    assert.equal(a.link.authenticator.successes.length, 1, JSON.stringify(a.link.authenticator.failures));
    assert.equal(a.call.authorization?.source, 'secrets');
    assert.equal(a.call.accounting()?.authentic, 'local');
    assert.deepEqual(a.call.addressPolicy('alice')?.fixed, [parseIpv4('10.5.5.5')]);
    const s2 = newServer({ order: ['radius', 'secrets'], secrets });
    const b = newCall(s2, 'mschap-v2');
    s2.transport.deliver(
      0,
      reply(lastRequest(s2.transport), RadiusCode.AccessReject, () => []),
    );
    assert.equal(b.link.authenticator.successes.length, 0);
    assert.equal(b.link.authenticator.failures.length, 1);
  });

  it('order secrets, radius: a user in chap-secrets is decided there; others go to RADIUS', () => {
    const s = newServer({ order: ['secrets', 'radius'], secrets: { alice: { password: PASSWORD } } });
    const a = newCall(s, 'chap-md5');
    assert.equal(s.transport.sent.length, 0);
    assert.equal(a.link.authenticator.successes.length, 1);
    const s2 = newServer({ order: ['secrets', 'radius'], secrets: {} });
    newCall(s2, 'chap-md5');
    assert.equal(s2.transport.sent.length, 1);
  });

  it('replies with a wrong secret or without Message-Authenticator are dropped (counted), then the request times out', () => {
    for (const bad of [{ secret: 'not-the-secret' }, { messageAuthenticator: false }]) {
      const server = newServer();
      const { link } = newCall(server, 'pap');
      const req = lastRequest(server.transport);
      server.transport.deliver(
        0,
        reply(req, RadiusCode.AccessAccept, () => [], bad),
      );
      assert.equal(link.authenticator.successes.length, 0, 'a forged Accept is not an accept');
      const st = server.auth.engine.stats;
      assert.equal(st.badAuthenticator + st.missingMessageAuthenticator, 1);
      server.transport.advance(1000);
      server.transport.advance(1000);
      assert.equal(link.authenticator.failures.length, 1);
    }
  });

  it('a call that ends while its request is in flight forgets it; a late reply changes nothing', () => {
    const server = newServer();
    const { link, call, frames } = newCall(server, 'mschap-v2');
    const req = lastRequest(server.transport);
    call.close();
    assert.equal(server.auth.outstanding, 0);
    assert.equal(server.auth.engine.nextDeadline(), undefined, 'nothing left to retransmit');
    server.transport.deliver(0, fullAccept('mschap-v2', req));
    assert.equal(frames, 0);
    assert.equal(link.authenticator.successes.length, 0);
    assert.equal(server.auth.engine.stats.unmatched, 1);
  });

  it('PAP retransmissions while pending do not send more requests', () => {
    const server = newServer();
    const { link } = newCall(server, 'pap');
    link.fire(link.peer, 'auth.pap.request-restart');
    link.fire(link.peer, 'auth.pap.request-restart');
    assert.equal(server.transport.sent.length, 1);
    server.transport.deliver(
      0,
      reply(lastRequest(server.transport), RadiusCode.AccessAccept, () => []),
    );
    assert.equal(link.authenticator.successes.length, 1);
    assert.equal(link.peer.successes.length, 1);
  });

  it('requests are bounded: beyond max-outstanding and its queue a call is refused at once', () => {
    const server = newServer({ maxOutstanding: 1 });
    const calls = [1, 2, 3].map((seed) => newCall(server, 'mschap-v2', PASSWORD, seed));
    assert.equal(server.transport.sent.length, 1, 'one on the wire');
    assert.equal(calls[2]!.link.authenticator.failures.length, 1, 'the third is refused');
    assert.equal(server.auth.results.overloaded, 1);
    assert.equal(calls[1]!.link.authenticator.failures.length, 0, 'the second waits');
  });
});
