/**
 * Every method, authenticator against peer in memory: success, wrong
 * password, unknown user, refused accounts, DOMAIN\user, MPPE keys agreeing
 * on both ends, and secrets kept out of results and logs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ntPasswordHash } from '../../../src/crypto/mschap.js';
import {
  type AuthMethod,
  type Credential,
  type CredentialRequest,
  createAuthenticator,
  createAuthPeer,
  mppeMasterKeysFromAuth,
} from '../../../src/ppp/auth/index.js';
import { toHex } from '../../../src/wire/bytes.js';
import { decodeChapPacket } from '../../../src/wire/chap.js';
import { AUTH_METHODS } from '../../../src/wire/lcp.js';
import { decodePapPacket } from '../../../src/wire/pap.js';
import { AuthLink, CapturingLogger, seededRandom } from './harness.js';

const PASSWORD = 'c0rrect horse';

interface Setup {
  method: AuthMethod;
  users?: Record<string, Credential>;
  peerName?: string;
  peerSecret?: { password: string } | { ntHash: Uint8Array };
  ignoreDomain?: boolean;
  maxRetries?: number;
  seed?: number;
  log?: CapturingLogger;
}

/** The request without its exchange (which every engine fills in: the verdict tests look at it). */
function withoutExchange(r: CredentialRequest): Omit<CredentialRequest, 'exchange'> {
  assert.ok(r.exchange, 'the engine describes the exchange');
  const { exchange: _, ...rest } = r;
  return rest;
}

function link(s: Setup) {
  const lookups: CredentialRequest[] = [];
  const users = s.users ?? { alice: { password: PASSWORD } };
  const seed = s.seed ?? 1;
  const auth = createAuthenticator(s.method, {
    lookup: (r) => {
      lookups.push(r);
      return users[r.peerName];
    },
    random: seededRandom(seed),
    ignoreDomain: s.ignoreDomain ?? false,
    ...(s.maxRetries !== undefined ? { maxRetries: s.maxRetries } : {}),
    ...(s.log ? { log: s.log.child('authenticator') } : {}),
  });
  const peer = createAuthPeer(s.method, {
    credentials: { name: s.peerName ?? 'alice', secret: s.peerSecret ?? { password: PASSWORD } },
    random: seededRandom(seed + 1000),
    ...(s.log ? { log: s.log.child('peer') } : {}),
  });
  return { l: new AuthLink(auth, peer), lookups };
}

describe('each method succeeds both ways in memory', () => {
  for (const method of AUTH_METHODS) {
    it(method, () => {
      const { l, lookups } = link({ method });
      l.start();
      assert.equal(l.authenticator.failures.length, 0, JSON.stringify(l.authenticator.failures));
      assert.equal(l.peer.failures.length, 0, JSON.stringify(l.peer.failures));
      assert.equal(l.authenticator.successes.length, 1);
      assert.equal(l.peer.successes.length, 1);
      const [a] = l.authenticator.successes;
      const [p] = l.peer.successes;
      assert.equal(a!.method, method);
      assert.equal(a!.role, 'authenticator');
      assert.equal(a!.peerName, 'alice');
      assert.equal(p!.role, 'peer');
      assert.equal(lookups.length, 1);
      assert.deepEqual(withoutExchange(lookups[0]!), { peerName: 'alice', rawPeerName: 'alice', method });
      // Both engines are idle: no timer left running.
      assert.deepEqual([...l.authenticator.timers.keys()], []);
      assert.deepEqual([...l.peer.timers.keys()], []);
      assert.equal(l.authenticator.engine.state, 'success');
      assert.equal(l.peer.engine.state, 'success');
      if (method === 'mschap' || method === 'mschap-v2') {
        assert.ok(a!.mppe && p!.mppe, 'MS-CHAP results carry MPPE key material');
        const server = mppeMasterKeysFromAuth(a!.mppe, true);
        const client = mppeMasterKeysFromAuth(p!.mppe, false);
        assert.equal(toHex(server.sendKey), toHex(client.receiveKey));
        assert.equal(toHex(server.receiveKey), toHex(client.sendKey));
        assert.equal(server.sendKey.length, 16);
      } else {
        assert.equal(a!.mppe, undefined);
        assert.equal(p!.mppe, undefined);
      }
    });
  }

  it('MS-CHAP v1 and v2 work from a stored NT hash on either side', () => {
    for (const method of ['mschap', 'mschap-v2'] as const) {
      const ntHash = ntPasswordHash(PASSWORD);
      const { l } = link({ method, users: { alice: { ntHash } }, peerSecret: { ntHash } });
      l.start();
      assert.equal(l.authenticator.successes.length, 1, method);
      assert.equal(l.peer.successes.length, 1, method);
    }
  });

  it('PAP verifies against a stored NT hash by hashing the password sent', () => {
    const { l } = link({ method: 'pap', users: { alice: { ntHash: ntPasswordHash(PASSWORD) } } });
    l.start();
    assert.equal(l.authenticator.successes.length, 1);
    const { l: bad } = link({
      method: 'pap',
      users: { alice: { ntHash: ntPasswordHash('other') } },
    });
    bad.start();
    assert.equal(bad.authenticator.failures[0]?.reason, 'wrong-password');
  });

  it('CHAP-MD5 cannot use an NT hash: no-usable-secret on either side', () => {
    const { l } = link({ method: 'chap-md5', users: { alice: { ntHash: ntPasswordHash(PASSWORD) } } });
    l.start();
    assert.equal(l.authenticator.failures[0]?.reason, 'no-usable-secret');
    assert.equal(l.peer.failures[0]?.reason, 'wrong-password');
    const { l: l2 } = link({ method: 'chap-md5', peerSecret: { ntHash: ntPasswordHash(PASSWORD) } });
    l2.start();
    assert.equal(l2.peer.failures[0]?.reason, 'no-usable-secret');
  });
});

