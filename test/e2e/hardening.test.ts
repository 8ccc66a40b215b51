/**
 * The server's limits against hostile or broken peers, in process (in-memory
 * TCP/GRE/TUN, virtual clock): call slots per connection, per address and
 * for unauthenticated calls, the authentication time-out, the failure
 * tarpit, rate-limited warnings, a host set-up failure, SIGHUP's fixed
 * addresses and the bounded shutdown (docs/client-server.md "Limits").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitCode } from '../../src/client/exit-codes.js';
import { memoryTcp } from '../../src/io/tcp.js';
import { parseSecrets } from '../../src/server/chap-secrets.js';
import { PptpServer } from '../../src/server/server.js';
import { PptpMessageType } from '../../src/wire/pptp/index.js';
import { RawPeer } from './raw-peer.js';
import { SECRETS_TEXT, SERVER_ADDRESS, serverConfig, World } from './world.js';

const ATTACKER = '192.0.2.200';
const ATTACKER2 = '192.0.2.201';

describe('server limits', () => {
  it('refuses calls beyond max-calls-per-connection with Do Not Accept (7), and counts them', async () => {
    const w = new World({ config: serverConfig({ limits: { 'max-calls-per-connection': 2 } }) });
    await w.start();
    const p = await RawPeer.open(w, ATTACKER);
    for (let i = 0; i < 3; i++) p.call();
    await w.runUntil(() => p.of(PptpMessageType.OutgoingCallReply).length === 3);
    assert.deepEqual(p.replies().results, [1, 1, 7]);
    assert.equal(w.server.counters.callsRefusedPerConnection, 1);
    assert.equal(w.server.counters.callsRefused, 1);
    assert.ok(
      w.serverLog.lines.some((l) => /call refused .*peer=192\.0\.2\.200 .*max-calls-per-connection/.test(l)),
    );
    await w.wait(w.server.shutdown());
  });

  it('refuses calls beyond max-calls-per-address over several connections (7)', async () => {
    const w = new World({
      config: serverConfig({
        limits: { 'max-calls-per-connection': 2, 'max-calls-per-address': 3, 'max-starting-per-address': 10 },
      }),
    });
    await w.start();
    const a = await RawPeer.open(w, ATTACKER);
    const b = await RawPeer.open(w, ATTACKER);
    a.call();
    a.call();
    await w.runUntil(() => a.of(PptpMessageType.OutgoingCallReply).length === 2);
    b.call();
    b.call();
    await w.runUntil(() => b.of(PptpMessageType.OutgoingCallReply).length === 2);
    assert.deepEqual(b.replies().results, [1, 7]);
    assert.equal(w.server.counters.callsRefusedPerAddress, 1);
    // Another address is not affected.
    const c = await RawPeer.open(w, ATTACKER2);
    c.call();
    await w.runUntil(() => c.of(PptpMessageType.OutgoingCallReply).length === 1);
    assert.deepEqual(c.replies().results, [1]);
    await w.wait(w.server.shutdown());
  });

  it('bounds unauthenticated calls per address and server-wide (General Error / No-Resource); a real user still gets in', async () => {
    const w = new World({
      config: serverConfig({
        limits: { 'max-starting-per-address': 3, 'max-starting': 5, 'max-calls-per-connection': 64 },
      }),
    });
    await w.start();
    const a = await RawPeer.open(w, ATTACKER);
    for (let i = 0; i < 4; i++) a.call();
    await w.runUntil(() => a.of(PptpMessageType.OutgoingCallReply).length === 4);
    assert.deepEqual(a.replies().results, [1, 1, 1, 2]);
    const refused = a.of(PptpMessageType.OutgoingCallReply)[3]!;
    assert.equal(refused.errorCode, 4, 'No-Resource');
    assert.equal(w.server.counters.callsRefusedStartingPerAddress, 1);
    const b = await RawPeer.open(w, ATTACKER2);
    for (let i = 0; i < 3; i++) b.call();
    await w.runUntil(() => b.of(PptpMessageType.OutgoingCallReply).length === 3);
    assert.deepEqual(b.replies().results, [1, 1, 2], 'the server-wide limit (5) is reached');
    assert.equal(w.server.counters.callsRefusedStarting, 1);
    assert.equal(w.server.startingCalls, 5);
    // The auth time-out frees the slots; a real client then comes up.
    await w.runUntil(() => w.server.startingCalls === 0, 30_000);
    const c = w.startClient();
    await w.wait(c.up, 10_000);
    c.client.stop();
    await w.wait(c.outcome);
    await w.wait(w.server.shutdown());
  });

  it('clears a call whose peer does not authenticate within auth-timeout (CDN Admin Shutdown)', async () => {
    const w = new World({ config: serverConfig({ limits: { 'auth-timeout': 10 } }) });
    await w.start();
    const p = await RawPeer.open(w, ATTACKER);
    p.call();
    const t0 = w.clock.now();
    await w.runUntil(() => p.of(PptpMessageType.CallDisconnectNotify).length === 1, 60_000);
    const waited = w.clock.now() - t0;
    assert.ok(waited >= 10_000 && waited < 11_000, `cleared after ${waited} ms`);
    assert.equal(p.of(PptpMessageType.CallDisconnectNotify)[0]!.resultCode, 3);
    assert.equal(w.server.counters.authTimeouts, 1);
    assert.equal(w.server.startingCalls, 0);
    assert.ok(
      w.serverLog.lines.some((l) =>
        /session end .*peer=192\.0\.2\.200 .*reason="authentication time-out"/.test(l),
      ),
    );
    await w.wait(w.server.shutdown());
  });
});

/** Wrong-password attempts from one address, one after the other, for `windowMs` of virtual time. */
async function guess(
  w: World,
  address: string,
  user: string,
  windowMs: number,
): Promise<{ answered: number; attempts: number }> {
  const end = w.clock.now() + windowMs;
  let answered = 0;
  let attempts = 0;
  // At most 100 attempts (without delays, attempts take no virtual time at all).
  while (w.clock.now() < end && attempts < 100) {
    attempts++;
    const c = w.startClient({ user, password: 'wrong' }, { tcp: memoryTcp(w.tcp, address) });
    const o = await w.wait(c.outcome, 120_000);
    if (o.code === ExitCode.AuthFailed) answered++;
  }
  return { answered, attempts };
}

