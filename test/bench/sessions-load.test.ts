/**
 * The bench:sessions load generator (bench/sessions/load.ts) against the
 * real server driver on the in-memory networks (test/e2e/world.ts): many
 * sessions, each its own control connection, sharing one GRE endpoint; a
 * ping through a sample of them answered by a fake host stack behind the
 * server's shared TUN; a clean teardown; failures counted, not hidden.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildEchoRequest,
  ECHO_IDENTIFIER,
  LoadGenerator,
  parseEchoReply,
} from '../../bench/sessions/load.js';
import { memoryTcp } from '../../src/io/tcp.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';
import { inetChecksum } from '../e2e/packets.js';
import { SERVER_ADDRESS, serverConfig, World } from '../e2e/world.js';

const GEN_ADDRESS = '192.0.2.200';

function secrets(n: number): string {
  return Array.from({ length: n }, (_, i) => `u${i} * pw${i} *`).join('\n');
}

/** The host stack behind the server's TUN: answers ICMP Echo Requests to `local` (written independently of load.ts). */
function echoResponder(world: World, local: number[]): () => number {
  let answered = 0;
  world.serverTun.onHostPacket = (p) => {
    if (p[9] !== 1 || p[20] !== 8) return;
    if (p[16] !== local[0] || p[17] !== local[1] || p[18] !== local[2] || p[19] !== local[3]) return;
    const r = p.slice();
    r.set(p.subarray(16, 20), 12);
    r.set(p.subarray(12, 16), 16);
    r[20] = 0;
    r[22] = 0;
    r[23] = 0;
    const c = inetChecksum(r.subarray(20));
    r[22] = c >> 8;
    r[23] = c & 0xff;
    r[10] = 0;
    r[11] = 0;
    const h = inetChecksum(r.subarray(0, 20));
    r[10] = h >> 8;
    r[11] = h & 0xff;
    answered++;
    world.serverTun.hostSend(r);
  };
  return () => answered;
}

function makeGenerator(
  world: World,
  over: { users?: number; callsPerConnection?: number; wrong?: number[] },
) {
  const endpoint = new GreEndpoint(world.gre.socket(GEN_ADDRESS), world.driverClock);
  endpoint.start();
  const gen = new LoadGenerator(
    {
      server: SERVER_ADDRESS,
      port: 1723,
      credentials: (i) => ({ user: `u${i}`, password: over.wrong?.includes(i) ? 'nope' : `pw${i}` }),
      callsPerConnection: over.callsPerConnection ?? 1,
    },
    { clock: world.driverClock, tcp: memoryTcp(world.tcp, GEN_ADDRESS), endpoint },
  );
  return { gen, endpoint };
}

test('echo request/reply helpers: a reply built independently is recognised, a corrupted one is not', () => {
  const src = 0x0a630010;
  const dst = 0x0a630001;
  const req = buildEchoRequest(src, dst, 7);
  assert.equal(inetChecksum(req.subarray(0, 20)), 0, 'IPv4 header checksum');
  assert.equal(inetChecksum(req.subarray(20)), 0, 'ICMP checksum');
  assert.equal((req[24]! << 8) | req[25]!, ECHO_IDENTIFIER);
  const rep = req.slice();
  rep.set(req.subarray(16, 20), 12);
  rep.set(req.subarray(12, 16), 16);
  rep[20] = 0;
  rep[22] = 0;
  rep[23] = 0;
  const c = inetChecksum(rep.subarray(20));
  rep[22] = c >> 8;
  rep[23] = c & 0xff;
  assert.equal(parseEchoReply(rep, dst, src), 7);
  assert.equal(parseEchoReply(rep, src, dst), -1, 'addresses the wrong way round');
  assert.equal(parseEchoReply(req, dst, src), -1, 'a request is not a reply');
  const bad = rep.slice();
  bad[40] = bad[40]! ^ 1;
  assert.equal(parseEchoReply(bad, dst, src), -1, 'payload changed');
  assert.equal(parseEchoReply(rep.subarray(0, 30), dst, src), -1, 'truncated');
});