describe('wrong password', () => {
  for (const method of AUTH_METHODS) {
    it(method, () => {
      const { l } = link({ method, peerSecret: { password: 'wrong' }, maxRetries: 0 });
      l.start();
      assert.equal(l.authenticator.successes.length, 0);
      assert.equal(l.peer.successes.length, 0);
      assert.equal(l.authenticator.failures.length, 1);
      assert.equal(l.peer.failures.length, 1);
      assert.equal(l.authenticator.failures[0]!.reason, 'wrong-password');
      assert.equal(l.peer.failures[0]!.reason, 'wrong-password');
      assert.equal(l.authenticator.engine.state, 'failure');
      assert.equal(l.peer.engine.state, 'failure');
      const last = l.authenticator.sent.at(-1)!;
      if (method === 'pap') {
        const p = decodePapPacket(last);
        assert.equal(p.kind, 'authenticate-nak');
      } else {
        const p = decodeChapPacket(last);
        assert.equal(p.kind, 'failure');
        const text = p.kind === 'failure' ? new TextDecoder().decode(p.message) : '';
        if (method === 'mschap') assert.match(text, /^E=691 R=0 C=[0-9A-F]{16} V=0$/);
        if (method === 'mschap-v2')
          assert.match(text, /^E=691 R=0 C=[0-9A-F]{32} V=0 M=Authentication failed$/);
        if (method !== 'chap-md5') {
          assert.equal(l.peer.failures[0]!.error, 691);
          assert.equal(l.authenticator.failures[0]!.error, 691);
        }
      }
    });
  }
});

describe('unknown user', () => {
  for (const method of AUTH_METHODS) {
    it(method, () => {
      const { l } = link({ method, peerName: 'mallory', maxRetries: 0 });
      l.start();
      assert.equal(l.authenticator.failures[0]?.reason, 'unknown-user');
      assert.equal(l.authenticator.failures[0]?.peerName, 'mallory');
      // The peer cannot tell an unknown name from a wrong password.
      assert.equal(l.peer.failures[0]?.reason, 'wrong-password');
    });
  }
});