describe('authentication failure delays', () => {
  it('slows one address to a handful of answered guesses a minute; a real user elsewhere logs in at once', async () => {
    const w = new World();
    await w.start();
    const r = await guess(w, ATTACKER, 'alice', 60_000);
    // 1 + 2 + 4 + 8 + 16 s of delays (the client retries none): at most 5 failures answered in 60 s.
    assert.ok(r.answered <= 5, `${r.answered} failures answered in 60 s`);
    assert.ok(r.answered >= 3, `${r.answered} failures answered in 60 s`);
    assert.ok(w.server.counters.authFailures >= r.answered);
    const line = w.serverLog.lines.find((l) => / auth failure /.test(l));
    assert.match(
      line ?? '',
      /auth failure event=auth-failure peer=192\.0\.2\.200 user=alice method=MS-CHAP-v2 reason=wrong-password callId=\d+ delayMs=1000/,
    );
    // Another address, another user: no delay.
    const t0 = w.clock.now();
    const c = w.startClient({ user: 'carol', password: 's3cret' });
    await w.wait(c.up, 10_000);
    assert.ok(w.clock.now() - t0 < 1000, `up after ${w.clock.now() - t0} ms`);
    c.client.stop();
    await w.wait(c.outcome);
    await w.wait(w.server.shutdown());
  });

  it('without the delay the same minute answers far more guesses (the test above can fail)', async () => {
    const w = new World({ config: serverConfig({ limits: { 'auth-failure-delay': 0 } }) });
    await w.start();
    const r = await guess(w, ATTACKER, 'alice', 60_000);
    assert.equal(r.answered, 100, `${r.answered} answered`);
    await w.wait(w.server.shutdown());
  });

  it('delays guesses at one user from a fresh address too, and a success resets the count', async () => {
    const w = new World();
    await w.start();
    await guess(w, ATTACKER, 'carol', 5_000);
    const before = w.server.counters.authFailures;
    assert.ok(before >= 2);
    const c = w.startClient({ user: 'carol', password: 'wrong' }, { tcp: memoryTcp(w.tcp, ATTACKER2) });
    await w.wait(c.outcome);
    const delays = w.serverLog.lines
      .filter((l) => /auth failure event=auth-failure peer=192\.0\.2\.201 /.test(l))
      .map((l) => Number(/delayMs=(\d+)/.exec(l)![1]));
    assert.deepEqual(delays, [1000 * 2 ** before]);
    const ok = w.startClient({ user: 'carol', password: 's3cret' }, { tcp: memoryTcp(w.tcp, ATTACKER2) });
    await w.wait(ok.up);
    ok.client.stop();
    await w.wait(ok.outcome);
    const again = w.startClient({ user: 'carol', password: 'wrong' }, { tcp: memoryTcp(w.tcp, ATTACKER2) });
    await w.wait(again.outcome);
    assert.match(w.serverLog.lines.filter((l) => / auth failure /.test(l)).at(-1)!, /delayMs=1000$/);
    await w.wait(w.server.shutdown());
  });

  it('logs the client address and the user name in separate fields; a user name cannot forge a field', async () => {
    const secrets = `${SECRETS_TEXT}203.0.113.99 * pw *\n"x peer=1.2.3.4" * pw *\n`;
    const w = new World({ secrets });
    await w.start();
    for (const user of ['203.0.113.99', 'x peer=1.2.3.4']) {
      const c = w.startClient({ user, password: 'wrong' }, { tcp: memoryTcp(w.tcp, ATTACKER) });
      await w.wait(c.outcome);
    }
    const lines = w.serverLog.lines.filter((l) => / auth failure /.test(l));
    assert.match(lines[0]!, /peer=192\.0\.2\.200 user=203\.0\.113\.99 /);
    assert.match(lines[1]!, /peer=192\.0\.2\.200 user="x peer=1\.2\.3\.4" /);
    // Every warning about these sessions carries the real address first.
    for (const l of w.serverLog.lines.filter((x) => /peer failed authentication/.test(x))) {
      assert.match(l, / peer=192\.0\.2\.200 /);
      assert.doesNotMatch(l, / peer=203\.0\.113\.99/);
    }
    await w.wait(w.server.shutdown());
  });
});