test('20 sessions, one control connection each, over one GRE endpoint: all up, ping through a sample, clean teardown', async () => {
  const n = 20;
  const world = new World({
    secrets: secrets(n),
    config: serverConfig({ limits: { 'max-connections-per-address': 100 } }),
  });
  await world.start();
  const answered = echoResponder(world, [10, 99, 0, 1]);
  const { gen, endpoint } = makeGenerator(world, {});
  const progress: number[] = [];
  const opened = await world.wait(gen.open(n, 4, (p) => progress.push(p.up + p.failed)));
  assert.equal(opened.up, n, JSON.stringify(opened.failures));
  assert.equal(opened.failed, 0);
  assert.deepEqual(
    progress,
    Array.from({ length: n }, (_, i) => i + 1),
  );
  assert.equal(world.server.connectionCount, n, 'one control connection per session');
  const addresses = new Set(gen.records.map((r) => r.localAddress));
  assert.equal(addresses.size, n, 'every session got its own address');
  for (const r of gen.records) assert.ok(r.upAt! >= r.startedAt);
  assert.equal(endpoint.size, n);

  // An hour of idle keep-alives (virtual time): nothing drops.
  await world.runUntil(() => false, 3_600_000).catch(() => {});
  assert.deepEqual(gen.status(), { up: n, lost: 0, failures: {} });

  const ping = await world.wait(gen.ping(5));
  assert.equal(ping.sessions, 5);
  assert.equal(ping.replied, 5);
  assert.equal(answered(), 5);

  const closed = await world.wait(gen.close(8));
  assert.equal(closed.closed, n);
  assert.equal(closed.clean, n, 'LCP Terminate-Ack, CDN and StopCCRP for every session');
  await world.runUntil(() => world.server.connectionCount === 0);
  assert.equal(world.server.sessions().length, 0);
  assert.equal(world.server.counters.sessionsEnded, n);
  assert.equal(endpoint.size, 0);
  assert.equal(world.serverHost.applied.size, 1, 'only the shared interface is left (no client route)');
  endpoint.close();
  await world.server.shutdown();
});

test('several calls per control connection; a wrong password is counted as a failure with its reason', async () => {
  const n = 12;
  const world = new World({ secrets: secrets(n) });
  await world.start();
  const { gen, endpoint } = makeGenerator(world, { callsPerConnection: 4, wrong: [5] });
  const opened = await world.wait(gen.open(n, 2));
  assert.equal(opened.up, n - 1);
  assert.equal(opened.failed, 1);
  assert.deepEqual(Object.keys(opened.failures).length, 1);
  assert.match(Object.keys(opened.failures)[0]!, /auth|authentication/i);
  assert.equal(world.server.connectionCount, 3, 'three control connections of four calls');
  const closed = await world.wait(gen.close(3));
  assert.equal(closed.closed, n - 1);
  assert.equal(closed.clean, n - 1);
  await world.runUntil(() => world.server.connectionCount === 0);
  assert.equal(endpoint.size, 0);
  endpoint.close();
  await world.server.shutdown();
});

test('a session the server drops while idle is reported as lost', async () => {
  const n = 3;
  const world = new World({ secrets: secrets(n) });
  await world.start();
  const { gen, endpoint } = makeGenerator(world, {});
  const opened = await world.wait(gen.open(n, 3));
  assert.equal(opened.up, n);
  world.serverSockets[1]!.destroy();
  await world.runUntil(() => gen.status().lost === 1, 10_000);
  const s = gen.status();
  assert.equal(s.up, n - 1);
  assert.equal(
    Object.values(s.failures).reduce((a, b) => a + b, 0),
    1,
  );
  await world.wait(gen.close(3));
  endpoint.close();
  await world.server.shutdown();
});
