/**
 * The session layer on its own: named timers, the control-connection
 * driver over a (re-chunking) in-memory TCP pair, and two PppSessions back
 * to back over the in-memory GRE network on a virtual clock (MTU
 * arithmetic, acknowledgment-only packets from the channel's timer,
 * batching, and a destroy that leaves no timer).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Clock, ManualClock } from '../../src/io/clock.js';
import { MemoryGreNetwork, type MemoryGreSocket } from '../../src/io/memory/gre.js';
import { createTcpPair } from '../../src/io/memory/tcp.js';
import type { CredentialLookup } from '../../src/ppp/auth/index.js';
import type { PptpCallParameters, PptpCloseReason } from '../../src/pptp/control-types.js';
import { ControlDriver } from '../../src/session/control-driver.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';
import { PppSession, type SessionInfo } from '../../src/session/session.js';
import { BatchClock, TimerSet } from '../../src/session/timers.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { PptpMessageType } from '../../src/wire/pptp/index.js';

const settle = async (n = 10) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('TimerSet', () => {
  it('runs one timer per id; a restart or stop means the old one never fires', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const t = new TimerSet(clock, (id) => fired.push(`${id}@${clock.now()}`));
    t.start('a', 100);
    t.start('b', 50);
    clock.advance(40);
    t.start('a', 100); // restart: due at 140 now
    t.stop('b');
    clock.advance(200);
    assert.deepEqual(fired, ['a@140']);
    assert.equal(t.size, 0);
    t.start('c', 10);
    t.stopAll();
    clock.runAll();
    assert.deepEqual(fired, ['a@140']);
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('ControlDriver', () => {
  it('runs a PNS and a PAC over a re-chunked TCP pair: call up, clear, stop; no timer left', async () => {
    const clock = new ManualClock();
    const [cs, ss] = createTcpPair({ seed: 5, maxChunk: 7 });
    const events: string[] = [];
    let pacUp: PptpCallParameters | undefined;
    let pnsUp: PptpCallParameters | undefined;
    let pnsClosed: PptpCloseReason | undefined;
    const pac = new ControlDriver(ss, { role: 'pac' }, clock, {
      callUp: (c) => {
        pacUp = c;
      },
      callDown: (id, r) => events.push(`pac down ${id} ${r.kind}`),
      closed: (r) => events.push(`pac closed ${r.kind}`),
    });
    let placed: number | undefined;
    const pns = new ControlDriver(cs, { role: 'pns' }, clock, {
      established: () => {
        placed = pns.placeCall();
      },
      callUp: (c) => {
        pnsUp = c;
      },
      callDown: (id, r) => events.push(`pns down ${id} ${r.kind}`),
      closed: (r) => {
        pnsClosed = r;
      },
    });
    pac.start();
    pns.start();
    await settle();
    assert.ok(pnsUp && pacUp);
    assert.equal(pnsUp.callId, placed);
    assert.equal(pnsUp.peerCallId, pacUp.callId, "each side knows the other's Call ID");
    assert.equal(pacUp.peerCallId, pnsUp.callId);
    pns.clearCall(pnsUp.callId);
    await settle();
    assert.deepEqual(events, [`pac down ${pacUp.callId} peer-clear`, `pns down ${pnsUp.callId} local-clear`]);
    pns.stop();
    await settle();
    assert.deepEqual(pnsClosed, { kind: 'stopped', by: 'local', reason: 1 });
    assert.ok(events.includes('pac closed stopped'));
    assert.equal(await pns.done, pnsClosed);
    assert.equal(pns.timerCount + pac.timerCount, 0);
    assert.equal(clock.pendingTimers, 0, 'the half-close grace timers were cancelled by the close');
    assert.ok(cs.destroyed && ss.destroyed);
  });

  it('a peer that goes silent: Echo-Request, then the connection closes on the reply time-out', async () => {
    const clock = new ManualClock();
    const [cs, ss] = createTcpPair();
    let closed: PptpCloseReason | undefined;
    const pac = new ControlDriver(
      ss,
      { role: 'pac', timers: { echoIntervalMs: 1000, echoReplyTimeoutMs: 1000 } },
      clock,
      {
        closed: (r) => {
          closed = r;
        },
      },
    );
    const pns = new ControlDriver(cs, { role: 'pns', timers: { echoIntervalMs: 0 } }, clock);
    pac.start();
    pns.start();
    await settle();
    // The PNS stops reading: its socket swallows everything.
    cs.removeAllListeners('data');
    let sawEcho = false;
    cs.on('data', (b: Buffer) => {
      if (b.length >= 10 && b.readUInt16BE(8) === PptpMessageType.EchoRequest) sawEcho = true;
    });
    clock.advance(1000);
    await settle();
    assert.ok(sawEcho, 'Echo-Request sent after a silent interval');
    clock.advance(1000);
    await settle();
    assert.deepEqual(closed, { kind: 'echo-timeout' });
    pns.destroy();
    await settle();
    clock.runAll();
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('GreEndpoint Call ID claims', () => {
  it('a claimed or attached Call ID from a peer is taken; release and detach free it', () => {
    const clock = new ManualClock();
    const ep = new GreEndpoint(new MemoryGreNetwork().socket('192.0.2.1'), clock);
    const peer = parseIpv4('192.0.2.2')!;
    assert.equal(ep.claimCallId(7, peer), true);
    assert.equal(ep.claimCallId(7, peer), false, 'claimed');
    assert.equal(ep.claimCallId(7, parseIpv4('192.0.2.3')!), true, 'unique per peer address only');
    ep.releaseCallId(7, peer);
    assert.equal(ep.isCallIdTaken(7, peer), false);
    assert.equal(ep.claimCallId(7, peer), true);
    const session = new PppSession({
      call: call(7, 9),
      localAddress: '192.0.2.1',
      peerAddress: '192.0.2.2',
      ppp: { user: 'alice', password: 'pw' },
      endpoint: ep,
      clock,
      ports: { deliver: () => {} },
    });
    assert.equal(ep.isCallIdTaken(7, peer), true, 'attached');
    session.destroy();
    assert.equal(
      ep.isCallIdTaken(7, peer),
      false,
      'the claim ended with the attach, the call with the detach',
    );
    ep.close();
  });
});

const SECRETS: CredentialLookup = (r) => (r.peerName === 'alice' ? { password: 'pw' } : undefined);

function call(callId: number, peerCallId: number): PptpCallParameters {
  return {
    callId,
    peerCallId,
    direction: 'outgoing',
    callSerialNumber: 1,
    peerPacketRecvWindowSize: 64,
    peerPacketProcessingDelay: 0,
    peerPacketProcessingDelayMs: 0,
    packetRecvWindowSize: 64,
    connectSpeed: 1e8,
    framingType: 3,
  };
}

/** Two sessions back to back over the in-memory GRE network, on a manual clock. */
async function pair(pathMtu: number) {
  const clock = new ManualClock();
  const net = new MemoryGreNetwork({ mtu: pathMtu });
  const epA = new GreEndpoint(net.socket('192.0.2.1'), clock);
  const epB = new GreEndpoint(net.socket('192.0.2.2'), clock);
  epA.start();
  epB.start();
  const got: { a: Uint8Array[]; b: Uint8Array[] } = { a: [], b: [] };
  const flushes = { a: 0, b: 0 };
  const up: { a?: SessionInfo; b?: SessionInfo } = {};
  const a = new PppSession({
    call: call(100, 200),
    localAddress: '192.0.2.1',
    peerAddress: '192.0.2.2',
    pathMtu,
    ppp: { user: 'alice', password: 'pw' },
    endpoint: epA,
    clock,
    ports: { deliver: (_p, pkt) => got.a.push(pkt.slice()), flush: () => flushes.a++ },
    events: { up: (i) => (up.a = i) },
  });
  const b = new PppSession({
    call: call(200, 100),
    localAddress: '192.0.2.2',
    peerAddress: '192.0.2.1',
    pathMtu,
    ppp: { lookup: SECRETS, localAddress: parseIpv4('10.1.0.1'), remoteAddress: parseIpv4('10.1.0.2') },
    endpoint: epB,
    clock,
    ports: { deliver: (_p, pkt) => got.b.push(pkt.slice()), flush: () => flushes.b++ },
    events: { up: (i) => (up.b = i) },
  });
  a.start();
  b.start();
  await settle();
  return { clock, net, epA, epB, a, b, got, flushes, up };
}

