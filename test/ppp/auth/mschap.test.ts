/**
 * MS-CHAP specifics through the engines: the RFC 2759 §9.2 and RFC 3079
 * §3.5 vectors byte for byte, R=1 retries with a new challenge, the Windows
 * 98 Success form, mutual-authentication failures, LAN Manager refusal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialSessionKey } from '../../../src/crypto/mppe-keys.js';
import { challengeResponse, ntPasswordHash } from '../../../src/crypto/mschap.js';
import { generateAuthenticatorResponse, generateNtResponse } from '../../../src/crypto/mschap-v2.js';
import {
  AUTH_TIMER,
  createAuthenticator,
  createAuthPeer,
  mppeMasterKeysFromAuth,
} from '../../../src/ppp/auth/index.js';
import { fromHex, toHex, utf8 } from '../../../src/wire/bytes.js';
import { type ChapPacket, decodeChapPacket, encodeChapPacket } from '../../../src/wire/chap.js';
import {
  encodeMsChapV1Response,
  encodeMsChapV2Response,
  parseMsChapFailure,
} from '../../../src/wire/mschap.js';
import { AuthLink, scriptedRandom, seededRandom } from './harness.js';

// RFC 2759 §9.2 / RFC 3079 §3.5
const USER = 'User';
const PASSWORD = 'clientPass';
const AUTH_CHALLENGE = fromHex('5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28');
const PEER_CHALLENGE = fromHex('21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E');
const NT_RESPONSE = ' 82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF';
const AUTH_RESPONSE = 'S=407A5589115FD0D6209F510FE9C04566932CDA56';

const text = (b: Uint8Array) => new TextDecoder('latin1').decode(b);
const chap = (b: Uint8Array): ChapPacket => decodeChapPacket(b);

function rfcLink(peerName = USER) {
  const auth = createAuthenticator('mschap-v2', {
    lookup: (r) => (r.peerName === USER ? { password: PASSWORD } : undefined),
    random: scriptedRandom(Uint8Array.of(0x2a), AUTH_CHALLENGE),
    ignoreDomain: true,
  });
  const peer = createAuthPeer('mschap-v2', {
    credentials: { name: peerName, secret: { password: PASSWORD } },
    random: scriptedRandom(PEER_CHALLENGE),
  });
  return new AuthLink(auth, peer);
}

describe('RFC 2759 §9.2 vectors through the engines', () => {
  it('the Challenge, the Response and the Success are the RFC bytes', () => {
    const l = rfcLink().start();
    const [challenge] = l.authenticator.sent.map(chap);
    assert.deepEqual(challenge, {
      kind: 'challenge',
      identifier: 0x2a,
      value: AUTH_CHALLENGE,
      name: new Uint8Array(0),
    });
    const [response] = l.peer.sent.map(chap);
    assert.equal(response!.kind, 'response');
    if (response!.kind !== 'response') return;
    assert.equal(response.identifier, 0x2a);
    assert.equal(
      toHex(response.value),
      toHex(fromHex(`${toHex(PEER_CHALLENGE)} 0000000000000000 ${NT_RESPONSE} 00`)),
      'Response Value = Peer-Challenge, 8 zero octets, the RFC NT-Response, Flags 0',
    );
    assert.equal(text(response.name), USER);
    const success = chap(l.authenticator.sent[1]!);
    assert.equal(success.kind, 'success');
    assert.equal(success.kind === 'success' && text(success.message), `${AUTH_RESPONSE} M=Access granted`);
    assert.equal(l.peer.successes.length, 1, 'the peer verified the RFC authenticator response');
    assert.equal(l.authenticator.successes.length, 1);
  });

  it('the MPPE keys from both results are the RFC 3079 §3.5.3 keys', () => {
    const l = rfcLink().start();
    const server = mppeMasterKeysFromAuth(l.authenticator.successes[0]!.mppe!, true);
    const client = mppeMasterKeysFromAuth(l.peer.successes[0]!.mppe!, false);
    const sendStartKey128 = '8b7cdc149b993a1ba118cb153f56dccb';
    assert.equal(toHex(server.sendKey), sendStartKey128);
    assert.equal(toHex(client.receiveKey), sendStartKey128);
    assert.equal(toHex(initialSessionKey(server.sendKey, 128)), '405cb2247a7956e6e211007ae27b22d4');
    const m = l.authenticator.successes[0]!.mppe!;
    assert.equal(m.method, 'mschap-v2');
    if (m.method === 'mschap-v2') {
      assert.equal(toHex(m.passwordHashHash), '41c00c584bd2d91c4017a2a12fa59f3f');
      assert.equal(toHex(m.ntResponse), toHex(fromHex(NT_RESPONSE)));
    }
  });

  it('"BIGCO\\User" gives the same NT-Response (RFC 2759 §4: only the user name is hashed)', () => {
    const l = rfcLink('BIGCO\\User').start();
    const r = chap(l.peer.sent[0]!);
    assert.equal(r.kind === 'response' && toHex(r.value.subarray(24, 48)), toHex(fromHex(NT_RESPONSE)));
    const ok = chap(l.authenticator.sent[1]!);
    assert.equal(ok.kind === 'success' && text(ok.message), `${AUTH_RESPONSE} M=Access granted`);
    assert.equal(l.peer.successes.length, 1);
    assert.equal(l.authenticator.successes[0]!.peerName, 'User');
  });
});

/** A hand-made MS-CHAP-V2 Response (independent of the peer engine), from the crypto primitives. */
function v2Response(
  id: number,
  challenge: Uint8Array,
  password: string,
  flags = 0,
  name = 'alice',
): Uint8Array {
  const peerChallenge = fromHex('00112233445566778899aabbccddeeff');
  const ntResponse = generateNtResponse(challenge, peerChallenge, name, password);
  const value = encodeMsChapV2Response({ peerChallenge, reserved: new Uint8Array(8), ntResponse, flags });
  return encodeChapPacket({ kind: 'response', identifier: id, value, name: utf8(name) });
}

