/**
 * The login storm and the full Call ID space in bench:sessions
 * (bench/sessions/storm.ts, run.ts, load.ts): the command line, the pool and
 * port arithmetic, how storm failures are sorted by the server's refusal
 * counters, the storm target row, and the generator forgetting dead
 * sessions and spreading connections over several source addresses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureKey, LoadGenerator } from '../../bench/sessions/load.js';
import {
  cpuMsPer,
  renderSessionsMarkdown,
  type SessionsResult,
  setupFigures,
} from '../../bench/sessions/report.js';
import { parseSessionsArgs } from '../../bench/sessions/run.js';
import {
  BENCH_POOL,
  CALL_ID_SPACE,
  CLIENT_PORTS_PER_ADDRESS,
  clientAddressList,
  fileLimitFor,
  generatorHeapMb,
  isRefusal,
  POOL_ROUTE,
  sessionsSpaceProblem,
  stormOutcome,
  stormTargetCheck,
} from '../../bench/sessions/storm.js';
import { memoryTcp, type TcpTransport } from '../../src/io/tcp.js';
import { parsePoolSpec } from '../../src/server/ip-pool.js';
import { describeCallEndReason, describeCloseReason } from '../../src/session/control-driver.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';
import { SERVER_ADDRESS, World } from '../e2e/world.js';

describe('bench:sessions --storm / --client-addresses command line', () => {
  it('reads --storm and --client-addresses K', () => {
    assert.deepEqual(parseSessionsArgs(['--storm', '--client-addresses', '3', '--sessions', '300']), {
      storm: true,
      clientAddresses: 3,
      sessions: 300,
    });
  });
  it('refuses 0 or more than 200 addresses, and more connections than the addresses have ports', () => {
    assert.throws(
      () => parseSessionsArgs(['--client-addresses', '0']),
      /--client-addresses: not a whole number ≥ 1/,
    );
    assert.throws(
      () => parseSessionsArgs(['--client-addresses', '201']),
      /--client-addresses: at most 200, not 201/,
    );
    assert.throws(
      () => parseSessionsArgs(['--sessions', '65535']),
      /65535 TCP connections need --client-addresses 2/,
    );
    assert.deepEqual(parseSessionsArgs(['--sessions', '65535', '--client-addresses', '2']), {
      sessions: 65535,
      clientAddresses: 2,
    });
    // Several calls per control connection need fewer ports.
    assert.ok(parseSessionsArgs(['--sessions', '65535', '--calls-per-connection', '2']));
    assert.throws(
      () => parseSessionsArgs(['--sessions', '65536', '--client-addresses', '2']),
      /at most 65535 calls/,
    );
  });
});

describe('the full Call ID space', () => {
  it('the bench pool holds every Call ID a server can hand out; a /16 alone does not', () => {
    const pool = parsePoolSpec(BENCH_POOL);
    assert.ok(pool.length >= CALL_ID_SPACE, `${pool.length} addresses`);
    assert.equal(new Set(pool).size, pool.length, 'no address twice');
    assert.ok(parsePoolSpec('10.99.0.0/16').length < CALL_ID_SPACE);
    assert.ok(POOL_ROUTE.test('10.100.0.7 dev pptps0 scope link'));
    assert.ok(POOL_ROUTE.test('10.99.255.254 dev pptps0 scope link'));
    assert.ok(!POOL_ROUTE.test('10.98.0.1 dev pptps0'));
  });
  it('source addresses, ports per address and the generator heap', () => {
    assert.equal(CLIENT_PORTS_PER_ADDRESS, 64512);
    assert.deepEqual(clientAddressList('198.18.0.2', 3), ['198.18.0.2', '198.18.0.3', '198.18.0.4']);
    assert.throws(() => clientAddressList('198.18.0.250', 6), /leave its \/24/);
    assert.equal(sessionsSpaceProblem(64512, 1, 1), undefined);
    assert.match(sessionsSpaceProblem(64513, 1, 1) ?? '', /need --client-addresses 2/);
    assert.equal(sessionsSpaceProblem(65535, 1, 2), undefined);
    assert.equal(generatorHeapMb(10_000), 8192);
    assert.ok(generatorHeapMb(100_000) > 8192);
    assert.equal(fileLimitFor(10_000), 14_096, 'one connection per session');
    assert.equal(fileLimitFor(65_535, 5), 13_107 + 4096, 'five calls on each connection');
  });
});

describe('storm figures', () => {
  // The generator's failure keys, made from the texts the control driver gives.
  const callRefused = failureKey(
    `call: ${describeCallEndReason({ kind: 'rejected', resultCode: 4, errorCode: 4 } as never)}`,
  );
  const startRefused = failureKey(
    `control connection: ${describeCloseReason({ kind: 'start-refused', resultCode: 2, errorCode: 0 } as never)}`,
  );
  it('a refusal counts as a configured limit only as far as the server counted refusals', () => {
    assert.ok(isRefusal(callRefused), callRefused);
    assert.ok(isRefusal(startRefused), startRefused);
    assert.ok(!isRefusal('not up within N s'));
    assert.deepEqual(stormOutcome({}, { callsRefused: 0 }), {
      refusedForLimit: 0,
      otherFailures: 0,
      serverRefusals: 0,
    });
    assert.deepEqual(
      stormOutcome({ [callRefused]: 5, 'not up within N s': 2 }, { callsRefused: 4, connectionsRefused: 0 }),
      { refusedForLimit: 4, otherFailures: 3, serverRefusals: 4 },
    );
    assert.deepEqual(stormOutcome({ [startRefused]: 3 }, { callsRefused: 1, connectionsRefused: 9 }), {
      refusedForLimit: 3,
      otherFailures: 0,
      serverRefusals: 10,
    });
  });
  it('the storm target: n/a below 10,000 or with RADIUS, pass or fail on the rate and every one up', () => {
    const setup = (up: number, ms: number) =>
      setupFigures(
        Array.from({ length: 10_000 }, () => 0),
        Array.from({ length: 10_000 }, (_, i) => (i < up ? ms : -1)),
      );
    assert.equal(stormTargetCheck(60, 'chap-secrets', setup(60, 100)).status, 'n/a');
    assert.equal(stormTargetCheck(10_000, 'radius', setup(10_000, 4000)).status, 'n/a');
    assert.equal(stormTargetCheck(10_000, 'chap-secrets', setup(10_000, 4000)).status, 'pass');
    assert.equal(stormTargetCheck(10_000, 'chap-secrets', setup(10_000, 6000)).status, 'fail', '1,667/s');
    assert.equal(stormTargetCheck(10_000, 'chap-secrets', setup(9_999, 4000)).status, 'fail', 'one not up');
  });
  /** A small storm result, as the bench writes it. */
  function stormResult(): SessionsResult {
    const setup = setupFigures([0, 0, 0], [900, 1200, 2500]);
    const mem = { rssKb: 50_000 };
    return {
      schema: 'pptp-ts/bench-sessions/1',
      startedAt: '2026-01-01T00:00:00.000Z',
      settings: {
        sessions: 3,
        concurrency: 2,
        callsPerConnection: 1,
        lcpEchoIntervalSec: 30,
        pptpEchoIntervalSec: 60,
        mppe: true,
        settleSec: 1,
        restSec: 1,
        pingSample: 1,
        generatorClock: 'wheel',
        serverNodeOptions: [],
        auth: 'chap-secrets',
        storm: true,
        clientAddresses: 2,
      },
      machine: {
        cpuModel: 'cpu',
        cpus: 2,
        memoryGiB: 4,
        kernel: 'k',
        os: 'os',
        node: 'v',
        commit: 'c',
      } as never,
      server: {
        pid: 2,
        fileLimit: '1/1',
        baseline: mem,
        idle: mem,
        afterClose: mem,
        rssKbPerSession: 0,
        heapKbPerSession: undefined,
        restCpuPct: 0,
        restWallMs: 1000,
        restWindowMonotonicUs: [0, 1],
        counters: {},
        exitCode: 0,
      },
      generator: { fileLimit: '1/1', rssKbIdle: 1, heapUsedKbIdle: 1, restCpuPct: 0 },
      setup,
      sources: { '198.18.0.2': 2, '198.18.0.3': 1 },
      storm: {
        first: setupFigures([0, 0, 0], [100, 200, 300]),
        killedPid: 1,
        restartedPid: 2,
        downAfterMs: 1500,
        stillUp: 0,
        forgotten: 3,
        restartMs: 2500,
        outcome: { refusedForLimit: 0, otherFailures: 0, serverRefusals: 0 },
      },
      failures: {},
      lostWhileIdle: 0,
      lostReasons: {},
      ping: { sessions: 1, replied: 1, rttP50Ms: 1 },
      teardown: { closed: 3, clean: 3, durationMs: 10 },
      othersCpuPct: 0,
      residue: [],
      targets: [stormTargetCheck(3, 'chap-secrets', setup)],
      ok: true,
    };
  }
  it('the report shows the storm rows', () => {
    const md = renderSessionsMarkdown(stormResult());
    assert.match(md, /^## Sessions: 3 PPTP sessions on one server, users in chap-secrets, login storm/m);
    assert.match(md, /\| phase 1 \(before the restart\) \| 3 of 3 up at 10 sessions\/s, 2 at once \|/);
    assert.match(md, /\| server killed → generator saw every session down \| 1\.5 s, 3 forgotten \|/);
    assert.match(md, /\| server restart → listening \| 2\.5 s \(pid 1 → 2\) \|/);
    assert.match(md, /\| storm failures: refused for a configured limit \/ anything else \| 0 \/ 0 /);
    assert.match(md, /\| storm set-ups in each second \| 1, 1 \|/);
    assert.match(md, /spread over 2 source addresses/);
    assert.match(md, /\| sessions up by client source address \| 198\.18\.0\.2: 2, 198\.18\.0\.3: 1 \|/);
    assert.match(md, /\| login storm \(every client redials after a server restart\) \|/);
    assert.doesNotMatch(md, /compact/, 'no compaction line when the server does not compact');
    assert.doesNotMatch(md, /CPU per session set-up/, 'no per-set-up row without the figures');
    const withCpu = renderSessionsMarkdown({
      ...stormResult(),
      setup: { ...stormResult().setup, serverCpuMsPerSetup: cpuMsPer(216, 3), generatorCpuMsPerSetup: 0.5 },
    });
    // 216 ticks of 10 ms over 3 set-ups: 720 ms each.
    assert.match(withCpu, /\| CPU per session set-up: server \/ generator \| 720\.00 \/ 0\.50 ms \|/);
  });
  it('--compact-after-burst N reaches the settings, and the report names it with each pause', () => {
    assert.deepEqual(parseSessionsArgs(['--compact-after-burst', '256']), { compactAfterBurst: 256 });
    assert.throws(() => parseSessionsArgs(['--compact-after-burst', 'x']), /--compact-after-burst/);
    const r = stormResult();
    const md = renderSessionsMarkdown({
      ...r,
      settings: { ...r.settings, compactAfterBurst: 256 },
      server: { ...r.server, compactionsMs: [1834, 40] },
    });
    assert.match(
      md,
      /the server compacts its heap after a burst of 256 set-ups \(limits\.compact-after-burst\)/,
    );
    assert.match(md, /\| heap compactions after the burst \(pause each\) \| 1,834 ms, 40 ms \|/);
  });
  it('--ack-timeout-ms MS reaches the settings, and the report names it; 100 (the default) is not named', () => {
    assert.deepEqual(parseSessionsArgs(['--ack-timeout-ms', '0']), { ackTimeoutMs: 0 });
    assert.throws(() => parseSessionsArgs(['--ack-timeout-ms', '20000']), /--ack-timeout-ms: at most 10000/);
    const r = stormResult();
    assert.match(
      renderSessionsMarkdown({ ...r, settings: { ...r.settings, ackTimeoutMs: 0 } }),
      /no acknowledgment-only GRE packets on a timer, either side \(pptp\.ack-timeout-ms 0\)/,
    );
    assert.doesNotMatch(renderSessionsMarkdown(r), /ack-timeout-ms/);
  });
});