describe('rate-limited warnings', () => {
  it('100,000 control messages of an undefined type give a bounded log and one "suppressed" count', async () => {
    const w = new World();
    await w.start();
    const p = await RawPeer.open(w, ATTACKER);
    const before = w.serverLog.lines.filter((l) => !/ debug /.test(l)).join('\n').length;
    // A well-framed 16-byte control message of Control Message Type 50 (undefined).
    const one = Buffer.from([0, 16, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 0, 50, 0, 0, 0, 0, 0, 0]);
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => one));
    for (let i = 0; i < 100; i++) {
      p.socket.write(batch);
      await w.runUntil(() => true);
      w.clock.advance(10);
    }
    p.socket.end();
    await w.runUntil(() => p.closed);
    const logged = w.serverLog.lines.filter((l) => !/ debug /.test(l));
    const bytes = logged.join('\n').length - before;
    assert.ok(bytes < 20_000, `${bytes} bytes of log for 1.6 MB of input`);
    const warned = logged.filter(
      (l) => /undefined PPTP message type skipped/.test(l) && !/suppressed/.test(l),
    ).length;
    const suppressed = logged
      .map((l) => /suppressed (\d+) similar messages .*like="undefined PPTP message type skipped"/.exec(l))
      .filter((m) => m !== null)
      .reduce((n, m) => n + Number(m![1]), 0);
    assert.equal(warned + suppressed, 100_000, `${warned} written + ${suppressed} suppressed`);
    assert.ok(warned <= 20, `${warned} written`);
    await w.wait(w.server.shutdown());
  });
});