function v1Response(id: number, challenge: Uint8Array, password: string, useNt = 1): Uint8Array {
  const value = encodeMsChapV1Response({
    lmResponse: new Uint8Array(24),
    ntResponse: challengeResponse(challenge, ntPasswordHash(password)),
    useNtResponse: useNt,
  });
  return encodeChapPacket({ kind: 'response', identifier: id, value, name: utf8('alice') });
}

function authenticator(method: 'mschap' | 'mschap-v2', maxRetries?: number) {
  return createAuthenticator(method, {
    lookup: (r) => (r.peerName === 'alice' ? { password: 'right' } : undefined),
    random: seededRandom(7),
    ...(maxRetries !== undefined ? { maxRetries } : {}),
  });
}

/** Runs an authenticator alone; returns its decoded outputs. */
function solo(method: 'mschap' | 'mschap-v2', maxRetries?: number) {
  const a = authenticator(method, maxRetries);
  const out = a.start();
  const first = out[0]!;
  assert.equal(first.kind, 'send');
  const c = chap(first.kind === 'send' ? first.frame.payload : new Uint8Array());
  assert.equal(c.kind, 'challenge');
  return { a, id: c.identifier, challenge: c.kind === 'challenge' ? c.value.slice() : new Uint8Array() };
}

const sentOf = (actions: ReturnType<ReturnType<typeof authenticator>['receive']>) =>
  actions.flatMap((x) => (x.kind === 'send' ? [chap(x.frame.payload)] : []));