/** Packets sent by each flush of `sock` that sent something (what would be one sendmmsg each). */
function countFlushes(sock: MemoryGreSocket, net: MemoryGreNetwork): number[] {
  const perFlush: number[] = [];
  const flush = sock.flush.bind(sock);
  sock.flush = () => {
    const before = net.stats.sent;
    flush();
    if (net.stats.sent > before) perFlush.push(net.stats.sent - before);
  };
  return perFlush;
}

/** Call `i` between a client on `epA` (192.0.2.1) and a server on `epB` (192.0.2.2). */
function callPair(
  i: number,
  epA: GreEndpoint,
  epB: GreEndpoint,
  clock: Clock,
  o: { clientEcho?: number; serverEcho?: number; up?: () => void } = {},
): { client: PppSession; server: PppSession } {
  const client = new PppSession({
    call: call(100 + i, 200 + i),
    localAddress: '192.0.2.1',
    peerAddress: '192.0.2.2',
    ppp: {
      user: 'alice',
      password: 'pw',
      ...(o.clientEcho !== undefined ? { lcpEchoInterval: o.clientEcho } : {}),
    },
    endpoint: epA,
    clock,
    ports: { deliver: () => {} },
    ...(o.up ? { events: { up: o.up } } : {}),
  });
  const server = new PppSession({
    call: call(200 + i, 100 + i),
    localAddress: '192.0.2.2',
    peerAddress: '192.0.2.1',
    ppp: {
      lookup: SECRETS,
      localAddress: parseIpv4('10.1.0.1'),
      remoteAddress: parseIpv4(`10.1.0.${10 + i}`),
      ...(o.serverEcho !== undefined ? { lcpEchoInterval: o.serverEcho } : {}),
    },
    endpoint: epB,
    clock,
    ports: { deliver: () => {} },
  });
  return { client, server };
}