describe('the generator across a server restart', () => {
  it('sees every session down when the server drops them, forgets them, and opens users 0..N-1 again', async () => {
    const n = 4;
    const world = new World({ secrets: Array.from({ length: n }, (_, i) => `u${i} * pw${i} *`).join('\n') });
    await world.start();
    const endpoint = new GreEndpoint(world.gre.socket('192.0.2.200'), world.driverClock);
    endpoint.start();
    const users: string[] = [];
    const gen = new LoadGenerator(
      {
        server: SERVER_ADDRESS,
        port: 1723,
        credentials: (i) => {
          users.push(`u${i}`);
          return { user: `u${i}`, password: `pw${i}` };
        },
      },
      { clock: world.driverClock, tcp: memoryTcp(world.tcp, '192.0.2.200'), endpoint },
    );
    assert.equal((await world.wait(gen.open(n, n))).up, n);
    // The server's side of every connection goes away at once.
    for (const s of world.serverSockets) s.destroy();
    await world.runUntil(() => gen.status().up === 0, 30_000);
    assert.equal(gen.status().lost, n);
    assert.equal(gen.forget(), n);
    assert.equal(gen.records.length, 0);
    assert.deepEqual(gen.status(), { up: 0, lost: 0, failures: {} });
    assert.equal(endpoint.size, 0, 'every call left the GRE endpoint');
    await world.runUntil(() => world.server.connectionCount === 0, 30_000);
    users.length = 0;
    const again = await world.wait(gen.open(n, n));
    assert.equal(again.up, n, JSON.stringify(again.failures));
    assert.deepEqual(users.sort(), ['u0', 'u1', 'u2', 'u3'], 'numbered from 0 again');
    await world.wait(gen.close(n));
    endpoint.close();
    await world.server.shutdown();
  });

  it('spreads its connections over its source addresses in turn', async () => {
    const seen: (string | undefined)[] = [];
    const tcp: TcpTransport = {
      connect: (_host, _port, opts) => {
        seen.push(opts?.localAddress);
        return Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
      },
    } as TcpTransport;
    const world = new World({ secrets: '' });
    const endpoint = new GreEndpoint(world.gre.socket('192.0.2.200'), world.driverClock);
    const gen = new LoadGenerator(
      {
        server: SERVER_ADDRESS,
        port: 1723,
        localAddress: '198.18.0.2',
        localAddresses: ['198.18.0.2', '198.18.0.3', '198.18.0.4'],
        credentials: (i) => ({ user: `u${i}`, password: 'x' }),
      },
      { clock: world.driverClock, tcp, endpoint },
    );
    const r = await gen.open(7, 1);
    assert.equal(r.failed, 7);
    assert.deepEqual(r.failures, { 'TCP connect: ECONNREFUSED': 7 });
    assert.deepEqual(seen, [
      '198.18.0.2',
      '198.18.0.3',
      '198.18.0.4',
      '198.18.0.2',
      '198.18.0.3',
      '198.18.0.4',
      '198.18.0.2',
    ]);
    endpoint.close();
  });
});