describe('MS-CHAP retries (R=1, new C=, Response ++ID)', () => {
  for (const method of ['mschap', 'mschap-v2'] as const) {
    const respond = method === 'mschap' ? v1Response : v2Response;
    const cLen = method === 'mschap' ? 8 : 16;

    it(`${method}: wrong, then right with the next Identifier and the new challenge → success`, () => {
      const { a, id, challenge } = solo(method);
      const out1 = a.receive(respond(id, challenge, 'wrong'));
      const [fail] = sentOf(out1);
      assert.equal(fail!.kind, 'failure');
      assert.equal(fail!.identifier, id);
      const f = parseMsChapFailure(fail!.kind === 'failure' ? fail!.message : new Uint8Array());
      assert.equal(f.error, 691);
      assert.equal(f.retry, true);
      assert.equal(f.challenge!.length, cLen);
      assert.notEqual(toHex(f.challenge!), toHex(challenge), 'a new challenge');
      if (method === 'mschap-v2') assert.equal(f.message, 'Authentication failed');
      assert.ok(out1.some((x) => x.kind === 'startTimer' && x.id === AUTH_TIMER.chapRetryWait));
      assert.ok(!out1.some((x) => x.kind === 'failure' || x.kind === 'success'));
      assert.equal(a.state, 'waiting');

      // A Response to the old challenge with the old Identifier: the same Failure again.
      const again = sentOf(a.receive(respond(id, challenge, 'right')));
      assert.equal(again[0]!.kind, 'failure');
      assert.equal(a.state, 'waiting');
      // The right password, but with the old challenge and the new Identifier: wrong.
      // (Only the C= challenge is acceptable now.)
      const next = (id + 1) & 0xff;
      const out2 = a.receive(respond(next, f.challenge!, 'right'));
      const [ok] = sentOf(out2);
      assert.equal(ok!.kind, 'success', JSON.stringify(out2));
      assert.equal(ok!.identifier, next);
      assert.ok(out2.some((x) => x.kind === 'success'));
      assert.ok(out2.some((x) => x.kind === 'stopTimer' && x.id === AUTH_TIMER.chapRetryWait));
    });

    it(`${method}: the old challenge is no longer accepted after a retry was offered`, () => {
      const { a, id, challenge } = solo(method);
      const f = sentOf(a.receive(respond(id, challenge, 'wrong')))[0]!;
      assert.equal(f.kind, 'failure');
      const out = a.receive(respond((id + 1) & 0xff, challenge, 'right'));
      assert.equal(sentOf(out)[0]!.kind, 'failure');
    });

    it(`${method}: retries are bounded (default 2: three attempts, the last Failure says R=0)`, () => {
      const { a, id, challenge } = solo(method);
      let c: Uint8Array = challenge;
      let ident = id;
      const flags: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        const out = a.receive(respond(ident, c, 'wrong'));
        const p = sentOf(out)[0]!;
        const f = parseMsChapFailure(p.kind === 'failure' ? p.message : new Uint8Array());
        flags.push(f.retry);
        c = f.challenge!;
        ident = (ident + 1) & 0xff;
        if (i < 2) assert.equal(a.state, 'waiting');
      }
      assert.deepEqual(flags, [true, true, false]);
      assert.equal(a.state, 'failure');
      assert.equal(
        a.receive(respond(ident, c, 'right')).length,
        0,
        'nothing accepted after the final Failure',
      );
    });

    it(`${method}: maxRetries 0 gives R=0 at once`, () => {
      const { a, id, challenge } = solo(method, 0);
      const out = a.receive(respond(id, challenge, 'wrong'));
      const p = sentOf(out)[0]!;
      assert.equal(parseMsChapFailure(p.kind === 'failure' ? p.message : new Uint8Array()).retry, false);
      const failure = out.find((x) => x.kind === 'failure');
      assert.equal(failure?.kind === 'failure' && failure.failure.reason, 'wrong-password');
    });

    it(`${method}: no retried Response in time → timed-out`, () => {
      const { a, id, challenge } = solo(method);
      a.receive(respond(id, challenge, 'wrong'));
      assert.deepEqual(
        a.timeout(AUTH_TIMER.chapChallengeRestart),
        [],
        'no Challenge retransmission while waiting for a retry',
      );
      const out = a.timeout(AUTH_TIMER.chapRetryWait);
      const failure = out.find((x) => x.kind === 'failure');
      assert.equal(failure?.kind === 'failure' && failure.failure.reason, 'timed-out');
    });

    it(`${method}: an account refusal is never retried`, () => {
      const a = createAuthenticator(method, {
        lookup: () => ({ refuse: 'account-disabled' }),
        random: seededRandom(3),
      });
      const c = chap((a.start()[0] as { frame: { payload: Uint8Array } }).frame.payload);
      const v = c.kind === 'challenge' ? c.value : new Uint8Array();
      const p = sentOf(a.receive(respond(c.identifier, v, 'right')))[0]!;
      const f = parseMsChapFailure(p.kind === 'failure' ? p.message : new Uint8Array());
      assert.equal(f.error, 647);
      assert.equal(f.retry, false);
      assert.equal(a.state, 'failure');
    });
  }

  it('the peer does not retry on R=1: it fails with the message', () => {
    const auth = authenticator('mschap-v2');
    const peer = createAuthPeer('mschap-v2', {
      credentials: { name: 'alice', secret: { password: 'wrong' } },
      random: seededRandom(9),
    });
    const l = new AuthLink(auth, peer).start();
    assert.equal(l.peer.failures[0]?.reason, 'wrong-password');
    assert.equal(l.peer.failures[0]?.message, 'Authentication failed');
    assert.equal(l.peer.failures[0]?.error, 691);
    assert.equal(l.peer.sent.length, 1, 'one Response only');
    assert.equal(
      l.authenticator.engine.state,
      'waiting',
      'the authenticator waits for a retry the peer never sends',
    );
  });
});

