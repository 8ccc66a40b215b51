/**
 * Verdicts instead of secrets: a lookup that answers `pending` while a
 * decider elsewhere (RADIUS) checks the exchange, then `accept` or `reject`.
 * The exchange the engines describe is checked with the crypto functions
 * directly (the oracle a RADIUS server would be), and the verdict's
 * Success/Failure text and MPPE keys must be what reaches the peer.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ntChallengeResponse } from '../../../src/crypto/mschap.js';
import { generateAuthenticatorResponse, generateNtResponse } from '../../../src/crypto/mschap-v2.js';
import {
  type AuthMethod,
  type Credential,
  type CredentialRequest,
  createAuthenticator,
  createAuthPeer,
  mppeMasterKeysFromAuth,
} from '../../../src/ppp/auth/index.js';
import { bytesEqual, fromUtf8, toHex, utf8 } from '../../../src/wire/bytes.js';
import { AUTH_METHODS } from '../../../src/wire/lcp.js';
import { AuthLink, seededRandom } from './harness.js';

const PASSWORD = 'verdict-Pa55';
const SEND = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const RECV = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);

function setup(method: AuthMethod, password = PASSWORD) {
  const asked: CredentialRequest[] = [];
  let verdict: Credential | undefined;
  const auth = createAuthenticator(method, {
    lookup: (r) => {
      asked.push({ ...r, ...(r.exchange ? { exchange: copyExchange(r.exchange) } : {}) });
      return verdict ?? { pending: true };
    },
    random: seededRandom(7),
    maxRetries: 0,
  });
  const peer = createAuthPeer(method, {
    credentials: { name: 'alice', secret: { password } },
    random: seededRandom(8),
  });
  const l = new AuthLink(auth, peer).start();
  return {
    l,
    asked,
    decide(v: Credential) {
      verdict = v;
      // The owner of the lookup hands the held packet in again.
      l.inject(l.authenticator, l.peer.sent.at(-1)!);
    },
  };
}

function copyExchange(e: NonNullable<CredentialRequest['exchange']>) {
  return {
    identifier: e.identifier,
    ...(e.password ? { password: e.password.slice() } : {}),
    ...(e.challenge ? { challenge: e.challenge.slice() } : {}),
    ...(e.response ? { response: e.response.slice() } : {}),
  };
}

/** What a RADIUS server does with the exchange: does it prove PASSWORD? */
function proves(method: AuthMethod, r: CredentialRequest): boolean {
  const e = r.exchange!;
  switch (method) {
    case 'pap':
      return fromUtf8(e.password!) === PASSWORD;
    case 'chap-md5': {
      const want = createHash('md5')
        .update(Uint8Array.of(e.identifier))
        .update(PASSWORD)
        .update(e.challenge!)
        .digest();
      return bytesEqual(new Uint8Array(want), e.response!);
    }
    case 'mschap':
      // RFC 2433 §2: LM-Response (24), NT-Response (24), Flags.
      return bytesEqual(ntChallengeResponse(e.challenge!, PASSWORD), e.response!.subarray(24, 48));
    case 'mschap-v2':
      // RFC 2759 §4: Peer-Challenge (16), Reserved (8), NT-Response (24), Flags.
      return bytesEqual(
        generateNtResponse(e.challenge!, e.response!.subarray(0, 16), 'alice', PASSWORD),
        e.response!.subarray(24, 48),
      );
  }
}

function successMessage(method: AuthMethod, r: CredentialRequest): Uint8Array | undefined {
  if (method !== 'mschap-v2') return undefined;
  const e = r.exchange!;
  return utf8(
    generateAuthenticatorResponse(
      PASSWORD,
      e.response!.subarray(24, 48),
      e.response!.subarray(0, 16),
      e.challenge!,
      'alice',
    ),
  );
}

describe('authentication verdicts (a decider instead of a secret)', () => {
  for (const method of AUTH_METHODS) {
    it(`${method}: pending tosses the packet; an accept with keys succeeds and carries them`, () => {
      const { l, asked, decide } = setup(method);
      assert.equal(l.authenticator.successes.length + l.authenticator.failures.length, 0);
      assert.equal(l.authenticator.engine.state, 'waiting');
      assert.ok(asked.length >= 1);
      assert.equal(asked[0]!.peerName, 'alice');
      assert.ok(proves(method, asked[0]!), 'the exchange handed to the lookup proves the password');
      const message = successMessage(method, asked[0]!);
      decide({
        verdict: 'accept',
        ...(message ? { message } : {}),
        mppe: { method: 'keys', sendKey: SEND, receiveKey: RECV, source: 'test' },
      });
      assert.equal(l.authenticator.failures.length, 0, JSON.stringify(l.authenticator.failures));
      assert.equal(l.peer.failures.length, 0, JSON.stringify(l.peer.failures));
      assert.equal(l.authenticator.successes.length, 1);
      assert.equal(l.peer.successes.length, 1);
      const keys = mppeMasterKeysFromAuth(l.authenticator.successes[0]!.mppe!, true);
      assert.equal(toHex(keys.sendKey), toHex(SEND));
      assert.equal(toHex(keys.receiveKey), toHex(RECV));
      // The peer's end of the same material sends with the other key.
      const peerEnd = mppeMasterKeysFromAuth(l.authenticator.successes[0]!.mppe!, false);
      assert.equal(toHex(peerEnd.sendKey), toHex(RECV));
    });

    it(`${method}: a reject's text reaches the peer`, () => {
      const { l, asked, decide } = setup(method, 'not-it');
      assert.equal(proves(method, asked[0]!), false);
      decide({ verdict: 'reject', message: 'Wrong password for alice', detail: 'radius reject' });
      assert.equal(l.authenticator.successes.length, 0);
      assert.equal(l.authenticator.failures.length, 1);
      assert.equal(l.authenticator.failures[0]!.reason, 'wrong-password');
      assert.equal(l.peer.failures.length, 1);
      assert.equal(l.peer.failures[0]!.message, 'Wrong password for alice');
      if (method === 'mschap' || method === 'mschap-v2') assert.equal(l.peer.failures[0]!.error, 691);
    });
  }

  it('mschap-v2: an accept without the authenticator response (S=) is a failure, not a Success the peer would refuse', () => {
    const { l, decide } = setup('mschap-v2');
    decide({ verdict: 'accept' });
    assert.equal(l.authenticator.successes.length, 0);
    assert.equal(l.authenticator.failures[0]?.reason, 'protocol-error');
    assert.equal(l.peer.successes.length, 0);
  });

  it('a retransmitted Response while pending asks again without deciding', () => {
    const { l, asked } = setup('mschap-v2');
    const n = asked.length;
    l.inject(l.authenticator, l.peer.sent.at(-1)!);
    assert.equal(asked.length, n + 1);
    assert.equal(l.authenticator.engine.state, 'waiting');
    assert.equal(l.authenticator.sent.length, 1, 'only the Challenge went out');
  });
});
