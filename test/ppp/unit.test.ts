/**
 * Two PPP units negotiating in memory: the full matrix of authentication
 * methods × MPPE strengths × modes, clean and under a seeded fault injector,
 * the failure reasons surfaced to the caller, and the unit's phase rules,
 * demultiplexing, npmode and counters.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FaultInjector } from '../../src/io/memory/faults.js';
import type { AuthMethod } from '../../src/ppp/auth/index.js';
import type { PppFailureCode, PppUnitOptions } from '../../src/ppp/unit.js';
import { RESET_RESENDS_PER_PACKET } from '../../src/ppp/unit-data.js';
import { bytesEqual, parseIpv4 } from '../../src/wire/bytes.js';
import { decodeCpPacket } from '../../src/wire/cp.js';
import { cp } from './helpers.js';
import { ipv4Packet, ipv6Packet, LinkPair, SECRETS } from './unit-harness.js';

const ip = (s: string) => parseIpv4(s)!;

type Mppe = 'none' | 40 | 128;
type Mode = 'stateless' | 'stateful';

const SERVER_BASE: PppUnitOptions = {
  lookup: SECRETS,
  localAddress: ip('192.168.77.1'),
  remoteAddress: ip('192.168.77.10'),
  msDns: [ip('192.168.77.1')],
};
const CLIENT_BASE: PppUnitOptions = { user: 'alice', password: 'secret', usePeerDns: true };

/** Options for one combination, on both sides. */
function combo(
  method: AuthMethod,
  mppe: Mppe,
  mode: Mode,
): { client: PppUnitOptions; server: PppUnitOptions } {
  const auth: Record<AuthMethod, { client: PppUnitOptions; server: PppUnitOptions }> = {
    pap: { client: { refusePap: false }, server: { requirePap: true } },
    'chap-md5': { client: { refuseChap: false }, server: { requireChap: true } },
    mschap: { client: { refuseMschap: false }, server: { requireMschap: true } },
    'mschap-v2': { client: {}, server: { requireMschapV2: true } },
  };
  const enc: PppUnitOptions =
    mppe === 'none'
      ? { nomppe: true }
      : {
          ...(mppe === 40 ? { requireMppe40: true } : { requireMppe128: true }),
          mppeStateful: mode === 'stateful',
        };
  return {
    client: { ...CLIENT_BASE, ...auth[method].client, ...enc },
    server: { ...SERVER_BASE, ...auth[method].server, ...enc },
  };
}

const METHODS: AuthMethod[] = ['pap', 'chap-md5', 'mschap', 'mschap-v2'];
const STRENGTHS: Mppe[] = ['none', 40, 128];
const MODES: Mode[] = ['stateless', 'stateful'];

/** MPPE keys come from MS-CHAP only (RFC 3079): PAP and CHAP-MD5 with MPPE required must fail clearly. */
function expectUnavailable(method: AuthMethod, mppe: Mppe): boolean {
  return mppe !== 'none' && (method === 'pap' || method === 'chap-md5');
}

/** Sends `n` packets each way, one pair at a time, letting `gapMs` pass between them; returns what was sent. */
function exchange(pair: LinkPair, n: number, gapMs: number): { toB: Uint8Array[]; toA: Uint8Array[] } {
  const toB: Uint8Array[] = [];
  const toA: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const p = ipv4Packet(60 + ((i * 37) % 1300), i + 1);
    const q = ipv4Packet(60 + ((i * 53) % 1300), i + 1000);
    toB.push(p);
    toA.push(q);
    pair.units.a.sendPacket(p);
    pair.units.b.sendPacket(q);
    pair.runFor(gapMs);
  }
  return { toB, toA };
}

/** Every delivered packet is byte-identical to one that was sent (nothing corrupted or invented). */
function assertIntact(delivered: { packet: Uint8Array }[], sent: Uint8Array[]): void {
  for (const d of delivered) {
    assert.ok(
      sent.some((s) => bytesEqual(s, d.packet)),
      `delivered a packet that was never sent (${d.packet.length} bytes)`,
    );
  }
}

