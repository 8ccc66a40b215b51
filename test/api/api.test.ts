/**
 * The library API (src/index.ts) end to end in memory: `connect()`'s handle
 * and `createServer()`'s handle driving the real client and server over the
 * in-memory TCP/GRE networks and TUNs of test/e2e/world.ts, on a virtual
 * clock. Events and their shapes, AbortSignal, the pluggable authenticator
 * (accept with a password, an NT hash, a fixed address, a session time-out;
 * reject; time-out; throw; PAP checked by the application), kick(), typed
 * errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PptpClientHandle } from '../../src/api/client.js';
import { createServerWith, type PptpServerHandle, type ServerOptions } from '../../src/api/server.js';
import { ntPasswordHash } from '../../src/crypto/mschap.js';
import {
  AbortError,
  AuthError,
  type AuthRequest,
  type AuthResult,
  ConfigError,
  type ConnectOptions,
  connect,
  createServer,
  HangUpError,
  PptpError,
  type SessionDownEvent,
  type SessionUpEvent,
  type TunnelDown,
  type TunnelUp,
} from '../../src/index.js';
import { MemoryTun } from '../../src/io/memory/tun.js';
import { memoryTcp } from '../../src/io/tcp.js';
import { parseSecrets } from '../../src/server/chap-secrets.js';
import type { ServerEnv } from '../../src/server/server.js';
import { SECRETS_TEXT, SERVER_ADDRESS, World } from '../e2e/world.js';

const BASE = {
  listen: SERVER_ADDRESS,
  'local-ip': '10.99.0.1',
  pool: '10.99.0.10-10.99.0.200',
  'ms-dns': ['10.99.0.53'],
};

/** A world whose server is the library's handle (the world's own PptpServer is never started). */
class ApiWorld {
  readonly w = new World();
  readonly server: PptpServerHandle;
  readonly ups: SessionUpEvent[] = [];
  readonly downs: SessionDownEvent[] = [];

  constructor(options: Partial<ServerOptions> = {}) {
    const w = this.w;
    const entries = parseSecrets(SECRETS_TEXT);
    const env: ServerEnv = {
      clock: w.driverClock,
      log: w.serverLog,
      tcp: memoryTcp(w.tcp, SERVER_ADDRESS),
      host: w.serverHost,
      openTun: (name) => {
        const t = new MemoryTun({ name: name.replace('%d', String(w.serverTuns.length)) });
        w.serverTuns.push(t);
        return t;
      },
      openGre: () => w.gre.socket(SERVER_ADDRESS),
      secrets: () => entries,
    };
    const opts = { ...BASE, ...options } as ServerOptions;
    this.server = createServerWith(
      opts.authenticator === undefined && opts.secrets === undefined
        ? { ...opts, secrets: '/dev/null' }
        : opts,
      env,
    );
    this.server.on('session-up', (e) => this.ups.push(e));
    this.server.on('session-down', (e) => this.downs.push(e));
  }

  async listen(): Promise<void> {
    const a = await this.w.wait(this.server.listen());
    assert.deepEqual(a, { address: SERVER_ADDRESS, port: 1723 });
  }

  client(over: Partial<ConnectOptions> = {}) {
    const e = this.w.clientEnv();
    const handle = new PptpClientHandle(
      { server: SERVER_ADDRESS, user: 'alice', password: 'correct horse', ...over },
      e.env,
    );
    const events: { up: TunnelUp[]; down: TunnelDown[] } = { up: [], down: [] };
    handle.on('up', (u) => events.up.push(u));
    handle.on('down', (d) => events.down.push(d));
    return { handle, events, log: e.log, host: e.host };
  }

  /** Closes the server and checks that nothing is left: timers, host changes. */
  async finish(): Promise<void> {
    await this.w.wait(this.server.close());
    assert.equal(this.w.clock.pendingTimers, 0, 'no timer left on the clock');
    assert.deepEqual([...this.w.serverHost.applied], []);
  }
}