function ipPacket(n: number, tag: number): Uint8Array {
  const p = new Uint8Array(n);
  p[0] = 0x45;
  p[2] = n >> 8;
  p[3] = n & 0xff;
  p[9] = 17;
  p.set([10, 1, 0, 2], 12);
  p.set([10, 1, 0, 1], 16);
  for (let i = 20; i < n; i++) p[i] = (tag + i) & 0xff;
  return p;
}

describe('PppSession', () => {
  it('negotiates an MTU of path MTU − 40 − 4 (MPPE) and an MRU that one outer packet carries', async () => {
    const s = await pair(1400);
    assert.ok(s.up.a && s.up.b);
    assert.equal(s.a.channel.mtu, 1360);
    assert.equal(s.up.a.mtu, 1356);
    assert.equal(s.up.a.mru, 1360);
    assert.equal(s.up.a.localAddress, '10.1.0.2');
    assert.equal(s.up.b.peerName, 'alice');
    // The largest packet the interface MTU allows crosses a 1400-byte path; one byte more is refused.
    const big = ipPacket(1356, 1);
    assert.equal(s.a.sendPacket(big), 'sent');
    assert.equal(s.a.sendPacket(ipPacket(1357, 2)), 'dropped');
    await settle();
    assert.deepEqual(s.got.b, [big]);
    assert.equal(s.net.stats.tooBig, 0);
    s.a.destroy();
    s.b.destroy();
  });

  it('acknowledges one-way traffic with ack-only packets from the channel timer, and flushes per batch', async () => {
    const s = await pair(1500);
    const before = s.b.stats.gre.txAckOnly;
    for (let i = 0; i < 5; i++) s.a.sendPacket(ipPacket(200, i));
    await settle();
    assert.equal(s.got.b.length, 5);
    assert.ok(s.flushes.b >= 1, 'the receiving side flushed its interface at the end of the batch');
    assert.equal(s.b.stats.gre.txAckOnly, before, 'no ack-only packet before the ack time-out');
    s.clock.advance(100); // GreChannel's default ack time-out
    await settle();
    assert.equal(s.b.stats.gre.txAckOnly, before + 1);
    assert.ok(s.a.stats.gre.rxAcks > 0, 'the sender got its acknowledgment');
    assert.equal(s.a.channel.sequencer.canSend(), true);
  });

  it('close() ends the link on both sides; destroy() leaves no timer and detaches from the endpoint', async () => {
    const s = await pair(1500);
    const dead: string[] = [];
    const sa = new Promise<void>((r) => {
      const t = setInterval(() => {
        if (s.a.isDead && s.b.isDead) {
          clearInterval(t);
          r();
        }
      }, 1);
    });
    s.a.close('bye');
    await settle();
    s.clock.advance(3000); // the receiver of Terminate-Request waits one restart time (RFC 1661 §4.1 Stopping)
    await settle();
    await sa;
    dead.push(s.a.failure!.code, s.b.failure!.code);
    assert.deepEqual(dead, ['closed', 'peer-terminated']);
    s.a.destroy();
    s.b.destroy();
    assert.equal(s.a.timerCount + s.b.timerCount, 0);
    assert.equal(s.epA.size + s.epB.size, 0);
    assert.equal(s.clock.pendingTimers, 0);
  });
});