describe('refused accounts map to their MS-CHAP error codes, without retry', () => {
  const cases = [
    ['account-disabled', 647],
    ['restricted-hours', 646],
    ['password-expired', 648],
    ['no-dialin-permission', 649],
  ] as const;
  for (const [refuse, code] of cases) {
    for (const method of ['mschap', 'mschap-v2'] as const) {
      it(`${method}: ${refuse} → E=${code} R=0`, () => {
        const { l } = link({ method, users: { alice: { refuse } } });
        l.start();
        assert.equal(l.authenticator.failures[0]?.reason, refuse);
        assert.equal(l.authenticator.failures[0]?.error, code);
        assert.equal(l.peer.failures[0]?.reason, refuse);
        assert.equal(l.peer.failures[0]?.error, code);
        const p = decodeChapPacket(l.authenticator.sent.at(-1)!);
        const text = p.kind === 'failure' ? new TextDecoder().decode(p.message) : '';
        assert.ok(text.startsWith(`E=${code} R=0 `), text);
      });
    }
  }
  it('PAP and CHAP-MD5 just fail with the reason on the authenticator side', () => {
    for (const method of ['pap', 'chap-md5'] as const) {
      const { l } = link({ method, users: { alice: { refuse: 'account-disabled' } } });
      l.start();
      assert.equal(l.authenticator.failures[0]?.reason, 'account-disabled');
      assert.equal(l.peer.failures[0]?.reason, 'wrong-password');
    }
  });
});

describe('DOMAIN\\user', () => {
  for (const method of ['chap-md5', 'mschap', 'mschap-v2'] as const) {
    it(`${method}: ignoreDomain strips the domain before the lookup`, () => {
      const { l, lookups } = link({ method, peerName: 'BIGCO\\alice', ignoreDomain: true });
      l.start();
      assert.equal(l.authenticator.successes.length, 1, JSON.stringify(l.authenticator.failures));
      assert.equal(l.peer.successes.length, 1);
      assert.deepEqual(withoutExchange(lookups[0]!), {
        peerName: 'alice',
        rawPeerName: 'BIGCO\\alice',
        method,
      });
      assert.equal(l.authenticator.successes[0]!.peerName, 'alice');
    });
    it(`${method}: without ignoreDomain the full name is looked up`, () => {
      const { l, lookups } = link({ method, peerName: 'BIGCO\\alice', maxRetries: 0 });
      l.start();
      assert.equal(lookups[0]!.peerName, 'BIGCO\\alice');
      assert.equal(l.authenticator.failures[0]?.reason, 'unknown-user');
    });
  }
  it('mschap-v2: a user listed with its domain authenticates (the challenge hash drops the domain either way)', () => {
    const { l } = link({
      method: 'mschap-v2',
      peerName: 'BIGCO\\alice',
      users: { 'BIGCO\\alice': { password: PASSWORD } },
    });
    l.start();
    assert.equal(l.authenticator.successes.length, 1);
    assert.equal(l.peer.successes.length, 1, JSON.stringify(l.peer.failures));
  });
});

describe('secrets stay out of results and logs', () => {
  for (const method of AUTH_METHODS) {
    it(method, () => {
      const log = new CapturingLogger();
      const { l } = link({ method, log });
      l.start();
      const { l: bad } = link({ method, log, peerSecret: { password: 'Wr0ngPassw0rd' }, maxRetries: 0 });
      bad.start();
      const hash = toHex(ntPasswordHash(PASSWORD));
      const results = [
        ...l.authenticator.successes,
        ...l.peer.successes,
        ...bad.authenticator.failures,
        ...bad.peer.failures,
      ];
      const dumps = [
        ...log.lines,
        ...results.map((r) => JSON.stringify(r)),
        ...results.map((r) => inspect(r, { depth: 5 })),
        ...results.map((r) => String(r.method === 'pap' || !('mppe' in r) ? '' : r.mppe)),
      ].join('\n');
      assert.ok(log.lines.length > 0, 'engines log something');
      for (const secret of [PASSWORD, 'Wr0ngPassw0rd', hash, hash.toUpperCase()]) {
        assert.ok(!dumps.includes(secret), `secret ${secret.slice(0, 4)}… leaked`);
      }
      for (const r of [...l.authenticator.successes, ...l.peer.successes]) {
        if (!r.mppe) continue;
        assert.equal(JSON.stringify(r.mppe), '"[redacted]"');
        assert.equal(inspect(r.mppe), '[redacted]');
        const keys = mppeMasterKeysFromAuth(r.mppe, r.role === 'authenticator');
        assert.equal(JSON.stringify(keys), '"[redacted]"');
      }
    });
  }
});