/** A rejection's error (fails when it resolves). */
async function rejection(w: World, p: Promise<unknown>): Promise<unknown> {
  try {
    await w.wait(p);
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

describe('library API: connect() and createServer() in memory', () => {
  it('up/down events with the negotiated parameters; stats; close()', async () => {
    const a = new ApiWorld();
    await a.listen();
    const c = a.client({ password: Buffer.from('correct horse') });
    const up = await a.w.wait(c.handle.ready);
    assert.deepEqual(up, {
      interface: 'ppp1',
      server: SERVER_ADDRESS,
      localAddress: '10.99.0.10',
      remoteAddress: '10.99.0.1',
      dns: ['10.99.0.53'],
      mtu: 1500 - 20 - 16 - 4 - 4,
      auth: 'mschap-v2',
      mppe: { keyBits: 128, stateless: true },
    });
    assert.deepEqual(c.events.up, [up], "'up' fired once with the same data");
    assert.deepEqual(c.handle.tunnel, up);
    await a.w.runUntil(() => a.ups.length === 1);
    const su = a.ups[0]!;
    assert.equal(su.session.user, 'alice');
    assert.equal(su.session.address, '10.99.0.10');
    assert.equal(su.session.peerAddress, '192.0.2.11');
    assert.equal(su.session.up, true);
    assert.equal(su.auth, 'mschap-v2');
    assert.deepEqual(su.mppe, { keyBits: 128, stateless: true });
    assert.deepEqual(a.server.sessions(), [su.session]);

    const s = c.handle.stats()!;
    assert.ok(s.rxPackets === 0 && s.txPackets === 0, 'no IP yet');
    const ss = a.server.stats(su.session)!;
    assert.equal(ss.rxBytes, 0);
    assert.equal(a.server.counters.sessionsUp, 1);

    const down = await a.w.wait(c.handle.close());
    assert.equal(down.error, undefined, 'a requested close is no error');
    assert.equal(down.exitCode, 0);
    assert.equal(down.wasUp, true);
    assert.deepEqual(c.events.down, [down]);
    assert.equal(c.handle.tunnel, undefined);
    assert.deepEqual([...c.host.applied], [], 'client host changes undone');
    await a.w.runUntil(() => a.downs.length === 1);
    assert.equal(a.downs[0]!.session.id, su.session.id);
    assert.equal(a.downs[0]!.wasUp, true);
    assert.match(a.downs[0]!.reason, /Call-Clear-Request/, "the server's view: the client cleared the call");
    assert.equal(typeof a.downs[0]!.stats.txBytes, 'number');
    assert.deepEqual(a.server.sessions(), []);
    assert.equal(a.server.stats(su.session), undefined);
    await a.finish();
  });

  it('the password is never logged (given as a Buffer)', async () => {
    const a = new ApiWorld();
    await a.listen();
    const c = a.client({ password: Buffer.from('s3cr3t-Pa55'), user: 'carol' });
    const err = await rejection(a.w, c.handle.ready);
    assert.ok(err instanceof AuthError);
    assert.ok(!c.log.lines.some((l) => l.includes('s3cr3t-Pa55')));
    assert.ok(!a.w.serverLog.lines.some((l) => l.includes('s3cr3t-Pa55')));
    await a.finish();
  });

  it('AbortSignal: aborting a connect in progress rejects ready with AbortError; nothing left behind', async () => {
    let asked = 0;
    let question: AbortSignal | undefined;
    // An authenticator that never answers holds the connect in the Authenticate phase.
    const a = new ApiWorld({
      authenticator: ({ signal }) => {
        asked++;
        question = signal;
        return new Promise<AuthResult>(() => {});
      },
      authenticatorTimeoutMs: 600_000,
    });
    await a.listen();
    const ac = new AbortController();
    const c = a.client({ signal: ac.signal });
    await a.w.runUntil(() => asked === 1);
    ac.abort();
    const err = await rejection(a.w, c.handle.ready);
    assert.ok(err instanceof AbortError, String(err));
    assert.ok(err instanceof PptpError);
    assert.equal(err.code, 'ABORT_ERR');
    const down = await a.w.wait(c.handle.closed);
    assert.ok(down.error instanceof AbortError);
    assert.equal(down.wasUp, false);
    assert.deepEqual(c.events.up, []);
    assert.deepEqual(c.events.down, [down]);
    await a.w.runUntil(() => a.downs.length === 1);
    assert.equal(a.downs[0]!.wasUp, false);
    assert.equal(question?.aborted, true, "the call ended: the authenticator's question is withdrawn");
    await a.finish();
  });

  it('AbortSignal already aborted: ready rejects with AbortError before any packet', async () => {
    const a = new ApiWorld();
    await a.listen();
    const c = a.client({ signal: AbortSignal.abort() });
    const err = await rejection(a.w, c.handle.ready);
    assert.ok(err instanceof AbortError);
    assert.equal(a.w.server.connectionCount, 0);
    assert.equal(a.server.counters.connectionsAccepted, 0);
    await a.finish();
  });

  it('authenticator: reject fails the login with AuthError; it was asked the user and method only', async () => {
    const asked: Omit<AuthRequest, 'signal'>[] = [];
    const a = new ApiWorld({
      authenticator: async ({ signal, ...req }) => {
        asked.push(req);
        return { accept: false };
      },
    });
    await a.listen();
    const c = a.client();
    const err = await rejection(a.w, c.handle.ready);
    assert.ok(err instanceof AuthError, String(err));
    assert.equal((err as AuthError).code, 'ERR_PPTP_AUTH');
    assert.match((err as Error).message, /authentication failed/);
    assert.deepEqual(asked, [{ user: 'alice', method: 'mschap-v2', peerAddress: '192.0.2.11' }]);
    await a.w.runUntil(() => a.downs.length === 1);
    assert.equal(a.downs[0]!.wasUp, false);
    assert.deepEqual(a.ups, []);
    assert.equal(c.events.down[0]!.exitCode, 19);
    await a.finish();
  });

  it('authenticator: accept with the password, a fixed address and a session time-out', async () => {
    const a = new ApiWorld({
      // Answers a few turns of the event loop later, as a database would.
      authenticator: async (req) => {
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        return req.user === 'dave'
          ? { accept: true, password: 'pw of dave', address: '10.99.7.7', sessionTimeout: 60 }
          : { accept: false };
      },
    });
    await a.listen();
    const c = a.client({ user: 'EXAMPLE\\dave', password: 'pw of dave' });
    const up = await a.w.wait(c.handle.ready);
    assert.equal(up.localAddress, '10.99.7.7', 'the address the authenticator gave');
    assert.equal(up.mppe?.keyBits, 128, 'MPPE keys came from the returned password');
    const upAt = a.w.clock.now();
    const down = await a.w.wait(c.handle.closed, 200_000);
    assert.ok(down.error instanceof HangUpError, String(down.error));
    assert.match(down.reason, /session timeout/);
    const after = a.w.clock.now() - upAt;
    assert.ok(after >= 60_000 && after < 61_000, `ended ${after} ms after up`);
    await a.w.runUntil(() => a.downs.length === 1);
    assert.equal(a.downs[0]!.reason, 'session timeout');
    assert.equal(a.downs[0]!.session.user, 'dave', 'DOMAIN\\ stripped (ms-ignore-domain)');
    await a.finish();
  });

  it('authenticator: a slow answer holds the login: resent Responses ask once, the held one is then checked', async () => {
    let asked = 0;
    let answer: ((r: AuthResult) => void) | undefined;
    const a = new ApiWorld({
      authenticator: () => {
        asked++;
        return new Promise<AuthResult>((r) => {
          answer = r;
        });
      },
    });
    await a.listen();
    const c = a.client();
    await a.w.runUntil(() => asked === 1);
    // 7 s of virtual time: the client resends its Response (and the server its Challenge) meanwhile.
    const t0 = a.w.clock.now();
    await a.w.runUntil(() => a.w.clock.now() >= t0 + 7000);
    assert.ok(c.log.lines.filter((l) => /CHAP resend Response/.test(l)).length >= 2, 'the client resent');
    assert.equal(asked, 1, 'one question for the same user');
    answer!({ accept: true, password: 'correct horse' });
    const up = await a.w.wait(c.handle.ready);
    assert.equal(up.auth, 'mschap-v2');
    await a.w.wait(c.handle.close());
    await a.finish();
  });

  it('authenticator: an account refusal reaches an MS-CHAP client as its E= code', async () => {
    const a = new ApiWorld({ authenticator: () => ({ accept: false, reason: 'account-disabled' }) });
    await a.listen();
    const c = a.client();
    const err = await rejection(a.w, c.handle.ready);
    assert.ok(err instanceof AuthError);
    assert.match((err as Error).message, /account-disabled \(E=647\)/);
    await a.finish();
  });

  it('authenticator: an NT hash is enough for MS-CHAP-v2 and MPPE', async () => {
    const a = new ApiWorld({
      authenticator: () => ({ accept: true, ntHash: ntPasswordHash('correct horse') }),
    });
    await a.listen();
    const c = a.client();
    const up = await a.w.wait(c.handle.ready);
    assert.deepEqual(up.mppe, { keyBits: 128, stateless: true });
    const w = a.client({ password: 'wrong' });
    assert.ok((await rejection(a.w, w.handle.ready)) instanceof AuthError);
    await a.w.wait(c.handle.close());
    await a.finish();
  });

  it('authenticator: accepting CHAP without a secret, throwing or not answering in time all refuse', async () => {
    const cases: [string, (r: AuthRequest) => AuthResult | Promise<AuthResult>, RegExp][] = [
      ['no secret', () => ({ accept: true }), /mschap-v2 needs one/],
      [
        'throws',
        () => {
          throw new Error('database down');
        },
        /authenticator failed.*database down/,
      ],
      ['silent', () => new Promise<AuthResult>(() => {}), /did not answer in time/],
    ];
    for (const [name, authenticator, logged] of cases) {
      let signal: AbortSignal | undefined;
      const a = new ApiWorld({
        authenticator: (r) => {
          signal = r.signal;
          return authenticator(r);
        },
        authenticatorTimeoutMs: 5000,
      });
      await a.listen();
      const c = a.client();
      const err = await rejection(a.w, c.handle.ready);
      assert.ok(err instanceof AuthError, `${name}: ${String(err)}`);
      assert.ok(
        a.w.serverLog.lines.some((l) => logged.test(l)),
        name,
      );
      if (name === 'silent') assert.equal(signal?.aborted, true, 'the silent authenticator was told to stop');
      await a.finish();
    }
  });

  it('authenticator with PAP: the application checks the password itself', async () => {
    const a = new ApiWorld({
      ppp: { 'require-mschap-v2': false, 'require-pap': true, nomppe: true },
      authenticator: ({ user, method, password }) =>
        method === 'pap' && user === 'erin' && password === 'letmein' ? { accept: true } : { accept: false },
    });
    await a.listen();
    const ok = a.client({ user: 'erin', password: 'letmein', auth: ['pap'], mppe: 'off' });
    const up = await a.w.wait(ok.handle.ready);
    assert.equal(up.auth, 'pap');
    assert.equal(up.mppe, undefined);
    const bad = a.client({ user: 'erin', password: 'guess', auth: ['pap'], mppe: 'off' });
    assert.ok((await rejection(a.w, bad.handle.ready)) instanceof AuthError);
    await a.w.wait(ok.handle.close());
    await a.finish();
  });

  it('kick() ends a session with its reason, seen by both ends', async () => {
    const a = new ApiWorld();
    await a.listen();
    const c = a.client();
    await a.w.wait(c.handle.ready);
    await a.w.runUntil(() => a.ups.length === 1);
    const session = a.server.sessions()[0]!;
    assert.equal(a.server.kick(session, 'quota exceeded'), true);
    const down = await a.w.wait(c.handle.closed);
    assert.ok(down.error instanceof HangUpError);
    assert.equal(down.error.code, 'ERR_PPTP_HANGUP');
    assert.match(down.reason, /quota exceeded/);
    await a.w.runUntil(() => a.downs.length === 1);
    assert.equal(a.downs[0]!.reason, 'quota exceeded');
    assert.equal(a.downs[0]!.session.id, session.id);
    assert.equal(a.server.kick(session), false, 'already gone');
    await a.finish();
  });

  it('bad options throw ConfigError with a stable code', () => {
    const config = (f: () => unknown, re: RegExp) => {
      assert.throws(
        f,
        (e: unknown) => e instanceof ConfigError && e.code === 'ERR_PPTP_CONFIG' && re.test(e.message),
      );
    };
    config(() => createServer({ ...BASE }), /either secrets .* or authenticator/);
    config(
      () => createServer({ ...BASE, secrets: '/x', authenticator: () => ({ accept: false }) }),
      /not both/,
    );
    config(() => createServer({ ...BASE, pool: 'nonsense', secrets: '/x' }), /pool/);
    config(() => createServer({ ...BASE, secrets: '/nonexistent/chap-secrets' }), /chap-secrets/);
    config(() => connect({ server: SERVER_ADDRESS, user: '', password: 'x' }), /user/);
    config(() => connect({ server: SERVER_ADDRESS, user: 'a', password: 'x', port: 70000 }), /port/);
    config(
      () => connect({ server: SERVER_ADDRESS, user: 'a', password: 'x', localAddress: '10.0.0' }),
      /^localAddress: '10\.0\.0' is not an IPv4 address/,
    );
    config(
      () =>
        connect({ server: SERVER_ADDRESS, user: 'a', password: 'x', localAddress: 7 as unknown as string }),
      /^localAddress: not a string/,
    );
    config(
      () => connect({ server: SERVER_ADDRESS, user: 'a', password: 'x', mppe: 'sometimes' as 'off' }),
      /mppe/,
    );
  });
});