describe('Windows 98 quirk', () => {
  it('Response Flags 0x04 → Success is "S=..." without M=', () => {
    const { a, id, challenge } = solo('mschap-v2');
    const out = a.receive(v2Response(id, challenge, 'right', 0x04));
    const p = sentOf(out)[0]!;
    assert.equal(p.kind, 'success');
    assert.match(text(p.kind === 'success' ? p.message : new Uint8Array()), /^S=[0-9A-F]{40}$/);
  });
  it('Flags 0 → "S=... M=Access granted"', () => {
    const { a, id, challenge } = solo('mschap-v2');
    const p = sentOf(a.receive(v2Response(id, challenge, 'right', 0)))[0]!;
    assert.match(
      text(p.kind === 'success' ? p.message : new Uint8Array()),
      /^S=[0-9A-F]{40} M=Access granted$/,
    );
  });
});

describe('mutual authentication (RFC 2759 §5: the peer MUST end the session)', () => {
  function peerAfterResponse() {
    const peer = createAuthPeer('mschap-v2', {
      credentials: { name: USER, secret: { password: PASSWORD } },
      random: scriptedRandom(PEER_CHALLENGE),
    });
    peer.start();
    const out = peer.receive(
      encodeChapPacket({ kind: 'challenge', identifier: 9, value: AUTH_CHALLENGE, name: new Uint8Array(0) }),
    );
    assert.equal(out[0]!.kind, 'send');
    return peer;
  }
  const success = (msg: string, id = 9) =>
    encodeChapPacket({ kind: 'success', identifier: id, message: utf8(msg) });
  const failureOf = (out: ReturnType<ReturnType<typeof peerAfterResponse>['receive']>) =>
    out.find((x) => x.kind === 'failure');

  it('a Success whose S= is wrong fails the link: authenticator-response-mismatch', () => {
    const peer = peerAfterResponse();
    const wrong = `S=${'407A5589115FD0D6209F510FE9C04566932CDA57'} M=Access granted`;
    const f = failureOf(peer.receive(success(wrong)));
    assert.equal(f?.kind === 'failure' && f.failure.reason, 'authenticator-response-mismatch');
    assert.equal(peer.state, 'failure');
  });
  it('a Success without S= fails the link too', () => {
    const peer = peerAfterResponse();
    const f = failureOf(peer.receive(success('M=Access granted')));
    assert.equal(f?.kind === 'failure' && f.failure.reason, 'authenticator-response-mismatch');
  });
  it('the right S= in lower case and without M= is accepted (Windows variants)', () => {
    const peer = peerAfterResponse();
    const out = peer.receive(success(AUTH_RESPONSE.toLowerCase().replace('s=', 'S=')));
    assert.ok(
      out.some((x) => x.kind === 'success'),
      JSON.stringify(out),
    );
  });
  it('a Success computed from another password (a server that does not know ours) is refused', () => {
    const peer = peerAfterResponse();
    const forged = generateAuthenticatorResponse(
      'not-the-password',
      fromHex(NT_RESPONSE),
      PEER_CHALLENGE,
      AUTH_CHALLENGE,
      USER,
    );
    assert.notEqual(forged, AUTH_RESPONSE);
    const f = failureOf(peer.receive(success(`${forged} M=Access granted`)));
    assert.equal(f?.kind === 'failure' && f.failure.reason, 'authenticator-response-mismatch');
  });
  it('a Success with the wrong Identifier is tossed, the right one then accepted', () => {
    const peer = peerAfterResponse();
    assert.deepEqual(peer.receive(success(`${AUTH_RESPONSE} M=ok`, 10)), []);
    assert.ok(peer.receive(success(`${AUTH_RESPONSE} M=ok`)).some((x) => x.kind === 'success'));
  });
});