describe('unit: every method × MPPE strength × mode, clean link', () => {
  for (const method of METHODS) {
    for (const mppe of STRENGTHS) {
      for (const mode of MODES) {
        it(`${method}, MPPE ${mppe}, ${mode}`, () => {
          const { client, server } = combo(method, mppe, mode);
          const pair = new LinkPair(client, server);
          pair.start();
          if (expectUnavailable(method, mppe)) {
            assert.ok(
              pair.run(() => pair.bothDead()),
              'both ends give up',
            );
            assert.equal(pair.dead('a')?.failure.code, 'mppe-unavailable');
            assert.equal(pair.dead('b')?.failure.code, 'mppe-unavailable');
            return;
          }
          assert.ok(
            pair.run(() => pair.bothPassing()),
            `link up (${JSON.stringify(pair.units.a.states)})`,
          );
          const a = pair.units.a;
          const b = pair.units.b;
          assert.equal(a.authenticated[0]?.method, method);
          assert.equal(b.authenticated[0]?.peerName, 'alice');
          assert.equal(a.ipcpNegotiated?.localAddress, ip('192.168.77.10'));
          assert.deepEqual(a.ipcpNegotiated?.dns, [ip('192.168.77.1')]);
          if (mppe === 'none') {
            assert.equal(a.ccpNegotiated, undefined);
          } else {
            const want = { keyBits: mppe, stateless: mode === 'stateless' };
            assert.deepEqual(a.ccpNegotiated, { rx: want, tx: want });
            assert.deepEqual(b.ccpNegotiated, { rx: want, tx: want });
          }
          const sent = exchange(pair, 5, 10);
          assert.equal(pair.delivered.b.length, 5);
          assert.equal(pair.delivered.a.length, 5);
          pair.delivered.b.forEach((d, i) => {
            assert.ok(bytesEqual(d.packet, sent.toB[i]!), `packet ${i} a→b intact`);
          });
          pair.delivered.a.forEach((d, i) => {
            assert.ok(bytesEqual(d.packet, sent.toA[i]!), `packet ${i} b→a intact`);
          });
          // On the wire: data frames are MPPE (0x00FD) when negotiated, plain IPv4 otherwise, never both.
          const dataProtocols = new Set(
            pair.wireLog.filter((f) => f.protocol < 0x4000).map((f) => f.protocol),
          );
          assert.deepEqual([...dataProtocols], [mppe === 'none' ? 0x0021 : 0x00fd]);
          assert.equal(a.counters.txPackets, 5);
          assert.equal(b.counters.rxPackets, 5);
        });
      }
    }
  }
});

describe('unit: the same matrix under a seeded fault injector', () => {
  // Loss, duplication, reordering and single-bit corruption while negotiating. A corrupted authentication
  // packet can fail an attempt for real (PPTP frames carry no checksum), so like pppd `persist` we
  // reconnect, a bounded number of times.
  const NEGOTIATION_FAULTS = { drop: 0.1, duplicate: 0.05, reorder: 0.1, corrupt: 0.02 };
  const DATA_FAULTS = { drop: 0.1, duplicate: 0.05, reorder: 0.1 };
  let seed = 1;
  const stats: string[] = [];
  const faultCount = (inj: FaultInjector) =>
    inj.stats.dropped + inj.stats.duplicated + inj.stats.reordered + inj.stats.corrupted;
  after(() => {
    if (process.env.PPP_FAULT_STATS) console.log(stats.join('\n'));
  });
  for (const method of METHODS) {
    for (const mppe of STRENGTHS) {
      for (const mode of MODES) {
        const base = 1000 * seed++;
        it(`${method}, MPPE ${mppe}, ${mode}`, () => {
          const { client, server } = combo(method, mppe, mode);
          const attempts: string[] = [];
          let pair: LinkPair | undefined;
          for (let attempt = 0; attempt < 8 && !pair; attempt++) {
            const p = new LinkPair(client, server, {
              faults: {
                ab: { seed: base + 2 * attempt, ...NEGOTIATION_FAULTS },
                ba: { seed: base + 2 * attempt + 1, ...NEGOTIATION_FAULTS },
              },
            });
            p.start();
            const want = expectUnavailable(method, mppe) ? () => p.bothDead() : () => p.bothPassing();
            const ok = p.run(want, 600_000);
            const code = p.dead('a')?.failure.code ?? p.dead('b')?.failure.code;
            if (ok && (!expectUnavailable(method, mppe) || code === 'mppe-unavailable')) pair = p;
            else attempts.push(code ?? `stuck ${JSON.stringify(p.units.a.states)}`);
          }
          assert.ok(pair, `no successful attempt: ${attempts.join(', ')}`);
          if (expectUnavailable(method, mppe)) return;
          // Now the data: keep loss, duplication and reordering (corruption would corrupt data for real).
          const negotiationFaults = Object.values(pair.faults).reduce((n, inj) => n + faultCount(inj), 0);
          pair.faults.ab = new FaultInjector({ seed: base + 101, ...DATA_FAULTS });
          pair.faults.ba = new FaultInjector({ seed: base + 102, ...DATA_FAULTS });
          const sent = exchange(pair, 30, 1100);
          assertIntact(pair.delivered.b, sent.toB);
          assertIntact(pair.delivered.a, sent.toA);
          assert.ok(pair.delivered.b.length >= 15, `a→b delivered ${pair.delivered.b.length}/30`);
          assert.ok(pair.delivered.a.length >= 15, `b→a delivered ${pair.delivered.a.length}/30`);
          // With faults off, one more packet each way arrives intact.
          const dataFaults = faultCount(pair.faults.ab!) + faultCount(pair.faults.ba!);
          delete pair.faults.ab;
          delete pair.faults.ba;
          const before = pair.delivered.b.length;
          const last = ipv4Packet(1000, 4242);
          pair.units.a.sendPacket(last);
          pair.runFor(2000);
          // Stateful MPPE may need one flushed packet after a loss: allow a second one.
          if (pair.delivered.b.length === before) {
            pair.units.a.sendPacket(last);
            pair.runFor(2000);
          }
          assert.ok(
            bytesEqual(pair.delivered.b.at(-1)!.packet, last),
            'a packet sent through the link arrives intact',
          );
          assert.equal(pair.units.a.phase, 'Network');
          stats.push(
            `${method}/${mppe}/${mode}: ${attempts.length + 1} attempt(s) [${attempts.join(', ')}], ` +
              `${negotiationFaults} faults while negotiating, ${dataFaults} on data`,
          );
        });
      }
    }
  }
});