describe('PppSession timers on one BatchClock', () => {
  it('keep-alives due together leave in one socket flush (one sendmmsg), not one per session', async () => {
    const manual = new ManualClock();
    const clock = new BatchClock(manual);
    const net = new MemoryGreNetwork();
    const sockA = net.socket('192.0.2.1');
    const epA = new GreEndpoint(sockA, clock);
    const epB = new GreEndpoint(net.socket('192.0.2.2'), clock);
    epA.start();
    epB.start();
    // Count the flushes of A's socket that sent something (what would be sendmmsg calls).
    const flushes = countFlushes(sockA, net);
    const N = 10;
    const sessions: PppSession[] = [];
    const up = new Set<number>();
    for (let i = 0; i < N; i++) {
      const { client, server } = callPair(i, epA, epB, clock, {
        clientEcho: 30,
        serverEcho: 0,
        up: () => up.add(i),
      });
      sessions.push(client, server);
    }
    for (const s of sessions) s.start();
    for (let i = 0; i < 50 && up.size < N; i++) {
      await settle();
      manual.advance(10);
    }
    assert.equal(up.size, N, 'every session up');
    // Let the set-up's acknowledgment timers run out, then wait for the first keep-alives.
    manual.advance(1000);
    await settle();
    const clients = sessions.filter((_, k) => k % 2 === 0);
    const controlBefore = clients.reduce((n, s) => n + s.stats.ppp.txControl, 0);
    flushes.length = 0;
    for (let t = 0; t < 120 && flushes.length === 0; t++) {
      manual.advance(1000);
      await settle();
    }
    const echoes = clients.reduce((n, s) => n + s.stats.ppp.txControl, 0) - controlBefore;
    assert.equal(echoes, N, 'each client sent one Echo-Request');
    assert.equal(flushes.length, 1, 'the batch of keep-alives left in one flush');
    for (const s of sessions) s.destroy();
    epA.close();
    epB.close();
  });
});

describe('GreEndpoint receive batches', () => {
  it('calls that a receive batch starts answer in the batch’s one flush, not one flush per call', async () => {
    const clock = new ManualClock();
    const net = new MemoryGreNetwork();
    const sockA = net.socket('192.0.2.1');
    const sockB = net.socket('192.0.2.2');
    const epA = new GreEndpoint(sockA, clock);
    const epB = new GreEndpoint(sockB, clock);
    epA.start();
    epB.start();
    // Packets per flush of B's socket (what would be one sendmmsg each).
    const perFlush = countFlushes(sockB, net);
    const N = 10;
    const clients: PppSession[] = [];
    const servers: PppSession[] = [];
    for (let i = 0; i < N; i++) {
      const { client, server } = callPair(i, epA, epB, clock);
      clients.push(client);
      // A server starts a call's PPP when the peer's first frame arrives.
      server.startWhenPeerSpeaks(60_000);
      servers.push(server);
    }
    // Every client's first Configure-Request leaves A in one flush: B receives them as one batch.
    const flushA = sockA.flush.bind(sockA);
    sockA.flush = () => {};
    for (const a of clients) a.start();
    sockA.flush = flushA;
    flushA();
    await settle(1);
    for (const b of servers) assert.ok(b.stats.ppp.txControl >= 2, 'each server call started and answered');
    // Each call sends its own Configure-Request and acknowledges the client's: 2 × N packets, one flush.
    assert.equal(perFlush[0], 2 * N, `packets per flush: ${perFlush.join(', ')}`);
    for (const s of [...clients, ...servers]) s.destroy();
    epA.close();
    epB.close();
  });
});