describe('MS-CHAP v1 specifics', () => {
  it('a LAN Manager-only Response (flag 0) is refused', () => {
    const { a, id, challenge } = solo('mschap', 0);
    const out = a.receive(v1Response(id, challenge, 'right', 0));
    const failure = out.find((x) => x.kind === 'failure');
    assert.equal(failure?.kind === 'failure' && failure.failure.reason, 'protocol-error');
  });
  it('RFC 2433 §B.2: the peer answers challenge 102DB5DF085D3041 for "MyPw" with the RFC NT response', () => {
    const peer = createAuthPeer('mschap', { credentials: { name: 'u', secret: { password: 'MyPw' } } });
    peer.start();
    const out = peer.receive(
      encodeChapPacket({
        kind: 'challenge',
        identifier: 1,
        value: fromHex('102DB5DF085D3041'),
        name: new Uint8Array(0),
      }),
    );
    const r = chap((out[0] as { frame: { payload: Uint8Array } }).frame.payload);
    assert.equal(r.kind, 'response');
    if (r.kind !== 'response') return;
    assert.equal(toHex(r.value.subarray(0, 24)), '00'.repeat(24), 'LM response zero-filled');
    assert.equal(toHex(r.value.subarray(24, 48)), '4e9d3c8f9cfd385d5bf4d3246791956ca4c351ab409a3d61');
    assert.equal(r.value[48], 1);
  });
  it('a peer given a 16-octet MS-CHAP v1 challenge fails with protocol-error', () => {
    const peer = createAuthPeer('mschap', { credentials: { name: 'u', secret: { password: 'p' } } });
    peer.start();
    const out = peer.receive(
      encodeChapPacket({
        kind: 'challenge',
        identifier: 1,
        value: new Uint8Array(16),
        name: new Uint8Array(0),
      }),
    );
    const f = out.find((x) => x.kind === 'failure');
    assert.equal(f?.kind === 'failure' && f.failure.reason, 'protocol-error');
  });
  it('a malformed MS-CHAP-V2 Response (48-octet value) is a failure, not a crash', () => {
    const { a, id } = solo('mschap-v2', 0);
    const out = a.receive(
      encodeChapPacket({ kind: 'response', identifier: id, value: new Uint8Array(48), name: utf8('alice') }),
    );
    const f = out.find((x) => x.kind === 'failure');
    assert.equal(f?.kind === 'failure' && f.failure.reason, 'protocol-error');
  });
});