describe('unit: heavy loss, duplication and reordering never fail a negotiation', () => {
  // Without corruption nothing may go wrong: every attempt must come up (bugs found this way: a late
  // duplicate Configure-Request renegotiating CCP wiped the peer's side; see fsm.ts and ccp.ts).
  const HEAVY = { drop: 0.2, duplicate: 0.1, reorder: 0.2 };
  for (const method of METHODS) {
    for (const mppe of STRENGTHS) {
      for (const mode of MODES) {
        if (expectUnavailable(method, mppe)) continue;
        it(`${method}, MPPE ${mppe}, ${mode}: 5 seeds`, () => {
          const { client, server } = combo(method, mppe, mode);
          for (let seed = 1; seed <= 5; seed++) {
            const pair = new LinkPair(client, server, {
              faults: { ab: { seed: 7919 * seed, ...HEAVY }, ba: { seed: 7919 * seed + 1, ...HEAVY } },
            });
            pair.start();
            assert.ok(
              pair.run(() => pair.bothPassing(), 600_000),
              `seed ${seed}: ${pair.dead('a')?.failure.message ?? JSON.stringify(pair.units.a.states)}`,
            );
          }
        });
      }
    }
  }
});

/** Runs a pair until both are dead; returns the two failure codes. */
function deadCodes(client: PppUnitOptions, server: PppUnitOptions) {
  const pair = new LinkPair(client, server);
  pair.start();
  assert.ok(
    pair.run(() => pair.bothDead()),
    `both dead (a ${pair.units.a.phase}, b ${pair.units.b.phase})`,
  );
  // Hygiene (docs/style.md §5.7): a dead unit leaves no timer running.
  assert.deepEqual(pair.timersOf('a'), [], 'timers left on a');
  assert.deepEqual(pair.timersOf('b'), [], 'timers left on b');
  return { pair, a: pair.dead('a')!.failure, b: pair.dead('b')!.failure };
}