describe('host set-up failures', () => {
  it('a session whose route cannot be added ends with a reason (CDN General Error), and its address is freed', async () => {
    const w = new World();
    await w.start();
    const free = w.server.poolAvailable;
    w.serverHost.failOn = /^route 10\.99\.0\.\d+\/32 dev pptps0/;
    const c = w.startClient();
    const o = await w.wait(c.outcome);
    assert.equal(o.code, ExitCode.HangUp);
    assert.match(o.reason, /host set-up failed|GeneralError/);
    assert.equal(w.server.counters.hostSetupFailures, 1);
    assert.ok(
      w.serverLog.lines.some((l) =>
        /session set-up failed: ending the session peer=192\.0\.2\.\d+ .*error="injected failure: route/.test(
          l,
        ),
      ),
    );
    assert.ok(
      w.serverLog.lines.some((l) => /session end .*reason="host set-up failed: injected failure/.test(l)),
    );
    await w.runUntil(() => w.server.sessions().length === 0);
    assert.equal(w.server.poolAvailable, free);
    assert.deepEqual(
      [...w.serverHost.applied].filter((d) => d.startsWith('route')),
      [],
    );
    await w.wait(w.server.shutdown());
  });

  it('per-session mode: a TUN that cannot be opened ends the session the same way', async () => {
    const w = new World({ config: serverConfig({ interface: { mode: 'per-session', name: 'pptps0' } }) });
    const server = w.server as unknown as { env: { openTun: (n: string) => unknown } };
    server.env.openTun = () => {
      throw new Error('injected failure: /dev/net/tun busy');
    };
    await w.start();
    const c = w.startClient();
    const o = await w.wait(c.outcome);
    assert.equal(o.code, ExitCode.HangUp);
    assert.equal(w.server.counters.hostSetupFailures, 1);
    await w.wait(w.server.shutdown());
  });
});

describe('SIGHUP and fixed addresses', () => {
  it('reserves fixed addresses that a reload adds, so they are not handed out dynamically', async () => {
    let secrets = parseSecrets(SECRETS_TEXT);
    const w = new World({ config: serverConfig({ pool: '10.99.0.10-10.99.0.11' }) });
    const env = (w.server as unknown as { env: { secrets: () => unknown } }).env;
    env.secrets = () => secrets;
    await w.start();
    assert.equal(w.server.poolAvailable, 2);
    secrets = parseSecrets(`${SECRETS_TEXT}dave * pw 10.99.0.10\n`);
    w.server.secretsReloaded();
    assert.equal(w.server.poolAvailable, 1);
    const a = w.startClient();
    assert.equal((await w.wait(a.up)).localAddress, '10.99.0.11');
    const c = w.startClient({ user: 'carol', password: 's3cret' });
    assert.equal((await w.wait(c.outcome)).code, ExitCode.NegotiationFailed, 'no dynamic address left');
    const d = w.startClient({ user: 'dave', password: 'pw' });
    assert.equal((await w.wait(d.up)).localAddress, '10.99.0.10');
    // A reload that drops dave gives his address back to the pool.
    d.client.stop();
    await w.wait(d.outcome);
    secrets = parseSecrets(SECRETS_TEXT);
    w.server.secretsReloaded();
    assert.equal(w.server.poolAvailable, 1);
    a.client.stop();
    await w.wait(a.outcome);
    await w.wait(w.server.shutdown());
  });
});

describe('bounded shutdown', () => {
  it('tells every peer, refuses new connections at once and ends within shutdown-timeout when a peer never answers', async () => {
    const w = new World({ config: serverConfig({ limits: { 'shutdown-timeout': 3 } }) });
    await w.start();
    const a = w.startClient();
    await w.wait(a.up);
    // A peer with a call that never answers anything (and stops reading).
    const p = await RawPeer.open(w, ATTACKER);
    p.call();
    await w.runUntil(() => p.of(PptpMessageType.OutgoingCallReply).length === 1);
    p.socket.pause();
    const t0 = w.clock.now();
    let done = false;
    const stopping = w.server.shutdown().then(() => {
      done = true;
    });
    await w.runUntil(() => true);
    await assert.rejects(w.wait(memoryTcp(w.tcp, ATTACKER2).connect(SERVER_ADDRESS, 1723)), /ECONNREFUSED/);
    await w.runUntil(() => done, 10_000);
    await stopping;
    const took = w.clock.now() - t0;
    assert.ok(took <= 3000, `shutdown took ${took} ms`);
    const o = await w.wait(a.outcome);
    assert.equal(o.code, ExitCode.HangUp);
    p.socket.resume();
    await w.runUntil(() => p.closed);
    assert.equal(p.of(PptpMessageType.CallDisconnectNotify).length, 1);
    assert.equal(p.of(PptpMessageType.StopControlConnectionRequest)[0]?.reason, 3, 'Stop-Local-Shutdown');
    assert.equal(w.server.connectionCount, 0);
  });
});

void PptpServer;
