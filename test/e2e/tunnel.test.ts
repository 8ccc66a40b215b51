/**
 * Client and server drivers end to end, in one process, over the in-memory
 * TCP network, GRE network and TUNs (docs/style.md §5.6), on a virtual clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PptpClient } from '../../src/client/client.js';
import { ExitCode } from '../../src/client/exit-codes.js';
import { FaultInjector } from '../../src/io/memory/faults.js';
import { seededRandom } from '../../src/io/memory/random.js';
import { MemoryTun } from '../../src/io/memory/tun.js';
import { memoryTcp } from '../../src/io/tcp.js';
import { PptpServer } from '../../src/server/server.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';
import type { PppSession } from '../../src/session/session.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { checksumsOk, icmpEcho } from './packets.js';
import { SERVER_ADDRESS, serverConfig, World } from './world.js';

describe('client ↔ server over in-memory links', () => {
  it('brings up MS-CHAP-v2 + MPPE-128 and carries an ICMP echo both ways, intact', async () => {
    const w = new World();
    await w.start();
    const c = w.startClient({ usePeerDns: true, defaultRoute: true, routes: ['172.16.0.0/12'] });
    const info = await w.wait(c.up);
    assert.equal(info.localAddress, '10.99.0.10');
    assert.equal(info.remoteAddress, '10.99.0.1');
    assert.deepEqual(info.dns, ['10.99.0.1', '10.99.0.2']);
    assert.equal(info.mtu, 1500 - 20 - 16 - 4 - 4, 'path MTU − IPv4 − GRE − PPP − MPPE');
    assert.equal(info.mppe?.tx?.keyBits, 128);
    assert.equal(info.mppe?.rx?.stateless, true);
    assert.deepEqual(
      info.auth.map((a) => a.method),
      ['mschap-v2'],
    );

    // Client host → tunnel → server host.
    const ping = icmpEcho('10.99.0.10', '10.99.0.1', 0x77, 1);
    c.tun.hostSend(ping);
    await w.runUntil(() => w.serverTun.hostReceived.length > 0);
    const got = w.serverTun.hostReceived.shift()!;
    assert.deepEqual(got, ping, 'arrives decrypted and byte-identical');
    assert.ok(checksumsOk(got));
    // And back.
    const reply = icmpEcho('10.99.0.1', '10.99.0.10', 0x77, 2, 1400);
    w.serverTun.hostSend(reply);
    await w.runUntil(() => c.tun.hostReceived.length > 0);
    assert.deepEqual(c.tun.hostReceived.shift(), reply);

    // It really was encrypted on the wire: the outer payload never contains the inner bytes.
    const sessions = w.server.sessions();
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.user, 'alice');
    assert.equal(sessions[0]!.address, '10.99.0.10');

    // Host changes while up, then none after a stop.
    assert.ok([...c.host.applied].some((d) => d.startsWith('ppp1 10.99.0.10 peer 10.99.0.1 mtu 1456')));
    assert.ok(c.host.applied.has('route 192.0.2.2/32 via gateway'));
    assert.ok(c.host.applied.has('route 172.16.0.0/12 dev ppp1'));
    assert.ok(c.host.applied.has('default route dev ppp1'));
    assert.ok(c.host.applied.has('resolv /etc/ppp/resolv.conf 10.99.0.1 10.99.0.2'));
    c.client.stop();
    const outcome = await w.wait(c.outcome);
    assert.equal(outcome.code, ExitCode.Ok);
    assert.deepEqual([...c.host.applied], []);
    assert.ok(c.tun.isClosed);
    await w.runUntil(() => w.server.sessions().length === 0 && w.server.connectionCount === 0);
    assert.ok(w.serverLog.lines.some((l) => / session end .*user=alice/.test(l)));
    assert.ok(w.serverLog.lines.some((l) => /session end .*reason=/.test(l)));
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0, 'no timer left on the clock');
    assert.deepEqual([...w.serverHost.applied], [], 'the server undid its interface set-up');
    assert.ok(w.serverTun.isClosed);
  });

  it("fails with the wrong password: exit code 19 with the server's message; nothing left behind", async () => {
    const w = new World();
    await w.start();
    const c = w.startClient({ password: 'wrong' });
    const outcome = await w.wait(c.outcome);
    assert.equal(outcome.code, ExitCode.AuthFailed);
    assert.match(outcome.reason, /authentication failed, wrong-password \(E=691\)/);
    assert.equal(outcome.wasUp, false);
    assert.deepEqual([...c.host.applied], []);
    await w.runUntil(() => w.server.connectionCount === 0);
    assert.ok(w.serverLog.lines.some((l) => /session end .*reason=.*(authenticat|Call-Clear)/i.test(l)));
    assert.equal(
      w.server.poolAvailable,
      190,
      "no address was taken (191 in the pool, bob's fixed one reserved)",
    );
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('fails when the server will not do MPPE and the client requires it: exit code 21', async () => {
    const w = new World({ config: serverConfig({ ppp: { nomppe: true } }) });
    await w.start();
    const c = w.startClient();
    const outcome = await w.wait(c.outcome);
    assert.equal(outcome.code, ExitCode.MppeRefused);
    assert.match(outcome.reason, /MPPE/);
    await w.runUntil(() => w.server.connectionCount === 0);
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('runs without MPPE when both sides say off', async () => {
    const w = new World({ config: serverConfig({ ppp: { nomppe: true } }) });
    await w.start();
    const c = w.startClient({ mppe: { mode: 'off' } });
    const info = await w.wait(c.up);
    assert.equal(info.mppe, undefined);
    assert.equal(info.mtu, 1460, 'no MPPE overhead');
    const ping = icmpEcho(info.localAddress, info.remoteAddress, 1, 1);
    c.tun.hostSend(ping);
    await w.runUntil(() => w.serverTun.hostReceived.length > 0);
    assert.deepEqual(w.serverTun.hostReceived[0], ping);
    c.client.stop();
    await w.wait(c.outcome);
    await w.server.shutdown();
  });

  it('server down: connection refused, exit code 8', async () => {
    const w = new World();
    const c = w.startClient();
    const outcome = await w.wait(c.outcome);
    assert.equal(outcome.code, ExitCode.ConnectFailed);
    assert.match(outcome.reason, /connection refused by 192\.0\.2\.2:1723/);
    assert.ok(c.tun.isClosed || c.tun.hostReceived.length === 0);
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('peer silent: when the GRE link dies, LCP echoes time out on both sides (exit code 15)', async () => {
    const w = new World();
    await w.start();
    const c = w.startClient({ lcpEchoInterval: 5, lcpEchoFailure: 3 });
    await w.wait(c.up);
    w.gre.setFaults(c.address, '192.0.2.2', new FaultInjector({ seed: 1, drop: 1 }));
    w.gre.setFaults('192.0.2.2', c.address, new FaultInjector({ seed: 2, drop: 1 }));
    const outcome = await w.wait(c.outcome, 600_000);
    assert.equal(outcome.code, ExitCode.PeerSilent);
    assert.match(outcome.reason, /no response to \d+ echo-requests/);
    assert.equal(outcome.wasUp, true);
    await w.runUntil(() => w.server.sessions().length === 0, 600_000);
    assert.ok(w.serverLog.lines.some((l) => /session end .*address=10\.99\.0\.10/.test(l)));
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('a cut control connection ends both sides cleanly', async () => {
    const w = new World();
    await w.start();
    const c = w.startClient();
    await w.wait(c.up);
    assert.equal(w.serverSockets.length, 1);
    w.serverSockets[0]!.reset();
    const outcome = await w.wait(c.outcome);
    assert.equal(outcome.code, ExitCode.HangUp);
    assert.match(outcome.reason, /control connection/);
    assert.deepEqual([...c.host.applied], []);
    await w.runUntil(() => w.server.sessions().length === 0 && w.server.connectionCount === 0);
    assert.ok(w.serverLog.lines.some((l) => /session end .*reason=.*TCP connection closed/.test(l)));
    assert.equal(w.server.poolAvailable, 190, 'the address went back to the pool');
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('drops packets with a spoofed source address, and counts them', async () => {
    const w = new World();
    await w.start();
    const c = w.startClient();
    const info = await w.wait(c.up);
    c.tun.hostSend(icmpEcho('10.99.0.99', info.remoteAddress, 1, 1));
    c.tun.hostSend(icmpEcho('10.99.0.11', info.remoteAddress, 1, 2));
    const good = icmpEcho(info.localAddress, info.remoteAddress, 1, 3);
    c.tun.hostSend(good);
    await w.runUntil(() => w.serverTun.hostReceived.length > 0);
    await w.runUntil(() => w.server.counters.spoofedDropped === 2);
    assert.deepEqual(
      w.serverTun.hostReceived,
      [good],
      "only the packet with the session's own source passes",
    );
    assert.equal(w.server.sessions()[0]!.spoofedDropped, 2);
    assert.ok(w.serverLog.lines.some((l) => /spoofed source address dropped .*source=10\.99\.0\.99/.test(l)));
    c.client.stop();
    await w.wait(c.outcome);
    await w.server.shutdown();
  });

  for (const allowed of [false, true]) {
    it(`client-to-client ${allowed ? 'allowed: forwarded' : 'refused: dropped'} between sessions`, async () => {
      const w = new World({ config: serverConfig({ 'client-to-client': allowed }) });
      await w.start();
      const a = w.startClient();
      const ia = await w.wait(a.up);
      const b = w.startClient({ user: 'carol', password: 's3cret' });
      const ib = await w.wait(b.up);
      assert.notEqual(ia.localAddress, ib.localAddress);
      const p = icmpEcho(ia.localAddress, ib.localAddress, 9, 9);
      a.tun.hostSend(p);
      const toServer = icmpEcho(ia.localAddress, ia.remoteAddress, 9, 10);
      a.tun.hostSend(toServer);
      await w.runUntil(() => w.serverTun.hostReceived.length > 0);
      await w.runUntil(() =>
        allowed ? b.tun.hostReceived.length > 0 : w.server.counters.clientToClientDropped > 0,
      );
      assert.deepEqual(
        w.serverTun.hostReceived,
        [toServer],
        'session-to-session traffic never goes to the TUN',
      );
      if (allowed) {
        assert.deepEqual(b.tun.hostReceived, [p]);
        assert.equal(w.server.counters.clientToClientForwarded, 1);
      } else {
        assert.deepEqual(b.tun.hostReceived, []);
        assert.equal(w.server.counters.clientToClientDropped, 1);
      }
      // The server routes by inner destination: each reply reaches its own session only.
      w.serverTun.hostSend(icmpEcho(ia.remoteAddress, ib.localAddress, 3, 3));
      await w.runUntil(() => b.tun.hostReceived.length > (allowed ? 1 : 0));
      assert.equal(a.tun.hostReceived.length, 0);
      a.client.stop();
      b.client.stop();
      await w.wait(Promise.all([a.outcome, b.outcome]));
      await w.server.shutdown();
      assert.equal(w.clock.pendingTimers, 0);
    });
  }

  it('gives per-user fixed addresses and refuses accounts with "-"', async () => {
    const w = new World();
    await w.start();
    const b = w.startClient({ user: 'bob', password: 'hunter2' });
    const info = await w.wait(b.up);
    assert.equal(info.localAddress, '10.99.0.77');
    const m = w.startClient({ user: 'mallory', password: 'blocked' });
    const outcome = await w.wait(m.outcome);
    assert.equal(outcome.code, ExitCode.AuthFailed);
    assert.match(outcome.reason, /E=649/);
    b.client.stop();
    await w.wait(b.outcome);
    // A fixed address is free again once its session ended: bob can come back.
    const b2 = w.startClient({ user: 'bob', password: 'hunter2' });
    assert.equal((await w.wait(b2.up)).localAddress, '10.99.0.77');
    b2.client.stop();
    await w.wait(b2.outcome);
    await w.server.shutdown();
  });

  it('refuses calls beyond max-sessions (exit code 10) and connections beyond the per-address limit', async () => {
    const w = new World({
      config: serverConfig({ limits: { 'max-sessions': 1, 'max-connections-per-address': 1 } }),
    });
    await w.start();
    const a = w.startClient();
    await w.wait(a.up);
    const b = w.startClient({ user: 'carol', password: 's3cret' });
    const ob = await w.wait(b.outcome);
    assert.equal(ob.code, ExitCode.NegotiationFailed);
    assert.match(ob.reason, /refused the call: GeneralError \(result 2, error 4\)/);
    assert.equal(w.server.counters.callsRefused, 1);
    // A second control connection from a's address is closed at once.
    const extra = await w.wait(memoryTcp(w.tcp, a.address).connect('192.0.2.2', 1723));
    let closed = false;
    extra.on('close', () => {
      closed = true;
    });
    extra.resume();
    await w.runUntil(() => closed);
    assert.equal(w.server.counters.connectionsRefused, 1);
    a.client.stop();
    await w.wait(a.outcome);
    await w.server.shutdown();
  });

  it('closes connections on which no session comes up within handshake-timeout', async () => {
    const w = new World({ config: serverConfig({ limits: { 'handshake-timeout': 5 } }) });
    await w.start();
    // A client whose GRE never reaches the server: PPP cannot start.
    w.gre.setFaults('192.0.2.11', '192.0.2.2', new FaultInjector({ seed: 3, drop: 1 }));
    const c = w.startClient();
    const outcome = await w.wait(c.outcome, 300_000);
    assert.notEqual(outcome.code, ExitCode.Ok);
    assert.equal(w.server.counters.handshakeTimeouts, 1);
    assert.ok(w.serverLog.lines.some((l) => /session end .*reason="handshake time-out"/.test(l)));
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0);
  });

  it('a graceful server shutdown tells every client (exit code 16) and frees everything', async () => {
    const w = new World();
    await w.start();
    const a = w.startClient();
    const b = w.startClient({ user: 'carol', password: 's3cret' });
    await w.wait(Promise.all([a.up, b.up]));
    const done = w.server.shutdown();
    const [oa, ob] = await w.wait(Promise.all([a.outcome, b.outcome]));
    await w.wait(done);
    for (const o of [oa, ob]) {
      assert.equal(o.code, ExitCode.HangUp);
      // The server's LCP Terminate-Request, then its Call-Disconnect-Notify (Admin Shutdown).
      assert.match(o.reason, /server ended the PPP link \(server shutting down\)|AdminShutdown/);
    }
    assert.equal(w.server.sessions().length, 0);
    assert.equal(w.server.connectionCount, 0);
    assert.deepEqual([...w.serverHost.applied], []);
    assert.equal(w.clock.pendingTimers, 0);
    assert.equal(w.server.counters.sessionsEnded, 2);
  });

  it('a host change that fails (a route) ends the attempt with exit code 4 and undoes the others', async () => {
    const w = new World();
    await w.start();
    const e = w.clientEnv();
    e.host.failOn = /^route 10\.0\.0\.0\/8/;
    const client = new PptpClient(
      {
        server: SERVER_ADDRESS,
        user: 'alice',
        password: 'correct horse',
        routes: ['192.168.0.0/16', '10.0.0.0/8'],
      },
      e.env,
    );
    const outcome = await w.wait(client.run());
    assert.equal(outcome.code, ExitCode.Setup);
    assert.match(outcome.reason, /cannot configure the host: injected failure: route 10\.0\.0\.0\/8/);
    assert.equal(outcome.wasUp, true);
    assert.ok(e.host.history.includes('+ route 192.168.0.0/16 dev ppp1'));
    assert.deepEqual([...e.host.applied], [], 'what was done is undone');
    await w.runUntil(() => w.server.sessions().length === 0);
    await w.server.shutdown();
  });

  it('a server that cannot listen undoes its interface set-up', async () => {
    const w = new World();
    await w.start();
    const second = new World();
    // The same in-memory TCP network: the port is taken.
    const clash = new PptpServer(serverConfig(), {
      clock: second.clock,
      log: second.serverLog,
      tcp: memoryTcp(w.tcp, SERVER_ADDRESS),
      host: second.serverHost,
      openTun: () => new MemoryTun({ name: 'pptps1' }),
      openGre: () => second.gre.socket(SERVER_ADDRESS),
      secrets: () => [],
    });
    await assert.rejects(clash.start(), /EADDRINUSE/);
    assert.deepEqual([...second.serverHost.applied], []);
    assert.doesNotThrow(() => second.gre.socket(SERVER_ADDRESS).close(), 'its GRE socket was closed');
    await w.server.shutdown();
  });

  it('--ipv6 against a per-session server: link-local pairs on both interfaces, IPv6 both ways', async () => {
    const w = new World({
      config: serverConfig({ ppp: { ipv6: true }, interface: { mode: 'per-session', name: 'pptps0' } }),
    });
    await w.start();
    const lines: string[] = [];
    const c = w.startClient({ ipv6: true }, { print: (l) => lines.push(l) });
    await w.wait(c.up);
    await w.runUntil(() => [...c.host.applied].some((d) => d.startsWith('link-local ')));
    await w.runUntil(() => [...w.serverHost.applied].some((d) => d.startsWith('link-local ')));
    const ll = [...c.host.applied].filter((d) => d.startsWith('link-local '));
    assert.equal(ll.length, 1);
    const m = /^link-local ([0-9a-f]{16}) peer ([0-9a-f]{16}) dev ppp1$/.exec(ll[0]!);
    assert.ok(m, ll[0]);
    const sll = [...w.serverHost.applied].find((d) => d.startsWith('link-local '))!;
    assert.equal(sll, `link-local ${m[2]} peer ${m[1]} dev pptps0`, 'the server has the same pair, mirrored');
    assert.ok(
      lines.some((l) => /^ {2}ipv6 +fe80::\S+ peer fe80::\S+$/.test(l)),
      lines.join('\n'),
    );
    // An IPv6 packet each way, from the client's link-local address (fe80:: + its identifier). Before
    // it, two the server must refuse (anti-spoofing): another identifier, and the unspecified address
    // on something other than ICMPv6.
    const v6 = new Uint8Array(60);
    v6[0] = 0x60;
    v6[5] = 20;
    v6[6] = 59; // no next header
    v6[7] = 64;
    v6[8] = 0xfe;
    v6[9] = 0x80;
    for (let i = 40; i < 60; i++) v6[i] = i;
    const forged = v6.slice();
    forged[23]! ^= 0x01;
    const unspecified = v6.slice();
    unspecified.fill(0, 8, 24);
    v6.set(Buffer.from(m[1]!, 'hex'), 16);
    c.tun.hostSend(forged);
    c.tun.hostSend(unspecified);
    c.tun.hostSend(v6);
    const stun = w.serverTuns[0]!;
    await w.runUntil(() => stun.hostReceived.length > 0);
    await w.runUntil(() => w.server.counters.spoofedDropped === 2);
    assert.deepEqual(stun.hostReceived, [v6], 'only the packet from the negotiated identifier passes');
    assert.ok(w.serverLog.lines.some((l) => /spoofed source address dropped .*source=fe80:0:0:0:/.test(l)));
    stun.hostSend(v6);
    await w.runUntil(() => c.tun.hostReceived.length > 0);
    assert.deepEqual(c.tun.hostReceived[0], v6);
    c.client.stop();
    await w.wait(c.outcome);
    assert.deepEqual([...c.host.applied], []);
    await w.server.shutdown();

    const w2 = new World();
    await w2.start();
    const c2 = w2.startClient({ ipv6: true });
    const info = await w2.wait(c2.up);
    assert.equal(info.localAddress, '10.99.0.10');
    await w2.runUntil(() => c2.log.lines.some((l) => /ipv6cp|0x8057|IPV6CP|IPv6CP/i.test(l)));
    assert.ok(![...c2.host.applied].some((d) => d.startsWith('link-local ')));
    c2.client.stop();
    assert.equal((await w2.wait(c2.outcome)).code, ExitCode.Ok);
    await w2.server.shutdown();
  });

  it('localAddress: the control connection and the GRE endpoint use it; the owned endpoint takes only our Call ID from the call on', async () => {
    const w = new World();
    await w.start();
    const greAt: string[] = [];
    const restricted: { callId: number; attached: number }[] = [];
    const c = w.startClient(
      { localAddress: '192.0.2.77' },
      {
        openGre: (local) => {
          greAt.push(local);
          const endpoint = new GreEndpoint(w.gre.socket(local), w.clock);
          return {
            endpoint,
            release: () => endpoint.close(),
            restrictToCallId: (callId) => restricted.push({ callId, attached: endpoint.size }),
          };
        },
      },
    );
    await w.wait(c.up);
    assert.deepEqual(greAt, ['192.0.2.77']);
    assert.deepEqual(
      w.server.sessions().map((x) => x.peer),
      ['192.0.2.77'],
      'the server sees the call, and its GRE, from that address',
    );
    const callId = (c.client as unknown as { callId: number }).callId;
    assert.deepEqual(restricted, [{ callId, attached: 0 }], 'once, with our Call ID, before the channel');
    c.client.stop();
    assert.equal((await w.wait(c.outcome)).code, ExitCode.Ok);
    await w.server.shutdown();
  });

  it('clients that share one GRE endpoint never pick the same Call ID', async () => {
    const w = new World();
    await w.start();
    const shared = new GreEndpoint(w.gre.socket('192.0.2.50'), w.clock);
    shared.start();
    // The same seed for both: their first Call ID candidates are the same.
    const bytes = (seed: number) => {
      const r = seededRandom(seed);
      return (n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
    };
    const common = { openGre: () => ({ endpoint: shared, release: () => {} }) };
    const a = w.startClient({}, { ...common, random: bytes(7), tcp: memoryTcp(w.tcp, '192.0.2.50') });
    const b = w.startClient(
      { user: 'carol', password: 's3cret' },
      { ...common, random: bytes(7), tcp: memoryTcp(w.tcp, '192.0.2.50') },
    );
    await w.wait(Promise.all([a.up, b.up]));
    const ids = w.server.sessions().map((x) => x.callId);
    assert.equal(ids.length, 2);
    const clientIds = [a, b].map((c) => (c.client as unknown as { callId: number }).callId);
    assert.notEqual(clientIds[0], clientIds[1], `client Call IDs ${clientIds.join(', ')}`);
    assert.equal(shared.size, 2);
    // Both carry traffic on the one socket.
    for (const [c, n] of [
      [a, 1],
      [b, 2],
    ] as const) {
      const info = c.client.info!;
      c.tun.hostSend(icmpEcho(info.localAddress, info.remoteAddress, n, n));
    }
    await w.runUntil(() => w.serverTun.hostReceived.length === 2);
    a.client.stop();
    b.client.stop();
    await w.wait(Promise.all([a.outcome, b.outcome]));
    assert.equal(shared.size, 0);
    assert.equal(shared.isCallIdTaken(clientIds[0]!, parseIpv4('192.0.2.2')!), false, 'claims released');
    shared.close();
    await w.server.shutdown();
  });

  it('an IPCP renegotiation keeps the session, its address and its route', async () => {
    const w = new World();
    await w.start();
    const c = w.startClient();
    const info = await w.wait(c.up);
    const routes = () => [...w.serverHost.applied].filter((d) => d.startsWith('route 10.99.0.10/32'));
    assert.equal(routes().length, 1);
    // An IPCP Configure-Request (RFC 1332 §3.3 IP-Address 10.99.0.10) sent on the client's call
    // while IPCP is Opened: the server's IPCP goes down and renegotiates (RFC 1661 §4.1, RCR+ in
    // Opened: tld/scr/sca), and so does the client's when the server's new request arrives.
    const session = (c.client as unknown as { session: PppSession }).session;
    const cr = Uint8Array.from([1, 0x77, 0, 10, 3, 6, 10, 99, 0, 10]);
    session.channel.send({ protocol: 0x8021, payload: cr }, w.clock.now());
    session.afterOutput();
    await w.runUntil(() => c.log.lines.some((l) => /the network layer is back/.test(l)));
    await w.runUntil(() => w.serverLog.lines.some((l) => /session back up/.test(l)));
    assert.equal(w.server.counters.sessionsUp, 1, 'still one session');
    assert.equal(routes().length, 1, 'its route stayed');
    const p = icmpEcho(info.localAddress, info.remoteAddress, 8, 8);
    c.tun.hostSend(p);
    await w.runUntil(() => w.serverTun.hostReceived.length > 0);
    assert.deepEqual(w.serverTun.hostReceived[0], p);
    c.client.stop();
    assert.equal((await w.wait(c.outcome)).code, ExitCode.Ok);
    await w.server.shutdown();
    assert.deepEqual([...w.serverHost.applied], []);
  });

  it('per-session interface mode gives each session its own TUN', async () => {
    const w = new World({ config: serverConfig({ interface: { mode: 'per-session', name: 'pptps0' } }) });
    await w.start();
    assert.equal(w.serverTuns.length, 0, 'no shared TUN');
    const c = w.startClient();
    const info = await w.wait(c.up);
    await w.runUntil(() => w.serverTuns.length === 1);
    const tun = w.serverTuns[0]!;
    const p = icmpEcho(info.localAddress, info.remoteAddress, 4, 4);
    c.tun.hostSend(p);
    await w.runUntil(() => tun.hostReceived.length > 0);
    assert.deepEqual(tun.hostReceived[0], p);
    const back = icmpEcho(info.remoteAddress, info.localAddress, 4, 5);
    tun.hostSend(back);
    await w.runUntil(() => c.tun.hostReceived.length > 0);
    assert.deepEqual(c.tun.hostReceived[0], back);
    c.client.stop();
    await w.wait(c.outcome);
    await w.runUntil(() => tun.isClosed);
    await w.server.shutdown();
    assert.deepEqual([...w.serverHost.applied], []);
  });
});