describe('unit: failures surface with a specific reason', () => {
  it('wrong password (MS-CHAP-v2): both sides say auth-failed, the client gets the server’s message', () => {
    const { a, b } = deadCodes({ ...CLIENT_BASE, password: 'wrong' }, SERVER_BASE);
    assert.equal(a.code, 'auth-failed');
    assert.equal(a.auth?.reason, 'wrong-password');
    assert.equal(a.auth?.role, 'peer');
    assert.equal(a.auth?.error, 691);
    assert.equal(a.auth?.message, 'Authentication failed', 'the authenticator’s M= text');
    // The server offered a retry (R=1); the client hung up instead: still an authentication failure.
    assert.equal(b.code, 'auth-failed');
    assert.match(b.peerMessage ?? '', /wrong-password/);
  });

  it('wrong password, authenticator without retries: it reports the typed reason itself', () => {
    const { b } = deadCodes({ ...CLIENT_BASE, password: 'wrong' }, { ...SERVER_BASE, authMaxRetries: 0 });
    assert.equal(b.code, 'auth-failed');
    assert.equal(b.auth?.reason, 'wrong-password');
    assert.equal(b.auth?.role, 'authenticator');
    assert.equal(b.auth?.peerName, 'alice');
  });

  it('wrong password (PAP)', () => {
    const { a, b } = deadCodes(
      { ...CLIENT_BASE, password: 'nope', refusePap: false, nomppe: true },
      { ...SERVER_BASE, requirePap: true, nomppe: true },
    );
    assert.equal(a.code, 'auth-failed');
    assert.equal(a.auth?.reason, 'wrong-password');
    assert.equal(b.code, 'auth-failed');
  });

  it('unknown user', () => {
    const { a, b } = deadCodes({ ...CLIENT_BASE, user: 'mallory' }, { ...SERVER_BASE, authMaxRetries: 0 });
    assert.equal(a.code, 'auth-failed');
    assert.equal(a.auth?.error, 691, 'the peer only learns E=691');
    assert.equal(b.code, 'auth-failed');
    assert.equal(b.auth?.reason, 'unknown-user');
  });

  it('auth method refused: the server demands PAP, the client refuses it (the default)', () => {
    const { a, b } = deadCodes(CLIENT_BASE, { ...SERVER_BASE, requirePap: true });
    assert.equal(b.code, 'auth-refused');
    assert.match(b.message, /peer refused to authenticate with PAP/);
    assert.equal(a.code, 'auth-refused');
    assert.match(a.message, /demanded PAP/);
  });

  it('auth method refused, without MPPE: the client learns it from the server’s Terminate-Request', () => {
    const { a, b } = deadCodes(
      { ...CLIENT_BASE, nomppe: true },
      { ...SERVER_BASE, requirePap: true, nomppe: true },
    );
    assert.equal(b.code, 'auth-refused');
    assert.equal(a.code, 'auth-refused');
    assert.match(a.message, /demanded PAP/);
  });

  it('auth method refused: the client has no password at all', () => {
    const { b } = deadCodes({ usePeerDns: true }, SERVER_BASE);
    assert.equal(b.code, 'auth-refused');
  });

  it('MPPE required but refused: the server does not do MPPE', () => {
    const { a, b } = deadCodes(CLIENT_BASE, { ...SERVER_BASE, nomppe: true });
    assert.equal(a.code, 'mppe-refused');
    assert.match(a.message, /MPPE required/);
    assert.equal(b.code, 'peer-terminated');
    assert.match(b.peerMessage ?? '', /MPPE required/);
  });

  it('MPPE required but refused: the client does not do MPPE', () => {
    const { a, b } = deadCodes({ ...CLIENT_BASE, nomppe: true }, SERVER_BASE);
    assert.equal(b.code, 'mppe-refused');
    assert.equal(a.code, 'peer-terminated');
  });

  it('MPPE required but refused: 128-bit only against 40-bit only', () => {
    const { a, b } = deadCodes(CLIENT_BASE, { ...SERVER_BASE, requireMppe40: true });
    const codes = new Set<PppFailureCode>([a.code, b.code]);
    assert.ok(codes.has('mppe-refused'), `${a.code}/${b.code}: ${a.message} / ${b.message}`);
  });

  it('peer silent: nobody answers our Configure-Requests (Max-Configure 10 × 3 s)', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    pair.connected = false;
    pair.start();
    assert.ok(pair.run(() => pair.units.a.phase === 'Dead'));
    assert.equal(pair.dead('a')?.failure.code, 'peer-silent');
    assert.equal(pair.now, 30_000);
  });

  it('a peer that Naks every LCP Configure-Request: a bounded number of requests, then the link ends saying why', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    pair.connected = false; // b stays silent; the test plays the Nak-ing peer
    pair.start();
    const requests = () =>
      pair.wireLog.filter((f) => f.from === 'a' && f.protocol === 0xc021 && f.payload[0] === 1);
    for (let i = 0; i < 1000 && pair.units.a.phase !== 'Dead'; i++) {
      const req = requests().at(-1)!;
      // Configure-Nak, same Identifier, MRU 1400 (a value the unit would accept).
      const nak = Uint8Array.from([3, req.payload[1]!, 0, 8, 1, 4, 0x05, 0x78]);
      pair.act('a', pair.units.a.receive({ protocol: 0xc021, payload: nak }));
    }
    assert.equal(pair.units.a.phase, 'Dead');
    assert.equal(
      requests().length,
      16,
      'Max-Failure (5) + Max-Configure (10) Naks answered, one request each',
    );
    assert.equal(pair.dead('a')?.failure.code, 'negotiation-failed');
    assert.match(pair.dead('a')!.failure.message, /LCP: configuration not converging/);
    assert.equal(pair.now, 0, 'no time-out was needed');
  });

  it('peer silent: LCP echo failures after the peer vanishes (lcp-echo-interval 5, lcp-echo-failure 3)', () => {
    const pair = new LinkPair({ ...CLIENT_BASE, lcpEchoInterval: 5, lcpEchoFailure: 3 }, SERVER_BASE);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    const t0 = pair.now;
    pair.connected = false;
    assert.ok(pair.run(() => pair.units.a.phase === 'Dead', t0 + 120_000));
    assert.equal(pair.dead('a')?.failure.code, 'peer-silent');
    assert.match(pair.dead('a')!.failure.message, /no response to 3 echo-requests/);
    // The first tick (5 s) still saw negotiation traffic (adaptive: no echo); echoes at 10, 15, 20 s; declared
    // dead at 25 s; then Max-Terminate Terminate-Requests, 2 × 3 s.
    assert.equal(pair.now - t0, 31_000);
  });

  it('adaptive echo: while traffic arrives, no Echo-Request is sent', () => {
    const pair = new LinkPair({ ...CLIENT_BASE, lcpEchoInterval: 1 }, SERVER_BASE);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    const echoes = () =>
      pair.wireLog.filter((f) => f.from === 'a' && f.protocol === 0xc021 && f.payload[0] === 9).length;
    const e0 = echoes();
    for (let i = 0; i < 10; i++) {
      pair.units.b.sendPacket(ipv4Packet(100, i));
      pair.runFor(500);
    }
    assert.equal(echoes(), e0, 'traffic from the peer kept the keep-alive quiet');
    pair.runFor(3000);
    assert.ok(echoes() > e0, 'idle: Echo-Requests again');
    assert.equal(pair.units.a.phase, 'Network', 'and the peer answers them');
  });

  it('loopback: a unit talking to itself notices its own Magic-Number', () => {
    const loop = new LinkPair(CLIENT_BASE, CLIENT_BASE, { reflect: true });
    loop.act('a', loop.units.a.start());
    assert.ok(loop.run(() => loop.units.a.phase === 'Dead'));
    assert.equal(loop.dead('a')?.failure.code, 'loopback');
  });

  it('close(): our reason reaches the peer', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    pair.act('a', pair.units.a.close('going home'));
    assert.ok(pair.run(() => pair.bothDead()));
    assert.deepEqual([...pair.timersOf('a'), ...pair.timersOf('b')], []);
    assert.deepEqual(pair.dead('a')?.failure, { code: 'closed', message: 'going home' });
    assert.equal(pair.dead('b')?.failure.code, 'peer-terminated');
    assert.equal(pair.dead('b')?.failure.peerMessage, 'going home');
  });

  it('lowerDown(): straight to Dead, timers stopped, data dropped', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    pair.act('a', pair.units.a.lowerDown());
    assert.equal(pair.units.a.phase, 'Dead');
    assert.equal(pair.dead('a')?.failure.code, 'lower-down');
    assert.deepEqual(pair.timersOf('a'), []);
    assert.equal(pair.units.a.npmode(0x21), 'DROP');
    assert.equal(pair.units.a.sendPacket(ipv4Packet(100, 1)), 'dropped');
  });
});

describe('unit: phases, demultiplexing and npmode', () => {
  it('IPCP arriving while CCP is still negotiating is answered; data waits for MPPE (accel-ppp bug)', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    // Hold every CCP frame from the client until the server's IPCP is Opened.
    pair.hold((f) => f.from === 'a' && f.protocol === 0x80fd);
    pair.start();
    assert.ok(pair.run(() => pair.units.b.states.ipcp === 'Opened'));
    assert.notEqual(pair.units.b.states.ccp, 'Opened');
    assert.equal(pair.units.b.npmode(0x21), 'QUEUE', 'MPPE required: IPv4 queued until CCP is up');
    assert.equal(pair.units.b.sendPacket(ipv4Packet(300, 7)), 'queued');
    pair.release();
    assert.ok(pair.run(() => pair.bothPassing()));
    pair.runFor(10);
    assert.equal(pair.delivered.a.length, 1, 'the queued packet went out once CCP was up');
    assert.ok(bytesEqual(pair.delivered.a[0]!.packet, ipv4Packet(300, 7)));
    assert.ok(
      pair.wireLog.every((f) => f.protocol !== 0x0021),
      'never in clear',
    );
  });

  it('the QUEUE is bounded: beyond queueLimit packets are dropped and counted', () => {
    const pair = new LinkPair({ ...CLIENT_BASE, queueLimit: 3 }, SERVER_BASE);
    const a = pair.units.a;
    assert.equal(a.npmode(0x21), 'QUEUE');
    const r = [1, 2, 3, 4, 5].map((i) => a.sendPacket(ipv4Packet(80, i)));
    assert.deepEqual(r, ['queued', 'queued', 'queued', 'dropped', 'dropped']);
    assert.equal(a.counters.txDropped, 2);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    pair.runFor(10);
    assert.equal(pair.delivered.b.length, 3, 'the three queued packets are flushed in order');
    pair.delivered.b.forEach((d, i) => {
      assert.ok(bytesEqual(d.packet, ipv4Packet(80, i + 1)));
    });
  });

  it('IPv6 is ERROR (not negotiated at all) unless enabled', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    assert.equal(pair.units.a.npmode(0x57), 'ERROR');
    assert.equal(pair.units.a.sendPacket(ipv6Packet(80, 1)), 'dropped');
    assert.equal(pair.units.a.counters.txErrors, 1);
  });

  it('IPv4 and IPv6 together; the peer terminating IPv6CP does not drop the link (RFC 1661 §3.7)', () => {
    const v6 = { ipv6: true };
    const pair = new LinkPair({ ...CLIENT_BASE, ...v6 }, { ...SERVER_BASE, ...v6 });
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing() && pair.units.a.npmode(0x57) === 'PASS'));
    const a = pair.units.a;
    assert.ok(a.ipv6cpNegotiated?.localLinkLocal.startsWith('fe80::'));
    assert.equal(a.ipv6cpNegotiated?.remoteLinkLocal, pair.units.b.ipv6cpNegotiated?.localLinkLocal);
    pair.units.a.sendPacket(ipv6Packet(120, 3));
    pair.runFor(10);
    assert.equal(pair.delivered.b.at(-1)?.protocol, 0x57);
    // The server closes IPv6CP administratively: Terminate-Request, the client acks and stops.
    pair.act('b', pair.units.b.closeNcp(0x8057, 'no more v6'));
    pair.runFor(10_000);
    assert.equal(a.states.ipv6cp, 'Stopped');
    assert.equal(pair.units.b.states.ipv6cp, 'Closed');
    assert.equal(a.phase, 'Network');
    assert.equal(a.states.lcp, 'Opened');
    assert.equal(a.npmode(0x57), 'DROP');
    assert.ok(pair.events.a.some((e) => e.kind === 'ncp-finished' && e.protocol === 0x8057));
    assert.ok(pair.events.a.some((e) => e.kind === 'ipv6cp-down'));
    assert.equal(a.sendPacket(ipv4Packet(90, 5)), 'sent', 'IPv4 still flows');
  });

  it('a peer without IPv6 Protocol-Rejects IPv6CP; IPv4 carries on', () => {
    const pair = new LinkPair({ ...CLIENT_BASE, ipv6: true }, SERVER_BASE);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    pair.runFor(1000);
    const rejects = pair.wireLog.filter((f) => f.from === 'b' && f.protocol === 0xc021 && f.payload[0] === 8);
    assert.ok(rejects.length >= 1);
    assert.equal(pair.units.b.counters.protocolRejects, rejects.length);
    assert.ok(pair.events.a.some((e) => e.kind === 'ncp-finished' && e.protocol === 0x8057));
    assert.equal(pair.units.a.phase, 'Network');
  });

  it('an unknown protocol in the Network phase draws a Protocol-Reject, truncated to the peer’s MRU', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    const n = pair.wireLog.length;
    pair.act('b', pair.units.b.receive({ protocol: 0x0231, payload: new Uint8Array(3000).fill(7) }));
    const sent = pair.wireLog.slice(n);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.protocol, 0xc021);
    const pkt = decodeCpPacket(sent[0]!.payload);
    assert.equal(pkt.code, 8);
    assert.equal((pkt.data[0]! << 8) | pkt.data[1]!, 0x0231);
    assert.equal(pkt.data.length + 4, 1500);
  });

  it('before the Network phase non-LCP frames are silently discarded (RFC 1661 §3.4, §3.5)', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    pair.act('b', pair.units.b.start());
    const n = pair.wireLog.length;
    pair.act('b', pair.units.b.receive({ protocol: 0x0231, payload: new Uint8Array(10) }));
    pair.act('b', pair.units.b.receive({ protocol: 0x8021, payload: cp(1, 1, '03 06 00 00 00 00') }));
    pair.act('b', pair.units.b.receive({ protocol: 0x0021, payload: ipv4Packet(40, 1) }));
    assert.equal(pair.wireLog.length, n, 'nothing sent back');
    assert.equal(pair.units.b.counters.rxDropped, 3);
  });

  it('plausible(): what an out-of-window GRE packet must carry to count towards a resynchronisation', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    assert.equal(pair.units.a.plausible(0x0021), false, 'nothing but LCP before the link is up');
    assert.equal(pair.units.a.plausible(0xc021), true);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    assert.equal(pair.units.b.plausible(0x00fd), true);
    assert.equal(pair.units.b.plausible(0x80fd), true);
    assert.equal(
      pair.units.b.plausible(0x0021),
      false,
      'clear IPv4 is never plausible once MPPE is required',
    );
    assert.equal(pair.units.b.plausible(0xc223), false, 'authentication is over');
    assert.equal(pair.units.b.plausible(0x1234), false);
    const clear = new LinkPair({ ...CLIENT_BASE, nomppe: true }, { ...SERVER_BASE, nomppe: true });
    clear.start();
    assert.ok(clear.run(() => clear.bothPassing()));
    assert.equal(clear.units.b.plausible(0x0021), true);
    assert.equal(clear.units.b.plausible(0x1234), false);
  });

  it('clear IPv4 is dropped once MPPE runs', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    pair.act('b', pair.units.b.receive({ protocol: 0x0021, payload: ipv4Packet(64, 9) }));
    assert.equal(pair.delivered.b.length, 0);
    assert.equal(pair.units.b.counters.rxDropped, 1);
  });

  it('stateful MPPE: a lost packet triggers a CCP Reset-Request; the sender resends its last packet flushed, which resyncs', () => {
    const pair = new LinkPair({ ...CLIENT_BASE, mppeStateful: true }, { ...SERVER_BASE, mppeStateful: true });
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    assert.deepEqual(pair.units.a.ccpNegotiated?.tx, { keyBits: 128, stateless: false });
    pair.units.a.sendPacket(ipv4Packet(100, 1));
    pair.runFor(10);
    // Lose the next data frame from a.
    let dropped = false;
    pair.hold((f) => {
      if (f.from === 'a' && f.protocol === 0x00fd && !dropped) {
        dropped = true;
        return true;
      }
      return false;
    });
    pair.units.a.sendPacket(ipv4Packet(100, 2)); // lost (held forever)
    pair.units.a.sendPacket(ipv4Packet(100, 3)); // gap: dropped, Reset-Request; a resends it flushed
    pair.runFor(10);
    assert.equal(pair.units.b.counters.resetRequestsSent, 1);
    assert.equal(pair.units.a.counters.resetRequestsReceived, 1);
    assert.equal(pair.units.a.counters.resetResends, 1);
    assert.equal(pair.units.b.mppe.decryptor?.awaitingFlush, false, 'resynced without new data from above');
    pair.units.a.sendPacket(ipv4Packet(100, 4)); // in sequence
    pair.runFor(10);
    assert.deepEqual(
      pair.delivered.b.map((d) => d.packet[20]),
      [1, 3, 4].map((i) => ipv4Packet(100, i)[20]),
    );
    assertIntact(
      pair.delivered.b,
      [1, 2, 3, 4].map((i) => ipv4Packet(100, i)),
    );
    // The Reset-Request concerned a→b only: a's transmitter flushed once, the b→a direction never resynced.
    assert.equal(pair.units.a.mppe.encryptor?.counters.resets, 1);
    assert.equal(pair.units.b.mppe.encryptor?.counters.resets, 0);
    pair.units.b.sendPacket(ipv4Packet(100, 5));
    pair.runFor(10);
    assert.ok(bytesEqual(pair.delivered.a.at(-1)!.packet, ipv4Packet(100, 5)));
    assert.equal(pair.units.a.mppe.decryptor?.counters.resyncs, 0);
  });

  it('stateful MPPE: a packet that decrypts to a protocol never negotiated draws a Reset-Request; the link recovers', () => {
    let corrupt = false;
    const pair = new LinkPair(
      { ...CLIENT_BASE, mppeStateful: true },
      { ...SERVER_BASE, mppeStateful: true },
      {
        tap: (f) => {
          if (corrupt && f.from === 'a' && f.protocol === 0x00fd) {
            f.payload[3]! ^= 0x02; // encrypted protocol 0x0021 now decrypts to 0x0023
            corrupt = false;
          }
          return true;
        },
      },
    );
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    pair.units.a.sendPacket(ipv4Packet(100, 1));
    pair.runFor(10);
    corrupt = true;
    pair.units.a.sendPacket(ipv4Packet(100, 2)); // garbage at b
    pair.runFor(10);
    assert.equal(pair.units.b.counters.resetRequestsSent, 1);
    assert.equal(pair.units.b.mppe.decryptor?.counters.garbage, 1);
    for (let i = 3; i <= 5; i++) pair.units.a.sendPacket(ipv4Packet(100, i));
    pair.runFor(10);
    // Packet 2 came again, flushed and intact, answering the Reset-Request.
    assert.deepEqual(
      pair.delivered.b.map((d) => d.packet[20]),
      [1, 2, 3, 4, 5].map((i) => ipv4Packet(100, i)[20]),
    );
  });

  it('stateful MPPE: a lost Reset-Request is repeated after 1 s', () => {
    const pair = new LinkPair({ ...CLIENT_BASE, mppeStateful: true }, { ...SERVER_BASE, mppeStateful: true });
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    pair.units.a.sendPacket(ipv4Packet(100, 1));
    pair.runFor(10);
    let dataDropped = false;
    let resetDropped = false;
    pair.hold((f) => {
      if (f.from === 'a' && f.protocol === 0x00fd && !dataDropped) {
        dataDropped = true;
        return true;
      }
      if (f.from === 'b' && f.protocol === 0x80fd && f.payload[0] === 14 && !resetDropped) {
        resetDropped = true;
        return true;
      }
      return false;
    });
    pair.units.a.sendPacket(ipv4Packet(100, 2));
    pair.units.a.sendPacket(ipv4Packet(100, 3));
    pair.runFor(900);
    assert.equal(pair.units.b.mppe.decryptor?.awaitingFlush, true, 'the first Reset-Request was lost');
    pair.runFor(600);
    assert.equal(pair.units.b.counters.resetRequestsSent, 2);
    // The repeat reached a, which resent packet 3 flushed.
    assert.equal(pair.units.b.mppe.decryptor?.awaitingFlush, false);
    pair.units.a.sendPacket(ipv4Packet(100, 4));
    pair.runFor(10);
    assert.deepEqual(
      pair.delivered.b.map((d) => d.packet[20]),
      [1, 3, 4].map((i) => ipv4Packet(100, i)[20]),
    );
  });

  it('stateful MPPE: Reset-Requests draw at most three resends per packet sent; stateless links never resend', () => {
    const pair = new LinkPair({ ...CLIENT_BASE, mppeStateful: true }, { ...SERVER_BASE, mppeStateful: true });
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    pair.units.a.sendPacket(ipv4Packet(100, 1));
    pair.runFor(10);
    const resetRequest = (id: number) => ({ protocol: 0x80fd, payload: new Uint8Array([14, id, 0, 4]) });
    for (let id = 1; id <= 10; id++) pair.act('a', pair.units.a.receive(resetRequest(id)));
    pair.runFor(10);
    assert.equal(pair.units.a.counters.resetResends, RESET_RESENDS_PER_PACKET);
    assert.equal(pair.delivered.b.length, 1 + RESET_RESENDS_PER_PACKET);
    pair.units.a.sendPacket(ipv4Packet(100, 2));
    pair.act('a', pair.units.a.receive(resetRequest(11)));
    pair.runFor(10);
    assert.equal(
      pair.units.a.counters.resetResends,
      RESET_RESENDS_PER_PACKET + 1,
      'a new packet renews the allowance',
    );
    assertIntact(pair.delivered.b, [ipv4Packet(100, 1), ipv4Packet(100, 2)]);

    const stateless = new LinkPair(CLIENT_BASE, SERVER_BASE);
    stateless.start();
    assert.ok(stateless.run(() => stateless.bothPassing()));
    stateless.units.a.sendPacket(ipv4Packet(100, 1));
    stateless.act('a', stateless.units.a.receive(resetRequest(1)));
    stateless.runFor(10);
    assert.equal(stateless.units.a.counters.resetResends, 0);
    assert.equal(stateless.delivered.b.length, 1);
  });

  it('counters: rx/tx packets and bytes count network-layer packets only', () => {
    const pair = new LinkPair(CLIENT_BASE, SERVER_BASE);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    exchange(pair, 3, 10);
    const a = pair.units.a.counters;
    const b = pair.units.b.counters;
    assert.equal(a.txPackets, 3);
    assert.equal(b.rxPackets, 3);
    assert.equal(a.txBytes, b.rxBytes);
    assert.equal(b.txBytes, a.rxBytes);
    assert.ok(a.txControl > 0 && a.rxControl > 0);
    assert.equal(a.rxErrors + a.txErrors + b.rxErrors + b.txErrors, 0);
  });

  it('the interface MTU leaves room for MPPE', () => {
    const pair = new LinkPair({ ...CLIENT_BASE, mtu: 1400 }, SERVER_BASE);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    assert.equal(pair.units.a.interfaceMtu, 1396);
    assert.equal(pair.units.a.sendPacket(ipv4Packet(1397, 1)), 'dropped');
    assert.equal(pair.units.a.sendPacket(ipv4Packet(1396, 1)), 'sent');
  });
});
